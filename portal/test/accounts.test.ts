// Password + one-time-code accounts over HTTPS: login in two steps, the lock after repeated
// failures, code expiry and single use, password reset, the login history, the demo outbox and
// the file channel, rate limits, the demo account and the admin commands. Time moves on the
// portal's test clock only.
import 'reflect-metadata'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  demoOutboxResponseSchema,
  loginHistoryResponseSchema,
  meResponseSchema,
  otpSentResponseSchema,
  portalErrorBodySchema,
  portalPaths,
  sessionResponseSchema,
  type OtpSentResponse,
  type SessionResponse,
} from '../../src/shared/portal-api'
import { formatSnils } from '../../src/shared/validators/snils'
import { REGISTRAR } from '../../scripts/demo/people'
import { loginHistoryCommand, otpChannelFromSpec } from '../src/accounts/cli'
import { FileChannel, OutboxChannel } from '../src/accounts/channels'
import { maskEmail, maskPhone, normalizePhone, parseLogin } from '../src/accounts/login'
import { hashPassword } from '../src/accounts/password'
import { setAccount } from '../src/accounts/store'
import { DEMO_PASSWORD_ACCOUNT, seedFromDemo } from '../src/demo-seed'
import { formatDateTimeRu } from '../../src/shared/format'
import { openPglite } from '../src/db'
import { endEmployment } from '../src/register'
import { migrate } from '../src/migrate'
import { runPortalCli, type ApiResponse } from './support'
import {
  addWorker,
  createTestPki,
  getChallenge,
  issueUser,
  login,
  nextSnils,
  startTestPortal,
  worker,
  writeSyntheticDemo,
  type TestPki,
  type TestPortal,
} from './support'

const MIN = 60_000

let pki: TestPki
let portal: TestPortal
let tmp: string

beforeAll(async () => {
  pki = await createTestPki()
  // Many attempts from one address: the limits have their own portal below.
  portal = await startTestPortal(pki, { rateLimit: false, otpChannel: new OutboxChannel() })
  tmp = mkdtempSync(join(tmpdir(), 'portal-accounts-'))
})
afterAll(async () => {
  await portal?.close()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})
beforeEach(() => {
  portal.clock.set(new Date())
})

interface Account {
  snils: string
  phone: string
  email: string
  password: string
}

let seq = 0
async function newAccount(p: TestPortal = portal): Promise<Account> {
  seq += 1
  const snils = nextSnils()
  await addWorker(p.db, worker(snils, { roles: ['registrar'], position: 'Медицинский регистратор' }))
  const account = { snils, phone: `+7901${String(seq).padStart(7, '0')}`, email: `staff${seq}@clinic.example`, password: `Parol-${seq}-abcdef` }
  await setAccount(p.db, { snils, phone: account.phone, email: account.email, passwordHash: await hashPassword(account.password), now: p.clock.now() })
  return account
}

const post = <T = unknown>(path: string, json: unknown, p: TestPortal = portal) => p.api<T>('POST', path, { json })
const passwordStep = (loginText: string, password: string, p: TestPortal = portal) =>
  post<OtpSentResponse>(portalPaths.password, { login: loginText, password }, p)
const otpStep = (otpId: string, code: string) => post<SessionResponse>(portalPaths.passwordOtp, { otpId, code })
const me = (token: string) => portal.api('GET', portalPaths.me, { token })

async function outbox(to?: string) {
  const r = await portal.api('GET', `${portalPaths.demoOutbox}${to ? `?to=${encodeURIComponent(to)}` : ''}`)
  expect(r.status).toBe(200)
  return demoOutboxResponseSchema.parse(r.body).messages
}

/** The code of the newest message to `to`. */
async function codeFor(to: string): Promise<string> {
  const text = (await outbox(to))[0]?.text ?? ''
  const code = /(?<!\d)(\d{6})(?!\d)/.exec(text)?.[1]
  if (!code) throw new Error(`no code in the outbox for ${to}: «${text}»`)
  return code
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')

function expectError(r: ApiResponse, status: number, code: string, params?: Record<string, unknown>): void {
  expect(r.status, r.text).toBe(status)
  const body = portalErrorBodySchema.parse(r.body)
  expect(body.error.code).toBe(code)
  if (params) expect(body.error.params).toEqual(params)
}

function expectLocked(r: ApiResponse, until: Date): void {
  expectError(r, 423, 'ACCOUNT_LOCKED', { unlockAt: formatDateTimeRu(until, 'Europe/Moscow'), unlockAtIso: until.toISOString() })
}

/** Both steps; the session. */
async function passwordLogin(a: Account, loginText = a.phone, password = a.password): Promise<SessionResponse> {
  const sent = await passwordStep(loginText, password)
  expect(sent.status, sent.text).toBe(200)
  const r = await otpStep(otpSentResponseSchema.parse(sent.body).otpId, await codeFor(a.phone))
  expect(r.status, r.text).toBe(200)
  return sessionResponseSchema.parse(r.body)
}

describe('logins and destinations', () => {
  it('normalises phones, e-mails and СНИЛС, and masks destinations', () => {
    for (const p of ['+7 (900) 123-45-67', '89001234567', '79001234567', '9001234567', '8 900 123 45 67']) expect(normalizePhone(p)).toBe('+79001234567')
    for (const p of ['+8 900 123-45-67', '12345', '+7900123456', '0001234567']) expect(normalizePhone(p)).toBeNull()
    expect(parseLogin(' Ivan.Petrov@Clinic.RU ')).toEqual({ snils: null, phone: null, email: 'ivan.petrov@clinic.ru' })
    expect(parseLogin('112-233-445 95')).toEqual({ snils: '11223344595', phone: null, email: null })
    // Eleven digits starting with 8: a phone, and a СНИЛС only if the checksum says so.
    expect(parseLogin('89001234567')).toEqual({ snils: null, phone: '+79001234567', email: null })
    expect(maskPhone('+79161234567')).toBe('+7 (9**) ***-**-67')
    expect(maskEmail('ivan@mail.ru')).toBe('i***@mail.ru')
  })
})

describe('password + code login', () => {
  it('sends a code for the right password and turns it into a session that works on /auth/me', async () => {
    const a = await newAccount()
    const t0 = portal.clock.now()
    const sent = await passwordStep('8 (901) ' + a.phone.slice(5, 8) + '-' + a.phone.slice(8), a.password)
    expect(sent.status, sent.text).toBe(200)
    const otp = otpSentResponseSchema.parse(sent.body)
    expect(otp).toMatchObject({ channel: 'outbox', destination: maskPhone(a.phone), codeLength: 6 })
    expect(otp.expiresAt).toBe(new Date(t0.getTime() + 5 * MIN).toISOString())
    const [message] = await outbox(a.phone)
    expect(message).toMatchObject({ to: a.phone, channel: 'sms', sentAt: t0.toISOString() })
    expect(message!.text).toMatch(/^Код для входа в ЛКМР: \d{6}\. Действует 5 минут\./)

    const r = await otpStep(otp.otpId, await codeFor(a.phone))
    expect(r.status, r.text).toBe(200)
    const session = sessionResponseSchema.parse(r.body)
    expect(session.user).toMatchObject({ snils: a.snils, roles: ['registrar'] })
    const mine = await me(session.accessToken)
    expect(mine.status).toBe(200)
    expect(meResponseSchema.parse(mine.body).user.snils).toBe(a.snils)
    const rows = await portal.db.query<{ method: string }>('SELECT method FROM sessions WHERE snils = $1', [a.snils])
    expect(rows).toEqual([{ method: 'password' }])
  })

  it('takes the e-mail or the СНИЛС as the login, and sends the code by e-mail for an e-mail login', async () => {
    const a = await newAccount()
    const byEmail = await passwordStep(a.email.toUpperCase(), a.password)
    expect(otpSentResponseSchema.parse(byEmail.body)).toMatchObject({ destination: maskEmail(a.email) })
    expect((await outbox(a.email))[0]).toMatchObject({ to: a.email, channel: 'email' })
    const bySnils = await passwordStep(formatSnils(a.snils), a.password)
    expect(otpSentResponseSchema.parse(bySnils.body)).toMatchObject({ destination: maskPhone(a.phone) })
    // The newer code replaces the e-mailed one.
    expectError(await otpStep(otpSentResponseSchema.parse(byEmail.body).otpId, await codeFor(a.email)), 401, 'OTP_EXPIRED')
    expect((await otpStep(otpSentResponseSchema.parse(bySnils.body).otpId, await codeFor(a.phone))).status).toBe(200)
  })

  it('answers a wrong password and an unknown login alike, and sends nothing', async () => {
    const a = await newAccount()
    const before = (await outbox()).length
    const wrongPassword = await passwordStep(a.phone, `${a.password}x`)
    expectError(wrongPassword, 401, 'CREDENTIALS_INVALID', {})
    expect(wrongPassword.headers['www-authenticate']).toMatch(/^Bearer/)
    for (const unknown of ['+7 999 000-00-00', 'nobody@clinic.example', formatSnils(nextSnils()), 'not a login']) {
      const r = await passwordStep(unknown, a.password)
      expect(r.status).toBe(wrongPassword.status)
      expect(r.body).toEqual(wrongPassword.body)
      expect(r.headers['www-authenticate']).toBe(wrongPassword.headers['www-authenticate'])
    }
    expect((await outbox()).length).toBe(before)
  })

  it('locks the account after 5 failures for 30 minutes, then opens it by itself', async () => {
    const a = await newAccount()
    const t0 = portal.clock.now()
    for (let i = 0; i < 4; i++) expectError(await passwordStep(a.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    const unlockAt = new Date(t0.getTime() + 30 * MIN)
    expectLocked(await passwordStep(a.phone, 'wrong-password-1'), unlockAt)
    const sentBefore = (await outbox(a.phone)).length
    // The right password is not even checked while locked.
    expectLocked(await passwordStep(a.phone, a.password), unlockAt)
    portal.clock.advance(29 * MIN)
    expectLocked(await passwordStep(a.email, a.password), unlockAt)
    expect((await outbox(a.phone)).length).toBe(sentBefore)
    portal.clock.advance(1 * MIN)
    // Open again, with a fresh count: one failure does not lock it.
    expectError(await passwordStep(a.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    const session = await passwordLogin(a)
    expect((await me(session.accessToken)).status).toBe(200)
    const [row] = await portal.db.query<{ failed_attempts: number; locked_until: Date | null }>(
      'SELECT failed_attempts, locked_until FROM accounts WHERE snils = $1',
      [a.snils],
    )
    expect(row).toEqual({ failed_attempts: 0, locked_until: null })
  })

  it('refuses a worker whose employment ended, after the password and without sending a code', async () => {
    const a = await newAccount()
    const before = (await outbox()).length
    await endEmployment(portal.db, a.snils)
    expectError(await passwordStep(a.phone, a.password), 403, 'WORKER_EMPLOYMENT_ENDED')
    expectError(await passwordStep(a.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    expect((await post(portalPaths.passwordReset, { login: a.phone })).status).toBe(202)
    expect((await outbox()).length).toBe(before)
  })

  it('a success resets the failure count', async () => {
    const a = await newAccount()
    for (let i = 0; i < 4; i++) expectError(await passwordStep(a.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    await passwordLogin(a)
    for (let i = 0; i < 4; i++) expectError(await passwordStep(a.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    expect((await passwordStep(a.phone, a.password)).status).toBe(200)
  })
})

describe('one-time codes', () => {
  it('answers a wrong code with the attempts left, and the third wrong one kills the code', async () => {
    const a = await newAccount()
    const otp = otpSentResponseSchema.parse((await passwordStep(a.phone, a.password)).body)
    const code = await codeFor(a.phone)
    const first = await otpStep(otp.otpId, wrong(code))
    expectError(first, 401, 'OTP_INVALID', { attemptsLeft: 2 })
    expect(first.headers['www-authenticate']).toMatch(/^Bearer/)
    expectError(await otpStep(otp.otpId, wrong(code)), 401, 'OTP_INVALID', { attemptsLeft: 1 })
    expectError(await otpStep(otp.otpId, wrong(code)), 401, 'OTP_EXPIRED')
    expectError(await otpStep(otp.otpId, code), 401, 'OTP_EXPIRED')
  })

  it('counts wrong codes toward the lock together with wrong passwords', async () => {
    const a = await newAccount()
    const first = otpSentResponseSchema.parse((await passwordStep(a.phone, a.password)).body)
    const firstCode = await codeFor(a.phone)
    for (let i = 0; i < 2; i++) expectError(await otpStep(first.otpId, wrong(firstCode)), 401, 'OTP_INVALID')
    expectError(await passwordStep(a.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    expectError(await passwordStep(a.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    // The right password does not reset the count (only a whole login does).
    const second = otpSentResponseSchema.parse((await passwordStep(a.phone, a.password)).body)
    const code = await codeFor(a.phone)
    // The fifth failure, a wrong code, locks the account; the right code is then refused too.
    expectLocked(await otpStep(second.otpId, wrong(code)), new Date(portal.clock.now().getTime() + 30 * MIN))
    expectLocked(await otpStep(second.otpId, code), new Date(portal.clock.now().getTime() + 30 * MIN))
  })

  it('expires after 5 minutes', async () => {
    const a = await newAccount()
    const early = otpSentResponseSchema.parse((await passwordStep(a.phone, a.password)).body)
    portal.clock.advance(5 * MIN - 1000)
    expect((await otpStep(early.otpId, await codeFor(a.phone))).status).toBe(200)

    const late = otpSentResponseSchema.parse((await passwordStep(a.phone, a.password)).body)
    portal.clock.advance(5 * MIN)
    expectError(await otpStep(late.otpId, await codeFor(a.phone)), 401, 'OTP_EXPIRED')
  })

  it('works once', async () => {
    const a = await newAccount()
    const otp = otpSentResponseSchema.parse((await passwordStep(a.phone, a.password)).body)
    const code = await codeFor(a.phone)
    expect((await otpStep(otp.otpId, code)).status).toBe(200)
    expectError(await otpStep(otp.otpId, code), 401, 'OTP_EXPIRED')
  })

  it('refuses unknown ids as expired and malformed codes as invalid input', async () => {
    expectError(await otpStep('00000000-0000-4000-8000-000000000000', '123456'), 401, 'OTP_EXPIRED')
    expectError(await otpStep('x', '12345'), 400, 'INVALID_INPUT')
    expectError(await post(portalPaths.password, { login: 'x' }), 400, 'INVALID_INPUT')
  })
})

describe('password reset', () => {
  it('sets the new password with the code: the old one stops working, the lock and password sessions end, EDS sessions stay', async () => {
    const a = await newAccount()
    const before = await passwordLogin(a)
    const user = await issueUser(pki.ca, { snils: a.snils })
    const eds = sessionResponseSchema.parse((await login(portal.api, user)).body)
    for (let i = 0; i < 5; i++) await passwordStep(a.phone, 'wrong-password-1')
    expectError(await passwordStep(a.phone, a.password), 423, 'ACCOUNT_LOCKED')

    const requested = await post(portalPaths.passwordReset, { login: a.email })
    expect(requested.status, requested.text).toBe(202)
    const otp = otpSentResponseSchema.parse(requested.body)
    expect(otp).toMatchObject({ channel: 'outbox', destination: maskEmail(a.email), codeLength: 6 })
    expect((await outbox(a.email))[0]!.text).toMatch(/^Код для восстановления пароля ЛКМР: \d{6}\./)
    const code = await codeFor(a.email)
    // A reset code is no login code.
    expectError(await otpStep(otp.otpId, code), 401, 'OTP_EXPIRED')

    const newPassword = 'Novyi-parol-2026'
    const confirm = (c: string, p: string) => post(portalPaths.passwordResetConfirm, { otpId: otp.otpId, code: c, newPassword: p })
    for (const weak of ['short1', 'onlylettershere', '12345678901234', 'Пароль-без-цифр']) {
      expectError(await confirm(code, weak), 400, 'PASSWORD_WEAK', { minLength: 10 })
    }
    // Weak passwords cost no attempt: the first wrong code still leaves two.
    expectError(await confirm(wrong(code), newPassword), 401, 'OTP_INVALID', { attemptsLeft: 2 })
    const done = await confirm(code, newPassword)
    expect(done.status, done.text).toBe(204)
    expect(done.text).toBe('')
    expectError(await confirm(code, newPassword), 401, 'OTP_EXPIRED')

    expectError(await me(before.accessToken), 401, 'SESSION_EXPIRED')
    expectError(await post(portalPaths.refresh, { refreshToken: before.refreshToken }), 401, 'SESSION_EXPIRED')
    expect((await me(eds.accessToken)).status).toBe(200)
    expectError(await passwordStep(a.phone, a.password), 401, 'CREDENTIALS_INVALID')
    const after = await passwordLogin(a, a.phone, newPassword)
    expect((await me(after.accessToken)).status).toBe(200)
  })

  it('answers an unknown login with the same 202 shape and sends nothing', async () => {
    const a = await newAccount()
    const real = await post(portalPaths.passwordReset, { login: a.phone })
    const before = (await outbox()).length
    const decoys = [
      { login: '+7 (999) 765-43-21', destination: maskPhone('+79997654321') },
      { login: 'Nobody@Clinic.example', destination: maskEmail('nobody@clinic.example') },
      { login: formatSnils(nextSnils()), destination: expect.stringMatching(/^\+7 \(9\*\*\) \*\*\*-\*\*-\d\d$/) },
    ]
    for (const d of decoys) {
      const r = await post(portalPaths.passwordReset, { login: d.login })
      expect(r.status).toBe(real.status)
      const body = otpSentResponseSchema.parse(r.body)
      expect(Object.keys(r.body as object).sort()).toEqual(Object.keys(real.body as object).sort())
      expect(body).toMatchObject({ channel: 'outbox', codeLength: 6, destination: d.destination, expiresAt: otpSentResponseSchema.parse(real.body).expiresAt })
      expectError(await post(portalPaths.passwordResetConfirm, { otpId: body.otpId, code: '123456', newPassword: 'Novyi-parol-2026' }), 401, 'OTP_EXPIRED')
    }
    // The same unknown СНИЛС gets the same made-up destination each time (and a new id, like a real one).
    const once = otpSentResponseSchema.parse((await post(portalPaths.passwordReset, { login: decoys[2]!.login })).body)
    const twice = otpSentResponseSchema.parse((await post(portalPaths.passwordReset, { login: decoys[2]!.login })).body)
    expect(twice.destination).toBe(once.destination)
    expect(twice.otpId).not.toBe(once.otpId)
    expect((await outbox()).length).toBe(before)
  })
})

describe('login history', () => {
  it('shows the caller their own attempts only, newest first, with a limit', async () => {
    const a = await newAccount()
    const b = await newAccount()
    const step = () => portal.clock.advance(1000)
    expectError(await passwordStep(a.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    step()
    expectError(await passwordStep(b.phone, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    step()
    expect((await post(portalPaths.passwordReset, { login: a.phone })).status).toBe(202)
    step()
    const session = await passwordLogin(a)
    step()
    const refreshed = sessionResponseSchema.parse((await post(portalPaths.refresh, { refreshToken: session.refreshToken })).body)
    step()
    const eds = await login(portal.api, await issueUser(pki.ca, { snils: a.snils }))
    expect(eds.status).toBe(200)

    const r = await portal.api('GET', portalPaths.loginHistory, { token: refreshed.accessToken })
    expect(r.status, r.text).toBe(200)
    const { entries } = loginHistoryResponseSchema.parse(r.body)
    expect(entries.map((e) => [e.method, e.result])).toEqual([
      ['eds', 'OK'],
      ['refresh', 'OK'],
      ['otp', 'OK'],
      ['password', 'OK'],
      ['reset', 'OK'],
      ['password', 'CREDENTIALS_INVALID'],
    ])
    expect(entries.every((e) => e.address === '127.0.0.1')).toBe(true)
    expect(entries[0]!.at).toBe(portal.clock.now().toISOString())

    const one = await portal.api('GET', `${portalPaths.loginHistory}?limit=1`, { token: refreshed.accessToken })
    expect(loginHistoryResponseSchema.parse(one.body).entries).toEqual(entries.slice(0, 1))
    const many = await portal.api('GET', `${portalPaths.loginHistory}?limit=100000`, { token: refreshed.accessToken })
    expect(loginHistoryResponseSchema.parse(many.body).entries).toEqual(entries)
    expectError(await portal.api('GET', `${portalPaths.loginHistory}?limit=0`, { token: refreshed.accessToken }), 400, 'INVALID_INPUT')
    expectError(await portal.api('GET', `${portalPaths.loginHistory}?limit=ten`, { token: refreshed.accessToken }), 400, 'INVALID_INPUT')
    expectError(await portal.api('GET', portalPaths.loginHistory), 401, 'SESSION_EXPIRED')

    const bSession = await passwordLogin(b)
    const bHistory = loginHistoryResponseSchema.parse((await portal.api('GET', portalPaths.loginHistory, { token: bSession.accessToken })).body)
    expect(bHistory.entries.map((e) => [e.method, e.result])).toEqual([
      ['otp', 'OK'],
      ['password', 'OK'],
      ['password', 'CREDENTIALS_INVALID'],
    ])
  })

  it('reads the same for the administrator (portal login-history)', async () => {
    const a = await newAccount()
    expectError(await passwordStep(a.email, 'wrong-password-1'), 401, 'CREDENTIALS_INVALID')
    await passwordLogin(a)
    const text = await loginHistoryCommand(portal.db, formatSnils(a.snils))
    const [title, ...lines] = text.split('\n')
    expect(title).toBe(`Попытки входа ${formatSnils(a.snils)} (время московское, новые сверху):`)
    const columns = lines.map((l) => l.split(/\s{2,}/))
    expect(columns.map((c) => c.slice(1))).toEqual([
      ['127.0.0.1', 'код', 'OK'],
      ['127.0.0.1', 'пароль', 'OK', '(code sent by sms)'],
      ['127.0.0.1', 'пароль', 'CREDENTIALS_INVALID'],
    ])
    expect(columns[0]![0]).toMatch(/^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d$/)
    expect(await loginHistoryCommand(portal.db, formatSnils(nextSnils()))).toMatch(/^Попыток входа для .* нет$/)
  })
})

describe('secrets', () => {
  it('keeps passwords and codes out of the audit, the outbox, the process answers and the database', async () => {
    const a = await newAccount()
    const typedAsLogin = 'Sekret-v-pole-logina-77'
    const wrongPassword = 'Nevernyi-parol-123'
    const newPassword = 'Novyi-sekret-parol-456'
    expectError(await passwordStep(a.phone, wrongPassword), 401, 'CREDENTIALS_INVALID')
    expectError(await passwordStep(typedAsLogin, a.password), 401, 'CREDENTIALS_INVALID')
    await passwordLogin(a)
    const loginCode = await codeFor(a.phone)
    const reset = otpSentResponseSchema.parse((await post(portalPaths.passwordReset, { login: a.phone })).body)
    const resetCode = await codeFor(a.phone)
    expectError(await post(portalPaths.passwordResetConfirm, { otpId: reset.otpId, code: wrong(resetCode), newPassword }), 401, 'OTP_INVALID')
    expect((await post(portalPaths.passwordResetConfirm, { otpId: reset.otpId, code: resetCode, newPassword })).status).toBe(204)

    const secrets = [a.password, wrongPassword, typedAsLogin, newPassword]
    const audit = JSON.stringify(await portal.db.query('SELECT * FROM login_attempts'))
    const outboxText = JSON.stringify(await outbox())
    for (const s of secrets) {
      expect(audit).not.toContain(s)
      expect(outboxText).not.toContain(s)
    }
    for (const code of [loginCode, resetCode, wrong(resetCode)]) expect(audit).not.toContain(code)
    const codes = JSON.stringify(await portal.db.query('SELECT * FROM one_time_codes WHERE snils = $1', [a.snils]))
    expect(codes).not.toContain(loginCode)
    expect(codes).not.toContain(resetCode)
    const [account] = await portal.db.query<{ password_hash: string }>('SELECT password_hash FROM accounts WHERE snils = $1', [a.snils])
    expect(account!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
    for (const s of secrets) expect(account!.password_hash).not.toContain(s)
  })
})

describe('demo account', () => {
  it('lets the demo registrar log in with the documented phone and password; seeding again changes nothing', async () => {
    const demo = await writeSyntheticDemo(join(tmp, 'demo'), pki, [worker(nextSnils()), { ...REGISTRAR }])
    const first = await seedFromDemo(portal.db, demo)
    expect(first.passwordAccount).toBe(REGISTRAR.snils)
    const sent = await passwordStep('+7 900 123-45-67', DEMO_PASSWORD_ACCOUNT.password)
    expect(sent.status, sent.text).toBe(200)
    const r = await otpStep(otpSentResponseSchema.parse(sent.body).otpId, await codeFor(DEMO_PASSWORD_ACCOUNT.phone))
    const session = sessionResponseSchema.parse(r.body)
    expect(session.user).toMatchObject({ snils: REGISTRAR.snils, fullName: REGISTRAR.fullName, roles: ['registrar'] })
    expect(await seedFromDemo(portal.db, demo)).toEqual(first)
    expect((await me(session.accessToken)).status).toBe(200)
    expect((await passwordStep(DEMO_PASSWORD_ACCOUNT.email, DEMO_PASSWORD_ACCOUNT.password)).status).toBe(200)
  })
})

describe('channels', () => {
  it('--otp-channel takes outbox or file:<path>', () => {
    expect(otpChannelFromSpec('outbox')).toBeInstanceOf(OutboxChannel)
    const file = otpChannelFromSpec('file:codes.jsonl')
    expect(file).toBeInstanceOf(FileChannel)
    expect((file as FileChannel).path).toBe(resolve('codes.jsonl'))
    for (const bad of ['sms', 'file:', 'outbox2', '']) expect(otpChannelFromSpec(bad)).toBeNull()
  })
})

describe('with the file channel and rate limits', () => {
  let limited: TestPortal
  let file: string
  const LOGIN_MAX = 3

  beforeAll(async () => {
    file = join(tmp, 'codes.jsonl')
    limited = await startTestPortal(pki, { rateLimit: { login: { windowMs: 60_000, max: LOGIN_MAX }, refresh: false }, otpChannel: new FileChannel(file) })
  })
  afterAll(async () => {
    await limited?.close()
  })

  it('writes one JSON line per code to the file (mode 0600) and has no demo outbox', async () => {
    limited.clock.set(new Date(Date.now() + 10 * MIN))
    const a = await newAccount(limited)
    const sent = otpSentResponseSchema.parse((await passwordStep(a.email, a.password, limited)).body)
    expect(sent).toMatchObject({ channel: 'email', destination: maskEmail(a.email) })
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!) as Record<string, string>
    expect(line).toMatchObject({ channel: 'email', to: a.email, sentAt: limited.clock.now().toISOString() })
    expect(line.text).toMatch(/^Код для входа в ЛКМР: \d{6}\./)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expectError(await limited.api('GET', portalPaths.demoOutbox), 404, 'INVALID_INPUT')
  })

  it('answers 429 on the password routes once the address has used the login budget', async () => {
    limited.clock.set(new Date(Date.now() + 30 * MIN))
    const a = await newAccount(limited)
    for (let i = 0; i < LOGIN_MAX; i++) expectError(await passwordStep(a.phone, 'wrong-password-1', limited), 401, 'CREDENTIALS_INVALID')
    const refused = await passwordStep(a.phone, a.password, limited)
    expectError(refused, 429, 'RATE_LIMITED', { retryAfterSeconds: 60 })
    expect(refused.headers['retry-after']).toBe('60')
    for (const [path, json] of [
      [portalPaths.passwordOtp, { otpId: 'x', code: '123456' }],
      [portalPaths.passwordReset, { login: a.phone }],
      [portalPaths.passwordResetConfirm, { otpId: 'x', code: '123456', newPassword: 'Novyi-parol-2026' }],
    ] as const) {
      expectError(await post(path, json, limited), 429, 'RATE_LIMITED')
    }
    // One budget with the EDS login.
    await expect(getChallenge(limited.api)).rejects.toThrow(/429/)
    const rows = await limited.db.query<{ method: string; result: string }>(
      "SELECT method, result FROM login_attempts WHERE result = 'RATE_LIMITED'",
    )
    expect(rows).toEqual([{ method: 'password', result: 'RATE_LIMITED' }])
    limited.clock.advance(60_000)
    expect((await passwordStep(a.phone, a.password, limited)).status).toBe(200)
  })
})

describe('without a code channel', () => {
  it('has no password routes and no outbox, but the login history is there', async () => {
    const off = await startTestPortal(pki, { rateLimit: false })
    try {
      for (const path of [portalPaths.password, portalPaths.passwordOtp, portalPaths.passwordReset, portalPaths.passwordResetConfirm]) {
        expectError(await post(path, {}, off), 404, 'INVALID_INPUT')
      }
      expectError(await off.api('GET', portalPaths.demoOutbox), 404, 'INVALID_INPUT')
      expectError(await off.api('GET', portalPaths.loginHistory), 401, 'SESSION_EXPIRED')
    } finally {
      await off.close()
    }
  })
})

describe('admin commands', () => {
  const run = (args: string[], stdin: string) => runPortalCli(args, { stdin })

  it('set-password reads the password from stdin and creates the account; unlock-account lifts a lock', async () => {
    const data = join(tmp, 'admin-data')
    const snils = nextSnils()
    const added = await run(['add-worker', '--data', data, '--snils', snils, '--name', 'Белова Светлана Игоревна', '--position', 'Регистратор', '--org', 'ГП № 1', '--roles', 'registrar'], '')
    expect(added.code, added.stderr).toBe(0)

    const weak = await run(['set-password', '--data', data, '--snils', snils, '--phone', '8 900 765-43-21'], 'short\n')
    expect(weak.code).toBe(1)
    expect(weak.stderr).toContain('Пароль слишком простой')

    const password = 'Admin-zadal-parol-1'
    const set = await run(['set-password', '--data', data, '--snils', snils, '--phone', '8 900 765-43-21', '--email', 'Belova@Clinic.example'], `${password}\n`)
    expect(set.stderr).toBe('')
    expect(set.code).toBe(0)
    expect(set.stdout).toBe(`Учётная запись создана: ${formatSnils(snils)}; коды подтверждения: телефон +7 (9**) ***-**-21, почта b***@clinic.example\n`)
    expect(set.stdout).not.toContain(password)

    const withDb = async <T>(fn: (db: Awaited<ReturnType<typeof openPglite>>) => Promise<T>): Promise<T> => {
      const db = await openPglite(data)
      try {
        await migrate(db)
        return await fn(db)
      } finally {
        await db.close()
      }
    }
    const row = await withDb(async (db) => {
      const rows = await db.query<{ phone: string; email: string; password_hash: string }>('SELECT phone, email, password_hash FROM accounts WHERE snils = $1', [snils])
      // Locked, as after five failures.
      await db.query("UPDATE accounts SET failed_attempts = 0, locked_until = now() + interval '30 minutes' WHERE snils = $1", [snils])
      return rows[0]
    })
    expect(row).toMatchObject({ phone: '+79007654321', email: 'belova@clinic.example' })
    expect(row!.password_hash).toMatch(/^\$argon2id\$/)

    const unlocked = await run(['unlock-account', '--data', data, '--snils', formatSnils(snils)], '')
    expect(unlocked.stdout).toBe(`Учётная запись разблокирована: ${formatSnils(snils)}\n`)
    const after = await withDb((db) => db.query('SELECT failed_attempts, locked_until FROM accounts WHERE snils = $1', [snils]))
    expect(after).toEqual([{ failed_attempts: 0, locked_until: null }])
  }, 120_000)
})
