// The auth endpoints of the wire contract (src/shared/portal-api.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../../src/shared/errors'
import {
  edsLoginRequestSchema,
  portalPaths,
  refreshRequestSchema,
  type SessionResponse,
} from '../../../src/shared/portal-api'
import type { z } from 'zod'
import { recordLoginAttempt, type LoginMethod } from '../audit'
import type { Db } from '../db'
import { sendError } from '../http-errors'
import { retryAfterSeconds, type RateLimitGroup, type SlidingWindowLimiter } from '../rate-limit'
import { findWorker, toUser, type Worker } from '../register'
import { issueChallenge } from './challenge'
import { verifyEdsLogin, type EdsAudit } from './eds'
import { callerOf, type Guard } from './guard'
import { createSession, findByRefreshToken, revokeSession, rotateTokens, type IssuedTokens } from './sessions'

export interface AuthSettings {
  db: Db
  now: () => Date
  portalName: string
  timeZone: string
  challengeTtlSeconds: number
  accessTtlSeconds: number
  refreshTtlSeconds: number
  guard: Guard
  idleTimeoutSeconds: number
  /** Per route group; null = not limited. */
  rateLimiters: Readonly<Record<RateLimitGroup, SlidingWindowLimiter | null>>
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? null)
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(body)').join(', ')
    throw new AppError('INVALID_INPUT', {}, `Invalid fields: ${fields}`)
  }
  return parsed.data
}

export function sessionResponse(tokens: IssuedTokens, worker: Worker): SessionResponse {
  return {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: tokens.expiresAt.toISOString(),
    refreshExpiresAt: tokens.refreshExpiresAt.toISOString(),
    user: toUser(worker),
  }
}

/** The worker behind a session, who must still be registered and active; else the session ends. */
async function activeWorker(s: AuthSettings, session: { sessionId: string; snils: string }, now: Date): Promise<Worker> {
  const worker = await findWorker(s.db, session.snils)
  if (!worker || worker.employment !== 'active') {
    await revokeSession(s.db, session.sessionId, now)
    throw new AppError('SESSION_EXPIRED', {}, 'worker no longer active: session revoked')
  }
  return worker
}

/**
 * onRequest hook (before the body is read): 429 RATE_LIMITED with Retry-After once the address has
 * used its group's budget. The first refusal of a run is a login_attempts row; the ones after it
 * are not, so a flood cannot turn into a flood of database writes.
 */
export function rateLimited(s: AuthSettings, group: RateLimitGroup, method: LoginMethod) {
  const limiter = s.rateLimiters[group]
  if (!limiter) return []
  return [
    async (request: FastifyRequest, reply: FastifyReply) => {
      const decision = limiter.hit(request.ip)
      if (decision.allowed) return
      const seconds = retryAfterSeconds(decision.retryAfterMs)
      request.log.warn({ result: 'RATE_LIMITED', group, retryAfterSeconds: seconds }, 'rate limited')
      if (decision.first) {
        try {
          await recordLoginAttempt(s.db, {
            at: s.now(),
            address: request.ip,
            method,
            snils: null,
            certificateFingerprint: null,
            result: 'RATE_LIMITED',
            detail: `${request.routeOptions.url ?? request.url.split('?')[0]}: over ${limiter.rule.max} per ${limiter.rule.windowMs / 1000} s`,
          })
        } catch (e) {
          request.log.error({ err: e }, 'login audit write failed')
        }
      }
      reply.header('retry-after', String(seconds))
      return sendError(reply, 'RATE_LIMITED', { retryAfterSeconds: seconds })
    },
  ]
}

export function registerAuthRoutes(app: FastifyInstance, s: AuthSettings): void {
  app.post(portalPaths.challenge, { onRequest: rateLimited(s, 'login', 'eds') }, async () => {
    return issueChallenge(s.db, { now: s.now(), ttlSeconds: s.challengeTtlSeconds, portalName: s.portalName })
  })

  app.post(portalPaths.eds, { onRequest: rateLimited(s, 'login', 'eds') }, async (request) => {
    const now = s.now()
    const audit: EdsAudit = { snils: null, certificateFingerprint: null, notes: [] }
    let result = 'OK'
    try {
      // Checked before the challenge is touched: a malformed request does not use it up.
      const body = parseBody(edsLoginRequestSchema, request.body)
      if (!BASE64.test(body.signature)) throw new AppError('INVALID_INPUT', {}, 'signature is not base64')
      const worker = await verifyEdsLogin(
        s.db,
        { challengeId: body.challengeId, signature: new Uint8Array(Buffer.from(body.signature, 'base64')) },
        audit,
        { now, timeZone: s.timeZone },
      )
      const tokens = await createSession(s.db, {
        snils: worker.snils,
        roles: worker.roles,
        method: 'eds',
        certificateFingerprint: audit.certificateFingerprint,
        now,
        accessTtlSeconds: s.accessTtlSeconds,
        refreshTtlSeconds: s.refreshTtlSeconds,
      })
      if (audit.notes.length > 0) request.log.warn({ notes: audit.notes }, 'eds login accepted with revocation not fully checked')
      return sessionResponse(tokens, worker)
    } catch (e) {
      result = AppError.is(e) ? e.code : 'INTERNAL'
      if (AppError.is(e) && e.details) audit.notes.push(e.details)
      throw e
    } finally {
      request.log.info({ result }, 'eds login')
      await recordLoginAttempt(s.db, {
        at: now,
        address: request.ip,
        method: 'eds',
        snils: audit.snils,
        certificateFingerprint: audit.certificateFingerprint,
        result,
        detail: audit.notes.length > 0 ? audit.notes.join('; ') : null,
      })
    }
  })

  app.post(portalPaths.refresh, { onRequest: rateLimited(s, 'refresh', 'refresh') }, async (request) => {
    const now = s.now()
    let snils: string | null = null
    let result = 'OK'
    try {
      const body = parseBody(refreshRequestSchema, request.body)
      const session = await findByRefreshToken(s.db, body.refreshToken, now, s.idleTimeoutSeconds)
      snils = session.snils
      const worker = await activeWorker(s, session, now)
      const tokens = await s.db.transaction((tx) => rotateTokens(tx, body.refreshToken, now, s))
      return sessionResponse(tokens, worker)
    } catch (e) {
      result = AppError.is(e) ? e.code : 'INTERNAL'
      throw e
    } finally {
      await recordLoginAttempt(s.db, { at: now, address: request.ip, method: 'refresh', snils, certificateFingerprint: null, result, detail: null })
    }
  })

  app.post(portalPaths.logout, { preHandler: s.guard.require('any', { allowExpiredAccess: true }) }, async (request, reply) => {
    await revokeSession(s.db, callerOf(request).sessionId, s.now())
    return reply.code(204).send()
  })

  app.get(portalPaths.me, { preHandler: s.guard.require('any') }, async (request) => {
    const caller = callerOf(request)
    const now = s.now()
    const worker = await activeWorker(s, { sessionId: caller.sessionId, snils: caller.snils }, now)
    const rows = await s.db.query<{ expires_at: Date }>('SELECT expires_at FROM sessions WHERE id = $1', [caller.sessionId])
    return { user: toUser(worker), expiresAt: (rows[0]?.expires_at ?? now).toISOString() }
  })
}
