import { describe, expect, it } from 'vitest'
import {
  formatSnils, innWithChecksum, isValidInn, isValidInnLe, isValidInnPerson, isValidOgrn, isValidOgrnip, isValidOms,
  isValidSnils, normalizeInn, normalizeSnils, ogrnWithChecksum, ogrnipWithChecksum, omsCheckDigit, omsWithChecksum,
  snilsChecksum, snilsWithChecksum,
} from './index'

describe('СНИЛС', () => {
  it('accepts the example from the domain notes in any spelling', () => {
    expect(isValidSnils('112-233-445 95')).toBe(true)
    expect(isValidSnils('11223344595')).toBe(true)
    expect(isValidSnils('112 233 445 95')).toBe(true)
  })

  it('rejects a wrong checksum, wrong length and letters', () => {
    expect(isValidSnils('112-233-445 96')).toBe(false)
    expect(isValidSnils('1122334459')).toBe(false)
    expect(isValidSnils('112233445950')).toBe(false)
    expect(isValidSnils('112-233-44a 95')).toBe(false)
    expect(isValidSnils('')).toBe(false)
  })

  it('follows every branch of the checksum rule', () => {
    expect(snilsChecksum('112233445')).toBe('95') // S = 95 < 100
    expect(snilsChecksum('920000003')).toBe('00') // S = 100
    expect(snilsChecksum('920000004')).toBe('00') // S = 101
    expect(snilsChecksum('920000005')).toBe('01') // S = 102 → 102 mod 101
    expect(snilsChecksum('996000006')).toBe('00') // S = 201 → 100 → 00
    expect(snilsChecksum('000000001')).toBe('01') // single digit padded
  })

  it('does not check numbers up to 001-001-998', () => {
    expect(isValidSnils('001-001-998 00')).toBe(true)
    expect(isValidSnils('001-001-998 77')).toBe(true)
    expect(isValidSnils('001-001-999 65')).toBe(true)
    expect(isValidSnils('001-001-999 00')).toBe(false)
  })

  it('generates valid numbers and formats them', () => {
    for (const first9 of ['123456789', '987654321', '555555555', '100200300']) {
      const s = snilsWithChecksum(first9)
      expect(s).toHaveLength(11)
      expect(isValidSnils(s)).toBe(true)
    }
    expect(() => snilsWithChecksum('12345678')).toThrow(RangeError)
    expect(formatSnils('11223344595')).toBe('112-233-445 95')
    expect(formatSnils('  112-233-445 95 ')).toBe('112-233-445 95')
    expect(formatSnils('не СНИЛС')).toBe('не СНИЛС')
    expect(normalizeSnils('112-233-445 95')).toBe('11223344595')
    expect(normalizeSnils('112-233-445')).toBeNull()
  })
})

describe('ИНН', () => {
  it('accepts published valid numbers of both kinds', () => {
    expect(isValidInnLe('7707083893')).toBe(true)
    expect(isValidInnPerson('500100732259')).toBe(true)
    expect(isValidInn('7707083893')).toBe(true)
    expect(isValidInn('500100732259')).toBe(true)
  })

  it('rejects a changed digit, the wrong kind and the wrong length', () => {
    expect(isValidInn('7707083894')).toBe(false)
    expect(isValidInn('500100732250')).toBe(false) // 12th digit
    expect(isValidInn('500100732209')).toBe(false) // 11th digit
    expect(isValidInnPerson('7707083893')).toBe(false)
    expect(isValidInnLe('500100732259')).toBe(false)
    expect(isValidInn('77070838931')).toBe(false)
    expect(normalizeInn('7707 083 893')).toBe('7707083893')
  })

  it('generates valid 10- and 12-digit numbers', () => {
    expect(innWithChecksum('770708389')).toBe('7707083893')
    expect(innWithChecksum('5001007322')).toBe('500100732259')
    for (const p of ['123456789', '000000001', '999999999']) expect(isValidInnLe(innWithChecksum(p))).toBe(true)
    for (const p of ['1234567890', '7701234567', '0000000001']) expect(isValidInnPerson(innWithChecksum(p))).toBe(true)
    expect(() => innWithChecksum('12345')).toThrow(RangeError)
  })
})

describe('ОГРН / ОГРНИП', () => {
  it('accepts the examples from the domain notes', () => {
    expect(isValidOgrn('1027700132195')).toBe(true)
    expect(isValidOgrnip('304500116000157')).toBe(true)
  })

  it('rejects changed digits and swapped kinds', () => {
    expect(isValidOgrn('1027700132196')).toBe(false)
    expect(isValidOgrn('1027700132185')).toBe(false)
    expect(isValidOgrnip('304500116000158')).toBe(false)
    expect(isValidOgrn('304500116000157')).toBe(false)
    expect(isValidOgrnip('1027700132195')).toBe(false)
  })

  it('generates valid numbers, including remainders of 10 (check digit 0)', () => {
    expect(ogrnWithChecksum('102770013219')).toBe('1027700132195')
    expect(ogrnipWithChecksum('30450011600015')).toBe('304500116000157')
    // 10 mod 11 = 10 → check digit 0; 10 mod 13 = 10 → 0; 12 mod 13 = 12 → 2
    expect(ogrnWithChecksum('000000000010')).toBe('0000000000100')
    expect(ogrnipWithChecksum('00000000000010')).toBe('000000000000100')
    expect(ogrnipWithChecksum('00000000000012')).toBe('000000000000122')
  })
})

/** The classic Luhn check, written independently, as an oracle for the ОМС rule. */
function luhnValid(s: string): boolean {
  let sum = 0
  for (let i = 0; i < s.length; i++) {
    let d = Number(s[s.length - 1 - i])
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

describe('полис ОМС', () => {
  it('computes the check digit as the rule describes, step by step', () => {
    // 15 digits 123456789012345: odd positions from the right (15,13,…,1) = 1,3,5,7,9,1,3,5 → 13579135 × 2 = 27158270;
    // even positions (14,…,2) = 2,4,6,8,0,2,4 → "2468024" + "27158270"; digit sum = 26 + 32 = 58 → (10 − 8) mod 10 = 2
    expect(omsCheckDigit('123456789012345')).toBe(2)
    expect(isValidOms('1234567890123452')).toBe(true)
    expect(isValidOms('1234567890123453')).toBe(false)
  })

  it('agrees with the Luhn check on many numbers', () => {
    let seed = 42
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
    for (let n = 0; n < 500; n++) {
      const first15 = Array.from({ length: 15 }, () => String(next() % 10)).join('')
      const full = omsWithChecksum(first15)
      expect(luhnValid(full)).toBe(true)
      const broken = full.slice(0, 15) + String((Number(full[15]) + 1 + (next() % 9)) % 10)
      expect(isValidOms(broken)).toBe(luhnValid(broken))
      expect(isValidOms(broken)).toBe(false)
    }
    expect(isValidOms('4111111111111111')).toBe(true)
  })

  it('rejects wrong lengths and letters', () => {
    expect(isValidOms('123456789012345')).toBe(false)
    expect(isValidOms('12345678901234522')).toBe(false)
    expect(isValidOms('12345678901234a2')).toBe(false)
    expect(isValidOms('1234 5678 9012 3452')).toBe(true)
  })
})
