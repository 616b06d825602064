// The registrar's local store and sync against the reference portal over TLS: initial pull,
// local changes pushed once, edits folded, conflicts kept with both sides, booking races.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { snilsWithChecksum } from '../../src/shared/validators'
import { loginRegistrar, newWorkstation, startRegistrarEnv, type Core, type RegistrarEnv } from '../support/registrar-env'

let env: RegistrarEnv
const cores: Core[] = []

beforeAll(async () => {
  env = await startRegistrarEnv({ patients: 20 })
})
afterAll(async () => {
  for (const c of cores) await c.close()
  await env?.close()
})

async function workstation(): Promise<Core> {
  const core = newWorkstation(env)
  cores.push(core)
  await loginRegistrar(env, core)
  return core
}

const form = (over: Partial<Parameters<Core['handlers']['patients.save']>[0]['form']> = {}) => ({
  family: 'Синхронова',
  given: 'Анна',
  patronymic: 'Петровна',
  gender: 'female' as const,
  birthDate: '1990-05-17',
  snils: snilsWithChecksum('135792468'),
  oms: '',
  phone: '+79161234567',
  address: 'г. Москва, ул. Тверская, д. 1',
  ...over,
})

/** Current (not deleted) Patients on the portal with this СНИЛС, read from its database. */
async function portalPatients(snils: string): Promise<Array<{ id: string; version: number; body: Record<string, unknown> }>> {
  const rows = await env.portal.db.query<{ id: string; version: number; body: string }>(
    `SELECT r.id, r.version, r.body FROM fhir_idx_token t JOIN fhir_resources r ON r.type = t.type AND r.id = t.id
     WHERE t.type = 'Patient' AND t.param = 'identifier' AND t.value = $1 AND NOT r.deleted`,
    [snils],
  )
  return rows.map((r) => ({ id: r.id, version: r.version, body: JSON.parse(r.body) as Record<string, unknown> }))
}

describe('initial pull and local search', () => {
  it('pulls the clinic from the portal and finds patients by name, СНИЛС and birth date', async () => {
    const core = await workstation()
    const status = await core.handlers['sync.now']({})
    expect(status).toMatchObject({ online: true, phase: 'idle', pending: 0, lastError: null })
    const all = await core.handlers['patients.search']({ query: 'а', limit: 200 })
    expect(all.items.length).toBeGreaterThan(0)
    const someone = all.items[0]!
    const [family, given] = someone.fullName.split(' ')
    const byName = await core.handlers['patients.search']({ query: `${given!.slice(0, 3)} ${family!.slice(0, 4)}`, limit: 50 })
    expect(byName.kind).toBe('name')
    expect(byName.items.map((p) => p.id)).toContain(someone.id)
    const bySnils = await core.handlers['patients.search']({ query: someone.snils!.slice(0, 6), limit: 50 })
    expect(bySnils.items.map((p) => p.id)).toContain(someone.id)
    const [y, m, d] = someone.birthDate!.split('-')
    const byDate = await core.handlers['patients.search']({ query: `${d}.${m}.${y}`, limit: 50 })
    expect(byDate.items.map((p) => p.id)).toContain(someone.id)
    const doctors = await core.handlers['schedule.doctors']({})
    expect(doctors.length).toBeGreaterThan(0)
  })
})

describe('push', () => {
  it('sends a registered patient once, folds later edits, and keeps working offline-first', async () => {
    const core = await workstation()
    await core.handlers['sync.now']({})
    const snils = snilsWithChecksum('246813579')
    const created = await core.handlers['patients.save']({ id: null, form: form({ snils }) })
    expect(created.change).toBe('pending')
    await core.handlers['patients.save']({ id: created.id, form: form({ snils, phone: '+79169998877' }) })
    expect((await core.handlers['sync.status']({})).pending).toBe(1)
    const status = await core.handlers['sync.now']({})
    expect(status).toMatchObject({ pending: 0, rejected: 0, conflicts: 0, phase: 'idle' })
    const onPortal = await portalPatients(snils)
    expect(onPortal).toHaveLength(1)
    expect(onPortal[0]!.id).toBe(created.id)
    expect(JSON.stringify(onPortal[0]!.body)).toContain('+79169998877')
    const after = await core.handlers['patients.get']({ id: created.id })
    expect(after).toMatchObject({ change: null, version: onPortal[0]!.version })
    await core.handlers['sync.now']({})
    expect(await portalPatients(snils)).toHaveLength(1)
  })

  it('keeps both sides of a conflict and pushes the chosen one over the portal version', async () => {
    const a = await workstation()
    const b = await workstation()
    const snils = snilsWithChecksum('975318642')
    const p = await a.handlers['patients.save']({ id: null, form: form({ snils }) })
    await a.handlers['sync.now']({})
    await b.handlers['sync.now']({})
    await a.handlers['patients.save']({ id: p.id, form: form({ snils, address: 'Адрес А' }) })
    await b.handlers['patients.save']({ id: p.id, form: form({ snils, address: 'Адрес Б' }) })
    await a.handlers['sync.now']({})
    const status = await b.handlers['sync.now']({})
    expect(status.conflicts).toBe(1)
    const [problem] = await b.handlers['sync.problems']({})
    expect(problem).toMatchObject({ kind: 'conflict', resourceType: 'Patient', resourceId: p.id })
    expect(JSON.stringify(problem!.local)).toContain('Адрес Б')
    expect(JSON.stringify(problem!.remote)).toContain('Адрес А')
    await b.handlers['sync.resolve']({ changeId: problem!.changeId, choice: 'local', merged: null })
    const done = await b.handlers['sync.now']({})
    expect(done).toMatchObject({ conflicts: 0, pending: 0 })
    const onPortal = await portalPatients(snils)
    expect(JSON.stringify(onPortal[0]!.body)).toContain('Адрес Б')
    await a.handlers['sync.now']({})
    expect((await a.handlers['patients.get']({ id: p.id })).form.address).toBe('Адрес Б')
  })

  it('lets one of two registrars book a slot; the other sees the conflict and books another slot', async () => {
    const a = await workstation()
    const b = await workstation()
    await a.handlers['sync.now']({})
    await b.handlers['sync.now']({})
    const [doctor] = await a.handlers['schedule.doctors']({})
    const from = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
    const slots = await a.handlers['schedule.slots']({ scheduleId: doctor!.scheduleId, from, days: 14 })
    const free = slots.filter((s) => s.status === 'free')
    expect(free.length).toBeGreaterThan(1)
    const [patient] = (await a.handlers['patients.search']({ query: 'а', limit: 1 })).items
    await a.handlers['appointments.book']({ slotId: free[0]!.id, patientId: patient!.id, reason: '' })
    const mine = await b.handlers['appointments.book']({ slotId: free[0]!.id, patientId: patient!.id, reason: 'Повторный приём' })
    await a.handlers['sync.now']({})
    const status = await b.handlers['sync.now']({})
    expect(status.conflicts).toBe(1)
    const [problem] = await b.handlers['sync.problems']({})
    expect(problem).toMatchObject({ kind: 'conflict', slotTaken: true })
    await b.handlers['sync.now']({})
    // Still a conflict: nothing was sent over the other booking.
    expect((await b.handlers['sync.status']({})).conflicts).toBe(1)
    const moved = await b.handlers['appointments.move']({ id: mine.id, slotId: free[1]!.id })
    expect(moved.slotId).toBe(free[1]!.id)
    const done = await b.handlers['sync.now']({})
    expect(done).toMatchObject({ conflicts: 0, pending: 0 })
    const booked = await env.portal.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM fhir_idx_token WHERE type = 'Appointment' AND param = 'status' AND value = 'booked'
       AND id IN (SELECT id FROM fhir_resources WHERE type = 'Appointment' AND body LIKE $1)`,
      [`%Slot/${free[0]!.id}%`],
    )
    expect(booked[0]!.n).toBe(1)
  })
})
