// The medical worker register (ФРМР-style): who may log in, with which roles, and whether their
// employment is still active; with the fuller record — date of birth, specialties, department,
// employment history and qualification documents.
//
// The current columns of `workers` (position, organisation, organisation_ogrn, department,
// employment, ended_at) are what login, sessions and access checks read. Every write here keeps
// them in step with employment_records: an active worker has exactly one open row that matches
// them, an ended worker none.
import { z } from 'zod'
import { roleSchema, type Role, type User } from '../../src/shared/model'
import type { Queryable } from './db'
import { inTransaction } from './db-tx'
import { departmentKey, findOrganisation, listDepartments } from './organisations'
import { dateField, dateOn, dayBefore, formatDate, invalidInput, notFound, ogrnField, parseInput, snilsField, text } from './register-input'
import { forgetWorker } from './auth/session-cache'

export const QUALIFICATION_KINDS = {
  certificate: 'Сертификат специалиста',
  accreditation: 'Свидетельство об аккредитации специалиста',
} as const
export type QualificationKind = keyof typeof QUALIFICATION_KINDS

/** The code, or a Russian name people write: «Сертификат специалиста», «Аккредитация». */
const qualificationKindField = z.string().transform((s, ctx): QualificationKind => {
  const k = s.trim().toLocaleLowerCase('ru')
  if (k === 'certificate' || k.startsWith('сертификат')) return 'certificate'
  if (k === 'accreditation' || k.includes('аккредитац')) return 'accreditation'
  ctx.addIssue({ code: 'custom', message: '«Сертификат специалиста» или «Аккредитация»' })
  return z.NEVER
})

export const qualificationInputSchema = z
  .object({
    kind: qualificationKindField,
    specialty: text(300),
    documentNumber: text(100),
    issuedOn: dateField,
    validUntil: dateField.nullable().default(null),
  })
  .superRefine((q, ctx) => {
    if (q.validUntil !== null && q.validUntil < q.issuedOn) {
      ctx.addIssue({ code: 'custom', path: ['validUntil'], message: `раньше даты выдачи (${formatDate(q.issuedOn)})` })
    }
  })
export type QualificationInput = z.input<typeof qualificationInputSchema>

const roleListField = z.array(roleSchema).max(5).transform((roles) => [...new Set(roles)])
const specialtiesField = z
  .array(text(300))
  .max(20)
  .transform((list) => [...new Set(list)])

/**
 * A worker as the register takes it. Full replace for the original fields; the newer optional
 * ones (birthDate, department, specialties, qualifications, roles) are kept when left out, and
 * cleared with null. `organisation` (the name) may be left out when organisationOgrn names a
 * registered organisation, whose name then wins.
 */
export const workerInputSchema = z.object({
  snils: snilsField,
  fullName: text(300),
  birthDate: dateField.nullable().optional(),
  position: text(300),
  organisation: text(500).optional(),
  organisationOgrn: ogrnField.nullable().default(null),
  department: text(300).nullable().optional(),
  roles: roleListField.optional(),
  specialties: specialtiesField.nullable().optional(),
  employment: z.enum(['active', 'ended']).default('active'),
  /** When the current employment (this position) began; default today. */
  startedOn: dateField.optional(),
  /** Last working day when `employment` is 'ended'; default today. */
  endedOn: dateField.optional(),
  qualifications: z.array(qualificationInputSchema).max(50).nullable().optional(),
})
export type WorkerInput = z.input<typeof workerInputSchema>
type ParsedWorkerInput = z.output<typeof workerInputSchema>

/** Changes to one worker (HTTP PATCH); `since` is when a change of position takes effect. */
export const workerPatchSchema = z.strictObject({
  fullName: text(300).optional(),
  birthDate: dateField.nullable().optional(),
  position: text(300).optional(),
  organisationOgrn: ogrnField.optional(),
  department: text(300).nullable().optional(),
  roles: roleListField.optional(),
  specialties: specialtiesField.nullable().optional(),
  qualifications: z.array(qualificationInputSchema).max(50).nullable().optional(),
  since: dateField.optional(),
})
export type WorkerPatch = z.input<typeof workerPatchSchema>

export interface Worker {
  snils: string
  fullName: string
  position: string
  organisation: string
  organisationOgrn: string | null
  roles: User['roles']
  employment: 'active' | 'ended'
  endedAt: Date | null
  /** ГГГГ-ММ-ДД */
  birthDate: string | null
  specialties: string[]
  departmentId: number | null
  department: string | null
}

export interface EmploymentRecord {
  organisationOgrn: string | null
  organisation: string
  departmentId: number | null
  department: string | null
  position: string
  startedOn: string
  /** null: the current employment. */
  endedOn: string | null
}

export interface Qualification {
  kind: QualificationKind
  specialty: string
  documentNumber: string
  issuedOn: string
  validUntil: string | null
}

export interface WorkerRecord extends Worker {
  /** Oldest first; the open row (endedOn null), if any, is the current one. */
  employmentHistory: EmploymentRecord[]
  qualifications: Qualification[]
}

export type SaveOutcome = 'created' | 'updated' | 'unchanged'

interface WorkerRow {
  snils: string
  full_name: string
  position: string
  organisation: string
  organisation_ogrn: string | null
  roles: string[]
  employment: 'active' | 'ended'
  ended_at: Date | null
  birth_date: string | null
  specialties: string[]
  department_id: number | null
  department: string | null
}

const SELECT_WORKERS = `SELECT w.snils, w.full_name, w.position, w.organisation, w.organisation_ogrn, w.roles, w.employment, w.ended_at,
  w.birth_date::text AS birth_date, w.specialties, w.department_id, d.name AS department
  FROM workers w LEFT JOIN departments d ON d.id = w.department_id`

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
    birthDate: r.birth_date,
    specialties: r.specialties,
    departmentId: r.department_id,
    department: r.department,
  }
}

export function toUser(w: Worker): User {
  return { snils: w.snils, fullName: w.fullName, position: w.position, organisation: w.organisation, roles: w.roles }
}

export async function findWorker(db: Queryable, snils: string): Promise<Worker | null> {
  const rows = await db.query<WorkerRow>(`${SELECT_WORKERS} WHERE w.snils = $1`, [snils])
  return rows[0] ? fromRow(rows[0]) : null
}

export interface WorkerFilter {
  /** Current organisation (ОГРН). */
  organisationOgrn?: string
  /** true: only active employment; false: only ended. */
  active?: boolean
}

export async function listWorkers(db: Queryable, filter: WorkerFilter = {}): Promise<Worker[]> {
  const employment = filter.active === undefined ? null : filter.active ? 'active' : 'ended'
  const rows = await db.query<WorkerRow>(
    `${SELECT_WORKERS} WHERE ($1::text IS NULL OR w.organisation_ogrn = $1) AND ($2::text IS NULL OR w.employment = $2)
     ORDER BY w.full_name, w.snils`,
    [filter.organisationOgrn ?? null, employment],
  )
  return rows.map(fromRow)
}

interface EmploymentRow {
  id: number
  organisation_ogrn: string | null
  organisation: string
  department_id: number | null
  department: string | null
  position: string
  started_on: string
  ended_on: string | null
}

const SELECT_EMPLOYMENT = `SELECT e.id, e.organisation_ogrn, e.organisation, e.department_id, d.name AS department, e.position,
  e.started_on::text AS started_on, e.ended_on::text AS ended_on
  FROM employment_records e LEFT JOIN departments d ON d.id = e.department_id`

const fromEmploymentRow = (r: EmploymentRow): EmploymentRecord => ({
  organisationOgrn: r.organisation_ogrn,
  organisation: r.organisation,
  departmentId: r.department_id,
  department: r.department,
  position: r.position,
  startedOn: r.started_on,
  endedOn: r.ended_on,
})

interface QualificationRow {
  kind: QualificationKind
  specialty: string
  document_number: string
  issued_on: string
  valid_until: string | null
}

async function qualificationsOf(db: Queryable, snils: string): Promise<Qualification[]> {
  const rows = await db.query<QualificationRow>(
    `SELECT kind, specialty, document_number, issued_on::text AS issued_on, valid_until::text AS valid_until
     FROM qualifications WHERE snils = $1 ORDER BY issued_on, kind, document_number`,
    [snils],
  )
  return rows.map((r) => ({ kind: r.kind, specialty: r.specialty, documentNumber: r.document_number, issuedOn: r.issued_on, validUntil: r.valid_until }))
}

/** The worker with their employment history and qualification documents, or null. */
export async function getWorkerRecord(db: Queryable, snils: string): Promise<WorkerRecord | null> {
  const worker = await findWorker(db, snils)
  if (!worker) return null
  const history = await db.query<EmploymentRow>(`${SELECT_EMPLOYMENT} WHERE e.snils = $1 ORDER BY e.started_on, e.id`, [snils])
  return { ...worker, employmentHistory: history.map(fromEmploymentRow), qualifications: await qualificationsOf(db, snils) }
}

/** The current fields a write resolves to, before it touches anything. */
interface Resolved {
  snils: string
  fullName: string
  birthDate: string | null
  position: string
  organisation: string
  organisationOgrn: string | null
  departmentId: number | null
  roles: Role[]
  specialties: string[]
  employment: 'active' | 'ended'
}

async function resolve(q: Queryable, w: ParsedWorkerInput, old: Worker | null, today: string): Promise<Resolved> {
  const org = w.organisationOgrn ? await findOrganisation(q, w.organisationOgrn) : null
  let organisation: string
  if (org) organisation = org.name
  else if (w.organisation) organisation = w.organisation
  else if (w.organisationOgrn) {
    throw invalidInput(
      'organisationOgrn',
      `ОГРН организации: организация ${w.organisationOgrn} не найдена в регистре — сначала добавьте её (add-org) или укажите её название`,
    )
  } else throw invalidInput('organisation', 'Организация: укажите ОГРН организации из регистра или её название')

  let departmentId: number | null
  if (typeof w.department === 'string') {
    if (!org) {
      throw invalidInput('department', 'Отделение: указывается только для организации из регистра (по ОГРН)')
    }
    const departments = await listDepartments(q, org.ogrn)
    const found = departments.find((d) => departmentKey(d.name) === departmentKey(w.department!))
    if (!found) {
      const known = departments.length ? `; есть: ${departments.map((d) => `«${d.name}»`).join(', ')}` : '; отделений пока нет (add-department)'
      throw invalidInput('department', `Отделение: в организации «${org.name}» нет отделения «${w.department}»${known}`)
    }
    departmentId = found.id
  } else if (w.department === null) departmentId = null
  // Left out: kept while the worker stays in the same organisation.
  else departmentId = old && old.organisationOgrn === w.organisationOgrn ? old.departmentId : null

  const birthDate = w.birthDate === undefined ? (old?.birthDate ?? null) : w.birthDate
  if (birthDate !== null && birthDate > today) throw invalidInput('birthDate', `Дата рождения: ${formatDate(birthDate)} — ещё не наступила`)
  for (const [field, label, date] of [['startedOn', 'Дата приёма', w.startedOn], ['endedOn', 'Дата увольнения', w.endedOn]] as const) {
    if (date !== undefined && date > today) throw invalidInput(field, `${label}: ${formatDate(date)} — ещё не наступила`)
    if (date !== undefined && birthDate !== null && date <= birthDate) {
      throw invalidInput(field, `${label}: ${formatDate(date)} — должна быть позже даты рождения (${formatDate(birthDate)})`)
    }
  }
  if (w.qualifications) {
    const seen = new Set<string>()
    for (const [i, q] of w.qualifications.entries()) {
      const key = `${q.kind}\u0000${q.documentNumber}`
      if (seen.has(key)) throw invalidInput(`qualifications.${i}.documentNumber`, `Документы о квалификации (№ ${i + 1}): документ ${q.documentNumber} указан дважды`)
      seen.add(key)
    }
  }
  return {
    snils: w.snils,
    fullName: w.fullName,
    birthDate,
    position: w.position,
    organisation,
    organisationOgrn: w.organisationOgrn,
    departmentId,
    roles: w.roles ?? old?.roles ?? [],
    specialties: w.specialties === undefined ? (old?.specialties ?? []) : (w.specialties ?? []),
    employment: w.employment,
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i])

function currentFieldsEqual(old: Worker, r: Resolved): boolean {
  return (
    old.fullName === r.fullName &&
    old.birthDate === r.birthDate &&
    old.position === r.position &&
    old.organisation === r.organisation &&
    old.organisationOgrn === r.organisationOgrn &&
    old.departmentId === r.departmentId &&
    sameList(old.roles, r.roles) &&
    sameList(old.specialties, r.specialties) &&
    old.employment === r.employment
  )
}

/** Brings employment_records in line with the worker's new current fields; true when it wrote. */
async function reconcileHistory(q: Queryable, r: Resolved, w: ParsedWorkerInput, today: string): Promise<boolean> {
  const open = (await q.query<EmploymentRow>(`${SELECT_EMPLOYMENT} WHERE e.snils = $1 AND e.ended_on IS NULL FOR UPDATE OF e`, [r.snils]))[0]
  if (r.employment === 'ended') {
    if (!open) return false
    // Default today, but never before the row began (a worker added and ended on a moved clock).
    const endedOn = w.endedOn ?? (today < open.started_on ? open.started_on : today)
    if (endedOn < open.started_on) {
      throw invalidInput('endedOn', `Дата увольнения: ${formatDate(endedOn)} — раньше даты приёма (${formatDate(open.started_on)})`)
    }
    await q.query('UPDATE employment_records SET ended_on = $2 WHERE id = $1', [open.id, endedOn])
    return true
  }
  const startedOn = w.startedOn ?? today
  if (!open) {
    // Hired, or hired again: the new row must begin after the last one ended.
    const last = (await q.query<{ ended_on: string }>(
      'SELECT ended_on::text AS ended_on FROM employment_records WHERE snils = $1 ORDER BY ended_on DESC LIMIT 1',
      [r.snils],
    ))[0]
    if (last && startedOn <= last.ended_on) {
      throw invalidInput('startedOn', `Дата приёма: ${formatDate(startedOn)} — должна быть позже окончания прошлой работы (${formatDate(last.ended_on)})`)
    }
    await insertOpenRow(q, r, startedOn)
    return true
  }
  const moved =
    open.organisation_ogrn !== r.organisationOgrn ||
    (r.organisationOgrn === null && open.organisation !== r.organisation) ||
    open.department_id !== r.departmentId ||
    open.position !== r.position
  if (!moved) {
    // Same post: a rename of the organisation or a corrected start date only.
    const newStart = w.startedOn ?? open.started_on
    if (open.organisation === r.organisation && newStart === open.started_on) return false
    await q.query('UPDATE employment_records SET organisation = $2, started_on = $3 WHERE id = $1', [open.id, r.organisation, newStart])
    return true
  }
  if (startedOn <= open.started_on) {
    // A change on (or before) the day the open row began corrects that row rather than adding one.
    await q.query(
      'UPDATE employment_records SET organisation_ogrn = $2, organisation = $3, department_id = $4, position = $5, started_on = $6 WHERE id = $1',
      [open.id, r.organisationOgrn, r.organisation, r.departmentId, r.position, startedOn],
    )
    return true
  }
  // A transfer: the old post ends the day before the new one begins.
  await q.query('UPDATE employment_records SET ended_on = $2 WHERE id = $1', [open.id, dayBefore(startedOn)])
  await insertOpenRow(q, r, startedOn)
  return true
}

async function insertOpenRow(q: Queryable, r: Resolved, startedOn: string): Promise<void> {
  await q.query(
    `INSERT INTO employment_records (snils, organisation_ogrn, organisation, department_id, position, started_on)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [r.snils, r.organisationOgrn, r.organisation, r.departmentId, r.position, startedOn],
  )
}

/** Replaces the worker's qualification documents with `list`; true when anything changed. */
async function replaceQualifications(q: Queryable, snils: string, list: Qualification[]): Promise<boolean> {
  const current = await qualificationsOf(q, snils)
  const key = (x: Qualification) => JSON.stringify([x.kind, x.documentNumber, x.specialty, x.issuedOn, x.validUntil])
  const wanted = new Set(list.map(key))
  if (current.length === list.length && current.every((x) => wanted.has(key(x)))) return false
  await q.query('DELETE FROM qualifications WHERE snils = $1', [snils])
  for (const x of list) {
    await q.query(
      'INSERT INTO qualifications (snils, kind, specialty, document_number, issued_on, valid_until) VALUES ($1, $2, $3, $4, $5, $6)',
      [snils, x.kind, x.specialty, x.documentNumber, x.issuedOn, x.validUntil],
    )
  }
  return true
}

/**
 * Adds a worker or updates the record with the same СНИЛС (idempotent), with the employment
 * history following the change: a new worker gets an open row, a change of position or
 * organisation closes it and opens the next, 'ended' closes it. Throws INVALID_INPUT (Russian
 * text naming the field) when the input or what it refers to is wrong.
 */
export async function saveWorker(db: Queryable, input: WorkerInput, now: Date = new Date()): Promise<{ worker: Worker; outcome: SaveOutcome }> {
  const w = parseInput(workerInputSchema, input)
  const today = dateOn(now)
  // Sessions read the worker's organisation and employment: cached callers must see the change.
  forgetWorker(w.snils)
  return inTransaction(db, async (tx) => {
    const oldRow = (await tx.query<WorkerRow>(`${SELECT_WORKERS} WHERE w.snils = $1 FOR UPDATE OF w`, [w.snils]))[0]
    const old = oldRow ? fromRow(oldRow) : null
    const r = await resolve(tx, w, old, today)
    let changed = !old || !currentFieldsEqual(old, r)
    if (changed) {
      await tx.query(
        `INSERT INTO workers (snils, full_name, position, organisation, organisation_ogrn, roles, employment, ended_at, updated_at,
                              birth_date, specialties, department_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7 = 'ended' THEN $8::timestamptz END, $8, $9, $10, $11)
         ON CONFLICT (snils) DO UPDATE SET
           full_name = EXCLUDED.full_name,
           position = EXCLUDED.position,
           organisation = EXCLUDED.organisation,
           organisation_ogrn = EXCLUDED.organisation_ogrn,
           roles = EXCLUDED.roles,
           employment = EXCLUDED.employment,
           ended_at = CASE WHEN EXCLUDED.employment = 'ended' THEN COALESCE(workers.ended_at, EXCLUDED.ended_at) END,
           updated_at = EXCLUDED.updated_at,
           birth_date = EXCLUDED.birth_date,
           specialties = EXCLUDED.specialties,
           department_id = EXCLUDED.department_id`,
        [r.snils, r.fullName, r.position, r.organisation, r.organisationOgrn, r.roles, r.employment, now, r.birthDate, r.specialties, r.departmentId],
      )
    }
    if (await reconcileHistory(tx, r, w, today)) changed = true
    if (w.qualifications !== undefined && (await replaceQualifications(tx, r.snils, w.qualifications ?? []))) changed = true
    const worker = fromRow((await tx.query<WorkerRow>(`${SELECT_WORKERS} WHERE w.snils = $1`, [r.snils]))[0]!)
    return { worker, outcome: !old ? 'created' : changed ? 'updated' : 'unchanged' }
  })
}

/** Adds a worker or updates the record with the same СНИЛС (idempotent). See saveWorker. */
export async function upsertWorker(db: Queryable, input: WorkerInput, now: Date = new Date()): Promise<Worker> {
  return (await saveWorker(db, input, now)).worker
}

/** Applies `patch` to a registered worker; NOT_FOUND when there is none. */
export async function updateWorker(db: Queryable, snils: string, patch: WorkerPatch, now: Date = new Date()): Promise<{ worker: Worker; outcome: SaveOutcome }> {
  const p = parseInput(workerPatchSchema, patch)
  return inTransaction(db, async (tx) => {
    const old = (await tx.query<WorkerRow>(`${SELECT_WORKERS} WHERE w.snils = $1 FOR UPDATE OF w`, [snils]))[0]
    if (!old) throw notFound('worker', `Сотрудник со СНИЛС ${snils} не найден в регистре`)
    const current = fromRow(old)
    const movesPost = p.position !== undefined || p.organisationOgrn !== undefined || p.department !== undefined || p.since !== undefined
    if (current.employment === 'ended' && movesPost) {
      throw invalidInput('employment', 'Статус работы: сотрудник уволен — должность и место работы меняются при новом приёме на работу')
    }
    const sameOrg = p.organisationOgrn === undefined || p.organisationOgrn === current.organisationOgrn
    return saveWorker(
      tx,
      {
        snils,
        fullName: p.fullName ?? current.fullName,
        birthDate: p.birthDate,
        position: p.position ?? current.position,
        organisationOgrn: p.organisationOgrn ?? current.organisationOgrn,
        // A new organisation brings its own name from the register; a department does not follow.
        organisation: sameOrg ? current.organisation : undefined,
        department: p.department,
        roles: p.roles,
        specialties: p.specialties,
        qualifications: p.qualifications,
        employment: current.employment,
        startedOn: p.since,
      },
      now,
    )
  })
}

/**
 * Marks the worker's employment ended (closing the open history row on `endedOn`, default
 * today) and ends their sessions; null when no such worker. Repeating it changes nothing.
 */
export async function endEmployment(
  db: Queryable,
  snils: string,
  now: Date = new Date(),
  options: { endedOn?: string } = {},
): Promise<Worker | null> {
  const { endedOn } = parseInput(z.object({ endedOn: dateField.optional() }), options)
  const today = dateOn(now)
  if (endedOn !== undefined && endedOn > today) throw invalidInput('endedOn', `Дата увольнения: ${formatDate(endedOn)} — ещё не наступила`)
  return inTransaction(db, async (tx) => {
    const rows = await tx.query<{ snils: string }>(
      `UPDATE workers SET employment = 'ended', ended_at = COALESCE(ended_at, $2), updated_at = $2
       WHERE snils = $1 RETURNING snils`,
      [snils, now],
    )
    if (!rows[0]) return null
    const open = (await tx.query<{ id: number; started_on: string }>(
      'SELECT id, started_on::text AS started_on FROM employment_records WHERE snils = $1 AND ended_on IS NULL FOR UPDATE',
      [snils],
    ))[0]
    if (open) {
      const day = endedOn ?? (today < open.started_on ? open.started_on : today)
      if (day < open.started_on) {
        throw invalidInput('endedOn', `Дата увольнения: ${formatDate(day)} — раньше даты приёма (${formatDate(open.started_on)})`)
      }
      await tx.query('UPDATE employment_records SET ended_on = $2 WHERE id = $1', [open.id, day])
    }
    await tx.query('UPDATE sessions SET revoked_at = $2 WHERE snils = $1 AND revoked_at IS NULL', [snils, now])
    forgetWorker(snils)
    return findWorker(tx, snils)
  })
}
