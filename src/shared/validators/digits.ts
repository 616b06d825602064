// Helpers shared by the identifier validators: plain string work, no Node APIs.

/** Removes the separators people type or print (spaces, hyphens, dots, NBSP). */
export function stripSeparators(value: string): string {
  return value.replace(/[\s\u00a0\-.]/g, '')
}

/** The digits of `value` once separators are removed, or null when anything else is left. */
export function digitsOnly(value: string, ...lengths: number[]): string | null {
  const s = stripSeparators(value)
  if (!/^\d+$/.test(s)) return null
  return lengths.length === 0 || lengths.includes(s.length) ? s : null
}

export function toDigits(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0) - 48)
}

export function requireDigits(value: string, length: number, what: string): string {
  if (!new RegExp(`^\\d{${length}}$`).test(value)) {
    throw new RangeError(`${what}: expected exactly ${length} digits`)
  }
  return value
}
