// Sessions after login: opaque random access and refresh tokens, stored only as SHA-256 hashes.
// The access token is short (≈15 min); the refresh token rotates on every use and the session
// ends for good at refresh_expires_at (≈8 h, a working shift). A rotated-away refresh token
// presented again means it leaked: the whole session is revoked.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { AppError } from '../../../src/shared/errors'
import type { Role } from '../../../src/shared/model'
import type { Queryable } from '../db'
import { forgetSession } from './session-cache'

export interface SessionTtls {
  accessTtlSeconds: number
  refreshTtlSeconds: number
}

export interface IssuedTokens {
  sessionId: string
  accessToken: string
  refreshToken: string
  expiresAt: Date
  refreshExpiresAt: Date
}

export interface ActiveSession {
  sessionId: string
  snils: string
  roles: Role[]
  expiresAt: Date
  refreshExpiresAt: Date
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

function newToken(): string {
  return randomBytes(32).toString('base64url')
}

const sessionExpired = (details: string) => new AppError('SESSION_EXPIRED', {}, details)

export async function createSession(
  db: Queryable,
  p: { snils: string; roles: Role[]; method: 'eds' | 'password'; certificateFingerprint: string | null; now: Date } & SessionTtls,
): Promise<IssuedTokens> {
  const sessionId = randomUUID()
  const accessToken = newToken()
  const refreshToken = newToken()
  const refreshExpiresAt = new Date(p.now.getTime() + p.refreshTtlSeconds * 1000)
  const expiresAt = new Date(Math.min(p.now.getTime() + p.accessTtlSeconds * 1000, refreshExpiresAt.getTime()))
  await db.query(
    `INSERT INTO sessions (id, access_token_hash, refresh_token_hash, snils, roles, method, certificate_fingerprint,
                           created_at, expires_at, refresh_expires_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8)`,
    [sessionId, hashToken(accessToken), hashToken(refreshToken), p.snils, p.roles, p.method, p.certificateFingerprint, p.now, expiresAt, refreshExpiresAt],
  )
  return { sessionId, accessToken, refreshToken, expiresAt, refreshExpiresAt }
}

interface SessionRow {
  id: string
  snils: string
  roles: Role[]
  expires_at: Date
  refresh_expires_at: Date
}

const toActive = (r: SessionRow): ActiveSession => ({
  sessionId: r.id,
  snils: r.snils,
  roles: r.roles,
  expiresAt: r.expires_at,
  refreshExpiresAt: r.refresh_expires_at,
})

/**
 * Finds the live session of a refresh token (no change). Reuse of a rotated token revokes the
 * session; so does a session unused for longer than `idleSeconds` (inactivity expiry).
 */
export async function findByRefreshToken(db: Queryable, refreshToken: string, now: Date, idleSeconds: number): Promise<ActiveSession> {
  const hash = hashToken(refreshToken)
  const rows = await db.query<SessionRow & { last_seen_at: Date }>(
    `SELECT id, snils, roles, expires_at, refresh_expires_at, last_seen_at FROM sessions
     WHERE refresh_token_hash = $1 AND revoked_at IS NULL AND refresh_expires_at > $2`,
    [hash, now],
  )
  const row = rows[0]
  if (row) {
    if (now.getTime() - row.last_seen_at.getTime() > idleSeconds * 1000) {
      await revokeSession(db, row.id, now)
      throw new AppError('SESSION_EXPIRED', { reason: 'idle' }, 'session idle for longer than the inactivity timeout')
    }
    return toActive(row)
  }
  const retired = await db.query<{ session_id: string }>('SELECT session_id FROM retired_refresh_tokens WHERE hash = $1', [hash])
  if (retired[0]) {
    await revokeSession(db, retired[0].session_id, now)
    throw sessionExpired('rotated refresh token presented again: session revoked')
  }
  throw sessionExpired('refresh token unknown, expired or revoked')
}

/**
 * Swaps both tokens of the session for new ones. Conditional on the old refresh token, so of two
 * concurrent refreshes with the same token only one succeeds.
 */
export async function rotateTokens(
  db: Queryable,
  refreshToken: string,
  now: Date,
  ttls: Pick<SessionTtls, 'accessTtlSeconds'>,
): Promise<IssuedTokens> {
  const oldHash = hashToken(refreshToken)
  const accessToken = newToken()
  const newRefresh = newToken()
  const rows = await db.query<{ id: string; expires_at: Date; refresh_expires_at: Date }>(
    `UPDATE sessions
     SET access_token_hash = $2, refresh_token_hash = $3, last_seen_at = $4,
         expires_at = LEAST($4::timestamptz + make_interval(secs => $5), refresh_expires_at)
     WHERE refresh_token_hash = $1 AND revoked_at IS NULL AND refresh_expires_at > $4
     RETURNING id, expires_at, refresh_expires_at`,
    [oldHash, hashToken(accessToken), hashToken(newRefresh), now, ttls.accessTtlSeconds],
  )
  const row = rows[0]
  if (!row) throw sessionExpired('refresh token already used')
  forgetSession(row.id)
  await db.query('INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
    oldHash,
    row.id,
    now,
  ])
  return { sessionId: row.id, accessToken, refreshToken: newRefresh, expiresAt: row.expires_at, refreshExpiresAt: row.refresh_expires_at }
}

export async function revokeSession(db: Queryable, sessionId: string, now: Date): Promise<void> {
  forgetSession(sessionId)
  await db.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [sessionId, now])
}
