// Registrar workstation benchmark (prints numbers; not a test).
//   npm run bench:registrar [-- --patients 200000 --sync-patients 8600 --push 10000 --phases search,sync,push --portal-db postgres]
//
// search — N realistic patients (faker `ru`, ФИО agreeing with the sex, valid СНИЛС and полис ОМС)
//          loaded into a real encrypted store through Store.applyPull, 1000 per page (the sync
//          path); then as-you-type queries (name prefixes of 1–3 words, СНИЛС prefixes, birth dates
//          ДД.ММ.ГГГГ) through Store.searchPatients, side by side with a plain `LIKE '%…%'` scan
//          over the same cached JSON (and over the index's lower-case names) in the same database.
// sync   — a portal process (TLS) on PostgreSQL, its production mode (a throwaway cluster), or
//          with --portal-db pglite on the demo's embedded PGlite; seeded with `seedFhir` (the `portal seed` generator),
//          the demo registrar and the demo doctor with password accounts; both log in by password
//          + one-time code (the code read from GET /api/v1/demo/outbox). The real SyncEngine
//          pulls the whole history into a fresh encrypted store in its worker, as app-core wires
//          it; "the limit" is the same history pages fetched back to back with nothing else plus
//          the same rows inserted into a fresh store database with nothing else.
// push   — queued patient changes (RegistrarService.savePatient → Store.commitChange) pushed by
//          the SyncEngine: creates (PUT with ifNoneMatch "*") and edits (ifMatch) in batch bundles.
import { Faker, base, en, ru } from '@faker-js/faker'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync, readFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DEMO_PASSWORD_ACCOUNT } from '../portal/src/demo-seed'
import { setPasswordCommand } from '../portal/src/accounts/cli'
import { hashPassword } from '../portal/src/accounts/password'
import { setAccount } from '../portal/src/accounts/store'
import { openDb } from '../portal/src/db'
import { seedFhir } from '../portal/src/fhir/seed'
import { migrate as migratePortal } from '../portal/src/migrate'
import { addDepartment, upsertOrganisation } from '../portal/src/organisations'
import { upsertWorker } from '../portal/src/register'
import { createCa, issueTlsServerCertificate } from '../scripts/demo/pki'
import { DEMO_ORG, DEMO_ORGANISATIONS, DOCTOR, REGISTRAR, registerEntry } from '../scripts/demo/people'
import { confirmPasswordLogin, startPasswordLogin } from '../src/main/core/auth/password-login'
import { PortalClient, type FhirAnswer, type FhirOptions } from '../src/main/core/portal/portal-client'
import { RegistrarService } from '../src/main/core/registrar/registrar-service'
import { newStoreKey, openDatabase } from '../src/main/core/store/database'
import { Store, type PullEntry } from '../src/main/core/store/store'
import { openStoreWorker, type StoreClient } from '../src/main/core/store/store-client'
import { CURSOR_KEY, PAGES_AHEAD, SyncEngine } from '../src/main/core/sync/sync-engine'
import { readHistoryPage } from '../src/main/core/sync/fhir-wire'
import { FHIR_SYSTEMS } from '../src/shared/fhir/systems'
import type { PatientForm } from '../src/shared/registrar'
import type { SessionResponse } from '../src/shared/portal-api'
import { normalizeSearchText } from '../src/shared/text'
import { omsWithChecksum, snilsWithChecksum } from '../src/shared/validators'
import { processCpuSeconds, startPortalProcess, startPostgres } from './portal-process'

const { values: args } = parseArgs({
  options: {
    /** Cached patients for the search phase. */
    patients: { type: 'string', default: '200000' },
    /** Patients seeded into the portal for the sync phase (about 11.7 resources each). */
    'sync-patients': { type: 'string', default: '8600' },
    /** Queued changes to push (creates, then the same number of edits). */
    push: { type: 'string', default: '10000' },
    phases: { type: 'string', default: 'search,sync,push' },
    /** Search queries measured (after a warm-up of a tenth as many). */
    queries: { type: 'string', default: '4000' },
    /** Queries also run as a LIKE scan (each scan reads the table: keep it modest). */
    scans: { type: 'string', default: '100' },
    seed: { type: 'string', default: '42' },
    /** Folder for a V8 CPU profile of the portal process (--cpu-prof). */
    profile: { type: 'string' },
    /**
     * The portal's database for the sync and push phases: PostgreSQL, the portal's production
     * mode (a throwaway cluster, scripts/postgres-for-tests.sh), or the demo's embedded PGlite.
     */
    'portal-db': { type: 'string', default: 'postgres' },
    /** Keep the temporary folder (stores, portal data) for a look afterwards. */
    keep: { type: 'boolean', default: false },
  },
})
const PATIENTS = Number(args.patients)
const SYNC_PATIENTS = Number(args['sync-patients'])
const PUSH = Number(args.push)
const PHASES = new Set(args.phases.split(','))
const QUERIES = Number(args.queries)
const SCANS = Number(args.scans)
const SEED = Number(args.seed)
const PAGE = 1000
const PORTAL_DB = args['portal-db']
if (PORTAL_DB !== 'postgres' && PORTAL_DB !== 'pglite') throw new Error('--portal-db: postgres or pglite')
/** What the search box asks for (src/renderer/src/registrar/PatientSearch.tsx SEARCH_LIMIT). */
const SEARCH_LIMIT = 50
const FHIR = '/api/v1/fhir'
const DOCTOR_LOGIN = { snils: DOCTOR.snils!, phone: '+79001234568', password: 'doctor12345678' }

const out = (line = ''): void => void process.stdout.write(`${line}\n`)
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—')
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—')
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—')
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—')

interface Stats {
  n: number
  p50: number
  p95: number
  p99: number
  mean: number
  max: number
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b)
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
  return { n: s.length, p50: at(50), p95: at(95), p99: at(99), mean: s.reduce((a, b) => a + b, 0) / (s.length || 1), max: s.at(-1) ?? NaN }
}

/** Database file + WAL after a truncating checkpoint, through a connection of our own. */
function storeSize(file: string, key: Buffer): { bytes: number; counts: Record<string, number> } {
  const db = openDatabase(file, key)
  try {
    const counts = Object.fromEntries(db.prepare<[], { type: string; n: number }>('SELECT type, count(*) AS n FROM resources GROUP BY type ORDER BY n DESC').all().map((r) => [r.type, r.n]))
    db.pragma('wal_checkpoint(TRUNCATE)')
    return { bytes: fileSize(file), counts }
  } finally {
    db.close()
  }
}

/** Load average and the share of time tasks waited for a CPU (PSI), for judging wall-clock figures. */
function machineLoad(): string {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  const psi = existsSync('/proc/pressure/cpu') ? /avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] : undefined
  return `load average ${load}${psi ? `, CPU pressure (tasks waiting for a CPU, last 60 s) ${psi} %` : ''}`
}


const fileSize = (file: string) => [file, `${file}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0)

// --- search ------------------------------------------------------------------------------------

type Sex = 'male' | 'female'

interface Person {
  id: string
  family: string
  given: string
  patronymic: string
  sex: Sex
  birthDate: string
  snils: string
}

const newFaker = () => new Faker({ locale: [ru, en, base] })
const DAY = 86_400_000
const YEAR = 365.25 * DAY
/** Unique valid СНИЛС for each index (a permutation of 9-digit numbers, as the portal's seed does). */
const snilsOf = (i: number) => snilsWithChecksum(String(100_000_000 + ((i * 387_419 + 12_345) % 800_000_000)).padStart(9, '0'))
const omsOf = (i: number) => omsWithChecksum(`7742${String((i * 387_419 + 54_321) % 100_000_000_000).padStart(11, '0')}`)

/** One cached patient as the portal serves it (the seed's shape: versionBody puts id and meta first). */
function patientResource(f: Faker, i: number, asOf: number, lastUpdated: string): { entry: PullEntry; person: Person } {
  const sex: Sex = f.datatype.boolean(0.46) ? 'male' : 'female'
  const family = f.person.lastName(sex)
  const given = f.person.firstName(sex)
  const patronymic = f.person.middleName(sex)
  const age = f.helpers.weightedArrayElement([
    { weight: 15, value: [0, 17] },
    { weight: 30, value: [18, 39] },
    { weight: 35, value: [40, 64] },
    { weight: 20, value: [65, 95] },
  ] as Array<{ weight: number; value: [number, number] }>)
  const birthDate = new Date(asOf - f.number.int({ min: age[0], max: age[1] }) * YEAR - f.number.int({ min: 1, max: 364 }) * DAY).toISOString().slice(0, 10)
  const id = f.string.uuid()
  const snils = snilsOf(i)
  const line = `${f.location.street()}, д. ${f.number.int({ min: 1, max: 150 })}, кв. ${f.number.int({ min: 1, max: 400 })}`
  const postalCode = String(f.number.int({ min: 101_000, max: 129_399 }))
  const body = {
    resourceType: 'Patient',
    id,
    meta: { versionId: '1', lastUpdated },
    identifier: [
      { use: 'official', system: FHIR_SYSTEMS.snils, value: snils },
      { use: 'official', system: FHIR_SYSTEMS.oms, value: omsOf(i) },
    ],
    active: true,
    name: [{ use: 'official', text: `${family} ${given} ${patronymic}`, family, given: [given, patronymic] }],
    telecom: [{ system: 'phone', value: `+79${f.string.numeric(9)}`, use: 'mobile' }],
    gender: sex,
    birthDate,
    address: [{ use: 'home', type: 'physical', text: `${postalCode}, г. Москва, ${line}`, line: [line], city: 'Москва', state: 'Москва', postalCode, country: 'RU' }],
    managingOrganization: { reference: 'Organization/8d0c7c3e-4a55-4a8e-9d7e-2f3c1b5a6e01', display: DEMO_ORG.name },
  }
  return { entry: { type: 'Patient', id, version: 1, deleted: false, body: Buffer.from(JSON.stringify(body)) }, person: { id, family, given, patronymic, sex, birthDate, snils } }
}

type QueryKind = 'name 1 word' | 'name 2 words' | 'name 3 words' | 'СНИЛС prefix' | 'birth date'

interface Query {
  kind: QueryKind
  text: string
  /** The patient the query was made from (it must be among the hits, given the limit). */
  target: Person
  /** The same query for a plain LIKE scan of the JSON: each word as the JSON stores it. */
  jsonPatterns: string[]
  /** … and of the index's lower-case name column (sort_name), СНИЛС or birth date columns. */
  column: { sql: string; patterns: string[] }
}

/** A prefix of a word of 3…max letters (or the word). */
const prefix = (f: Faker, w: string, min: number, max: number) => w.slice(0, Math.min(w.length, f.number.int({ min, max })))

function makeQuery(f: Faker, p: Person): Query {
  const r = f.number.float({ min: 0, max: 1 })
  // What people type: lower case, prefixes; the scan patterns take the same letters as stored.
  const nameQuery = (kind: QueryKind, words: string[]): Query => ({
    kind,
    text: words.map((w) => w.toLowerCase()).join(' '),
    target: p,
    jsonPatterns: words.map((w) => `%${w}%`),
    column: { sql: words.map(() => 'sort_name LIKE ?').join(' AND '), patterns: words.map((w) => `%${normalizeSearchText(w)}%`) },
  })
  if (r < 0.25) return nameQuery('name 1 word', [prefix(f, p.family, 3, 7)]) // «смирн»
  if (r < 0.45) return nameQuery('name 2 words', [prefix(f, p.given, 3, 5), prefix(f, p.family, 3, 5)]) // «иван петр»
  if (r < 0.55) return nameQuery('name 2 words', [p.family, p.given.slice(0, 1)]) // «кузнецова а»
  if (r < 0.7) return nameQuery('name 3 words', [prefix(f, p.family, 3, 8), prefix(f, p.given, 2, 5), prefix(f, p.patronymic, 1, 4)]) // «иванов пет с»
  if (r < 0.85) {
    const digits = p.snils.slice(0, f.number.int({ min: 5, max: 11 }))
    // Typed as printed on the card (123-456-789 01) about half the time.
    const typed = f.datatype.boolean() ? (digits.match(/^(\d{1,3})(\d{0,3})(\d{0,3})(\d{0,2})$/)!.slice(1).filter(Boolean).join('-')) : digits
    return { kind: 'СНИЛС prefix', text: typed, target: p, jsonPatterns: [`%${digits}%`], column: { sql: 'snils LIKE ?', patterns: [`%${digits}%`] } }
  }
  const [y, m, d] = p.birthDate.split('-')
  return { kind: 'birth date', text: `${d}.${m}.${y}`, target: p, jsonPatterns: [`%${p.birthDate}%`], column: { sql: 'birth_date LIKE ?', patterns: [`%${p.birthDate}%`] } }
}

interface SearchResult {
  loadSeconds: number
  bytes: number
  overall: Stats
  byKind: Array<[string, Stats, number]>
  firstLetter: Stats
  typo: Stats
  typoFound: number
  cpu: Stats
  scanJson: Stats
  scanColumn: Stats
  searchSameQueries: Stats
  found: number
  nonEmpty: number
}

async function runSearch(dir: string): Promise<SearchResult> {
  out(`\n[search] generating ${int(PATIENTS)} patients (faker ru) and loading them with Store.applyPull, ${PAGE} per page…`)
  const file = join(dir, 'search.db')
  const key = newStoreKey()
  // --keep leaves the database for a look afterwards: it opens with LKMR_STORE_KEY=<this file>.
  if (args.keep) writeFileSync(join(dir, 'search.key'), key.toString('hex'), { mode: 0o600 })
  const store = new Store(openDatabase(file, key))
  const f = newFaker()
  f.seed(SEED)
  const asOf = Date.now()
  const lastUpdated = new Date(asOf).toISOString()
  // Every 40th patient is kept for making queries.
  const sample: Person[] = []
  let loadMs = 0
  let genMs = 0
  for (let from = 0; from < PATIENTS; from += PAGE) {
    const g0 = performance.now()
    const page: PullEntry[] = []
    for (let i = from; i < Math.min(PATIENTS, from + PAGE); i++) {
      const { entry, person } = patientResource(f, i, asOf, lastUpdated)
      page.push(entry)
      if (i % 40 === 0) sample.push(person)
    }
    const t0 = performance.now()
    genMs += t0 - g0
    store.applyPull(page, CURSOR_KEY, `bench.${from}`)
    loadMs += performance.now() - t0
    if ((from / PAGE) % 50 === 49) out(`  ${int(from + PAGE)} loaded, ${f1(loadMs / 1000)} s in applyPull`)
  }
  store.db.pragma('wal_checkpoint(TRUNCATE)')
  const bytes = fileSize(file)
  out(`  generated in ${f1(genMs / 1000)} s (not counted); applyPull ${f1(loadMs / 1000)} s; ${mb(bytes)} MB after checkpoint`)
  store.db.pragma('optimize')

  const qf = newFaker()
  qf.seed(SEED + 1)
  const queries = Array.from({ length: QUERIES }, () => makeQuery(qf, qf.helpers.arrayElement(sample)))
  const warm = Array.from({ length: Math.ceil(QUERIES / 10) }, () => makeQuery(qf, qf.helpers.arrayElement(sample)))
  for (const q of warm) store.searchPatients(q.text, SEARCH_LIMIT)

  const byKind = new Map<string, number[]>()
  const all: number[] = []
  let found = 0
  let nonEmpty = 0
  const cpu: number[] = []
  for (const q of queries) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const r = store.searchPatients(q.text, SEARCH_LIMIT)
    const dt = performance.now() - t0
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
    all.push(dt)
    if (!byKind.has(q.kind)) byKind.set(q.kind, [])
    byKind.get(q.kind)!.push(dt)
    if (r.rows.length > 0) nonEmpty++
    if (r.rows.some((x) => x.id === q.target.id)) found++
  }
  // The first keystroke: one letter (not in the mix above; FTS5's 1-letter prefix index).
  const letters = 'абвгдежзиклмнопрстуфхцчшэюя'
  const first: number[] = []
  for (let k = 0; k < 4; k++) {
    for (const l of letters) {
      const t0 = performance.now()
      store.searchPatients(l, SEARCH_LIMIT)
      if (k > 0) first.push(performance.now() - t0)
    }
  }
  // A typo in a family name of 5+ letters (two neighbours swapped): nothing as typed, then the
  // one-typo alternatives from the indexed words. Not in the mix either.
  const typo: number[] = []
  let typoFound = 0
  for (const p of sample.filter((x) => x.family.length >= 6).slice(0, 300)) {
    const w = p.family.toLowerCase().slice(0, 6)
    const typed = `${w.slice(0, 2)}${w[3]}${w[2]}${w.slice(4)}`
    const t0 = performance.now()
    const r = store.searchPatients(typed, SEARCH_LIMIT)
    typo.push(performance.now() - t0)
    if (r.rows.length > 0) typoFound++
  }

  // The plain scans, over the first SCANS queries (the same ones for both sides of the ratio).
  const scanned = queries.slice(0, SCANS)
  const jsonScan = (q: Query) =>
    store.db.prepare(`SELECT id, body FROM resources WHERE type = 'Patient' AND ${q.jsonPatterns.map(() => 'body LIKE ?').join(' AND ')} LIMIT ${SEARCH_LIMIT}`).all(...q.jsonPatterns)
  const columnScan = (q: Query) =>
    store.db.prepare(`SELECT r.id, r.body FROM patient_idx p JOIN resources r ON r.rid = p.rid WHERE ${q.column.sql} LIMIT ${SEARCH_LIMIT}`).all(...q.column.patterns)
  for (const q of scanned.slice(0, 3)) jsonScan(q)
  const scanJson: number[] = []
  const scanColumn: number[] = []
  const same: number[] = []
  for (const q of scanned) {
    let t0 = performance.now()
    jsonScan(q)
    scanJson.push(performance.now() - t0)
    t0 = performance.now()
    columnScan(q)
    scanColumn.push(performance.now() - t0)
    t0 = performance.now()
    store.searchPatients(q.text, SEARCH_LIMIT)
    same.push(performance.now() - t0)
  }
  store.close()
  if (!args.keep) for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
  const order: QueryKind[] = ['name 1 word', 'name 2 words', 'name 3 words', 'СНИЛС prefix', 'birth date']
  return {
    loadSeconds: loadMs / 1000,
    bytes,
    overall: stats(all),
    byKind: order.map((k) => [k, stats(byKind.get(k) ?? []), (byKind.get(k) ?? []).length]),
    firstLetter: stats(first),
    typo: stats(typo),
    typoFound,
    cpu: stats(cpu),
    scanJson: stats(scanJson),
    scanColumn: stats(scanColumn),
    searchSameQueries: stats(same),
    found,
    nonEmpty,
  }
}

// --- the portal --------------------------------------------------------------------------------

interface Portal {
  url: string
  /** 'PostgreSQL' or 'PGlite'. */
  engine: string
  /** CPU seconds the portal has used: its process, and its PostgreSQL server when it has one. */
  cpuSeconds(): number
  /** Stops the portal and its database server. */
  stop(): Promise<void>
  caPem: string
  caFile: string
  resources: number
}

async function startSeededPortal(dir: string): Promise<Portal> {
  const ca = await createCa({ commonName: 'Бенчмарк УЦ' })
  const tls = await issueTlsServerCertificate(ca, { hosts: ['127.0.0.1', 'localhost'] })
  writeFileSync(join(dir, 'tls.pem'), tls.pem)
  writeFileSync(join(dir, 'tls.key'), tls.keyPem)
  writeFileSync(join(dir, 'ca.pem'), ca.certPem)
  const dataDir = join(dir, 'portal-data')
  const pg = PORTAL_DB === 'postgres' ? await startPostgres('bench') : null
  const engine = pg ? 'PostgreSQL' : 'PGlite'
  const db = await openDb({ databaseUrl: pg?.url ?? null, dataDir })
  await migratePortal(db)
  // The demo register as `serve --demo` loads it (demo-seed.ts), without the demo PKI: the
  // organisation, the registrar with the demo password account, and the demo doctor, who gets a
  // password account the way `portal set-password` gives one.
  for (const { departments, ...org } of DEMO_ORGANISATIONS) {
    await upsertOrganisation(db, org)
    for (const name of departments) await addDepartment(db, org.ogrn, name)
  }
  await upsertWorker(db, REGISTRAR)
  await upsertWorker(db, registerEntry(DOCTOR)!)
  const { password, ...contacts } = DEMO_PASSWORD_ACCOUNT
  await setAccount(db, { snils: REGISTRAR.snils, passwordHash: await hashPassword(password), ...contacts, now: new Date() })
  await setPasswordCommand(db, { snils: DOCTOR_LOGIN.snils, phone: DOCTOR_LOGIN.phone, password: DOCTOR_LOGIN.password })
  out(`\n[portal] seeding ${int(SYNC_PATIENTS)} patients with their histories (seedFhir, ${engine})…`)
  const seeded = await seedFhir(db, { patients: SYNC_PATIENTS, organisationOgrn: DEMO_ORG.ogrn, seed: SEED })
  out(`[portal] ${int(seeded.resources)} resources in ${f1(seeded.elapsedMs / 1000)} s: ${Object.entries(seeded.counts).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${int(n)}`).join(', ')}`)
  await db.exec('ANALYZE')
  await db.close()
  const serveArgs = ['--port', '0', '--data', dataDir, '--tls-cert', join(dir, 'tls.pem'), '--tls-key', join(dir, 'tls.key'), '--rate-limit', 'off', '--quiet', '--otp-channel', 'outbox']
  const { url, proc } = await startPortalProcess(serveArgs, { env: pg ? { DATABASE_URL: pg.url } : {}, nodeArgs: args.profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(args.profile)] : [] })
  const stop = async () => {
    proc.kill('SIGTERM')
    await new Promise((r) => proc.once('exit', r))
    pg?.stop()
  }
  const cpuSeconds = () => processCpuSeconds(proc.pid!) + (pg?.cpuSeconds() ?? 0)
  return { url, engine, cpuSeconds, stop, caPem: ca.certPem, caFile: join(dir, 'ca.pem'), resources: seeded.resources }
}

/** Password + one-time code, the code read from the demo outbox as a person would read it. */
async function passwordLogin(client: PortalClient, login: string, password: string, phone: string): Promise<SessionResponse> {
  const sent = await startPasswordLogin({ portal: client }, login, password)
  const { messages } = await client.demoOutbox()
  const code = /(?<!\d)\d{6}(?!\d)/.exec(messages.find((m) => m.to === phone)?.text ?? '')?.[0]
  if (!code) throw new Error(`no code in the demo outbox for ${phone}`)
  return confirmPasswordLogin({ portal: client }, sent.otpId, code)
}

/** The session's FHIR call as app-core makes it; a refused token is refreshed once (SessionManager's job there). */
function fhirCall(client: PortalClient, session: { s: SessionResponse }) {
  return async (method: 'GET' | 'POST' | 'PUT', path: string, body: unknown, options?: FhirOptions): Promise<FhirAnswer> => {
    let answer = await client.fhir(method, path, body, session.s.accessToken, options)
    if (answer.status === 401) {
      session.s = await client.refresh(session.s.refreshToken)
      answer = await client.fhir(method, path, body, session.s.accessToken, options)
    }
    return answer
  }
}

interface Pulled {
  seconds: number
  resources: number
  store: StoreClient
  engine: SyncEngine
  file: string
  key: Buffer
  session: { s: SessionResponse }
  /** Milliseconds in history requests and in applyHistoryPage calls, and the pages. */
  timing: { fetch: number; apply: number; pages: number; calls: number }
  /** CPU seconds of this process (main thread, store worker, …) and of the portal process during the pull. */
  cpuSeconds: number
  portalCpuSeconds: number
}

async function initialSync(client: PortalClient, dir: string, role: string, session: SessionResponse, portal: Portal): Promise<Pulled> {
  const storeDir = join(dir, `store-${role}`)
  mkdirSync(storeDir, { recursive: true })
  const file = join(storeDir, 'store.db')
  const key = newStoreKey()
  const store = await openStoreWorker(file, key)
  const holder = { s: session }
  let done = 0
  // Where the pull's time goes: history requests (links read) and store reads and writes, as the engine
  // sees them (they overlap: the next page is fetched while one is written).
  const timing = { fetch: 0, apply: 0, pages: 0, calls: 0 }
  const fhir = fhirCall(client, holder)
  const timedStore = Object.assign(Object.create(null) as StoreClient, store, {
    applyHistoryPages: async (...a: Parameters<StoreClient['applyHistoryPages']>) => {
      const t = performance.now()
      try {
        return await store.applyHistoryPages(...a)
      } finally {
        timing.apply += performance.now() - t
        timing.pages += a[0].length
        timing.calls++
      }
    },
  })
  const engine = new SyncEngine({
    store: timedStore,
    fhir: async (method, path, body, options) => {
      const t = performance.now()
      try {
        return await fhir(method, path, body, options)
      } finally {
        if (path.startsWith('/_history')) timing.fetch += performance.now() - t
      }
    },
    probe: () => client.health().then(() => true, () => false),
    onStatus: (s) => {
      if (s.phase === 'pulling' && s.progress) done = s.progress.done
    },
    log: (line) => out(`  [${role}] ${line}`),
    intervalMs: 3600_000,
  })
  const c0 = process.cpuUsage()
  const p0 = portal.cpuSeconds()
  const t0 = performance.now()
  const status = await engine.syncNow()
  const seconds = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  if (status.lastError) throw new Error(`${role} sync failed: ${JSON.stringify(status.lastError)}`)
  return { seconds, resources: done, store, engine, file, key, session: holder, timing, cpuSeconds: (c.user + c.system) / 1e6, portalCpuSeconds: portal.cpuSeconds() - p0 }
}

function httpsGet(agent: Agent, url: URL, token: string): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'GET', agent, headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => (res.statusCode === 200 ? ok(Buffer.concat(chunks)) : fail(new Error(`history page: HTTP ${res.statusCode}`))))
      res.on('error', fail)
    })
    req.on('error', fail)
    req.end()
  })
}

interface Limit {
  fetchSeconds: number
  /** CPU seconds the portal used serving the pages, and this process fetching and inserting. */
  portalCpuSeconds: number
  cpuSeconds: number
  parseSeconds: number
  insertSeconds: number
  pages: number
  rows: number
  bytes: number
}

/**
 * The floor for an initial sync: the same history pages fetched one after another (same _count,
 * following the `next` links, body bytes only) with nothing else, and their rows inserted into a
 * fresh store database (its cipher, pragmas and resources table) with nothing else: each
 * resource's bytes as they lie in the page, without fsync, in transactions of as many pages as the
 * sync ever writes at once. Finding the rows in the pages is timed apart and counted in neither.
 */
async function measureLimit(portal: Portal, dir: string, token: string): Promise<Limit> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: portal.caPem })
  const pages: Buffer[] = []
  let next: string | null = `${portal.url}${FHIR}/_history?_count=${PAGE}&_cursor=${encodeURIComponent('0.0')}`
  const p0 = portal.cpuSeconds()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  while (next) {
    const page = await httpsGet(agent, new URL(next), token)
    pages.push(page)
    // The links come first in the bundle: the next page's address without parsing the page.
    next = /"relation":"next","url":"([^"]+)"/.exec(page.subarray(0, 4000).toString('utf8'))?.[1] ?? null
  }
  const fetchSeconds = (performance.now() - t0) / 1000
  const portalCpuSeconds = portal.cpuSeconds() - p0
  const fetchCpu = process.cpuUsage(c0)
  agent.destroy()

  const t1 = performance.now()
  const rows: Array<Array<[string, string, number, Buffer]>> = pages.map((buf) =>
    readHistoryPage(buf).entries.flatMap((e) => (e.resource ? [[e.type, e.id, e.version, buf.subarray(e.resource.start, e.resource.end)] as [string, string, number, Buffer]] : [])),
  )
  const parseSeconds = (performance.now() - t1) / 1000

  const file = join(dir, 'limit.db')
  // The store's own database: its cipher, pragmas and resources table (the other tables stay empty).
  const db = openDatabase(file, newStoreKey())
  db.pragma('synchronous = NORMAL')
  const insert = db.prepare<[string, string, number, Buffer]>('INSERT INTO resources (type, id, version, body) VALUES (?, ?, ?, CAST(? AS TEXT))')
  const perBatch = db.transaction((batch: Array<Array<[string, string, number, Buffer]>>) => {
    for (const page of batch) for (const r of page) insert.run(...r)
  })
  const c2 = process.cpuUsage()
  const t2 = performance.now()
  for (let i = 0; i < rows.length; i += PAGES_AHEAD) perBatch.immediate(rows.slice(i, i + PAGES_AHEAD))
  const insertSeconds = (performance.now() - t2) / 1000
  const insertCpu = process.cpuUsage(c2)
  db.close()
  const cpuSeconds = (fetchCpu.user + fetchCpu.system + insertCpu.user + insertCpu.system) / 1e6
  return { fetchSeconds, portalCpuSeconds, cpuSeconds, parseSeconds, insertSeconds, pages: pages.length, rows: rows.reduce((n, p) => n + p.length, 0), bytes: pages.reduce((n, p) => n + p.length, 0) }
}

// --- push --------------------------------------------------------------------------------------

interface PushRun {
  what: string
  changes: number
  queueSeconds: number
  pushSeconds: number
  cpuSeconds: number
  portalCpuSeconds: number
  pending: number
  rejected: number
  conflicts: number
  firstProblem: string | null
}

function newPatientForm(f: Faker, i: number): PatientForm {
  const gender: Sex = f.datatype.boolean(0.46) ? 'male' : 'female'
  return {
    family: f.person.lastName(gender),
    given: f.person.firstName(gender),
    patronymic: f.person.middleName(gender),
    gender,
    birthDate: new Date(Date.now() - f.number.int({ min: 1, max: 90 }) * YEAR).toISOString().slice(0, 10),
    // 8xx…: apart from the seeded patients (3xx… for --seed 42) and doctors (9xx…).
    snils: snilsWithChecksum(String(800_000_000 + ((i * 7919 + SEED * 1_000_003) % 99_000_000))),
    oms: omsWithChecksum(`5099${String(i).padStart(11, '0')}`),
    phone: `+79${f.string.numeric(9)}`,
    address: `г. Москва, ${f.location.street()}, д. ${f.number.int({ min: 1, max: 150 })}, кв. ${f.number.int({ min: 1, max: 400 })}`,
  }
}

async function pushRun(what: string, p: Pulled, portal: Portal, queue: () => Promise<number>): Promise<PushRun> {
  // Caught up first (the portal's history holds what the last push wrote): the measured run pulls
  // next to nothing and pushes.
  await p.engine.syncNow()
  const t0 = performance.now()
  const changes = await queue()
  const queueSeconds = (performance.now() - t0) / 1000
  const before = await p.store.counts()
  const c0 = process.cpuUsage()
  const p0 = portal.cpuSeconds()
  const t1 = performance.now()
  const status = await p.engine.syncNow()
  const pushSeconds = (performance.now() - t1) / 1000
  const c = process.cpuUsage(c0)
  const cpuSeconds = (c.user + c.system) / 1e6
  const portalCpuSeconds = portal.cpuSeconds() - p0
  if (status.lastError) out(`  [push] sync ended with ${JSON.stringify(status.lastError)}`)
  const problems = status.rejected + status.conflicts > 0 ? await p.store.problems() : []
  out(`  [push] ${what}: ${int(before.pending)} queued in ${f1(queueSeconds)} s; pushed in ${f2(pushSeconds)} s → pending ${status.pending}, rejected ${status.rejected}, conflicts ${status.conflicts}; CPU: workstation ${f2(cpuSeconds)} s, portal ${f2(portalCpuSeconds)} s`)
  return { what, changes, queueSeconds, pushSeconds, cpuSeconds, portalCpuSeconds, pending: status.pending, rejected: status.rejected, conflicts: status.conflicts, firstProblem: problems[0]?.message ?? null }
}

async function runPush(p: Pulled, portal: Portal): Promise<PushRun[]> {
  const user = p.session.s.user
  const registrar = new RegistrarService({ store: p.store, actor: () => ({ snils: user.snils, name: user.fullName, organisation: user.organisation }), changed: () => {} })
  const f = newFaker()
  f.seed(SEED + 2)
  const forms = Array.from({ length: PUSH }, (_, i) => newPatientForm(f, i))
  const ids: string[] = []
  out(`\n[push] ${int(PUSH)} new patients registered locally (RegistrarService.savePatient), then pushed…`)
  const creates = await pushRun('creates (PUT, ifNoneMatch *)', p, portal, async () => {
    for (const form of forms) ids.push((await registrar.savePatient(null, form)).id)
    return forms.length
  })
  const runs = [creates]
  // Edits: of the patients just created if the portal took them, else of pulled patients.
  let targets: Array<{ id: string; form: PatientForm }>
  if (creates.rejected === 0 && creates.pending === 0) {
    targets = ids.map((id, i) => ({ id, form: forms[i]! }))
  } else {
    const pulled = (await p.store.listByType('Patient', PUSH * 2)).filter((b) => !ids.includes(String(b.id))).slice(0, PUSH)
    targets = await Promise.all(pulled.map(async (b) => ({ id: String(b.id), form: (await registrar.getPatient(String(b.id))).form })))
  }
  out(`[push] ${int(targets.length)} edits (a new phone number) of ${creates.rejected === 0 ? 'those patients' : 'pulled patients'}…`)
  runs.push(
    await pushRun('edits (PUT, ifMatch)', p, portal, async () => {
      for (const t of targets) await registrar.savePatient(t.id, { ...t.form, phone: `+79${f.string.numeric(9)}` })
      return targets.length
    }),
  )
  return runs
}

// --- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lkmr-bench-registrar-'))
  let portal: Portal | null = null
  const pulled: Pulled[] = []
  const verdict: Array<[string, string, string, boolean | null]> = []
  const check = (what: string, target: string, value: string, ok: boolean | null) => verdict.push([what, target, value, ok])
  try {
    out(`Registrar benchmark: phases ${[...PHASES].join(',')}; search over ${int(PATIENTS)} cached patients; sync of ${int(SYNC_PATIENTS)} seeded patients; push of ${int(PUSH)} changes`)
    out(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; portal, its database and the workstation share it with whatever else runs; ${machineLoad()}`)

    // Sync and push first, in a fresh process, as on a workstation: after the search phase's 200 000
    // generated patients the same pull measured 10–20 % slower (heap, page cache, disk writeback).
    if (PHASES.has('sync') || PHASES.has('push')) {
      portal = await startSeededPortal(dir)
      out(`[portal] ${portal.url} (own process, ${portal.engine}, TLS)`)
      const client = new PortalClient({ baseUrl: portal.url, caFile: portal.caFile, timeoutMs: 120_000 })
      const registrarSession = await passwordLogin(client, DEMO_PASSWORD_ACCOUNT.phone, DEMO_PASSWORD_ACCOUNT.password, DEMO_PASSWORD_ACCOUNT.phone)
      out(`[login] registrar ${registrarSession.user.fullName} (${registrarSession.user.roles.join(',')}) by password + code from the demo outbox`)

      // The registrar first: her history holds only what a registrar may read.
      const reg = await initialSync(client, dir, 'registrar', registrarSession, portal)
      pulled.push(reg)
      const regSize = storeSize(reg.file, reg.key)
      out(`[sync] registrar: ${int(reg.resources)} resources in ${f2(reg.seconds)} s (${int(reg.resources / reg.seconds)}/s); ${Object.entries(regSize.counts).map(([t, n]) => `${t} ${int(n)}`).join(', ')}; ${mb(regSize.bytes)} MB`)

      if (PHASES.has('sync')) {
        const doctorSession = await passwordLogin(client, DOCTOR_LOGIN.phone, DOCTOR_LOGIN.password, DOCTOR_LOGIN.phone)
        out(`[login] doctor ${doctorSession.user.fullName} (${doctorSession.user.roles.join(',')}): a registrar sees ${int(reg.resources)} of ${int(portal.resources)} resources, so the full pull is measured as the doctor`)
        const doc = await initialSync(client, dir, 'doctor', doctorSession, portal)
        pulled.push(doc)
        await doc.store.close()
        const docSize = storeSize(doc.file, doc.key)
        out(`[sync] doctor: ${int(doc.resources)} resources in ${f2(doc.seconds)} s (${int(doc.resources / doc.seconds)}/s); ${mb(docSize.bytes)} MB (${int(docSize.bytes / doc.resources)} bytes/resource) after checkpoint`)
        out(`       ${Object.entries(docSize.counts).map(([t, n]) => `${t} ${int(n)}`).join(', ')}`)
        out(`       ${doc.timing.pages} pages: history requests ${f2(doc.timing.fetch / 1000)} s, store.applyHistoryPages ${f2(doc.timing.apply / 1000)} s in ${doc.timing.calls} calls (${f1(doc.timing.apply / doc.timing.pages)} ms a page, written in the store worker), overlapping`)
        out(`       CPU during the pull: workstation ${f2(doc.cpuSeconds)} s (${f1((1e6 * doc.cpuSeconds) / doc.resources)} µs/resource: main thread + store worker), portal ${f2(doc.portalCpuSeconds)} s (${f1((1e6 * doc.portalCpuSeconds) / doc.resources)} µs/resource); ${machineLoad()}`)
        const limit = await measureLimit(portal, dir, doc.session.s.accessToken)
        const limitSeconds = limit.fetchSeconds + limit.insertSeconds
        out(`[limit] ${limit.pages} pages, ${int(limit.rows)} rows, ${mb(limit.bytes)} MB of JSON: fetch ${f2(limit.fetchSeconds)} s + insert ${f2(limit.insertSeconds)} s = ${f2(limitSeconds)} s (finding the rows in the pages ${f2(limit.parseSeconds)} s, counted in neither); portal CPU for the pages ${f2(limit.portalCpuSeconds)} s`)
        if (limit.rows !== doc.resources) out(`[limit] NOTE: ${int(limit.rows)} rows fetched vs ${int(doc.resources)} pulled`)
        out('\nphase                         resources   seconds    res/s')
        out(`sync: registrar               ${int(reg.resources).padStart(9)} ${f2(reg.seconds).padStart(9)} ${int(reg.resources / reg.seconds).padStart(8)}`)
        out(`sync: doctor (SyncEngine)     ${int(doc.resources).padStart(9)} ${f2(doc.seconds).padStart(9)} ${int(doc.resources / doc.seconds).padStart(8)}`)
        out(`limit: fetch only             ${int(limit.rows).padStart(9)} ${f2(limit.fetchSeconds).padStart(9)} ${int(limit.rows / limit.fetchSeconds).padStart(8)}`)
        out(`limit: insert only            ${int(limit.rows).padStart(9)} ${f2(limit.insertSeconds).padStart(9)} ${int(limit.rows / limit.insertSeconds).padStart(8)}`)
        out(`limit: fetch + insert         ${int(limit.rows).padStart(9)} ${f2(limitSeconds).padStart(9)} ${int(limit.rows / limitSeconds).padStart(8)}`)
        const ratio = limitSeconds / doc.seconds
        const cpuRatio = (limit.cpuSeconds + limit.portalCpuSeconds) / (doc.cpuSeconds + doc.portalCpuSeconds)
        out(`CPU (workstation + portal): sync ${f2(doc.cpuSeconds)} + ${f2(doc.portalCpuSeconds)} s, limit ${f2(limit.cpuSeconds)} + ${f2(limit.portalCpuSeconds)} s → limit / sync by CPU ${f2(cpuRatio)} (by wall ${f2(ratio)})`)
        check('initial sync rate (doctor)', '≥ 20,000 res/s', `${int(doc.resources / doc.seconds)} res/s (${int(doc.resources)} in ${f2(doc.seconds)} s)`, doc.resources / doc.seconds >= 20_000)
        check('limit / sync time', '≥ 0.7', `${f2(ratio)} (by CPU time ${f2(cpuRatio)})`, ratio >= 0.7)
        check('DB size after initial sync', '—', `${mb(docSize.bytes)} MB, ${int(docSize.bytes / doc.resources)} B/resource`, null)
      }

      if (PHASES.has('push')) {
        const runs = await runPush(reg, portal)
        out('\npush                             changes  queue s   push s  changes/s  rejected  conflicts  CPU s: workstation  portal')
        for (const r of runs) {
          out(`${r.what.padEnd(32)} ${int(r.changes).padStart(7)} ${f1(r.queueSeconds).padStart(8)} ${f2(r.pushSeconds).padStart(8)} ${int(r.changes / r.pushSeconds).padStart(10)} ${String(r.rejected).padStart(9)} ${String(r.conflicts).padStart(10)} ${f2(r.cpuSeconds).padStart(19)} ${f2(r.portalCpuSeconds).padStart(7)}`)
          if (r.firstProblem) out(`  first problem: ${r.firstProblem}`)
          const ok = r.rejected === 0 && r.conflicts === 0 && r.pending === 0
          check(`push ${r.what}`, '≤ 10 s', `${f2(r.pushSeconds)} s, ${int(r.changes / r.pushSeconds)}/s${ok ? '' : ` (rejected ${r.rejected}, conflicts ${r.conflicts}, pending ${r.pending})`}`, ok && r.pushSeconds <= 10)
        }
      }
    }

    for (const p of pulled.splice(0)) await p.store.close().catch(() => {})
    await portal?.stop()
    portal = null

    if (PHASES.has('search')) {
      const s = await runSearch(dir)
      out(`\n[search] ${int(PATIENTS)} patients: load ${f1(s.loadSeconds)} s (${int(PATIENTS / s.loadSeconds)} patients/s), ${mb(s.bytes)} MB (${int(s.bytes / PATIENTS)} bytes/patient) file + WAL after checkpoint`)
      out(`[search] ${int(s.overall.n)} queries, limit ${SEARCH_LIMIT}: ${f1((100 * s.nonEmpty) / s.overall.n)} % with hits, the patient the query was made from among the first ${SEARCH_LIMIT} in ${f1((100 * s.found) / s.overall.n)} %`)
      out('\nquery kind                         n    p50 ms    p95 ms    p99 ms   mean ms    max ms')
      const row = (name: string, x: Stats) => out(`${name.padEnd(28)} ${String(x.n).padStart(7)} ${f3(x.p50).padStart(9)} ${f3(x.p95).padStart(9)} ${f3(x.p99).padStart(9)} ${f3(x.mean).padStart(9)} ${f3(x.max).padStart(9)}`)
      row('all (the mix)', s.overall)
      for (const [k, x] of s.byKind) row(`  ${k}`, x)
      row('  (the mix: CPU time)', s.cpu)
      row('first keystroke (1 letter)', s.firstLetter)
      row(`typo, ${f1((100 * s.typoFound) / Math.max(1, s.typo.n))} % found`, s.typo)
      row(`search, the ${SCANS} scanned`, s.searchSameQueries)
      row('LIKE scan of JSON body', s.scanJson)
      row('LIKE scan of sort_name/…', s.scanColumn)
      const ratioMean = s.scanJson.mean / s.searchSameQueries.mean
      const ratioP50 = s.scanJson.p50 / s.searchSameQueries.p50
      out(`speed-up over the JSON scan (same ${SCANS} queries): ${f1(ratioMean)}× by mean, ${f1(ratioP50)}× by p50, ${f1(s.scanJson.p95 / s.searchSameQueries.p95)}× by p95; over the name-column scan ${f1(s.scanColumn.mean / s.searchSameQueries.mean)}× by mean`)
      out('  (the JSON scan: `SELECT id, body FROM resources WHERE type = \'Patient\' AND body LIKE ? [AND body LIKE ?…] LIMIT 50`, one LIKE per word;')
      out('   SQLite\'s LIKE folds only ASCII case, so each Cyrillic pattern is given in the case the JSON stores («%Кузн%»), which')
      out('   only favours the scan; the column scan uses the lower-case, ё→е sort_name, snils or birth_date column of patient_idx;')
      out('   «search, the N scanned» runs each of those queries right after its two scans, which push the search structures out of')
      out('   the page cache: the ratios use these, not the warm figures above)')
      check('search p95 (mix)', '≤ 2 ms', `${f3(s.overall.p95)} ms`, s.overall.p95 <= 2)
      check('search vs LIKE scan (mean)', '≥ 20×', `${f1(ratioMean)}×`, ratioMean >= 20)
      check('search DB size', '—', `${mb(s.bytes)} MB, ${int(s.bytes / PATIENTS)} B/patient`, null)
      check('search load (applyPull)', '—', `${f1(s.loadSeconds)} s, ${int(PATIENTS / s.loadSeconds)}/s`, null)
    }

    out(`\nat the end: ${machineLoad()}`)
    out('result                         target            measured')
    for (const [what, target, value, ok] of verdict) out(`${what.padEnd(30)} ${target.padEnd(17)} ${value}${ok === null ? '' : ok ? '  — met' : '  — NOT met'}`)
  } finally {
    for (const p of pulled) await p.store.close().catch(() => {})
    await portal?.stop()
    if (args.keep) out(`kept: ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
