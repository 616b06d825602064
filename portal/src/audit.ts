// Login audit: every login (EDS, password, one-time code, password reset) and refresh attempt
// with its outcome. Never tokens, PINs, passwords, codes or signatures; the СНИЛС and certificate
// fingerprint are kept here (not in the process log).
import type { LoginHistoryResponse } from '../../src/shared/portal-api'
import type { Queryable } from './db'

export type LoginMethod = LoginHistoryResponse['entries'][number]['method']

export interface LoginAttempt {
  at: Date
  address: string | null
  method: LoginMethod
  snils: string | null
  certificateFingerprint: string | null
  /** 'OK' or the error code answered. */
  result: string
  detail: string | null
}

export async function recordLoginAttempt(db: Queryable, a: LoginAttempt): Promise<void> {
  await db.query(
    `INSERT INTO login_attempts (at, address, method, snils, certificate_fingerprint, result, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [a.at, a.address, a.method, a.snils, a.certificateFingerprint, a.result, a.detail?.slice(0, 1000) ?? null],
  )
}

export async function listLoginAttempts(db: Queryable, limit = 100): Promise<LoginAttempt[]> {
  const rows = await db.query<{
    at: Date
    address: string | null
    method: LoginMethod
    snils: string | null
    certificate_fingerprint: string | null
    result: string
    detail: string | null
  }>('SELECT at, address, method, snils, certificate_fingerprint, result, detail FROM login_attempts ORDER BY id DESC LIMIT $1', [limit])
  return rows.map((r) => ({
    at: r.at,
    address: r.address,
    method: r.method,
    snils: r.snils,
    certificateFingerprint: r.certificate_fingerprint,
    result: r.result,
    detail: r.detail,
  }))
}

const HISTORY_METHODS: readonly LoginMethod[] = ['eds', 'password', 'otp', 'refresh', 'reset']

/** One worker's own attempts, newest first: what the login history shows them. */
export async function listLoginHistory(db: Queryable, snils: string, limit: number): Promise<LoginHistoryResponse['entries']> {
  const rows = await db.query<{ at: Date; address: string | null; method: LoginMethod; result: string }>(
    `SELECT at, address, method, result FROM login_attempts
     WHERE snils = $1 AND method = ANY($2) ORDER BY at DESC, id DESC LIMIT $3`,
    [snils, HISTORY_METHODS, limit],
  )
  return rows.map((r) => ({ at: r.at.toISOString(), address: r.address, method: r.method, result: r.result }))
}
