// Two registrars' workstations, A and B (the real core each, with its own encrypted store), edit
// the same patients while cut off from the portal, then sync in a random order, settle every
// conflict the way a user might, and sync until nothing is left. Property (fast-check, seeded):
// whatever the edits and the order, every edit is either applied on the portal or was shown to a
// user as a conflict with both versions, and the user's choice is what the portal ends with;
// nothing registered anywhere goes missing; no slot is booked twice; both workstations end with
// an empty queue and the portal's state of every shared patient.
//
// The portal is the real one over TLS (one for all runs); each workstation reaches it through a
// loopback proxy of its own (tests/support/fault-proxy.ts) that refuses connections while the
// workstation is "offline" — the sync engine's own background runs included. Every run uses
// fresh patients and fresh slots, so runs do not depend on each other.
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { patientToForm } from '../../src/main/core/registrar/patient-fhir'
import { AppError } from '../../src/shared/errors'
import type { PatientForm, SyncProblem } from '../../src/shared/registrar'
import { snilsWithChecksum } from '../../src/shared/validators'
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy'
import { seedFhir } from '../../portal/src/fhir/seed'
import { DEMO_OGRN, loginRegistrar, newWorkstation, startRegistrarEnv, type Core, type RegistrarEnv } from '../support/registrar-env'
import { childForm } from '../support/workstation-workload'

const SEED = 73_173
const NUM_RUNS = 25
/** Shared patients per run, slots the runs' bookings aim at, and spare slots for moves. */
const SHARED = 3
const TARGET_SLOTS = 2
const SPARE_SLOTS = 3
/** СНИЛС range of this file's patients (the seeded clinic's are random; none start so). */
const PREFIX = '73'

type Side = 'A' | 'B'

interface Workstation {
  side: Side
  core: Core
  proxy: FaultProxy
}

let env: RegistrarEnv
const ws = {} as Record<Side, Workstation>
/** Free slots on the portal no run has used yet. */
let slotPool: string[] = []

beforeAll(async () => {
  env = await startRegistrarEnv({ patients: 20 })
  // Two more doctors' schedules: enough free slots for a fresh few per run.
  await seedFhir(env.portal.db, { patients: 1, organisationOgrn: DEMO_OGRN, seed: 8 })
  await seedFhir(env.portal.db, { patients: 1, organisationOgrn: DEMO_OGRN, seed: 9 })
  const target = new URL(env.portal.url)
  for (const side of ['A', 'B'] as const) {
    const proxy = await startFaultProxy({ target: { host: target.hostname, port: Number(target.port) } })
    const core = newWorkstation(env, { portalUrl: proxy.httpsUrl })
    await loginRegistrar(env, core)
    ws[side] = { side, core, proxy }
    await syncOnline(ws[side])
  }
  const h = ws.A.core.handlers
  const from = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
  for (const d of await h['schedule.doctors']({})) {
    const slots = await h['schedule.slots']({ scheduleId: d.scheduleId, from, days: 14 })
    slotPool.push(...slots.filter((s) => s.status === 'free' && s.change === null).map((s) => s.id))
  }
  slotPool = slotPool.sort()
  expect(slotPool.length).toBeGreaterThanOrEqual(NUM_RUNS * (TARGET_SLOTS + SPARE_SLOTS))
}, 180_000)

afterAll(async () => {
  for (const w of Object.values(ws)) {
    await w.core.close()
    await w.proxy.close()
  }
  await env?.close()
})

/** The workstation reaches the portal for one sync.now (and whatever its engine runs meanwhile). */
async function syncOnline(w: Workstation) {
  w.proxy.setMode('pass')
  try {
    return await w.core.handlers['sync.now']({})
  } finally {
    w.proxy.setMode('refuse')
  }
}

type Op =
  | { kind: 'edit'; patient: number; field: 'phone' | 'address' }
  | { kind: 'register' }
  | { kind: 'book'; slot: number; patient: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('edit' as const), patient: fc.nat({ max: SHARED - 1 }), field: fc.constantFrom('phone' as const, 'address' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('register' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('book' as const), slot: fc.nat({ max: TARGET_SLOTS - 1 }), patient: fc.nat({ max: SHARED - 1 }) }) },
)

const scenarioArb = fc.record({
  a: fc.array(opArb, { maxLength: 7 }),
  b: fc.array(opArb, { maxLength: 7 }),
  /** Who syncs, in turn, before anyone settles anything. */
  order: fc.array(fc.constantFrom<Side>('A', 'B'), { minLength: 1, maxLength: 5 }),
  /** A user's answer to each patient conflict, in the order they come up. */
  patientChoices: fc.array(fc.constantFrom('local' as const, 'remote' as const), { minLength: 8, maxLength: 8 }),
  /** And to each lost booking: drop it, or move it to another free slot. */
  bookingChoices: fc.array(fc.constantFrom('remote' as const, 'move' as const), { minLength: 4, maxLength: 4 }),
})

const FORM_FIELDS = ['family', 'given', 'patronymic', 'gender', 'birthDate', 'snils', 'oms', 'phone', 'address'] as const
const sameForm = (a: PatientForm, b: PatientForm): boolean => FORM_FIELDS.every((k) => a[k] === b[k])
const formOf = (body: unknown): PatientForm => patientToForm(body as Record<string, unknown>)

interface Conflict {
  side: Side
  problem: SyncProblem
  choice: 'local' | 'remote' | 'move'
  movedTo: string | null
}

async function portalBody(type: string, id: string): Promise<{ version: number; body: Record<string, unknown> } | null> {
  const rows = await env.portal.db.query<{ version: number; body: string }>('SELECT version, body FROM fhir_resources WHERE type = $1 AND id = $2 AND NOT deleted', [type, id])
  return rows[0] ? { version: rows[0].version, body: JSON.parse(rows[0].body) as Record<string, unknown> } : null
}

async function portalForms(id: string): Promise<PatientForm[]> {
  const rows = await env.portal.db.query<{ body: string | null }>("SELECT body FROM fhir_history WHERE type = 'Patient' AND id = $1 ORDER BY version", [id])
  return rows.filter((r) => r.body !== null).map((r) => formOf(JSON.parse(r.body!)))
}

let run = 0
/** What the runs exercised, all together (the property must meet real conflicts of each kind). */
const tally = { edits: 0, registrations: 0, bookings: 0, refusedOnTheSpot: 0, patientLocal: 0, patientRemote: 0, bookingRemote: 0, bookingMove: 0 }

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never

async function scenario(s: Scenario): Promise<void> {
  run++
  const tag = String(run).padStart(3, '0')
  const A = ws.A
  const B = ws.B
  const other = (side: Side): Workstation => (side === 'A' ? B : A)

  // The shared patients, registered on A and pulled by B: both start from the same state.
  const shared: string[] = []
  for (let i = 0; i < SHARED; i++) {
    const saved = await A.core.handlers['patients.save']({ id: null, form: childForm(snilsWithChecksum(`${PREFIX}${tag}0${String(i).padStart(3, '0')}`), `+7917${tag}000${i}`, run * 10 + i) })
    shared.push(saved.id)
  }
  expect(await syncOnline(A)).toMatchObject({ pending: 0, conflicts: 0 })
  expect(await syncOnline(B)).toMatchObject({ pending: 0, conflicts: 0 })
  const original = new Map<string, PatientForm>()
  for (const id of shared) {
    const a = await A.core.handlers['patients.get']({ id })
    const b = await B.core.handlers['patients.get']({ id })
    expect(b).toEqual(a)
    original.set(id, a.form)
  }
  const targets = slotPool.splice(0, TARGET_SLOTS)
  const spares = slotPool.splice(0, SPARE_SLOTS)

  // Offline edits on each side.
  const registered: Array<{ side: Side; id: string; form: PatientForm }> = []
  const bookings: Array<{ side: Side; slot: string; appointment: string }> = []
  let n = 0
  for (const [side, ops] of [['A', s.a], ['B', s.b]] as const) {
    const h = ws[side].core.handlers
    for (const op of ops) {
      n++
      const mark = `${tag}${side === 'A' ? 1 : 2}${String(n).padStart(2, '0')}`
      if (op.kind === 'edit') {
        const id = shared[op.patient]!
        const { form } = await h['patients.get']({ id })
        const next = op.field === 'phone' ? { ...form, phone: `+791${mark}00` } : { ...form, address: `г. Тверь, ул. Свойств, д. ${mark}` }
        await h['patients.save']({ id, form: next })
        tally.edits++
      } else if (op.kind === 'register') {
        const form = childForm(snilsWithChecksum(`${PREFIX}${mark}9`), `+791${mark}01`, n)
        const saved = await h['patients.save']({ id: null, form })
        registered.push({ side, id: saved.id, form })
        tally.registrations++
      } else {
        const slot = targets[op.slot]!
        try {
          const a = await h['appointments.book']({ slotId: slot, patientId: shared[op.patient]!, reason: `Запись ${mark}` })
          bookings.push({ side, slot, appointment: a.id })
          tally.bookings++
        } catch (e) {
          // Booked already on this workstation: refused on the spot, in front of the user.
          if (!(e instanceof AppError && e.code === 'SLOT_TAKEN')) throw e
          expect(bookings.some((b) => b.side === side && b.slot === slot)).toBe(true)
          tally.refusedOnTheSpot++
        }
      }
    }
  }
  /** Each side's own state of each shared patient it edited (its edits fold into one change). */
  const edited: Record<Side, Map<string, PatientForm>> = { A: new Map(), B: new Map() }
  for (const side of ['A', 'B'] as const) {
    for (const id of shared) {
      const r = await ws[side].core.handlers['patients.get']({ id })
      if (r.change !== null) edited[side].set(id, r.form)
    }
  }

  // Sync in the drawn order; every conflict shown is noted, then settled with the drawn choice.
  const conflicts: Conflict[] = []
  const seen = new Set<string>()
  const note = async (w: Workstation) => {
    for (const p of await w.core.handlers['sync.problems']({})) {
      expect(p.kind, `${w.side}: ${p.title}: ${p.message}`).toBe('conflict')
      if (!seen.has(p.changeId)) {
        seen.add(p.changeId)
        conflicts.push({ side: w.side, problem: p, choice: 'local', movedTo: null })
      }
    }
  }
  for (const side of s.order) {
    await syncOnline(ws[side])
    await note(ws[side])
  }
  let patientAnswers = 0
  let bookingAnswers = 0
  for (let round = 0; ; round++) {
    expect(round, 'settled within a few rounds').toBeLessThan(8)
    let open = 0
    for (const w of [A, B]) {
      await syncOnline(w)
      await note(w)
      for (const p of await w.core.handlers['sync.problems']({})) {
        open++
        const c = conflicts.find((x) => x.problem.changeId === p.changeId)!
        if (p.slotTaken) {
          c.choice = s.bookingChoices[bookingAnswers++ % s.bookingChoices.length]!
          if (c.choice === 'move') {
            const booking = bookings.find((b) => b.side === w.side && b.slot === p.resourceId)!
            c.movedTo = spares.shift()!
            await w.core.handlers['appointments.move']({ id: booking.appointment, slotId: c.movedTo })
          } else {
            await w.core.handlers['sync.resolve']({ changeId: p.changeId, choice: 'remote', merged: null })
          }
        } else {
          c.choice = s.patientChoices[patientAnswers++ % s.patientChoices.length]!
          await w.core.handlers['sync.resolve']({ changeId: p.changeId, choice: c.choice, merged: null })
        }
      }
      const status = await syncOnline(w)
      open += status.pending + status.conflicts
      await note(w)
    }
    if (open === 0) break
  }
  // Both up to date with the portal and each other.
  for (const w of [A, B, A]) expect(await syncOnline(w)).toMatchObject({ online: true, pending: 0, rejected: 0, conflicts: 0 })

  // Shared patients: the portal ends with the winner's version — the only side that edited it,
  // or, where both did, the side the user kept in the conflict; both versions were shown.
  for (const id of shared) {
    const onPortal = await portalBody('Patient', id)
    expect(onPortal).not.toBeNull()
    const final = formOf(onPortal!.body)
    const history = await portalForms(id)
    const patientConflicts = conflicts.filter((c) => c.problem.resourceType === 'Patient' && c.problem.resourceId === id)
    const editors = (['A', 'B'] as const).filter((side) => edited[side].has(id))
    if (editors.length === 0) {
      expect(final).toEqual(original.get(id))
      expect(patientConflicts).toEqual([])
    } else if (editors.length === 1) {
      expect(final).toEqual(edited[editors[0]!].get(id))
      expect(patientConflicts).toEqual([])
    } else {
      expect(patientConflicts, `one conflict for patient ${id}`).toHaveLength(1)
      const c = patientConflicts[0]!
      const mine = edited[c.side].get(id)!
      const theirs = edited[other(c.side).side].get(id)!
      expect(sameForm(formOf(c.problem.local), mine), 'the conflict shows our version').toBe(true)
      expect(sameForm(formOf(c.problem.remote), theirs), 'and the portal’s (the other registrar’s)').toBe(true)
      expect(final).toEqual(c.choice === 'local' ? mine : theirs)
    }
    // Every edit is on the portal (some version of it), or was shown and the user chose the other side.
    for (const side of editors) {
      const form = edited[side].get(id)!
      const applied = history.some((h) => sameForm(h, form))
      const declined = patientConflicts.some((c) => c.side === side && c.choice === 'remote' && sameForm(formOf(c.problem.local), form))
      expect(applied || declined, `edit of ${id} on ${side}: applied or shown and declined`).toBe(true)
    }
    // Both workstations hold the portal's state.
    for (const w of [A, B]) {
      const local = await w.core.handlers['patients.get']({ id })
      expect(local).toMatchObject({ version: onPortal!.version, change: null })
      expect(local.form).toEqual(final)
    }
  }

  // Registrations never conflict: each on the portal once, as it was saved.
  for (const r of registered) {
    const rows = await env.portal.db.query<{ id: string; body: string }>(
      `SELECT r.id, r.body FROM fhir_idx_token t JOIN fhir_resources r ON r.type = t.type AND r.id = t.id
       WHERE t.type = 'Patient' AND t.param = 'identifier' AND t.value = $1 AND NOT r.deleted`,
      [r.form.snils],
    )
    expect(rows.map((x) => x.id)).toEqual([r.id])
    expect(formOf(JSON.parse(rows[0]!.body))).toEqual(r.form)
  }

  // Bookings: kept where nobody else booked first; a lost one shown as a conflict, then dropped or
  // moved as the user chose. No slot ends with two appointments.
  for (const b of bookings) {
    const c = conflicts.find((x) => x.side === b.side && x.problem.slotTaken && x.problem.resourceId === b.slot)
    const appointment = await portalBody('Appointment', b.appointment)
    const slotOf = (x: Record<string, unknown>) => (x.slot as Array<{ reference: string }>)[0]!.reference
    if (!c) {
      expect(appointment?.body).toMatchObject({ status: 'booked' })
      expect(slotOf(appointment!.body)).toBe(`Slot/${b.slot}`)
    } else if (c.choice === 'move') {
      expect(appointment?.body).toMatchObject({ status: 'booked' })
      expect(slotOf(appointment!.body)).toBe(`Slot/${c.movedTo!}`)
    } else {
      expect(appointment).toBeNull()
    }
  }
  for (const slot of [...targets, ...spares]) {
    const holders = await env.portal.db.query<{ id: string }>(
      `SELECT id FROM fhir_resources WHERE type = 'Appointment' AND NOT deleted AND body LIKE $1 AND body LIKE '%"status":"booked"%'`,
      [`%"Slot/${slot}"%`],
    )
    expect(holders.length, `appointments on slot ${slot}`).toBeLessThanOrEqual(1)
    const onPortal = await portalBody('Slot', slot)
    expect(onPortal?.body.status).toBe(holders.length === 1 ? 'busy' : 'free')
    if (holders.length === 1) expect(JSON.stringify(onPortal!.body)).toContain(`Appointment/${holders[0]!.id}`)
  }
  for (const c of conflicts) {
    if (c.problem.slotTaken) tally[c.choice === 'move' ? 'bookingMove' : 'bookingRemote']++
    else tally[c.choice === 'local' ? 'patientLocal' : 'patientRemote']++
  }
}

it(`two workstations' offline edits end applied or settled by the user (${NUM_RUNS} runs)`, { timeout: 600_000 }, async () => {
  await fc.assert(fc.asyncProperty(scenarioArb, scenario), { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true })
  console.log(`${run} runs: ${JSON.stringify(tally)}`)
  expect(run).toBe(NUM_RUNS)
  // The runs met conflicts of every kind, settled every way a user can.
  expect(Math.min(tally.patientLocal, tally.patientRemote, tally.bookingRemote, tally.bookingMove)).toBeGreaterThan(0)
  // No slot anywhere on the portal holds two booked appointments.
  const doubles = await env.portal.db.query<{ slot: string; n: number }>(
    `SELECT t.value AS slot, count(*)::int AS n FROM fhir_idx_token t JOIN fhir_idx_token s ON s.type = t.type AND s.id = t.id
     WHERE t.type = 'Appointment' AND t.param = 'slot' AND s.param = 'status' AND s.value = 'booked' GROUP BY t.value HAVING count(*) > 1`,
  )
  expect(doubles).toEqual([])
})
