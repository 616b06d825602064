// СНИЛС: 11 digits, `XXX-XXX-XXX YY`, the last two a checksum of the first nine.
import { digitsOnly, requireDigits, toDigits } from './digits'

/** Numbers up to this one were issued before checksums existed and are not checked. */
const UNCHECKED_UP_TO = 1001998

/** The two check digits for the first nine digits of a СНИЛС. */
export function snilsChecksum(first9: string): string {
  requireDigits(first9, 9, 'СНИЛС')
  const sum = toDigits(first9).reduce((acc, d, i) => acc + d * (9 - i), 0)
  let check: number
  if (sum < 100) check = sum
  else if (sum === 100 || sum === 101) check = 0
  else check = sum % 101 === 100 ? 0 : sum % 101
  return String(check).padStart(2, '0')
}

/** A full valid 11-digit СНИЛС from its first nine digits. */
export function snilsWithChecksum(first9: string): string {
  return first9 + snilsChecksum(first9)
}

/** 11 digits without separators, or null when the value is not shaped like a СНИЛС. */
export function normalizeSnils(value: string): string | null {
  return digitsOnly(value, 11)
}

export function isValidSnils(value: string): boolean {
  const s = normalizeSnils(value)
  if (s === null) return false
  if (Number(s.slice(0, 9)) <= UNCHECKED_UP_TO) return true
  return snilsChecksum(s.slice(0, 9)) === s.slice(9)
}

/** `XXX-XXX-XXX YY`; a value that is not 11 digits is returned as given. */
export function formatSnils(value: string): string {
  const s = normalizeSnils(value)
  if (s === null) return value
  return `${s.slice(0, 3)}-${s.slice(3, 6)}-${s.slice(6, 9)} ${s.slice(9)}`
}
