// The portal's storage without HTTP: migrations, the worker register, the trust store and CRLs,
// single-use challenges under concurrency.
import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCa, createCrl, issueCertificate, generateKeyPair, randomSerial } from '../../scripts/demo/pki'
import { snilsWithChecksum } from '../../src/shared/validators/snils'
import { consumeChallenge, issueChallenge } from '../src/auth/challenge'
import type { Db } from '../src/db'
import { openTestDb } from './support'
import { loadMigrations, migrate } from '../src/migrate'
import { endEmployment, findWorker, listWorkers, upsertWorker } from '../src/register'
import { checkRevocation, importCrl, listTrustedCas, trustCa, verifyChain, ChainError, sha256Hex } from '../src/trust'

const DAY = 24 * 3600e3
let db: Db

beforeAll(async () => {
  db = await openTestDb()
  await migrate(db)
})
afterAll(async () => {
  await db.close()
})

describe('migrations', () => {
  it('are numbered, applied once and recorded', async () => {
    const files = loadMigrations()
    expect(files.length).toBeGreaterThan(0)
    expect(files.map((m) => m.version)).toEqual([...files.map((m) => m.version)].sort((a, b) => a - b))
    expect(await migrate(db)).toEqual([])
    const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
    expect(rows.map((r) => r.version)).toEqual(files.map((m) => m.version))
  })

  it('apply from scratch on a fresh database', async () => {
    const fresh = await openTestDb()
    try {
      expect(await migrate(fresh)).toEqual(loadMigrations().map((m) => m.version))
      const tables = await fresh.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      )
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining(['workers', 'trusted_cas', 'crls', 'revoked_certificates', 'challenges', 'sessions', 'login_attempts']),
      )
    } finally {
      await fresh.close()
    }
  })
})

describe('worker register', () => {
  const snils = snilsWithChecksum('112233445')

  it('adds, updates (idempotent upsert) and ends employment', async () => {
    await upsertWorker(db, { snils: '112-233-445 95', fullName: 'Петров Пётр', position: 'Врач', organisation: 'Поликлиника', roles: ['doctor'] })
    let w = await findWorker(db, snils)
    expect(w).toMatchObject({ snils, fullName: 'Петров Пётр', roles: ['doctor'], employment: 'active', endedAt: null })
    await upsertWorker(db, { snils, fullName: 'Петров Пётр Петрович', position: 'Заведующий', organisation: 'Поликлиника', roles: ['doctor', 'head'] })
    w = await findWorker(db, snils)
    expect(w).toMatchObject({ fullName: 'Петров Пётр Петрович', position: 'Заведующий', roles: ['doctor', 'head'] })
    expect((await listWorkers(db)).filter((x) => x.snils === snils)).toHaveLength(1)
    const ended = await endEmployment(db, snils, new Date('2025-03-01T10:00:00Z'))
    expect(ended).toMatchObject({ employment: 'ended', endedAt: new Date('2025-03-01T10:00:00Z') })
    expect(await endEmployment(db, snilsWithChecksum('987654321'))).toBeNull()
  })

  it('refuses a СНИЛС with a wrong checksum and unknown roles', async () => {
    await expect(upsertWorker(db, { snils: '112-233-445 96', fullName: 'Х', position: 'Врач', organisation: 'П' })).rejects.toThrow(/СНИЛС/)
    await expect(
      upsertWorker(db, { snils, fullName: 'Х', position: 'Врач', organisation: 'П', roles: ['superuser' as 'doctor'] }),
    ).rejects.toThrow()
  })
})

describe('trust store and CRL', () => {
  it('trusts CA certificates only, idempotently', async () => {
    const ca = await createCa({ commonName: 'УЦ хранилища' })
    const first = await trustCa(db, ca.certPem)
    const again = await trustCa(db, ca.der)
    expect(first.added).toBe(true)
    expect(again.added).toBe(false)
    expect(first.fingerprint).toBe(sha256Hex(ca.der))
    expect((await listTrustedCas(db)).map((c) => c.fingerprint)).toContain(first.fingerprint)
    const keys = await generateKeyPair('EC')
    const leaf = await issueCertificate(ca, {
      subject: { surname: 'Лист', givenName: 'Тест' },
      publicKey: keys.publicKey,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
    })
    await expect(trustCa(db, leaf.pem)).rejects.toThrow(/Not a CA/)
    await expect(trustCa(db, 'hello')).rejects.toThrow(/PEM/)
  })

  it('imports a CRL signed by a trusted CA, keeps the newest, refuses foreign and tampered ones', async () => {
    const ca = await createCa({ commonName: 'УЦ с СОС' })
    const other = await createCa({ commonName: 'Чужой УЦ' })
    const { fingerprint } = await trustCa(db, ca.certPem)
    const revokedSerial = '00' + randomSerial()
    const older = await createCrl(ca, { revoked: [], thisUpdate: new Date(Date.now() - 2 * DAY) })
    const newer = await createCrl(ca, { revoked: [{ serialNumber: revokedSerial }], thisUpdate: new Date(Date.now() - DAY) })

    await expect(importCrl(db, (await createCrl(other, { revoked: [] })).der)).rejects.toThrow(/not signed by a trusted CA/)
    const tampered = new Uint8Array(newer.der)
    tampered[tampered.length - 5]! ^= 0xff
    await expect(importCrl(db, tampered)).rejects.toThrow(/not signed by a trusted CA/)
    await expect(importCrl(db, new Uint8Array([1, 2, 3]))).rejects.toThrow(/CRL/)

    const imported = await importCrl(db, newer.pem)
    expect(imported).toMatchObject({ issuerFingerprint: fingerprint, revokedCount: 1, replaced: true })
    expect((await importCrl(db, older.der)).replaced).toBe(false)
    expect((await importCrl(db, newer.der)).replaced).toBe(false)

    const now = new Date()
    expect(await checkRevocation(db, fingerprint, revokedSerial.toUpperCase(), now)).toMatchObject({ status: 'revoked' })
    expect(await checkRevocation(db, fingerprint, randomSerial(), now)).toEqual({ status: 'good', crlStale: false })
    expect(await checkRevocation(db, fingerprint, randomSerial(), new Date(Date.now() + 60 * DAY))).toEqual({ status: 'good', crlStale: true })
    expect(await checkRevocation(db, sha256Hex(other.der), randomSerial(), now)).toEqual({ status: 'unknown' })
  })

  it('builds chains to trusted anchors only, with CA certificates valid at the time', async () => {
    const ca = await createCa({ commonName: 'УЦ цепочки' })
    const stranger = await createCa({ commonName: 'УЦ без доверия' })
    await trustCa(db, ca.certPem)
    const keys = await generateKeyPair('EC')
    const leaf = await issueCertificate(ca, {
      subject: { surname: 'Цепь', givenName: 'Тест' },
      publicKey: keys.publicKey,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
    })
    const foreign = await issueCertificate(stranger, {
      subject: { surname: 'Чужой', givenName: 'Тест' },
      publicKey: keys.publicKey,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
    })
    const chain = await verifyChain(db, leaf.der, [leaf.der], new Date())
    expect(chain.anchorFingerprint).toBe(sha256Hex(ca.der))
    expect(chain.path).toHaveLength(2)
    await expect(verifyChain(db, foreign.der, [stranger.der], new Date())).rejects.toBeInstanceOf(ChainError)
    // The CA itself expired by then (createCa makes it valid for 10 years).
    await expect(verifyChain(db, leaf.der, [], new Date(Date.now() + 11 * 365 * DAY))).rejects.toThrow(/validity/)
  })
})

describe('challenges', () => {
  it('are consumed exactly once, even by concurrent callers', async () => {
    const now = new Date()
    const c = await issueChallenge(db, { now, ttlSeconds: 120, portalName: 'Тест' })
    const results = await Promise.all(Array.from({ length: 10 }, () => consumeChallenge(db, c.challengeId, now)))
    expect(results.filter((r) => r !== null)).toEqual([c.challenge])
  })

  it('expire after their time to live', async () => {
    const now = new Date()
    const c = await issueChallenge(db, { now, ttlSeconds: 120, portalName: 'Тест' })
    expect(await consumeChallenge(db, c.challengeId, new Date(now.getTime() + 120_000))).toBeNull()
    expect(await consumeChallenge(db, 'no-such-id', now)).toBeNull()
  })
})
