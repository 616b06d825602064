// Полис ОМС единого образца: 16 digits, the last a check digit over the first 15.
import { digitsOnly, requireDigits, toDigits } from './digits'

/**
 * The check digit as the rules describe it: digits at odd positions from the right (15, 13, …, 1)
 * joined and doubled, digits at even positions (14, …, 2) written to the left, all digits summed.
 */
export function omsCheckDigit(first15: string): number {
  const d = toDigits(requireDigits(first15, 15, 'Полис ОМС'))
  // Position p counted from the right among 15 digits sits at index 15 - p.
  const odd = d.filter((_, i) => (15 - i) % 2 === 1).join('')
  const even = d.filter((_, i) => (15 - i) % 2 === 0).join('')
  const joined = even + String(BigInt(odd) * 2n)
  const sum = toDigits(joined).reduce((a, b) => a + b, 0)
  return (10 - (sum % 10)) % 10
}

export function normalizeOms(value: string): string | null {
  return digitsOnly(value, 16)
}

export function isValidOms(value: string): boolean {
  const s = normalizeOms(value)
  return s !== null && omsCheckDigit(s.slice(0, 15)) === Number(s[15])
}

/** A valid 16-digit полис ОМС from its first 15 digits. */
export function omsWithChecksum(first15: string): string {
  return first15 + omsCheckDigit(first15)
}
