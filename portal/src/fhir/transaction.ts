// Transaction bundles: all entries in one database transaction, all or nothing. Entries run in
// FHIR's order (DELETE, POST, PUT, GET); POST entries get their ids first so urn:uuid: references
// anywhere in the bundle can be rewritten to them. The response lists the entries in the order
// they came. A failure answers the failing entry's OperationOutcome and status, with nothing kept.
//
// Batch bundles: each entry succeeds or fails on its own, in the order they came, and the answer
// lists every outcome. They run in one database transaction in which a failed entry is undone
// alone (a savepoint, or never written at all): one commit for the whole batch instead of one per
// entry. Runs of consecutive PUT and DELETE entries — what the workstation's sync pushes, up to
// 500 at a time — are written in bulk (store.ts, writeVersions): a few statements per run instead
// of a few per entry, decided by the same rules as single writes.
//
// Answers are assembled as text around the stored resource JSON (as bundle.ts does), not parsed
// and serialised again.
import { isFhirResourceType, FHIR_ID, type FhirResourceType } from '../../../src/shared/fhir/systems'
import type { Caller } from '../auth/guard'
import type { Db } from '../db'
import { inSavepoint } from '../db-tx'
import { orgScope, requireAccess } from './access'
import { etag, parseEtag } from './bundle'
import { FhirProblem, invalid, notSupported, outcomeOf, type Issue } from './outcome'
import {
  createResource,
  deleteResource,
  findConditionalMatch,
  updateResource,
  writeRequestOf,
  writeStatus,
  type OperationContext,
  type OperationResult,
} from './operations'
import type { Json } from './search-params'
import { newId, readCurrent, writeVersions, type WriteRequest } from './store'
import { validateResource } from './validate'

export const MAX_BUNDLE_ENTRIES = 1000

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'
const ORDER: Record<Method, number> = { DELETE: 0, POST: 1, PUT: 2, GET: 3 }

interface Entry {
  index: number
  method: Method
  type: FhirResourceType
  id: string | null
  fullUrl: string | null
  resource: Json | null
  ifMatch: number | null
  /** PUT with ifNoneMatch "*": create only. */
  createOnly: boolean
  /** GET with ifNoneMatch W/"v": 304 when that is the current version. */
  notModifiedIf: number | null
  ifNoneExist: string | null
}

export interface BundleOptions {
  /** Prefer: return=minimal — written resources are left out of the answer's entries. */
  minimal?: boolean
}

/** request.ifNoneMatch: "*" on PUT (create only), W/"v" on GET (304); not on POST or DELETE. */
function ifNoneMatchOf(request: Json, method: Method, at: string): { createOnly: boolean; notModifiedIf: number | null } {
  const value = request.ifNoneMatch
  if (value === undefined) return { createOnly: false, notModifiedIf: null }
  const where = `${at}.request.ifNoneMatch`
  if (request.ifMatch !== undefined) throw invalid('ifMatch и ifNoneMatch в одном элементе несовместимы: укажите одно из условий', where, 'invariant')
  if (method === 'PUT') {
    if (typeof value !== 'string' || value.trim() !== '*') throw invalid('ifNoneMatch при записи допускает только «*» (создать, если записи ещё нет)', where, 'value')
    return { createOnly: true, notModifiedIf: null }
  }
  if (method === 'GET') {
    const version = typeof value === 'string' ? parseEtag(value) : null
    if (version === null) throw invalid('ifNoneMatch: ожидается W/"номер версии"', where, 'value')
    return { createOnly: false, notModifiedIf: version }
  }
  throw invalid(`ifNoneMatch не применяется к ${method}`, where, 'value')
}

function parseEntry(raw: unknown, index: number, allowUrn: boolean): Entry {
  const at = `Bundle.entry[${index}]`
  const e = raw as Json | null
  if (!e || typeof e !== 'object') throw invalid('Элемент пакета должен быть объектом', at, 'structure')
  const request = e.request as Json | undefined
  if (!request || typeof request !== 'object') throw invalid('В элементе пакета нет request', `${at}.request`, 'required')
  const method = request.method
  if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'DELETE') {
    throw notSupported(`${at}.request.method ${String(method)} is not supported (GET, POST, PUT, DELETE)`)
  }
  const url = typeof request.url === 'string' ? request.url : ''
  if (url.includes('?')) throw notSupported(`${at}.request.url: conditional ${method} by search is not supported; use ifNoneExist / an id`)
  const [type, id, ...rest] = url.replace(/^\//, '').split('/')
  if (!type || !isFhirResourceType(type) || rest.length > 0) throw invalid(`Неверный адрес в пакете: ${url} (ожидается Тип или Тип/id)`, `${at}.request.url`, 'value')
  if (method === 'POST' ? id !== undefined : id === undefined || !FHIR_ID.test(id)) {
    throw invalid(`Неверный адрес для ${method}: ${url}`, `${at}.request.url`, 'value')
  }
  const ifMatchText = typeof request.ifMatch === 'string' ? request.ifMatch : null
  const ifMatch = ifMatchText === null ? null : parseEtag(ifMatchText)
  if (ifMatchText !== null && ifMatch === null) throw invalid(`ifMatch: ожидается W/"номер версии"`, `${at}.request.ifMatch`, 'value')
  const { createOnly, notModifiedIf } = ifNoneMatchOf(request, method, at)
  let resource: Json | null = null
  if (method === 'POST' || method === 'PUT') {
    resource = validateResource(e.resource, { type, id: method === 'PUT' ? id : undefined, allowUrnReferences: allowUrn })
  }
  return {
    index,
    method,
    type,
    id: id ?? null,
    fullUrl: typeof e.fullUrl === 'string' ? e.fullUrl : null,
    resource,
    ifMatch,
    createOnly,
    notModifiedIf,
    ifNoneExist: typeof request.ifNoneExist === 'string' ? request.ifNoneExist : null,
  }
}

/** An answer entry as JSON text: the stored body goes in as it is. */
function responseEntry(base: string, r: OperationResult, minimal: boolean): string {
  const s = r.stored
  if (r.status === 204) return `{"response":${JSON.stringify({ status: '204', etag: etag(s.version) })}}`
  const response = JSON.stringify({
    status: String(r.status),
    ...(r.status === 201 ? { location: `${s.type}/${s.id}/_history/${s.version}` } : {}),
    etag: etag(s.version),
    lastModified: s.lastUpdated.toISOString(),
  })
  return s.body && !minimal ? `{"fullUrl":${JSON.stringify(`${base}/${s.type}/${s.id}`)},"resource":${s.body},"response":${response}}` : `{"response":${response}}`
}

/** A batch entry's failure: its status and OperationOutcome. */
function failureEntry(err: unknown, index: number): string {
  const { status, outcome } = outcomeOf(atEntry(err, index))
  return JSON.stringify({ response: { status: String(status), outcome } })
}

const bundleText = (type: string, entries: string[]) => `{"resourceType":"Bundle","type":"${type}","entry":[${entries.join(',')}]}`

/** Rewrites urn:uuid: references (any depth) using the map; an unknown one is an error. */
function resolveReferences(node: unknown, map: Map<string, string>, at: string): void {
  if (Array.isArray(node)) {
    node.forEach((v) => resolveReferences(v, map, at))
    return
  }
  if (!node || typeof node !== 'object') return
  const o = node as Json
  if (typeof o.reference === 'string' && o.reference.startsWith('urn:uuid:')) {
    const target = map.get(o.reference)
    if (!target) throw invalid(`Ссылка ${o.reference} не указывает ни на один элемент пакета`, at, 'invariant')
    o.reference = target
  }
  for (const v of Object.values(o)) if (v && typeof v === 'object') resolveReferences(v, map, at)
}

interface Preassigned {
  id: string
  /** If-None-Exist found this existing resource: nothing is written. */
  matched: boolean
}

/** The id a POST entry will have: a new one, or the one resource its If-None-Exist matches. */
async function preassign(ctx: OperationContext, e: Entry): Promise<Preassigned> {
  if (!e.ifNoneExist) return { id: newId(), matched: false }
  requireAccess(ctx.caller, e.type, 'write')
  const match = await findConditionalMatch(ctx, e.type, e.ifNoneExist)
  return match ? { id: match.id, matched: true } : { id: newId(), matched: false }
}

const notModified = (version: number) => `{"response":${JSON.stringify({ status: '304', etag: etag(version) })}}`

async function runEntry(ctx: OperationContext, e: Entry, preassigned: Map<number, Preassigned>, base: string, minimal: boolean): Promise<string> {
  switch (e.method) {
    case 'POST': {
      const pre = preassigned.get(e.index)!
      if (pre.matched) {
        const existing = await readCurrent(ctx.q, e.type, pre.id, orgScope(ctx.caller))
        return responseEntry(base, { status: 200, stored: existing! }, minimal)
      }
      return responseEntry(base, await createResource(ctx, e.type, e.resource!, { id: pre.id }), minimal)
    }
    case 'PUT':
      return responseEntry(base, await updateResource(ctx, e.type, e.id!, e.resource!, { ifMatch: e.ifMatch, ifNoneMatch: e.createOnly }), minimal)
    case 'DELETE':
      return responseEntry(base, await deleteResource(ctx, e.type, e.id!, { ifMatch: e.ifMatch }), minimal)
    case 'GET': {
      requireAccess(ctx.caller, e.type, 'read')
      const found = await readCurrent(ctx.q, e.type, e.id!, orgScope(ctx.caller))
      if (!found || found.deleted) throw new FhirProblem('NOT_FOUND', [{ code: found ? 'deleted' : 'not-found', diagnostics: `${e.type}/${e.id}` }], { status: found ? 410 : 404 })
      if (e.notModifiedIf === found.version) return notModified(found.version)
      // A read answers the resource whatever Prefer says.
      return responseEntry(base, { status: 200, stored: found }, false)
    }
  }
}

/** Entry i's failure, re-thrown with where it happened. */
function atEntry(e: unknown, index: number): unknown {
  if (e instanceof FhirProblem) {
    return new FhirProblem(e.code, e.issues.map((i): Issue => ({ ...i, expression: i.expression?.startsWith('Bundle.') ? i.expression : `Bundle.entry[${index}]${i.expression ? `.${i.expression}` : ''}` })), { status: e.status, params: e.params })
  }
  return e
}

export async function processTransaction(db: Db, caller: Caller, bundle: Json, now: Date, base: string, o: BundleOptions = {}): Promise<string> {
  const raw = checkBundle(bundle, 'transaction')
  const entries = raw.map((e, i) => {
    try {
      return parseEntry(e, i, true)
    } catch (err) {
      throw atEntry(err, i)
    }
  })
  const fullUrls = new Set<string>()
  for (const e of entries) {
    if (e.fullUrl?.startsWith('urn:uuid:')) {
      if (fullUrls.has(e.fullUrl)) throw invalid(`fullUrl ${e.fullUrl} повторяется`, `Bundle.entry[${e.index}].fullUrl`, 'invariant')
      fullUrls.add(e.fullUrl)
    }
  }
  return db.transaction(async (tx) => {
    const ctx: OperationContext = { q: tx, caller, now }
    const preassigned = new Map<number, Preassigned>()
    const map = new Map<string, string>()
    for (const e of entries.filter((x) => x.method === 'POST')) {
      let pre: Preassigned
      try {
        pre = await preassign(ctx, e)
      } catch (err) {
        throw atEntry(err, e.index)
      }
      const { id } = pre
      preassigned.set(e.index, pre)
      if (e.fullUrl?.startsWith('urn:uuid:')) map.set(e.fullUrl, `${e.type}/${id}`)
    }
    for (const e of entries) {
      if (!e.resource) continue
      try {
        resolveReferences(e.resource, map, `Bundle.entry[${e.index}].resource`)
      } catch (err) {
        throw atEntry(err, e.index)
      }
    }
    const results: string[] = new Array(entries.length)
    for (const e of [...entries].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index)) {
      try {
        results[e.index] = await runEntry(ctx, e, preassigned, base, o.minimal ?? false)
      } catch (err) {
        throw atEntry(err, e.index)
      }
    }
    return bundleText('transaction-response', results)
  })
}

const isWrite = (e: Entry) => e.method === 'PUT' || e.method === 'DELETE'

/** Batch: every entry on its own, in order; failures become that entry's OperationOutcome. */
export async function processBatch(db: Db, caller: Caller, bundle: Json, now: Date, base: string, o: BundleOptions = {}): Promise<string> {
  const raw = checkBundle(bundle, 'batch')
  const minimal = o.minimal ?? false
  const results: string[] = new Array(raw.length)
  const entries: Array<Entry | null> = raw.map((e, i) => {
    try {
      return parseEntry(e, i, false)
    } catch (err) {
      results[i] = failureEntry(err, i)
      return null
    }
  })
  if (entries.some((e) => e !== null)) {
    await db.transaction(async (tx) => {
      const ctx: OperationContext = { q: tx, caller, now }
      for (let i = 0; i < entries.length; ) {
        const e = entries[i]
        if (e && isWrite(e)) {
          // The run of PUT and DELETE entries from here (entries that failed to parse break nothing).
          const run: Entry[] = []
          for (; i < entries.length && (entries[i] === null || isWrite(entries[i]!)); i++) if (entries[i]) run.push(entries[i]!)
          await runWrites(ctx, run, results, base, minimal)
        } else {
          if (e) results[i] = await runOwn(ctx, e, base, minimal)
          i++
        }
      }
    })
  }
  return bundleText('batch-response', results)
}

/** One batch entry in a savepoint of its own: its answer, or its failure with nothing of it kept. */
async function runOwn(ctx: OperationContext, e: Entry, base: string, minimal: boolean): Promise<string> {
  try {
    return await inSavepoint(ctx.q, async () => {
      const pre = new Map<number, Preassigned>()
      if (e.method === 'POST') pre.set(e.index, await preassign(ctx, e))
      return runEntry(ctx, e, pre, base, minimal)
    })
  } catch (err) {
    return failureEntry(err, e.index)
  }
}

/** A run of PUT and DELETE batch entries written in bulk; one by one if a statement fails. */
async function runWrites(ctx: OperationContext, run: Entry[], results: string[], base: string, minimal: boolean): Promise<void> {
  const writes: Array<{ e: Entry; w: WriteRequest }> = []
  for (const e of run) {
    try {
      writes.push({ e, w: writeRequestOf(ctx, e.type, e.id!, e.resource, { ifMatch: e.ifMatch, ifNoneMatch: e.createOnly }) })
    } catch (err) {
      results[e.index] = failureEntry(err, e.index)
    }
  }
  if (writes.length === 0) return
  let outcomes: Awaited<ReturnType<typeof writeVersions>>
  try {
    outcomes = await inSavepoint(ctx.q, () => writeVersions(ctx.q, writes.map((x) => x.w)))
  } catch {
    // A statement failed — e.g. a concurrent writer created one of the new ids first — and the
    // savepoint undid the whole run: each entry again on its own, getting its own outcome.
    for (const { e } of writes) results[e.index] = await runOwn(ctx, e, base, minimal)
    return
  }
  writes.forEach(({ e, w }, k) => {
    const outcome = outcomes[k]!
    results[e.index] = outcome.ok ? responseEntry(base, { stored: outcome.result.stored, status: writeStatus(w, outcome.result) }, minimal) : failureEntry(outcome.error, e.index)
  })
}

function checkBundle(bundle: Json, type: 'transaction' | 'batch'): unknown[] {
  if (bundle.resourceType !== 'Bundle') throw invalid('Ожидается ресурс Bundle', 'Bundle.resourceType', 'structure')
  if (bundle.type !== type) throw invalid(`Ожидается Bundle.type = ${type}`, 'Bundle.type', 'value')
  const entries = bundle.entry === undefined ? [] : bundle.entry
  if (!Array.isArray(entries)) throw invalid('Bundle.entry должен быть массивом', 'Bundle.entry', 'structure')
  if (entries.length > MAX_BUNDLE_ENTRIES) throw new FhirProblem('INVALID_INPUT', [{ code: 'too-costly', diagnostics: `at most ${MAX_BUNDLE_ENTRIES} entries per bundle` }], { status: 413 })
  return entries
}
