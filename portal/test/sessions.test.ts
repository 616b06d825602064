// Sessions over HTTPS: refresh rotation (and reuse detection), logout, me with live, expired and
// revoked tokens, and the register's changes taking effect on live sessions.
import 'reflect-metadata'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { meResponseSchema, portalErrorBodySchema, sessionResponseSchema, type SessionResponse } from '../../src/shared/portal-api'
import { endEmployment } from '../src/register'
import { addWorker, createTestPki, issueUser, login, nextSnils, startTestPortal, worker, type TestPortal, type TestUser } from './support'

let portal: TestPortal
let user: TestUser
let snils: string

async function newSession(): Promise<SessionResponse> {
  const r = await login(portal.api, user)
  expect(r.status).toBe(200)
  return sessionResponseSchema.parse(r.body)
}

function expectSessionExpired(r: { status: number; body: unknown; headers: Record<string, unknown> }): void {
  expect(r.status).toBe(401)
  expect(portalErrorBodySchema.parse(r.body).error.code).toBe('SESSION_EXPIRED')
  expect(r.headers['www-authenticate']).toMatch(/^Bearer/)
}

const me = (token: string) => portal.api('GET', '/api/v1/auth/me', { token })
const refresh = (refreshToken: string) => portal.api<SessionResponse>('POST', '/api/v1/auth/refresh', { json: { refreshToken } })
const logout = (token: string) => portal.api('POST', '/api/v1/auth/logout', { token })

beforeAll(async () => {
  // Many logins and refreshes from one address in a few seconds: limits are rate-limit.test.ts's subject.
  portal = await startTestPortal(await createTestPki(), { rateLimit: false })
  snils = nextSnils()
  await addWorker(portal.db, worker(snils, { roles: ['doctor'] }))
  user = await issueUser(portal.pki.ca, { snils })
})
afterAll(async () => {
  await portal?.close()
})
beforeEach(() => {
  portal.clock.reset()
})

describe('me', () => {
  it('answers the user and the access expiry for a live token', async () => {
    const s = await newSession()
    const r = await me(s.accessToken)
    expect(r.status).toBe(200)
    expect(meResponseSchema.parse(r.body)).toEqual({ user: s.user, expiresAt: s.expiresAt })
  })

  it('refuses a missing, malformed, unknown or expired token', async () => {
    const s = await newSession()
    expectSessionExpired(await portal.api('GET', '/api/v1/auth/me'))
    expectSessionExpired(await portal.api('GET', '/api/v1/auth/me', { headers: { authorization: `Basic ${s.accessToken}` } }))
    expectSessionExpired(await me('x'.repeat(43)))
    portal.clock.advance(15 * 60e3 + 1000)
    expectSessionExpired(await me(s.accessToken))
  })
})

describe('refresh', () => {
  it('rotates both tokens: the old ones stop working, the new ones work', async () => {
    const s = await newSession()
    portal.clock.advance(16 * 60e3) // access token expired, session alive
    const before = portal.clock.now().getTime()
    const r = await refresh(s.refreshToken)
    const after = portal.clock.now().getTime()
    expect(r.status).toBe(200)
    const next = sessionResponseSchema.parse(r.body)
    expect(next.accessToken).not.toBe(s.accessToken)
    expect(next.refreshToken).not.toBe(s.refreshToken)
    expect(next.user).toEqual(s.user)
    expect(next.refreshExpiresAt).toBe(s.refreshExpiresAt) // the session's end does not move
    expect(Date.parse(next.expiresAt)).toBeGreaterThanOrEqual(before + 15 * 60e3)
    expect(Date.parse(next.expiresAt)).toBeLessThanOrEqual(after + 15 * 60e3)
    expect((await me(next.accessToken)).status).toBe(200)
    expectSessionExpired(await me(s.accessToken))
  })

  it('treats a rotated-away refresh token presented again as stolen and ends the session', async () => {
    const s = await newSession()
    const next = sessionResponseSchema.parse((await refresh(s.refreshToken)).body)
    expectSessionExpired(await refresh(s.refreshToken))
    expectSessionExpired(await refresh(next.refreshToken))
    expectSessionExpired(await me(next.accessToken))
  })

  it('lets only one of two concurrent refreshes with the same token win', async () => {
    const s = await newSession()
    const results = await Promise.all([refresh(s.refreshToken), refresh(s.refreshToken)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 401])
  })

  it('ends with the session after the refresh lifetime', async () => {
    const s = await newSession()
    portal.clock.advance(8 * 3600e3 + 1000)
    expectSessionExpired(await refresh(s.refreshToken))
  })

  it('refuses invalid bodies', async () => {
    const r = await portal.api('POST', '/api/v1/auth/refresh', { json: { token: 'x' } })
    expect(r.status).toBe(400)
    expect(portalErrorBodySchema.parse(r.body).error.code).toBe('INVALID_INPUT')
  })

  it('is recorded as an attempt', async () => {
    const s = await newSession()
    await refresh(s.refreshToken)
    const rows = await portal.db.query<{ method: string; result: string; snils: string }>(
      'SELECT method, result, snils FROM login_attempts ORDER BY id DESC LIMIT 1',
    )
    expect(rows[0]).toEqual({ method: 'refresh', result: 'OK', snils })
  })
})

describe('logout', () => {
  it('revokes the session: access and refresh tokens stop working', async () => {
    const s = await newSession()
    const r = await logout(s.accessToken)
    expect(r.status).toBe(204)
    expectSessionExpired(await me(s.accessToken))
    expectSessionExpired(await refresh(s.refreshToken))
    expectSessionExpired(await logout(s.accessToken))
  })

  it('works with an access token that expired while the session is alive', async () => {
    const s = await newSession()
    portal.clock.advance(20 * 60e3)
    expect((await logout(s.accessToken)).status).toBe(204)
    expectSessionExpired(await refresh(s.refreshToken))
  })

  it('leaves the worker\'s other sessions alone', async () => {
    const a = await newSession()
    const b = await newSession()
    expect((await logout(a.accessToken)).status).toBe(204)
    expect((await me(b.accessToken)).status).toBe(200)
  })
})

describe('inactivity', () => {
  it('keeps a session in use alive past the idle timeout, one request at a time', async () => {
    const s = await newSession()
    let tokens = s
    for (let i = 0; i < 4; i++) {
      portal.clock.advance(12 * 60e3)
      expect((await me(tokens.accessToken)).status).toBe(200)
      const r = await refresh(tokens.refreshToken)
      expect(r.status).toBe(200)
      tokens = sessionResponseSchema.parse(r.body)
    }
  })

  it('ends a session unused for 30 minutes: refresh and logout refuse it, and it stays ended', async () => {
    const s = await newSession()
    portal.clock.advance(30 * 60e3 + 1000)
    const refused = await refresh(s.refreshToken)
    expectSessionExpired(refused)
    expect(portalErrorBodySchema.parse(refused.body).error.params).toEqual({ reason: 'idle' })
    portal.clock.reset()
    expectSessionExpired(await me(s.accessToken))
  })

  it('ends it on the access path too', async () => {
    const s = await newSession()
    portal.clock.advance(31 * 60e3)
    expectSessionExpired(await logout(s.accessToken))
    portal.clock.reset()
    expectSessionExpired(await refresh(s.refreshToken))
  })
})

describe('register changes', () => {
  it('ending employment ends live sessions', async () => {
    const otherSnils = nextSnils()
    await addWorker(portal.db, worker(otherSnils))
    const other = await issueUser(portal.pki.ca, { snils: otherSnils })
    const s = sessionResponseSchema.parse((await login(portal.api, other)).body)
    await endEmployment(portal.db, otherSnils)
    expectSessionExpired(await me(s.accessToken))
    expectSessionExpired(await refresh(s.refreshToken))
  })

  it('a session answers the register\'s current data', async () => {
    const s = await newSession()
    await addWorker(portal.db, worker(snils, { position: 'Заведующий отделением', roles: ['doctor', 'head'] }))
    const r = meResponseSchema.parse((await me(s.accessToken)).body)
    expect(r.user).toMatchObject({ position: 'Заведующий отделением', roles: ['doctor', 'head'] })
  })
})
