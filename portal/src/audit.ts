// Login audit: every EDS login and refresh attempt with its outcome. Never tokens, PINs or
// signatures; the СНИЛС and certificate fingerprint are kept here (not in the process log).
import type { Queryable } from './db'

export interface LoginAttempt {
  at: Date
  address: string | null
  method: 'eds' | 'refresh'
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
    method: 'eds' | 'refresh'
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
