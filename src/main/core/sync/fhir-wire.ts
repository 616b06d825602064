// Reading the portal's FHIR answers for sync: history pages, batch/transaction responses,
// OperationOutcome text. Pure functions over JSON; nothing here talks to the network.
import type { PullEntry } from '../store/store'
import type { Json } from '../store/index-fields'

const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)

/** W/"3" → 3. */
export function versionOfEtag(etag: unknown): number | null {
  if (typeof etag !== 'string') return null
  const m = /^(?:W\/)?"(\d+)"$/.exec(etag.trim())
  return m ? Number(m[1]) : null
}

export interface HistoryPageView {
  entries: PullEntry[]
  /** Where to resume: the next page (more = true) or the next pull. */
  cursor: string
  more: boolean
}

/** A system history Bundle → entries oldest first and the cursor after them. */
export function readHistoryPage(json: unknown): HistoryPageView {
  const bundle = obj(json)
  if (!bundle || bundle.resourceType !== 'Bundle' || bundle.type !== 'history') throw new Error('not a history bundle')
  const links = Array.isArray(bundle.link) ? bundle.link.map(obj).filter((l): l is Json => l !== null) : []
  const next = links.find((l) => l.relation === 'next') ?? links.find((l) => l.relation === 'sync')
  const cursor = typeof next?.url === 'string' ? new URL(next.url).searchParams.get('_cursor') : null
  if (!cursor) throw new Error('history bundle without a resume link')
  const entries: PullEntry[] = []
  for (const raw of Array.isArray(bundle.entry) ? bundle.entry : []) {
    const e = obj(raw)
    const fullUrl = typeof e?.fullUrl === 'string' ? e.fullUrl : ''
    const [type, id] = fullUrl.split('/').slice(-2)
    const version = versionOfEtag(obj(e?.response)?.etag)
    if (!type || !id || version === null) throw new Error(`history entry without type, id or version: ${fullUrl}`)
    const resource = obj(e?.resource)
    const deleted = obj(e?.request)?.method === 'DELETE' || resource === null
    entries.push({ type, id, version, deleted, body: deleted ? null : resource })
  }
  return { entries, cursor, more: next?.relation === 'next' }
}

/** The Russian text of an OperationOutcome (its issues' details or diagnostics), for the user. */
export function outcomeText(json: unknown): string {
  const o = obj(json)
  const issues = Array.isArray(o?.issue) ? o.issue.map(obj).filter((i): i is Json => i !== null) : []
  const texts = issues.map((i) => {
    const details = obj(i.details)
    // The portal's own validation texts are Russian diagnostics; others get the catalogue text.
    const diagnostics = typeof i.diagnostics === 'string' && /\p{Script=Cyrillic}/u.test(i.diagnostics) ? i.diagnostics : null
    const text = diagnostics ?? (typeof details?.text === 'string' ? details.text : '')
    const where = Array.isArray(i.expression) && typeof i.expression[0] === 'string' ? ` (${i.expression[0]})` : ''
    return text ? `${text}${where}` : ''
  })
  return texts.filter(Boolean).join('; ') || 'Портал отклонил изменение без пояснений.'
}

export interface EntryResponse {
  status: number
  version: number | null
  resource: Json | null
  outcome: unknown
}

/** batch-response / transaction-response entries in order. */
export function readBundleResponse(json: unknown, expected: number): EntryResponse[] {
  const b = obj(json)
  if (!b || b.resourceType !== 'Bundle' || !Array.isArray(b.entry) || b.entry.length !== expected) throw new Error('not a bundle response of the expected size')
  return b.entry.map((raw) => {
    const e = obj(raw)
    const response = obj(e?.response)
    const status = Number.parseInt(String(response?.status ?? ''), 10)
    if (!Number.isFinite(status)) throw new Error('bundle response entry without a status')
    return { status, version: versionOfEtag(response?.etag), resource: obj(e?.resource), outcome: response?.outcome ?? null }
  })
}

/** Same content, whatever the meta and key order: our own earlier write answered now. */
export function sameContent(a: unknown, b: unknown): boolean {
  return canonical(strip(a)) === canonical(strip(b))
}

function strip(v: unknown): unknown {
  const o = obj(v)
  if (!o) return v
  const { meta: _meta, ...rest } = o
  return rest
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  const o = obj(v)
  if (o) return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  return JSON.stringify(v)
}
