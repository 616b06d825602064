// ЕСИА-style login challenge: a text with a random nonce that the user signs on the token.
// Single use (consumed atomically) and short-lived.
import { randomBytes, randomUUID } from 'node:crypto'
import type { ChallengeResponse } from '../../../src/shared/portal-api'
import type { Queryable } from '../db'

/** Challenges (used or not) are deleted this long after they expire. */
const KEEP_EXPIRED_MS = 24 * 60 * 60 * 1000

export function challengeText(p: { portalName: string; challengeId: string; nonce: string; issuedAt: Date }): string {
  return [
    'Вход в личный кабинет медицинского работника',
    `Портал: ${p.portalName}`,
    `Запрос: ${p.challengeId}`,
    `Время: ${p.issuedAt.toISOString()}`,
    `Случайное значение: ${p.nonce}`,
  ].join('\n')
}

export async function issueChallenge(
  db: Queryable,
  p: { now: Date; ttlSeconds: number; portalName: string },
): Promise<ChallengeResponse> {
  const challengeId = randomUUID()
  const nonce = randomBytes(32).toString('base64url')
  const expiresAt = new Date(p.now.getTime() + p.ttlSeconds * 1000)
  const text = challengeText({ portalName: p.portalName, challengeId, nonce, issuedAt: p.now })
  await db.query('DELETE FROM challenges WHERE expires_at < $1', [new Date(p.now.getTime() - KEEP_EXPIRED_MS)])
  await db.query('INSERT INTO challenges (id, nonce, text, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
    challengeId,
    nonce,
    text,
    p.now,
    expiresAt,
  ])
  return { challengeId, challenge: text, expiresAt: expiresAt.toISOString(), serverTime: p.now.toISOString() }
}

/**
 * Marks the challenge used and returns its text, or null when it is unknown, expired or already
 * used. One UPDATE … WHERE used_at IS NULL: of two concurrent callers exactly one gets the text.
 */
export async function consumeChallenge(db: Queryable, challengeId: string, now: Date): Promise<string | null> {
  const rows = await db.query<{ text: string }>(
    `UPDATE challenges SET used_at = $2
     WHERE id = $1 AND used_at IS NULL AND expires_at > $2
     RETURNING text`,
    [challengeId, now],
  )
  return rows[0]?.text ?? null
}
