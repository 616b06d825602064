// The write operations of the REST API, shared by the single-resource routes and transaction
// bundles: create (optionally conditional), update (optionally If-Match), delete.
import type { FhirResourceType } from '../../../src/shared/fhir/systems'
import type { Caller } from '../auth/guard'
import type { Queryable } from '../db'
import { orgScope, ownerOrg, requireAccess } from './access'
import { FhirProblem, invalid } from './outcome'
import { runSearch } from './search'
import type { Json } from './search-params'
import { newId, readCurrent, writeVersion, type StoredVersion } from './store'

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

/** Update (or create with the client's id: how the workstation pushes offline creations idempotently). */
export async function updateResource(
  ctx: OperationContext,
  type: FhirResourceType,
  id: string,
  resource: Json,
  ifMatch: number | null,
): Promise<OperationResult> {
  requireAccess(ctx.caller, type, 'write')
  const { stored, created } = await writeVersion(ctx.q, {
    type,
    id,
    resource,
    method: 'PUT',
    now: ctx.now,
    scope: orgScope(ctx.caller),
    owner: ownerOrg(ctx.caller),
    ifMatch,
  })
  return { stored, status: created ? 201 : 200 }
}

export async function deleteResource(ctx: OperationContext, type: FhirResourceType, id: string, ifMatch: number | null): Promise<OperationResult> {
  requireAccess(ctx.caller, type, 'write')
  const { stored } = await writeVersion(ctx.q, {
    type,
    id,
    resource: null,
    method: 'DELETE',
    now: ctx.now,
    scope: orgScope(ctx.caller),
    owner: ownerOrg(ctx.caller),
    ifMatch,
  })
  return { stored, status: 204 }
}
