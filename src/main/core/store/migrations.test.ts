// Upgrading a workstation's store: from every earlier schema version to the current one with its
// data intact and the store working; a store from a newer program refused untouched; a migration
// that fails halfway leaves the version before it.
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { newStoreKey, openDatabase, openKeyedDatabase, type Db } from './database'
import { MIGRATIONS, SCHEMA_VERSION } from './migrations'
import { Store } from './store'
import { thrownAppError } from '../../../../tests/support/app-error'

let dir: string
let key: Buffer
const open: Db[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-migrate-'))
  key = newStoreKey()
})

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close()
  rmSync(dir, { recursive: true, force: true })
})

function track(db: Db): Db {
  open.push(db)
  return db
}

/** The file opened with the key but without openDatabase: no pragmas, no migrations. */
function rawOpen(file: string): Db {
  return track(openKeyedDatabase(file, key))
}


const OLD_PATIENT = {
  resourceType: 'Patient',
  id: 'old-1',
  meta: { versionId: '3' },
  name: [{ use: 'official', family: 'Колесникова', given: ['Вера', 'Павловна'] }],
  birthDate: '1961-02-03',
}
const OLD_APPOINTMENT = {
  resourceType: 'Appointment',
  id: 'a-1',
  status: 'booked',
  start: '2025-04-01T09:00:00+03:00',
  slot: [{ reference: 'Slot/s-1' }],
  participant: [{ actor: { reference: 'Patient/old-1' } }],
}
const OLD_SLOT = { resourceType: 'Slot', id: 's-1', schedule: { reference: 'Schedule/sch-1' }, start: '2025-04-01T09:00:00+03:00', status: 'busy' }
const OLD_USER = { snils: '12345678964', fullName: 'Смирнова Анна Ивановна', position: 'Медицинский регистратор', organisation: 'ГБУЗ ГП № 1', roles: ['registrar'] }

/**
 * Rows a store at each version could hold, written with plain SQL as that version's program wrote
 * them. SEEDS[v - 1] fills the tables migration v made; a store at version k has SEEDS[0..k-1].
 */
const SEEDS: Array<(db: Db) => void> = [
  // 1: resources, base versions, the outbox, audit, sync state.
  (db) => {
    db.prepare('INSERT INTO resources (rid, type, id, body, version) VALUES (1, ?, ?, ?, 3)').run('Patient', 'old-1', JSON.stringify(OLD_PATIENT))
    db.prepare('INSERT INTO resources (rid, type, id, body, version) VALUES (2, ?, ?, ?, NULL)').run('Appointment', 'a-1', JSON.stringify(OLD_APPOINTMENT))
    db.prepare('INSERT INTO resources (rid, type, id, body, version) VALUES (3, ?, ?, ?, 7)').run('Slot', 's-1', JSON.stringify(OLD_SLOT))
    db.prepare('INSERT INTO base_versions (rid, version, body) VALUES (2, NULL, NULL)').run()
    db.prepare(
      `INSERT INTO changes (seq, change_id, action, title, state, created_at, user_snils, user_name)
       VALUES (1, 'c-old', 'appointment.book', 'Запись: Колесникова В. П.', 'pending', '2025-03-01T08:00:00.000Z', ?, ?)`,
    ).run(OLD_USER.snils, OLD_USER.fullName)
    db.prepare("INSERT INTO change_entries (change_seq, pos, type, id, op, body) VALUES (1, 0, 'Appointment', 'a-1', 'put', ?)").run(JSON.stringify(OLD_APPOINTMENT))
    db.prepare(
      `INSERT INTO audit (at, user_snils, user_name, action, type, id, summary)
       VALUES ('2025-03-01T08:00:00.000Z', ?, ?, 'appointment.book', 'Appointment', 'a-1', 'Записана Колесникова В. П.')`,
    ).run(OLD_USER.snils, OLD_USER.fullName)
    db.prepare("INSERT INTO sync_state (key, value) VALUES ('pull.cursor', '812.4')").run()
  },
  // 2: the search indexes of those resources.
  (db) => {
    db.prepare("INSERT INTO patient_names (rowid, name) VALUES (1, 'колесникова вера павловна')").run()
    db.prepare(
      `INSERT INTO patient_idx (rid, snils, oms, birth_date, sort_name, display_name, gender, phone, attached)
       VALUES (1, NULL, NULL, '1961-02-03', 'колесникова вера павловна', 'Колесникова Вера Павловна', NULL, NULL, 0)`,
    ).run()
    db.prepare("INSERT INTO appointment_idx (rid, start, slot_id, patient_id, status) VALUES (2, '2025-04-01T09:00:00+03:00', 's-1', 'old-1', 'booked')").run()
    db.prepare("INSERT INTO slot_idx (rid, schedule_id, start, status) VALUES (3, 'sch-1', '2025-04-01T09:00:00+03:00', 'busy')").run()
  },
  // 3: an offline credential.
  (db) => {
    db.prepare("INSERT INTO offline_credentials (login_key, user_json, verifier, verified_at) VALUES ('digits:12345678964', ?, 'scrypt$32768$8$1$c2FsdA==$aGFzaA==', '2025-02-28T10:00:00.000Z')").run(
      JSON.stringify(OLD_USER),
    )
  },
]

/** Everything in the ordinary tables, for before/after comparisons. */
function dump(db: Db, version: number): Record<string, unknown[]> {
  const tables = ['resources', 'base_versions', 'changes', 'change_entries', 'audit', 'sync_state']
  if (version >= 2) tables.push('patient_idx', 'appointment_idx', 'slot_idx')
  if (version >= 3) tables.push('offline_credentials')
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]))
}

function schemaOf(db: Db): unknown[] {
  return db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all()
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

const actor = { snils: '12345678964', name: 'Смирнова Анна Ивановна' }

describe('migrations', () => {
  it('has a seed for every migration (a new migration needs its representative rows here)', () => {
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length)
    expect(SEEDS).toHaveLength(SCHEMA_VERSION)
  })

  it('stops at the version asked for', () => {
    for (let k = 0; k <= SCHEMA_VERSION; k++) {
      const db = track(openDatabase(join(dir, `v${k}.db`), key, { schemaVersion: k }))
      expect(db.pragma('user_version', { simple: true })).toBe(k)
    }
  })

  for (let k = 0; k < SCHEMA_VERSION; k++) {
    it(`upgrades a store at version ${k} to ${SCHEMA_VERSION} with its data and keeps it working`, () => {
      const file = join(dir, 'store.db')
      const old = openDatabase(file, key, { schemaVersion: k })
      expect(old.pragma('user_version', { simple: true })).toBe(k)
      for (const seed of SEEDS.slice(0, k)) seed(old)
      const before = k > 0 ? dump(old, k) : null
      old.close()

      const db = track(openDatabase(file, key))
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
      if (before) expect(dump(db, k)).toEqual(before)
      // The same schema as a store made at the current version.
      expect(schemaOf(db)).toEqual(schemaOf(track(openDatabase(join(dir, 'fresh.db'), key))))

      const store = new Store(db)
      if (k >= 1) {
        expect(store.get('Patient', 'old-1')).toEqual({ body: OLD_PATIENT, version: 3, change: null })
        expect(store.get('Appointment', 'a-1')).toEqual({ body: OLD_APPOINTMENT, version: null, change: 'pending' })
        expect(store.getState('pull.cursor')).toBe('812.4')
        expect(store.nextChanges(10)).toEqual([
          { seq: 1, changeId: 'c-old', revision: 1, action: 'appointment.book', entries: [{ pos: 0, type: 'Appointment', id: 'a-1', body: OLD_APPOINTMENT, baseVersion: null }] },
        ])
        expect(store.auditList('a-1', 10)).toEqual([
          { at: '2025-03-01T08:00:00.000Z', user: OLD_USER.fullName, action: 'appointment.book', resourceType: 'Appointment', resourceId: 'a-1', summary: 'Записана Колесникова В. П.' },
        ])
      }
      if (k >= 2) {
        expect(store.searchPatients('колесн', 10).rows.map((r) => r.id)).toEqual(['old-1'])
        expect(store.appointmentsOfPatient('old-1').map((a) => a.body.id)).toEqual(['a-1'])
        expect(store.slotsOf('sch-1', '2025-04-01T00:00:00+03:00', '2025-04-02T00:00:00+03:00').map((s) => s.body.id)).toEqual(['s-1'])
      }
      if (k >= 3) expect(store.getOfflineCredential('digits:12345678964')?.userJson).toBe(JSON.stringify(OLD_USER))

      // New work after the upgrade: a patient registered, found, queued after the old change.
      store.commitChange({
        changeId: 'c-new',
        action: 'patient.create',
        title: 'Регистрация: Жуков Семён',
        actor,
        at: '2025-05-01T10:00:00.000Z',
        summary: 'Зарегистрирован пациент Жуков С.',
        entries: [{ type: 'Patient', id: 'new-1', body: { resourceType: 'Patient', id: 'new-1', name: [{ use: 'official', family: 'Жуков', given: ['Семён'] }] } }],
      })
      expect(store.searchPatients('жуков сем', 10).rows.map((r) => [r.id, r.displayName, r.change])).toEqual([['new-1', 'Жуков Семён', 'pending']])
      expect(store.get('Patient', 'new-1')?.change).toBe('pending')
      expect(store.nextChanges(10).map((c) => c.changeId)).toEqual(k >= 1 ? ['c-old', 'c-new'] : ['c-new'])
      if (k === 1) {
        // Indexes came after this patient: an edit indexes it.
        expect(store.searchPatients('колесн', 10).rows).toEqual([])
        store.commitChange({
          changeId: 'c-edit',
          action: 'patient.update',
          title: 'Изменение: Колесникова В. П.',
          actor,
          at: '2025-05-01T10:01:00.000Z',
          summary: 'Изменены данные пациента',
          entries: [{ type: 'Patient', id: 'old-1', body: { ...OLD_PATIENT, meta: undefined, gender: 'female' } }],
        })
        expect(store.searchPatients('колесн', 10).rows.map((r) => [r.id, r.gender, r.change])).toEqual([['old-1', 'female', 'pending']])
      }
    })
  }

  it('refuses a store from a newer program and leaves it as it was', () => {
    const file = join(dir, 'store.db')
    const db = openDatabase(file, key)
    new Store(db).setState('pull.cursor', '99.1')
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const hash = sha256(file)

    const e = thrownAppError(() => openDatabase(file, key))
    expect(e.code).toBe('STORE_UNAVAILABLE')
    expect(e.details).toMatch(new RegExp(`schema ${SCHEMA_VERSION + 1} is newer than this program's ${SCHEMA_VERSION}`))
    expect(sha256(file)).toBe(hash)
    const raw = rawOpen(file)
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1)
    expect(raw.prepare('SELECT value FROM sync_state WHERE key = ?').get('pull.cursor')).toEqual({ value: '99.1' })
  })

  it('rolls back a migration that fails halfway: the version before it stays, with its data', () => {
    const file = join(dir, 'store.db')
    const db = openDatabase(file, key, { schemaVersion: 1 })
    SEEDS[0]!(db)
    const before = dump(db, 1)
    // Migration 2 makes patient_names, patient_idx and more before appointment_idx: this stops it there.
    db.exec('CREATE TABLE appointment_idx (x INTEGER)')
    db.close()

    const e = thrownAppError(() => openDatabase(file, key))
    expect(e.code).toBe('STORE_UNAVAILABLE')
    expect(e.details).toMatch(/appointment_idx already exists/)

    const raw = rawOpen(file)
    expect(raw.pragma('user_version', { simple: true })).toBe(1)
    const names = raw.prepare<[], { name: string }>('SELECT name FROM sqlite_master').all().map((r) => r.name)
    expect(names).toContain('appointment_idx')
    expect(names).not.toContain('patient_names')
    expect(names).not.toContain('patient_idx')
    expect(names).not.toContain('patient_vocab')
    expect(dump(raw, 1)).toEqual(before)
    raw.close()

    // Once the obstacle is gone the same store upgrades.
    const fix = rawOpen(file)
    fix.exec('DROP TABLE appointment_idx')
    fix.close()
    const upgraded = track(openDatabase(file, key))
    expect(upgraded.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(new Store(upgraded).get('Patient', 'old-1')?.version).toBe(3)
  })

  it('commits each migration on its own: a failure in migration 3 keeps 1 and 2', () => {
    const file = join(dir, 'store.db')
    openDatabase(file, key, { schemaVersion: 0 }).close()
    const raw = rawOpen(file)
    raw.exec('CREATE TABLE offline_credentials (x INTEGER)')
    raw.close()

    expect(thrownAppError(() => openDatabase(file, key)).details).toMatch(/offline_credentials already exists/)
    const after = rawOpen(file)
    expect(after.pragma('user_version', { simple: true })).toBe(2)
    const names = after.prepare<[], { name: string }>('SELECT name FROM sqlite_master').all().map((r) => r.name)
    expect(names).toEqual(expect.arrayContaining(['resources', 'changes', 'patient_names', 'patient_idx', 'slot_idx']))
  })

  it('never downgrades: opening with an older target leaves a newer store as it is', () => {
    const file = join(dir, 'store.db')
    openDatabase(file, key).close()
    const db = track(openDatabase(file, key, { schemaVersion: 1 }))
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
  })
})
