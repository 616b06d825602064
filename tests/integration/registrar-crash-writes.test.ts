// Crash safety of local writes: a registrar working offline, the host process killed (SIGKILL, as
// `kill -9`) at seeded random moments — 200 times, most of them while a save is being written.
// Every save acknowledged (patients.save answered) is afterwards in the store as it was left on
// disk, with its newest acknowledged state; after a sync, on the portal exactly once.
//
// What runs: each host is a child process with the real core (createAppCore: the store worker on
// the encrypted SQLite database with synchronous=FULL, the sync engine, the session, the registrar
// service), started from a bundle of its sources — tests/support/workstation-child.ts built by
// child-bundle.ts the way the app ships its main process (tsx would compile the sources again in
// every process and worker, several times slower). The workstation cannot reach the portal: the
// registrar logs in offline, with the credential an online login left in the store. The portal
// (for that first login and the final sync) is the real one over TLS, on PGlite.
// Seeded: CRASH_SEED fixes every kill delay and every workload; where a kill lands still depends
// on timing, so half the kills wait for a save to start before they land, and the test counts
// where they landed and requires enough kills inside saves.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { bundleWorkstationChild, type ChildBundle } from '../support/child-bundle'
import { Ledger, checkLocalAfterStorm, crashConfig, drainAndCheckPortal, killStorm, portalPatientIds, runChild, stormReport } from '../support/crash-storm'
import { startRegistrarEnv, type RegistrarEnv } from '../support/registrar-env'

const CRASH_SEED = 20_251_122
/** СНИЛС range of this file's patients: prefix and phase digit (the seeded clinic's are random). */
const PREFIX = '71'
const PHASE = 1
const KILLS = 200

let env: RegistrarEnv
let bundle: ChildBundle
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-crash-writes-'))
  ;[env, bundle] = await Promise.all([startRegistrarEnv({ patients: 20 }), bundleWorkstationChild()])
})
afterAll(async () => {
  await env?.close()
  bundle?.remove()
  rmSync(dir, { recursive: true, force: true })
})

it(`keeps every acknowledged save through ${KILLS} kills during offline writes, then syncs each once`, { timeout: 400_000 }, async () => {
  const before = await portalPatientIds(env)
  const ledger = new Ledger()
  const base = crashConfig(env, dir, { seed: CRASH_SEED, prefix: PREFIX, phase: PHASE })
  // An online login first: it leaves the credential the offline logins check (and pulls the clinic).
  await runChild({ env, entry: bundle.entry }, { ...base, gen: 0, maxOps: 0, candidates: [] })

  const stats = await killStorm({
    env,
    entry: bundle.entry,
    ledger,
    kills: KILLS,
    seed: CRASH_SEED,
    // The portal is out of reach (nothing listens there): local writes only.
    // A script no machine finishes before its kill (childPhone numbers up to 999 saves).
    config: () => ({ ...base, portalUrl: 'https://127.0.0.1:9/', loginMode: 'offline', createShare: 0.2, maxOps: 999 }),
    startupShare: 0.1,
    windowMs: 250,
    aimAtSaves: 0.5,
  })
  console.log(stormReport('offline writes', stats, ledger))
  expect(stats.kills).toBe(KILLS)
  expect(stats.finished).toBe(0)
  expect(stats.inWrite, 'kills that landed inside a save').toBeGreaterThanOrEqual(KILLS / 2)
  expect(ledger.acks).toBeGreaterThan(KILLS * 5)

  const local = checkLocalAfterStorm(dir, `${PREFIX}${PHASE}`, ledger)
  // Offline, a patient's edits fold into its registration: one change per patient waits.
  expect(local.counts).toEqual({ pending: local.patients.length, rejected: 0, conflicts: 0 })
  await drainAndCheckPortal(env, dir, `${PREFIX}${PHASE}`, ledger, before)
})
