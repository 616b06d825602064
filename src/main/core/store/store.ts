// The local store: FHIR resources as JSON with their search indexes, the outbox of local changes,
// the audit log and the sync cursor. Synchronous (better-sqlite3); it runs in the store worker so
// the main process never waits on the disk. Every local change is one transaction: the resources,
// their indexes, the outbox rows and the audit row commit together or not at all.
import type { ChangeAction, ChangeState } from '../../../shared/registrar'
import type Database from 'better-sqlite3-multiple-ciphers'
import type { Db } from './database'
import { appointmentIndex, patientIndex, slotIndex, type Json } from './index-fields'
import { parseSearchQuery, typoCandidates } from './search-query'
import { unreadableHistoryPage, type HistoryEntry } from '../sync/fhir-wire'

export interface Actor {
  snils: string
  name: string
}

export interface ChangeEntryInput {
  type: string
  id: string
  /** The whole new state (FHIR JSON); local deletes are not offered to users. */
  body: Json
}

export interface NewChange {
  changeId: string
  action: ChangeAction
  title: string
  actor: Actor
  at: string
  entries: ChangeEntryInput[]
  /** Audit line (Russian): what was done. */
  summary: string
  /**
   * Fold into the newest unsent single-entry change of the same resource (a pending or rejected
   * edit): one request carries the latest state, and fixing a rejected change re-queues it.
   */
  fold?: boolean
}

export interface OutboxEntry {
  pos: number
  type: string
  id: string
  body: Json
  /** If-Match version; null: create (If-None-Match: *). */
  baseVersion: number | null
}

export interface OutboxChange {
  seq: number
  changeId: string
  revision: number
  action: ChangeAction
  entries: OutboxEntry[]
}

export interface PushedEntry {
  type: string
  id: string
  version: number
  /** The portal's stored body (with meta), when it answered with one. */
  body: Json | null
}

export interface RemoteSide {
  type: string
  id: string
  version: number | null
  body: Json | null
}

export interface ProblemRow {
  changeId: string
  kind: 'rejected' | 'conflict'
  action: ChangeAction
  title: string
  message: string
  resourceType: string
  resourceId: string
  local: Json | null
  remote: Json | null
  slotTaken: boolean
  createdAt: string
  by: string
}

export interface PullEntry {
  type: string
  id: string
  version: number
  deleted: boolean
  /** The resource's JSON text as UTF-8 bytes: a slice of the history page, stored as it came. */
  body: Uint8Array | null
}

const jsonOf = (body: Json | Uint8Array): Json => (body instanceof Uint8Array ? (JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as Json) : body)

export interface PullResult {
  applied: number
  skipped: number
  kept: number
}

export interface PatientRow {
  id: string
  displayName: string
  birthDate: string | null
  gender: string | null
  snils: string | null
  oms: string | null
  phone: string | null
  attached: boolean
  change: ChangeState | null
}

export interface StoredResource {
  body: Json
  version: number | null
  change: ChangeState | null
}

const STATE_RANK: Record<ChangeState, number> = { pending: 1, rejected: 2, conflict: 3 }

function worst(states: Array<string | null>): ChangeState | null {
  let out: ChangeState | null = null
  for (const s of states) if (s && (out === null || STATE_RANK[s as ChangeState] > STATE_RANK[out])) out = s as ChangeState
  return out
}

/** A patient search result row: the index's summary columns, the id and the worst unsent change. */
const PATIENT_COLUMNS = `SELECT r.id, p.display_name, p.birth_date, p.gender, p.snils, p.oms, p.phone, p.attached,
  (SELECT max(CASE c.state WHEN 'conflict' THEN 3 WHEN 'rejected' THEN 2 ELSE 1 END)
     FROM change_entries e JOIN changes c ON c.seq = e.change_seq WHERE e.type = 'Patient' AND e.id = r.id) AS change_rank`

/**
 * Name matches taken from FTS5 before sorting by name: bounds the work of short, common prefixes
 * (one letter, «иван») to well under 2 ms. Such a query shows 50 of its first 300 matches in name
 * order; the next letter or word typed narrows it to the exact list.
 */
const FTS_FETCH_LIMIT = 300

export class Store {
  private readonly q: ReturnType<Store['prepare']>

  /** Statements of the methods below, prepared on first use: better-sqlite3 does not cache them,
   * and preparing costs about as much as running a search over a small index. */
  private readonly statements = new Map<string, unknown>()

  constructor(readonly db: Db) {
    this.q = this.prepare()
  }

  private sql<P extends unknown[] = unknown[], R = unknown>(text: string): Database.Statement<P, R> {
    let st = this.statements.get(text) as Database.Statement<P, R> | undefined
    if (!st) {
      st = this.db.prepare<P, R>(text)
      this.statements.set(text, st)
    }
    return st
  }

  private prepare() {
    const db = this.db
    return {
      resource: db.prepare<[string, string], { rid: number; body: string; version: number | null }>('SELECT rid, body, version FROM resources WHERE type = ? AND id = ?'),
      // What a pull needs to know of a resource, without reading its body.
      versionOf: db.prepare<[string, string], { rid: number; version: number | null }>('SELECT rid, version FROM resources WHERE type = ? AND id = ?'),
      // Pulled bodies come as the UTF-8 bytes of their JSON: stored as text without a conversion,
      // once SQLite has found them well-formed (RFC 8259).
      isJson: db.prepare<[Uint8Array], { ok: number }>('SELECT json_valid(CAST(? AS TEXT)) AS ok'),
      insertPulled: db.prepare<[string, string, Uint8Array, number]>('INSERT INTO resources (type, id, body, version) VALUES (?, ?, CAST(? AS TEXT), ?)'),
      replacePulled: db.prepare<[Uint8Array, number, number]>('UPDATE resources SET body = CAST(? AS TEXT), version = ?, remote_version = NULL WHERE rid = ?'),
      upsert: db.prepare<[string, string, string, number | null]>(
        `INSERT INTO resources (type, id, body, version) VALUES (?, ?, ?, ?)
         ON CONFLICT (type, id) DO UPDATE SET body = excluded.body, version = excluded.version, remote_version = NULL
         RETURNING rid`,
      ),
      setBody: db.prepare<[string, number]>('UPDATE resources SET body = ? WHERE rid = ?'),
      setVersion: db.prepare<[number | null, number]>('UPDATE resources SET version = ? WHERE rid = ?'),
      deleteResource: db.prepare<[number]>('DELETE FROM resources WHERE rid = ?'),
      unsentState: db.prepare<[string, string], { state: string }>(
        'SELECT c.state FROM change_entries e JOIN changes c ON c.seq = e.change_seq WHERE e.type = ? AND e.id = ?',
      ),
      hasUnsent: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM change_entries WHERE type = ? AND id = ? LIMIT 1'),
      anyUnsent: db.prepare<[], { one: number }>('SELECT 1 AS one FROM change_entries LIMIT 1'),
      markRemote: db.prepare<[number, number]>('UPDATE resources SET remote_version = max(coalesce(remote_version, 0), ?) WHERE rid = ?'),
      baseInsert: db.prepare<[number, number | null, string | null]>('INSERT OR IGNORE INTO base_versions (rid, version, body) VALUES (?, ?, ?)'),
      base: db.prepare<[number], { version: number | null; body: string | null }>('SELECT version, body FROM base_versions WHERE rid = ?'),
      baseSet: db.prepare<[number | null, string | null, number]>('UPDATE base_versions SET version = ?, body = ? WHERE rid = ?'),
      baseDelete: db.prepare<[number]>('DELETE FROM base_versions WHERE rid = ?'),
      baseNewer: db.prepare<[number, Uint8Array | null, number, number]>('UPDATE base_versions SET version = ?, body = CAST(? AS TEXT) WHERE rid = ? AND (version IS NULL OR version < ?)'),
      ftsDelete: db.prepare<[number]>('DELETE FROM patient_names WHERE rowid = ?'),
      ftsInsert: db.prepare<[number, string]>('INSERT INTO patient_names (rowid, name) VALUES (?, ?)'),
      patientIdx: db.prepare<[number, string | null, string | null, string | null, string, string, string | null, string | null, number]>(
        `INSERT OR REPLACE INTO patient_idx (rid, snils, oms, birth_date, sort_name, display_name, gender, phone, attached)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      appointmentIdx: db.prepare<[number, string | null, string | null, string | null, string | null]>(
        'INSERT OR REPLACE INTO appointment_idx (rid, start, slot_id, patient_id, status) VALUES (?, ?, ?, ?, ?)',
      ),
      slotIdx: db.prepare<[number, string | null, string | null, string | null]>('INSERT OR REPLACE INTO slot_idx (rid, schedule_id, start, status) VALUES (?, ?, ?, ?)'),
      insertChange: db.prepare<[string, string, string, string, string, string]>(
        `INSERT INTO changes (change_id, action, title, state, created_at, user_snils, user_name) VALUES (?, ?, ?, 'pending', ?, ?, ?) RETURNING seq`,
      ),
      insertEntry: db.prepare<[number, number, string, string, string]>("INSERT INTO change_entries (change_seq, pos, type, id, op, body) VALUES (?, ?, ?, ?, 'put', ?)"),
      foldTarget: db.prepare<[string, string], { seq: number; state: string; n: number }>(
        `SELECT c.seq, c.state, (SELECT count(*) FROM change_entries x WHERE x.change_seq = c.seq) AS n
         FROM change_entries e JOIN changes c ON c.seq = e.change_seq
         WHERE e.type = ? AND e.id = ? ORDER BY c.seq DESC LIMIT 1`,
      ),
      foldInto: db.prepare<[number]>("UPDATE changes SET state = 'pending', revision = revision + 1, message = NULL WHERE seq = ?"),
      foldBody: db.prepare<[string, number]>('UPDATE change_entries SET body = ? WHERE change_seq = ?'),
      audit: db.prepare<[string, string, string, string, string, string, string]>(
        'INSERT INTO audit (at, user_snils, user_name, action, type, id, summary) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      state: db.prepare<[string], { value: string }>('SELECT value FROM sync_state WHERE key = ?'),
      setState: db.prepare<[string, string]>('INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      change: db.prepare<[string], ChangeRow>('SELECT * FROM changes WHERE change_id = ?'),
      changeBySeq: db.prepare<[number], ChangeRow>('SELECT * FROM changes WHERE seq = ?'),
      entriesOf: db.prepare<[number], EntryRow>('SELECT pos, type, id, body FROM change_entries WHERE change_seq = ? ORDER BY pos'),
      deleteChange: db.prepare<[number]>('DELETE FROM changes WHERE seq = ?'),
    }
  }

  // --- state -----------------------------------------------------------------------------------

  getState(key: string): string | null {
    return this.q.state.get(key)?.value ?? null
  }

  setState(key: string, value: string): void {
    this.q.setState.run(key, value)
  }

  // --- reads -----------------------------------------------------------------------------------

  get(type: string, id: string): StoredResource | null {
    const row = this.q.resource.get(type, id)
    if (!row) return null
    return { body: JSON.parse(row.body) as Json, version: row.version, change: this.changeStateOf(type, id) }
  }

  changeStateOf(type: string, id: string): ChangeState | null {
    return worst(this.q.unsentState.all(type, id).map((r) => r.state))
  }

  listByType(type: string, limit = 5000): Json[] {
    return this
      .sql<[string, number], { body: string }>('SELECT body FROM resources WHERE type = ? LIMIT ?')
      .all(type, limit)
      .map((r) => JSON.parse(r.body) as Json)
  }

  /** As-you-type patient search: a name (FTS5 prefix, then one typo forgiven), СНИЛС, ОМС or a birth date. */
  searchPatients(text: string, limit: number): { kind: ReturnType<typeof parseSearchQuery>['kind']; rows: PatientRow[] } {
    const query = parseSearchQuery(text)
    const select = `${PATIENT_COLUMNS} FROM patient_idx p JOIN resources r ON r.rid = p.rid`
    let rows: RawPatientRow[] = []
    switch (query.kind) {
      case 'empty':
        break
      case 'birthDate':
        rows = this.sql<[string, number], RawPatientRow>(`${select} WHERE p.birth_date = ? ORDER BY p.sort_name LIMIT ?`).all(query.value, limit)
        break
      case 'snils':
      case 'oms': {
        const col = query.kind === 'snils' ? 'snils' : 'oms'
        rows = this
          .sql<[string, string, number], RawPatientRow>(`${select} WHERE p.${col} >= ? AND p.${col} < ? ORDER BY p.${col} LIMIT ?`)
          .all(query.value, upperBound(query.value), limit)
        break
      }
      case 'name': {
        let match = ftsMatch(query.words.map((w) => [w]))
        rows = this.nameRows(match, limit)
        if (rows.length === 0) {
          // Nothing as typed: forgive one typo in each word of four letters or more.
          const alternatives = query.words.map((w) => (w.length >= 4 ? [w, ...typoCandidates(w, (lo, hi) => this.vocab(lo, hi))] : [w]))
          if (alternatives.some((a) => a.length > 1)) {
            match = ftsMatch(alternatives)
            rows = this.nameRows(match, limit)
          }
        }
        break
      }
    }
    return { kind: query.kind, rows: rows.map(toPatientRow) }
  }

  private nameRows(match: string, limit: number): RawPatientRow[] {
    // Sorted and cut to `limit` on patient_idx alone: only the rows shown are joined to resources
    // (a page of JSON each) and looked up in the outbox.
    return this
      .sql<[string, number, number], RawPatientRow>(
        `WITH m AS (SELECT rowid FROM patient_names WHERE patient_names MATCH ? LIMIT ?),
         top AS (SELECT p.* FROM m JOIN patient_idx p ON p.rid = m.rowid ORDER BY p.sort_name LIMIT ?)
         ${PATIENT_COLUMNS} FROM top p JOIN resources r ON r.rid = p.rid ORDER BY p.sort_name`,
      )
      .all(match, FTS_FETCH_LIMIT, limit)
  }

  private vocab(lo: string, hi: string): string[] {
    return this.sql<[string, string], { term: string }>('SELECT term FROM patient_vocab WHERE term >= ? AND term < ? LIMIT 2000').all(lo, hi).map((r) => r.term)
  }

  /** Appointments of a patient, soonest first. */
  appointmentsOfPatient(patientId: string): StoredResource[] {
    return this.bodies(
      this.sql<[string], { type: string; id: string; body: string; version: number | null }>(
        `SELECT r.type, r.id, r.body, r.version FROM appointment_idx a JOIN resources r ON r.rid = a.rid WHERE a.patient_id = ? ORDER BY a.start`,
      ).all(patientId),
    )
  }

  /** Slots of a schedule in [from, to) (ISO instants compared as text: same offset form). */
  slotsOf(scheduleId: string, from: string, to: string): StoredResource[] {
    return this.bodies(
      this.sql<[string, string, string], { type: string; id: string; body: string; version: number | null }>(
        `SELECT r.type, r.id, r.body, r.version FROM slot_idx s JOIN resources r ON r.rid = s.rid
         WHERE s.schedule_id = ? AND s.start >= ? AND s.start < ? ORDER BY s.start`,
      ).all(scheduleId, from, to),
    )
  }

  /** Appointments (any status) that hold one of these slots. */
  appointmentsOfSlots(slotIds: string[]): StoredResource[] {
    if (slotIds.length === 0) return []
    return this.bodies(
      this.db.prepare<string[], { type: string; id: string; body: string; version: number | null }>(
        `SELECT r.type, r.id, r.body, r.version FROM appointment_idx a JOIN resources r ON r.rid = a.rid
         WHERE a.slot_id IN (${slotIds.map(() => '?').join(',')})`,
      ).all(...slotIds),
    )
  }

  private bodies(rows: Array<{ type: string; id: string; body: string; version: number | null }>): StoredResource[] {
    return rows.map((r) => ({ body: JSON.parse(r.body) as Json, version: r.version, change: this.changeStateOf(r.type, r.id) }))
  }

  // --- local changes ---------------------------------------------------------------------------

  /** A user's action: the new states, the outbox rows and the audit line, in one transaction. */
  commitChange(change: NewChange): void {
    this.db.transaction(() => {
      const folded = change.fold && change.entries.length === 1 ? this.tryFold(change) : false
      for (const e of change.entries) this.writeLocal(e.type, e.id, e.body)
      if (!folded) {
        const { seq } = this.q.insertChange.get(change.changeId, change.action, change.title, change.at, change.actor.snils, change.actor.name) as { seq: number }
        change.entries.forEach((e, pos) => this.q.insertEntry.run(seq, pos, e.type, e.id, JSON.stringify(e.body)))
      }
      for (const e of change.entries) this.q.audit.run(change.at, change.actor.snils, change.actor.name, change.action, e.type, e.id, change.summary)
    }).immediate()
  }

  private tryFold(change: NewChange): boolean {
    const e = change.entries[0]!
    const target = this.q.foldTarget.get(e.type, e.id)
    if (!target || target.n !== 1 || target.state === 'conflict') return false
    this.q.foldInto.run(target.seq)
    this.q.foldBody.run(JSON.stringify(e.body), target.seq)
    return true
  }

  /** The local state of one resource; the portal's state under it is kept once, for a later discard. */
  private writeLocal(type: string, id: string, body: Json): void {
    const existing = this.q.resource.get(type, id)
    if (!this.q.hasUnsent.get(type, id)) {
      if (existing) this.q.baseInsert.run(existing.rid, existing.version, existing.body)
    }
    const json = JSON.stringify(body)
    let rid: number
    if (existing) {
      this.q.setBody.run(json, existing.rid)
      rid = existing.rid
    } else {
      rid = (this.q.upsert.get(type, id, json, null) as { rid: number }).rid
      this.q.baseInsert.run(rid, null, null)
    }
    this.index(rid, type, body, existing !== undefined)
  }

  /** Search rows of a resource; a body given as JSON text is parsed only for the types indexed. */
  private index(rid: number, type: string, body: Json | Uint8Array, replacing: boolean): void {
    const json = (): Json => jsonOf(body)
    switch (type) {
      case 'Patient': {
        const p = patientIndex(json())
        if (replacing) this.q.ftsDelete.run(rid)
        this.q.ftsInsert.run(rid, p.names)
        this.q.patientIdx.run(rid, p.snils, p.oms, p.birthDate, p.sortName, p.displayName, p.gender, p.phone, p.attached ? 1 : 0)
        break
      }
      case 'Appointment': {
        const a = appointmentIndex(json())
        this.q.appointmentIdx.run(rid, a.start, a.slotId, a.patientId, a.status)
        break
      }
      case 'Slot': {
        const s = slotIndex(json())
        this.q.slotIdx.run(rid, s.scheduleId, s.start, s.status)
        break
      }
    }
  }

  private removeLocal(rid: number, type: string): void {
    if (type === 'Patient') this.q.ftsDelete.run(rid)
    this.q.deleteResource.run(rid)
  }

  // --- the outbox, for push --------------------------------------------------------------------

  /**
   * The next changes to send, oldest first, at most one per resource (a later change of the same
   * resource waits for the answer to the earlier one). A change touching a resource whose earlier
   * change was rejected or is in conflict waits until that one is settled: it builds on it.
   */
  nextChanges(limit: number): OutboxChange[] {
    const rows = this.sql<[], ChangeRow>('SELECT * FROM changes ORDER BY seq').iterate()
    const taken = new Set<string>()
    const out: OutboxChange[] = []
    for (const c of rows) {
      const entries = this.q.entriesOf.all(c.seq)
      const keys = entries.map((e) => `${e.type}/${e.id}`)
      const blocked = keys.some((k) => taken.has(k))
      for (const k of keys) taken.add(k)
      if (c.state !== 'pending' || blocked) continue
      out.push({
        seq: c.seq,
        changeId: c.change_id,
        revision: c.revision,
        action: c.action as ChangeAction,
        entries: entries.map((e) => ({ pos: e.pos, type: e.type, id: e.id, body: JSON.parse(e.body!) as Json, baseVersion: this.q.versionOf.get(e.type, e.id)?.version ?? null })),
      })
      if (out.length >= limit) break
    }
    return out
  }

  /** The portal took the change: the resources move to the versions it made. */
  ackChange(seq: number, revision: number, pushed: PushedEntry[]): void {
    this.db.transaction(() => this.ackOne(seq, revision, pushed)).immediate()
  }

  private ackOne(seq: number, revision: number, pushed: PushedEntry[]): void {
    const c = this.q.changeBySeq.get(seq)
    if (!c) return
    const settled = c.revision === revision
    if (settled) this.q.deleteChange.run(seq)
    for (const p of pushed) {
      const row = this.q.resource.get(p.type, p.id)
      if (!row) continue
      if (this.q.hasUnsent.get(p.type, p.id)) {
        // More local changes build on this one: they go with If-Match of the version just made.
        this.q.setVersion.run(p.version, row.rid)
        this.q.baseSet.run(p.version, p.body ? JSON.stringify(p.body) : row.body, row.rid)
      } else {
        this.q.baseDelete.run(row.rid)
        this.q.upsert.run(p.type, p.id, p.body ? JSON.stringify(p.body) : row.body, p.version)
        if (p.body) this.index(row.rid, p.type, p.body, true)
      }
    }
  }

  /**
   * Several ackChange calls in one transaction, in order: the answers of one batch bundle are
   * written with one commit (one disk flush) instead of one each.
   */
  ackChanges(acks: Array<[seq: number, revision: number, pushed: PushedEntry[]]>): void {
    this.db.transaction(() => {
      for (const [seq, revision, pushed] of acks) this.ackOne(seq, revision, pushed)
    }).immediate()
  }

  /** The portal refused the change (validation, access): it stays, with the portal's words. */
  rejectChange(seq: number, revision: number, message: string): void {
    this
      .sql<[string, number, number]>("UPDATE changes SET state = 'rejected', message = ? WHERE seq = ? AND revision = ?")
      .run(message, seq, revision)
  }

  /** Someone else changed a resource first: both versions are kept for the user to settle. */
  conflictChange(seq: number, revision: number, remote: RemoteSide, message: string, slotTaken: boolean): void {
    this
      .sql<[string, string, string, number | null, string | null, number, number, number]>(
        `UPDATE changes SET state = 'conflict', message = ?, remote_type = ?, remote_id = ?, remote_version = ?, remote_body = ?, slot_taken = ?
         WHERE seq = ? AND revision = ?`,
      )
      .run(message, remote.type, remote.id, remote.version, remote.body ? JSON.stringify(remote.body) : null, slotTaken ? 1 : 0, seq, revision)
  }

  counts(): { pending: number; rejected: number; conflicts: number } {
    const rows = this.sql<[], { state: string; n: number }>('SELECT state, count(*) AS n FROM changes GROUP BY state').all()
    const n = (s: string) => rows.find((r) => r.state === s)?.n ?? 0
    return { pending: n('pending'), rejected: n('rejected'), conflicts: n('conflict') }
  }

  problems(): ProblemRow[] {
    return this
      .sql<[], ChangeRow>("SELECT * FROM changes WHERE state IN ('rejected', 'conflict') ORDER BY seq")
      .all()
      .map((c) => {
        const entries = this.q.entriesOf.all(c.seq)
        const focus = (c.remote_type && entries.find((e) => e.type === c.remote_type && e.id === c.remote_id)) || entries[0]!
        return {
          changeId: c.change_id,
          kind: c.state as 'rejected' | 'conflict',
          action: c.action as ChangeAction,
          title: c.title,
          message: c.message ?? '',
          resourceType: focus.type,
          resourceId: focus.id,
          local: focus.body ? (JSON.parse(focus.body) as Json) : null,
          remote: c.remote_body ? (JSON.parse(c.remote_body) as Json) : null,
          slotTaken: c.slot_taken === 1,
          createdAt: c.created_at,
          by: c.user_name,
        }
      })
  }

  change(changeId: string): { seq: number; state: ChangeState; action: ChangeAction; entries: ChangeEntryInput[]; remote: RemoteSide | null } | null {
    const c = this.q.change.get(changeId)
    if (!c) return null
    return {
      seq: c.seq,
      state: c.state as ChangeState,
      action: c.action as ChangeAction,
      entries: this.q.entriesOf.all(c.seq).map((e) => ({ type: e.type, id: e.id, body: JSON.parse(e.body!) as Json })),
      remote: c.remote_type ? { type: c.remote_type, id: c.remote_id!, version: c.remote_version, body: c.remote_body ? (JSON.parse(c.remote_body) as Json) : null } : null,
    }
  }

  /** The unsent change that creates or books this resource, if any (its newest). */
  unsentChangeOf(type: string, id: string): { changeId: string; action: ChangeAction; state: ChangeState } | null {
    const row = this
      .sql<[string, string], { change_id: string; action: string; state: string }>(
        'SELECT c.change_id, c.action, c.state FROM change_entries e JOIN changes c ON c.seq = e.change_seq WHERE e.type = ? AND e.id = ? ORDER BY c.seq DESC LIMIT 1',
      )
      .get(type, id)
    return row ? { changeId: row.change_id, action: row.action as ChangeAction, state: row.state as ChangeState } : null
  }

  /**
   * Settles a conflict by keeping a local state (ours or a merge): it is sent again over the
   * portal's version the user saw.
   */
  resolveKeep(changeId: string, body: Json | null, actor: Actor, at: string, summary: string): void {
    this.db.transaction(() => {
      const c = this.q.change.get(changeId)
      if (!c || c.state !== 'conflict' || !c.remote_type) return
      const row = this.q.resource.get(c.remote_type, c.remote_id!)
      if (row) {
        this.q.setVersion.run(c.remote_version, row.rid)
        this.q.baseSet.run(c.remote_version, c.remote_body, row.rid)
        if (body) {
          const json = JSON.stringify(body)
          this.q.setBody.run(json, row.rid)
          this.index(row.rid, c.remote_type, body, true)
          this.sql<[string, number, string, string]>('UPDATE change_entries SET body = ? WHERE change_seq = ? AND type = ? AND id = ?').run(json, c.seq, c.remote_type, c.remote_id!)
        }
      }
      this.sql<[number]>("UPDATE changes SET state = 'pending', revision = revision + 1, message = NULL, remote_type = NULL, remote_id = NULL, remote_version = NULL, remote_body = NULL, slot_taken = 0 WHERE seq = ?").run(c.seq)
      this.q.audit.run(at, actor.snils, actor.name, 'sync.resolve', c.remote_type, c.remote_id!, summary)
    }).immediate()
  }

  /**
   * Drops a change and every later unsent change of the same resources (they build on it): their
   * resources go back to the portal's state — the one the conflict showed, if there was one.
   */
  discard(changeId: string, actor: Actor, at: string, summary: string): void {
    this.db.transaction(() => {
      const c = this.q.change.get(changeId)
      if (!c) return
      const keys = new Set(this.q.entriesOf.all(c.seq).map((e) => `${e.type}/${e.id}`))
      const later = this.sql<[number], { seq: number }>('SELECT seq FROM changes WHERE seq > ? ORDER BY seq').all(c.seq)
      const drop = [c.seq]
      for (const l of later) {
        const ks = this.q.entriesOf.all(l.seq).map((e) => `${e.type}/${e.id}`)
        if (ks.some((k) => keys.has(k))) {
          drop.push(l.seq)
          for (const k of ks) keys.add(k)
        }
      }
      for (const seq of drop) this.q.deleteChange.run(seq)
      for (const key of keys) {
        const [type, id] = key.split('/') as [string, string]
        const row = this.q.resource.get(type, id)
        if (!row || this.q.hasUnsent.get(type, id)) continue
        const shown = c.remote_type === type && c.remote_id === id && c.remote_body ? { version: c.remote_version, body: c.remote_body } : null
        const stored = this.q.base.get(row.rid)
        // The conflict's portal side, unless a pull kept back a newer portal version since.
        const newerKept = shown?.version != null && stored?.version != null && stored.version > shown.version
        const base = (newerKept ? null : shown) ?? stored ?? { version: row.version, body: row.body }
        this.q.baseDelete.run(row.rid)
        if (base.body === null) this.removeLocal(row.rid, type)
        else {
          this.q.upsert.run(type, id, base.body, base.version)
          this.index(row.rid, type, JSON.parse(base.body) as Json, true)
        }
        this.q.audit.run(at, actor.snils, actor.name, 'sync.discard', type, id, summary)
      }
    }).immediate()
  }

  /** A rejected change goes back to the queue as it is (the user fixed what it points at, or the portal was wrong). */
  retry(changeId: string): void {
    this.sql<[string]>("UPDATE changes SET state = 'pending', revision = revision + 1, message = NULL WHERE change_id = ? AND state = 'rejected'").run(changeId)
  }

  // --- pull ------------------------------------------------------------------------------------

  /**
   * History pages as the bytes the portal sent (moved here from the main thread, not copied) and
   * their entries as read there, applied as one (fewer commits: each rewrites the index pages the
   * page touched). Each resource is stored as the bytes it came as, never parsed and written out
   * again (json_valid checks it first).
   */
  applyHistoryPages(pages: Uint8Array[], entries: HistoryEntry[][], cursorKey: string, cursor: string): PullResult {
    const pulled = pages.flatMap((page, i) => {
      const bytes = Buffer.from(page.buffer, page.byteOffset, page.byteLength)
      return (entries[i] ?? []).map(({ resource, ...e }): PullEntry => ({ ...e, body: resource ? bytes.subarray(resource.start, resource.end) : null }))
    })
    return this.applyPull(pulled, cursorKey, cursor)
  }

  /**
   * Pulled entries: applied with the cursor after them in one transaction, so a crash leaves
   * either all of them and their cursor or neither. Versions not newer than ours are skipped
   * (pages overlap on resume); resources with unsent local changes keep ours, with the portal's
   * newer state kept under them for a discard.
   */
  applyPull(entries: PullEntry[], cursorKey: string, cursor: string): PullResult {
    // A pulled page needs no fsync of its own: a power cut loses at most the last pages together
    // with their cursor (the next pull fetches them again), and the next local change's full
    // sync makes them durable too, since the WAL is written in order. Local changes stay FULL.
    this.db.pragma('synchronous = NORMAL')
    try {
      return this.pullPage(entries, cursorKey, cursor)
    } finally {
      this.db.pragma('synchronous = FULL')
    }
  }

  private pullPage(entries: PullEntry[], cursorKey: string, cursor: string): PullResult {
    const counts = { applied: 0, skipped: 0, kept: 0 }
    this.db.transaction(() => {
      // With nothing unsent (an initial sync, most pulls), no entry needs the per-resource check.
      const outboxEmpty = this.q.anyUnsent.get() === undefined
      for (const e of entries) {
        const row = this.q.versionOf.get(e.type, e.id)
        if (row && row.version !== null && row.version >= e.version) {
          counts.skipped++
          continue
        }
        if (!outboxEmpty && this.q.hasUnsent.get(e.type, e.id)) {
          if (row) {
            this.q.markRemote.run(e.version, row.rid)
            // The cursor moves past this version: it becomes the portal state a discard goes back to.
            this.q.baseNewer.run(e.version, e.deleted || !e.body ? null : this.pulledText(e, e.body), row.rid, e.version)
          }
          counts.kept++
          continue
        }
        counts.applied++
        if (e.deleted || !e.body) {
          if (row) this.removeLocal(row.rid, e.type)
          continue
        }
        let rid: number
        const text = this.pulledText(e, e.body)
        if (row) this.q.replacePulled.run(text, e.version, (rid = row.rid))
        else rid = Number(this.q.insertPulled.run(e.type, e.id, text, e.version).lastInsertRowid)
        this.index(rid, e.type, e.body, row !== undefined)
      }
      this.q.setState.run(cursorKey, cursor)
    }).immediate()
    return counts
  }

  /** A pulled body, once SQLite has found it to be JSON. */
  private pulledText(e: PullEntry, body: Uint8Array): Uint8Array {
    if (this.q.isJson.get(body)?.ok !== 1) throw unreadableHistoryPage(`${e.type}/${e.id} is not well-formed JSON`)
    return body
  }

  // --- audit -----------------------------------------------------------------------------------

  auditList(resourceId: string | null, limit: number): Array<{ at: string; user: string; action: string; resourceType: string; resourceId: string; summary: string }> {
    const rows = resourceId
      ? this.sql<[string, number], AuditRow>('SELECT * FROM audit WHERE id = ? ORDER BY seq DESC LIMIT ?').all(resourceId, limit)
      : this.sql<[number], AuditRow>('SELECT * FROM audit ORDER BY seq DESC LIMIT ?').all(limit)
    return rows.map((r) => ({ at: r.at, user: r.user_name, action: r.action, resourceType: r.type, resourceId: r.id, summary: r.summary }))
  }

  addAudit(at: string, actor: Actor, action: string, type: string, id: string, summary: string): void {
    this.q.audit.run(at, actor.snils, actor.name, action, type, id, summary)
  }

  // --- offline login ----------------------------------------------------------------------------

  getOfflineCredential(loginKey: string): { userJson: string; verifier: string; verifiedAt: string } | null {
    const row = this
      .sql<[string], { user_json: string; verifier: string; verified_at: string }>('SELECT user_json, verifier, verified_at FROM offline_credentials WHERE login_key = ?')
      .get(loginKey)
    return row ? { userJson: row.user_json, verifier: row.verifier, verifiedAt: row.verified_at } : null
  }

  putOfflineCredential(loginKey: string, userJson: string, verifier: string, verifiedAt: string): void {
    this
      .sql<[string, string, string, string]>(
        `INSERT INTO offline_credentials (login_key, user_json, verifier, verified_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (login_key) DO UPDATE SET user_json = excluded.user_json, verifier = excluded.verifier, verified_at = excluded.verified_at`,
      )
      .run(loginKey, userJson, verifier, verifiedAt)
  }

  close(): void {
    this.db.close()
  }
}

interface ChangeRow {
  seq: number
  change_id: string
  action: string
  title: string
  state: string
  revision: number
  created_at: string
  user_snils: string
  user_name: string
  message: string | null
  remote_type: string | null
  remote_id: string | null
  remote_version: number | null
  remote_body: string | null
  slot_taken: number
}

interface EntryRow {
  pos: number
  type: string
  id: string
  body: string | null
}

interface AuditRow {
  at: string
  user_name: string
  action: string
  type: string
  id: string
  summary: string
}

interface RawPatientRow {
  id: string
  display_name: string
  birth_date: string | null
  gender: string | null
  snils: string | null
  oms: string | null
  phone: string | null
  attached: number
  change_rank: number | null
}

const RANK_STATE: Record<number, ChangeState> = { 1: 'pending', 2: 'rejected', 3: 'conflict' }

function toPatientRow(r: RawPatientRow): PatientRow {
  return {
    id: r.id,
    displayName: r.display_name,
    birthDate: r.birth_date,
    gender: r.gender,
    snils: r.snils,
    oms: r.oms,
    phone: r.phone,
    attached: r.attached === 1,
    change: r.change_rank ? RANK_STATE[r.change_rank]! : null,
  }
}

/** The smallest string greater than every string starting with `prefix`. */
function upperBound(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

/** FTS5 query: every word group must match; a group is one or more prefixes (typo alternatives). */
function ftsMatch(groups: string[][]): string {
  return groups.map((g) => `(${g.map((w) => `"${w.replace(/"/g, '""')}"*`).join(' OR ')})`).join(' AND ')
}
