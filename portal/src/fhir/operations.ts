// The write operations of the REST API, shared by the single-resource routes and transaction
// bundles: create (optionally conditional), update (optionally If-Match or If-None-Match: *), delete.
import type { FhirResourceType } from '../../../src/shared/fhir/systems'
import type { Caller } from '../auth/guard'
import type { Queryable } from '../db'
import { orgScope, ownerOrg, requireAccess } from './access'
import { FhirProblem, invalid } from './outcome'
import { runSearch } from './search'
import type { Json } from './search-params'
import { newId, readCurrent, writeVersion, type StoredVersion, type WriteRequest, type WriteResult } from './store'

export interface OperationResult {
  stored: StoredVersion
  /** 201 created, 200 updated or matched, 204 deleted. */
  status: 200 | 201 | 204
}

export interface OperationContext {
  q: Queryable
  caller: Caller
  now: Date
}

/** Parses If-None-Exist (a search query, with or without the leading '?'). */
function conditionQuery(text: string): URLSearchParams {
  const query = new URLSearchParams(text.startsWith('?') ? text.slice(1) : text)
  if ([...query.keys()].length === 0) throw invalid('If-None-Exist: пустое условие', 'If-None-Exist', 'value')
  for (const k of query.keys()) if (k.startsWith('_count') || k === '_after') throw invalid(`If-None-Exist: параметр ${k} недопустим`, 'If-None-Exist', 'value')
  return query
}

/**
 * Create with a server-assigned id (or `id` when the transaction pre-assigned one). With
 * If-None-Exist: one match → that resource, unchanged (200); several → 412; none → create. An
 * advisory lock on the condition serialises concurrent conditional creates of the same thing.
 */
export async function createResource(
  ctx: OperationContext,
  type: FhirResourceType,
  resource: Json,
  o: { ifNoneExist?: string | null; id?: string } = {},
): Promise<OperationResult> {
  requireAccess(ctx.caller, type, 'write')
  const scope = orgScope(ctx.caller)
  if (o.ifNoneExist) {
    const match = await findConditionalMatch(ctx, type, o.ifNoneExist)
    if (match) return { stored: match, status: 200 }
  }
  const { stored } = await writeVersion(ctx.q, {
    type,
    id: o.id ?? newId(),
    resource,
    method: 'POST',
    now: ctx.now,
    scope,
    owner: ownerOrg(ctx.caller),
    ifMatch: null,
    mustBeNew: true,
  })
  return { stored, status: 201 }
}

/** The one existing resource matching If-None-Exist, null when none; several → 412. Locks the condition. */
export async function findConditionalMatch(ctx: OperationContext, type: FhirResourceType, condition: string): Promise<StoredVersion | null> {
  const query = conditionQuery(condition)
  const scope = orgScope(ctx.caller)
  const key = `${type}?${[...query].map(([k, v]) => `${k}=${v}`).sort().join('&')}|${scope ?? '*'}`
  await ctx.q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key])
  query.set('_count', '2')
  const found = await runSearch(ctx.q, type, query, scope)
  if (found.rows.length > 1) {
    throw new FhirProblem('VERSION_CONFLICT', [{ code: 'multiple-matches', diagnostics: `If-None-Exist matches several ${type} resources` }])
  }
  const first = found.rows[0]
  return first ? readCurrent(ctx.q, type, first.id, scope) : null
}

/** The preconditions of a PUT or DELETE. */
export interface WriteConditions {
  /** If-Match: the version the writer read; null = unconditional. */
  ifMatch: number | null
  /** If-None-Match: * — only create: refused (412) when the resource exists (a deleted one does not). */
  ifNoneMatch?: boolean
}

/**
 * The store write of a PUT (`resource`) or DELETE (null) by the caller: refused here when the role
 * may not write the type; the store checks the organisation and the preconditions.
 */
export function writeRequestOf(ctx: OperationContext, type: FhirResourceType, id: string, resource: Json | null, c: WriteConditions): WriteRequest {
  requireAccess(ctx.caller, type, 'write')
  return {
    type,
    id,
    resource,
    method: resource ? 'PUT' : 'DELETE',
    now: ctx.now,
    scope: orgScope(ctx.caller),
    owner: ownerOrg(ctx.caller),
    ifMatch: c.ifMatch,
    ifNoneMatch: c.ifNoneMatch ?? false,
  }
}

/** The answer status of a written PUT or DELETE. */
export const writeStatus = (w: WriteRequest, r: WriteResult): OperationResult['status'] => (w.resource === null ? 204 : r.created ? 201 : 200)

/** Update (or create with the client's id: how the workstation pushes offline creations idempotently). */
export async function updateResource(ctx: OperationContext, type: FhirResourceType, id: string, resource: Json, c: WriteConditions): Promise<OperationResult> {
  const w = writeRequestOf(ctx, type, id, resource, c)
  const result = await writeVersion(ctx.q, w)
  return { stored: result.stored, status: writeStatus(w, result) }
}

export async function deleteResource(ctx: OperationContext, type: FhirResourceType, id: string, c: WriteConditions): Promise<OperationResult> {
  const w = writeRequestOf(ctx, type, id, null, c)
  const result = await writeVersion(ctx.q, w)
  return { stored: result.stored, status: writeStatus(w, result) }
}
