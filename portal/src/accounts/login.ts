// Logins as people type them — a phone (+7…, 8…), an e-mail or a СНИЛС — normalised to what the
// accounts table stores, and destinations masked for answers.
import { isValidSnils, normalizeSnils } from '../../../src/shared/validators/snils'

/** +7XXXXXXXXXX, or null when the text is not a Russian phone number. */
export function normalizePhone(text: string): string | null {
  const compact = text.trim().replace(/[\s\u00a0\-().]/g, '')
  // Ten digits after +7, 8 or 7 (or alone); Russian numbers start with 3–9 there.
  const m = /^(?:\+7|8|7)?([3-9]\d{9})$/.exec(compact)
  return m ? `+7${m[1]}` : null
}

/** Lowercased, or null when it is not shaped like an address. */
export function normalizeEmail(text: string): string | null {
  const e = text.trim().toLowerCase()
  return /^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$/.test(e) && e.length <= 254 ? e : null
}

/**
 * What a login may mean. Eleven digits can be both a СНИЛС and a phone written with 8/7: both are
 * looked up, and a СНИЛС match wins (a phone number rarely carries a valid СНИЛС checksum).
 */
export interface LoginKeys {
  snils: string | null
  phone: string | null
  email: string | null
}

export function parseLogin(text: string): LoginKeys {
  if (text.includes('@')) return { snils: null, phone: null, email: normalizeEmail(text) }
  const snils = normalizeSnils(text)
  return {
    snils: snils !== null && isValidSnils(snils) ? snils : null,
    phone: normalizePhone(text),
    email: null,
  }
}

/** «+7 (9**) ***-**-67»: the first digit of the code and the last two, as Госуслуги shows it. */
export function maskPhone(phone: string): string {
  return `+7 (${phone.charAt(2)}**) ***-**-${phone.slice(-2)}`
}

/** «i***@mail.ru». */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@')
  return `${email.charAt(0)}***${email.slice(at)}`
}
