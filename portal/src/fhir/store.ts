// The FHIR store's writes and reads. A write is three statements: lock the current row, write the
// new version to fhir_resources and fhir_history together, and replace the resource's search
// index rows. Versions are integers; a conditional write compares them under the row lock, so of
// two writers holding the same version exactly one wins. A run of writes (a batch's PUTs and
// DELETEs) takes the same three steps for all of them at once (writeVersions).
import { randomUUID } from 'node:crypto'
import { AppError } from '../../../src/shared/errors'
import type { FhirResourceType } from '../../../src/shared/fhir/systems'
import type { Queryable, SqlParam } from '../db'
import { FhirProblem } from './outcome'
import { indexRows, sqlInstant, type Json } from './search-params'

export interface StoredVersion {
  type: FhirResourceType
  id: string
  version: number
  lastUpdated: Date
  deleted: boolean
  org: string | null
  /** JSON text with meta.versionId and meta.lastUpdated; null for a delete. */
  body: string | null
}

interface VersionRow {
  type: FhirResourceType
  id: string
  version: number
  last_updated: Date
  deleted: boolean
  org: string | null
  body: string | null
}

const fromRow = (r: VersionRow): StoredVersion => ({
  type: r.type,
  id: r.id,
  version: r.version,
  lastUpdated: r.last_updated,
  deleted: r.deleted,
  org: r.org,
  body: r.body,
})

export const newId = (): string => randomUUID()

/** The org filter: null = any organisation. Rows of other organisations are reported as absent. */
const visible = (row: { org: string | null }, scope: string | null) => scope === null || row.org === scope

export async function readCurrent(q: Queryable, type: FhirResourceType, id: string, scope: string | null): Promise<StoredVersion | null> {
  const rows = await q.query<VersionRow>('SELECT type, id, version, last_updated, deleted, org, body FROM fhir_resources WHERE type = $1 AND id = $2', [type, id])
  const row = rows[0]
  return row && visible(row, scope) ? fromRow(row) : null
}

export async function readVersion(q: Queryable, type: FhirResourceType, id: string, version: number, scope: string | null): Promise<StoredVersion | null> {
  const rows = await q.query<VersionRow>(
    'SELECT type, id, version, last_updated, deleted, org, body FROM fhir_history WHERE type = $1 AND id = $2 AND version = $3',
    [type, id, version],
  )
  const row = rows[0]
  return row && visible(row, scope) ? fromRow(row) : null
}

export interface WriteRequest {
  type: FhirResourceType
  id: string
  /** null deletes. */
  resource: Json | null
  method: 'POST' | 'PUT' | 'DELETE'
  now: Date
  /** Organisation of the writer: new resources belong to it, existing ones must. null = admin (any). */
  scope: string | null
  /** Owner of a new resource. */
  owner: string | null
  /** If-Match: the version the writer read; null = unconditional. */
  ifMatch: number | null
  /** If-None-Match: * — write only when the resource does not exist (a deleted one counts as absent). */
  ifNoneMatch?: boolean
  /** POST must not overwrite: an existing id is a conflict. */
  mustBeNew?: boolean
}

export interface WriteResult {
  stored: StoredVersion
  /** true when the resource did not exist (or existed only as deleted) before. */
  created: boolean
  /** A delete of something already deleted: nothing written. */
  noop: boolean
}

/**
 * The stored JSON text of one version: meta.versionId and meta.lastUpdated set. Shared with the
 * bulk seed (seed.ts) so its bodies have exactly this form.
 */
export function versionBody(resource: Json, id: string, version: number, lastUpdated: Date): string {
  const meta = { ...((resource.meta as Json | undefined) ?? {}), versionId: String(version), lastUpdated: lastUpdated.toISOString() }
  // id and meta first, the way servers usually print resources.
  const { resourceType, id: _id, meta: _meta, ...rest } = resource
  return JSON.stringify({ resourceType, id, meta, ...rest })
}

/** The current row a write is decided against, read under its row lock. */
interface CurrentRow {
  version: number
  deleted: boolean
  org: string | null
  last_updated: Date
}

const versionConflict = (diagnostics: string, currentVersion: number | null) =>
  new FhirProblem('VERSION_CONFLICT', [{ code: 'conflict', diagnostics }], { params: { currentVersion } })

/**
 * Decides one write against the resource's current row (undefined: never existed): the version it
 * makes, or its failure (thrown). Pure, and the one place the rules live: single writes and the
 * bulk path of batches decide exactly alike.
 */
function decide(current: CurrentRow | undefined, w: WriteRequest): WriteResult {
  if (current && !visible(current, w.scope)) {
    throw new AppError('ACCESS_DENIED', {}, `${w.type}/${w.id} belongs to another organisation`)
  }
  if (w.ifMatch !== null && (!current || current.version !== w.ifMatch)) {
    throw versionConflict(`If-Match W/"${w.ifMatch}" but the current version is ${current ? `W/"${current.version}"` : 'none'}`, current?.version ?? null)
  }
  if (w.ifNoneMatch && current && !current.deleted) {
    throw versionConflict(`If-None-Match: * but ${w.type}/${w.id} exists (version W/"${current.version}")`, current.version)
  }
  if (w.mustBeNew && current && !current.deleted) {
    throw new FhirProblem('VERSION_CONFLICT', [{ code: 'conflict', diagnostics: `${w.type}/${w.id} already exists` }], { status: 409 })
  }
  if (w.resource === null && (!current || current.deleted)) {
    if (!current) throw new AppError('NOT_FOUND', {}, `${w.type}/${w.id} does not exist`)
    const stored: StoredVersion = { type: w.type, id: w.id, version: current.version, lastUpdated: current.last_updated, deleted: true, org: current.org, body: null }
    return { stored, created: false, noop: true }
  }
  const version = (current?.version ?? 0) + 1
  const org = current ? current.org : w.owner
  const body = w.resource ? versionBody(w.resource, w.id, version, w.now) : null
  return {
    stored: { type: w.type, id: w.id, version, lastUpdated: w.now, deleted: w.resource === null, org, body },
    created: !current || current.deleted,
    noop: false,
  }
}

/** A concurrent creator of the same new id: the loser's insert hits the primary key. */
const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505'

/** Writes one version. Call inside a transaction. */
export async function writeVersion(q: Queryable, w: WriteRequest): Promise<WriteResult> {
  const current = (
    await q.query<CurrentRow>('SELECT version, deleted, org, last_updated FROM fhir_resources WHERE type = $1 AND id = $2 FOR UPDATE', [w.type, w.id])
  )[0]
  const result = decide(current, w)
  if (result.noop) return result
  const s = result.stored
  try {
    await q.query(
      `WITH h AS (
         INSERT INTO fhir_history (type, id, version, last_updated, deleted, org, method, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       )
       INSERT INTO fhir_resources (type, id, version, last_updated, deleted, org, body)
       VALUES ($1, $2, $3, $4, $5, $6, $8)
       ON CONFLICT (type, id) DO UPDATE SET
         version = EXCLUDED.version, last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted, body = EXCLUDED.body`,
      [w.type, w.id, s.version, s.lastUpdated, s.deleted, s.org, w.method, s.body],
    )
  } catch (e) {
    // The current version is not known here (on PostgreSQL the failed statement ended the
    // transaction's reads): the writer reads it.
    if (isUniqueViolation(e)) throw new FhirProblem('VERSION_CONFLICT', [{ code: 'conflict', diagnostics: `${w.type}/${w.id} was created concurrently` }])
    throw e
  }
  await replaceIndex(q, w.type, w.id, w.resource)
  return result
}

/** One write of a bulk run: its result, or its failure (and then nothing of it was written). */
export type BulkWriteOutcome = { ok: true; result: WriteResult } | { ok: false; error: unknown }

const keyOf = (type: string, id: string) => `${type}/${id}`

/**
 * Key lookups for a run: one index probe per (type, id), whatever the planner's statistics say.
 * PGlite never runs ANALYZE, and without statistics a plain join of the keys against a table is
 * planned as a hash or merge join over a sequential scan of the whole table; a LATERAL subquery
 * kept apart by OFFSET 0 can only be a nested loop of index probes.
 */
const perKey = (table: string, columns: string, keys: string, lock = '') =>
  `${keys} CROSS JOIN LATERAL (SELECT ${columns} FROM ${table} x WHERE x.type = k.type AND x.id = k.id OFFSET 0 ${lock}) r`

/** Keys in one order for every run, so that two runs lock shared rows in the same order. */
const byKey = (a: { type: string; id: string }, b: { type: string; id: string }) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

type Planned = { w: WriteRequest; s: StoredVersion }

/**
 * Writes a run of versions with three statements however long the run: one locks the current
 * rows of all the resources (in key order), then each write is decided in turn exactly as
 * writeVersion decides it (a later write of the same resource sees the earlier one), then the
 * versions and current rows go in one statement and the index rows in another. A write that
 * fails leaves nothing; the others are kept.
 *
 * Call inside a transaction, in a savepoint: if a statement fails (a concurrent creator of one of
 * the new ids, a deadlock), the whole run must be undone; the caller then writes it one by one.
 */
export async function writeVersions(q: Queryable, writes: readonly WriteRequest[]): Promise<BulkWriteOutcome[]> {
  if (writes.length === 0) return []
  const keys = [...new Map(writes.map((w) => [keyOf(w.type, w.id), { type: w.type, id: w.id }])).values()].sort(byKey)
  const rows = await q.query<CurrentRow & { type: FhirResourceType; id: string }>(
    `SELECT r.type, r.id, r.version, r.deleted, r.org, r.last_updated
       FROM ${perKey('fhir_resources', 'x.type, x.id, x.version, x.deleted, x.org, x.last_updated', 'unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(type, id, n)', 'FOR UPDATE')}
      ORDER BY k.n`,
    [keys.map((k) => k.type), keys.map((k) => k.id)],
  )
  const current = new Map<string, CurrentRow>(rows.map((r) => [keyOf(r.type, r.id), r]))
  // Index rows exist for live resources only: those the run changes are replaced, no others.
  const indexed = rows.filter((r) => !r.deleted)
  const outcomes: BulkWriteOutcome[] = []
  const versions: Planned[] = []
  // The last version of each resource: its current row and its index rows.
  const latest = new Map<string, Planned>()
  for (const w of writes) {
    const key = keyOf(w.type, w.id)
    let result: WriteResult
    try {
      result = decide(current.get(key), w)
    } catch (error) {
      outcomes.push({ ok: false, error })
      continue
    }
    outcomes.push({ ok: true, result })
    if (result.noop) continue
    const s = result.stored
    current.set(key, { version: s.version, deleted: s.deleted, org: s.org, last_updated: s.lastUpdated })
    versions.push({ w, s })
    latest.set(key, { w, s })
  }
  if (versions.length === 0) return outcomes
  const col = (f: (v: Planned) => string | null) => versions.map(f)
  // The current row of each resource is its last version in the run (the highest n).
  await q.query(
    `WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::bool[], $6::text[], $7::text[], $8::text[])
                 WITH ORDINALITY AS v(type, id, version, last_updated, deleted, org, method, body, n)),
          h AS (INSERT INTO fhir_history (type, id, version, last_updated, deleted, org, method, body)
                SELECT type, id, version, last_updated, deleted, org, method, body FROM v ORDER BY n)
     INSERT INTO fhir_resources (type, id, version, last_updated, deleted, org, body)
     SELECT DISTINCT ON (type, id) type, id, version, last_updated, deleted, org, body FROM v ORDER BY type, id, n DESC
     ON CONFLICT (type, id) DO UPDATE SET
       version = EXCLUDED.version, last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted, body = EXCLUDED.body`,
    [
      col((v) => v.s.type),
      col((v) => v.s.id),
      col((v) => String(v.s.version)),
      col((v) => v.s.lastUpdated.toISOString()),
      col((v) => String(v.s.deleted)),
      col((v) => v.s.org),
      col((v) => v.w.method),
      col((v) => v.s.body),
    ],
  )
  const finals = [...latest.values()]
  await replaceIndexes(
    q,
    indexed.filter((r) => latest.has(keyOf(r.type, r.id))),
    finals.map(({ w, s }) => ({ type: s.type, id: s.id, resource: s.deleted ? null : w.resource })),
  )
  return outcomes
}

/** Deletes the resource's index rows and writes the new ones, in one statement. */
async function replaceIndex(q: Queryable, type: FhirResourceType, id: string, resource: Json | null): Promise<void> {
  const rows = resource ? indexRows(type, resource) : { strings: [], tokens: [], dates: [] }
  await q.query(
    `WITH d1 AS (DELETE FROM fhir_idx_string WHERE type = $1 AND id = $2),
          d2 AS (DELETE FROM fhir_idx_token WHERE type = $1 AND id = $2),
          d3 AS (DELETE FROM fhir_idx_date WHERE type = $1 AND id = $2),
          i1 AS (INSERT INTO fhir_idx_string (type, param, value, id)
                 SELECT $1, p, v, $2 FROM unnest($3::text[], $4::text[]) AS t(p, v)),
          i2 AS (INSERT INTO fhir_idx_token (type, param, system, value, id)
                 SELECT $1, p, s, v, $2 FROM unnest($5::text[], $6::text[], $7::text[]) AS t(p, s, v)),
          i3 AS (INSERT INTO fhir_idx_date (type, param, lo, hi, id)
                 SELECT $1, p, l, h, $2 FROM unnest($8::text[], $9::timestamptz[], $10::timestamptz[]) AS t(p, l, h))
     SELECT 1`,
    [
      type,
      id,
      rows.strings.map((r) => r.param),
      rows.strings.map((r) => r.value),
      rows.tokens.map((r) => r.param),
      rows.tokens.map((r) => r.system),
      rows.tokens.map((r) => r.value),
      rows.dates.map((r) => r.param),
      rows.dates.map((r) => sqlInstant(r.lo)),
      rows.dates.map((r) => sqlInstant(r.hi)),
    ],
  )
}

/**
 * replaceIndex for many resources in one statement: deletes the rows of `stale` (resources that
 * have some) and writes those of `items` (null resource: deleted, no rows).
 */
async function replaceIndexes(
  q: Queryable,
  stale: Array<{ type: FhirResourceType; id: string }>,
  items: Array<{ type: FhirResourceType; id: string; resource: Json | null }>,
): Promise<void> {
  const str = { type: [] as string[], param: [] as string[], value: [] as string[], id: [] as string[] }
  const tok = { type: [] as string[], param: [] as string[], system: [] as string[], value: [] as string[], id: [] as string[] }
  const date = { type: [] as string[], param: [] as string[], lo: [] as string[], hi: [] as string[], id: [] as string[] }
  for (const { type, id, resource } of items) {
    if (!resource) continue
    const rows = indexRows(type, resource)
    for (const r of rows.strings) {
      str.type.push(type)
      str.param.push(r.param)
      str.value.push(r.value)
      str.id.push(id)
    }
    for (const r of rows.tokens) {
      tok.type.push(type)
      tok.param.push(r.param)
      tok.system.push(r.system)
      tok.value.push(r.value)
      tok.id.push(id)
    }
    for (const r of rows.dates) {
      date.type.push(type)
      date.param.push(r.param)
      date.lo.push(sqlInstant(r.lo))
      date.hi.push(sqlInstant(r.hi))
      date.id.push(id)
    }
  }
  const params: SqlParam[] = [
    str.type, str.param, str.value, str.id,
    tok.type, tok.param, tok.system, tok.value, tok.id,
    date.type, date.param, date.lo, date.hi, date.id,
  ]
  params.push(stale.map((k) => k.type), stale.map((k) => k.id))
  // By ctid: the rows are found by index probes per key (perKey), then deleted where they are.
  const del = (table: string) => `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT r.ctid FROM ${perKey(table, 'x.ctid', 'k')}))`
  await q.query(
    `WITH k AS (SELECT * FROM unnest($15::text[], $16::text[]) AS k(type, id)),
          d1 AS (${del('fhir_idx_string')}),
          d2 AS (${del('fhir_idx_token')}),
          d3 AS (${del('fhir_idx_date')}),
          i1 AS (INSERT INTO fhir_idx_string (type, param, value, id)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])),
          i2 AS (INSERT INTO fhir_idx_token (type, param, system, value, id)
                 SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[])),
          i3 AS (INSERT INTO fhir_idx_date (type, param, lo, hi, id)
                 SELECT * FROM unnest($10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[], $14::text[]))
     SELECT 1`,
    params,
  )
}
