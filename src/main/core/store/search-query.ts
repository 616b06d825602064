// What a registrar typed into the patient search: a birth date (ДД.ММ.ГГГГ), digits of a СНИЛС
// (up to 11) or a полис ОМС (12 to 16), or words of a name in any order. And the one-typo
// alternatives of a name word, taken from the words actually indexed.
import { parseRuDate } from '../../../shared/patient-form'
import { normalizeSearchText } from '../../../shared/text'

export type SearchQuery =
  | { kind: 'empty' }
  | { kind: 'birthDate'; value: string }
  | { kind: 'snils' | 'oms'; value: string }
  | { kind: 'name'; words: string[] }

export function parseSearchQuery(text: string): SearchQuery {
  const t = text.trim()
  if (t === '') return { kind: 'empty' }
  const birthDate = parseRuDate(t)
  if (birthDate) return { kind: 'birthDate', value: birthDate }
  if (/^[\d\s-]+$/.test(t)) {
    const digits = t.replace(/\D/g, '')
    if (digits.length === 0) return { kind: 'empty' }
    return digits.length <= 11 ? { kind: 'snils', value: digits } : { kind: 'oms', value: digits.slice(0, 16) }
  }
  const words = normalizeSearchText(t)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0)
    .slice(0, 5)
  return words.length === 0 ? { kind: 'empty' } : { kind: 'name', words }
}

/**
 * Indexed words that the typed word could be a prefix of with one letter wrong, missing, extra or
 * two letters swapped. `terms(lo, hi)` lists indexed words in [lo, hi); candidates share the first
 * letter (people rarely miss the first one), so the scan is small.
 */
export function typoCandidates(word: string, terms: (lo: string, hi: string) => string[], max = 20): string[] {
  const first = word[0]!
  const lo = first
  const hi = String.fromCharCode(first.charCodeAt(0) + 1)
  const out: string[] = []
  for (const term of terms(lo, hi)) {
    if (term === word || term.startsWith(word)) continue
    // Compare with the term's prefixes of the typed length ±1 (the word is a prefix as typed).
    const near = [word.length - 1, word.length, word.length + 1].some((n) => n > 0 && n <= term.length && withinOneEdit(word, term.slice(0, n)))
    if (near) {
      const prefix = term.slice(0, Math.min(term.length, word.length))
      if (!out.includes(prefix)) out.push(prefix)
      if (out.length >= max) break
    }
  }
  return out
}

/** Damerau–Levenshtein distance ≤ 1 (one substitution, insertion, deletion or adjacent swap). */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true
  const la = a.length
  const lb = b.length
  if (Math.abs(la - lb) > 1) return false
  let i = 0
  while (i < la && i < lb && a[i] === b[i]) i++
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true
    return i + 1 < la && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2)
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1)
}
