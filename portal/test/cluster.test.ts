// `serve --workers N` on PostgreSQL: several processes behind one port, stopped together by a
// signal; and the refusal on the embedded engine. Real processes; npm test provides the server.
import 'reflect-metadata'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openPostgres, type Db } from '../src/db'
import { apiClient, createTestPki, type TestPki } from './support'

const MAIN = resolve(import.meta.dirname, '../src/main.ts')
const TSX = resolve(import.meta.dirname, '../../node_modules/.bin/tsx')
const name = `portal_cluster_${process.pid}_${Date.now()}`

let tmp: string
let pki: TestPki
let admin: Db
let databaseUrl: string

beforeAll(async () => {
  const url = process.env.LKMR_TEST_POSTGRES_URL
  if (!url) throw new Error('LKMR_TEST_POSTGRES_URL is not set: run through npm test, which starts a PostgreSQL server')
  tmp = mkdtempSync(join(tmpdir(), 'portal-cluster-'))
  pki = await createTestPki()
  writeFileSync(join(tmp, 'tls.pem'), pki.tls.cert)
  writeFileSync(join(tmp, 'tls.key'), pki.tls.key)
  admin = await openPostgres(url)
  await admin.exec(`CREATE DATABASE ${name}`)
  const u = new URL(url)
  u.pathname = `/${name}`
  databaseUrl = u.toString()
})
afterAll(async () => {
  await admin?.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin?.close()
  rmSync(tmp, { recursive: true, force: true })
})

function serve(workers: string, env: Record<string, string>) {
  const child = spawn(TSX, [MAIN, 'serve', '--port', '0', '--workers', workers, '--tls-cert', join(tmp, 'tls.pem'), '--tls-key', join(tmp, 'tls.key'), '--quiet', '--data', join(tmp, 'data')], {
    env: { ...process.env, DATABASE_URL: '', ...env },
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((r) => child.on('close', r))
  return { child, output: () => out, exited }
}

it('runs several processes on one port and stops them together', async () => {
  const portal = serve('2', { DATABASE_URL: databaseUrl })
  await expect.poll(portal.output, { timeout: 60_000, interval: 200 }).toMatch(/Портал запущен: https:\/\/127\.0\.0\.1:\d+ \(процессов: 2\)/)
  const url = /Портал запущен: (\S+)/.exec(portal.output())![1]!
  const api = apiClient(url, pki.tlsCaPem)
  for (let i = 0; i < 6; i++) expect((await api('GET', '/api/v1/health')).status).toBe(200)
  portal.child.kill('SIGTERM')
  expect(await portal.exited).toBe(0)
  expect(portal.output()).toContain('Портал остановлен (SIGTERM)')
}, 90_000)

it('refuses several processes on the embedded database, saying why', async () => {
  const portal = serve('2', {})
  expect(await portal.exited).toBe(2)
  expect(portal.output()).toContain('только с сервером PostgreSQL')
}, 60_000)
