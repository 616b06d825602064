// EDS login against the real portal over HTTPS: every outcome of the verification, in order.
import 'reflect-metadata'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCa, createCrl, issueCertificate } from '../../scripts/demo/pki'
import { KeyUsageFlags } from '@peculiar/x509'
import {
  MAX_CLOCK_SKEW_SECONDS,
  portalErrorBodySchema,
  sessionResponseSchema,
  type PortalErrorBody,
} from '../../src/shared/portal-api'
import { listLoginAttempts } from '../src/audit'
import { importCrl, trustCa } from '../src/trust'
import {
  DAY,
  addWorker,
  createIntermediateCa,
  createTestPki,
  getChallenge,
  issueUser,
  login,
  nextSnils,
  sign,
  startTestPortal,
  worker,
  type TestPortal,
  type TestUser,
} from './support'

let portal: TestPortal
let doctor: TestUser
let doctorSnils: string

function expectError(r: { status: number; body: unknown }, status: number, code: PortalErrorBody['error']['code']): PortalErrorBody {
  const body = portalErrorBodySchema.parse(r.body)
  expect({ status: r.status, code: body.error.code }).toEqual({ status, code })
  return body
}

/** Formats like the portal does for Europe/Moscow: ДД.ММ.ГГГГ. */
const ruDate = (d: Date) => new Intl.DateTimeFormat('ru-RU', { timeZone: 'Europe/Moscow', day: '2-digit', month: '2-digit', year: 'numeric' }).format(d)

beforeAll(async () => {
  // Many logins and refreshes from one address in a few seconds: limits are rate-limit.test.ts's subject.
  portal = await startTestPortal(await createTestPki(), { rateLimit: false })
  doctorSnils = nextSnils()
  await addWorker(portal.db, worker(doctorSnils, { fullName: 'Иванова Мария Петровна', roles: ['doctor', 'head'] }))
  doctor = await issueUser(portal.pki.ca, { snils: doctorSnils, kind: 'RSA' })
})
afterAll(async () => {
  await portal?.close()
})
beforeEach(() => {
  portal.clock.reset()
})

describe('challenge', () => {
  it('is a text with a random nonce, its id, the portal name and the issue time, expiring in 120 s', async () => {
    const a = await getChallenge(portal.api)
    const b = await getChallenge(portal.api)
    expect(a.challengeId).not.toBe(b.challengeId)
    expect(a.challenge).toContain(a.challengeId)
    expect(a.challenge).toContain('Справочный портал ЛКМР')
    expect(a.challenge).toContain(a.serverTime)
    const nonceA = /Случайное значение: ([A-Za-z0-9_-]{43})$/m.exec(a.challenge)?.[1]
    const nonceB = /Случайное значение: ([A-Za-z0-9_-]{43})$/m.exec(b.challenge)?.[1]
    expect(nonceA).toBeDefined()
    expect(Buffer.from(nonceA!, 'base64url')).toHaveLength(32)
    expect(nonceA).not.toBe(nonceB)
    expect(Date.parse(a.expiresAt) - Date.parse(a.serverTime)).toBe(120_000)
  })
})

describe('EDS login', () => {
  it('logs a registered, active worker in with an RSA certificate', async () => {
    const r = await login(portal.api, doctor)
    expect(r.status).toBe(200)
    const session = sessionResponseSchema.parse(r.body)
    expect(session.user).toEqual({
      snils: doctorSnils,
      fullName: 'Иванова Мария Петровна',
      position: 'Врач-терапевт участковый',
      organisation: 'ГБУЗ «Городская поликлиника № 1»',
      roles: ['doctor', 'head'],
    })
    expect(session.accessToken).not.toBe(session.refreshToken)
    expect(Date.parse(session.expiresAt) - Date.now()).toBeGreaterThan(14 * 60e3)
    expect(Date.parse(session.expiresAt) - Date.now()).toBeLessThanOrEqual(15 * 60e3)
    expect(Date.parse(session.refreshExpiresAt) - Date.now()).toBeGreaterThan(7.9 * 3600e3)
    // Tokens are kept hashed only.
    const stored = await portal.db.query<{ access_token_hash: string }>('SELECT access_token_hash FROM sessions')
    expect(stored.map((s) => s.access_token_hash)).not.toContain(session.accessToken)
    const attempt = (await listLoginAttempts(portal.db, 1))[0]
    expect(attempt).toMatchObject({ method: 'eds', result: 'OK', snils: doctorSnils, address: '127.0.0.1' })
  })

  it('logs a worker in with an ECDSA P-256 certificate', async () => {
    const snils = nextSnils()
    await addWorker(portal.db, worker(snils, { fullName: 'Смирнова Ольга Ивановна', position: 'Медицинская сестра', roles: ['nurse'] }))
    const nurse = await issueUser(portal.pki.ca, { snils, kind: 'EC' })
    const r = await login(portal.api, nurse)
    expect(r.status).toBe(200)
    expect(sessionResponseSchema.parse(r.body).user).toMatchObject({ snils, roles: ['nurse'] })
  })

  it('accepts a chain through an intermediate CA carried in the signature', async () => {
    const intermediate = await createIntermediateCa(portal.pki.ca)
    const user = await issueUser(intermediate, { snils: doctorSnils })
    const withChain = await login(portal.api, user, { extraCertificates: [intermediate.der] })
    expect(withChain.status).toBe(200)
    const withoutChain = await login(portal.api, user)
    expectError(withoutChain, 401, 'CERT_UNTRUSTED')
  })

  it('refuses a replayed challenge', async () => {
    const c = await getChallenge(portal.api)
    const signature = await sign(c.challenge, doctor)
    const first = await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature } })
    expect(first.status).toBe(200)
    const replay = await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature } })
    expectError(replay, 401, 'CHALLENGE_EXPIRED')
  })

  it('refuses an expired challenge', async () => {
    const c = await getChallenge(portal.api)
    const signature = await sign(c.challenge, doctor)
    portal.clock.advance(121_000)
    expectError(await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature } }), 401, 'CHALLENGE_EXPIRED')
  })

  it('refuses an unknown challenge', async () => {
    const c = await getChallenge(portal.api)
    const signature = await sign(c.challenge, doctor)
    expectError(await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: 'no-such-challenge', signature } }), 401, 'CHALLENGE_EXPIRED')
  })

  it('lets exactly one of two concurrent logins with the same challenge through', async () => {
    const c = await getChallenge(portal.api)
    const signature = await sign(c.challenge, doctor)
    const results = await Promise.all(
      [0, 1].map(() => portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature } })),
    )
    const statuses = results.map((r) => r.status).sort()
    expect(statuses).toEqual([200, 401])
    expectError(results.find((r) => r.status === 401)!, 401, 'CHALLENGE_EXPIRED')
  })

  it('refuses a signature over other content', async () => {
    const c = await getChallenge(portal.api)
    const other = await getChallenge(portal.api)
    const signature = await sign(other.challenge, doctor)
    expectError(await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature } }), 401, 'SIGNATURE_INVALID')
  })

  it('refuses base64 that is no CMS, and malformed base64 without using the challenge up', async () => {
    const c = await getChallenge(portal.api)
    const notBase64 = await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature: 'not base64!' } })
    expectError(notBase64, 400, 'INVALID_INPUT')
    const garbage = Buffer.from('definitely not a CMS structure').toString('base64')
    expectError(await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature: garbage } }), 401, 'SIGNATURE_INVALID')
  })

  it('refuses a truncated CMS', async () => {
    const c = await getChallenge(portal.api)
    const full = Buffer.from(await sign(c.challenge, doctor), 'base64')
    const truncated = full.subarray(0, full.length - 40).toString('base64')
    expectError(await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature: truncated } }), 401, 'SIGNATURE_INVALID')
  })

  it('refuses a certificate of an untrusted CA', async () => {
    const user = await issueUser(portal.pki.untrustedCa, { snils: doctorSnils })
    expectError(await login(portal.api, user), 401, 'CERT_UNTRUSTED')
  })

  it('refuses an expired certificate, naming its end date', async () => {
    const notAfter = new Date(Date.now() - 30 * DAY)
    const user = await issueUser(portal.pki.ca, { snils: doctorSnils, notBefore: new Date(Date.now() - 400 * DAY), notAfter })
    const body = expectError(await login(portal.api, user), 401, 'CERT_EXPIRED')
    expect(body.error.params).toEqual({ notAfter: ruDate(notAfter) })
    expect(body.error.params.notAfter).toMatch(/^\d{2}\.\d{2}\.\d{4}$/)
  })

  it('refuses a certificate not yet valid, naming its start date', async () => {
    const notBefore = new Date(Date.now() + 30 * DAY)
    const user = await issueUser(portal.pki.ca, { snils: doctorSnils, notBefore, notAfter: new Date(Date.now() + 400 * DAY) })
    const body = expectError(await login(portal.api, user), 401, 'CERT_NOT_YET_VALID')
    expect(body.error.params).toEqual({ notBefore: ruDate(notBefore) })
  })

  it('refuses a certificate the CRL lists', async () => {
    const user = await issueUser(portal.pki.ca, { snils: doctorSnils })
    expect((await login(portal.api, user)).status).toBe(200)
    const crl = await createCrl(portal.pki.ca, { revoked: [{ serialNumber: user.serialNumber }], thisUpdate: new Date(Date.now() - 60e3) })
    await importCrl(portal.db, crl.der)
    expectError(await login(portal.api, user), 401, 'CERT_REVOKED')
    expect((await login(portal.api, doctor)).status).toBe(200)
  })

  it('refuses a certificate whose key usage allows no signature', async () => {
    const user = await issueUser(portal.pki.ca, { snils: doctorSnils, keyUsage: KeyUsageFlags.keyEncipherment })
    expectError(await login(portal.api, user), 401, 'CERT_KEY_USAGE')
  })

  it('accepts a certificate with nonRepudiation only', async () => {
    const user = await issueUser(portal.pki.ca, { snils: doctorSnils, keyUsage: KeyUsageFlags.nonRepudiation })
    expect((await login(portal.api, user)).status).toBe(200)
  })

  it('refuses a signing time too far from the server time, saying by how much', async () => {
    portal.clock.advance(10 * 60e3)
    const ahead = expectError(await login(portal.api, doctor), 401, 'CLOCK_SKEW')
    expect(ahead.error.params.skewSeconds).toBeGreaterThanOrEqual(-601)
    expect(ahead.error.params.skewSeconds).toBeLessThanOrEqual(-599)
    expect(ahead.error.params.skew).toBe('10 мин')
    portal.clock.reset()
    portal.clock.advance(-(MAX_CLOCK_SKEW_SECONDS + 30) * 1000)
    const behind = expectError(await login(portal.api, doctor), 401, 'CLOCK_SKEW')
    expect(behind.error.params.skewSeconds).toBeGreaterThan(MAX_CLOCK_SKEW_SECONDS)
    portal.clock.reset()
    portal.clock.advance((MAX_CLOCK_SKEW_SECONDS - 30) * 1000)
    expect((await login(portal.api, doctor)).status).toBe(200)
  })

  it('refuses a certificate without СНИЛС', async () => {
    const user = await issueUser(portal.pki.ca, { snils: null })
    expectError(await login(portal.api, user), 401, 'CERT_NO_SNILS')
  })

  it('refuses a СНИЛС not in the register', async () => {
    const user = await issueUser(portal.pki.ca, { snils: nextSnils() })
    expectError(await login(portal.api, user), 403, 'WORKER_NOT_REGISTERED')
  })

  it('refuses a worker whose employment ended', async () => {
    const snils = nextSnils()
    await addWorker(portal.db, worker(snils, { employment: 'ended' }))
    const user = await issueUser(portal.pki.ca, { snils })
    expectError(await login(portal.api, user), 403, 'WORKER_EMPLOYMENT_ENDED')
  })

  it('checks in the documented order: an expired, revoked, unregistered certificate is reported as expired', async () => {
    const user = await issueUser(portal.pki.ca, {
      snils: nextSnils(),
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - DAY),
    })
    await importCrl(portal.db, (await createCrl(portal.pki.ca, { revoked: [{ serialNumber: user.serialNumber }], thisUpdate: new Date(Date.now() - 30e3) })).der)
    expectError(await login(portal.api, user), 401, 'CERT_EXPIRED')
  })

  it('records every attempt with its result', async () => {
    const before = (await portal.db.query<{ n: number }>('SELECT count(*)::int AS n FROM login_attempts'))[0]!.n
    await login(portal.api, doctor)
    await login(portal.api, await issueUser(portal.pki.untrustedCa, { snils: doctorSnils }))
    await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: 'gone', signature: 'AAAA' } })
    await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: 'gone', signature: 'not base64!' } })
    const attempts = await listLoginAttempts(portal.db, 4)
    expect(attempts.map((a) => a.result)).toEqual(['INVALID_INPUT', 'CHALLENGE_EXPIRED', 'CERT_UNTRUSTED', 'OK'])
    expect(attempts[2]!.certificateFingerprint).toMatch(/^[0-9a-f]{64}$/)
    const after = (await portal.db.query<{ n: number }>('SELECT count(*)::int AS n FROM login_attempts'))[0]!.n
    expect(after - before).toBe(4)
  })
})

describe('revocation data that is old or missing', () => {
  it('lets a login through with a CRL past its nextUpdate, still refusing the serials it lists, and notes it', async () => {
    const ca = await createCa({ commonName: 'УЦ с устаревшим СОС' })
    const local = await startTestPortal({ ...portal.pki, ca })
    try {
      const snils = nextSnils()
      await addWorker(local.db, worker(snils))
      const good = await issueUser(ca, { snils })
      const revoked = await issueUser(ca, { snils })
      const stale = await createCrl(ca, {
        revoked: [{ serialNumber: revoked.serialNumber }],
        thisUpdate: new Date(Date.now() - 40 * DAY),
        nextUpdate: new Date(Date.now() - 10 * DAY),
      })
      // startTestPortal imported a fresh empty CRL; a stale one is older, so it goes in on a clean slate.
      await local.db.query('DELETE FROM crls')
      await importCrl(local.db, stale.der)
      expect((await login(local.api, good)).status).toBe(200)
      expect((await listLoginAttempts(local.db, 1))[0]).toMatchObject({ result: 'OK', detail: expect.stringContaining('crl-stale') })
      expectError(await login(local.api, revoked), 401, 'CERT_REVOKED')

      await local.db.query('DELETE FROM crls')
      expect((await login(local.api, revoked)).status).toBe(200)
      expect((await listLoginAttempts(local.db, 1))[0]).toMatchObject({ result: 'OK', detail: expect.stringContaining('crl-missing') })
    } finally {
      await local.close()
    }
  })
})

describe('revocation by the right CRL', () => {
  it('looks the serial up in the CRL of the signer\'s issuer only', async () => {
    const user = await issueUser(portal.pki.ca, { snils: doctorSnils })
    // Another trusted CA revokes a certificate of its own with the same serial: ours stays good.
    const other = await createCa({ commonName: 'Другой доверенный УЦ' })
    const { fingerprint } = await trustCa(portal.db, other.certPem)
    try {
      const twin = await issueCertificate(other, {
        subject: { surname: 'Двойник', givenName: 'Тест' },
        publicKey: user.keys.publicKey,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + DAY),
        serialNumber: user.serialNumber,
      })
      expect(twin.serialNumber).toBe(user.serialNumber)
      await importCrl(portal.db, (await createCrl(other, { revoked: [{ serialNumber: twin.serialNumber }] })).der)
      expect((await login(portal.api, user)).status).toBe(200)
    } finally {
      await portal.db.query('DELETE FROM trusted_cas WHERE fingerprint = $1', [fingerprint])
    }
  })
})
