// The accounts table: lookup by login, the failure counter and lock, password changes.
import type { Db, Queryable } from '../db'
import type { LoginKeys } from './login'
import { forgetWorker } from '../auth/session-cache'

/** Failures (wrong passwords and wrong codes together) that lock the account… */
export const LOCK_AFTER_FAILURES = 5
/** …for this long; it unlocks by itself. */
export const LOCK_SECONDS = 30 * 60

export interface Account {
  snils: string
  phone: string | null
  email: string | null
  passwordHash: string
  failedAttempts: number
  lockedUntil: Date | null
}

interface AccountRow {
  snils: string
  phone: string | null
  email: string | null
  password_hash: string
  failed_attempts: number
  locked_until: Date | null
}

const COLUMNS = 'snils, phone, email, password_hash, failed_attempts, locked_until'

const fromRow = (r: AccountRow): Account => ({
  snils: r.snils,
  phone: r.phone,
  email: r.email,
  passwordHash: r.password_hash,
  failedAttempts: r.failed_attempts,
  lockedUntil: r.locked_until,
})

export async function findAccount(db: Queryable, snils: string): Promise<Account | null> {
  const rows = await db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE snils = $1`, [snils])
  return rows[0] ? fromRow(rows[0]) : null
}

/** The account a login names, and which of its keys matched (a СНИЛС first, then phone, then e-mail). */
export async function findAccountByLogin(
  db: Queryable,
  keys: LoginKeys,
): Promise<{ account: Account; matchedBy: 'snils' | 'phone' | 'email' } | null> {
  if (!keys.snils && !keys.phone && !keys.email) return null
  const rows = await db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE snils = $1 OR phone = $2 OR email = $3`, [
    keys.snils,
    keys.phone,
    keys.email,
  ])
  for (const key of ['snils', 'phone', 'email'] as const) {
    const row = rows.find((r) => keys[key] !== null && r[key] === keys[key])
    if (row) return { account: fromRow(row), matchedBy: key }
  }
  return null
}

export function lockedUntil(account: Pick<Account, 'lockedUntil'>, now: Date): Date | null {
  return account.lockedUntil && account.lockedUntil > now ? account.lockedUntil : null
}

/**
 * Counts one failure. The one that reaches LOCK_AFTER_FAILURES locks the account and starts the
 * count again, so after the lock runs out the next LOCK_AFTER_FAILURES failures lock it again.
 * One statement: concurrent failures each count. Answers the lock's end when it is locked now.
 */
export async function recordFailure(db: Queryable, snils: string, now: Date): Promise<Date | null> {
  const lockEnd = new Date(now.getTime() + LOCK_SECONDS * 1000)
  const rows = await db.query<{ locked_until: Date | null }>(
    `UPDATE accounts SET
       failed_attempts = CASE WHEN failed_attempts + 1 >= $3 THEN 0 ELSE failed_attempts + 1 END,
       locked_until = CASE WHEN failed_attempts + 1 >= $3 THEN $4 ELSE locked_until END,
       updated_at = $2
     WHERE snils = $1 RETURNING locked_until`,
    [snils, now, LOCK_AFTER_FAILURES, lockEnd],
  )
  const until = rows[0]?.locked_until ?? null
  return until && until > now ? until : null
}

/** After a successful login: the count starts from zero. */
export async function clearFailures(db: Queryable, snils: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE accounts SET failed_attempts = 0, locked_until = NULL, updated_at = $2
     WHERE snils = $1 AND (failed_attempts <> 0 OR locked_until IS NOT NULL)`,
    [snils, now],
  )
}

export async function updatePasswordHash(db: Queryable, snils: string, passwordHash: string, now: Date): Promise<void> {
  await db.query('UPDATE accounts SET password_hash = $2, updated_at = $3 WHERE snils = $1', [snils, passwordHash, now])
}

/**
 * A new password (reset or administrator): clears the lock, kills the codes in flight and ends
 * the sessions opened with a password (EDS sessions do not depend on it). Answers how many ended.
 */
export async function replacePassword(db: Queryable, snils: string, passwordHash: string, now: Date): Promise<number> {
  await db.query(
    `UPDATE accounts SET password_hash = $2, failed_attempts = 0, locked_until = NULL, password_changed_at = $3, updated_at = $3
     WHERE snils = $1`,
    [snils, passwordHash, now],
  )
  await db.query('UPDATE one_time_codes SET used_at = $2 WHERE snils = $1 AND used_at IS NULL', [snils, now])
  const revoked = await db.query(
    `UPDATE sessions SET revoked_at = $2 WHERE snils = $1 AND method = 'password' AND revoked_at IS NULL RETURNING id`,
    [snils, now],
  )
  forgetWorker(snils)
  return revoked.length
}

export class AccountSetupError extends Error {}

/**
 * Creates the worker's account or gives it a new password (administrator, demo seed). A phone or
 * e-mail given replaces the stored one; one not given stays. Russian messages: the CLI shows them.
 */
export async function setAccount(
  db: Db,
  p: { snils: string; passwordHash: string; phone?: string | null; email?: string | null; now: Date },
): Promise<{ created: boolean; account: Account; revokedSessions: number }> {
  return db.transaction(async (tx) => {
    const worker = await tx.query('SELECT 1 FROM workers WHERE snils = $1', [p.snils])
    if (worker.length === 0) throw new AccountSetupError('Сотрудник с таким СНИЛС не найден в регистре')
    const phone = p.phone ?? null
    const email = p.email ?? null
    const taken = await tx.query<{ phone: string | null; email: string | null }>(
      'SELECT phone, email FROM accounts WHERE snils <> $1 AND (phone = $2 OR email = $3)',
      [p.snils, phone, email],
    )
    if (taken.some((t) => phone !== null && t.phone === phone)) throw new AccountSetupError('Этот телефон уже указан в другой учётной записи')
    if (taken.length > 0) throw new AccountSetupError('Этот адрес электронной почты уже указан в другой учётной записи')
    const existing = await findAccount(tx, p.snils)
    if (!existing) {
      if (!phone && !email) throw new AccountSetupError('Укажите телефон или адрес электронной почты: на них приходят коды подтверждения')
      const rows = await tx.query<AccountRow>(
        `INSERT INTO accounts (snils, phone, email, password_hash, password_changed_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5, $5) RETURNING ${COLUMNS}`,
        [p.snils, phone, email, p.passwordHash, p.now],
      )
      return { created: true, account: fromRow(rows[0]!), revokedSessions: 0 }
    }
    await tx.query('UPDATE accounts SET phone = COALESCE($2, phone), email = COALESCE($3, email) WHERE snils = $1', [p.snils, phone, email])
    const revokedSessions = await replacePassword(tx, p.snils, p.passwordHash, p.now)
    return { created: false, account: (await findAccount(tx, p.snils))!, revokedSessions }
  })
}

/** Lifts a lock by hand; false when there is no such account. */
export async function unlockAccount(db: Queryable, snils: string, now: Date): Promise<boolean> {
  const rows = await db.query('UPDATE accounts SET failed_attempts = 0, locked_until = NULL, updated_at = $2 WHERE snils = $1 RETURNING snils', [
    snils,
    now,
  ])
  return rows.length === 1
}
