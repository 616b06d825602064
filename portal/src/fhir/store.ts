// The FHIR store's writes and reads. A write is three statements: lock the current row, write the
// new version to fhir_resources and fhir_history together, and replace the resource's search
// index rows. Versions are integers; a conditional write compares them under the row lock, so of
// two writers holding the same version exactly one wins.
import { randomUUID } from 'node:crypto'
import { AppError } from '../../../src/shared/errors'
import type { FhirResourceType } from '../../../src/shared/fhir/systems'
import type { Queryable } from '../db'
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

/** Writes one version. Call inside a transaction. */
export async function writeVersion(q: Queryable, w: WriteRequest): Promise<WriteResult> {
  const current = (
    await q.query<{ version: number; deleted: boolean; org: string | null }>(
      'SELECT version, deleted, org FROM fhir_resources WHERE type = $1 AND id = $2 FOR UPDATE',
      [w.type, w.id],
    )
  )[0]
  if (current && !visible(current, w.scope)) {
    throw new AppError('ACCESS_DENIED', {}, `${w.type}/${w.id} belongs to another organisation`)
  }
  if (w.ifMatch !== null && (!current || current.version !== w.ifMatch)) {
    throw new FhirProblem('VERSION_CONFLICT', [
      { code: 'conflict', diagnostics: `If-Match W/"${w.ifMatch}" but the current version is ${current ? `W/"${current.version}"` : 'none'}` },
    ], { params: { currentVersion: current?.version ?? null } })
  }
  if (w.mustBeNew && current && !current.deleted) {
    throw new FhirProblem('VERSION_CONFLICT', [{ code: 'conflict', diagnostics: `${w.type}/${w.id} already exists` }], { status: 409 })
  }
  if (w.resource === null && (!current || current.deleted)) {
    if (!current) throw new AppError('NOT_FOUND', {}, `${w.type}/${w.id} does not exist`)
    const stored = await readCurrent(q, w.type, w.id, w.scope)
    return { stored: stored!, created: false, noop: true }
  }
  const version = (current?.version ?? 0) + 1
  const org = current ? current.org : w.owner
  const body = w.resource ? versionBody(w.resource, w.id, version, w.now) : null
  const deleted = w.resource === null
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
      [w.type, w.id, version, w.now, deleted, org, w.method, body],
    )
  } catch (e) {
    // Two creators of the same new id: the loser's insert hits the primary key.
    if ((e as { code?: string }).code === '23505') {
      throw new FhirProblem('VERSION_CONFLICT', [{ code: 'conflict', diagnostics: `${w.type}/${w.id} was created concurrently` }])
    }
    throw e
  }
  await replaceIndex(q, w.type, w.id, w.resource)
  return {
    stored: { type: w.type, id: w.id, version, lastUpdated: w.now, deleted, org, body },
    created: !current || current.deleted,
    noop: false,
  }
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
