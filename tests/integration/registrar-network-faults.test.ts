// Sync through a bad network: a workstation (the real core, its own encrypted store) talks to the
// reference portal (real, over TLS) through a loopback proxy (tests/support/fault-proxy.ts) that
// refuses connections, black-holes them, delays every chunk, and resets them in the middle of a
// request or of a response — after the portal took a change and before its answer arrived.
// A queue of registrations, edits and a booking is synced round after round while the proxy
// switches modes (seeded), with more edits made between rounds; then the network heals.
// Afterwards every change is on the portal exactly once, in its final state (no version written
// twice, none out of order), the queue is empty with no conflict or refusal, and the engine had
// reported itself offline while the faults lasted without losing anything from the queue.
// TLS is end to end through the proxy (the portal's certificate names 127.0.0.1).
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { SyncStatus } from '../../src/shared/registrar'
import { isSubsequence, phoneOf, portalPatientIds, portalPatientsByPrefix, portalPhoneHistory } from '../support/crash-storm'
import { seededRandom, startFaultProxy, type FaultMode, type FaultProxy } from '../support/fault-proxy'
import { loginRegistrar, newWorkstation, startRegistrarEnv, type Core, type RegistrarEnv } from '../support/registrar-env'
import { childForm } from '../support/workstation-workload'
import { snilsWithChecksum } from '../../src/shared/validators'

const SEED = 4242
/** СНИЛС range of this file's patients (the seeded clinic's are random; none start so). */
const PREFIX = '720'
const NEW_PATIENTS = 40
const ROUNDS = 36

let env: RegistrarEnv
let proxy: FaultProxy
let core: Core

beforeAll(async () => {
  env = await startRegistrarEnv({ patients: 20 })
  const target = new URL(env.portal.url)
  proxy = await startFaultProxy({ target: { host: target.hostname, port: Number(target.port) }, seed: SEED })
})
afterAll(async () => {
  await core?.close()
  await proxy?.close()
  await env?.close()
})

/**
 * The fault of one sync round, drawn from the seeded PRNG. The first rounds refuse and black-hole;
 * then mostly cuts, at a byte offset drawn log-uniformly so that it lands anywhere from the TLS
 * handshake to the end of a large push (the proxy counts bytes per connection, both ways);
 * delays (which let everything through, slowly) only in the second half.
 */
function drawMode(rand: () => number, round: number): FaultMode {
  if (round === 0) return 'refuse'
  if (round === 1) return 'blackhole'
  const r = rand()
  if (r < 0.08) return 'refuse'
  if (r < 0.13) return 'blackhole'
  if (r < 0.23 && round >= ROUNDS / 2) return { kind: 'delay', ms: 50 + Math.floor(rand() * 250) }
  const afterBytes = Math.round(Math.exp(Math.log(300) + rand() * (Math.log(80_000) - Math.log(300))))
  return { kind: 'cut', side: r < 0.55 ? 'request' : 'response', afterBytes }
}

const label = (m: FaultMode): string =>
  typeof m === 'string' ? m : m.kind === 'delay' ? `delay ${m.ms} ms` : `cut ${m.side ?? 'random'} at ${String(m.afterBytes)}`

it('gets every queued change to the portal exactly once through refused, black-holed, delayed and cut connections', { timeout: 240_000 }, async () => {
  const rand = seededRandom(SEED)
  core = newWorkstation(env, { portalUrl: proxy.httpsUrl, portalTimeoutMs: 2000 })
  const statuses: SyncStatus[] = []
  core.onEvent((event, payload) => {
    if (event === 'sync.status') statuses.push(payload as SyncStatus)
  })
  await loginRegistrar(env, core)
  const h = core.handlers
  expect(await h['sync.now']({})).toMatchObject({ online: true, pending: 0 })
  const before = await portalPatientIds(env)

  // The queue, made while the portal cannot be reached.
  proxy.setMode('refuse')
  /** Local id → the phone of its newest save (every save is acknowledged here: no kills). */
  const finalPhone = new Map<string, string>()
  /** Local id → every phone saved, in order. */
  const saves = new Map<string, string[]>()
  let n = 0
  const phone = () => `+7926${String(++n).padStart(7, '0')}`
  const record = (id: string, p: string) => {
    finalPhone.set(id, p)
    saves.set(id, [...(saves.get(id) ?? []), p])
  }
  const created: string[] = []
  for (let i = 0; i < NEW_PATIENTS; i++) {
    const p = phone()
    const saved = await h['patients.save']({ id: null, form: childForm(snilsWithChecksum(`${PREFIX}${String(i).padStart(6, '0')}`), p, i) })
    record(saved.id, p)
    created.push(saved.id)
  }
  // And edits of patients of the clinic, pulled from the portal.
  const clinic = [...before].sort().slice(0, 8).map((id) => ({ id }))
  expect(clinic.length).toBe(8)
  const edit = async (id: string) => {
    const record0 = await h['patients.get']({ id })
    const p = phone()
    await h['patients.save']({ id, form: { ...record0.form, phone: p } })
    record(id, p)
  }
  for (const c of clinic) await edit(c.id)
  for (const id of created.slice(0, 10)) await edit(id)
  // A booking: the slot and the appointment go together, as one transaction.
  const [doctor] = await h['schedule.doctors']({})
  const from = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10)
  const free = (await h['schedule.slots']({ scheduleId: doctor!.scheduleId, from, days: 7 })).filter((s) => s.status === 'free')
  expect(free.length).toBeGreaterThan(0)
  const booked = await h['appointments.book']({ slotId: free[0]!.id, patientId: created[0]!, reason: 'Диспансеризация' })
  const queued = (await h['sync.status']({})).pending
  expect(queued).toBe(NEW_PATIENTS + clinic.length + 1)

  // Rounds of sync through faults; a few more edits between them (folded into unsent changes,
  // or new changes over what the portal took — whether or not its answer got here).
  const modes: string[] = []
  let lostAnswerRounds = 0
  const everyone = [...created, ...clinic.map((c) => c.id)]
  for (let round = 0; round < ROUNDS; round++) {
    const edits = Math.floor(rand() * 3)
    for (let k = 0; k < edits; k++) await edit(everyone[Math.floor(rand() * everyone.length)]!)
    const mode = drawMode(rand, round)
    modes.push(label(mode))
    proxy.setMode(mode)
    // A fresh connection per round: the fault's byte count starts with the TLS handshake.
    proxy.dropConnections()
    const s = await h['sync.now']({})
    // Never a refusal or a conflict: the faults are the network's, not the data's.
    expect(s, `round ${round} (${label(mode)})`).toMatchObject({ rejected: 0, conflicts: 0 })
    if (mode === 'refuse' || mode === 'blackhole') {
      // Nothing got through: the engine says offline (a black hole by the short timeout) and keeps the queue.
      expect(s, `round ${round} (${label(mode)})`).toMatchObject({ online: false, phase: 'offline', lastError: { code: 'PORTAL_UNREACHABLE' } })
      // The first round: every change still queued (later edits folded into them).
      if (round === 0) expect(s.pending).toBe(queued)
    }
    // Registrations the portal holds while the store still waits for the answer: answers lost.
    const onPortal = new Set((await portalPatientsByPrefix(env, PREFIX)).map((p) => p.id))
    let lost = 0
    for (const id of created) if ((await h['patients.get']({ id })).version === null && onPortal.has(id)) lost++
    if (lost > 0) lostAnswerRounds++
  }
  console.log(`fault rounds: ${modes.join(', ')}; proxy: ${JSON.stringify({ ...proxy.stats, cutLog: proxy.stats.cutLog.length })}; rounds ending with answers lost ${lostAnswerRounds}`)

  // The network heals: a few runs empty the queue.
  proxy.setMode('pass')
  let status = await h['sync.now']({})
  for (let i = 0; i < 5 && status.pending > 0; i++) status = await h['sync.now']({})
  expect(status).toMatchObject({ online: true, phase: 'idle', pending: 0, rejected: 0, conflicts: 0, lastError: null })

  // The faults were real and the engine said so.
  expect(proxy.stats.refused).toBeGreaterThan(0)
  expect(proxy.stats.blackholed).toBeGreaterThan(0)
  expect(proxy.stats.cutLog.filter((c) => c.side === 'request').length).toBeGreaterThan(0)
  expect(proxy.stats.cutLog.filter((c) => c.side === 'response').length).toBeGreaterThan(0)
  expect(lostAnswerRounds, 'rounds where the portal took registrations and their answer was cut').toBeGreaterThan(0)
  const offline = statuses.filter((s) => !s.online && s.phase === 'offline')
  expect(offline.length).toBeGreaterThan(0)
  expect(offline.map((s) => s.lastError?.code)).toContain('PORTAL_UNREACHABLE')
  // The queue was never lost: while offline, what was not yet on the portal was still pending.
  expect(Math.max(...offline.map((s) => s.pending))).toBeGreaterThan(0)
  expect(statuses.every((s) => s.rejected === 0 && s.conflicts === 0)).toBe(true)

  // The portal: each patient once, in its final state, every save at most once and in order.
  const mine = await portalPatientsByPrefix(env, PREFIX)
  expect(mine.map((p) => p.id).sort()).toEqual([...created].sort())
  const ids = [...finalPhone.keys()]
  const current = await env.portal.db.query<{ id: string; version: number; body: string }>(
    `SELECT id, version, body FROM fhir_resources WHERE type = 'Patient' AND NOT deleted AND id = ANY($1::text[])`,
    [ids],
  )
  expect(current).toHaveLength(ids.length)
  const history = await portalPhoneHistory(env, ids)
  for (const row of current) {
    expect(phoneOf(JSON.parse(row.body)), `final phone of ${row.id}`).toBe(finalPhone.get(row.id))
    const local = await h['patients.get']({ id: row.id })
    expect(local).toMatchObject({ version: row.version, change: null })
    expect(local.form.phone).toBe(finalPhone.get(row.id))
    const phones = (history.get(row.id) ?? []).filter((_, i) => !(i === 0 && !created.includes(row.id)))
    expect(isSubsequence(phones, saves.get(row.id)!), `history of ${row.id}: ${phones.join(', ')}`).toBe(true)
  }
  expect([...(await portalPatientIds(env))].filter((id) => !before.has(id) && !created.includes(id))).toEqual([])

  // The booking: one appointment on the slot, booked, and the slot taken by it.
  const appointments = await env.portal.db.query<{ id: string; body: string }>(
    `SELECT id, body FROM fhir_resources WHERE type = 'Appointment' AND NOT deleted AND body LIKE $1`,
    [`%"Slot/${free[0]!.id}"%`],
  )
  expect(appointments.map((a) => [a.id, (JSON.parse(a.body) as { status: string }).status])).toEqual([[booked.id, 'booked']])
  const slot = await env.portal.db.query<{ body: string }>(`SELECT body FROM fhir_resources WHERE type = 'Slot' AND id = $1`, [free[0]!.id])
  expect(JSON.parse(slot[0]!.body)).toMatchObject({ status: 'busy' })
  expect(slot[0]!.body).toContain(`Appointment/${booked.id}`)
})
