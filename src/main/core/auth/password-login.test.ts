// The pure parts of the password route's service; the portal round trips are in
// tests/integration/password-login.test.ts (real portal over TLS).
import { describe, expect, it } from 'vitest'
import { AppError } from '../../../shared/errors'
import { normaliseCode, otpChallenge } from './password-login'

const sent = { otpId: 'id', channel: 'sms' as const, destination: '+7 (9**) ***-**-67', expiresAt: '2025-06-01T10:05:00.000Z', codeLength: 6 }

describe('otpChallenge', () => {
  it('counts the validity on the portal clock (its Date header), not the local one', () => {
    // The workstation runs 10 minutes fast: by its own clock the code would look expired.
    const localNow = new Date('2025-06-01T10:10:00Z')
    // The header's whole second is taken at its middle and the result rounded down.
    expect(otpChallenge({ value: sent, serverTime: new Date('2025-06-01T10:00:00Z') }, localNow)).toEqual({ ...sent, validForSeconds: 299 })
  })

  it('falls back to the local clock without a Date header, and never goes below zero', () => {
    expect(otpChallenge({ value: sent, serverTime: null }, new Date('2025-06-01T10:04:00Z')).validForSeconds).toBe(60)
    expect(otpChallenge({ value: sent, serverTime: null }, new Date('2025-06-01T11:00:00Z')).validForSeconds).toBe(0)
    expect(otpChallenge({ value: { ...sent, expiresAt: 'soon' }, serverTime: null }, new Date()).validForSeconds).toBe(0)
  })
})

describe('normaliseCode', () => {
  it('accepts six digits as typed or pasted, refuses anything else', () => {
    expect(normaliseCode('042917')).toBe('042917')
    expect(normaliseCode('042 917')).toBe('042917')
    expect(normaliseCode('042-917')).toBe('042917')
    for (const bad of ['', '12345', '1234567', '12345a', '１２３４５６']) {
      expect(() => normaliseCode(bad), bad).toThrow(AppError)
    }
  })
})
