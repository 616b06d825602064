// HTTP API of the register (JSON under /api/v1/register). Every route needs a session. Reading:
// any worker, within their own organisation; 'admin' everywhere. Writing organisations and
// departments: 'admin'. Writing workers and ending employment: 'admin', or 'head' for workers of
// their own organisation (and never the 'admin' role or an admin's record).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { AppError } from '../../src/shared/errors'
import { roleSchema, type Role } from '../../src/shared/model'
import { PORTAL_API_PREFIX } from '../../src/shared/portal-api'
import { callerOf, type Caller, type Guard } from './auth/guard'
import type { Db } from './db'
import { inTransaction } from './db-tx'
import {
  addDepartment,
  getOrganisationRecord,
  listOrganisations,
  organisationInputSchema,
  organisationPatchSchema,
  renameDepartment,
  updateOrganisation,
  upsertOrganisation,
  type OrganisationRecord,
} from './organisations'
import {
  endEmployment,
  findWorker,
  getWorkerRecord,
  listWorkers,
  qualificationInputSchema,
  saveWorker,
  updateWorker,
  workerPatchSchema,
  type Worker,
  type WorkerRecord,
} from './register'
import { dateField, notFound, ogrnField, parseInput, snilsField, text } from './register-input'

const BASE = `${PORTAL_API_PREFIX}/register`
export const registerPaths = {
  workers: `${BASE}/workers`,
  worker: `${BASE}/workers/:snils`,
  endEmployment: `${BASE}/workers/:snils/end-employment`,
  organisations: `${BASE}/organisations`,
  organisation: `${BASE}/organisations/:ogrn`,
  departments: `${BASE}/organisations/:ogrn/departments`,
  department: `${BASE}/organisations/:ogrn/departments/:id`,
} as const

export interface RegisterRouteSettings {
  db: Db
  now: () => Date
  guard: Guard
}

/**
 * A worker as the API writes one: the organisation by ОГРН from the register, always active (a
 * POST for a worker whose employment ended hires them again). Optional fields left out are kept.
 */
const workerBodySchema = z.strictObject({
  snils: snilsField,
  fullName: text(300),
  birthDate: dateField.nullable().optional(),
  position: text(300),
  organisationOgrn: ogrnField,
  department: text(300).nullable().optional(),
  /** Left out: a new worker gets none, an existing one keeps theirs. */
  roles: z.array(roleSchema).max(5).optional(),
  specialties: z.array(text(300)).max(20).nullable().optional(),
  startedOn: dateField.optional(),
  qualifications: z.array(qualificationInputSchema).max(50).nullable().optional(),
})

const endEmploymentBodySchema = z.strictObject({ endedOn: dateField.optional() }).nullable()

const listWorkersQuerySchema = z.object({
  organisation: ogrnField.optional(),
  active: z.enum(['true', 'false']).optional(),
})

const isAdmin = (c: Caller) => c.roles.includes('admin')

function denied(why: string): AppError {
  return new AppError('ACCESS_DENIED', {}, why)
}

/** Non-admins see their own organisation only. */
function checkOrganisationReadable(c: Caller, ogrn: string | null): void {
  if (isAdmin(c)) return
  if (!c.organisationOgrn || ogrn !== c.organisationOgrn) throw denied('another organisation')
}

/**
 * May the caller write this worker into `targetOgrn` with `roles`? 'admin': always. 'head': into
 * their own organisation, below 'admin', and not someone still employed by another organisation
 * (whose employment ended elsewhere may be hired).
 */
function checkWorkerWritable(c: Caller, existing: Worker | null, targetOgrn: string | null, roles: readonly Role[] | undefined): void {
  if (isAdmin(c)) return
  if (!c.roles.includes('head') || !c.organisationOgrn) throw denied('role')
  if (targetOgrn !== c.organisationOgrn) throw denied('another organisation')
  if (existing && existing.employment === 'active' && existing.organisationOgrn !== c.organisationOgrn) throw denied('worker of another organisation')
  if (existing?.roles.includes('admin') || roles?.includes('admin')) throw denied('admin role is granted by admins only')
}

/** Changing or ending an existing worker: 'admin', or 'head' of the worker's current organisation. */
function checkWorkerManageable(c: Caller, existing: Worker): void {
  if (isAdmin(c)) return
  if (!c.roles.includes('head') || !c.organisationOgrn) throw denied('role')
  if (existing.organisationOgrn !== c.organisationOgrn) throw denied('worker of another organisation')
  if (existing.roles.includes('admin')) throw denied('admin records are changed by admins only')
}

function snilsParam(request: FastifyRequest): string {
  return parseInput(z.object({ snils: snilsField }), request.params).snils
}

function ogrnParam(request: FastifyRequest): string {
  return parseInput(z.object({ ogrn: ogrnField }), request.params).ogrn
}

const wireWorker = (w: Worker) => ({
  snils: w.snils,
  fullName: w.fullName,
  birthDate: w.birthDate,
  position: w.position,
  organisation: w.organisation,
  organisationOgrn: w.organisationOgrn,
  departmentId: w.departmentId,
  department: w.department,
  roles: w.roles,
  specialties: w.specialties,
  employment: w.employment,
  endedAt: w.endedAt?.toISOString() ?? null,
})

const wireRecord = (r: WorkerRecord) => ({
  ...wireWorker(r),
  employmentHistory: r.employmentHistory,
  qualifications: r.qualifications,
})

async function recordOf(db: Db, snils: string): Promise<ReturnType<typeof wireRecord>> {
  const record = await getWorkerRecord(db, snils)
  if (!record) throw notFound('worker', `Сотрудник со СНИЛС ${snils} не найден в регистре`)
  return wireRecord(record)
}

const status = (reply: FastifyReply, created: boolean) => reply.code(created ? 201 : 200)

export function registerRegisterRoutes(app: FastifyInstance, s: RegisterRouteSettings): void {
  const anyWorker = { preHandler: s.guard.require('any') }
  const admin = { preHandler: s.guard.require(['admin']) }
  const adminOrHead = { preHandler: s.guard.require(['admin', 'head']) }

  // --- workers ---

  app.get(registerPaths.workers, anyWorker, async (request) => {
    const c = callerOf(request)
    const q = parseInput(listWorkersQuerySchema, request.query)
    // A non-admin always reads one organisation: their own.
    if (!isAdmin(c)) checkOrganisationReadable(c, q.organisation ?? c.organisationOgrn)
    const organisationOgrn = q.organisation ?? (isAdmin(c) ? undefined : (c.organisationOgrn ?? undefined))
    const workers = await listWorkers(s.db, { organisationOgrn, active: q.active === undefined ? undefined : q.active === 'true' })
    return { workers: workers.map(wireWorker) }
  })

  app.get(registerPaths.worker, anyWorker, async (request) => {
    const c = callerOf(request)
    const snils = snilsParam(request)
    const record = await recordOf(s.db, snils)
    if (snils !== c.snils) checkOrganisationReadable(c, record.organisationOgrn)
    return { worker: record }
  })

  app.post(registerPaths.workers, adminOrHead, async (request, reply) => {
    const c = callerOf(request)
    const body = parseInput(workerBodySchema, request.body)
    const { outcome } = await inTransaction(s.db, async (tx) => {
      checkWorkerWritable(c, await findWorker(tx, body.snils), body.organisationOgrn, body.roles)
      return saveWorker(tx, { ...body, employment: 'active' }, s.now())
    })
    status(reply, outcome === 'created')
    return { worker: await recordOf(s.db, body.snils) }
  })

  app.patch(registerPaths.worker, adminOrHead, async (request) => {
    const c = callerOf(request)
    const snils = snilsParam(request)
    const patch = parseInput(workerPatchSchema, request.body)
    await inTransaction(s.db, async (tx) => {
      const existing = await findWorker(tx, snils)
      if (!existing) throw notFound('worker', `Сотрудник со СНИЛС ${snils} не найден в регистре`)
      checkWorkerManageable(c, existing)
      checkWorkerWritable(c, existing, patch.organisationOgrn ?? existing.organisationOgrn, patch.roles)
      return updateWorker(tx, snils, patch, s.now())
    })
    return { worker: await recordOf(s.db, snils) }
  })

  app.post(registerPaths.endEmployment, adminOrHead, async (request) => {
    const c = callerOf(request)
    const snils = snilsParam(request)
    const body = parseInput(endEmploymentBodySchema, request.body ?? null)
    await inTransaction(s.db, async (tx) => {
      const existing = await findWorker(tx, snils)
      if (!existing) throw notFound('worker', `Сотрудник со СНИЛС ${snils} не найден в регистре`)
      checkWorkerManageable(c, existing)
      return endEmployment(tx, snils, s.now(), { endedOn: body?.endedOn })
    })
    return { worker: await recordOf(s.db, snils) }
  })

  // --- organisations and departments ---

  const organisationOr404 = async (ogrn: string): Promise<OrganisationRecord> => {
    const org = await getOrganisationRecord(s.db, ogrn)
    if (!org) throw notFound('organisation', `Организация с ОГРН ${ogrn} не найдена в регистре`)
    return org
  }

  app.get(registerPaths.organisations, anyWorker, async (request) => {
    const c = callerOf(request)
    if (isAdmin(c)) return { organisations: await listOrganisations(s.db) }
    return { organisations: c.organisationOgrn ? await listOrganisations(s.db, { ogrn: c.organisationOgrn }) : [] }
  })

  app.get(registerPaths.organisation, anyWorker, async (request) => {
    const c = callerOf(request)
    const ogrn = ogrnParam(request)
    const org = await organisationOr404(ogrn)
    checkOrganisationReadable(c, ogrn)
    return { organisation: org }
  })

  app.post(registerPaths.organisations, admin, async (request, reply) => {
    const body = parseInput(organisationInputSchema, request.body)
    const { outcome } = await upsertOrganisation(s.db, body, s.now())
    status(reply, outcome === 'created')
    return { organisation: await organisationOr404(body.ogrn) }
  })

  app.patch(registerPaths.organisation, admin, async (request) => {
    const ogrn = ogrnParam(request)
    await updateOrganisation(s.db, ogrn, parseInput(organisationPatchSchema, request.body), s.now())
    return { organisation: await organisationOr404(ogrn) }
  })

  app.post(registerPaths.departments, admin, async (request, reply) => {
    const ogrn = ogrnParam(request)
    const { name } = parseInput(z.strictObject({ name: z.string() }), request.body)
    const { department, created } = await addDepartment(s.db, ogrn, name)
    status(reply, created)
    return { department }
  })

  app.patch(registerPaths.department, admin, async (request) => {
    const ogrn = ogrnParam(request)
    const { id } = parseInput(z.object({ id: z.coerce.number().int().positive().max(2 ** 31 - 1) }), request.params)
    const { name } = parseInput(z.strictObject({ name: z.string() }), request.body)
    return { department: await renameDepartment(s.db, ogrn, id, name) }
  })
}
