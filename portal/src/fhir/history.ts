// History: one resource's versions (newest first, FHIR's order), and the type and system history
// the workstation pulls to sync (oldest first, paged by an opaque cursor).
//
// Why the cursor is (txid, seq) and not a time or a sequence number: writers commit in an order
// of their own, so a row with a smaller sequence number may become visible after a reader has
// already moved past it. A row is served only once every transaction with a smaller txid has
// ended (txid < the snapshot's xmin); ordering by (txid, seq) then never skips a row that commits
// later, and never repeats one. Many rows sharing a timestamp do not matter.
import { AppError } from '../../../src/shared/errors'
import { FHIR_RESOURCE_TYPES, type FhirResourceType } from '../../../src/shared/fhir/systems'
import type { Queryable, SqlParam } from '../db'
import { invalid } from './outcome'

export interface HistoryRow {
  cursor: string
  type: FhirResourceType
  id: string
  version: number
  lastUpdated: Date
  deleted: boolean
  method: 'POST' | 'PUT' | 'DELETE'
  body: string | null
}

export interface HistoryPage {
  rows: HistoryRow[]
  /** Cursor after the last row served (or the one asked for when nothing new): resume from it. */
  cursor: string
  more: boolean
}

const CURSOR = /^(\d{1,20})\.(\d{1,20})$/
export const START_CURSOR = '0.0'

export function parseCursor(text: string): { txid: string; seq: string } {
  const m = CURSOR.exec(text)
  if (!m) throw invalid('Неверный курсор истории (_cursor)', '_cursor', 'value')
  return { txid: m[1]!, seq: m[2]! }
}

export interface HistoryQuery {
  /** Only these types (system history: the ones the caller may read). */
  types: readonly FhirResourceType[]
  /** null = any organisation. */
  scope: string | null
  since: Date | null
  cursor: string
  count: number
}

interface Row {
  /** txid.seq: where a reader resumes after this row. */
  cursor: string
  type: FhirResourceType
  id: string
  version: number
  last_updated: Date
  deleted: boolean
  method: 'POST' | 'PUT' | 'DELETE'
  body: string | null
}

const CURSOR_SQL = `txid::text || '.' || seq::text`

const toHistoryRow = (r: Row): HistoryRow => ({
  cursor: r.cursor,
  type: r.type,
  id: r.id,
  version: r.version,
  lastUpdated: r.last_updated,
  deleted: r.deleted,
  method: r.method,
  body: r.body,
})

/** Type or system history page, oldest first. */
export async function historyPage(q: Queryable, h: HistoryQuery): Promise<HistoryPage> {
  const c = parseCursor(h.cursor)
  const params: SqlParam[] = [c.txid, c.seq, h.count + 1]
  const where = [
    'txid < pg_snapshot_xmin(pg_current_snapshot())',
    '(txid, seq) > ($1::text::xid8, $2::bigint)',
  ]
  // All types: no type condition at all, so the page is a plain range scan of the cursor index.
  if (h.types.length === 1) {
    params.push(h.types[0]!)
    where.push(`type = $${params.length}`)
  } else if (h.types.length < FHIR_RESOURCE_TYPES.length) {
    params.push(h.types as string[])
    where.push(`type = ANY($${params.length}::text[])`)
  }
  if (h.scope !== null) {
    params.push(h.scope)
    where.push(`org = $${params.length}`)
  }
  if (h.since) {
    params.push(h.since)
    where.push(`last_updated >= $${params.length}`)
  }
  // The head (the newest row every reader may see) comes from the same statement, hence the same
  // snapshot as the page: when the page is not full, nothing up to the head matched, so the resume
  // cursor moves there and the next poll of an up-to-date client starts at the end instead of
  // rescanning everything its filters (_since, type, organisation) skipped. It is one more row,
  // the one without a type, after the page's (a column on every row made the page a third slower).
  const rows = await q.query<Row | (Pick<Row, 'cursor'> & { type: null })>(
    `WITH page AS (
       SELECT txid, seq, type, id, version, last_updated, deleted, method, body
       FROM fhir_history WHERE ${where.join(' AND ')} ORDER BY txid, seq LIMIT $3
     )
     SELECT ${CURSOR_SQL} AS cursor, type, id, version, last_updated, deleted, method, body FROM page
     UNION ALL
     (SELECT ${CURSOR_SQL}, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM fhir_history
      WHERE txid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY txid DESC, seq DESC LIMIT 1)`,
    params,
  )
  const head = rows.find((r) => r.type === null)?.cursor ?? null
  const found = rows.filter((r): r is Row => r.type !== null)
  // UNION ALL keeps each part's order in PostgreSQL; checked here rather than paid for with a sort.
  if (found.some((r, i) => i > 0 && compareCursors(found[i - 1]!.cursor, r.cursor) >= 0)) found.sort((a, b) => compareCursors(a.cursor, b.cursor))
  const more = found.length > h.count
  const page = (more ? found.slice(0, h.count) : found).map(toHistoryRow)
  const cursor = !more && head !== null && compareCursors(head, h.cursor) > 0 ? head : (page.at(-1)?.cursor ?? h.cursor)
  return { rows: page, cursor, more }
}

function compareCursors(a: string, b: string): number {
  const x = parseCursor(a)
  const y = parseCursor(b)
  const byTx = BigInt(x.txid) - BigInt(y.txid)
  if (byTx !== 0n) return byTx > 0n ? 1 : -1
  const bySeq = BigInt(x.seq) - BigInt(y.seq)
  return bySeq === 0n ? 0 : bySeq > 0n ? 1 : -1
}

/** One resource's versions, newest first; `before` pages by version. */
export async function instanceHistory(
  q: Queryable,
  o: { type: FhirResourceType; id: string; scope: string | null; since: Date | null; count: number; beforeVersion: number | null },
): Promise<{ rows: HistoryRow[]; more: boolean }> {
  const params: SqlParam[] = [o.type, o.id, o.count + 1]
  const where = ['type = $1', 'id = $2']
  if (o.scope !== null) {
    params.push(o.scope)
    where.push(`org = $${params.length}`)
  }
  if (o.since) {
    params.push(o.since)
    where.push(`last_updated >= $${params.length}`)
  }
  if (o.beforeVersion !== null) {
    params.push(o.beforeVersion)
    where.push(`version < $${params.length}`)
  }
  const rows = await q.query<Row>(
    `SELECT ${CURSOR_SQL} AS cursor, type, id, version, last_updated, deleted, method, body
     FROM fhir_history WHERE ${where.join(' AND ')} ORDER BY version DESC LIMIT $3`,
    params,
  )
  if (rows.length === 0 && o.beforeVersion === null && !o.since) throw new AppError('NOT_FOUND', {}, `${o.type}/${o.id} has no history`)
  const more = rows.length > o.count
  return { rows: (more ? rows.slice(0, o.count) : rows).map(toHistoryRow), more }
}
