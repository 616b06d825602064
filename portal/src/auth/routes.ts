// The auth endpoints of the wire contract (src/shared/portal-api.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../../src/shared/errors'
import {
  edsLoginRequestSchema,
  portalPaths,
  refreshRequestSchema,
  type SessionResponse,
} from '../../../src/shared/portal-api'
import type { z } from 'zod'
import { recordLoginAttempt } from '../audit'
import type { Db } from '../db'
import { findWorker, toUser, type Worker } from '../register'
import { issueChallenge } from './challenge'
import { verifyEdsLogin, type EdsAudit } from './eds'
import { authenticate, createSession, findByRefreshToken, revokeSession, rotateTokens, type IssuedTokens } from './sessions'

export interface AuthSettings {
  db: Db
  now: () => Date
  portalName: string
  timeZone: string
  challengeTtlSeconds: number
  accessTtlSeconds: number
  refreshTtlSeconds: number
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? null)
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(body)').join(', ')
    throw new AppError('INVALID_INPUT', {}, `Invalid fields: ${fields}`)
  }
  return parsed.data
}

function bearerToken(request: FastifyRequest): string {
  const m = /^Bearer ([A-Za-z0-9._~+/-]{1,512}=*)$/.exec(request.headers.authorization ?? '')
  if (!m) throw new AppError('SESSION_EXPIRED', {}, 'no Bearer token')
  return m[1]!
}

function sessionResponse(tokens: IssuedTokens, worker: Worker): SessionResponse {
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

export function registerAuthRoutes(app: FastifyInstance, s: AuthSettings): void {
  app.post(portalPaths.challenge, async () => {
    return issueChallenge(s.db, { now: s.now(), ttlSeconds: s.challengeTtlSeconds, portalName: s.portalName })
  })

  app.post(portalPaths.eds, async (request) => {
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

  app.post(portalPaths.refresh, async (request) => {
    const now = s.now()
    let snils: string | null = null
    let result = 'OK'
    try {
      const body = parseBody(refreshRequestSchema, request.body)
      const session = await findByRefreshToken(s.db, body.refreshToken, now)
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

  app.post(portalPaths.logout, async (request, reply) => {
    const now = s.now()
    const session = await authenticate(s.db, bearerToken(request), now, { allowExpiredAccess: true })
    await revokeSession(s.db, session.sessionId, now)
    return reply.code(204).send()
  })

  app.get(portalPaths.me, async (request) => {
    const now = s.now()
    const session = await authenticate(s.db, bearerToken(request), now)
    const worker = await activeWorker(s, session, now)
    return { user: toUser(worker), expiresAt: session.expiresAt.toISOString() }
  })
}
