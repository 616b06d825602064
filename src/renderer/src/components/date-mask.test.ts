import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatRuDate } from '../../../shared/patient-form'
import { maskRuDate } from './date-mask'

/** What the box shows after typing `text` one character at a time. */
const typed = (text: string): string => Array.from(text).reduce((shown, ch) => maskRuDate(shown + ch), '')

const isoDay = fc
  .date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2100, 11, 31)), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10))

describe('maskRuDate', () => {
  it('puts the dots in while digits are typed', () => {
    expect(typed('2')).toBe('2')
    expect(typed('25')).toBe('25')
    expect(typed('251')).toBe('25.1')
    expect(typed('25112026')).toBe('25.11.2026')
    expect(typed('251120269')).toBe('25.11.2026')
  })

  it('takes the dots typed by hand, pads a one-digit day or month, and lets a trailing dot be erased', () => {
    expect(typed('25.11.2026')).toBe('25.11.2026')
    expect(typed('5.3.2026')).toBe('05.03.2026')
    expect(maskRuDate('25.')).toBe('25.')
    expect(maskRuDate('25')).toBe('25')
    expect(maskRuDate('25.11.')).toBe('25.11.')
    expect(maskRuDate('25.11.2026.')).toBe('25.11.2026')
  })

  it('rewrites pasted dates', () => {
    expect(maskRuDate('2026-11-25')).toBe('25.11.2026')
    expect(maskRuDate(' 25 11 2026 ')).toBe('25.11.2026')
    expect(maskRuDate('25/11/2026')).toBe('25.11.2026')
    expect(maskRuDate('дата: 25112026')).toBe('25.11.2026')
    expect(maskRuDate('')).toBe('')
  })

  it('gives ДД.ММ.ГГГГ for every date typed as digits, typed with dots, or pasted as ISO', () => {
    fc.assert(
      fc.property(isoDay, (iso) => {
        const text = formatRuDate(iso)
        expect(typed(text.replace(/\./g, ''))).toBe(text)
        expect(typed(text)).toBe(text)
        expect(maskRuDate(iso)).toBe(text)
      }),
    )
  })

  it('is idempotent on whatever it shows', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.-/ x'.split('')), maxLength: 14 }), (text) => {
        const once = maskRuDate(text)
        expect(maskRuDate(once)).toBe(once)
        expect(once).toMatch(/^[\d.]*$/)
      }),
    )
  })
})
