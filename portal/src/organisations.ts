// Medical organisations of the register and their departments. An organisation is known by its
// ОГРН (ОГРНИП for a sole trader); workers' current organisation fields follow its name.
import { z } from 'zod'
import type { Queryable } from './db'
import { inTransaction } from './db-tx'
import { innField, invalidInput, notFound, ogrnField, optionalText, parseInput, text } from './register-input'

export interface Organisation {
  ogrn: string
  inn: string
  name: string
  shortName: string | null
  address: string | null
}

export interface Department {
  id: number
  organisationOgrn: string
  name: string
}

export interface OrganisationRecord extends Organisation {
  departments: Department[]
}

export type SaveOutcome = 'created' | 'updated' | 'unchanged'

/** A legal entity has a 10-digit ИНН and a 13-digit ОГРН; a sole trader 12 and 15. */
function checkInnMatchesOgrn(ogrn: string, inn: string, ctx: { addIssue(i: { code: 'custom'; path: string[]; message: string }): void }): void {
  if (ogrn.length === 13 && inn.length !== 10) {
    ctx.addIssue({ code: 'custom', path: ['inn'], message: 'у организации с ОГРН (13 цифр) ИНН из 10 цифр' })
  } else if (ogrn.length === 15 && inn.length !== 12) {
    ctx.addIssue({ code: 'custom', path: ['inn'], message: 'у индивидуального предпринимателя с ОГРНИП (15 цифр) ИНН из 12 цифр' })
  }
}

export const organisationInputSchema = z
  .object({
    ogrn: ogrnField,
    inn: innField,
    name: text(500),
    shortName: optionalText(200).optional(),
    address: optionalText(500).optional(),
  })
  .superRefine((o, ctx) => checkInnMatchesOgrn(o.ogrn, o.inn, ctx))
export type OrganisationInput = z.input<typeof organisationInputSchema>

export const organisationPatchSchema = z.strictObject({
  inn: innField.optional(),
  name: text(500).optional(),
  shortName: optionalText(200).optional(),
  address: optionalText(500).optional(),
})
export type OrganisationPatch = z.input<typeof organisationPatchSchema>

export const departmentInputSchema = z.strictObject({ name: text(300) })

interface OrganisationRow {
  ogrn: string
  inn: string
  name: string
  short_name: string | null
  address: string | null
}

interface DepartmentRow {
  id: number
  organisation_ogrn: string
  name: string
}

const ORG_COLUMNS = 'ogrn, inn, name, short_name, address'

const fromOrgRow = (r: OrganisationRow): Organisation => ({
  ogrn: r.ogrn,
  inn: r.inn,
  name: r.name,
  shortName: r.short_name,
  address: r.address,
})

const fromDepartmentRow = (r: DepartmentRow): Department => ({ id: r.id, organisationOgrn: r.organisation_ogrn, name: r.name })

/** Department names compare without case, ё/е and extra spaces («терапевтическое  отделение»). */
export function departmentKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLocaleLowerCase('ru').replace(/ё/g, 'е')
}

export async function findOrganisation(db: Queryable, ogrn: string): Promise<Organisation | null> {
  const rows = await db.query<OrganisationRow>(`SELECT ${ORG_COLUMNS} FROM organisations WHERE ogrn = $1`, [ogrn])
  return rows[0] ? fromOrgRow(rows[0]) : null
}

export async function listDepartments(db: Queryable, ogrn: string): Promise<Department[]> {
  const rows = await db.query<DepartmentRow>('SELECT id, organisation_ogrn, name FROM departments WHERE organisation_ogrn = $1 ORDER BY name, id', [ogrn])
  return rows.map(fromDepartmentRow)
}

/** The organisation with its departments, or null. */
export async function getOrganisationRecord(db: Queryable, ogrn: string): Promise<OrganisationRecord | null> {
  const org = await findOrganisation(db, ogrn)
  return org ? { ...org, departments: await listDepartments(db, ogrn) } : null
}

/** All organisations (or the one with `filter.ogrn`), each with its departments, by name. */
export async function listOrganisations(db: Queryable, filter: { ogrn?: string } = {}): Promise<OrganisationRecord[]> {
  const orgs = await db.query<OrganisationRow>(
    `SELECT ${ORG_COLUMNS} FROM organisations WHERE ($1::text IS NULL OR ogrn = $1) ORDER BY name, ogrn`,
    [filter.ogrn ?? null],
  )
  const departments = await db.query<DepartmentRow>(
    'SELECT id, organisation_ogrn, name FROM departments WHERE ($1::text IS NULL OR organisation_ogrn = $1) ORDER BY name, id',
    [filter.ogrn ?? null],
  )
  return orgs.map((o) => ({
    ...fromOrgRow(o),
    departments: departments.filter((d) => d.organisation_ogrn === o.ogrn).map(fromDepartmentRow),
  }))
}

/** The department of `ogrn` called `name` (see departmentKey), or null. */
export async function findDepartmentByName(db: Queryable, ogrn: string, name: string): Promise<Department | null> {
  const key = departmentKey(name)
  return (await listDepartments(db, ogrn)).find((d) => departmentKey(d.name) === key) ?? null
}

/** Current fields of the organisation's workers (and their open employment rows) follow a rename. */
async function propagateName(db: Queryable, ogrn: string, name: string, now: Date): Promise<void> {
  await db.query('UPDATE workers SET organisation = $2, updated_at = $3 WHERE organisation_ogrn = $1 AND organisation <> $2', [ogrn, name, now])
  await db.query('UPDATE employment_records SET organisation = $2 WHERE organisation_ogrn = $1 AND ended_on IS NULL AND organisation <> $2', [ogrn, name])
}

/** Adds the organisation or updates the one with the same ОГРН (idempotent). */
export async function upsertOrganisation(
  db: Queryable,
  input: OrganisationInput,
  now: Date = new Date(),
): Promise<{ organisation: Organisation; outcome: SaveOutcome }> {
  const o = parseInput(organisationInputSchema, input)
  return inTransaction(db, async (tx) => {
    const old = (await tx.query<OrganisationRow>(`SELECT ${ORG_COLUMNS} FROM organisations WHERE ogrn = $1 FOR UPDATE`, [o.ogrn]))[0]
    const next: Organisation = {
      ogrn: o.ogrn,
      inn: o.inn,
      name: o.name,
      // Left out = kept: re-running `add-org` without --address must not erase the address.
      shortName: o.shortName === undefined ? (old?.short_name ?? null) : o.shortName,
      address: o.address === undefined ? (old?.address ?? null) : o.address,
    }
    if (old && JSON.stringify(fromOrgRow(old)) === JSON.stringify(next)) return { organisation: next, outcome: 'unchanged' as const }
    await tx.query(
      `INSERT INTO organisations (ogrn, inn, name, short_name, address, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
       ON CONFLICT (ogrn) DO UPDATE SET inn = EXCLUDED.inn, name = EXCLUDED.name, short_name = EXCLUDED.short_name,
         address = EXCLUDED.address, updated_at = EXCLUDED.updated_at`,
      [next.ogrn, next.inn, next.name, next.shortName, next.address, now],
    )
    await propagateName(tx, next.ogrn, next.name, now)
    return { organisation: next, outcome: old ? ('updated' as const) : ('created' as const) }
  })
}

/** Changes some fields of a registered organisation; NOT_FOUND when there is none. */
export async function updateOrganisation(db: Queryable, ogrn: string, patch: OrganisationPatch, now: Date = new Date()): Promise<Organisation> {
  const p = parseInput(organisationPatchSchema, patch)
  return inTransaction(db, async (tx) => {
    const old = (await tx.query<OrganisationRow>(`SELECT ${ORG_COLUMNS} FROM organisations WHERE ogrn = $1 FOR UPDATE`, [ogrn]))[0]
    if (!old) throw notFound('organisation', `Организация с ОГРН ${ogrn} не найдена в регистре`)
    const { organisation } = await upsertOrganisation(
      tx,
      {
        ogrn,
        inn: p.inn ?? old.inn,
        name: p.name ?? old.name,
        shortName: p.shortName === undefined ? old.short_name : p.shortName,
        address: p.address === undefined ? old.address : p.address,
      },
      now,
    )
    return organisation
  })
}

/** Adds a department to a registered organisation; an existing one of that name is returned as is. */
export async function addDepartment(db: Queryable, ogrn: string, name: string): Promise<{ department: Department; created: boolean }> {
  const d = parseInput(departmentInputSchema, { name })
  return inTransaction(db, async (tx) => {
    // The organisation row lock orders concurrent additions, so the name check below holds.
    const org = await tx.query('SELECT 1 FROM organisations WHERE ogrn = $1 FOR UPDATE', [ogrn])
    if (org.length === 0) throw notFound('organisation', `Организация с ОГРН ${ogrn} не найдена в регистре`)
    const existing = await findDepartmentByName(tx, ogrn, d.name)
    if (existing) return { department: existing, created: false }
    const rows = await tx.query<DepartmentRow>(
      'INSERT INTO departments (organisation_ogrn, name) VALUES ($1, $2) RETURNING id, organisation_ogrn, name',
      [ogrn, d.name.replace(/\s+/g, ' ')],
    )
    return { department: fromDepartmentRow(rows[0]!), created: true }
  })
}

/** Renames a department; workers and history rows refer to it by id, so they follow. */
export async function renameDepartment(db: Queryable, ogrn: string, id: number, name: string): Promise<Department> {
  const d = parseInput(departmentInputSchema, { name })
  return inTransaction(db, async (tx) => {
    const org = await tx.query('SELECT 1 FROM organisations WHERE ogrn = $1 FOR UPDATE', [ogrn])
    if (org.length === 0) throw notFound('organisation', `Организация с ОГРН ${ogrn} не найдена в регистре`)
    const departments = await listDepartments(tx, ogrn)
    if (!departments.some((x) => x.id === id)) throw notFound('department', `В организации ${ogrn} нет отделения № ${id}`)
    const clash = departments.find((x) => x.id !== id && departmentKey(x.name) === departmentKey(d.name))
    if (clash) throw invalidInput('name', `Наименование: в организации уже есть отделение «${clash.name}»`)
    const rows = await tx.query<DepartmentRow>(
      'UPDATE departments SET name = $3 WHERE organisation_ogrn = $1 AND id = $2 RETURNING id, organisation_ogrn, name',
      [ogrn, id, d.name.replace(/\s+/g, ' ')],
    )
    return fromDepartmentRow(rows[0]!)
  })
}
