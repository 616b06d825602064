// The password + one-time code route through the real core (createAppCore: portal client,
// password-login service, session manager, RPC handlers behind the real dispatcher) against the
// reference portal over TLS, with the demo outbox as the code channel. Codes are read from the
// outbox as a user reads their SMS.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword, checkPasswordPolicy } from '../../portal/src/accounts/password'
import { OutboxChannel } from '../../portal/src/accounts/channels'
import { setAccount } from '../../portal/src/accounts/store'
import { DEMO_PASSWORD_ACCOUNT } from '../../portal/src/demo-seed'
import { startPortal, type StartedPortal } from '../../portal/src/server'
import { REGISTRAR } from '../../scripts/demo/people'
import { AppError } from '../../src/shared/errors'
import { passwordProblems } from '../../src/shared/password-policy'
import type { EventName } from '../../src/shared/rpc/contract'
import { createAppCore } from '../../src/main/core/app-core'
import { loadConfig, type AppConfig } from '../../src/main/core/config'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'
import { createDispatcher } from '../../src/main/rpc/dispatcher'
import { rejection } from '../support/app-error'

/** Short access tokens: the workstation refreshes the session within the test. */
const ACCESS_TTL_SECONDS = 8

let fx: TokenFixture
let portal: StartedPortal
let outbox: OutboxChannel
let core: ReturnType<typeof createAppCore>
const logs: string[] = []
const events: { event: EventName; payload: unknown }[] = []
const cores: ReturnType<typeof createAppCore>[] = []
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function newCore(overrides: Partial<AppConfig>, log: (line: string) => void = () => {}) {
  const c = createAppCore(
    loadConfig({
      env: { LKMR_CONFIG: '/nonexistent/config.json' },
      overrides: { useDefaultLibraries: false, tokenLibraries: [], portalUrl: portal.url, portalCaFile: fx.manifest.caCertPem, idleTimeoutMs: 0, ...overrides },
    }),
    { transport: 'web', log },
  )
  cores.push(c)
  return c
}

/** The code of the newest message to `to`, as the person would read it. */
function codeFor(to: string): string {
  const text = outbox.list({ to })[0]?.text ?? ''
  const code = /(?<!\d)\d{6}(?!\d)/.exec(text)?.[0]
  if (!code) throw new Error(`no code sent to ${to}`)
  return code
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = performance.now()
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(20)
  }
}

const worker = (kind: 'doctor' | 'nurse' | 'employmentEnded') => {
  const snils = fx.cert(kind).cert.snils
  const w = fx.manifest.workers.find((x) => x.snils === snils)
  if (!w) throw new Error(`no worker ${kind}`)
  return w
}

// Accounts besides the seeded registrar, so each story has its own failure counter.
const NURSE = { phone: '+79005550101', password: 'Медсестра2025' }
const DOCTOR = { email: 'ivanov@poliklinika1.example', password: 'Terapevt2025', newPassword: 'НовыйПароль2026' }
const FORMER = { phone: '+79005550303', password: 'Uvolena2025x' }

beforeAll(async () => {
  fx = await createTokenFixture()
  process.env.SOFTHSM2_CONF = fx.conf
  outbox = new OutboxChannel()
  portal = await startPortal({ demo: fx.manifest, port: 0, otpChannel: outbox, rateLimit: false, accessTtlSeconds: ACCESS_TTL_SECONDS })
  const now = new Date()
  await setAccount(portal.db, { snils: worker('nurse').snils, passwordHash: await hashPassword(NURSE.password), phone: NURSE.phone, now })
  await setAccount(portal.db, { snils: worker('doctor').snils, passwordHash: await hashPassword(DOCTOR.password), email: DOCTOR.email, now })
  await setAccount(portal.db, { snils: worker('employmentEnded').snils, passwordHash: await hashPassword(FORMER.password), phone: FORMER.phone, now })
  core = newCore({ tokenLibraries: [fx.library], demoOutbox: true }, (l) => logs.push(l))
  core.onEvent((event, payload) => events.push({ event, payload }))
})

afterAll(async () => {
  for (const c of cores) await c.close()
  await portal?.close()
  fx?.cleanup()
})

describe('password + one-time code login', () => {
  it('sends a code to the masked phone, valid five minutes by the portal clock, and logs in with it', async () => {
    const h = core.handlers
    const sent = await h['auth.passwordStart']({ login: '+7 900 123-45-67', password: DEMO_PASSWORD_ACCOUNT.password })
    expect(sent).toMatchObject({ channel: 'outbox', destination: '+7 (9**) ***-**-67', codeLength: 6 })
    expect(sent.validForSeconds).toBeGreaterThanOrEqual(297)
    expect(sent.validForSeconds).toBeLessThanOrEqual(300)
    // The demo outbox, as the login screen's demo panel reads it.
    const box = await h['demo.outbox']({})
    expect(box.messages[0]?.to).toBe(DEMO_PASSWORD_ACCOUNT.phone)
    const session = await h['auth.passwordConfirm']({ otpId: sent.otpId, code: codeFor(DEMO_PASSWORD_ACCOUNT.phone) })
    expect(session).toMatchObject({ method: 'password', certificateId: null, user: { fullName: REGISTRAR.fullName, roles: ['registrar'] } })
    expect(await h['auth.session']({})).toEqual(session)
  })

  it('shows the user their own login history, newest first', async () => {
    const { entries } = await core.handlers['auth.loginHistory']({})
    expect(entries.slice(0, 2).map((e) => [e.method, e.result])).toEqual([
      ['otp', 'OK'],
      ['password', 'OK'],
    ])
    expect(entries[0]?.address).toBe('127.0.0.1')
  })

  it('keeps a password session when a token is pulled out: it was not opened with one', async () => {
    const label = fx.cert('doctor').token.label
    await until(async () => (await core.handlers['token.state']({})).tokens.some((t) => t.label === label), 5000, 'token listed')
    fx.pull(label)
    try {
      await until(async () => !(await core.handlers['token.state']({})).tokens.some((t) => t.label === label), 5000, 'token gone')
      await sleep(300)
      expect((await core.handlers['auth.session']({}))?.method).toBe('password')
      expect(events.some((e) => e.event === 'auth.sessionEnded')).toBe(false)
    } finally {
      fx.insert(label)
    }
  })

  it('refreshes a password session before its access token runs out', async () => {
    const before = await core.handlers['auth.session']({})
    expect(before).not.toBeNull()
    await until(async () => (await core.handlers['auth.session']({}))?.expiresAt !== before?.expiresAt, ACCESS_TTL_SECONDS * 1000 + 3000, 'refreshed')
    const after = await core.handlers['auth.session']({})
    expect(after).toMatchObject({ method: 'password', certificateId: null, user: before?.user })
    expect(Date.parse(after?.expiresAt ?? '')).toBeGreaterThan(Date.parse(before?.expiresAt ?? ''))
    // The refresh token still works for the portal's history, and the history shows it.
    const { entries } = await core.handlers['auth.loginHistory']({})
    expect(entries[0]).toMatchObject({ method: 'refresh', result: 'OK' })
    await core.handlers['auth.logout']({})
  })

  it('refuses a wrong password, counts wrong codes down and then lets the code die', async () => {
    const h = core.handlers
    await rejection(h['auth.passwordStart']({ login: NURSE.phone, password: 'wrong-password-1' }), 'CREDENTIALS_INVALID')
    const sent = await h['auth.passwordStart']({ login: '8 (900) 555-01-01', password: NURSE.password })
    const right = codeFor(NURSE.phone)
    const wrong = right === '000000' ? '111111' : '000000'
    expect((await rejection(h['auth.passwordConfirm']({ otpId: sent.otpId, code: wrong }), 'OTP_INVALID')).params).toEqual({ attemptsLeft: 2 })
    expect((await rejection(h['auth.passwordConfirm']({ otpId: sent.otpId, code: wrong }), 'OTP_INVALID')).params).toEqual({ attemptsLeft: 1 })
    await rejection(h['auth.passwordConfirm']({ otpId: sent.otpId, code: wrong }), 'OTP_EXPIRED')
    // Dead for good: even the right code no longer opens a session.
    await rejection(h['auth.passwordConfirm']({ otpId: sent.otpId, code: right }), 'OTP_EXPIRED')
    expect(await h['auth.session']({})).toBeNull()
    // A new code works, and the success clears the failure count.
    const again = await h['auth.passwordStart']({ login: NURSE.phone, password: NURSE.password })
    expect((await h['auth.passwordConfirm']({ otpId: again.otpId, code: codeFor(NURSE.phone) })).user.snils).toBe(worker('nurse').snils)
    await h['auth.logout']({})
  })

  it('refuses a worker whose employment ended with the register error, after the password', async () => {
    await rejection(core.handlers['auth.passwordStart']({ login: FORMER.phone, password: FORMER.password }), 'WORKER_EMPLOYMENT_ENDED')
  })

  it('locks the account after five failures with the unlock time, and the reset opens it and ends password sessions', async () => {
    const h = core.handlers
    // The doctor is logged in with the password here; the reset later ends that session.
    const first = await h['auth.passwordStart']({ login: DOCTOR.email, password: DOCTOR.password })
    expect(first.destination).toBe('i***@poliklinika1.example')
    await h['auth.passwordConfirm']({ otpId: first.otpId, code: codeFor(DOCTOR.email) })
    for (let i = 0; i < 4; i++) await rejection(h['auth.passwordStart']({ login: DOCTOR.email, password: `wrong-${i}` }), 'CREDENTIALS_INVALID')
    const t0 = Date.now()
    const locked = await rejection(h['auth.passwordStart']({ login: DOCTOR.email, password: 'wrong-5' }), 'ACCOUNT_LOCKED')
    expect(locked.params.unlockAt).toMatch(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$/)
    const unlockAt = Date.parse(String(locked.params.unlockAtIso))
    expect(unlockAt - t0).toBeGreaterThan(29 * 60_000)
    expect(unlockAt - t0).toBeLessThan(31 * 60_000)
    // While locked, even the right password is not looked at.
    await rejection(h['auth.passwordStart']({ login: DOCTOR.email, password: DOCTOR.password }), 'ACCOUNT_LOCKED')

    // Reset by the СНИЛС: the code goes to the account's e-mail.
    const reset = await h['auth.passwordResetStart']({ login: worker('doctor').snils })
    expect(reset.destination).toBe('i***@poliklinika1.example')
    const code = codeFor(DOCTOR.email)
    // A weak password is refused before the code is looked at: the code stays good.
    expect((await rejection(h['auth.passwordResetConfirm']({ otpId: reset.otpId, code, newPassword: 'short1' }), 'PASSWORD_WEAK')).params).toEqual({ minLength: 10 })
    const wrong = code === '000000' ? '111111' : '000000'
    expect((await rejection(h['auth.passwordResetConfirm']({ otpId: reset.otpId, code: wrong, newPassword: DOCTOR.newPassword }), 'OTP_INVALID')).params).toEqual({ attemptsLeft: 2 })
    expect(await h['auth.passwordResetConfirm']({ otpId: reset.otpId, code, newPassword: DOCTOR.newPassword })).toEqual({ ok: true })

    // The portal ended the doctor's password session: the next call finds out, tries a refresh,
    // and the workstation session ends as expired.
    const endedBefore = events.filter((e) => e.event === 'auth.sessionEnded').length
    await rejection(h['auth.loginHistory']({}), 'SESSION_EXPIRED')
    expect(await h['auth.session']({})).toBeNull()
    expect(events.filter((e) => e.event === 'auth.sessionEnded').slice(endedBefore)).toEqual([{ event: 'auth.sessionEnded', payload: { reason: 'expired' } }])

    // The lock is gone with the old password; the new one works.
    await rejection(h['auth.passwordStart']({ login: DOCTOR.email, password: DOCTOR.password }), 'CREDENTIALS_INVALID')
    const sent = await h['auth.passwordStart']({ login: DOCTOR.email.toUpperCase(), password: DOCTOR.newPassword })
    expect((await h['auth.passwordConfirm']({ otpId: sent.otpId, code: codeFor(DOCTOR.email) })).user.snils).toBe(worker('doctor').snils)
    const { entries } = await h['auth.loginHistory']({})
    const methods = entries.map((e) => `${e.method}:${e.result}`)
    expect(methods.slice(0, 3)).toEqual(['otp:OK', 'password:OK', 'password:CREDENTIALS_INVALID'])
    expect(methods).toContain('reset:OK')
    expect(methods).toContain('reset:PASSWORD_WEAK')
    expect(methods).toContain('password:ACCOUNT_LOCKED')
    await h['auth.logout']({})
  })

  it('closes an EDS session on the portal when a password login replaces it', async () => {
    const h = core.handlers
    const { token, cert } = fx.cert('doctor')
    const eds = await h['auth.loginWithCertificate']({ certificateId: `${fx.library}#${token.serial}/${cert.ckaId}`, pin: token.userPin })
    expect(eds.method).toBe('eds')
    const sent = await h['auth.passwordStart']({ login: NURSE.phone, password: NURSE.password })
    const replaced = await h['auth.passwordConfirm']({ otpId: sent.otpId, code: codeFor(NURSE.phone) })
    expect(replaced).toMatchObject({ method: 'password', certificateId: null })
    const open = async () =>
      (await portal.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE method = 'eds' AND snils = $1 AND revoked_at IS NULL`, [cert.snils]))[0]?.n
    await until(async () => (await open()) === 0, 5000, 'EDS session revoked on the portal')
    await h['auth.logout']({})
  })

  it('answers a reset for an unknown login like any other (nothing tells which logins exist)', async () => {
    const sent = await core.handlers['auth.passwordResetStart']({ login: 'nobody@example.org' })
    expect(sent).toMatchObject({ channel: 'outbox', destination: 'n***@example.org', codeLength: 6 })
    await rejection(core.handlers['auth.passwordResetConfirm']({ otpId: sent.otpId, code: '123456', newPassword: 'Достаточно2025' }), 'OTP_EXPIRED')
  })
})

describe('the password never leaves the call', () => {
  it('is not logged, not echoed and not accepted in a malformed request', async () => {
    const lines: string[] = []
    const dispatch = createDispatcher(core.handlers, { log: (l) => lines.push(l) })
    const secret = 'Секрет-Пароль-12345'
    const wrong = await dispatch('auth.passwordStart', { login: NURSE.phone, password: secret })
    expect(wrong).toEqual({ ok: false, error: { code: 'CREDENTIALS_INVALID', params: {} } })
    expect(await dispatch('auth.passwordStart', { login: NURSE.phone, password: secret, remember: true })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } })
    expect(await dispatch('auth.passwordConfirm', { otpId: 'x', code: '12345' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } })
    const ok = await dispatch('auth.passwordStart', { login: NURSE.phone, password: NURSE.password })
    expect(ok.ok).toBe(true)
    const all = [...lines, ...logs].join('\n')
    for (const s of [secret, NURSE.password, DOCTOR.password, DOCTOR.newPassword, codeFor(NURSE.phone)]) expect(all).not.toContain(s)
    expect(JSON.stringify(ok)).not.toContain(NURSE.password)
    expect(lines.join('\n')).toContain('CREDENTIALS_INVALID')
  })

  it('follows the same policy on both sides (the hint in the UI, the check on the portal)', () => {
    const samples = ['', 'short1', 'onlyletterslong', '1234567890', 'Пароль2025весна', 'abcdefghi1', '😀😀😀😀😀a1234', '😀😀a12345', 'ａｂｃｄｅｆｇｈｉ１']
    for (const p of samples) {
      let portalSays = true
      try {
        checkPasswordPolicy(p)
      } catch (e) {
        expect(AppError.is(e, 'PASSWORD_WEAK')).toBe(true)
        portalSays = false
      }
      expect(passwordProblems(p).length === 0, p).toBe(portalSays)
    }
  })
})

describe('configuration and failures', () => {
  it('ends an idle password session like any other', async () => {
    const idle = newCore({ idleTimeoutMs: 1200 })
    const ended: unknown[] = []
    idle.onEvent((event, payload) => {
      if (event === 'auth.sessionEnded') ended.push(payload)
    })
    const sent = await idle.handlers['auth.passwordStart']({ login: NURSE.phone, password: NURSE.password })
    await idle.handlers['auth.passwordConfirm']({ otpId: sent.otpId, code: codeFor(NURSE.phone) })
    await until(() => ended.length > 0, 5000, 'idle end')
    expect(ended).toEqual([{ reason: 'idle' }])
    expect(await idle.handlers['auth.session']({})).toBeNull()
  })

  it('keeps the demo outbox shut unless the configuration turns it on', async () => {
    const plain = newCore({})
    expect((await plain.handlers['app.info']({})).demoOutbox).toBe(false)
    expect((await core.handlers['app.info']({})).demoOutbox).toBe(true)
    await rejection(plain.handlers['demo.outbox']({}), 'ACCESS_DENIED')
    expect(loadConfig({ env: { LKMR_CONFIG: '/nonexistent/config.json', LKMR_DEMO_OUTBOX: '1' } }).demoOutbox).toBe(true)
    expect(loadConfig({ env: { LKMR_CONFIG: '/nonexistent/config.json' } }).demoOutbox).toBe(false)
  })

  it('needs a session for the login history', async () => {
    await rejection(newCore({}).handlers['auth.loginHistory']({}), 'SESSION_EXPIRED')
  })

  it('maps an untrusted portal certificate and a portal that does not answer', async () => {
    const untrusted = newCore({ portalCaFile: null })
    const e = await rejection(untrusted.handlers['auth.passwordStart']({ login: NURSE.phone, password: NURSE.password }), 'PORTAL_TLS_UNTRUSTED')
    expect(e.params.url).toBe(portal.url)
    const closed = newCore({ portalUrl: 'https://127.0.0.1:1' })
    await rejection(closed.handlers['auth.passwordResetStart']({ login: NURSE.phone }), 'PORTAL_UNREACHABLE')
  })

  it('passes the portal rate limit on as RATE_LIMITED', async () => {
    // A second portal on the same database, with a small budget for the login routes.
    const limited = await startPortal({
      db: portal.db,
      tls: { cert: readFileSync(fx.manifest.portalTls.certPem), key: readFileSync(fx.manifest.portalTls.keyPem) },
      port: 0,
      otpChannel: new OutboxChannel(),
      rateLimit: { login: { max: 2, windowMs: 60_000 }, refresh: { max: 2, windowMs: 60_000 } },
    })
    try {
      const c = newCore({ portalUrl: limited.url })
      const codes: string[] = []
      for (let i = 0; i < 3; i++) {
        codes.push(await c.handlers['auth.passwordStart']({ login: NURSE.phone, password: 'wrong-password' }).then(() => 'OK', (err: AppError) => err.code))
      }
      expect(codes).toEqual(['CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'RATE_LIMITED'])
    } finally {
      await limited.close()
    }
  })
})
