// ИНН: 10 digits (organisation) or 12 (person), with weighted mod-11 check digits.
import { digitsOnly, requireDigits, toDigits } from './digits'

const W10 = [2, 4, 10, 3, 5, 9, 4, 6, 8]
const W11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
const W12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]

function checkDigit(digits: number[], weights: number[]): number {
  return (weights.reduce((acc, w, i) => acc + w * (digits[i] ?? 0), 0) % 11) % 10
}

/** 10 or 12 digits without separators, or null. */
export function normalizeInn(value: string): string | null {
  return digitsOnly(value, 10, 12)
}

/** ИНН of an organisation (10 digits). */
export function isValidInnLe(value: string): boolean {
  const s = digitsOnly(value, 10)
  if (s === null) return false
  const d = toDigits(s)
  return checkDigit(d, W10) === d[9]
}

/** ИНН of a person or sole trader (12 digits). */
export function isValidInnPerson(value: string): boolean {
  const s = digitsOnly(value, 12)
  if (s === null) return false
  const d = toDigits(s)
  return checkDigit(d, W11) === d[10] && checkDigit(d, W12) === d[11]
}

/** Either kind of ИНН. */
export function isValidInn(value: string): boolean {
  return isValidInnLe(value) || isValidInnPerson(value)
}

/** A valid ИНН from its leading digits: 9 digits → 10-digit ИНН ЮЛ, 10 digits → 12-digit ИНН ФЛ. */
export function innWithChecksum(prefix: string): string {
  if (prefix.length === 9) {
    requireDigits(prefix, 9, 'ИНН')
    return prefix + checkDigit(toDigits(prefix), W10)
  }
  requireDigits(prefix, 10, 'ИНН')
  const d11 = checkDigit(toDigits(prefix), W11)
  const with11 = prefix + d11
  return with11 + checkDigit(toDigits(with11), W12)
}
