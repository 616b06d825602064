// Password + one-time-code login, password reset, the login history and the demo outbox
// (wire contract: src/shared/portal-api.ts). Every attempt is a login_attempts row; passwords and
// codes never reach it, the process log or an error body.
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { AppError } from '../../../src/shared/errors'
import {
  otpLoginRequestSchema,
  passwordLoginRequestSchema,
  passwordResetConfirmSchema,
  passwordResetRequestSchema,
  portalPaths,
  type DemoOutboxResponse,
  type LoginHistoryResponse,
  type OtpSentResponse,
} from '../../../src/shared/portal-api'
import { listLoginHistory, recordLoginAttempt, type LoginMethod } from '../audit'
import type { Queryable } from '../db'
import { formatDateTimeRu } from '../../../src/shared/format'
import { findWorker, type Worker } from '../register'
import { parseBody, rateLimited, sessionResponse, type AuthSettings } from '../auth/routes'
import { callerOf } from '../auth/guard'
import { createSession } from '../auth/sessions'
import { OutboxChannel, type OtpChannel, type OtpMedium } from './channels'
import { CODE_LENGTH, CODE_TTL_SECONDS, codeMatches, consumeCode, countWrongCode, dropCode, findCode, issueCode, type CodePurpose } from './codes'
import { maskEmail, maskPhone, parseLogin, type LoginKeys } from './login'
import { checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from './password'
import {
  clearFailures,
  findAccount,
  findAccountByLogin,
  lockedUntil,
  recordFailure,
  replacePassword,
  updatePasswordHash,
  type Account,
} from './store'

export interface AccountSettings extends AuthSettings {
  /** Where codes go. null: password login and reset are off (their routes do not exist). */
  otpChannel: OtpChannel | null
}

export const HISTORY_DEFAULT_LIMIT = 50
export const HISTORY_MAX_LIMIT = 200

const historyQuerySchema = z.object({ limit: z.string().regex(/^[1-9]\d{0,5}$/).optional() })
const outboxQuerySchema = z.object({ to: z.string().max(254).optional() })

interface Audit {
  snils: string | null
  detail: string | null
}

/** Runs one attempt and records it with its outcome, whatever happens. */
async function audited<T>(
  s: AccountSettings,
  request: FastifyRequest,
  method: LoginMethod,
  fn: (audit: Audit, now: Date) => Promise<T>,
): Promise<T> {
  const now = s.now()
  const audit: Audit = { snils: null, detail: null }
  let result = 'OK'
  try {
    return await fn(audit, now)
  } catch (e) {
    result = AppError.is(e) ? e.code : 'INTERNAL'
    throw e
  } finally {
    request.log.info({ result }, `${method} attempt`)
    await recordLoginAttempt(s.db, { at: now, address: request.ip, method, snils: audit.snils, certificateFingerprint: null, result, detail: audit.detail })
  }
}

const credentialsInvalid = (details: string) => new AppError('CREDENTIALS_INVALID', {}, details)
const otpExpired = (details: string) => new AppError('OTP_EXPIRED', {}, details)

/** unlockAt as people read it (portal time zone, like other date params); unlockAtIso for a countdown. */
function accountLocked(s: AccountSettings, until: Date): AppError {
  return new AppError(
    'ACCOUNT_LOCKED',
    { unlockAt: formatDateTimeRu(until, s.timeZone), unlockAtIso: until.toISOString() },
    `locked until ${until.toISOString()}`,
  )
}

async function activeWorker(db: Queryable, snils: string): Promise<Worker> {
  const worker = await findWorker(db, snils)
  if (!worker) throw new AppError('WORKER_NOT_REGISTERED', {}, 'account of a worker no longer in the register')
  if (worker.employment !== 'active') throw new AppError('WORKER_EMPLOYMENT_ENDED', {}, 'account of a worker whose employment ended')
  return worker
}

/** Where a code for this login goes: the medium the login names, else the phone, else the e-mail. */
function destinationOf(account: Account, matchedBy: keyof LoginKeys): { to: string; medium: OtpMedium } {
  if (matchedBy === 'email' && account.email) return { to: account.email, medium: 'email' }
  if (account.phone) return { to: account.phone, medium: 'sms' }
  return { to: account.email!, medium: 'email' }
}

const masked = (to: string, medium: OtpMedium) => (medium === 'sms' ? maskPhone(to) : maskEmail(to))

const MESSAGE_TEXT: Readonly<Record<CodePurpose, (code: string) => string>> = {
  login: (code) => `Код для входа в ЛКМР: ${code}. Действует 5 минут. Никому не сообщайте его.`,
  reset: (code) => `Код для восстановления пароля ЛКМР: ${code}. Действует 5 минут. Если вы его не запрашивали, никому его не сообщайте.`,
}

// Decoy answers for logins without an account use this key, so the same login always gets the
// same made-up destination (a different one per request would give the decoy away).
const DECOY_KEY = randomBytes(32)

function decoyOtpSent(channel: OtpChannel, keys: LoginKeys, login: string, now: Date): OtpSentResponse {
  let destination: string
  let medium: OtpMedium = 'sms'
  if (keys.email) {
    destination = maskEmail(keys.email)
    medium = 'email'
  } else if (keys.phone) {
    destination = maskPhone(keys.phone)
  } else {
    const digits = String(createHmac('sha256', DECOY_KEY).update(login.toLowerCase()).digest().readUInt16BE(0) % 100).padStart(2, '0')
    destination = maskPhone(`+79000000${digits}`)
  }
  return otpSentResponse(channel, { otpId: randomUUID(), expiresAt: new Date(now.getTime() + CODE_TTL_SECONDS * 1000) }, destination, medium)
}

function otpSentResponse(channel: OtpChannel, code: { otpId: string; expiresAt: Date }, destination: string, medium: OtpMedium): OtpSentResponse {
  return {
    otpId: code.otpId,
    // The demo outbox says so: the workstation can then offer to show it.
    channel: channel instanceof OutboxChannel ? 'outbox' : medium,
    destination,
    expiresAt: code.expiresAt.toISOString(),
    codeLength: CODE_LENGTH,
  }
}

/** Issues a code (replacing the account's earlier one of this purpose) and sends it. */
async function sendCode(
  s: AccountSettings,
  channel: OtpChannel,
  account: Account,
  matchedBy: keyof LoginKeys,
  purpose: CodePurpose,
  now: Date,
  audit: Audit,
): Promise<OtpSentResponse> {
  const { to, medium } = destinationOf(account, matchedBy)
  const issued = await issueCode(s.db, { snils: account.snils, purpose, now })
  try {
    await channel.send({ to, channel: medium, text: MESSAGE_TEXT[purpose](issued.code), sentAt: now })
  } catch (e) {
    await dropCode(s.db, issued.id, now)
    throw new AppError('INTERNAL', {}, `code channel failed: ${(e as Error).message}`, { cause: e })
  }
  audit.detail = `code sent by ${medium}`
  return otpSentResponse(channel, { otpId: issued.id, expiresAt: issued.expiresAt }, masked(to, medium), medium)
}

export function registerAccountRoutes(app: FastifyInstance, s: AccountSettings): void {
  app.get(portalPaths.loginHistory, { preHandler: s.guard.require('any') }, async (request): Promise<LoginHistoryResponse> => {
    const query = historyQuerySchema.safeParse(request.query ?? {})
    if (!query.success) throw new AppError('INVALID_INPUT', {}, `limit: a whole number 1…${HISTORY_MAX_LIMIT}`)
    const limit = Math.min(HISTORY_MAX_LIMIT, query.data.limit ? Number(query.data.limit) : HISTORY_DEFAULT_LIMIT)
    return { entries: await listLoginHistory(s.db, callerOf(request).snils, limit) }
  })

  const channel = s.otpChannel
  if (!channel) return

  if (channel instanceof OutboxChannel) {
    app.get(portalPaths.demoOutbox, async (request): Promise<DemoOutboxResponse> => {
      const query = outboxQuerySchema.safeParse(request.query ?? {})
      if (!query.success) throw new AppError('INVALID_INPUT', {}, 'to: a phone or an e-mail')
      const keys = query.data.to ? parseLogin(query.data.to) : null
      const to = query.data.to ? (keys?.email ?? keys?.phone ?? query.data.to) : null
      return {
        messages: channel.list({ to }).map((m) => ({ to: m.to, channel: m.channel, text: m.text, sentAt: m.sentAt.toISOString() })),
      }
    })
  }

  // Step 1: login and password → a code to the account's phone or e-mail.
  app.post(portalPaths.password, { onRequest: rateLimited(s, 'login', 'password') }, (request) =>
    audited(s, request, 'password', async (audit, now) => {
      const body = parseBody(passwordLoginRequestSchema, request.body)
      const found = await findAccountByLogin(s.db, parseLogin(body.login))
      if (!found) {
        // As slow as a real check: the answer must not tell which logins exist.
        await verifyPassword(null, body.password)
        audit.detail = 'unknown login'
        throw credentialsInvalid('unknown login')
      }
      const { account, matchedBy } = found
      audit.snils = account.snils
      // A locked account is not checked at all: guessing goes on hold with it.
      const locked = lockedUntil(account, now)
      if (locked) throw accountLocked(s, locked)
      if (!(await verifyPassword(account.passwordHash, body.password))) {
        const lockedNow = await recordFailure(s.db, account.snils, now)
        if (lockedNow) throw accountLocked(s, lockedNow)
        throw credentialsInvalid('wrong password')
      }
      await activeWorker(s.db, account.snils)
      if (needsRehash(account.passwordHash)) await updatePasswordHash(s.db, account.snils, await hashPassword(body.password), now)
      return sendCode(s, channel, account, matchedBy, 'login', now, audit)
    }),
  )

  // Step 2: the code → a session.
  app.post(portalPaths.passwordOtp, { onRequest: rateLimited(s, 'login', 'otp') }, (request) =>
    audited(s, request, 'otp', async (audit, now) => {
      const body = parseBody(otpLoginRequestSchema, request.body)
      const stored = await findCode(s.db, body.otpId, 'login', now)
      if (!stored) throw otpExpired('unknown code id')
      audit.snils = stored.snils
      if (!stored.live) throw otpExpired('code used, replaced, expired or out of attempts')
      const account = await findAccount(s.db, stored.snils)
      if (!account) throw otpExpired('account removed')
      const locked = lockedUntil(account, now)
      if (locked) throw accountLocked(s, locked)
      if (!codeMatches(stored, body.code)) {
        const attemptsLeft = await countWrongCode(s.db, stored.id)
        const lockedNow = await recordFailure(s.db, account.snils, now)
        if (lockedNow) throw accountLocked(s, lockedNow)
        if (attemptsLeft === 0) throw otpExpired('wrong code, the last attempt: the code is dead')
        throw new AppError('OTP_INVALID', { attemptsLeft }, 'wrong code')
      }
      const worker = await activeWorker(s.db, account.snils)
      const tokens = await s.db.transaction(async (tx) => {
        if (!(await consumeCode(tx, stored.id, now))) throw otpExpired('code used by a concurrent request')
        await clearFailures(tx, account.snils, now)
        return createSession(tx, {
          snils: worker.snils,
          roles: worker.roles,
          method: 'password',
          certificateFingerprint: null,
          now,
          accessTtlSeconds: s.accessTtlSeconds,
          refreshTtlSeconds: s.refreshTtlSeconds,
        })
      })
      return sessionResponse(tokens, worker)
    }),
  )

  // Reset, step 1: always the same 202 answer, so it cannot be used to find out which logins exist.
  app.post(portalPaths.passwordReset, { onRequest: rateLimited(s, 'login', 'reset') }, async (request, reply) => {
    const answer = await audited(s, request, 'reset', async (audit, now) => {
      const body = parseBody(passwordResetRequestSchema, request.body)
      const keys = parseLogin(body.login)
      const found = await findAccountByLogin(s.db, keys)
      const worker = found ? await findWorker(s.db, found.account.snils) : null
      if (!found || worker?.employment !== 'active') {
        audit.snils = found?.account.snils ?? null
        audit.detail = found ? 'worker not active: nothing sent' : 'unknown login: nothing sent'
        return decoyOtpSent(channel, keys, body.login, now)
      }
      audit.snils = found.account.snils
      // Allowed while the account is locked: the reset is the way out of a lock.
      return sendCode(s, channel, found.account, found.matchedBy, 'reset', now, audit)
    })
    return reply.code(202).send(answer)
  })

  // Reset, step 2: the code and the new password.
  app.post(portalPaths.passwordResetConfirm, { onRequest: rateLimited(s, 'login', 'reset') }, async (request, reply) => {
    await audited(s, request, 'reset', async (audit, now) => {
      const body = parseBody(passwordResetConfirmSchema, request.body)
      const stored = await findCode(s.db, body.otpId, 'reset', now)
      if (!stored) throw otpExpired('unknown code id')
      audit.snils = stored.snils
      if (!stored.live) throw otpExpired('code used, replaced, expired or out of attempts')
      // Before the code is looked at: a weak password does not cost an attempt.
      checkPasswordPolicy(body.newPassword)
      if (!codeMatches(stored, body.code)) {
        const attemptsLeft = await countWrongCode(s.db, stored.id)
        // Counts toward the login lock, which does not stop the reset itself.
        await recordFailure(s.db, stored.snils, now)
        if (attemptsLeft === 0) throw otpExpired('wrong code, the last attempt: the code is dead')
        throw new AppError('OTP_INVALID', { attemptsLeft }, 'wrong code')
      }
      const passwordHash = await hashPassword(body.newPassword)
      await s.db.transaction(async (tx) => {
        if (!(await consumeCode(tx, stored.id, now))) throw otpExpired('code used by a concurrent request')
        const revoked = await replacePassword(tx, stored.snils, passwordHash, now)
        audit.detail = `password replaced; password sessions ended: ${revoked}`
      })
    })
    return reply.code(204).send()
  })
}
