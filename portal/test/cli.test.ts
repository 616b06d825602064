// The portal CLI as IT staff and the end-to-end tests run it: admin commands on a data folder,
// and `serve` on port 0 with a demo folder, stopped by a signal. Each command is a real process
// (tsx + the embedded engine on disk), hence the longer timeouts.
import 'reflect-metadata'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCrl, randomSerial } from '../../scripts/demo/pki'
import { formatSnils } from '../../src/shared/validators/snils'
import { portalErrorBodySchema, sessionResponseSchema } from '../../src/shared/portal-api'
import { seedFromDemo } from '../src/demo-seed'
import { migrate } from '../src/migrate'
import { listWorkers } from '../src/register'
import { listTrustedCas, sha256Hex } from '../src/trust'
import { apiClient, createTestPki, issueUser, login, nextSnils, openTestDb, worker, writeSyntheticDemo, type TestPki } from './support'

const MAIN = resolve(import.meta.dirname, '../src/main.ts')
const TSX = resolve(import.meta.dirname, '../../node_modules/.bin/tsx')

let tmp: string
let pki: TestPki

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'portal-cli-'))
  pki = await createTestPki()
})
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true })
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, [MAIN, ...args], { env: { ...process.env, DATABASE_URL: '', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }))
  })
}

/** Starts `serve` and resolves with the URL it prints. */
function serve(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, [MAIN, 'serve', ...args], { env: { ...process.env, DATABASE_URL: '' } })
    let out = ''
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /Портал запущен: (https:\/\/127\.0\.0\.1:(\d+))/.exec(out)
      if (m) resolvePromise({ child, url: m[1]!, output: () => out, exited })
    })
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    void exited.then((code) => reject(new Error(`serve exited (${code}): ${out}`)))
  })
}

describe('admin commands', () => {
  it('manage the trust store, the CRL and the worker register in a data folder', async () => {
    const data = join(tmp, 'admin-data')
    const dataArgs = ['--data', data]
    const demo = await writeSyntheticDemo(join(tmp, 'admin-files'), pki, [])
    const snils = nextSnils()

    const trust = await run(['trust-ca', demo.caCertPem, ...dataArgs])
    expect(trust.stderr).toBe('')
    expect(trust).toMatchObject({ code: 0 })
    expect(trust.stdout).toContain(`Добавлен доверенный УЦ`)
    expect(trust.stdout).toContain(sha256Hex(pki.ca.der))

    const crlFile = join(tmp, 'admin-files', 'revoking.crl')
    writeFileSync(crlFile, (await createCrl(pki.ca, { revoked: [{ serialNumber: randomSerial() }, { serialNumber: randomSerial() }] })).pem)
    const crl = await run(['import-crl', crlFile, ...dataArgs])
    expect(crl).toMatchObject({ code: 0 })
    expect(crl.stdout).toContain('Отозвано сертификатов: 2')

    const foreignCrl = join(tmp, 'admin-files', 'foreign.crl')
    writeFileSync(foreignCrl, (await createCrl(pki.untrustedCa, { revoked: [] })).der)
    const refused = await run(['import-crl', foreignCrl, ...dataArgs])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('not signed by a trusted CA')

    const add = await run(['add-worker', '--snils', formatSnils(snils), '--name', 'Петров Пётр Петрович', '--position', 'Врач-хирург', '--org', 'ГБУЗ «Больница № 2»', '--roles', 'doctor,head', ...dataArgs])
    expect(add).toMatchObject({ code: 0 })
    const bad = await run(['add-worker', '--snils', '112-233-445 96', '--name', 'Х', '--position', 'Врач', '--org', 'П', ...dataArgs])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('СНИЛС')

    const list = await run(['list-workers', ...dataArgs])
    expect(list.stdout).toContain(`${formatSnils(snils)}  Петров Пётр Петрович  Врач-хирург  ГБУЗ «Больница № 2»  [doctor,head]  работает`)

    const end = await run(['end-employment', '--snils', snils, ...dataArgs])
    expect(end).toMatchObject({ code: 0 })
    expect((await run(['list-workers', ...dataArgs])).stdout).toMatch(/Петров Пётр Петрович .* уволен \d{4}-\d{2}-\d{2}/)

    const unknown = await run(['end-employment', '--snils', nextSnils(), ...dataArgs])
    expect(unknown.code).toBe(1)
    expect((await run(['no-such-command', ...dataArgs])).code).toBe(2)
    expect((await run(['add-worker', '--snils', snils, ...dataArgs])).code).toBe(2)
  }, 180_000)
})

describe('serve', () => {
  it('starts on port 0 with a demo folder, logs the demo workers in over HTTPS and stops on SIGTERM', async () => {
    const snils = nextSnils()
    const endedSnils = nextSnils()
    const demo = await writeSyntheticDemo(join(tmp, 'demo'), pki, [worker(snils), worker(endedSnils, { employment: 'ended' })])
    const data = join(tmp, 'serve-data')
    const portal = await serve(['--port', '0', '--demo', demo.dir, '--data', data, '--quiet'])
    try {
      const api = apiClient(portal.url, pki.tlsCaPem)
      expect((await api('GET', '/api/v1/health')).status).toBe(200)
      const ok = await login(api, await issueUser(pki.ca, { snils }))
      expect(ok.status).toBe(200)
      expect(sessionResponseSchema.parse(ok.body).user.snils).toBe(snils)
      const ended = await login(api, await issueUser(pki.ca, { snils: endedSnils }))
      expect(portalErrorBodySchema.parse(ended.body).error.code).toBe('WORKER_EMPLOYMENT_ENDED')
      const untrusted = await login(api, await issueUser(pki.untrustedCa, { snils }))
      expect(portalErrorBodySchema.parse(untrusted.body).error.code).toBe('CERT_UNTRUSTED')

      // The embedded data folder is held by the running portal.
      const busy = await run(['list-workers', '--data', data])
      expect(busy.code).toBe(1)
      expect(busy.stderr).toContain('занята')
    } finally {
      portal.child.kill('SIGTERM')
    }
    expect(await portal.exited).toBe(0)
    expect(portal.output()).toContain('Портал остановлен (SIGTERM)')
    expect(existsSync(`${data}.lock`)).toBe(false)
    // The data survived the restart-free stop.
    expect((await run(['list-workers', '--data', data])).stdout).toContain(formatSnils(snils))
  }, 120_000)

  it('refuses to start without a TLS certificate', async () => {
    const r = await run(['serve', '--port', '0', '--data', join(tmp, 'no-tls')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('TLS')
  })
})

describe('demo seeding', () => {
  it('trusts the demo CA (not the untrusted one), imports its CRL and registers the workers, idempotently', async () => {
    const demo = await writeSyntheticDemo(join(tmp, 'seed'), pki, [worker(nextSnils()), worker(nextSnils(), { employment: 'ended' })])
    const db = await openTestDb()
    try {
      await migrate(db)
      const first = await seedFromDemo(db, demo)
      const second = await seedFromDemo(db, demo)
      expect(second).toEqual(first)
      const cas = await listTrustedCas(db)
      expect(cas.map((c) => c.fingerprint)).toEqual([sha256Hex(pki.ca.der)])
      expect(cas.map((c) => c.fingerprint)).not.toContain(sha256Hex(pki.untrustedCa.der))
      expect((await db.query('SELECT 1 FROM crls')).length).toBe(1)
      const workers = await listWorkers(db)
      expect(workers.map((w) => [w.snils, w.employment]).sort()).toEqual(demo.workers.map((w) => [w.snils, w.employment]).sort())
    } finally {
      await db.close()
    }
  })
})
