// Crash safety of sync: a registrar saving patients while the workstation syncs with the portal
// (sync.now after every few saves, and the engine's own runs after each change), the host process
// killed (SIGKILL, as `kill -9`) at seeded random moments — 200 times, most of them in the middle
// of a sync: pulling, pushing, or between the portal taking a change and the store recording it.
// No sync ever reports a conflict or a refusal (a workstation alone never conflicts with itself,
// however often it dies); every acknowledged save is in the store, and after a last sync on the
// portal exactly once, in its newest state, with no version written twice or out of order.
//
// What runs: each host is a child process with the real core (createAppCore: the store worker on
// the encrypted SQLite database, the sync engine, the session, the registrar service), started
// from a bundle of its sources — tests/support/workstation-child.ts built by child-bundle.ts the
// way the app ships its main process (tsx would compile the sources again in every process and
// worker, several times slower). Each logs in online: password, then the one-time code the parent
// reads from the portal's outbox. The portal is the real one over TLS, on PGlite.
// Seeded: CRASH_SEED fixes every kill delay and every workload; where a kill lands still depends
// on timing, so the test counts where they landed and requires enough kills inside sync runs.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { bundleWorkstationChild, type ChildBundle } from '../support/child-bundle'
import { Ledger, checkLocalAfterStorm, crashConfig, drainAndCheckPortal, killStorm, portalPatientIds, stormReport } from '../support/crash-storm'
import { startRegistrarEnv, type RegistrarEnv } from '../support/registrar-env'

const CRASH_SEED = 20_251_123
/** СНИЛС range of this file's patients: prefix and phase digit (the seeded clinic's are random). */
const PREFIX = '71'
const PHASE = 2
const KILLS = 200

let env: RegistrarEnv
let bundle: ChildBundle
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-crash-sync-'))
  ;[env, bundle] = await Promise.all([startRegistrarEnv({ patients: 20 }), bundleWorkstationChild()])
})
afterAll(async () => {
  await env?.close()
  bundle?.remove()
  rmSync(dir, { recursive: true, force: true })
})

it(`pushes every acknowledged save exactly once through ${KILLS} kills during sync`, { timeout: 400_000 }, async () => {
  const before = await portalPatientIds(env)
  const ledger = new Ledger()
  const base = crashConfig(env, dir, { seed: CRASH_SEED, prefix: PREFIX, phase: PHASE })
  const statuses: string[] = []
  const stats = await killStorm({
    env,
    entry: bundle.entry,
    ledger,
    kills: KILLS,
    seed: CRASH_SEED,
    // No offline credential kept: its slow hash would only lengthen every start.
    config: () => ({ ...base, work: 'sync', maxOps: 40, createShare: 0.35, offlineLoginDays: 0 }),
    startupShare: 0.05,
    windowMs: 400,
    onChild: (_gen, lines) => statuses.push(...lines.filter((l) => l.startsWith('synced '))),
  })
  console.log(`${stormReport('sync', stats, ledger)}; ${statuses.length} sync.now runs completed`)
  expect(stats.kills).toBe(KILLS)
  expect(stats.inSync, 'kills that landed inside sync.now').toBeGreaterThanOrEqual(KILLS / 3)
  expect(statuses.length, 'sync.now runs completed between kills').toBeGreaterThan(KILLS / 2)
  // synced <pending> <rejected> <conflicts> <online>: never a conflict or a refusal, always online.
  expect(statuses.filter((s) => !/^synced \d+ 0 0 1$/.test(s))).toEqual([])

  const local = checkLocalAfterStorm(dir, `${PREFIX}${PHASE}`, ledger)
  expect(local.counts).toMatchObject({ rejected: 0, conflicts: 0 })
  await drainAndCheckPortal(env, dir, `${PREFIX}${PHASE}`, ledger, before)
})
