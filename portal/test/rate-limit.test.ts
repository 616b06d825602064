// Rate limiting of the auth endpoints: the sliding-window limiter on a fake clock, then the portal
// over HTTPS from loopback (which is limited like any other address).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AppError, describeError } from '../../src/shared/errors'
import type { PortalErrorBody, SessionResponse } from '../../src/shared/portal-api'
import { PortalClient } from '../../src/main/core/portal/portal-client'
import { listLoginAttempts } from '../src/audit'
import { parseRateLimit } from '../src/main'
import { createRateLimiters, DEFAULT_RATE_LIMITS, retryAfterSeconds, SlidingWindowLimiter } from '../src/rate-limit'
import { addWorker, createTestPki, issueUser, login, nextSnils, startTestPortal, worker, type TestPortal, type TestUser } from './support'

function fakeClock(start = 1_000_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) }
}

describe('SlidingWindowLimiter', () => {
  it('allows max per window, then refuses with the time until the oldest request leaves it', () => {
    const clock = fakeClock()
    const limiter = new SlidingWindowLimiter({ windowMs: 60_000, max: 3 }, clock.now)
    expect(limiter.hit('a')).toEqual({ allowed: true, remaining: 2 })
    clock.advance(10_000)
    expect(limiter.hit('a')).toEqual({ allowed: true, remaining: 1 })
    expect(limiter.hit('a')).toEqual({ allowed: true, remaining: 0 })
    expect(limiter.hit('a')).toEqual({ allowed: false, retryAfterMs: 50_000, first: true })
    clock.advance(49_999)
    expect(limiter.hit('a')).toEqual({ allowed: false, retryAfterMs: 1, first: false })
    // The first request leaves the window: one slot, not three (sliding, not fixed windows).
    clock.advance(1)
    expect(limiter.hit('a')).toEqual({ allowed: true, remaining: 0 })
    expect(limiter.hit('a')).toMatchObject({ allowed: false, retryAfterMs: 10_000, first: true })
    // A whole window later the budget is full again.
    clock.advance(60_000)
    expect(limiter.hit('a')).toEqual({ allowed: true, remaining: 2 })
  })

  it('counts keys separately; refused requests do not count', () => {
    const clock = fakeClock()
    const limiter = new SlidingWindowLimiter({ windowMs: 1000, max: 1 }, clock.now)
    expect(limiter.hit('a').allowed).toBe(true)
    for (let i = 0; i < 10; i++) expect(limiter.hit('a').allowed).toBe(false)
    expect(limiter.hit('b').allowed).toBe(true)
    clock.advance(1000)
    expect(limiter.hit('a').allowed).toBe(true)
  })

  it('evicts keys idle for a window, and the least recently seen beyond maxKeys', () => {
    const clock = fakeClock()
    const limiter = new SlidingWindowLimiter({ windowMs: 1000, max: 2 }, clock.now, 3)
    for (const k of ['a', 'b', 'c']) limiter.hit(k)
    expect(limiter.size).toBe(3)
    limiter.hit('a') // a is now the most recently seen
    limiter.hit('d') // over maxKeys: b goes
    expect(limiter.size).toBe(3)
    expect(limiter.hit('b')).toEqual({ allowed: true, remaining: 1 }) // forgotten, so fresh; c goes
    expect(limiter.hit('a')).toMatchObject({ allowed: false }) // a kept its count
    clock.advance(500)
    limiter.hit('d')
    clock.advance(500) // a, b: idle for a window; d: seen 500 ms ago
    limiter.sweep()
    expect(limiter.size).toBe(1)
    clock.advance(999)
    limiter.sweep() // less than a window since the last sweep: nothing done
    expect(limiter.size).toBe(1)
    clock.advance(1)
    limiter.sweep()
    expect(limiter.size).toBe(0)
  })

  it('does not lock anyone out when the clock steps back', () => {
    const clock = fakeClock(10_000_000)
    const limiter = new SlidingWindowLimiter({ windowMs: 60_000, max: 1 }, clock.now)
    expect(limiter.hit('a').allowed).toBe(true)
    expect(limiter.hit('a').allowed).toBe(false)
    clock.set(5_000_000)
    expect(limiter.hit('a').allowed).toBe(true)
  })

  it('rejects nonsense rules; groups can be off; defaults are 30 per minute each', () => {
    expect(() => new SlidingWindowLimiter({ windowMs: 1000, max: 0 })).toThrow(RangeError)
    expect(() => new SlidingWindowLimiter({ windowMs: 0, max: 1 })).toThrow(RangeError)
    expect(DEFAULT_RATE_LIMITS).toEqual({ login: { windowMs: 60_000, max: 30 }, refresh: { windowMs: 60_000, max: 30 } })
    const now = () => 0
    expect(createRateLimiters(false, now)).toEqual({ login: null, refresh: null })
    const some = createRateLimiters({ refresh: false, login: { windowMs: 1000, max: 5 } }, now)
    expect(some.refresh).toBeNull()
    expect(some.login?.rule).toEqual({ windowMs: 1000, max: 5 })
    expect(createRateLimiters(undefined, now).refresh?.rule).toEqual(DEFAULT_RATE_LIMITS.refresh)
    expect([retryAfterSeconds(1), retryAfterSeconds(1000), retryAfterSeconds(1001)]).toEqual([1, 1, 2])
  })

  it('serve --rate-limit: N/seconds for both groups, or off', () => {
    expect(parseRateLimit(undefined)).toBeUndefined()
    expect(parseRateLimit('off')).toBe(false)
    expect(parseRateLimit('10/30')).toEqual({ login: { max: 10, windowMs: 30_000 }, refresh: { max: 10, windowMs: 30_000 } })
    for (const bad of ['0/60', '10/0', '10', 'ten/60', '10/60s']) expect(() => parseRateLimit(bad)).toThrow(/--rate-limit/)
  })
})

describe('rate limits over HTTPS', () => {
  let portal: TestPortal
  let doctor: TestUser
  let caDir: string
  let minute = 0
  const LOGIN_MAX = 4
  const REFRESH_MAX = 2

  beforeAll(async () => {
    const pki = await createTestPki()
    portal = await startTestPortal(pki, {
      rateLimit: { login: { windowMs: 60_000, max: LOGIN_MAX }, refresh: { windowMs: 60_000, max: REFRESH_MAX } },
    })
    const snils = nextSnils()
    await addWorker(portal.db, worker(snils))
    doctor = await issueUser(pki.ca, { snils })
    caDir = mkdtempSync(join(tmpdir(), 'portal-rl-'))
    writeFileSync(join(caDir, 'ca.pem'), pki.tlsCaPem)
  })
  afterAll(async () => {
    await portal?.close()
    if (caDir) rmSync(caDir, { recursive: true, force: true })
  })
  beforeEach(() => {
    // A fresh minute for each test: every earlier request has left the window.
    minute += 10
    portal.clock.set(new Date(Date.now() + minute * 60_000))
  })

  const challenge = () => portal.api<PortalErrorBody>('POST', '/api/v1/auth/challenge')

  it('answers the N+1th challenge from one address with 429, Retry-After and one audit row', async () => {
    const before = (await listLoginAttempts(portal.db)).length
    for (let i = 0; i < LOGIN_MAX; i++) expect((await challenge()).status).toBe(200)
    portal.clock.advance(15_000)
    const refused = await challenge()
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toBe('45')
    expect(refused.headers['x-content-type-options']).toBe('nosniff')
    expect(refused.headers['www-authenticate']).toBeUndefined()
    expect(refused.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'Too many requests', params: { retryAfterSeconds: 45 } } })

    // eds shares the budget (refused before its body is even read); the second refusal of the run is not audited again.
    const eds = await portal.api<PortalErrorBody>('POST', '/api/v1/auth/eds', { json: { challengeId: 'x', signature: 'AAAA' } })
    expect(eds.status).toBe(429)
    expect(eds.body.error.params).toEqual({ retryAfterSeconds: 45 })
    const after = await listLoginAttempts(portal.db)
    const rows = after.slice(0, after.length - before)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ address: '127.0.0.1', method: 'eds', snils: null, result: 'RATE_LIMITED' })
    expect(rows[0]!.detail).toBe('/api/v1/auth/challenge: over 4 per 60 s')
  })

  it('leaves the other route group and the other endpoints alone', async () => {
    for (let i = 0; i <= LOGIN_MAX; i++) await challenge()
    expect((await challenge()).status).toBe(429)
    const refresh = await portal.api<PortalErrorBody>('POST', '/api/v1/auth/refresh', { json: { refreshToken: 'not-a-token' } })
    expect(refresh.status).toBe(401)
    expect(refresh.body.error.code).toBe('SESSION_EXPIRED')
    expect((await portal.api('GET', '/api/v1/health')).status).toBe(200)
    expect((await portal.api('GET', '/api/v1/auth/me', { token: 'x' })).status).toBe(401)
  })

  it('lets requests through again once the window has passed (server clock)', async () => {
    for (let i = 0; i < LOGIN_MAX; i++) await challenge()
    expect((await challenge()).status).toBe(429)
    portal.clock.advance(59_000)
    expect((await challenge()).headers['retry-after']).toBe('1')
    portal.clock.advance(1000)
    expect((await login(portal.api, doctor, { signingTime: portal.clock.now() })).status).toBe(200)
  })

  it('limits refresh on its own budget', async () => {
    const session = await login(portal.api, doctor, { signingTime: portal.clock.now() })
    expect(session.status).toBe(200)
    let token = session.body.refreshToken
    for (let i = 0; i < REFRESH_MAX; i++) {
      const r = await portal.api<SessionResponse>('POST', '/api/v1/auth/refresh', { json: { refreshToken: token } })
      expect(r.status).toBe(200)
      token = r.body.refreshToken
    }
    const refused = await portal.api<PortalErrorBody>('POST', '/api/v1/auth/refresh', { json: { refreshToken: token } })
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toBe('60')
    expect((await listLoginAttempts(portal.db, 1))[0]).toMatchObject({ method: 'refresh', result: 'RATE_LIMITED', detail: '/api/v1/auth/refresh: over 2 per 60 s' })
    // The refused request did not touch the token: it still works after the wait.
    portal.clock.advance(60_000)
    expect((await portal.api('POST', '/api/v1/auth/refresh', { json: { refreshToken: token } })).status).toBe(200)
  })

  it('reaches the workstation as RATE_LIMITED with retryAfterSeconds and the catalogue text', async () => {
    const client = new PortalClient({ baseUrl: portal.url, caFile: join(caDir, 'ca.pem') })
    for (let i = 0; i < LOGIN_MAX; i++) await client.challenge()
    const err = await client.challenge().then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).code).toBe('RATE_LIMITED')
    expect((err as AppError).params).toEqual({ retryAfterSeconds: 60 })
    expect(describeError((err as AppError).toData()).title).toBe('Слишком много попыток')
  })
})
