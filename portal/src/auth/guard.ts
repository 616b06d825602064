// Every protected endpoint goes through this guard: a Bearer access token of a live session
// (not revoked, not past its access or absolute expiry, used within the inactivity timeout) of a
// worker who is still active, whose roles — carried in the session since login — include one the
// route allows. The caller it attaches is what handlers use for access by role and organisation.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../../src/shared/errors'
import type { Role } from '../../../src/shared/model'
import type { Queryable } from '../db'
import { cachedCaller, rememberCaller } from './session-cache'
import { hashToken, revokeSession } from './sessions'

export interface Caller {
  sessionId: string
  snils: string
  roles: Role[]
  fullName: string
  organisation: string
  /** ОГРН of the worker's organisation; resources are scoped by it. */
  organisationOgrn: string | null
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null
  }
  interface FastifyInstance {
    /** Every route registered after requireGuardOnEveryRoute, and whether it is public. */
    routeTable: RouteEntry[]
  }
}

export interface RouteEntry {
  method: string
  url: string
  public: boolean
}

export interface GuardSettings {
  db: Queryable
  now: () => Date
  /** A session unused this long ends (default 30 min). */
  idleTimeoutSeconds: number
}

/** last_seen_at is written at most this often per session: one write per request would cost more than the check. */
const LAST_SEEN_RESOLUTION_MS = 15_000

export const ALL_ROLES: readonly Role[] = ['doctor', 'nurse', 'registrar', 'head', 'admin']

export function bearerToken(request: FastifyRequest): string {
  const m = /^Bearer ([A-Za-z0-9._~+/-]{1,512}=*)$/.exec(request.headers.authorization ?? '')
  if (!m) throw new AppError('SESSION_EXPIRED', {}, 'no Bearer token')
  return m[1]!
}

interface CallerRow {
  id: string
  snils: string
  roles: Role[]
  last_seen_at: Date
  expires_at: Date
  refresh_expires_at: Date
  employment: 'active' | 'ended' | null
  full_name: string | null
  organisation: string | null
  organisation_ogrn: string | null
}

/**
 * The caller behind an access token. `allowExpiredAccess` accepts an access token past its
 * expiry while the session is alive (logout must work after a coffee break).
 */
export async function authenticateCaller(
  s: GuardSettings,
  accessToken: string,
  options: { allowExpiredAccess?: boolean } = {},
): Promise<Caller> {
  const now = s.now()
  const nowMs = now.getTime()
  const tokenHash = hashToken(accessToken)
  const hit = cachedCaller(tokenHash, nowMs)
  // A hit is used only while nothing is due: not expired, not idle, last_seen_at fresh enough.
  if (
    hit &&
    nowMs < hit.refreshExpiresAt &&
    (options.allowExpiredAccess === true || nowMs < hit.expiresAt) &&
    nowMs - hit.lastSeenAt <= LAST_SEEN_RESOLUTION_MS
  ) {
    return hit.caller
  }
  const rows = await s.db.query<CallerRow>(
    `SELECT s.id, s.snils, s.roles, s.last_seen_at, s.expires_at, s.refresh_expires_at, w.employment, w.full_name, w.organisation, w.organisation_ogrn
     FROM sessions s LEFT JOIN workers w ON w.snils = s.snils
     WHERE s.access_token_hash = $1 AND s.revoked_at IS NULL AND s.refresh_expires_at > $2
       AND ($3 OR s.expires_at > $2)`,
    [tokenHash, now, options.allowExpiredAccess === true],
  )
  const row = rows[0]
  if (!row) throw new AppError('SESSION_EXPIRED', {}, 'access token unknown, expired or revoked')
  if (nowMs - row.last_seen_at.getTime() > s.idleTimeoutSeconds * 1000) {
    await revokeSession(s.db, row.id, now)
    throw new AppError('SESSION_EXPIRED', { reason: 'idle' }, 'session idle for longer than the inactivity timeout')
  }
  if (row.employment !== 'active') {
    await revokeSession(s.db, row.id, now)
    throw new AppError('SESSION_EXPIRED', {}, 'worker no longer active: session revoked')
  }
  let lastSeenAt = row.last_seen_at.getTime()
  if (nowMs - lastSeenAt > LAST_SEEN_RESOLUTION_MS) {
    await s.db.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2', [row.id, now])
    lastSeenAt = nowMs
  }
  const caller: Caller = {
    sessionId: row.id,
    snils: row.snils,
    roles: row.roles,
    fullName: row.full_name ?? '',
    organisation: row.organisation ?? '',
    organisationOgrn: row.organisation_ogrn,
  }
  rememberCaller(tokenHash, { caller, expiresAt: row.expires_at.getTime(), refreshExpiresAt: row.refresh_expires_at.getTime(), lastSeenAt, cachedAt: nowMs })
  return caller
}

/** Marks the guard's preHandlers so route registration can tell a guarded route from an open one. */
const GUARDED = Symbol('session guard')

/**
 * Refuses to register any route that has no session guard unless its path is listed as public:
 * a forgotten guard fails at start-up (and in every test), not in production.
 * Call before registering routes (onRoute hooks see only later routes).
 */
export function requireGuardOnEveryRoute(app: FastifyInstance, publicPaths: ReadonlySet<string>): void {
  const table: RouteEntry[] = []
  app.decorate('routeTable', table)
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) table.push({ method: String(method), url: route.url, public: publicPaths.has(route.url) })
    if (publicPaths.has(route.url)) return
    const handlers = [route.preHandler, route.onRequest].flat().filter(Boolean) as Array<{ [GUARDED]?: true }>
    if (!handlers.some((h) => h[GUARDED])) {
      throw new Error(`Route ${String(route.method)} ${route.url} has no session guard and is not listed as public`)
    }
  })
}

export interface Guard {
  /** preHandler for a route open to these roles ('any' = every authenticated worker). */
  require(roles: readonly Role[] | 'any', options?: { allowExpiredAccess?: boolean }): (request: FastifyRequest) => Promise<void>
}

/** Decorates requests with `caller` and returns the guard factory. Call once per Fastify instance. */
export function installGuard(app: FastifyInstance, s: GuardSettings): Guard {
  if (!app.hasRequestDecorator('caller')) app.decorateRequest('caller', null)
  return {
    require(roles, options = {}) {
      const handler = async (request: FastifyRequest) => {
        const caller = await authenticateCaller(s, bearerToken(request), options)
        if (roles !== 'any' && !caller.roles.some((r) => roles.includes(r))) {
          throw new AppError('ACCESS_DENIED', {}, `roles ${caller.roles.join(',') || '(none)'} not in ${roles.join(',')}`)
        }
        request.caller = caller
      }
      return Object.assign(handler, { [GUARDED]: true as const })
    },
  }
}

/** The caller set by the guard; a route without the guard calling this is a programming error. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new AppError('INTERNAL', {}, 'route has no session guard')
  return request.caller
}
