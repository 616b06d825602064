// One-time codes: 6 random digits, valid 5 minutes, single use, dead after 3 wrong entries. Only
// a hash is stored. A newer code of the same purpose replaces the older one («the last message»).
import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto'
import type { Queryable } from '../db'

export const CODE_LENGTH = 6
export const CODE_TTL_SECONDS = 5 * 60
export const CODE_MAX_ATTEMPTS = 3

export type CodePurpose = 'login' | 'reset'

/**
 * SHA-256 over the code's id and the code. A slow hash would buy little for a secret that lives
 * five minutes and allows three guesses; the id as salt keeps equal codes from looking equal.
 */
function codeHash(id: string, code: string): Buffer {
  return createHash('sha256').update(`${id}:${code}`, 'utf8').digest()
}

export interface IssuedCode {
  id: string
  /** In clear only on its way to the channel. */
  code: string
  expiresAt: Date
}

export async function issueCode(db: Queryable, p: { snils: string; purpose: CodePurpose; now: Date }): Promise<IssuedCode> {
  const id = randomUUID()
  const code = String(randomInt(0, 10 ** CODE_LENGTH)).padStart(CODE_LENGTH, '0')
  const expiresAt = new Date(p.now.getTime() + CODE_TTL_SECONDS * 1000)
  await db.query('UPDATE one_time_codes SET used_at = $3 WHERE snils = $1 AND purpose = $2 AND used_at IS NULL', [p.snils, p.purpose, p.now])
  await db.query(
    `INSERT INTO one_time_codes (id, snils, purpose, code_hash, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, p.snils, p.purpose, codeHash(id, code).toString('hex'), p.now, expiresAt],
  )
  return { id, code, expiresAt }
}

export interface StoredCode {
  id: string
  snils: string
  /** False once used, superseded, expired or out of attempts. */
  live: boolean
  hash: Buffer
}

export async function findCode(db: Queryable, id: string, purpose: CodePurpose, now: Date): Promise<StoredCode | null> {
  const rows = await db.query<{ id: string; snils: string; code_hash: string; expires_at: Date; used_at: Date | null; attempts: number }>(
    'SELECT id, snils, code_hash, expires_at, used_at, attempts FROM one_time_codes WHERE id = $1 AND purpose = $2',
    [id, purpose],
  )
  const r = rows[0]
  if (!r) return null
  const live = r.used_at === null && r.expires_at > now && r.attempts < CODE_MAX_ATTEMPTS
  return { id: r.id, snils: r.snils, live, hash: Buffer.from(r.code_hash, 'hex') }
}

export function codeMatches(stored: StoredCode, code: string): boolean {
  const given = codeHash(stored.id, code)
  return given.length === stored.hash.length && timingSafeEqual(given, stored.hash)
}

/** Counts a wrong entry; answers the attempts left (0: the code is dead now). */
export async function countWrongCode(db: Queryable, id: string): Promise<number> {
  const rows = await db.query<{ attempts: number }>(
    'UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1 AND used_at IS NULL AND attempts < $2 RETURNING attempts',
    [id, CODE_MAX_ATTEMPTS],
  )
  return rows[0] ? CODE_MAX_ATTEMPTS - rows[0].attempts : 0
}

/** Uses the code up; false when another request got there first (or it just died). */
export async function consumeCode(db: Queryable, id: string, now: Date): Promise<boolean> {
  const rows = await db.query(
    'UPDATE one_time_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3 RETURNING id',
    [id, now, CODE_MAX_ATTEMPTS],
  )
  return rows.length === 1
}

/** Kills an issued code whose message could not be sent. */
export async function dropCode(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE one_time_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL', [id, now])
}
