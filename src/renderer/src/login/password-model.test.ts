import { describe, expect, it } from 'vitest'
import type { AppErrorData } from '../../../shared/errors'
import { passwordProblems, PASSWORD_MIN_LENGTH } from '../../../shared/password-policy'
import {
  afterError,
  attemptsLeft,
  codeComplete,
  codeDeadline,
  codeDigits,
  codeInText,
  formatCountdown,
  historyResult,
  latestMessage,
  lockMinutesLeft,
  loginKind,
  loginProblem,
  newPasswordProblems,
  policyMinLength,
  resendWait,
  RESEND_AFTER_SECONDS,
  secondsLeft,
} from './password-model'

const err = (code: AppErrorData['code'], params: AppErrorData['params'] = {}): AppErrorData => ({ code, params })

describe('loginKind and loginProblem', () => {
  it('recognises phones the way people type them', () => {
    for (const phone of ['+7 916 123-45-67', '8 (916) 123-45-67', '79161234567', '9161234567', '+7 (495) 123-45-67']) {
      expect(loginKind(phone), phone).toBe('phone')
      expect(loginProblem(phone), phone).toBeNull()
    }
  })

  it('recognises e-mail addresses and СНИЛС (checksum included)', () => {
    expect(loginKind('Ivanova@Clinic.ru')).toBe('email')
    expect(loginKind(' ivanova@clinic.ru ')).toBe('email')
    expect(loginKind('112-233-445 95')).toBe('snils')
    expect(loginKind('11223344595')).toBe('snils')
  })

  it('refuses what can match no account, saying why', () => {
    expect(loginProblem('')).toBe('empty')
    expect(loginProblem('   ')).toBe('empty')
    expect(loginProblem('ivanova')).toBe('format')
    expect(loginProblem('ivanova@clinic')).toBe('format')
    expect(loginProblem('a@b@c.ru')).toBe('format')
    expect(loginProblem('12345')).toBe('format')
    // A СНИЛС with a wrong check number (and not a phone either).
    expect(loginProblem('112-233-445 96')).toBe('snilsChecksum')
    // Eleven digits starting with 8 are a phone even when the СНИЛС checksum is off.
    expect(loginProblem('89161234567')).toBeNull()
  })
})

describe('the one-time code', () => {
  it('keeps the digits of what was typed or pasted', () => {
    expect(codeDigits('123 456')).toBe('123456')
    expect(codeDigits('Код: 123-456.')).toBe('123456')
    expect(codeComplete('123456', 6)).toBe(true)
    expect(codeComplete('12345', 6)).toBe(false)
    expect(codeComplete('12345a', 6)).toBe(false)
  })

  it('counts down from the seconds the portal gave, on the local clock', () => {
    const deadline = codeDeadline(300, 1_000_000)
    expect(deadline).toBe(1_300_000)
    expect(secondsLeft(deadline, 1_000_000)).toBe(300)
    expect(secondsLeft(deadline, 1_000_001)).toBe(300)
    expect(secondsLeft(deadline, 1_299_001)).toBe(1)
    expect(secondsLeft(deadline, 1_300_000)).toBe(0)
    expect(secondsLeft(deadline, 2_000_000)).toBe(0)
    expect(formatCountdown(300)).toBe('5:00')
    expect(formatCountdown(299)).toBe('4:59')
    expect(formatCountdown(7)).toBe('0:07')
    expect(formatCountdown(-3)).toBe('0:00')
  })

  it('offers a new code after a pause, or at once when the code no longer works', () => {
    expect(resendWait(0, 0, true)).toBe(RESEND_AFTER_SECONDS)
    expect(resendWait(0, 10_500, true)).toBe(RESEND_AFTER_SECONDS - 10)
    expect(resendWait(0, RESEND_AFTER_SECONDS * 1000, true)).toBe(0)
    expect(resendWait(0, 0, false)).toBe(0)
  })

  it('reads tries left from OTP_INVALID only', () => {
    expect(attemptsLeft(err('OTP_INVALID', { attemptsLeft: 2 }))).toBe(2)
    expect(attemptsLeft(err('OTP_INVALID', { attemptsLeft: 'x' }))).toBeNull()
    expect(attemptsLeft(err('PIN_INCORRECT', { attemptsLeft: 2 }))).toBeNull()
    expect(attemptsLeft(null)).toBeNull()
  })
})

describe('afterError', () => {
  it('leads a lock to the lock screen from any step', () => {
    for (const step of ['credentials', 'code', 'resetCode'] as const) {
      expect(afterError(step, err('ACCOUNT_LOCKED', { unlockAt: '01.06.2025 14:35' }))).toEqual({ step: 'locked', codeDead: true })
    }
  })

  it('keeps a wrong code on the code step, and marks a used-up or expired code dead', () => {
    expect(afterError('code', err('OTP_INVALID', { attemptsLeft: 2 }))).toEqual({ step: 'code', codeDead: false })
    expect(afterError('code', err('OTP_INVALID', { attemptsLeft: 0 }))).toEqual({ step: 'code', codeDead: true })
    expect(afterError('code', err('OTP_EXPIRED'))).toEqual({ step: 'code', codeDead: true })
    expect(afterError('resetCode', err('OTP_EXPIRED'))).toEqual({ step: 'resetCode', codeDead: true })
  })

  it('sends a resend refused for the password back to the password form', () => {
    expect(afterError('code', err('CREDENTIALS_INVALID'))).toEqual({ step: 'credentials', codeDead: true })
  })

  it('keeps the step for everything else (wrong password, network, weak password)', () => {
    expect(afterError('credentials', err('CREDENTIALS_INVALID'))).toEqual({ step: 'credentials', codeDead: false })
    expect(afterError('credentials', err('PORTAL_UNREACHABLE', { url: 'https://x' }))).toEqual({ step: 'credentials', codeDead: false })
    expect(afterError('code', err('RATE_LIMITED'))).toEqual({ step: 'code', codeDead: false })
    expect(afterError('resetCode', err('PASSWORD_WEAK', { minLength: 10 }))).toEqual({ step: 'resetCode', codeDead: false })
  })
})

describe('lockMinutesLeft', () => {
  it('counts from the ISO time the portal sends beside the readable one', () => {
    const now = Date.parse('2025-06-01T11:00:00Z')
    expect(lockMinutesLeft(err('ACCOUNT_LOCKED', { unlockAt: '01.06.2025 14:30', unlockAtIso: '2025-06-01T11:30:00.000Z' }), now)).toBe(30)
    expect(lockMinutesLeft(err('ACCOUNT_LOCKED', { unlockAtIso: '2025-06-01T11:00:20.000Z' }), now)).toBe(1)
    expect(lockMinutesLeft(err('ACCOUNT_LOCKED', { unlockAtIso: '2025-06-01T10:00:00.000Z' }), now)).toBe(0)
    expect(lockMinutesLeft(err('ACCOUNT_LOCKED', { unlockAt: '01.06.2025 14:30' }), now)).toBeNull()
  })
})

describe('new password', () => {
  it('follows the portal policy: length, letters and digits, typed twice alike', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(10)
    expect(newPasswordProblems('Пароль2025весна', 'Пароль2025весна')).toEqual([])
    expect(newPasswordProblems('short1', 'short1')).toEqual(['tooShort'])
    expect(newPasswordProblems('onlyletterslong', 'onlyletterslong')).toEqual(['noDigit'])
    expect(newPasswordProblems('1234567890', '1234567890')).toEqual(['noLetter'])
    expect(newPasswordProblems('goodpass123', 'goodpass124')).toEqual(['mismatch'])
    expect(newPasswordProblems('', '')).toEqual(['tooShort', 'noLetter', 'noDigit'])
    // Length in characters, not UTF-16 units.
    expect(passwordProblems('😀😀😀😀😀a1234')).toEqual([])
    expect(passwordProblems('😀😀a12345')).toEqual(['tooShort'])
  })

  it('takes the minimum length from the portal once it has said it', () => {
    expect(policyMinLength(null)).toBe(PASSWORD_MIN_LENGTH)
    expect(policyMinLength(err('PASSWORD_WEAK', { minLength: 12 }))).toBe(12)
    expect(newPasswordProblems('abcdefgh1234', 'abcdefgh1234', 14)).toEqual(['tooShort'])
    expect(policyMinLength(err('OTP_INVALID', { minLength: 12 }))).toBe(PASSWORD_MIN_LENGTH)
  })
})

describe('historyResult', () => {
  it('reads OK as success and a code as its catalogue entry', () => {
    expect(historyResult('OK')).toEqual({ ok: true })
    expect(historyResult('CREDENTIALS_INVALID')).toEqual({ ok: false, code: 'CREDENTIALS_INVALID' })
    expect(historyResult('SOMETHING_NEW')).toEqual({ ok: false, code: null })
    expect(historyResult('toString')).toEqual({ ok: false, code: null })
  })
})

describe('demo outbox', () => {
  const m = (sentAt: string, text: string) => ({ to: '+79001234567', channel: 'sms' as const, text, sentAt })
  it('shows the newest message and finds its code', () => {
    const latest = latestMessage([m('2025-06-01T10:00:01Z', 'old 111111'), m('2025-06-01T10:00:03Z', 'Код для входа в ЛКМР: 042917. Действует 5 минут.'), m('2025-06-01T10:00:02Z', 'x')])
    expect(latest?.sentAt).toBe('2025-06-01T10:00:03Z')
    expect(codeInText(latest?.text ?? '')).toBe('042917')
    expect(latestMessage([])).toBeNull()
    expect(codeInText('Код 1234567 не код')).toBeNull()
  })
})
