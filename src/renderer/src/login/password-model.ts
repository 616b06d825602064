// Pure decisions of the password + one-time code route (no React, no DOM), unit-tested in
// password-model.test.ts: what a login looks like, the code and its countdown, where an error
// leads, how the login history and the demo outbox read.
import { ERRORS, type AppErrorData, type ErrorCode } from '../../../shared/errors'
import { passwordProblems, PASSWORD_MIN_LENGTH, type PasswordProblem } from '../../../shared/password-policy'
import { isValidSnils, normalizeSnils } from '../../../shared/validators/snils'

// --- the login: a phone, an e-mail or a СНИЛС (the portal's rules, portal/src/accounts/login.ts) ---

export type LoginKind = 'phone' | 'email' | 'snils'

function isPhone(text: string): boolean {
  const compact = text.trim().replace(/[\s\u00a0\-().]/g, '')
  if (!/^(?:\+7|8|7)?(9\d{9}|[3-8]\d{9})$/.test(compact)) return false
  return compact.startsWith('+') || compact.length !== 11 || /^[78]/.test(compact)
}

function isEmail(text: string): boolean {
  const e = text.trim()
  return e.length <= 254 && /^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$/.test(e)
}

/** What the typed login is, or null when it is none of the three. */
export function loginKind(text: string): LoginKind | null {
  if (text.includes('@')) return isEmail(text) ? 'email' : null
  const snils = normalizeSnils(text)
  if (snils !== null && isValidSnils(snils)) return 'snils'
  return isPhone(text) ? 'phone' : null
}

export type LoginProblem = 'empty' | 'format' | 'snilsChecksum'

/**
 * Why a login cannot be sent, or null. A login that cannot match any account is refused here:
 * like a doomed PIN, it must not spend one of the account's tries.
 */
export function loginProblem(text: string): LoginProblem | null {
  if (text.trim() === '') return 'empty'
  if (loginKind(text) !== null) return null
  const snils = normalizeSnils(text)
  return snils !== null ? 'snilsChecksum' : 'format'
}

// --- the one-time code ---

/** Digits only: typed or pasted («123 456», «Код: 123456») codes become the bare digits. */
export function codeDigits(text: string): string {
  return text.replace(/\D/g, '')
}

export function codeComplete(code: string, length: number): boolean {
  return code.length === length && /^\d+$/.test(code)
}

/** When the code stops working, on the local clock: the portal's seconds from the moment it answered. */
export function codeDeadline(validForSeconds: number, receivedAtMs: number): number {
  return receivedAtMs + validForSeconds * 1000
}

export function secondsLeft(deadlineMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000))
}

/** «4:59», «0:07». */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** A new code may be asked for this long after the last one (sooner once it has expired or died). */
export const RESEND_AFTER_SECONDS = 30

/** Seconds until «Отправить код ещё раз» is offered; 0: now. */
export function resendWait(sentAtMs: number, nowMs: number, codeUsable: boolean): number {
  if (!codeUsable) return 0
  return Math.max(0, Math.ceil((sentAtMs + RESEND_AFTER_SECONDS * 1000 - nowMs) / 1000))
}

/** Tries left reported with OTP_INVALID, or null. */
export function attemptsLeft(error: AppErrorData | null): number | null {
  if (error?.code !== 'OTP_INVALID') return null
  const v = error.params.attemptsLeft
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null
}

// --- the steps and where an error leads ---

export type PasswordStep = 'credentials' | 'code' | 'locked' | 'resetLogin' | 'resetCode' | 'resetDone'

export interface ErrorOutcome {
  /** The step to show the error on. */
  step: PasswordStep
  /** The code can no longer succeed (expired, used up): only a new code helps. */
  codeDead: boolean
}

/**
 * Where the route goes after a failure on `step`. Whatever the user typed stays, except the code
 * field (cleared by the caller on every failure of a code step).
 */
export function afterError(step: PasswordStep, error: AppErrorData): ErrorOutcome {
  if (error.code === 'ACCOUNT_LOCKED') return { step: 'locked', codeDead: true }
  if (step === 'code' || step === 'resetCode') {
    if (error.code === 'OTP_EXPIRED') return { step, codeDead: true }
    if (error.code === 'OTP_INVALID') return { step, codeDead: attemptsLeft(error) === 0 }
    // A new code was asked for («Отправить код ещё раз») but the password no longer works.
    if (error.code === 'CREDENTIALS_INVALID' && step === 'code') return { step: 'credentials', codeDead: true }
  }
  return { step, codeDead: false }
}

/** Minutes until a locked account opens again (rounded up), from the portal's unlockAtIso; null without it. */
export function lockMinutesLeft(error: AppErrorData, nowMs: number): number | null {
  const iso = error.params.unlockAtIso
  if (typeof iso !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(iso)) return null
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return null
  return Math.max(0, Math.ceil((at - nowMs) / 60_000))
}

// --- the new password (reset) ---

export type NewPasswordProblem = PasswordProblem | 'mismatch'

/** What is wrong with the new password and its repetition; minLength from PASSWORD_WEAK when the portal said so. */
export function newPasswordProblems(password: string, repeat: string, minLength: number = PASSWORD_MIN_LENGTH): NewPasswordProblem[] {
  const problems: NewPasswordProblem[] = passwordProblems(password, minLength)
  if (repeat !== password) problems.push('mismatch')
  return problems
}

/** The policy's minimum length: the portal's, once it has told one with PASSWORD_WEAK. */
export function policyMinLength(error: AppErrorData | null): number {
  const v = error?.code === 'PASSWORD_WEAK' ? error.params.minLength : undefined
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : PASSWORD_MIN_LENGTH
}

// --- login history ---

export const HISTORY_METHODS = ['eds', 'password', 'otp', 'refresh', 'reset'] as const

/** 'OK' → success; an error code → its catalogue title; anything else → a plain refusal. */
export function historyResult(result: string): { ok: true } | { ok: false; code: ErrorCode | null } {
  if (result === 'OK') return { ok: true }
  return { ok: false, code: Object.hasOwn(ERRORS, result) ? (result as ErrorCode) : null }
}

// --- demo outbox ---

export interface OutboxMessage {
  to: string
  channel: 'sms' | 'email' | 'outbox'
  text: string
  sentAt: string
}

/** The newest message (by sentAt; the portal's order otherwise). */
export function latestMessage(messages: readonly OutboxMessage[]): OutboxMessage | null {
  let latest: OutboxMessage | null = null
  for (const m of messages) if (!latest || m.sentAt > latest.sentAt) latest = m
  return latest
}

/** The six-digit code in a message's text, or null. */
export function codeInText(text: string): string | null {
  return /(?<!\d)\d{6}(?!\d)/.exec(text)?.[0] ?? null
}
