// Transaction bundles: all entries in one database transaction, all or nothing. Entries run in
// FHIR's order (DELETE, POST, PUT, GET); POST entries get their ids first so urn:uuid: references
// anywhere in the bundle can be rewritten to them. The response lists the entries in the order
// they came. A failure answers the failing entry's OperationOutcome and status, with nothing kept.
// Batch bundles run each entry on its own and report each outcome.
import { isFhirResourceType, FHIR_ID, type FhirResourceType } from '../../../src/shared/fhir/systems'
import type { Caller } from '../auth/guard'
import type { Db } from '../db'
import { orgScope, requireAccess } from './access'
import { etag, parseEtag } from './bundle'
import { FhirProblem, invalid, notSupported, outcomeOf, type Issue } from './outcome'
import { createResource, deleteResource, findConditionalMatch, updateResource, type OperationContext, type OperationResult } from './operations'
import type { Json } from './search-params'
import { newId, readCurrent } from './store'
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
  ifNoneExist: string | null
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
    ifNoneExist: typeof request.ifNoneExist === 'string' ? request.ifNoneExist : null,
  }
}

function responseEntry(base: string, r: OperationResult | { status: 200; stored: NonNullable<Awaited<ReturnType<typeof readCurrent>>> }): Json {
  const s = r.stored
  return {
    ...(s.body && r.status !== 204 ? { fullUrl: `${base}/${s.type}/${s.id}`, resource: JSON.parse(s.body) } : {}),
    response: {
      status: String(r.status),
      ...(r.status === 201 ? { location: `${s.type}/${s.id}/_history/${s.version}` } : {}),
      etag: etag(s.version),
      lastModified: s.lastUpdated.toISOString(),
    },
  }
}

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

async function runEntry(ctx: OperationContext, e: Entry, preassigned: Map<number, Preassigned>, base: string): Promise<Json> {
  switch (e.method) {
    case 'POST': {
      const pre = preassigned.get(e.index)!
      if (pre.matched) {
        const existing = await readCurrent(ctx.q, e.type, pre.id, orgScope(ctx.caller))
        return responseEntry(base, { status: 200, stored: existing! })
      }
      return responseEntry(base, await createResource(ctx, e.type, e.resource!, { id: pre.id }))
    }
    case 'PUT':
      return responseEntry(base, await updateResource(ctx, e.type, e.id!, e.resource!, e.ifMatch))
    case 'DELETE': {
      const r = await deleteResource(ctx, e.type, e.id!, e.ifMatch)
      return { response: { status: '204', etag: etag(r.stored.version) } }
    }
    case 'GET': {
      requireAccess(ctx.caller, e.type, 'read')
      const found = await readCurrent(ctx.q, e.type, e.id!, orgScope(ctx.caller))
      if (!found || found.deleted) throw new FhirProblem('NOT_FOUND', [{ code: found ? 'deleted' : 'not-found', diagnostics: `${e.type}/${e.id}` }], { status: found ? 410 : 404 })
      return responseEntry(base, { status: 200, stored: found })
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

export async function processTransaction(db: Db, caller: Caller, bundle: Json, now: Date, base: string): Promise<Json> {
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
    const results: Json[] = new Array(entries.length)
    for (const e of [...entries].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index)) {
      try {
        results[e.index] = await runEntry(ctx, e, preassigned, base)
      } catch (err) {
        throw atEntry(err, e.index)
      }
    }
    return { resourceType: 'Bundle', type: 'transaction-response', entry: results }
  })
}

/** Batch: every entry on its own; failures become that entry's OperationOutcome. */
export async function processBatch(db: Db, caller: Caller, bundle: Json, now: Date, base: string): Promise<Json> {
  const raw = checkBundle(bundle, 'batch')
  const results: Json[] = []
  for (const [i, e] of raw.entries()) {
    try {
      const entry = parseEntry(e, i, false)
      results.push(
        await db.transaction(async (tx) => {
          const ctx = { q: tx, caller, now }
          const pre = new Map<number, Preassigned>()
          if (entry.method === 'POST') pre.set(i, await preassign(ctx, entry))
          return runEntry(ctx, entry, pre, base)
        }),
      )
    } catch (err) {
      const { status, outcome } = outcomeOf(atEntry(err, i))
      results.push({ response: { status: String(status), outcome } })
    }
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: results }
}

function checkBundle(bundle: Json, type: 'transaction' | 'batch'): unknown[] {
  if (bundle.resourceType !== 'Bundle') throw invalid('Ожидается ресурс Bundle', 'Bundle.resourceType', 'structure')
  if (bundle.type !== type) throw invalid(`Ожидается Bundle.type = ${type}`, 'Bundle.type', 'value')
  const entries = bundle.entry === undefined ? [] : bundle.entry
  if (!Array.isArray(entries)) throw invalid('Bundle.entry должен быть массивом', 'Bundle.entry', 'structure')
  if (entries.length > MAX_BUNDLE_ENTRIES) throw new FhirProblem('INVALID_INPUT', [{ code: 'too-costly', diagnostics: `at most ${MAX_BUNDLE_ENTRIES} entries per bundle` }], { status: 413 })
  return entries
}
