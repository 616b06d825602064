// Crash tests' machinery: a storm of workstation hosts (tests/support/workstation-child.ts) on one
// store folder, each killed with SIGKILL at a seeded random moment; a ledger of what the children
// tried and what they acknowledged; and the checks afterwards — on the store as it was left on
// disk, and on the portal's database after a sync.
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import { DEFAULT_CONFIG_FILE } from '../../src/main/core/config'
import { fileKeySource, openDatabase } from '../../src/main/core/store/database'
import { Store } from '../../src/main/core/store/store'
import { FHIR_SYSTEMS } from '../../src/shared/fhir/systems'
import { codeFor, loginRegistrar, newWorkstation, type RegistrarEnv } from './registrar-env'
import { startChild, type ChildExit, type ChildRun } from './workstation-process'
import { prng, type ChildConfig } from './workstation-workload'
import { DEMO_PASSWORD_ACCOUNT } from '../../portal/src/demo-seed'

/** What the children did to one patient (by СНИЛС), in order. */
export interface Track {
  snils: string
  /** The local id, from the first acknowledgement. */
  id: string | null
  /** Phones of every save started (`try`), oldest first. */
  tries: string[]
  /** Index in `tries` of the newest acknowledged save; -1: none acknowledged. */
  acked: number
}

/** Every `try` and `ack` the children printed. */
export class Ledger {
  readonly patients = new Map<string, Track>()
  tries = 0
  acks = 0

  feed(lines: readonly string[]): void {
    let open: Track | null = null
    for (const line of lines) {
      const t = /^try (\d{11}) (\+7\d{10})$/.exec(line)
      if (t) {
        const snils = t[1]!
        let track = this.patients.get(snils)
        if (!track) {
          track = { snils, id: null, tries: [], acked: -1 }
          this.patients.set(snils, track)
        }
        track.tries.push(t[2]!)
        this.tries++
        open = track
        continue
      }
      const a = /^ack (\S+) (\d{11}) (\+7\d{10})$/.exec(line)
      if (a) {
        const [, id, snils, phone] = a as unknown as [string, string, string, string]
        const track = this.patients.get(snils)
        if (!track || track !== open || track.tries.at(-1) !== phone) throw new Error(`ack without its try: ${line}`)
        if (track.id !== null && track.id !== id) throw new Error(`СНИЛС ${snils} acknowledged as two patients: ${track.id} and ${id}`)
        track.id = id
        track.acked = track.tries.length - 1
        this.acks++
        open = null
      }
    }
  }

  acknowledged(): Track[] {
    return [...this.patients.values()].filter((t) => t.acked >= 0)
  }

  /**
   * The phones the patient may have now: the acknowledged save's or one started after it (a save
   * killed after its commit but before its acknowledgement is durable too, just not promised).
   */
  allowed(track: Track): string[] {
    return track.acked >= 0 ? track.tries.slice(track.acked) : track.tries
  }

  /** Patients a child may edit: the newest ones and a few older ones, picked with `rand`. */
  candidates(rand: () => number, recent = 12, older = 8): string[] {
    const all = [...this.patients.keys()]
    const out = new Set(all.slice(-recent))
    for (let i = 0; i < older && all.length > 0; i++) out.add(all[Math.floor(rand() * all.length)]!)
    return [...out]
  }
}

/** Where each kill landed, by the child's last protocol line. */
export interface StormStats {
  kills: number
  /** Before `ready`: opening the store, migrations, login. */
  startup: number
  /** Between `try` and its `ack`: a save in flight. */
  inWrite: number
  /** Between `syncing` and `synced`: an explicit sync run in flight (a background one may run at any time). */
  inSync: number
  /** Between two steps of the workload. */
  between: number
  /** The child had finished its script. */
  finished: number
  ms: number
  /** Mean time from `go` to `ready` (store opened, logged in), where it was waited for. */
  readyMs: number
}

export interface StormOptions {
  env: RegistrarEnv
  /** The child's entry (its bundle, or the TypeScript source). */
  entry: string
  ledger: Ledger
  kills: number
  seed: number
  /** The child's configuration for one generation (candidates are added here). */
  config: (gen: number) => Omit<ChildConfig, 'candidates' | 'gen'>
  /** Share of kills that land at a random moment of the start (before `ready`). */
  startupShare: number
  /** Kill this many ms after `ready` at most (uniform). */
  windowMs: number
  /**
   * Share of the kills after `ready` that, once that time is up, wait for the next save to start
   * (its `try` line) and land at once: inside the save, at whatever point the pipe's latency
   * gives. The rest land wherever the time falls.
   */
  aimAtSaves?: number
  /** Called with the lines of each child, after its kill. */
  onChild?: (gen: number, lines: readonly string[]) => void
}

export const DEMO_LOGIN = { login: DEMO_PASSWORD_ACCOUNT.phone, password: DEMO_PASSWORD_ACCOUNT.password }

/** The one-time code the portal "sent" to the demo registrar last. */
export function demoCode(env: RegistrarEnv): () => string {
  return () => codeFor(env, DEMO_PASSWORD_ACCOUNT.phone)
}

/**
 * Starts a child, lets it run until a seeded random moment and kills it; again, `kills` times.
 * The next child is started (modules loaded, waiting) while the current one runs, and opens the
 * store only after the current one is dead: one host on a store at a time, as on a workstation.
 */
export async function killStorm(o: StormOptions): Promise<StormStats> {
  const rand = prng(o.seed)
  const stats: StormStats = { kills: 0, startup: 0, inWrite: 0, inSync: 0, between: 0, finished: 0, ms: 0, readyMs: 0 }
  let readySum = 0
  let readyN = 0
  const started = performance.now()
  const live = new Set<ChildRun>()
  const spawn = (gen: number): ChildRun => {
    const child = startChild(o.entry, { ...o.config(gen), gen, candidates: o.ledger.candidates(rand) }, demoCode(o.env))
    live.add(child)
    return child
  }
  let next = spawn(0)
  let readyMs = 500
  try {
    for (let gen = 0; gen < o.kills; gen++) {
      const child = next
      await child.waitFor(/^started$/)
      child.go()
      const goAt = performance.now()
      next = spawn(gen + 1)
      if (rand() < o.startupShare) {
        await sleep(rand() * readyMs)
      } else {
        await child.waitFor(/^ready$|^done$|^fail /)
        const took = performance.now() - goAt
        readyMs = 0.8 * readyMs + 0.2 * took
        readySum += took
        readyN++
        await sleep(rand() * o.windowMs)
        if (o.aimAtSaves && rand() < o.aimAtSaves) await child.waitFor(/^try |^done$/, 60_000, child.lines.length)
      }
      const exit = await child.kill()
      live.delete(child)
      const fail = child.lines.find((l) => l.startsWith('fail '))
      if (fail || (exit.signal !== 'SIGKILL' && exit.code !== 0)) {
        throw new Error(`child ${gen} failed (${exit.code ?? exit.signal}): ${fail ?? ''}\n${child.log.join('\n')}`)
      }
      o.ledger.feed(child.lines)
      o.onChild?.(gen, child.lines)
      stats.kills++
      const last = [...child.lines].reverse().find((l) => /^(ready|try|ack|syncing|synced|done)\b/.test(l))
      if (!last) stats.startup++
      else if (last === 'done') stats.finished++
      else if (last.startsWith('try ')) stats.inWrite++
      else if (last === 'syncing') stats.inSync++
      else stats.between++
    }
  } finally {
    for (const child of live) await child.kill()
  }
  stats.ms = Math.round(performance.now() - started)
  stats.readyMs = readyN > 0 ? Math.round(readySum / readyN) : 0
  return stats
}

/** One run of a child to its end (no kill): a login, a sync, the credential for offline logins. */
export async function runChild(o: Pick<StormOptions, 'env' | 'entry'>, config: ChildConfig): Promise<string[]> {
  const child = startChild(o.entry, config, demoCode(o.env))
  let exit: ChildExit
  try {
    await child.waitFor(/^started$/)
    child.go()
    await child.waitFor(/^(done|fail .*)$/)
    exit = await child.exited
  } finally {
    await child.kill()
  }
  if (exit.code !== 0) throw new Error(`child exited ${exit.code ?? exit.signal}: ${child.lines.join(' | ')}\n${child.log.join('\n')}`)
  return child.lines
}

export interface LocalPatient {
  id: string
  snils: string
  phone: string | null
  version: number | null
  change: string | null
}

/** The store as a killed host left it, opened here with its key file; the rows for a СНИЛС prefix. */
export function readLocalStore(storeDir: string, snilsPrefix: string): { patients: LocalPatient[]; counts: ReturnType<Store['counts']> } {
  const key = fileKeySource(join(storeDir, 'store.key'), {}).load()
  const store = new Store(openDatabase(join(storeDir, 'store.db'), key))
  try {
    const rows = store.db
      .prepare<[string], { id: string; snils: string }>(
        `SELECT r.id, p.snils FROM patient_idx p JOIN resources r ON r.rid = p.rid WHERE p.snils LIKE ? || '%' ORDER BY p.snils`,
      )
      .all(snilsPrefix)
    const patients = rows.map((r) => {
      const stored = store.get('Patient', r.id)!
      return { id: r.id, snils: r.snils, phone: phoneOf(stored.body), version: stored.version, change: stored.change }
    })
    return { patients, counts: store.counts() }
  } finally {
    store.close()
  }
}

export function phoneOf(body: unknown): string | null {
  const telecom = (body as { telecom?: Array<{ system?: string; value?: string }> } | null)?.telecom ?? []
  return telecom.find((t) => t.system === 'phone')?.value ?? null
}

export interface PortalPatient {
  id: string
  snils: string
  version: number
  phone: string | null
}

/** Current (not deleted) Patients on the portal whose СНИЛС starts with `prefix`, from its database. */
export async function portalPatientsByPrefix(env: RegistrarEnv, prefix: string): Promise<PortalPatient[]> {
  const rows = await env.portal.db.query<{ id: string; version: number; body: string; value: string }>(
    `SELECT r.id, r.version, r.body, t.value FROM fhir_idx_token t JOIN fhir_resources r ON r.type = t.type AND r.id = t.id
     WHERE t.type = 'Patient' AND t.param = 'identifier' AND t.system = $1 AND t.value LIKE $2 AND NOT r.deleted ORDER BY t.value`,
    [FHIR_SYSTEMS.snils, `${prefix}%`],
  )
  return rows.map((r) => ({ id: r.id, snils: r.value, version: r.version, phone: phoneOf(JSON.parse(r.body)) }))
}

/** Ids of every current Patient on the portal. */
export async function portalPatientIds(env: RegistrarEnv): Promise<Set<string>> {
  const rows = await env.portal.db.query<{ id: string }>(`SELECT id FROM fhir_resources WHERE type = 'Patient' AND NOT deleted`)
  return new Set(rows.map((r) => r.id))
}

/** Every stored version of these Patients: id → phones, version 1 first. */
export async function portalPhoneHistory(env: RegistrarEnv, ids: string[]): Promise<Map<string, Array<string | null>>> {
  const rows = await env.portal.db.query<{ id: string; version: number; body: string | null }>(
    `SELECT id, version, body FROM fhir_history WHERE type = 'Patient' AND id = ANY($1::text[]) ORDER BY id, version`,
    [ids],
  )
  const out = new Map<string, Array<string | null>>()
  for (const r of rows) {
    const list = out.get(r.id) ?? []
    list.push(r.body ? phoneOf(JSON.parse(r.body)) : null)
    out.set(r.id, list)
  }
  return out
}

/** Is `sub` a subsequence of `seq` (same order, gaps allowed)? */
export function isSubsequence<T>(sub: readonly T[], seq: readonly T[]): boolean {
  let i = 0
  for (const x of seq) if (i < sub.length && sub[i] === x) i++
  return i === sub.length
}

/** A child's configuration for this test's portal and store, before the per-phase choices. */
export function crashConfig(env: RegistrarEnv, dir: string, o: { seed: number; prefix: string; phase: number }): Omit<ChildConfig, 'candidates' | 'gen'> {
  return {
    storeDir: dir,
    portalUrl: env.portal.url,
    caFile: env.fx.manifest.caCertPem,
    ...DEMO_LOGIN,
    loginMode: 'online',
    work: 'writes',
    seed: o.seed,
    prefix: o.prefix,
    phase: o.phase,
    maxOps: 60,
    createShare: 0.3,
    defaultsFile: DEFAULT_CONFIG_FILE,
  }
}

/** The store as the storm left it: every acknowledged save there, nothing the workload did not save. */
export function checkLocalAfterStorm(dir: string, snilsPrefix: string, ledger: Ledger): ReturnType<typeof readLocalStore> {
  const local = readLocalStore(dir, snilsPrefix)
  const bySnils = new Map(local.patients.map((p) => [p.snils, p]))
  expect(bySnils.size, 'one local patient per СНИЛС').toBe(local.patients.length)
  for (const p of local.patients) {
    const track = ledger.patients.get(p.snils)
    expect(track, `local patient ${p.snils} was saved by the workload`).toBeDefined()
    expect(ledger.allowed(track!)).toContain(p.phone)
  }
  for (const track of ledger.acknowledged()) {
    const p = bySnils.get(track.snils)
    expect(p, `acknowledged patient ${track.snils} is in the store`).toBeDefined()
    expect(p!.id).toBe(track.id)
    expect(ledger.allowed(track), `patient ${track.snils}: its last acknowledged phone or a later save`).toContain(p!.phone)
  }
  return local
}

/**
 * Syncs the store to the end with a fresh host (the real core, in this process), then compares
 * the portal with the store and the ledger: each patient once, in its latest state, every save at
 * most once and in order, nothing else new on the portal (`before`: its patients before the storm).
 */
export async function drainAndCheckPortal(env: RegistrarEnv, dir: string, snilsPrefix: string, ledger: Ledger, before: Set<string>): Promise<void> {
  const core = newWorkstation(env, { storeDir: dir })
  try {
    await loginRegistrar(env, core)
    let status = await core.handlers['sync.now']({})
    for (let i = 0; i < 5 && status.pending > 0; i++) status = await core.handlers['sync.now']({})
    expect(status).toMatchObject({ online: true, pending: 0, rejected: 0, conflicts: 0, lastError: null })
  } finally {
    await core.close()
  }

  const local = readLocalStore(dir, snilsPrefix)
  const onPortal = await portalPatientsByPrefix(env, snilsPrefix)
  const portalBySnils = new Map(onPortal.map((p) => [p.snils, p]))
  expect(portalBySnils.size, 'one portal patient per СНИЛС').toBe(onPortal.length)
  // The whole store is there, as it is locally (and the store holds only the workload's saves).
  expect(onPortal.length).toBe(local.patients.length)
  for (const p of local.patients) {
    expect(portalBySnils.get(p.snils), `patient ${p.snils} on the portal`).toMatchObject({ id: p.id, version: p.version!, phone: p.phone })
    expect(p.change).toBeNull()
  }
  for (const track of ledger.acknowledged()) {
    const p = portalBySnils.get(track.snils)
    expect(p, `acknowledged patient ${track.snils} on the portal`).toBeDefined()
    expect(p!.id).toBe(track.id)
    expect(ledger.allowed(track)).toContain(p!.phone)
  }
  // Each save reached the portal at most once and never after a newer one: the versions' phones
  // are the saves' phones in the order they were made.
  const history = await portalPhoneHistory(env, onPortal.map((p) => p.id))
  for (const p of onPortal) {
    const phones = history.get(p.id) ?? []
    expect(isSubsequence(phones, ledger.patients.get(p.snils)!.tries), `history of ${p.snils}: ${phones.join(', ')}`).toBe(true)
    expect(phones.length).toBe(p.version)
  }
  // And no other patient appeared on the portal.
  const mine = new Set(onPortal.map((p) => p.id))
  expect([...(await portalPatientIds(env))].filter((id) => !before.has(id) && !mine.has(id))).toEqual([])
}

export function stormReport(name: string, stats: StormStats, ledger: Ledger): string {
  return (
    `${name}: ${stats.kills} kills in ${(stats.ms / 1000).toFixed(1)} s (start to ready ${stats.readyMs} ms) — at start-up ${stats.startup}, ` +
    `during a save ${stats.inWrite}, during sync.now ${stats.inSync}, between steps ${stats.between}, after the script ${stats.finished}; ` +
    `${ledger.tries} saves started, ${ledger.acks} acknowledged, ${ledger.patients.size} patients`
  )
}
