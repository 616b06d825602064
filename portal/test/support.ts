// Test support for the portal: a software PKI (scripts/demo/pki.ts), CAdES signatures made with
// webcrypto keys through the workstation's own CMS code, a portal over real HTTPS on an
// in-memory PGlite, and a small HTTPS client that trusts the test CA.
// @peculiar/x509 needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata'
import { mkdirSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import {
  createCa,
  createCrl,
  exportKeyPem,
  generateKeyPair,
  issueCertificate,
  issueTlsServerCertificate,
  randomSerial,
  signingAlgorithmFor,
  toPem,
  type CryptoKeyPair,
  type DemoCa,
  type KeyKind,
  type QualifiedSubject,
} from '../../scripts/demo/pki'
import { MANIFEST_FILE, demoManifestSchema, type DemoManifest } from '../../scripts/demo/manifest'
import { signDetachedCades, type RawSigner } from '../../src/main/core/crypto/cms'
import { snilsWithChecksum } from '../../src/shared/validators/snils'
import type { ChallengeResponse, SessionResponse } from '../../src/shared/portal-api'
import { openPglite, openPostgres, type Db } from '../src/db'
import { upsertWorker, type WorkerInput } from '../src/register'
import { listenPortal, type PortalServerOptions, type RunningPortal } from '../src/server'
import { importCrl, trustCa } from '../src/trust'

export const DAY = 24 * 3600e3

/**
 * A fresh, empty database: in-memory PGlite, or — when PORTAL_TEST_DATABASE_URL points at a
 * PostgreSQL server — a new database there, dropped on close. The same tests cover both engines.
 */
export async function openTestDb(): Promise<Db> {
  const serverUrl = process.env.PORTAL_TEST_DATABASE_URL
  if (!serverUrl) return openPglite(null)
  const admin = await openPostgres(serverUrl)
  const name = `portal_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  await admin.exec(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const db = await openPostgres(url.toString())
  return {
    ...db,
    async close() {
      await db.close()
      await admin.exec(`DROP DATABASE IF EXISTS ${name}`)
      await admin.close()
    },
  }
}

export interface TestUser {
  der: Uint8Array
  keys: CryptoKeyPair
  kind: KeyKind
  serialNumber: string
}

let snilsCounter = 100_000_000 + Math.floor(Math.random() * 100_000_000)
/** A fresh valid СНИЛС (11 digits) per call. */
export function nextSnils(): string {
  snilsCounter += 7
  return snilsWithChecksum(String(snilsCounter).padStart(9, '0'))
}

export function subjectFor(snils: string | null, surname = 'Иванова'): QualifiedSubject {
  return {
    surname,
    givenName: 'Мария Петровна',
    title: 'Врач-терапевт',
    organization: 'ГБУЗ «Городская поликлиника № 1»',
    snils,
    ogrn: '1027700132195',
  }
}

export interface IssueUserOptions {
  snils: string | null
  kind?: KeyKind
  notBefore?: Date
  notAfter?: Date
  keyUsage?: number
  serialNumber?: string
}

export async function issueUser(ca: DemoCa, o: IssueUserOptions): Promise<TestUser> {
  const kind = o.kind ?? 'EC'
  const keys = await generateKeyPair(kind)
  const serialNumber = o.serialNumber ?? randomSerial()
  const issued = await issueCertificate(ca, {
    subject: subjectFor(o.snils),
    publicKey: keys.publicKey,
    notBefore: o.notBefore ?? new Date(Date.now() - DAY),
    notAfter: o.notAfter ?? new Date(Date.now() + 365 * DAY),
    keyUsage: o.keyUsage,
    serialNumber,
  })
  return { der: issued.der, keys, kind, serialNumber: issued.serialNumber }
}

/** An intermediate CA signed by `root` (pki.ts only makes self-signed CAs). */
export async function createIntermediateCa(root: DemoCa): Promise<DemoCa> {
  const keys = await generateKeyPair('EC')
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'C=RU, O=Демо, CN=Промежуточный УЦ',
    issuer: root.certificate.subjectName,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: root.keys.privateKey,
    signingAlgorithm: signingAlgorithmFor(root.keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.keys.publicKey),
    ],
  })
  return {
    certificate,
    keys,
    der: new Uint8Array(certificate.rawData),
    certPem: toPem(certificate.rawData, 'CERTIFICATE'),
    keyPem: await exportKeyPem(keys.privateKey),
  }
}

export function softwareSigner(user: Pick<TestUser, 'keys' | 'kind'>): RawSigner {
  return async (signedAttrsDer) => {
    const algorithm = user.kind === 'RSA' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' }
    const signature = new Uint8Array(await webcrypto.subtle.sign(algorithm, user.keys.privateKey, signedAttrsDer))
    return { keyAlgorithm: user.kind, signature }
  }
}

export async function sign(text: string, user: TestUser, options?: Parameters<typeof signDetachedCades>[3]): Promise<string> {
  const p7s = await signDetachedCades(new TextEncoder().encode(text), user.der, softwareSigner(user), options)
  return Buffer.from(p7s).toString('base64')
}

/** The world most tests log in to: a trusted CA with its CRL, an untrusted CA, TLS for the portal. */
export interface TestPki {
  ca: DemoCa
  untrustedCa: DemoCa
  tls: { cert: string; key: string }
  /** PEM of the CA that issued the portal's TLS certificate (what clients trust). */
  tlsCaPem: string
}

export async function createTestPki(): Promise<TestPki> {
  const ca = await createCa({ commonName: 'Тестовый УЦ ЛКМР' })
  const untrustedCa = await createCa({ commonName: 'Посторонний УЦ' })
  const tls = await issueTlsServerCertificate(ca, { hosts: ['127.0.0.1', 'localhost'] })
  return { ca, untrustedCa, tls: { cert: tls.pem, key: tls.keyPem }, tlsCaPem: ca.certPem }
}

export function worker(snils: string, extra: Partial<WorkerInput> = {}): WorkerInput {
  return {
    snils,
    fullName: 'Иванова Мария Петровна',
    position: 'Врач-терапевт участковый',
    organisation: 'ГБУЗ «Городская поликлиника № 1»',
    organisationOgrn: '1027700132195',
    roles: ['doctor'],
    ...extra,
  }
}

export interface TestPortal extends RunningPortal {
  db: Db
  pki: TestPki
  /** The portal's clock; tests move it with `clock.set(…)` / `clock.advance(ms)`. */
  clock: { now(): Date; set(d: Date): void; advance(ms: number): void; reset(): void }
  api: Api
}

export async function startTestPortal(pki: TestPki, options: Partial<PortalServerOptions> = {}): Promise<TestPortal> {
  const db = options.db ?? (await openTestDb())
  let offset = 0
  let fixed: Date | null = null
  const clock = {
    now: () => fixed ?? new Date(Date.now() + offset),
    set(d: Date) {
      fixed = d
    },
    advance(ms: number) {
      if (fixed) fixed = new Date(fixed.getTime() + ms)
      else offset += ms
    },
    reset() {
      fixed = null
      offset = 0
    },
  }
  const running = await listenPortal({ tls: pki.tls, ...options, db, now: clock.now, host: '127.0.0.1', port: 0 })
  await trustCa(db, pki.ca.certPem)
  const crl = await createCrl(pki.ca, { revoked: [] })
  await importCrl(db, crl.der)
  return {
    ...running,
    db,
    pki,
    clock,
    api: apiClient(running.url, pki.tlsCaPem),
    async close() {
      await running.close()
      await db.close()
    },
  }
}

export async function addWorker(db: Db, input: WorkerInput): Promise<void> {
  await upsertWorker(db, input)
}

export interface ApiResponse<T = unknown> {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: T
  text: string
}

export type Api = <T = unknown>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  o?: { json?: unknown; raw?: string | Buffer; token?: string; headers?: Record<string, string> },
) => Promise<ApiResponse<T>>

/** HTTPS client that trusts only `caPem` (no global TLS relaxations). */
export function apiClient(baseUrl: string, caPem: string): Api {
  return (method, path, o = {}) =>
    new Promise((resolve, reject) => {
      const url = new URL(path, baseUrl)
      const payload = o.raw ?? (o.json !== undefined ? JSON.stringify(o.json) : undefined)
      const headers: Record<string, string> = { ...o.headers }
      if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json'
      if (o.token) headers.authorization = `Bearer ${o.token}`
      const req = httpsRequest(url, { method, ca: caPem, headers, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown = null
          try {
            body = text ? JSON.parse(text) : null
          } catch {
            body = null
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as never, text })
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      if (payload !== undefined) req.write(payload)
      req.end()
    })
}

export async function getChallenge(api: Api): Promise<ChallengeResponse> {
  const r = await api<ChallengeResponse>('POST', '/api/v1/auth/challenge')
  if (r.status !== 200) throw new Error(`challenge: ${r.status} ${r.text}`)
  return r.body
}

/** Full login: challenge, sign, eds. Returns the raw response. */
export async function login(api: Api, user: TestUser, signOptions?: Parameters<typeof signDetachedCades>[3]): Promise<ApiResponse<SessionResponse>> {
  const c = await getChallenge(api)
  return api<SessionResponse>('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature: await sign(c.challenge, user, signOptions) } })
}

/** Writes a demo folder like `npm run demo:tokens` does, minus the tokens (none are needed here). */
export async function writeSyntheticDemo(dir: string, pki: TestPki, workers: WorkerInput[]): Promise<DemoManifest> {
  mkdirSync(dir, { recursive: true })
  const file = (name: string, data: string | Uint8Array) => {
    const path = join(dir, name)
    writeFileSync(path, data)
    return path
  }
  const crl = await createCrl(pki.ca, { revoked: [] })
  const manifest: DemoManifest = {
    createdAt: new Date().toISOString(),
    dir,
    library: '/nonexistent/libsofthsm2.so',
    softhsmConf: join(dir, 'softhsm2.conf'),
    caCertPem: file('ca.pem', pki.ca.certPem),
    caKeyPem: file('ca.key', pki.ca.keyPem),
    crlDer: file('ca.crl', crl.der),
    untrustedCaCertPem: file('untrusted-ca.pem', pki.untrustedCa.certPem),
    portalTls: { certPem: file('portal.pem', pki.tls.cert), keyPem: file('portal.key', pki.tls.key), hosts: ['127.0.0.1', 'localhost'] },
    workers: workers.map((w) => ({
      snils: w.snils,
      fullName: w.fullName,
      position: w.position,
      organisation: w.organisation ?? 'ГБУЗ «Городская поликлиника № 1»',
      organisationOgrn: w.organisationOgrn ?? '1027700132195',
      roles: w.roles ?? ['doctor'],
      employment: w.employment ?? 'active',
    })),
    tokens: [],
  }
  file(MANIFEST_FILE, JSON.stringify(demoManifestSchema.parse(manifest), null, 2))
  return manifest
}

export const PORTAL_MAIN = join(import.meta.dirname, '../src/main.ts')
export const TSX = join(import.meta.dirname, '../../node_modules/.bin/tsx')

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the portal CLI as a real process (the embedded engine unless env sets DATABASE_URL). */
export function runPortalCli(args: string[], o: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(TSX, [PORTAL_MAIN, ...args], { env: { ...process.env, DATABASE_URL: '', ...o.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolveRun({ code, stdout, stderr }))
    child.stdin.end(o.stdin ?? '')
  })
}
