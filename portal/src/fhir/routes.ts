// The FHIR R4 REST API under /api/v1/fhir: read, vread, search, create (conditional), update
// (If-Match; If-None-Match: * to create only), delete, instance/type/system history, transaction and batch bundles, and the
// CapabilityStatement. Every error in this scope is an OperationOutcome.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../../src/shared/errors'
import { FHIR_CONTENT_TYPE, FHIR_ID, isFhirResourceType, type FhirResourceType } from '../../../src/shared/fhir/systems'
import { PORTAL_API_PREFIX } from '../../../src/shared/portal-api'
import { callerOf, type Caller, type Guard } from '../auth/guard'
import type { Db } from '../db'
import { orgScope, readableTypes, requireAccess, requireOrganisation } from './access'
import { etag, historyBundle, parseEtag, searchBundle, type BundleLink } from './bundle'
import { capabilityStatement } from './capability'
import { START_CURSOR, historyPage, instanceHistory, parseCursor } from './history'
import { createResource, deleteResource, updateResource, type OperationResult, type WriteConditions } from './operations'
import { FhirProblem, handleFhirError, invalid, notSupported, operationOutcome, sendOutcome } from './outcome'
import { parseCount, runSearch } from './search'
import { dateRange } from './search-params'
import { readCurrent, readVersion, type StoredVersion } from './store'
import { processBatch, processTransaction } from './transaction'
import { validateResource } from './validate'

export const FHIR_BASE_PATH = `${PORTAL_API_PREFIX}/fhir`
/** Transaction bundles are larger than anything else the portal accepts. */
export const FHIR_BODY_LIMIT_BYTES = 16 * 1024 * 1024
const HISTORY_DEFAULT_COUNT = 100
const HISTORY_MAX_COUNT = 1000

export interface FhirSettings {
  db: Db
  now: () => Date
  guard: Guard
  /** https://host:port as clients reach the portal; else taken from the request. */
  publicUrl?: string
}

type Params = { type: string; id: string; vid: string }

function typeOf(text: string): FhirResourceType {
  if (!isFhirResourceType(text)) throw new FhirProblem('NOT_FOUND', [{ code: 'not-supported', diagnostics: `resource type ${text} is not supported` }])
  return text
}

function idOf(text: string): string {
  if (!FHIR_ID.test(text)) throw invalid('Неверный идентификатор ресурса', 'id', 'value')
  return text
}

function queryOf(request: FastifyRequest): URLSearchParams {
  const i = request.url.indexOf('?')
  return new URLSearchParams(i < 0 ? '' : request.url.slice(i + 1))
}

function sinceOf(query: URLSearchParams): Date | null {
  const text = query.get('_since')
  if (text === null) return null
  const range = dateRange(text)
  // _since is an instant: a date alone means its start.
  if (!range) throw invalid('_since: ожидается дата и время, например 2026-11-22T10:00:00+03:00', '_since', 'value')
  return range.lo
}

function ifMatchOf(request: FastifyRequest): number | null {
  const header = request.headers['if-match']
  if (header === undefined) return null
  const v = parseEtag(String(header))
  if (v === null) throw invalid('If-Match: ожидается W/"номер версии"', 'If-Match', 'value')
  return v
}

/**
 * The preconditions of a PUT: If-Match W/"v" (update that version), or If-None-Match: * (create
 * only: 412 when the resource exists). On reads If-None-Match means 304 instead (the GET route).
 */
function putConditionsOf(request: FastifyRequest): WriteConditions {
  const ifMatch = ifMatchOf(request)
  const header = request.headers['if-none-match']
  if (header === undefined) return { ifMatch }
  if (ifMatch !== null) throw invalid('If-Match и If-None-Match в одном запросе несовместимы: укажите одно из условий', 'If-None-Match', 'invariant')
  if (String(header).trim() !== '*') throw invalid('If-None-Match при записи допускает только «*» (создать, если записи ещё нет)', 'If-None-Match', 'value')
  return { ifMatch: null, ifNoneMatch: true }
}

const preferMinimal = (prefer: string | string[] | undefined) => Boolean(prefer && /return=minimal/.test(String(prefer)))

function sendResource(reply: FastifyReply, stored: StoredVersion, status: number, base: string, prefer: string | string[] | undefined): FastifyReply {
  reply.code(status).header('etag', etag(stored.version)).header('last-modified', stored.lastUpdated.toUTCString())
  if (status === 201) reply.header('location', `${base}/${stored.type}/${stored.id}/_history/${stored.version}`)
  reply.type(`${FHIR_CONTENT_TYPE}; charset=utf-8`)
  if (preferMinimal(prefer)) return reply.send('')
  return reply.send(stored.body)
}

function gone(stored: StoredVersion): FhirProblem {
  return new FhirProblem('NOT_FOUND', [{ code: 'deleted', diagnostics: `${stored.type}/${stored.id} was deleted (version ${stored.version})` }], { status: 410 })
}

const notFound = (what: string) => new FhirProblem('NOT_FOUND', [{ code: 'not-found', diagnostics: `${what} not found` }])

function link(base: string, path: string, params: Array<[string, string]>): string {
  const qs = new URLSearchParams(params).toString()
  return `${base}${path}${qs ? `?${qs}` : ''}`
}

export async function registerFhirRoutes(app: FastifyInstance, s: FhirSettings): Promise<void> {
  await app.register(
    async (fhir) => {
      fhir.setErrorHandler(handleFhirError)
      fhir.setNotFoundHandler((request, reply) =>
        sendOutcome(reply, 404, operationOutcome('NOT_FOUND', [{ code: 'not-found', diagnostics: `No route ${request.method} ${request.url.split('?')[0]}` }])),
      )
      const json = fhir.getDefaultJsonParser('error', 'error')
      fhir.addContentTypeParser(FHIR_CONTENT_TYPE, { parseAs: 'string' }, json)
      // POST _search sends its parameters as a form.
      fhir.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body))

      const baseOf = (request: FastifyRequest) => `${s.publicUrl ?? `${request.protocol}://${request.host}`}${FHIR_BASE_PATH}`
      const auth = { preHandler: s.guard.require('any') }
      const ctxOf = (request: FastifyRequest) => ({ q: s.db, caller: callerOf(request), now: s.now() })

      fhir.get('/metadata', async (request, reply) => reply.type(`${FHIR_CONTENT_TYPE}; charset=utf-8`).send(capabilityStatement(baseOf(request), s.now())))

      // --- system level ---
      fhir.get('/_history', auth, async (request, reply) => {
        const caller = callerOf(request)
        requireOrganisation(caller)
        return sendHistory(request, reply, caller, readableTypes(caller), '/_history')
      })

      fhir.post('/', { ...auth, bodyLimit: FHIR_BODY_LIMIT_BYTES }, async (request, reply) => {
        const body = request.body as Record<string, unknown> | null
        if (!body || typeof body !== 'object') throw invalid('Ожидается Bundle', 'Bundle', 'structure')
        const caller = callerOf(request)
        const o = { minimal: preferMinimal(request.headers.prefer) }
        const result =
          body.type === 'batch'
            ? await processBatch(s.db, caller, body, s.now(), baseOf(request), o)
            : await processTransaction(s.db, caller, body, s.now(), baseOf(request), o)
        return reply.type(`${FHIR_CONTENT_TYPE}; charset=utf-8`).send(result)
      })

      // --- type level ---
      fhir.get<{ Params: Params }>('/:type', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        return sendSearch(request, reply, type, queryOf(request))
      })

      fhir.post<{ Params: Params }>('/:type/_search', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        const query = queryOf(request)
        const body = request.body
        if (typeof body === 'string') for (const [k, v] of new URLSearchParams(body)) query.append(k, v)
        return sendSearch(request, reply, type, query)
      })

      fhir.get<{ Params: Params }>('/:type/_history', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        const caller = callerOf(request)
        requireAccess(caller, type, 'read')
        return sendHistory(request, reply, caller, [type], `/${type}/_history`)
      })

      fhir.post<{ Params: Params }>('/:type', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        const resource = validateResource(request.body, { type })
        const ifNoneExist = request.headers['if-none-exist']
        const result = await s.db.transaction((tx) => createResource({ ...ctxOf(request), q: tx }, type, resource, { ifNoneExist: ifNoneExist ? String(ifNoneExist) : null }))
        return sendResource(reply, result.stored, result.status, baseOf(request), request.headers.prefer)
      })

      // --- instance level ---
      fhir.get<{ Params: Params }>('/:type/:id', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        const id = idOf(request.params.id)
        const caller = callerOf(request)
        requireAccess(caller, type, 'read')
        const stored = await readCurrent(s.db, type, id, orgScope(caller))
        if (!stored) throw notFound(`${type}/${id}`)
        if (stored.deleted) throw gone(stored)
        const ifNoneMatch = request.headers['if-none-match']
        if (ifNoneMatch && parseEtag(String(ifNoneMatch)) === stored.version) return reply.code(304).header('etag', etag(stored.version)).send()
        return sendResource(reply, stored, 200, baseOf(request), undefined)
      })

      fhir.put<{ Params: Params }>('/:type/:id', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        const id = idOf(request.params.id)
        const resource = validateResource(request.body, { type, id })
        const conditions = putConditionsOf(request)
        const result = await s.db.transaction((tx) => updateResource({ ...ctxOf(request), q: tx }, type, id, resource, conditions))
        return sendResource(reply, result.stored, result.status, baseOf(request), request.headers.prefer)
      })

      fhir.delete<{ Params: Params }>('/:type/:id', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        const id = idOf(request.params.id)
        const ifMatch = ifMatchOf(request)
        const result: OperationResult = await s.db.transaction((tx) => deleteResource({ ...ctxOf(request), q: tx }, type, id, { ifMatch }))
        return reply.code(204).header('etag', etag(result.stored.version)).send()
      })

      fhir.get<{ Params: Params }>('/:type/:id/_history', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        const id = idOf(request.params.id)
        const caller = callerOf(request)
        requireAccess(caller, type, 'read')
        const query = queryOf(request)
        const count = parseCount(query.get('_count') ?? undefined, HISTORY_DEFAULT_COUNT, HISTORY_MAX_COUNT)
        const beforeText = query.get('_before_version')
        const beforeVersion = beforeText === null ? null : Number(beforeText)
        if (beforeVersion !== null && !Number.isInteger(beforeVersion)) throw invalid('_before_version: номер версии', '_before_version', 'value')
        const page = await instanceHistory(s.db, { type, id, scope: orgScope(caller), since: sinceOf(query), count, beforeVersion })
        const base = baseOf(request)
        const links: BundleLink[] = [{ relation: 'self', url: `${base}/${type}/${id}/_history${request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''}` }]
        if (page.more) {
          const params: Array<[string, string]> = [['_count', String(count)], ['_before_version', String(page.rows.at(-1)!.version)]]
          const since = query.get('_since')
          if (since) params.unshift(['_since', since])
          links.push({ relation: 'next', url: link(base, `/${type}/${id}/_history`, params) })
        }
        return reply.type(`${FHIR_CONTENT_TYPE}; charset=utf-8`).send(historyBundle(base, page.rows, links))
      })

      fhir.get<{ Params: Params }>('/:type/:id/_history/:vid', auth, async (request, reply) => {
        const type = typeOf(request.params.type)
        const id = idOf(request.params.id)
        const caller = callerOf(request)
        requireAccess(caller, type, 'read')
        const version = Number(request.params.vid)
        if (!/^\d{1,9}$/.test(request.params.vid)) throw invalid('Номер версии — целое число', 'vid', 'value')
        const stored = await readVersion(s.db, type, id, version, orgScope(caller))
        if (!stored) throw notFound(`${type}/${id}/_history/${version}`)
        if (stored.deleted) throw gone(stored)
        return sendResource(reply, stored, 200, baseOf(request), undefined)
      })

      async function sendSearch(request: FastifyRequest, reply: FastifyReply, type: FhirResourceType, query: URLSearchParams) {
        const caller = callerOf(request)
        requireAccess(caller, type, 'read')
        const result = await runSearch(s.db, type, query, orgScope(caller))
        const base = baseOf(request)
        const echo = result.parsed.echo
        const count = result.parsed.control.count
        const links: BundleLink[] = [{ relation: 'self', url: link(base, `/${type}`, [...echo, ['_count', String(count)], ...(result.parsed.control.after ? [['_after', result.parsed.control.after] as [string, string]] : [])]) }]
        if (result.more) links.push({ relation: 'next', url: link(base, `/${type}`, [...echo, ['_count', String(count)], ['_after', result.rows.at(-1)!.id]]) })
        return reply.type(`${FHIR_CONTENT_TYPE}; charset=utf-8`).send(searchBundle(base, type, result.rows, links, result.total))
      }

      async function sendHistory(request: FastifyRequest, reply: FastifyReply, caller: Caller, types: FhirResourceType[], path: string) {
        const query = queryOf(request)
        for (const k of query.keys()) {
          if (!['_since', '_count', '_cursor', '_format', '_pretty'].includes(k)) throw notSupported(`history parameter ${k} is not supported (_since, _count, _cursor)`)
        }
        if (types.length === 0) throw new AppError('ACCESS_DENIED', {}, 'no readable resource types')
        const count = parseCount(query.get('_count') ?? undefined, HISTORY_DEFAULT_COUNT, HISTORY_MAX_COUNT)
        const cursorText = query.get('_cursor') ?? START_CURSOR
        parseCursor(cursorText)
        const since = sinceOf(query)
        const page = await historyPage(s.db, { types, scope: orgScope(caller), since, cursor: cursorText, count })
        const base = baseOf(request)
        const keep: Array<[string, string]> = [...(query.get('_since') ? [['_since', query.get('_since')!] as [string, string]] : []), ['_count', String(count)]]
        const links: BundleLink[] = [
          { relation: 'self', url: link(base, path, [...keep, ['_cursor', cursorText]]) },
          // Where to resume: the next page now, or the next pull later.
          { relation: page.more ? 'next' : 'sync', url: link(base, path, [...keep, ['_cursor', page.cursor]]) },
        ]
        return reply.type(`${FHIR_CONTENT_TYPE}; charset=utf-8`).send(historyBundle(base, page.rows, links))
      }
    },
    { prefix: FHIR_BASE_PATH },
  )
}
