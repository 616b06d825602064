// Portal throughput benchmark (prints numbers; not a test).
//   npm run bench:portal [-- --patients 20000 --seconds 10 --clients 50 --engines pglite,postgres]
// For each database engine: seeds N patients with their histories (the seed generator), opens
// 50 sessions, starts the portal as its own process (`portal serve`, TLS, as in production), and
// drives it from this process with 50 concurrent keep-alive HTTPS clients on loopback:
//   history pull  — GET /_history?_count=50 following each client's own cursor (catching up: full pages)
//   history poll  — GET of the resume (`sync`) link by clients already up to date (between pulls)
//   search        — Patient by Cyrillic name prefix, by СНИЛС, by birth date (a third each)
//   transaction   — a 5-entry transaction bundle (conditional Patient, Encounter, 3 Observations)
// Each phase: a warm-up, then a fixed time; requests per second and latency percentiles.
import 'reflect-metadata'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { FHIR_SYSTEMS } from '../src/shared/fhir/systems'
import { snilsWithChecksum } from '../src/shared/validators/snils'
import { createCa, issueTlsServerCertificate } from '../scripts/demo/pki'
import { createSession } from '../portal/src/auth/sessions'
import { openDb, type Db } from '../portal/src/db'
import { seedFhir } from '../portal/src/fhir/seed'
import { migrate } from '../portal/src/migrate'
import { upsertWorker } from '../portal/src/register'
import { startPortalProcess, startPostgres } from './portal-process'

const { values: args } = parseArgs({
  options: {
    patients: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    clients: { type: 'string', default: '50' },
    engines: { type: 'string', default: 'pglite,postgres' },
    phases: { type: 'string', default: 'history,poll,search,transaction' },
    /** Folder for a V8 CPU profile of the portal process (--cpu-prof). */
    profile: { type: 'string' },
    /** Portal processes for PostgreSQL (`serve --workers`); PGlite always runs one. */
    workers: { type: 'string', default: '2' },
  },
})
const PATIENTS = Number(args.patients)
const SECONDS = Number(args.seconds)
const WARMUP = Number(args.warmup)
const CLIENTS = Number(args.clients)
const ENGINES = args.engines.split(',') as Array<'pglite' | 'postgres'>
const PHASES = new Set(args.phases.split(','))
const EMPTY: PhaseResult = { requests: 0, errors: 0, rps: NaN, p50: NaN, p95: NaN, p99: NaN, bytesPerResponse: NaN }
const ORG = '1027700132195'
const FHIR = '/api/v1/fhir'

const out = (line = ''): void => void process.stdout.write(`${line}\n`)

interface PhaseResult {
  requests: number
  errors: number
  rps: number
  p50: number
  p95: number
  p99: number
  bytesPerResponse: number
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

interface Target {
  url: string
  ca: string
  agent: Agent
  tokens: string[]
}

function call(t: Target, token: string, method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolveCall, reject) => {
    const req = request(
      new URL(path, t.url),
      {
        method,
        agent: t.agent,
        ca: t.ca,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolveCall({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** Runs `step` in `CLIENTS` loops: warm-up, then `SECONDS` measured. */
async function phase(t: Target, step: (client: number, token: string) => Promise<{ status: number; text: string }>, okStatus: number): Promise<PhaseResult> {
  const latencies: number[] = []
  let errors = 0
  let bytes = 0
  let measuring = false
  let stop = false
  const loops = t.tokens.slice(0, CLIENTS).map(async (token, client) => {
    while (!stop) {
      const t0 = performance.now()
      const r = await step(client, token)
      const dt = performance.now() - t0
      if (!measuring) continue
      latencies.push(dt)
      bytes += r.text.length
      if (r.status !== okStatus) {
        errors++
        if (errors <= 3) out(`    unexpected ${r.status}: ${r.text.slice(0, 200)}`)
      }
    }
  })
  await new Promise((r) => setTimeout(r, WARMUP * 1000))
  measuring = true
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, SECONDS * 1000))
  measuring = false
  const elapsed = (performance.now() - t0) / 1000
  stop = true
  await Promise.all(loops)
  latencies.sort((a, b) => a - b)
  return {
    requests: latencies.length,
    errors,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    bytesPerResponse: latencies.length ? bytes / latencies.length : 0,
  }
}

interface Samples {
  prefixes: string[]
  snils: string[]
  birthDates: string[]
}

async function samples(db: Db): Promise<Samples> {
  const rows = await db.query<{ body: string }>(`SELECT body FROM fhir_resources WHERE type = 'Patient' ORDER BY md5(id) LIMIT 2000`)
  const patients = rows.map((r) => JSON.parse(r.body) as { name: Array<{ family: string }>; birthDate: string; identifier: Array<{ system: string; value: string }> })
  return {
    prefixes: patients.map((p) => p.name[0]!.family.slice(0, 4)),
    snils: patients.map((p) => p.identifier.find((i) => i.system === FHIR_SYSTEMS.snils)!.value),
    birthDates: patients.map((p) => p.birthDate),
  }
}

function startPortal(dir: string, env: NodeJS.ProcessEnv) {
  const serveArgs = ['--port', '0', '--data', join(dir, 'data'), '--tls-cert', join(dir, 'tls.pem'), '--tls-key', join(dir, 'tls.key'), '--rate-limit', 'off', '--quiet']
  if (env.DATABASE_URL) serveArgs.push('--workers', args.workers)
  return startPortalProcess(serveArgs, { env, nodeArgs: args.profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(args.profile)] : [] })
}

let txCounter = 0
function transactionBundle(): string {
  txCounter++
  const snils = snilsWithChecksum(String(700_000_000 + txCounter * 13 + Math.floor(Math.random() * 13)).padStart(9, '0'))
  const p = `urn:uuid:${randomUUID()}`
  const e = `urn:uuid:${randomUUID()}`
  const obs = (code: string, text: string, value: number, unit: string) => ({
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code }], text },
      subject: { reference: p },
      encounter: { reference: e },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
    },
    request: { method: 'POST', url: 'Observation' },
  })
  return JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: p,
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: FHIR_SYSTEMS.snils, value: snils }],
          name: [{ family: 'Нагрузочная', given: ['Проба', 'Тестовна'] }],
          gender: 'female',
          birthDate: '1984-07-12',
        },
        request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${FHIR_SYSTEMS.snils}|${snils}` },
      },
      {
        fullUrl: e,
        resource: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: p }, period: { start: new Date().toISOString() } },
        request: { method: 'POST', url: 'Encounter' },
      },
      obs('8867-4', 'ЧСС', 72, '/min'),
      obs('8480-6', 'АД систолическое', 125, 'mm[Hg]'),
      obs('8310-5', 'Температура тела', 36.6, 'Cel'),
    ],
  })
}

async function runEngine(engine: 'pglite' | 'postgres', dir: string, tlsCa: string): Promise<Record<'history' | 'poll' | 'search' | 'transaction', PhaseResult> & { seedSeconds: number; versions: number }> {
  const pg = engine === 'postgres' ? await startPostgres('bench') : null
  let portal: { url: string; proc: ChildProcess } | null = null
  try {
    const databaseUrl = pg?.url ?? null
    rmSync(join(dir, 'data'), { recursive: true, force: true })
    const db = await openDb({ databaseUrl, dataDir: join(dir, 'data') })
    await migrate(db)
    const t0 = performance.now()
    await seedFhir(db, { patients: PATIENTS, organisationOgrn: ORG, seed: 42 })
    const seedSeconds = (performance.now() - t0) / 1000
    // Planner statistics for the bulk-loaded tables (PGlite has no autovacuum to gather them).
    await db.exec('ANALYZE')
    const versions = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM fhir_history'))[0]!.n)
    const tokens: string[] = []
    for (let i = 0; i < CLIENTS; i++) {
      const snils = snilsWithChecksum(String(600_000_000 + i * 11).padStart(9, '0'))
      await upsertWorker(db, { snils, fullName: `Нагрузка ${i}`, position: 'Врач-терапевт', organisation: 'ГБУЗ «Городская поликлиника № 1»', organisationOgrn: ORG, roles: ['doctor'] })
      const s = await createSession(db, { snils, roles: ['doctor'], method: 'eds', certificateFingerprint: null, now: new Date(), accessTtlSeconds: 3600, refreshTtlSeconds: 8 * 3600 })
      tokens.push(s.accessToken)
    }
    const sample = await samples(db)
    await db.close()

    portal = await startPortal(dir, databaseUrl ? { DATABASE_URL: databaseUrl } : {})
    const t: Target = { url: portal.url, ca: tlsCa, agent: new Agent({ keepAlive: true, maxSockets: CLIENTS }), tokens }

    const cursors = tokens.map(() => `${FHIR}/_history?_count=50`)
    const history = !PHASES.has('history') ? EMPTY : await phase(
      t,
      async (c, token) => {
        const r = await call(t, token, 'GET', cursors[c]!)
        // The bundle's links come first: find `next` without parsing the whole page (the
        // generator shares the machine with the portal; a real client would be elsewhere).
        const next = /"relation":"next","url":"([^"]+)"/.exec(r.text.slice(0, 2000))?.[1]
        const u = next ? new URL(next) : null
        cursors[c] = u ? `${u.pathname}${u.search}` : `${FHIR}/_history?_count=50`
        return r
      },
      200,
    )
    // Up-to-date clients: each polls its resume (`sync`) link, as the workstation does between
    // pulls; the page is empty unless something changed.
    const headPage = await call(t, tokens[0]!, 'GET', `${FHIR}/_history?_count=1&_since=${encodeURIComponent(new Date().toISOString())}`)
    const headLink = /"relation":"sync","url":"([^"]+)"/.exec(headPage.text)?.[1]
    const head = headLink ? `${new URL(headLink).pathname}${new URL(headLink).search}` : `${FHIR}/_history`
    const poll = !PHASES.has('poll') ? EMPTY : await phase(t, (_c, token) => call(t, token, 'GET', head), 200)
    let n = 0
    const search = !PHASES.has('search') ? EMPTY : await phase(
      t,
      (_c, token) => {
        const i = n++ % sample.prefixes.length
        const query =
          n % 3 === 0
            ? `name=${encodeURIComponent(sample.prefixes[i]!)}&_count=20`
            : n % 3 === 1
              ? `identifier=${encodeURIComponent(`${FHIR_SYSTEMS.snils}|${sample.snils[i]}`)}`
              : `birthdate=${sample.birthDates[i]}&_count=20`
        return call(t, token, 'GET', `${FHIR}/Patient?${query}`)
      },
      200,
    )
    const transaction = !PHASES.has('transaction') ? EMPTY : await phase(t, (_c, token) => call(t, token, 'POST', FHIR, transactionBundle()), 200)
    t.agent.destroy()
    return { history, poll, search, transaction, seedSeconds, versions }
  } finally {
    portal?.proc.kill('SIGTERM')
    if (portal) await new Promise((r) => portal!.proc.once('exit', r))
    pg?.stop()
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lkmr-bench-portal-'))
  try {
    const ca = await createCa({ commonName: 'Бенчмарк УЦ' })
    const tls = await issueTlsServerCertificate(ca, { hosts: ['127.0.0.1', 'localhost'] })
    writeFileSync(join(dir, 'tls.pem'), tls.pem)
    writeFileSync(join(dir, 'tls.key'), tls.keyPem)
    out(`Portal benchmark: ${PATIENTS} patients seeded, ${CLIENTS} concurrent HTTPS keep-alive clients on loopback, ${WARMUP} s warm-up + ${SECONDS} s per phase`)
    out(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; portal, database and load generator share it; portal processes: PGlite 1, PostgreSQL ${args.workers}`)
    const results: Array<[string, Awaited<ReturnType<typeof runEngine>>]> = []
    for (const engine of ENGINES) {
      out(`\n[${engine}] seeding…`)
      const r = await runEngine(engine, dir, ca.certPem)
      out(`[${engine}] seeded ${r.versions} versions in ${r.seedSeconds.toFixed(1)} s`)
      results.push([engine, r])
    }
    out('\nphase            engine      req/s     p50 ms    p95 ms    p99 ms   errors   bytes/resp')
    for (const p of ['history', 'poll', 'search', 'transaction'] as const) {
      for (const [engine, r] of results) {
        const x = r[p]
        out(
          `${p.padEnd(16)} ${engine.padEnd(9)} ${x.rps.toFixed(0).padStart(8)} ${x.p50.toFixed(1).padStart(9)} ${x.p95.toFixed(1).padStart(9)} ${x.p99.toFixed(1).padStart(9)} ${String(x.errors).padStart(8)} ${x.bytesPerResponse.toFixed(0).padStart(12)}`,
        )
      }
    }
    const pgHistory = results.find(([e]) => e === 'postgres')?.[1].history
    if (pgHistory) {
      out(`\ntarget (PostgreSQL history pull): ≥2000 req/s at p95 ≤50 ms → ${pgHistory.rps.toFixed(0)} req/s at p95 ${pgHistory.p95.toFixed(1)} ms: ${pgHistory.rps >= 2000 && pgHistory.p95 <= 50 ? 'met' : 'NOT met'}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
