// The medical worker register (ФРМР-style): who may log in, with which roles, and whether their
// employment is still active.
import { z } from 'zod'
import { roleSchema, type User } from '../../src/shared/model'
import { isValidSnils, normalizeSnils } from '../../src/shared/validators/snils'
import type { Queryable } from './db'

export const workerInputSchema = z.object({
  snils: z
    .string()
    .transform((s, ctx) => {
      const n = normalizeSnils(s)
      if (n === null || !isValidSnils(n)) {
        ctx.addIssue({ code: 'custom', message: 'СНИЛС: 11 цифр с верной контрольной суммой' })
        return z.NEVER
      }
      return n
    }),
  fullName: z.string().trim().min(1).max(300),
  position: z.string().trim().min(1).max(300),
  organisation: z.string().trim().min(1).max(500),
  organisationOgrn: z.string().regex(/^\d{13}$|^\d{15}$/).nullable().default(null),
  roles: z.array(roleSchema).default([]),
  employment: z.enum(['active', 'ended']).default('active'),
})
export type WorkerInput = z.input<typeof workerInputSchema>

export interface Worker {
  snils: string
  fullName: string
  position: string
  organisation: string
  organisationOgrn: string | null
  roles: User['roles']
  employment: 'active' | 'ended'
  endedAt: Date | null
}

interface WorkerRow {
  snils: string
  full_name: string
  position: string
  organisation: string
  organisation_ogrn: string | null
  roles: string[]
  employment: 'active' | 'ended'
  ended_at: Date | null
}

const COLUMNS = 'snils, full_name, position, organisation, organisation_ogrn, roles, employment, ended_at'

function fromRow(r: WorkerRow): Worker {
  return {
    snils: r.snils,
    fullName: r.full_name,
    position: r.position,
    organisation: r.organisation,
    organisationOgrn: r.organisation_ogrn,
    // Roles the current code does not know are dropped rather than failing the login.
    roles: r.roles.flatMap((role) => {
      const parsed = roleSchema.safeParse(role)
      return parsed.success ? [parsed.data] : []
    }),
    employment: r.employment,
    endedAt: r.ended_at,
  }
}

export function toUser(w: Worker): User {
  return { snils: w.snils, fullName: w.fullName, position: w.position, organisation: w.organisation, roles: w.roles }
}

export async function findWorker(db: Queryable, snils: string): Promise<Worker | null> {
  const rows = await db.query<WorkerRow>(`SELECT ${COLUMNS} FROM workers WHERE snils = $1`, [snils])
  return rows[0] ? fromRow(rows[0]) : null
}

export async function listWorkers(db: Queryable): Promise<Worker[]> {
  return (await db.query<WorkerRow>(`SELECT ${COLUMNS} FROM workers ORDER BY full_name, snils`)).map(fromRow)
}

/** Adds a worker or updates the record with the same СНИЛС (idempotent). */
export async function upsertWorker(db: Queryable, input: WorkerInput, now: Date = new Date()): Promise<Worker> {
  const w = workerInputSchema.parse(input)
  const rows = await db.query<WorkerRow>(
    `INSERT INTO workers (snils, full_name, position, organisation, organisation_ogrn, roles, employment, ended_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7 = 'ended' THEN $8::timestamptz END, $8)
     ON CONFLICT (snils) DO UPDATE SET
       full_name = EXCLUDED.full_name,
       position = EXCLUDED.position,
       organisation = EXCLUDED.organisation,
       organisation_ogrn = EXCLUDED.organisation_ogrn,
       roles = EXCLUDED.roles,
       employment = EXCLUDED.employment,
       ended_at = CASE WHEN EXCLUDED.employment = 'ended' THEN COALESCE(workers.ended_at, EXCLUDED.ended_at) END,
       updated_at = EXCLUDED.updated_at
     RETURNING ${COLUMNS}`,
    [w.snils, w.fullName, w.position, w.organisation, w.organisationOgrn, w.roles, w.employment, now],
  )
  return fromRow(rows[0]!)
}

/** Marks the worker's employment ended; null when no such worker. Ends their sessions too. */
export async function endEmployment(db: Queryable, snils: string, now: Date = new Date()): Promise<Worker | null> {
  const rows = await db.query<WorkerRow>(
    `UPDATE workers SET employment = 'ended', ended_at = COALESCE(ended_at, $2), updated_at = $2
     WHERE snils = $1 RETURNING ${COLUMNS}`,
    [snils, now],
  )
  if (!rows[0]) return null
  await db.query('UPDATE sessions SET revoked_at = $2 WHERE snils = $1 AND revoked_at IS NULL', [snils, now])
  return fromRow(rows[0])
}
