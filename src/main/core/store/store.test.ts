// The local store against a real encrypted database in a temp file: the patient search, the
// outbox (one transaction per user action, folding, the push order, answers from the portal,
// problems and how the user settles them), the pull and the audit log.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FHIR_SYSTEMS } from '../../../shared/fhir/systems'
import type { ChangeAction } from '../../../shared/registrar'
import { omsWithChecksum } from '../../../shared/validators/oms'
import { snilsWithChecksum } from '../../../shared/validators/snils'
import { newStoreKey, openDatabase } from './database'
import { ATTACHMENT_EXTENSION, type Json } from './index-fields'
import { Store, type Actor, type ChangeEntryInput, type PullEntry, type PushedEntry } from './store'
import { thrownAppError } from '../../../../tests/support/app-error'

const actor: Actor = { snils: '12345678964', name: 'Смирнова Анна Ивановна' }
const CURSOR = 'pull.cursor'

let dir: string
let store: Store
let tick = 0

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-store-'))
  store = new Store(openDatabase(join(dir, 'store.db'), newStoreKey()))
  tick = 0
})

afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Distinct, increasing instants: audit and outbox rows in the order they were made. */
const at = () => new Date(Date.UTC(2025, 2, 1, 9, 0, tick++)).toISOString()

interface PatientSpec {
  id: string
  family: string
  given: string
  patronymic?: string
  birthDate?: string
  gender?: 'male' | 'female'
  snils?: string
  oms?: string
  phone?: string
  attachedSince?: string
}

function patient(p: PatientSpec): Json {
  const identifier = [
    ...(p.snils ? [{ system: FHIR_SYSTEMS.snils, value: p.snils }] : []),
    ...(p.oms ? [{ system: FHIR_SYSTEMS.oms, value: p.oms }] : []),
  ]
  return {
    resourceType: 'Patient',
    id: p.id,
    name: [{ use: 'official', family: p.family, given: [p.given, ...(p.patronymic ? [p.patronymic] : [])] }],
    ...(p.gender ? { gender: p.gender } : {}),
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    ...(identifier.length > 0 ? { identifier } : {}),
    ...(p.phone ? { telecom: [{ system: 'phone', value: p.phone, use: 'mobile' }] } : {}),
    ...(p.attachedSince
      ? { extension: [{ url: ATTACHMENT_EXTENSION, extension: [{ url: 'id', valueString: 'att-1' }, { url: 'period', valuePeriod: { start: p.attachedSince } }] }] }
      : {}),
  }
}

const withFamily = (body: Json, family: string): Json => {
  const name = (body.name as Array<Json>)[0]!
  const { meta: _meta, ...rest } = body
  return { ...rest, name: [{ ...name, family }] }
}

function commit(changeId: string, action: ChangeAction, entries: ChangeEntryInput[], options: { fold?: boolean; summary?: string } = {}): void {
  store.commitChange({
    changeId,
    action,
    title: `${action} ${entries.map((e) => e.id).join(', ')}`,
    actor,
    at: at(),
    entries,
    summary: options.summary ?? `Изменение ${changeId}`,
    ...(options.fold === undefined ? {} : { fold: options.fold }),
  })
}

const entry = (body: Json): ChangeEntryInput => ({ type: body.resourceType as string, id: body.id as string, body })
const createPatient = (body: Json, changeId = `create-${String(body.id)}`) => commit(changeId, 'patient.create', [entry(body)])
const editPatient = (body: Json, changeId: string, fold = false) => commit(changeId, 'patient.update', [entry(body)], { fold })

const onPortal = (body: Json, version: number): Json => ({ ...body, meta: { versionId: String(version), lastUpdated: '2025-03-01T08:00:00.000Z' } })
/** As the sync engine hands them over: the resource's JSON text as bytes, cut from a history page. */
const pulled = (body: Json, version: number): PullEntry => ({ type: body.resourceType as string, id: body.id as string, version, deleted: false, body: Buffer.from(JSON.stringify(onPortal(body, version))) })
const deletion = (type: string, id: string, version: number): PullEntry => ({ type, id, version, deleted: true, body: null })
const pull = (entries: PullEntry[], cursor = `c-${tick++}`) => store.applyPull(entries, CURSOR, cursor)

const seq = (changeId: string) => store.change(changeId)!.seq
const revision = (changeId: string) =>
  store.db.prepare<[string], { revision: number }>('SELECT revision FROM changes WHERE change_id = ?').get(changeId)?.revision ?? null
const ids = (q: string, limit = 50) => store.searchPatients(q, limit).rows.map((r) => r.id)
const count = (table: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

/** Every row of every table, the FTS index included: "nothing changed" means this is equal. */
function dump(): Record<string, unknown[]> {
  const tables = ['resources', 'base_versions', 'changes', 'change_entries', 'audit', 'sync_state', 'patient_idx', 'appointment_idx', 'slot_idx', 'sqlite_sequence']
  return {
    ...Object.fromEntries(tables.map((t) => [t, store.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()])),
    patient_names: store.db.prepare('SELECT rowid FROM patient_names ORDER BY rowid').all(),
    vocab: store.db.prepare('SELECT term, doc, cnt FROM patient_vocab ORDER BY term').all(),
  }
}

// --- search -------------------------------------------------------------------------------------

const SNILS_1 = snilsWithChecksum('112233445')
const SNILS_2 = snilsWithChecksum('112987654')
const OMS_1 = omsWithChecksum('770000000000001')
const OMS_2 = omsWithChecksum('500000000000123')

const people = {
  ivanov: patient({ id: 'p-ivanov', family: 'Иванов', given: 'Пётр', patronymic: 'Сергеевич', birthDate: '1980-11-25', gender: 'male', snils: SNILS_1, oms: OMS_1, phone: '+79001234567' }),
  ivanova: patient({ id: 'p-ivanova', family: 'Иванова', given: 'Мария', patronymic: 'Петровна', birthDate: '1980-11-25', gender: 'female', snils: SNILS_2 }),
  petrova: patient({ id: 'p-petrova', family: 'Петрова', given: 'Анна', patronymic: 'Ивановна', birthDate: '1992-06-30', gender: 'female' }),
  sidorov: patient({ id: 'p-sidorov', family: 'Сидоров', given: 'Иван', patronymic: 'Петрович', gender: 'male', oms: OMS_2 }),
  yolkin: patient({ id: 'p-yolkin', family: 'Ёлкин', given: 'Семён', patronymic: 'Артёмович' }),
  sheremet: patient({ id: 'p-sheremet', family: 'Шереметьева', given: 'Ольга', patronymic: 'Викторовна' }),
  korsakov: patient({ id: 'p-korsakov', family: 'Римский-Корсаков', given: 'Николай', patronymic: 'Андреевич', attachedSince: '2020-01-15' }),
}

describe('searchPatients', () => {
  beforeEach(() => {
    pull(Object.values(people).map((p, i) => pulled(p, i + 1)))
  })

  it('finds by prefixes of any name parts in any order, sorted by name', () => {
    const expected = ['p-ivanov', 'p-ivanova', 'p-petrova', 'p-sidorov']
    expect(ids('иван петр')).toEqual(expected)
    expect(ids('петр иван')).toEqual(expected)
    expect(ids('Петр Серг')).toEqual(['p-ivanov'])
    expect(ids('серг иванов')).toEqual(['p-ivanov'])
    expect(ids('мар петровна')).toEqual(['p-ivanova'])
    expect(ids('ш')).toEqual(['p-sheremet'])
    expect(ids('корсаков')).toEqual(['p-korsakov'])
    expect(ids('римский-корсаков ник')).toEqual(['p-korsakov'])
    expect(ids('Кузнецов')).toEqual([])
    expect(store.searchPatients('иван петр', 50).kind).toBe('name')
  })

  it('ignores case and ё/е', () => {
    expect(ids('пётр серг')).toEqual(ids('Петр СЕРГ'))
    expect(ids('пётр серг')).toEqual(['p-ivanov'])
    for (const q of ['Ёлкин', 'елкин', 'ЕЛК', 'семен артемович', 'СЕМЁН']) expect(ids(q), q).toEqual(['p-yolkin'])
    expect(ids('ШЕРЕМЕТЬЕВА')).toEqual(['p-sheremet'])
  })

  it('forgives one typo in a word of four letters or more', () => {
    for (const q of ['Шеремитьева', 'Шереметеьва', 'Шереметева', 'Шереметьевва', 'шеремит', 'Ольга Шеремитьева', 'Шеремитьева ольг']) {
      expect(ids(q), q).toEqual(['p-sheremet'])
    }
    expect(ids('Ивонов')).toEqual(['p-ivanov', 'p-ivanova', 'p-petrova'])
  })

  it('does not forgive two typos, a wrong first letter, or a typo in a short word', () => {
    expect(ids('Шеримитьева')).toEqual([])
    expect(ids('Щереметьева')).toEqual([])
    expect(ids('Олш')).toEqual([])
    // Each word must match: a typo-free word that matches nobody stays unmatched.
    expect(ids('Шеремитьева Кузнецова')).toEqual([])
  })

  it('finds by СНИЛС digits typed with or without separators, in СНИЛС order', () => {
    expect(store.searchPatients('112', 50)).toMatchObject({ kind: 'snils' })
    expect(ids('112')).toEqual(['p-ivanov', 'p-ivanova'])
    expect(ids('1122')).toEqual(['p-ivanov'])
    expect(ids('112-233-445 95')).toEqual(['p-ivanov'])
    expect(ids(SNILS_1)).toEqual(['p-ivanov'])
    expect(ids('112 98')).toEqual(['p-ivanova'])
    expect(ids('999')).toEqual([])
  })

  it('finds by полис ОМС from 12 digits on', () => {
    expect(store.searchPatients('7700 0000 0000', 50)).toMatchObject({ kind: 'oms' })
    expect(ids('7700 0000 0000')).toEqual(['p-ivanov'])
    expect(ids('7700 0000 0000 0016')).toEqual(['p-ivanov'])
    expect(ids('500000000000123')).toEqual(['p-sidorov'])
    expect(ids('500000000000124')).toEqual([])
  })

  it('finds by birth date ДД.ММ.ГГГГ', () => {
    expect(store.searchPatients('25.11.1980', 50)).toMatchObject({ kind: 'birthDate' })
    expect(ids('25.11.1980')).toEqual(['p-ivanov', 'p-ivanova'])
    expect(ids('30.06.1992')).toEqual(['p-petrova'])
    expect(ids('01.01.1900')).toEqual([])
  })

  it('answers an empty query with nothing', () => {
    expect(store.searchPatients('', 50)).toEqual({ kind: 'empty', rows: [] })
    expect(store.searchPatients('   ', 50)).toEqual({ kind: 'empty', rows: [] })
  })

  it('returns at most `limit` rows, the first by name', () => {
    expect(ids('иван', 2)).toEqual(['p-ivanov', 'p-ivanova'])
    expect(ids('112', 1)).toEqual(['p-ivanov'])
    expect(ids('25.11.1980', 1)).toEqual(['p-ivanov'])
  })

  it('survives FTS5 query syntax typed as text', () => {
    for (const q of ['"иван', 'иван*', 'NEAR(иван петр)', 'иван OR петр', 'иван AND', '^иван', 'иван:петр', '(((']) {
      expect(() => store.searchPatients(q, 50), q).not.toThrow()
    }
    expect(ids('"иванов"')).toEqual(['p-ivanov', 'p-ivanova', 'p-petrova'])
  })

  it('answers rows with the summary fields', () => {
    expect(store.searchPatients('иванов серг', 50).rows).toEqual([
      {
        id: 'p-ivanov',
        displayName: 'Иванов Пётр Сергеевич',
        birthDate: '1980-11-25',
        gender: 'male',
        snils: SNILS_1,
        oms: OMS_1,
        phone: '+79001234567',
        attached: false,
        change: null,
      },
    ])
    expect(store.searchPatients('римский', 50).rows[0]).toMatchObject({ id: 'p-korsakov', attached: true, snils: null, oms: null, birthDate: null, gender: null })
  })

  it('shows the state of unsent changes: pending, rejected, conflict (the worst one)', () => {
    editPatient(withFamily(people.ivanova, 'Иванова'), 'e-ivanova')
    editPatient(withFamily(people.petrova, 'Петрова'), 'e-petrova')
    store.rejectChange(seq('e-petrova'), 1, 'Отказ')
    editPatient(withFamily(people.sidorov, 'Сидоров'), 'e-sidorov')
    store.conflictChange(seq('e-sidorov'), 1, { type: 'Patient', id: 'p-sidorov', version: 9, body: people.sidorov }, 'Изменено на портале', false)
    editPatient(withFamily(people.sidorov, 'Сидоров'), 'e-sidorov-2', true)
    const changes = Object.fromEntries(store.searchPatients('иван', 50).rows.map((r) => [r.id, r.change]))
    expect(changes).toEqual({ 'p-ivanov': null, 'p-ivanova': 'pending', 'p-petrova': 'rejected', 'p-sidorov': 'conflict' })
    expect(store.get('Patient', 'p-sidorov')?.change).toBe('conflict')
    expect(store.changeStateOf('Patient', 'p-ivanov')).toBeNull()
  })

  it('follows a local rename: the old name is gone, the new one found', () => {
    editPatient(withFamily(people.korsakov, 'Корсаков'), 'rename')
    expect(ids('римск')).toEqual([])
    expect(ids('корсаков ник')).toEqual(['p-korsakov'])
    expect(store.searchPatients('корсаков', 50).rows[0]).toMatchObject({ displayName: 'Корсаков Николай Андреевич', change: 'pending' })
  })
})

// --- the outbox ---------------------------------------------------------------------------------

describe('commitChange', () => {
  it('writes the resource, its indexes, the change with its entries and the audit line', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён', birthDate: '2001-01-02' })
    createPatient(p, 'c-1')
    expect(store.get('Patient', 'p-1')).toEqual({ body: p, version: null, change: 'pending' })
    expect(store.db.prepare('SELECT version, body FROM base_versions').all()).toEqual([{ version: null, body: null }])
    expect(store.db.prepare('SELECT birth_date, display_name FROM patient_idx').all()).toEqual([{ birth_date: '2001-01-02', display_name: 'Жуков Семён' }])
    expect(ids('жуков')).toEqual(['p-1'])
    expect(store.db.prepare('SELECT change_id, action, title, state, revision, user_snils, user_name, message FROM changes').all()).toEqual([
      { change_id: 'c-1', action: 'patient.create', title: 'patient.create p-1', state: 'pending', revision: 1, user_snils: actor.snils, user_name: actor.name, message: null },
    ])
    expect(store.db.prepare('SELECT pos, type, id, op, body FROM change_entries').all()).toEqual([{ pos: 0, type: 'Patient', id: 'p-1', op: 'put', body: JSON.stringify(p) }])
    expect(store.auditList(null, 10)).toEqual([
      { at: '2025-03-01T09:00:00.000Z', user: actor.name, action: 'patient.create', resourceType: 'Patient', resourceId: 'p-1', summary: 'Изменение c-1' },
    ])
    expect(store.counts()).toEqual({ pending: 1, rejected: 0, conflicts: 0 })
    expect(store.unsentChangeOf('Patient', 'p-1')).toEqual({ changeId: 'c-1', action: 'patient.create', state: 'pending' })
  })

  it('writes a booking (slot and appointment) as one change with two entries', () => {
    const slot = { resourceType: 'Slot', id: 's-1', schedule: { reference: 'Schedule/sch-1' }, start: '2025-04-01T09:00:00+03:00', status: 'free' }
    pull([pulled(slot, 4)])
    const busy = { ...slot, status: 'busy' }
    const appointment = { resourceType: 'Appointment', id: 'a-1', status: 'booked', start: slot.start, slot: [{ reference: 'Slot/s-1' }], participant: [{ actor: { reference: 'Patient/p-1' } }] }
    commit('book', 'appointment.book', [entry(busy), entry(appointment)])
    expect(store.change('book')).toEqual({
      seq: 1,
      state: 'pending',
      action: 'appointment.book',
      entries: [
        { type: 'Slot', id: 's-1', body: busy },
        { type: 'Appointment', id: 'a-1', body: appointment },
      ],
      remote: null,
    })
    expect(store.auditList(null, 10).map((a) => [a.resourceType, a.resourceId])).toEqual([
      ['Appointment', 'a-1'],
      ['Slot', 's-1'],
    ])
    expect(store.slotsOf('sch-1', '2025-04-01T00:00:00+03:00', '2025-04-02T00:00:00+03:00')).toEqual([{ body: busy, version: 4, change: 'pending' }])
    expect(store.appointmentsOfPatient('p-1')).toEqual([{ body: appointment, version: null, change: 'pending' }])
    expect(store.appointmentsOfSlots(['s-1', 's-2'])).toEqual([{ body: appointment, version: null, change: 'pending' }])
    expect(store.appointmentsOfSlots([])).toEqual([])
    expect(store.nextChanges(10)[0]!.entries.map((e) => [e.type, e.baseVersion])).toEqual([
      ['Slot', 4],
      ['Appointment', null],
    ])
  })

  it('is all or nothing: an entry that cannot be stored leaves no row of the change', () => {
    const existing = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(existing, 2)])
    const before = dump()
    const broken = { ...patient({ id: 'p-2', family: 'Орлова', given: 'Нина' }), weight: 10n }
    expect(() => commit('c-bad', 'patient.update', [entry(withFamily(existing, 'Жукова')), entry(broken)])).toThrow(/BigInt/)
    expect(dump()).toEqual(before)
    expect(ids('жуков')).toEqual(['p-1'])
    expect(store.get('Patient', 'p-1')).toEqual({ body: onPortal(existing, 2), version: 2, change: null })
    expect(store.get('Patient', 'p-2')).toBeNull()
    expect(ids('орлова')).toEqual([])
  })

  it('is all or nothing: a failure at the last write (the audit line) rolls back the rest', () => {
    createPatient(patient({ id: 'p-0', family: 'Орлова', given: 'Нина' }), 'c-0')
    store.db.exec("CREATE TRIGGER audit_refuses BEFORE INSERT ON audit WHEN NEW.summary = 'сбой' BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
    const before = dump()
    expect(() => commit('c-1', 'patient.create', [entry(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }))], { summary: 'сбой' })).toThrow(/audit refused/)
    // Folding into a change is rolled back too.
    expect(() => commit('c-2', 'patient.update', [entry(patient({ id: 'p-0', family: 'Орлова-Жукова', given: 'Нина' }))], { summary: 'сбой', fold: true })).toThrow(/audit refused/)
    expect(dump()).toEqual(before)
    expect(ids('жуков')).toEqual([])
    expect(revision('c-0')).toBe(1)
    // The store goes on working: the same change commits once the audit takes it.
    commit('c-1', 'patient.create', [entry(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }))])
    expect(ids('жуков')).toEqual(['p-1'])
    expect(store.nextChanges(10).map((c) => [c.seq, c.changeId])).toEqual([
      [1, 'c-0'],
      [2, 'c-1'],
    ])
  })

  it('refuses a second change with the same id, keeping the first', () => {
    createPatient(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }), 'same')
    const before = dump()
    expect(() => createPatient(patient({ id: 'p-2', family: 'Орлова', given: 'Нина' }), 'same')).toThrow(/UNIQUE constraint failed: changes.change_id/)
    expect(dump()).toEqual(before)
  })
})

describe('folding edits', () => {
  it('folds a later edit into a pending single-entry change: latest state, revision bumped', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    createPatient(p, 'c-1')
    const edited = withFamily(p, 'Жукова')
    editPatient(edited, 'c-2', true)
    expect(store.change('c-2')).toBeNull()
    expect(store.change('c-1')).toMatchObject({ state: 'pending', action: 'patient.create', entries: [{ type: 'Patient', id: 'p-1', body: edited }] })
    expect(revision('c-1')).toBe(2)
    expect(store.get('Patient', 'p-1')?.body).toEqual(edited)
    expect(store.auditList('p-1', 10).map((a) => a.action)).toEqual(['patient.update', 'patient.create'])
    expect(store.nextChanges(10)).toEqual([
      { seq: 1, changeId: 'c-1', revision: 2, action: 'patient.create', entries: [{ pos: 0, type: 'Patient', id: 'p-1', body: edited, baseVersion: null }] },
    ])
    // The portal's state under it is still "none": a discard removes the patient.
    expect(store.db.prepare('SELECT version, body FROM base_versions').all()).toEqual([{ version: null, body: null }])
  })

  it('folds a fix into a rejected change and sends it again', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    editPatient(withFamily(p, 'Жуков1'), 'c-1')
    store.rejectChange(seq('c-1'), 1, 'Фамилия содержит цифры')
    expect(store.problems()).toHaveLength(1)
    const fixed = withFamily(p, 'Жуковский')
    editPatient(fixed, 'c-2', true)
    expect(store.change('c-2')).toBeNull()
    expect(store.db.prepare("SELECT state, revision, message FROM changes WHERE change_id = 'c-1'").get()).toEqual({ state: 'pending', revision: 2, message: null })
    expect(store.problems()).toEqual([])
    expect(store.nextChanges(10)).toEqual([
      { seq: 1, changeId: 'c-1', revision: 2, action: 'patient.update', entries: [{ pos: 0, type: 'Patient', id: 'p-1', body: fixed, baseVersion: 3 }] },
    ])
  })

  it('does not fold into a conflict: the edit waits behind it as a change of its own', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    editPatient(withFamily(p, 'Жукова'), 'c-1')
    store.conflictChange(seq('c-1'), 1, { type: 'Patient', id: 'p-1', version: 4, body: onPortal(withFamily(p, 'Жуковская'), 4) }, 'Изменено на портале', false)
    editPatient(withFamily(p, 'Жуковецкая'), 'c-2', true)
    expect(store.change('c-1')?.state).toBe('conflict')
    expect(store.change('c-1')?.entries[0]?.body).toEqual(withFamily(p, 'Жукова'))
    expect(store.change('c-2')?.state).toBe('pending')
    expect(revision('c-1')).toBe(1)
    expect(store.counts()).toEqual({ pending: 1, rejected: 0, conflicts: 1 })
    expect(store.nextChanges(10)).toEqual([])
  })

  it('does not fold into a multi-entry change, nor when not asked to', () => {
    const appointment = { resourceType: 'Appointment', id: 'a-1', status: 'booked', slot: [{ reference: 'Slot/s-1' }] }
    const slot = { resourceType: 'Slot', id: 's-1', status: 'busy' }
    commit('book', 'appointment.book', [entry(slot), entry(appointment)])
    commit('cancel', 'appointment.cancel', [entry({ ...appointment, status: 'cancelled' })], { fold: true })
    expect(store.change('cancel')?.state).toBe('pending')
    expect(revision('book')).toBe(1)
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    createPatient(p, 'c-1')
    editPatient(withFamily(p, 'Жукова'), 'c-2', false)
    expect(store.change('c-2')?.state).toBe('pending')
    expect(revision('c-1')).toBe(1)
  })
})

describe('nextChanges', () => {
  it('lists pending changes oldest first, up to the limit', () => {
    for (const id of ['p-1', 'p-2', 'p-3']) createPatient(patient({ id, family: 'Жуков', given: 'Семён' }), `c-${id}`)
    expect(store.nextChanges(10).map((c) => [c.seq, c.changeId])).toEqual([
      [1, 'c-p-1'],
      [2, 'c-p-2'],
      [3, 'c-p-3'],
    ])
    expect(store.nextChanges(2).map((c) => c.changeId)).toEqual(['c-p-1', 'c-p-2'])
  })

  it('sends one change per resource at a time, the next one over the version the first made', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    const first = withFamily(p, 'Жукова')
    const second = withFamily(p, 'Жуковская')
    editPatient(first, 'e-1')
    editPatient(second, 'e-2')
    createPatient(patient({ id: 'p-2', family: 'Орлова', given: 'Нина' }), 'c-2')
    expect(store.nextChanges(10).map((c) => [c.changeId, c.entries[0]!.baseVersion])).toEqual([
      ['e-1', 3],
      ['c-2', null],
    ])
    expect(store.nextChanges(10)[0]!.entries[0]!.body).toEqual(first)

    store.ackChange(seq('e-1'), 1, [{ type: 'Patient', id: 'p-1', version: 4, body: onPortal(first, 4) }])
    expect(store.nextChanges(10).map((c) => [c.changeId, c.entries[0]!.baseVersion])).toEqual([
      ['e-2', 4],
      ['c-2', null],
    ])
    // The local state stays the newest edit, not the version the portal just made of the first.
    expect(store.get('Patient', 'p-1')).toEqual({ body: second, version: 4, change: 'pending' })
  })

  it('holds back later changes touching a resource of a rejected or conflicting change, through other resources too', () => {
    const slot = { resourceType: 'Slot', id: 's-1', status: 'free' }
    pull([pulled(slot, 1)])
    commit('slot-edit', 'appointment.move', [entry({ ...slot, comment: 'x' })])
    store.rejectChange(seq('slot-edit'), 1, 'Отказ')
    const appointment = { resourceType: 'Appointment', id: 'a-1', status: 'booked', slot: [{ reference: 'Slot/s-1' }] }
    commit('book', 'appointment.book', [entry({ ...slot, status: 'busy' }), entry(appointment)])
    commit('cancel', 'appointment.cancel', [entry({ ...appointment, status: 'cancelled' })])
    createPatient(patient({ id: 'p-9', family: 'Орлова', given: 'Нина' }), 'free')
    expect(store.nextChanges(10).map((c) => c.changeId)).toEqual(['free'])

    // Retried, the rejected change goes first; the ones behind it wait for its answer.
    store.retry('slot-edit')
    expect(store.nextChanges(10).map((c) => c.changeId)).toEqual(['slot-edit', 'free'])
    store.conflictChange(seq('slot-edit'), 2, { type: 'Slot', id: 's-1', version: 2, body: onPortal({ ...slot, status: 'busy' }, 2) }, 'Занято', true)
    expect(store.nextChanges(10).map((c) => c.changeId)).toEqual(['free'])
  })
})

describe('answers from the portal', () => {
  it('ackChange moves the resource to the version made, drops the change and the base row', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    createPatient(p, 'c-1')
    // The portal keeps the name as it normalises it.
    const stored = onPortal(withFamily(p, 'Жуков-Орлов'), 1)
    store.ackChange(seq('c-1'), 1, [{ type: 'Patient', id: 'p-1', version: 1, body: stored }])
    expect(store.get('Patient', 'p-1')).toEqual({ body: stored, version: 1, change: null })
    expect(count('changes')).toBe(0)
    expect(count('change_entries')).toBe(0)
    expect(count('base_versions')).toBe(0)
    expect(store.counts()).toEqual({ pending: 0, rejected: 0, conflicts: 0 })
    expect(store.nextChanges(10)).toEqual([])
    expect(store.searchPatients('жуков-орлов', 10).rows.map((r) => [r.id, r.displayName, r.change])).toEqual([['p-1', 'Жуков-Орлов Семён', null]])
    // Acknowledging changes nothing in the audit log: the user's action is already there.
    expect(store.auditList(null, 10)).toHaveLength(1)
  })

  it('ackChange without a body keeps the local state at the new version', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    const edited = withFamily(p, 'Жукова')
    editPatient(edited, 'c-1')
    store.ackChange(seq('c-1'), 1, [{ type: 'Patient', id: 'p-1', version: 4, body: null }])
    expect(store.get('Patient', 'p-1')).toEqual({ body: edited, version: 4, change: null })
    expect(count('base_versions')).toBe(0)
  })

  it('ackChange of an older revision (an edit folded in after sending) keeps the change pending over the new version', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    createPatient(p, 'c-1')
    const [sent] = store.nextChanges(10)
    expect(sent).toMatchObject({ changeId: 'c-1', revision: 1 })
    const later = withFamily(p, 'Жукова')
    editPatient(later, 'c-2', true)
    store.ackChange(sent!.seq, sent!.revision, [{ type: 'Patient', id: 'p-1', version: 1, body: onPortal(p, 1) }])

    expect(store.change('c-1')?.state).toBe('pending')
    expect(store.get('Patient', 'p-1')).toEqual({ body: later, version: 1, change: 'pending' })
    expect(store.db.prepare('SELECT version, body FROM base_versions').all()).toEqual([{ version: 1, body: JSON.stringify(onPortal(p, 1)) }])
    expect(store.nextChanges(10)).toEqual([
      { seq: sent!.seq, changeId: 'c-1', revision: 2, action: 'patient.create', entries: [{ pos: 0, type: 'Patient', id: 'p-1', body: later, baseVersion: 1 }] },
    ])
    // A reject or conflict answer to the older revision does not settle the newer one either.
    store.rejectChange(sent!.seq, 1, 'Отказ')
    store.conflictChange(sent!.seq, 1, { type: 'Patient', id: 'p-1', version: 1, body: null }, 'Конфликт', false)
    expect(store.change('c-1')?.state).toBe('pending')

    store.ackChange(sent!.seq, 2, [{ type: 'Patient', id: 'p-1', version: 2, body: onPortal(later, 2) }])
    expect(store.get('Patient', 'p-1')).toEqual({ body: onPortal(later, 2), version: 2, change: null })
    expect(count('changes')).toBe(0)
  })

  it('ackChanges settles the answers of a batch together, in order', () => {
    const a = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    const b = patient({ id: 'p-2', family: 'Орлова', given: 'Нина' })
    createPatient(a, 'c-1')
    createPatient(b, 'c-2')
    editPatient(withFamily(a, 'Жукова'), 'c-3')
    store.db.exec(`CREATE TRIGGER refuse_p2 BEFORE DELETE ON base_versions WHEN OLD.rid = (SELECT rid FROM resources WHERE id = 'p-2') BEGIN SELECT RAISE(ABORT, 'base refused'); END`)
    const before = dump()
    const acks: Array<[number, number, PushedEntry[]]> = [
      [seq('c-1'), 1, [{ type: 'Patient', id: 'p-1', version: 1, body: onPortal(a, 1) }]],
      [seq('c-2'), 1, [{ type: 'Patient', id: 'p-2', version: 1, body: onPortal(b, 1) }]],
    ]
    // One answer cannot be written: none of the batch is.
    expect(() => store.ackChanges(acks)).toThrow(/base refused/)
    expect(dump()).toEqual(before)
    store.db.exec('DROP TRIGGER refuse_p2')
    store.ackChanges(acks)
    expect(store.counts()).toEqual({ pending: 1, rejected: 0, conflicts: 0 })
    expect(store.get('Patient', 'p-2')).toEqual({ body: onPortal(b, 1), version: 1, change: null })
    expect(store.get('Patient', 'p-1')).toMatchObject({ version: 1, change: 'pending' })
    expect(store.nextChanges(10).map((c) => [c.changeId, c.entries[0]!.baseVersion])).toEqual([['c-3', 1]])
  })

  it('ackChange of a change discarded meanwhile changes nothing', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    editPatient(withFamily(p, 'Жукова'), 'c-1')
    const [sent] = store.nextChanges(10)
    store.discard('c-1', actor, at(), 'Отменено')
    const before = dump()
    store.ackChange(sent!.seq, sent!.revision, [{ type: 'Patient', id: 'p-1', version: 4, body: onPortal(withFamily(p, 'Жукова'), 4) }])
    expect(dump()).toEqual(before)
  })

  it('rejectChange keeps the change and the portal words; problems() shows it with the local body', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    createPatient(p, 'c-1')
    store.rejectChange(seq('c-1'), 1, 'СНИЛС не прошёл проверку')
    expect(store.get('Patient', 'p-1')?.change).toBe('rejected')
    expect(store.counts()).toEqual({ pending: 0, rejected: 1, conflicts: 0 })
    expect(store.problems()).toEqual([
      {
        changeId: 'c-1',
        kind: 'rejected',
        action: 'patient.create',
        title: 'patient.create p-1',
        message: 'СНИЛС не прошёл проверку',
        resourceType: 'Patient',
        resourceId: 'p-1',
        local: p,
        remote: null,
        slotTaken: false,
        createdAt: '2025-03-01T09:00:00.000Z',
        by: actor.name,
      },
    ])
  })

  it('conflictChange keeps both sides; problems() focuses the entry in conflict and says a slot was taken', () => {
    const slot = { resourceType: 'Slot', id: 's-1', status: 'free', start: '2025-04-01T09:00:00+03:00' }
    pull([pulled(slot, 5)])
    const busy = { ...slot, status: 'busy' }
    const appointment = { resourceType: 'Appointment', id: 'a-1', status: 'booked', slot: [{ reference: 'Slot/s-1' }] }
    commit('book', 'appointment.book', [entry(appointment), entry(busy)])
    const remote = onPortal({ ...slot, status: 'busy', comment: 'Записан другой пациент' }, 6)
    store.conflictChange(seq('book'), 1, { type: 'Slot', id: 's-1', version: 6, body: remote }, 'Это время уже занято', true)
    expect(store.problems()).toEqual([
      expect.objectContaining({ changeId: 'book', kind: 'conflict', message: 'Это время уже занято', resourceType: 'Slot', resourceId: 's-1', local: busy, remote, slotTaken: true }),
    ])
    expect(store.change('book')?.remote).toEqual({ type: 'Slot', id: 's-1', version: 6, body: remote })
    expect(store.get('Slot', 's-1')?.change).toBe('conflict')
    expect(store.get('Appointment', 'a-1')?.change).toBe('conflict')
    expect(store.counts()).toEqual({ pending: 0, rejected: 0, conflicts: 1 })
  })

  it('problems() lists rejected and conflicting changes in the order they were made', () => {
    const a = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    const b = patient({ id: 'p-2', family: 'Орлова', given: 'Нина' })
    pull([pulled(a, 1), pulled(b, 1)])
    editPatient(withFamily(a, 'Жукова'), 'e-1')
    editPatient(withFamily(b, 'Орлов'), 'e-2')
    createPatient(patient({ id: 'p-3', family: 'Серов', given: 'Глеб' }), 'c-3')
    store.conflictChange(seq('e-1'), 1, { type: 'Patient', id: 'p-1', version: 2, body: null }, 'Удалено на портале', false)
    store.rejectChange(seq('e-2'), 1, 'Отказ')
    expect(store.problems().map((p) => [p.changeId, p.kind, p.remote])).toEqual([
      ['e-1', 'conflict', null],
      ['e-2', 'rejected', null],
    ])
  })
})

describe('settling problems', () => {
  function conflicted() {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён', birthDate: '1990-01-01' })
    pull([pulled(p, 3)])
    const ours = { ...withFamily(p, 'Жукова'), gender: 'female' }
    editPatient(ours, 'c-1')
    const theirs = onPortal({ ...p, birthDate: '1990-01-02' }, 5)
    store.conflictChange(seq('c-1'), 1, { type: 'Patient', id: 'p-1', version: 5, body: theirs }, 'Изменено на портале', false)
    return { p, ours, theirs }
  }

  it('resolveKeep(ours) sends our state again over the portal version the user saw', () => {
    const { ours, theirs } = conflicted()
    store.resolveKeep('c-1', null, actor, at(), 'Оставлены изменения регистратуры')
    expect(store.db.prepare("SELECT state, revision, message, remote_type, remote_version, remote_body, slot_taken FROM changes WHERE change_id = 'c-1'").get()).toEqual({
      state: 'pending',
      revision: 2,
      message: null,
      remote_type: null,
      remote_version: null,
      remote_body: null,
      slot_taken: 0,
    })
    expect(store.get('Patient', 'p-1')).toEqual({ body: ours, version: 5, change: 'pending' })
    expect(store.db.prepare('SELECT version, body FROM base_versions').all()).toEqual([{ version: 5, body: JSON.stringify(theirs) }])
    expect(store.nextChanges(10)).toEqual([
      { seq: 1, changeId: 'c-1', revision: 2, action: 'patient.update', entries: [{ pos: 0, type: 'Patient', id: 'p-1', body: ours, baseVersion: 5 }] },
    ])
    expect(store.problems()).toEqual([])
    expect(store.auditList('p-1', 1)).toEqual([
      { at: '2025-03-01T09:00:02.000Z', user: actor.name, action: 'sync.resolve', resourceType: 'Patient', resourceId: 'p-1', summary: 'Оставлены изменения регистратуры' },
    ])
  })

  it('resolveKeep(merged) stores, indexes and sends the merged state', () => {
    const { ours } = conflicted()
    const merged = { ...ours, birthDate: '1990-01-02', name: [{ use: 'official', family: 'Жукова-Серова', given: ['Семён'] }] }
    store.resolveKeep('c-1', merged, actor, at(), 'Объединены изменения')
    expect(store.get('Patient', 'p-1')).toEqual({ body: merged, version: 5, change: 'pending' })
    expect(store.change('c-1')?.entries).toEqual([{ type: 'Patient', id: 'p-1', body: merged }])
    expect(ids('жукова-серова')).toEqual(['p-1'])
    expect(ids('02.01.1990')).toEqual(['p-1'])
    expect(ids('01.01.1990')).toEqual([])
    expect(store.nextChanges(10)[0]!.entries[0]).toEqual({ pos: 0, type: 'Patient', id: 'p-1', body: merged, baseVersion: 5 })
  })

  it('resolveKeep does nothing to a change that is not in conflict', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    createPatient(p, 'c-1')
    store.rejectChange(seq('c-1'), 1, 'Отказ')
    const before = dump()
    store.resolveKeep('c-1', null, actor, at(), 'x')
    store.resolveKeep('no-such-change', null, actor, at(), 'x')
    expect(dump()).toEqual(before)
  })

  it('discard of a conflict takes the portal state the conflict showed', () => {
    const { theirs } = conflicted()
    store.discard('c-1', actor, at(), 'Изменения отменены')
    expect(store.get('Patient', 'p-1')).toEqual({ body: theirs, version: 5, change: null })
    expect(count('changes')).toBe(0)
    expect(count('change_entries')).toBe(0)
    expect(count('base_versions')).toBe(0)
    expect(ids('жукова')).toEqual(['p-1'])
    expect(store.searchPatients('жуков', 10).rows[0]).toMatchObject({ displayName: 'Жуков Семён', birthDate: '1990-01-02', gender: null, change: null })
    expect(store.auditList('p-1', 1)[0]).toMatchObject({ action: 'sync.discard', summary: 'Изменения отменены' })
  })

  it('discard of a rejected edit restores the portal version under it', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    editPatient(withFamily(p, 'Жукова'), 'c-1')
    editPatient(withFamily(p, 'Жуковская'), 'c-2', true)
    store.rejectChange(seq('c-1'), 2, 'Отказ')
    store.discard('c-1', actor, at(), 'Отменено')
    expect(store.get('Patient', 'p-1')).toEqual({ body: onPortal(p, 3), version: 3, change: null })
    expect(ids('жуковская')).toEqual([])
    expect(ids('жуков семен')).toEqual(['p-1'])
  })

  it('discard of a never-sent patient removes it with its index rows', () => {
    createPatient(patient({ id: 'p-1', family: 'Жуков', given: 'Семён', snils: SNILS_1 }), 'c-1')
    store.rejectChange(seq('c-1'), 1, 'Отказ')
    store.discard('c-1', actor, at(), 'Регистрация отменена')
    expect(store.get('Patient', 'p-1')).toBeNull()
    expect(ids('жуков')).toEqual([])
    expect(ids(SNILS_1)).toEqual([])
    for (const t of ['resources', 'patient_idx', 'patient_names', 'base_versions', 'changes', 'change_entries']) expect(count(t), t).toBe(0)
    expect(store.auditList('p-1', 10).map((a) => a.action)).toEqual(['sync.discard', 'patient.create'])
  })

  it('discard drops the later changes that build on the dropped one, and no others', () => {
    const slot = { resourceType: 'Slot', id: 's-1', schedule: { reference: 'Schedule/sch-1' }, start: '2025-04-01T09:00:00+03:00', status: 'free' }
    const other = patient({ id: 'p-9', family: 'Орлова', given: 'Нина' })
    pull([pulled(slot, 2), pulled(other, 1)])
    commit('slot-edit', 'appointment.move', [entry({ ...slot, comment: 'перенос' })])
    store.rejectChange(seq('slot-edit'), 1, 'Отказ')
    const appointment = { resourceType: 'Appointment', id: 'a-1', status: 'booked', slot: [{ reference: 'Slot/s-1' }], participant: [{ actor: { reference: 'Patient/p-9' } }] }
    commit('book', 'appointment.book', [entry({ ...slot, status: 'busy' }), entry(appointment)])
    commit('cancel', 'appointment.cancel', [entry({ ...appointment, status: 'cancelled' })])
    editPatient(withFamily(other, 'Орлова-Серова'), 'unrelated')

    store.discard('slot-edit', actor, at(), 'Отменено')
    expect(store.db.prepare('SELECT change_id FROM changes ORDER BY seq').all()).toEqual([{ change_id: 'unrelated' }])
    expect(store.get('Slot', 's-1')).toEqual({ body: onPortal(slot, 2), version: 2, change: null })
    expect(store.get('Appointment', 'a-1')).toBeNull()
    expect(store.appointmentsOfPatient('p-9')).toEqual([])
    expect(store.get('Patient', 'p-9')?.change).toBe('pending')
    expect(store.auditList(null, 2).map((a) => [a.action, a.resourceType])).toEqual([
      ['sync.discard', 'Appointment'],
      ['sync.discard', 'Slot'],
    ])
  })

  it('retry puts a rejected change back in the queue, and only a rejected one', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    createPatient(p, 'c-1')
    store.rejectChange(seq('c-1'), 1, 'Портал недоступен')
    store.retry('c-1')
    expect(store.db.prepare("SELECT state, revision, message FROM changes WHERE change_id = 'c-1'").get()).toEqual({ state: 'pending', revision: 2, message: null })
    expect(store.nextChanges(10).map((c) => [c.changeId, c.revision])).toEqual([['c-1', 2]])
    store.conflictChange(seq('c-1'), 2, { type: 'Patient', id: 'p-1', version: 1, body: null }, 'Конфликт', false)
    store.retry('c-1')
    expect(store.change('c-1')?.state).toBe('conflict')
  })
})

// --- pull ---------------------------------------------------------------------------------------

describe('applyPull', () => {
  it('leaves full fsync on commit in place for local changes, after a page and after a failed page', () => {
    pull([pulled(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }), 1)])
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2)
    expect(() => store.applyPull([{ type: 'Patient', id: 'p-2', version: 1, deleted: false, body: Buffer.from('{not json') }], CURSOR, 'c-bad')).toThrow()
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2)
    expect(store.get('Patient', 'p-2')).toBeNull()
    expect(store.getState(CURSOR)).not.toBe('c-bad')
  })

  it('refuses a page with a resource that is not well-formed JSON as a portal error; nothing of it is applied', () => {
    const good = pulled(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }), 1)
    // Not indexed, so only the store's json_valid reads it: a trailing comma, a raw control character.
    for (const text of ['{"resourceType":"Observation","id":"o-1",}', '{"resourceType":"Observation","note":"a\u0001"}']) {
      const bad: PullEntry = { type: 'Observation', id: 'o-1', version: 1, deleted: false, body: Buffer.from(text) }
      const e = thrownAppError(() => store.applyPull([good, bad], CURSOR, 'c-bad'))
      expect(e.code).toBe('PORTAL_ERROR')
      expect(e.details).toMatch(/Observation\/o-1 is not well-formed JSON/)
      expect(store.get('Patient', 'p-1')).toBeNull()
      expect(store.getState(CURSOR)).toBeNull()
    }
  })

  it('stores a pulled resource as the very text the portal sent', () => {
    const text = '{"resourceType": "Observation",  "id": "o-1", "status": "final", "note": [{"text": "Жалоб нет \\u2014 \\"ок\\""}]}'
    pull([{ type: 'Observation', id: 'o-1', version: 1, deleted: false, body: Buffer.from(text) }])
    expect(store.db.prepare("SELECT body, typeof(body) AS t FROM resources WHERE id = 'o-1'").get()).toEqual({ body: text, t: 'text' })
    expect(store.get('Observation', 'o-1')?.body).toEqual(JSON.parse(text))
  })

  it('applies new resources and versions, with the cursor', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    expect(pull([pulled(p, 1)], '10.1')).toEqual({ applied: 1, skipped: 0, kept: 0 })
    expect(store.getState(CURSOR)).toBe('10.1')
    expect(store.get('Patient', 'p-1')).toEqual({ body: onPortal(p, 1), version: 1, change: null })
    const renamed = withFamily(p, 'Жуковский')
    expect(pull([pulled(renamed, 2)], '10.2')).toEqual({ applied: 1, skipped: 0, kept: 0 })
    expect(store.get('Patient', 'p-1')).toEqual({ body: onPortal(renamed, 2), version: 2, change: null })
    expect(ids('жуковский')).toEqual(['p-1'])
    expect(ids('жуков семен')).toEqual(['p-1'])
    expect(store.getState(CURSOR)).toBe('10.2')
    expect(count('patient_names')).toBe(1)
    expect(store.listByType('Patient')).toEqual([onPortal(renamed, 2)])
  })

  it('skips versions it already has (overlapping pages, duplicates in a page)', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    const v3 = withFamily(p, 'Жуковский')
    expect(pull([pulled(p, 2), pulled(p, 2), pulled(v3, 3)])).toEqual({ applied: 2, skipped: 1, kept: 0 })
    expect(pull([pulled(p, 2), pulled(v3, 3)])).toEqual({ applied: 0, skipped: 2, kept: 0 })
    expect(pull([pulled(withFamily(p, 'Старый'), 1)])).toEqual({ applied: 0, skipped: 1, kept: 0 })
    expect(store.get('Patient', 'p-1')).toEqual({ body: onPortal(v3, 3), version: 3, change: null })
    expect(ids('старый')).toEqual([])
  })

  it('re-applying the same page changes nothing but the cursor it already has', () => {
    const page = [
      pulled(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }), 1),
      pulled({ resourceType: 'Slot', id: 's-1', schedule: { reference: 'Schedule/sch-1' }, start: '2025-04-01T09:00:00+03:00', status: 'free' }, 1),
      deletion('Patient', 'p-gone', 4),
    ]
    pull(page, '20.3')
    const before = dump()
    expect(pull(page, '20.3')).toEqual({ applied: 1, skipped: 2, kept: 0 })
    expect(dump()).toEqual(before)
  })

  it('keeps resources with unsent changes and notes the newer portal version', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    const ours = withFamily(p, 'Жукова')
    editPatient(ours, 'c-1')
    expect(pull([pulled(withFamily(p, 'Жуковский'), 4)])).toEqual({ applied: 0, skipped: 0, kept: 1 })
    expect(store.get('Patient', 'p-1')).toEqual({ body: ours, version: 3, change: 'pending' })
    expect(store.db.prepare('SELECT remote_version FROM resources').get()).toEqual({ remote_version: 4 })
    expect(ids('жуковский')).toEqual([])
    // Sent with If-Match of the version it was made over: the portal answers 412, a conflict to show.
    expect(store.nextChanges(10)[0]!.entries[0]!.baseVersion).toBe(3)
    // A newer portal version is noted, an older one seen again is not.
    pull([pulled(withFamily(p, 'Жуковский'), 6)])
    pull([pulled(withFamily(p, 'Жуковский'), 5)])
    expect(store.db.prepare('SELECT remote_version FROM resources').get()).toEqual({ remote_version: 6 })
    // A deletion is kept back the same way.
    expect(pull([deletion('Patient', 'p-1', 7)])).toEqual({ applied: 0, skipped: 0, kept: 1 })
    expect(store.get('Patient', 'p-1')?.body).toEqual(ours)
  })

  it('after a discard, shows the newest portal state a pull kept back', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)], '1.1')
    editPatient(withFamily(p, 'Жукова'), 'c-1')
    const theirs = withFamily(p, 'Жуковский')
    pull([pulled(theirs, 4)], '1.2')
    store.rejectChange(seq('c-1'), 1, 'Отказ')
    store.discard('c-1', actor, at(), 'Отменено')
    // The cursor is past version 4: it will not come again, so it must be what is shown now.
    expect(store.getState(CURSOR)).toBe('1.2')
    expect(store.get('Patient', 'p-1')).toEqual({ body: onPortal(theirs, 4), version: 4, change: null })
    expect(ids('жуковский')).toEqual(['p-1'])
  })

  it('after a discard, shows a portal deletion a pull kept back', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    editPatient(withFamily(p, 'Жукова'), 'c-1')
    pull([deletion('Patient', 'p-1', 4)])
    store.rejectChange(seq('c-1'), 1, 'Отказ')
    store.discard('c-1', actor, at(), 'Отменено')
    expect(store.get('Patient', 'p-1')).toBeNull()
    expect(ids('жуков')).toEqual([])
  })

  it('after a discard of a conflict, takes a version pulled after the conflict over the one it showed', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён' })
    pull([pulled(p, 3)])
    editPatient(withFamily(p, 'Жукова'), 'c-1')
    store.conflictChange(seq('c-1'), 1, { type: 'Patient', id: 'p-1', version: 4, body: onPortal(withFamily(p, 'Жуковский'), 4) }, 'Изменено', false)
    const newest = withFamily(p, 'Жуковецкий')
    pull([pulled(newest, 5)])
    store.discard('c-1', actor, at(), 'Отменено')
    expect(store.get('Patient', 'p-1')).toEqual({ body: onPortal(newest, 5), version: 5, change: null })
  })

  it('applies deletions: the resource, its index rows and its name index go', () => {
    const p = patient({ id: 'p-1', family: 'Жуков', given: 'Семён', snils: SNILS_1, birthDate: '1990-01-01' })
    const appointment = { resourceType: 'Appointment', id: 'a-1', status: 'booked', start: '2025-04-01T09:00:00+03:00', participant: [{ actor: { reference: 'Patient/p-1' } }] }
    pull([pulled(p, 1), pulled(appointment, 1), pulled(patient({ id: 'p-2', family: 'Жукова', given: 'Нина' }), 1)])
    expect(ids('жуков')).toEqual(['p-1', 'p-2'])
    expect(pull([deletion('Patient', 'p-1', 2), deletion('Appointment', 'a-1', 2), deletion('Patient', 'never-seen', 1)], '30.1')).toEqual({ applied: 3, skipped: 0, kept: 0 })
    expect(store.get('Patient', 'p-1')).toBeNull()
    expect(store.get('Appointment', 'a-1')).toBeNull()
    expect(ids('жуков')).toEqual(['p-2'])
    expect(ids(SNILS_1)).toEqual([])
    expect(ids('01.01.1990')).toEqual([])
    expect(store.appointmentsOfPatient('p-1')).toEqual([])
    expect(count('patient_idx')).toBe(1)
    expect(count('appointment_idx')).toBe(0)
    expect(store.db.prepare('SELECT rowid FROM patient_names').all()).toHaveLength(1)
    expect(store.getState(CURSOR)).toBe('30.1')
  })

  it('applies a page and its cursor together or not at all', () => {
    pull([pulled(patient({ id: 'p-0', family: 'Орлова', given: 'Нина' }), 1)], '40.0')
    store.db.exec("CREATE TRIGGER refuse_bad BEFORE INSERT ON resources WHEN NEW.id = 'bad' BEGIN SELECT RAISE(ABORT, 'bad row'); END")
    const before = dump()
    expect(() =>
      pull([pulled(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }), 1), pulled(patient({ id: 'bad', family: 'Сбой', given: 'Сбой' }), 1)], '40.1'),
    ).toThrow(/bad row/)
    expect(dump()).toEqual(before)
    expect(store.getState(CURSOR)).toBe('40.0')
    expect(ids('жуков')).toEqual([])
  })

  it('does not keep a page whose cursor cannot be stored', () => {
    pull([pulled(patient({ id: 'p-0', family: 'Орлова', given: 'Нина' }), 1)], '50.0')
    store.db.exec("CREATE TRIGGER refuse_cursor BEFORE UPDATE ON sync_state WHEN NEW.value = '50.1' BEGIN SELECT RAISE(ABORT, 'cursor refused'); END")
    const before = dump()
    expect(() => pull([pulled(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }), 1)], '50.1')).toThrow(/cursor refused/)
    expect(dump()).toEqual(before)
    expect(store.get('Patient', 'p-1')).toBeNull()
  })
})

// --- audit and state ----------------------------------------------------------------------------

describe('audit and sync state', () => {
  it('lists the audit log newest first, for one resource or all, up to the limit', () => {
    createPatient(patient({ id: 'p-1', family: 'Жуков', given: 'Семён' }), 'c-1')
    createPatient(patient({ id: 'p-2', family: 'Орлова', given: 'Нина' }), 'c-2')
    editPatient(patient({ id: 'p-1', family: 'Жукова', given: 'Семён' }), 'c-3', true)
    store.addAudit(at(), { snils: '00000000000', name: 'Врач Петров' }, 'patient.view', 'Patient', 'p-2', 'Просмотр карты')
    expect(store.auditList(null, 10).map((a) => [a.resourceId, a.action, a.user])).toEqual([
      ['p-2', 'patient.view', 'Врач Петров'],
      ['p-1', 'patient.update', actor.name],
      ['p-2', 'patient.create', actor.name],
      ['p-1', 'patient.create', actor.name],
    ])
    expect(store.auditList('p-1', 10).map((a) => [a.action, a.at])).toEqual([
      ['patient.update', '2025-03-01T09:00:02.000Z'],
      ['patient.create', '2025-03-01T09:00:00.000Z'],
    ])
    expect(store.auditList(null, 2).map((a) => a.action)).toEqual(['patient.view', 'patient.update'])
    expect(store.auditList('nobody', 10)).toEqual([])
  })

  it('keeps sync state values by key', () => {
    expect(store.getState('last.sync')).toBeNull()
    store.setState('last.sync', '2025-03-01T10:00:00.000Z')
    store.setState('last.sync', '2025-03-01T11:00:00.000Z')
    expect(store.getState('last.sync')).toBe('2025-03-01T11:00:00.000Z')
  })
})
