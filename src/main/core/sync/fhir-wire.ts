// Reading the portal's FHIR answers for sync: history pages, batch/transaction responses,
// OperationOutcome text. Pure functions over JSON and its bytes; nothing here talks to the network.
import { isUtf8 } from 'node:buffer'
import { AppError } from '../../../shared/errors'
import type { Json } from '../store/index-fields'
import { elementSpans, expectEnd, memberSpans, parseSpan, parseSpanWithout, type Span } from './json-spans'

const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)

/** W/"3" → 3. */
export function versionOfEtag(etag: unknown): number | null {
  if (typeof etag !== 'string') return null
  const m = /^(?:W\/)?"(\d+)"$/.exec(etag.trim())
  return m ? Number(m[1]) : null
}

/** A history entry: the resource, unless deleted, is where its JSON text lies in the page. */
export interface HistoryEntry {
  type: string
  id: string
  version: number
  deleted: boolean
  resource: Span | null
}

export interface HistoryPageView {
  entries: HistoryEntry[]
  /** Where to resume: the next page (more = true) or the next pull. */
  cursor: string
  more: boolean
}

/**
 * A system history Bundle, as the UTF-8 bytes the portal sent → entries oldest first and the
 * cursor after them. Only the small parts are built and checked (URLs, ETags, methods); each
 * resource is left where it lies in the page, for the store to check (json_valid) as it writes it.
 */
export function readHistoryPage(page: Buffer): HistoryPageView {
  try {
    return readPage(page)
  } catch (e) {
    throw unreadableHistoryPage(e instanceof Error ? e.message : String(e))
  }
}

/** A history page the workstation cannot take: the portal's fault, shown as such. */
export function unreadableHistoryPage(detail: string): AppError {
  return new AppError('PORTAL_ERROR', {}, `unreadable history page: ${detail}`)
}

function readPage(page: Buffer): HistoryPageView {
  if (!isUtf8(page)) throw new Error('not UTF-8')
  const root = bundleMembers(page)
  const entries: HistoryEntry[] = []
  const list = root.entry ? elementSpans(page, root.entry.start) : { items: [], end: -1 }
  if (root.entry && list.end !== root.entry.end) throw new Error('entry is not one array')
  for (const span of list.items) {
    const { resource } = memberSpans(page, span.start, ['resource']).members
    // The entry is read with its resource left out: the resource stays bytes (checked when stored).
    const e = obj(resource ? parseSpanWithout(page, span, resource) : parseSpan(page, span))
    const fullUrl = typeof e?.fullUrl === 'string' ? e.fullUrl : ''
    const [type, id] = fullUrl.split('/').slice(-2)
    const version = versionOfEtag(obj(e?.response)?.etag)
    if (!type || !id || version === null) throw new Error(`history entry without type, id or version: ${fullUrl}`)
    const absent = !resource || page.toString('latin1', resource.start, resource.end) === 'null'
    if (!absent && page[resource.start] !== 0x7b) throw new Error(`history entry whose resource is not an object: ${fullUrl}`)
    const deleted = obj(e?.request)?.method === 'DELETE' || absent
    entries.push({ type, id, version, deleted, resource: deleted ? null : resource })
  }
  return { entries, ...resumeOf(valueAt(page, root.link)) }
}

const BUNDLE_MEMBERS = ['resourceType', 'type', 'link', 'entry'] as const

function bundleMembers(page: Buffer): Partial<Record<(typeof BUNDLE_MEMBERS)[number], Span>> {
  const { members, end } = memberSpans(page, 0, BUNDLE_MEMBERS)
  expectEnd(page, end)
  if (valueAt(page, members.resourceType) !== 'Bundle' || valueAt(page, members.type) !== 'history') throw new Error('not a history bundle')
  return members
}

function resumeOf(link: unknown): { cursor: string; more: boolean } {
  const links = Array.isArray(link) ? link.map(obj).filter((l): l is Json => l !== null) : []
  const next = links.find((l) => l.relation === 'next') ?? links.find((l) => l.relation === 'sync')
  const cursor = typeof next?.url === 'string' ? new URL(next.url).searchParams.get('_cursor') : null
  if (!cursor) throw new Error('history bundle without a resume link')
  return { cursor, more: next?.relation === 'next' }
}

const valueAt = (page: Buffer, span: Span | undefined): unknown => (span ? parseSpan(page, span) : undefined)

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
