// Every EDS login outcome through the real parts: SoftHSM demo tokens behind the token service's
// worker, CAdES-BES made on the token, the reference portal over TLS on an embedded database.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startPortal, type StartedPortal } from '../../portal/src/server'
import { readDemoManifest, type DemoCertKind, type DemoManifest } from '../../scripts/demo/manifest'
import { AppError } from '../../src/shared/errors'
import { loginWithCertificate, type EdsLoginDeps } from '../../src/main/core/auth/eds-login'
import { signDetachedCades, signDetachedCadesBatch } from '../../src/main/core/crypto/cms'
import { PortalClient } from '../../src/main/core/portal/portal-client'
import { createTokenService, type TokenService } from '../../src/main/core/token/token-service'

let manifest: DemoManifest
let portal: StartedPortal
let tokens: TokenService
let client: PortalClient

beforeAll(async () => {
  manifest = readDemoManifest(inject('demoDir'))
  portal = await startPortal({ demo: manifest, port: 0 })
  tokens = createTokenService({
    libraries: [{ name: 'SoftHSM2', path: manifest.library, source: 'configured' }],
    env: { SOFTHSM2_CONF: manifest.softhsmConf },
  })
  await tokens.refresh()
  client = new PortalClient({ baseUrl: portal.url, caFile: manifest.caCertPem })
})

afterAll(async () => {
  client?.close()
  await tokens?.close()
  await portal?.close()
})

function demoCert(kind: DemoCertKind): { id: Promise<string>; pin: string } {
  for (const token of manifest.tokens) {
    const cert = token.certificates.find((c) => c.kind === kind)
    if (cert) {
      const id = tokens.state().then((s) => {
        const found = s.certificates.find((c) => c.tokenLabel === token.label && c.ckaId === cert.ckaId)
        if (!found) throw new Error(`demo certificate ${kind} not listed`)
        return found.id
      })
      return { id, pin: token.userPin }
    }
  }
  throw new Error(`no demo certificate of kind ${kind}`)
}

function deps(extra: Partial<EdsLoginDeps> = {}): EdsLoginDeps {
  return { tokens, portal: client, ...extra }
}

async function failureOf(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => new Error('login succeeded but should have failed'),
    (err: unknown) => err,
  )
  if (!(e instanceof AppError)) throw e
  return e
}

describe('EDS login, end to end through token, CMS and portal', () => {
  it('logs the doctor in (RSA-2048) with the user from the register and the stages in order', async () => {
    const { id, pin } = demoCert('doctor')
    const stages: string[] = []
    const result = await loginWithCertificate(deps({ onStage: (s) => stages.push(s) }), await id, pin)
    const doctor = manifest.workers.find((w) => w.roles.includes('doctor') && w.employment === 'active')
    expect(result.session.user.snils).toBe(doctor?.snils)
    expect(result.session.user.fullName).toBe(doctor?.fullName)
    expect(result.session.user.roles).toContain('doctor')
    expect(result.session.accessToken.length).toBeGreaterThan(20)
    expect(stages).toEqual(['challenge', 'pin', 'signing', 'verifying', 'done'])
    expect(result.timings.total).toBeGreaterThan(0)
    const me = await client.me(result.session.accessToken)
    expect(me.user.snils).toBe(doctor?.snils)
  })

  it('logs the nurse in (ECDSA P-256)', async () => {
    const { id, pin } = demoCert('nurse')
    const result = await loginWithCertificate(deps(), await id, pin)
    expect(result.session.user.roles).toContain('nurse')
  })

  const refused: [DemoCertKind, string][] = [
    ['expired', 'CERT_EXPIRED'],
    ['notYetValid', 'CERT_NOT_YET_VALID'],
    ['revoked', 'CERT_REVOKED'],
    ['noSnils', 'CERT_NO_SNILS'],
    ['unregistered', 'WORKER_NOT_REGISTERED'],
    ['employmentEnded', 'WORKER_EMPLOYMENT_ENDED'],
    ['untrusted', 'CERT_UNTRUSTED'],
    ['noPrivateKey', 'PRIVATE_KEY_NOT_FOUND'],
  ]
  it.each(refused)('refuses the %s certificate with %s', async (kind, code) => {
    const { id, pin } = demoCert(kind)
    const err = await failureOf(loginWithCertificate(deps(), await id, pin))
    expect(err.code).toBe(code)
    if (code === 'CERT_EXPIRED') expect(String(err.params.notAfter)).toMatch(/^\d\d\.\d\d\.\d{4}$/)
  })

  it('reports a wrong PIN with the token flags, then accepts the right one', async () => {
    const { id, pin } = demoCert('nurse')
    const err = await failureOf(loginWithCertificate(deps(), await id, '0000'))
    expect(err.code).toBe('PIN_INCORRECT')
    expect(err.details ?? '').not.toContain('0000')
    // SoftHSM raises CKF_USER_PIN_COUNT_LOW after one wrong PIN; the error carries it at once
    // and the token picture shown in the UI follows within a poll.
    expect(err.params.countLow).toBe(true)
    await expect.poll(async () => (await tokens.state()).tokens.find((t) => t.label === 'demo-nurse')?.pin.countLow, { timeout: 2000 }).toBe(true)
    await expect(loginWithCertificate(deps(), await id, pin)).resolves.toBeTruthy()
  })

  it('refuses when the local clock is far from the portal clock', async () => {
    const { id, pin } = demoCert('doctor')
    const err = await failureOf(loginWithCertificate(deps({ now: () => new Date(Date.now() + 40 * 60_000) }), await id, pin))
    expect(err.code).toBe('CLOCK_SKEW')
    expect(err.params.skew).toBe('40 мин')
  })

  it('says the portal is unreachable when nothing listens', async () => {
    const s = createServer()
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    const port = (s.address() as { port: number }).port
    await new Promise<void>((r) => s.close(() => r()))
    const offline = new PortalClient({ baseUrl: `https://127.0.0.1:${port}`, caFile: manifest.caCertPem })
    const { id, pin } = demoCert('doctor')
    expect((await failureOf(loginWithCertificate(deps({ portal: offline }), await id, pin))).code).toBe('PORTAL_UNREACHABLE')
    offline.close()
  })

  it('refuses a portal whose TLS certificate is not trusted', async () => {
    const untrusting = new PortalClient({ baseUrl: portal.url })
    const { id, pin } = demoCert('doctor')
    expect((await failureOf(loginWithCertificate(deps({ portal: untrusting }), await id, pin))).code).toBe('PORTAL_TLS_UNTRUSTED')
    untrusting.close()
  })

  it('says the certificate is not found for an unknown id', async () => {
    expect((await failureOf(loginWithCertificate(deps(), 'nope/01', '12345678'))).code).toBe('CERTIFICATE_NOT_FOUND')
  })

  it('says no token is present and names a missing driver', async () => {
    const none = createTokenService({ libraries: [{ name: 'Рутокен ЭЦП', path: '/usr/lib/librtpkcs11ecp.so', source: 'configured' }] })
    try {
      const state = await none.refresh()
      expect(state.libraries[0]?.state).toBe('missing')
      expect(state.libraries[0]?.error?.code).toBe('TOKEN_LIBRARY_NOT_FOUND')
      expect((await failureOf(loginWithCertificate(deps({ tokens: none }), 'x/01', '1234'))).code).toBe('TOKEN_NOT_PRESENT')
    } finally {
      await none.close()
    }
  })
})

describe('signatures made on the token verify independently with OpenSSL', () => {
  it.each(['doctor', 'nurse'] as const)('%s: openssl cms -verify against the demo CA', async (kind) => {
    const { id, pin } = demoCert(kind)
    const certId = await id
    await tokens.login(certId, pin)
    const content = new TextEncoder().encode(`Протокол консультации ${kind} ${new Date().toISOString()}`)
    const p7s = await signDetachedCades(content, await tokens.certificate(certId), (attrs) => tokens.sign(certId, attrs))
    const dir = mkdtempSync(join(tmpdir(), 'lkmr-ossl-'))
    writeFileSync(join(dir, 'data.txt'), content)
    writeFileSync(join(dir, 'sig.p7s'), p7s)
    const out = execFileSync('openssl', [
      'cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'sig.p7s'), '-content', join(dir, 'data.txt'),
      '-CAfile', manifest.caCertPem, '-purpose', 'any', '-out', '/dev/null',
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    expect(out).toBeDefined()
    const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(dir, 'sig.p7s')]).toString()
    for (const attr of ['contentType', 'messageDigest', 'signingTime', 'id-smime-aa-signingCertificateV2']) expect(printed).toContain(attr)
  })

  it.each(['doctor', 'nurse'] as const)('%s: a batch of 40 documents on one login, each verified by OpenSSL', async (kind) => {
    const { id, pin } = demoCert(kind)
    const certId = await id
    await tokens.login(certId, pin)
    const docs = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`Рецепт № ${i} (${kind})`))
    const p7s = await signDetachedCadesBatch(docs, await tokens.certificate(certId), (attrs) => tokens.signBatch(certId, attrs))
    await tokens.logout()
    expect(p7s).toHaveLength(40)
    const dir = mkdtempSync(join(tmpdir(), 'lkmr-batch-'))
    for (const i of [0, 17, 39]) {
      writeFileSync(join(dir, `doc${i}.txt`), docs[i]!)
      writeFileSync(join(dir, `doc${i}.p7s`), p7s[i]!)
      execFileSync('openssl', [
        'cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, `doc${i}.p7s`), '-content', join(dir, `doc${i}.txt`),
        '-CAfile', manifest.caCertPem, '-purpose', 'any', '-out', '/dev/null',
      ], { stdio: 'pipe' })
    }
  })
})
