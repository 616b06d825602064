// The patient search's query parsing and its one-typo matching, without a database.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseSearchQuery, typoCandidates, withinOneEdit } from './search-query'

/**
 * Reference: the restricted Damerau–Levenshtein (optimal string alignment) distance, by the
 * textbook dynamic programme. For the question "at most one edit" it agrees with the unrestricted
 * distance: both count one adjacent swap as one edit and differ only from distance 2 up.
 */
function damerauLevenshtein(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number): number => d[i]![j]!
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      d[i]![j] = best
    }
  }
  return at(a.length, b.length)
}

type Edit = { kind: 'substitute' | 'insert' | 'delete' | 'swap'; pos: number; ch: string }

function applyEdit(s: string, e: Edit): string {
  const p = s.length === 0 ? 0 : e.pos % (e.kind === 'insert' ? s.length + 1 : s.length)
  switch (e.kind) {
    case 'substitute':
      return s.length === 0 ? e.ch : s.slice(0, p) + e.ch + s.slice(p + 1)
    case 'insert':
      return s.slice(0, p) + e.ch + s.slice(p)
    case 'delete':
      return s.slice(0, p) + s.slice(p + 1)
    case 'swap':
      return p + 1 < s.length ? s.slice(0, p) + s[p + 1] + s[p] + s.slice(p + 2) : s
  }
}

/** A list of indexed words as patient_vocab would give them: sorted, in [lo, hi). */
function vocabulary(words: string[]) {
  const sorted = [...words].sort()
  const calls: Array<[string, string]> = []
  const terms = (lo: string, hi: string) => {
    calls.push([lo, hi])
    return sorted.filter((t) => t >= lo && t < hi)
  }
  return { terms, calls }
}

describe('parseSearchQuery', () => {
  it('takes nothing typed, spaces or bare separators as an empty query', () => {
    expect(parseSearchQuery('')).toEqual({ kind: 'empty' })
    expect(parseSearchQuery('   \t ')).toEqual({ kind: 'empty' })
    expect(parseSearchQuery(' - - ')).toEqual({ kind: 'empty' })
    expect(parseSearchQuery('!?,.')).toEqual({ kind: 'empty' })
  })

  it('reads ДД.ММ.ГГГГ as a birth date in ISO form, only when the date exists', () => {
    expect(parseSearchQuery('25.11.1980')).toEqual({ kind: 'birthDate', value: '1980-11-25' })
    expect(parseSearchQuery('  01.01.2000 ')).toEqual({ kind: 'birthDate', value: '2000-01-01' })
    expect(parseSearchQuery('29.02.2024')).toEqual({ kind: 'birthDate', value: '2024-02-29' })
    // Not calendar dates: no birth-date search (the digits are then taken as words of a name).
    expect(parseSearchQuery('29.02.2023')).toEqual({ kind: 'name', words: ['29', '02', '2023'] })
    expect(parseSearchQuery('31.04.1990')).toEqual({ kind: 'name', words: ['31', '04', '1990'] })
    expect(parseSearchQuery('1.1.1990')).toEqual({ kind: 'name', words: ['1', '1', '1990'] })
  })

  it('reads up to 11 digits as a СНИЛС prefix, separators or not', () => {
    expect(parseSearchQuery('112-233-445 95')).toEqual({ kind: 'snils', value: '11223344595' })
    expect(parseSearchQuery('11223344595')).toEqual({ kind: 'snils', value: '11223344595' })
    expect(parseSearchQuery('112')).toEqual({ kind: 'snils', value: '112' })
    expect(parseSearchQuery(' 112-23 ')).toEqual({ kind: 'snils', value: '11223' })
  })

  it('reads 12 to 16 digits as a полис ОМС, more digits cut to 16', () => {
    expect(parseSearchQuery('770000000000')).toEqual({ kind: 'oms', value: '770000000000' })
    expect(parseSearchQuery('7700 0000 0000 0017')).toEqual({ kind: 'oms', value: '7700000000000017' })
    expect(parseSearchQuery('77000000000000179999')).toEqual({ kind: 'oms', value: '7700000000000017' })
  })

  it('folds name words (case, ё, accents, punctuation) and keeps at most five', () => {
    expect(parseSearchQuery('Иванов  ПЁТР')).toEqual({ kind: 'name', words: ['иванов', 'петр'] })
    // й loses its breve like any accent (NFKD), in the index and the query alike.
    expect(parseSearchQuery('Римский-Корсаков')).toEqual({ kind: 'name', words: ['римскии', 'корсаков'] })
    expect(parseSearchQuery('«Семён», Артёмович!')).toEqual({ kind: 'name', words: ['семен', 'артемович'] })
    expect(parseSearchQuery('а б в г д е ж')).toEqual({ kind: 'name', words: ['а', 'б', 'в', 'г', 'д'] })
    expect(parseSearchQuery('иванов 1980')).toEqual({ kind: 'name', words: ['иванов', '1980'] })
  })
})

describe('withinOneEdit', () => {
  it('allows one substitution, insertion, deletion or adjacent swap', () => {
    expect(withinOneEdit('иванов', 'иванов')).toBe(true)
    expect(withinOneEdit('иванов', 'ивонов')).toBe(true)
    expect(withinOneEdit('иванов', 'иавнов')).toBe(true)
    expect(withinOneEdit('иванов', 'ивнов')).toBe(true)
    expect(withinOneEdit('ивнов', 'иванов')).toBe(true)
    expect(withinOneEdit('иванов', 'иванова')).toBe(true)
    expect(withinOneEdit('иванов', 'иваново')).toBe(true)
    expect(withinOneEdit('иванов', 'виванов')).toBe(true)
    expect(withinOneEdit('', 'и')).toBe(true)
    expect(withinOneEdit('', '')).toBe(true)
  })

  it('refuses two edits', () => {
    expect(withinOneEdit('иванов', 'ивнво')).toBe(false)
    expect(withinOneEdit('иванов', 'ивановна')).toBe(false)
    expect(withinOneEdit('иванов', 'ыванав')).toBe(false)
    expect(withinOneEdit('иванов', 'иваовн')).toBe(false)
    expect(withinOneEdit('abc', 'cab')).toBe(false)
    expect(withinOneEdit('ab', 'ba')).toBe(true)
    expect(withinOneEdit('abcd', 'badc')).toBe(false)
    expect(withinOneEdit('', 'ab')).toBe(false)
  })

  it('agrees with the Damerau–Levenshtein distance ≤ 1 on near and random pairs', () => {
    const letter = fc.constantFrom('а', 'б', 'в', 'е', 'ё')
    const word = fc.string({ unit: letter, maxLength: 7 })
    const edit = fc.record({ kind: fc.constantFrom<Edit['kind']>('substitute', 'insert', 'delete', 'swap'), pos: fc.nat(20), ch: letter })
    const pair = fc.oneof(
      fc.tuple(word, word),
      fc.tuple(word, fc.array(edit, { minLength: 1, maxLength: 2 })).map(([a, edits]) => [a, edits.reduce(applyEdit, a)] as [string, string]),
    )
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(withinOneEdit(a, b)).toBe(damerauLevenshtein(a, b) <= 1)
        expect(withinOneEdit(b, a)).toBe(withinOneEdit(a, b))
      }),
      { numRuns: 3000 },
    )
    fc.assert(fc.property(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), (a, b) => withinOneEdit(a, b) === damerauLevenshtein(a, b) <= 1), { numRuns: 2000 })
  })

  it('has a reference that is itself right on known distances', () => {
    expect(damerauLevenshtein('иванов', 'иванов')).toBe(0)
    expect(damerauLevenshtein('иванов', 'иавнов')).toBe(1)
    expect(damerauLevenshtein('иванов', 'ивнво')).toBe(2)
    expect(damerauLevenshtein('kitten', 'sitting')).toBe(3)
    expect(damerauLevenshtein('', 'abc')).toBe(3)
  })
})

describe('typoCandidates', () => {
  const words = ['иванов', 'иванова', 'ивановна', 'игорь', 'илья', 'петров', 'шереметьева']

  it('scans only the words with the same first letter', () => {
    const v = vocabulary(words)
    typoCandidates('ивонов', v.terms)
    expect(v.calls).toEqual([['и', 'й']])
  })

  it('offers the indexed prefix for a substitution, a swap, a missing or an extra letter', () => {
    expect(typoCandidates('ивонов', vocabulary(words).terms)).toEqual(['иванов'])
    expect(typoCandidates('иавнов', vocabulary(words).terms)).toEqual(['иванов'])
    // A missing letter: the prefix of the typed length, which the word then extends.
    expect(typoCandidates('ивнов', vocabulary(words).terms)).toEqual(['ивано'])
    expect(typoCandidates('иваннов', vocabulary(['иванов', 'игорь']).terms)).toEqual(['иванов'])
    // A prefix typed with a typo in it.
    expect(typoCandidates('шерм', vocabulary(words).terms)).toEqual(['шере'])
  })

  it('offers nothing for words typed right (they match as prefixes), two typos or another first letter', () => {
    expect(typoCandidates('иван', vocabulary(words).terms)).toEqual([])
    expect(typoCandidates('иванов', vocabulary(words).terms)).toEqual([])
    expect(typoCandidates('ивнво', vocabulary(words).terms)).toEqual([])
    expect(typoCandidates('ыванов', vocabulary(words).terms)).toEqual([])
  })

  it('lists each prefix once and stops at max', () => {
    const many = ['иванов', 'иванова', 'ивашов', 'ивакин', 'иваник', 'ивлева']
    expect(typoCandidates('иваров', vocabulary(many).terms)).toEqual(['иванов', 'ивашов'])
    const a = typoCandidates('кот', vocabulary(['кат', 'кит', 'кол', 'ком', 'кон', 'кор']).terms)
    expect(a).toEqual(['кат', 'кит', 'кол', 'ком', 'кон', 'кор'])
    expect(typoCandidates('кот', vocabulary(['кат', 'кит', 'кол', 'ком', 'кон', 'кор']).terms, 2)).toEqual(['кат', 'кит'])
  })
})
