// ОГРН (13 digits, organisations) and ОГРНИП (15 digits, sole traders).
import { digitsOnly, requireDigits } from './digits'

function checkDigit(body: string, modulus: bigint): string {
  return String((BigInt(body) % modulus) % 10n)
}

export function normalizeOgrn(value: string): string | null {
  return digitsOnly(value, 13)
}

export function normalizeOgrnip(value: string): string | null {
  return digitsOnly(value, 15)
}

export function isValidOgrn(value: string): boolean {
  const s = normalizeOgrn(value)
  return s !== null && checkDigit(s.slice(0, 12), 11n) === s[12]
}

export function isValidOgrnip(value: string): boolean {
  const s = normalizeOgrnip(value)
  return s !== null && checkDigit(s.slice(0, 14), 13n) === s[14]
}

/** A valid ОГРН from its first 12 digits. */
export function ogrnWithChecksum(first12: string): string {
  return requireDigits(first12, 12, 'ОГРН') + checkDigit(first12, 11n)
}

/** A valid ОГРНИП from its first 14 digits. */
export function ogrnipWithChecksum(first14: string): string {
  return requireDigits(first14, 14, 'ОГРНИП') + checkDigit(first14, 13n)
}
