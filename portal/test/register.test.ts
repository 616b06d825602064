// The register over HTTPS: organisations, departments and workers with their employment history
// and qualifications, for each role and organisation, with every error the API answers; and the
// store's own guarantees (history in step with the current fields, the 003 backfill, concurrency).
import 'reflect-metadata'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { portalErrorBodySchema, sessionResponseSchema } from '../../src/shared/portal-api'
import type { Role } from '../../src/shared/model'
import { innWithChecksum } from '../../src/shared/validators/inn'
import { ogrnWithChecksum, ogrnipWithChecksum } from '../../src/shared/validators/ogrn'
import { formatSnils, snilsWithChecksum } from '../../src/shared/validators/snils'
import { loadMigrations, migrate } from '../src/migrate'
import { addDepartment, upsertOrganisation } from '../src/organisations'
import { endEmployment, getWorkerRecord, listWorkers, saveWorker, upsertWorker } from '../src/register'
import { importWorkersCsv } from '../src/register-import'
import { parseCsv } from '../src/csv'
import { createTestPki, issueUser, login, nextSnils, openTestDb, startTestPortal, type ApiResponse, type TestPortal } from './support'

// Two organisations with valid ОГРН/ИНН checksums; A is the one support.ts's workers use.
const ORG_A = { ogrn: '1027700132195', inn: '7707083893', name: 'ГБУЗ «Городская поликлиника № 1»', address: 'г. Москва, ул. Тверская, д. 1' }
const ORG_B = { ogrn: ogrnWithChecksum('102500000017'), inn: innWithChecksum('500100732'), name: 'ГБУЗ «Областная больница № 2»' }
const UNKNOWN_OGRN = ogrnWithChecksum('102990000001')
const BAD_SNILS = '112-233-445 96'
const BAD_OGRN = '1027700132194'
const W = '/api/v1/register/workers'
const O = '/api/v1/register/organisations'

let portal: TestPortal

interface Session {
  snils: string
  token: string
}

/** A registered worker of `ogrn` with `roles`, logged in with a certificate. */
async function session(roles: Role[], ogrn: string, fullName = 'Сотрудникова Анна Павловна'): Promise<Session> {
  const snils = nextSnils()
  await saveWorker(portal.db, { snils, fullName, position: 'Врач-терапевт', organisationOgrn: ogrn, roles })
  const r = await login(portal.api, await issueUser(portal.pki.ca, { snils }))
  expect(r.status).toBe(200)
  return { snils, token: sessionResponseSchema.parse(r.body).accessToken }
}

function expectError(r: ApiResponse, status: number, code: string, field?: string | RegExp): { message: string; params: Record<string, unknown> } {
  expect(r.status, r.text).toBe(status)
  const { error } = portalErrorBodySchema.parse(r.body)
  expect(error.code).toBe(code)
  if (field !== undefined) {
    if (typeof field === 'string') expect(error.params.field).toBe(field)
    else expect(String(error.params.field)).toMatch(field)
  }
  return error
}

interface WireWorker {
  snils: string
  fullName: string
  birthDate: string | null
  position: string
  organisation: string
  organisationOgrn: string | null
  department: string | null
  roles: Role[]
  specialties: string[]
  employment: 'active' | 'ended'
  endedAt: string | null
  employmentHistory: { organisationOgrn: string | null; organisation: string; department: string | null; position: string; startedOn: string; endedOn: string | null }[]
  qualifications: { kind: string; specialty: string; documentNumber: string; issuedOn: string; validUntil: string | null }[]
}

const get = <T = unknown>(path: string, s?: Session) => portal.api<T>('GET', path, { token: s?.token })
const post = <T = unknown>(path: string, json: unknown, s?: Session) => portal.api<T>('POST', path, { json, token: s?.token })
const patch = <T = unknown>(path: string, json: unknown, s?: Session) => portal.api<T>('PATCH', path, { json, token: s?.token })

let admin: Session
let headA: Session
let doctorA: Session
let headB: Session
let therapyId: number

beforeAll(async () => {
  portal = await startTestPortal(await createTestPki(), { rateLimit: false })
  await upsertOrganisation(portal.db, ORG_A)
  await upsertOrganisation(portal.db, ORG_B)
  therapyId = (await addDepartment(portal.db, ORG_A.ogrn, 'Терапевтическое отделение')).department.id
  await addDepartment(portal.db, ORG_A.ogrn, 'Хирургическое отделение')
  await addDepartment(portal.db, ORG_B.ogrn, 'Приёмное отделение')
  admin = await session(['admin'], ORG_A.ogrn, 'Админова Ирина Олеговна')
  headA = await session(['head', 'doctor'], ORG_A.ogrn, 'Главврачев Олег Петрович')
  doctorA = await session(['doctor'], ORG_A.ogrn, 'Докторова Вера Ивановна')
  headB = await session(['head'], ORG_B.ogrn, 'Заведующий Борис Борисович')
})
afterAll(async () => {
  await portal?.close()
})
beforeEach(() => {
  portal.clock.reset()
})

function newWorkerBody(extra: Record<string, unknown> = {}) {
  return {
    snils: formatSnils(nextSnils()),
    fullName: 'Петрова Ольга Сергеевна',
    birthDate: '12.04.1986',
    position: 'Врач-кардиолог',
    organisationOgrn: ORG_A.ogrn,
    department: 'терапевтическое отделение',
    roles: ['doctor'],
    specialties: ['Кардиология', 'Терапия'],
    startedOn: '2020-09-01',
    qualifications: [
      { kind: 'Аккредитация', specialty: 'Кардиология', documentNumber: '7722 031234567', issuedOn: '2021-06-30', validUntil: '2026-06-30' },
    ],
    ...extra,
  }
}

describe('without a session', () => {
  it('every register endpoint answers 401 SESSION_EXPIRED', async () => {
    const snils = formatSnils(nextSnils())
    const calls: [string, 'GET' | 'POST' | 'PATCH', string][] = [
      ['list workers', 'GET', W],
      ['read worker', 'GET', `${W}/${snils}`],
      ['add worker', 'POST', W],
      ['change worker', 'PATCH', `${W}/${snils}`],
      ['end employment', 'POST', `${W}/${snils}/end-employment`],
      ['list organisations', 'GET', O],
      ['read organisation', 'GET', `${O}/${ORG_A.ogrn}`],
      ['add organisation', 'POST', O],
      ['change organisation', 'PATCH', `${O}/${ORG_A.ogrn}`],
      ['add department', 'POST', `${O}/${ORG_A.ogrn}/departments`],
      ['rename department', 'PATCH', `${O}/${ORG_A.ogrn}/departments/${therapyId}`],
    ]
    for (const [what, method, path] of calls) {
      const r = await portal.api(method, path, method === 'GET' ? {} : { json: {} })
      expect(r.status, what).toBe(401)
      expect(portalErrorBodySchema.parse(r.body).error.code, what).toBe('SESSION_EXPIRED')
      expect(r.headers['www-authenticate'], what).toMatch(/^Bearer/)
    }
  })
})

describe('organisations', () => {
  it('admin adds one (201), adding it again changes nothing (200), a rename reaches its workers', async () => {
    const ogrn = ogrnWithChecksum('102330000042')
    const body = { ogrn, inn: innWithChecksum('330100100'), name: 'ООО «Клиника Здоровье»', shortName: 'Здоровье', address: 'г. Владимир, ул. Мира, д. 5' }
    const created = await post<{ organisation: { ogrn: string; departments: unknown[] } }>(O, body, admin)
    expect(created.status).toBe(201)
    expect(created.body.organisation).toEqual({ ...body, departments: [] })
    expect((await post(O, body, admin)).status).toBe(200)

    const worker = newWorkerBody({ organisationOgrn: ogrn, department: null })
    expect((await post(W, worker, admin)).status).toBe(201)
    const renamed = await patch<{ organisation: { name: string; address: string } }>(`${O}/${ogrn}`, { name: 'ООО «Клиника Здоровье Плюс»' }, admin)
    expect(renamed.status).toBe(200)
    expect(renamed.body.organisation).toMatchObject({ name: 'ООО «Клиника Здоровье Плюс»', address: body.address })
    const record = (await get<{ worker: WireWorker }>(`${W}/${worker.snils}`, admin)).body.worker
    expect(record.organisation).toBe('ООО «Клиника Здоровье Плюс»')
    expect(record.employmentHistory.map((e) => e.organisation)).toEqual(['ООО «Клиника Здоровье Плюс»'])
  })

  it('refuses a wrong ОГРН or ИНН checksum, mismatched kinds and unknown fields with 400 naming the field', async () => {
    const ok = { ogrn: ogrnWithChecksum('102330000043'), inn: innWithChecksum('330100101'), name: 'ООО «Проверка»' }
    const badOgrn = expectError(await post(O, { ...ok, ogrn: BAD_OGRN }, admin), 400, 'INVALID_INPUT', 'ogrn')
    expect(badOgrn.message).toBe('ОГРН: неверная контрольная сумма ОГРН — проверьте цифры')
    const badInn = expectError(await post(O, { ...ok, inn: '7707083894' }, admin), 400, 'INVALID_INPUT', 'inn')
    expect(badInn.message).toBe('ИНН: неверная контрольная сумма — проверьте цифры')
    const personInn = expectError(await post(O, { ...ok, inn: '500100732259' }, admin), 400, 'INVALID_INPUT', 'inn')
    expect(personInn.message).toContain('ИНН из 10 цифр')
    expect(expectError(await post(O, { ...ok, ogrn: '12345' }, admin), 400, 'INVALID_INPUT', 'ogrn').message).toContain('13 цифр')
    expect(expectError(await post(O, { ...ok, name: '  ' }, admin), 400, 'INVALID_INPUT', 'name').message).toBe('Наименование: не заполнено')
    expect(expectError(await post(O, { inn: ok.inn, name: ok.name }, admin), 400, 'INVALID_INPUT', 'ogrn').message).toBe('ОГРН: не указано')
    const badPatch = expectError(await patch(`${O}/${ORG_A.ogrn}`, { nickname: 'x' }, admin), 400, 'INVALID_INPUT', '(body)')
    expect(badPatch.message).toContain('неизвестные поля: nickname')
    expect((await get(`${O}/${ok.ogrn}`, admin)).status).toBe(404)
  })

  it('takes a sole trader by ОГРНИП with a 12-digit ИНН', async () => {
    const ogrnip = ogrnipWithChecksum('30450011600015')
    const r = await post<{ organisation: { ogrn: string; inn: string } }>(O, { ogrn: ogrnip, inn: '500100732259', name: 'ИП Сидоров С. С.' }, admin)
    expect(r.status).toBe(201)
    expect(r.body.organisation).toMatchObject({ ogrn: ogrnip, inn: '500100732259' })
    expectError(await post(O, { ogrn: ogrnip, inn: '7707083893', name: 'ИП Сидоров С. С.' }, admin), 400, 'INVALID_INPUT', 'inn')
  })

  it('are read by workers of their own organisation only; admin reads every one', async () => {
    const own = await get<{ organisation: { ogrn: string; name: string; departments: { name: string }[] } }>(`${O}/${ORG_A.ogrn}`, doctorA)
    expect(own.status).toBe(200)
    expect(own.body.organisation).toMatchObject({ ogrn: ORG_A.ogrn, inn: ORG_A.inn, name: ORG_A.name, address: ORG_A.address })
    expect(own.body.organisation.departments.map((d) => d.name)).toEqual(expect.arrayContaining(['Терапевтическое отделение', 'Хирургическое отделение']))
    expectError(await get(`${O}/${ORG_B.ogrn}`, doctorA), 403, 'ACCESS_DENIED')
    expect((await get(`${O}/${ORG_B.ogrn}`, admin)).status).toBe(200)
    expectError(await get(`${O}/${UNKNOWN_OGRN}`, admin), 404, 'NOT_FOUND')
    expect(expectError(await get(`${O}/${BAD_OGRN}`, doctorA), 400, 'INVALID_INPUT', 'ogrn').message).toContain('контрольная сумма')

    const mine = await get<{ organisations: { ogrn: string }[] }>(O, doctorA)
    expect(mine.body.organisations.map((o) => o.ogrn)).toEqual([ORG_A.ogrn])
    const all = await get<{ organisations: { ogrn: string }[] }>(O, admin)
    expect(all.body.organisations.map((o) => o.ogrn)).toEqual(expect.arrayContaining([ORG_A.ogrn, ORG_B.ogrn]))
  })

  it('are written by admin only: 403 for a head and a doctor', async () => {
    const body = { ogrn: ogrnWithChecksum('102330000044'), inn: innWithChecksum('330100102'), name: 'ООО «Чужая»' }
    for (const s of [headA, doctorA]) {
      expectError(await post(O, body, s), 403, 'ACCESS_DENIED')
      expectError(await patch(`${O}/${ORG_A.ogrn}`, { address: 'другой адрес' }, s), 403, 'ACCESS_DENIED')
      expectError(await post(`${O}/${ORG_A.ogrn}/departments`, { name: 'Новое отделение' }, s), 403, 'ACCESS_DENIED')
      expectError(await patch(`${O}/${ORG_A.ogrn}/departments/${therapyId}`, { name: 'Иное' }, s), 403, 'ACCESS_DENIED')
    }
    expect((await get(`${O}/${body.ogrn}`, admin)).status).toBe(404)
    expectError(await patch(`${O}/${UNKNOWN_OGRN}`, { address: 'адрес' }, admin), 404, 'NOT_FOUND')
  })
})

describe('departments', () => {
  it('are added once (names compare without case and ё), renamed, and refused for unknown organisations', async () => {
    const first = await post<{ department: { id: number; name: string } }>(`${O}/${ORG_B.ogrn}/departments`, { name: 'Неврологическое  отделение' }, admin)
    expect(first.status).toBe(201)
    expect(first.body.department.name).toBe('Неврологическое отделение')
    const again = await post<{ department: { id: number } }>(`${O}/${ORG_B.ogrn}/departments`, { name: 'НЕВРОЛОГИЧЕСКОЕ ОТДЕЛЕНИЕ' }, admin)
    expect(again.status).toBe(200)
    expect(again.body.department.id).toBe(first.body.department.id)

    const renamed = await patch<{ department: { name: string } }>(`${O}/${ORG_B.ogrn}/departments/${first.body.department.id}`, { name: 'Отделение неврологии' }, admin)
    expect(renamed.status).toBe(200)
    expect(renamed.body.department.name).toBe('Отделение неврологии')
    const clash = expectError(
      await patch(`${O}/${ORG_B.ogrn}/departments/${first.body.department.id}`, { name: 'приёмное отделение' }, admin),
      400,
      'INVALID_INPUT',
      'name',
    )
    expect(clash.message).toContain('уже есть отделение «Приёмное отделение»')
    // A department id of another organisation is not found through this one.
    expectError(await patch(`${O}/${ORG_B.ogrn}/departments/${therapyId}`, { name: 'Иное' }, admin), 404, 'NOT_FOUND')
    expectError(await post(`${O}/${UNKNOWN_OGRN}/departments`, { name: 'Отделение' }, admin), 404, 'NOT_FOUND')
    expectError(await post(`${O}/${ORG_B.ogrn}/departments`, { name: '' }, admin), 400, 'INVALID_INPUT', 'name')
    expectError(await patch(`${O}/${ORG_B.ogrn}/departments/abc`, { name: 'Иное' }, admin), 400, 'INVALID_INPUT', 'id')
  })
})

describe('reading workers', () => {
  it('lists the caller\'s organisation; admin lists any; filters by organisation and activity', async () => {
    const ended = await post<{ worker: WireWorker }>(W, newWorkerBody(), admin)
    await post(`${W}/${ended.body.worker.snils}/end-employment`, {}, admin)

    const mine = await get<{ workers: WireWorker[] }>(W, doctorA)
    expect(mine.status).toBe(200)
    expect(new Set(mine.body.workers.map((w) => w.organisationOgrn))).toEqual(new Set([ORG_A.ogrn]))
    expect(mine.body.workers.map((w) => w.snils)).toEqual(expect.arrayContaining([doctorA.snils, headA.snils, ended.body.worker.snils]))
    expect(mine.body.workers.map((w) => w.snils)).not.toContain(headB.snils)

    const active = await get<{ workers: WireWorker[] }>(`${W}?active=true`, doctorA)
    expect(active.body.workers.every((w) => w.employment === 'active')).toBe(true)
    expect(active.body.workers.map((w) => w.snils)).not.toContain(ended.body.worker.snils)
    const gone = await get<{ workers: WireWorker[] }>(`${W}?active=false`, doctorA)
    expect(gone.body.workers.map((w) => w.snils)).toContain(ended.body.worker.snils)

    expectError(await get(`${W}?organisation=${ORG_B.ogrn}`, doctorA), 403, 'ACCESS_DENIED')
    expect((await get(`${W}?organisation=${ORG_A.ogrn}`, doctorA)).status).toBe(200)
    const b = await get<{ workers: WireWorker[] }>(`${W}?organisation=${ORG_B.ogrn}`, admin)
    expect(b.body.workers.map((w) => w.snils)).toContain(headB.snils)
    expect(new Set(b.body.workers.map((w) => w.organisationOgrn))).toEqual(new Set([ORG_B.ogrn]))
    const every = await get<{ workers: WireWorker[] }>(W, admin)
    expect(every.body.workers.map((w) => w.snils)).toEqual(expect.arrayContaining([headB.snils, doctorA.snils]))

    expect(expectError(await get(`${W}?organisation=${BAD_OGRN}`, admin), 400, 'INVALID_INPUT', 'organisation').message).toContain('контрольная сумма')
    expectError(await get(`${W}?active=yes`, admin), 400, 'INVALID_INPUT', 'active')
  })

  it('reads a full record in the own organisation; 403 for another one, 404 unknown, 400 malformed', async () => {
    const body = newWorkerBody()
    await post(W, body, admin)
    const r = await get<{ worker: WireWorker }>(`${W}/${encodeURIComponent(body.snils)}`, doctorA)
    expect(r.status).toBe(200)
    expect(r.body.worker).toMatchObject({
      snils: body.snils.replace(/\D/g, ''),
      fullName: body.fullName,
      birthDate: '1986-04-12',
      position: 'Врач-кардиолог',
      organisation: ORG_A.name,
      organisationOgrn: ORG_A.ogrn,
      department: 'Терапевтическое отделение',
      roles: ['doctor'],
      specialties: ['Кардиология', 'Терапия'],
      employment: 'active',
      endedAt: null,
      employmentHistory: [
        { organisationOgrn: ORG_A.ogrn, organisation: ORG_A.name, department: 'Терапевтическое отделение', position: 'Врач-кардиолог', startedOn: '2020-09-01', endedOn: null },
      ],
      qualifications: [{ kind: 'accreditation', specialty: 'Кардиология', documentNumber: '7722 031234567', issuedOn: '2021-06-30', validUntil: '2026-06-30' }],
    })
    expectError(await get(`${W}/${body.snils.replace(/\D/g, '')}`, headB), 403, 'ACCESS_DENIED')
    // Everyone reads their own record.
    expect((await get(`${W}/${headB.snils}`, headB)).status).toBe(200)
    expectError(await get(`${W}/${headB.snils}`, doctorA), 403, 'ACCESS_DENIED')
    expect((await get(`${W}/${headB.snils}`, admin)).status).toBe(200)
    expectError(await get(`${W}/${nextSnils()}`, doctorA), 404, 'NOT_FOUND')
    const bad = expectError(await get(`${W}/${encodeURIComponent(BAD_SNILS)}`, doctorA), 400, 'INVALID_INPUT', 'snils')
    expect(bad.message).toBe('СНИЛС: неверная контрольная сумма — проверьте цифры')
    expect(expectError(await get(`${W}/123`, doctorA), 400, 'INVALID_INPUT', 'snils').message).toContain('11 цифр')
  })
})

describe('adding workers', () => {
  it('admin adds one (201) with an open employment row; the same request again changes nothing (200)', async () => {
    const body = newWorkerBody({ organisationOgrn: ORG_B.ogrn, department: 'Приёмное отделение' })
    const created = await post<{ worker: WireWorker }>(W, body, admin)
    expect(created.status).toBe(201)
    expect(created.body.worker.employmentHistory).toEqual([
      { organisationOgrn: ORG_B.ogrn, organisation: ORG_B.name, departmentId: expect.any(Number), department: 'Приёмное отделение', position: 'Врач-кардиолог', startedOn: '2020-09-01', endedOn: null },
    ])
    const again = await post<{ worker: WireWorker }>(W, body, admin)
    expect(again.status).toBe(200)
    expect(again.body.worker).toEqual(created.body.worker)
    // Optional fields left out (roles here) are kept, not cleared.
    const { roles: _roles, ...withoutRoles } = body
    const kept = await post<{ worker: WireWorker }>(W, withoutRoles, admin)
    expect(kept.status).toBe(200)
    expect(kept.body.worker.roles).toEqual(['doctor'])
  })

  it('refuses invalid data with 400 and the field named in Russian', async () => {
    const cases: [Record<string, unknown>, string | RegExp, string][] = [
      [{ snils: BAD_SNILS }, 'snils', 'СНИЛС: неверная контрольная сумма — проверьте цифры'],
      [{ organisationOgrn: BAD_OGRN }, 'organisationOgrn', 'ОГРН организации: неверная контрольная сумма ОГРН — проверьте цифры'],
      [{ organisationOgrn: UNKNOWN_OGRN }, 'organisationOgrn', `ОГРН организации: организация ${UNKNOWN_OGRN} не найдена в регистре`],
      [{ department: 'Кардиология' }, 'department', 'Отделение: в организации «ГБУЗ «Городская поликлиника № 1»» нет отделения «Кардиология»'],
      [{ birthDate: '31.02.1980' }, 'birthDate', 'Дата рождения: нужна дата в виде ДД.ММ.ГГГГ или ГГГГ-ММ-ДД'],
      [{ birthDate: '2999-01-01' }, 'birthDate', 'Дата рождения: нужна дата'],
      [{ birthDate: '2099-01-01' }, 'birthDate', 'Дата рождения: 01.01.2099 — ещё не наступила'],
      [{ startedOn: '01.01.1970' }, 'startedOn', 'Дата приёма: 01.01.1970 — должна быть позже даты рождения (12.04.1986)'],
      [{ fullName: '' }, 'fullName', 'ФИО: не заполнено'],
      [{ roles: ['superuser'] }, 'roles.0', 'Роли (№ 1): допустимые значения: doctor, nurse, registrar, head, admin'],
      [
        { qualifications: [{ kind: 'Диплом', specialty: 'Терапия', documentNumber: '1', issuedOn: '2020-01-01' }] },
        'qualifications.0.kind',
        'Документы о квалификации (№ 1), Вид документа: «Сертификат специалиста» или «Аккредитация»',
      ],
      [
        { qualifications: [{ kind: 'certificate', specialty: 'Терапия', documentNumber: '1', issuedOn: '2020-01-01', validUntil: '2019-01-01' }] },
        'qualifications.0.validUntil',
        'Действителен до: раньше даты выдачи (01.01.2020)',
      ],
      [{ employment: 'ended' }, '(body)', 'неизвестные поля: employment'],
    ]
    for (const [change, field, message] of cases) {
      const e = expectError(await post(W, newWorkerBody(change), admin), 400, 'INVALID_INPUT', field)
      expect(e.message, JSON.stringify(change)).toContain(message)
    }
  })

  it('lets a head add workers to their own organisation only, and never with the admin role', async () => {
    const own = await post<{ worker: WireWorker }>(W, newWorkerBody(), headA)
    expect(own.status).toBe(201)
    expectError(await post(W, newWorkerBody({ organisationOgrn: ORG_B.ogrn, department: null }), headA), 403, 'ACCESS_DENIED')
    expectError(await post(W, newWorkerBody({ roles: ['doctor', 'admin'] }), headA), 403, 'ACCESS_DENIED')
    // A worker still employed by B is not A's to take over.
    expectError(await post(W, newWorkerBody({ snils: headB.snils }), headA), 403, 'ACCESS_DENIED')
    expectError(await post(W, newWorkerBody(), doctorA), 403, 'ACCESS_DENIED')
  })

  it('hires again a worker whose employment ended elsewhere: a second history row', async () => {
    const body = newWorkerBody({ organisationOgrn: ORG_B.ogrn, department: null, startedOn: '2019-01-10' })
    await post(W, body, headB)
    expect((await post(`${W}/${body.snils}/end-employment`, { endedOn: '2023-05-31' }, headB)).status).toBe(200)
    const early = expectError(await post(W, newWorkerBody({ snils: body.snils, startedOn: '2023-05-31', department: null }), headA), 400, 'INVALID_INPUT', 'startedOn')
    expect(early.message).toContain('должна быть позже окончания прошлой работы (31.05.2023)')
    const hired = await post<{ worker: WireWorker }>(W, newWorkerBody({ snils: body.snils, startedOn: '2023-06-01', department: null }), headA)
    expect(hired.status).toBe(200)
    expect(hired.body.worker).toMatchObject({ employment: 'active', endedAt: null, organisationOgrn: ORG_A.ogrn })
    expect(hired.body.worker.employmentHistory.map((e) => [e.organisationOgrn, e.startedOn, e.endedOn])).toEqual([
      [ORG_B.ogrn, '2019-01-10', '2023-05-31'],
      [ORG_A.ogrn, '2023-06-01', null],
    ])
  })
})

describe('changing workers', () => {
  it('a new position from a date closes the old history row the day before', async () => {
    const body = newWorkerBody()
    await post(W, body, admin)
    const r = await patch<{ worker: WireWorker }>(`${W}/${body.snils}`, { position: 'Заведующий отделением', roles: ['doctor', 'head'], since: '2024-03-01' }, headA)
    expect(r.status).toBe(200)
    expect(r.body.worker).toMatchObject({ position: 'Заведующий отделением', roles: ['doctor', 'head'], department: 'Терапевтическое отделение' })
    expect(r.body.worker.employmentHistory.map((e) => [e.position, e.startedOn, e.endedOn])).toEqual([
      ['Врач-кардиолог', '2020-09-01', '2024-02-29'],
      ['Заведующий отделением', '2024-03-01', null],
    ])
    // Personal data only: the history stays as it is.
    const named = await patch<{ worker: WireWorker }>(`${W}/${body.snils}`, { fullName: 'Петрова-Иванова Ольга Сергеевна', birthDate: null }, headA)
    expect(named.body.worker).toMatchObject({ fullName: 'Петрова-Иванова Ольга Сергеевна', birthDate: null })
    expect(named.body.worker.employmentHistory).toHaveLength(2)
  })

  it('a transfer to another organisation takes its name and drops the department', async () => {
    const body = newWorkerBody()
    await post(W, body, admin)
    const r = await patch<{ worker: WireWorker }>(`${W}/${body.snils}`, { organisationOgrn: ORG_B.ogrn, since: '2025-01-15' }, admin)
    expect(r.status).toBe(200)
    expect(r.body.worker).toMatchObject({ organisation: ORG_B.name, organisationOgrn: ORG_B.ogrn, department: null })
    expect(r.body.worker.employmentHistory.map((e) => [e.organisationOgrn, e.department, e.endedOn])).toEqual([
      [ORG_A.ogrn, 'Терапевтическое отделение', '2025-01-14'],
      [ORG_B.ogrn, null, null],
    ])
    expect((await get(`${W}/${body.snils}`, headB)).status).toBe(200)
    expectError(await get(`${W}/${body.snils}`, doctorA), 403, 'ACCESS_DENIED')
  })

  it('refuses other organisations, admins\' records, unknown workers and post changes of ended ones', async () => {
    const body = newWorkerBody()
    await post(W, body, admin)
    expectError(await patch(`${W}/${body.snils}`, { position: 'Врач' }, headB), 403, 'ACCESS_DENIED')
    expectError(await patch(`${W}/${body.snils}`, { organisationOgrn: ORG_B.ogrn }, headA), 403, 'ACCESS_DENIED')
    expectError(await patch(`${W}/${body.snils}`, { roles: ['admin'] }, headA), 403, 'ACCESS_DENIED')
    expectError(await patch(`${W}/${admin.snils}`, { position: 'Врач' }, headA), 403, 'ACCESS_DENIED')
    expectError(await patch(`${W}/${body.snils}`, { position: 'Врач' }, doctorA), 403, 'ACCESS_DENIED')
    expectError(await patch(`${W}/${nextSnils()}`, { position: 'Врач' }, admin), 404, 'NOT_FOUND')
    expectError(await patch(`${W}/${encodeURIComponent(BAD_SNILS)}`, { position: 'Врач' }, admin), 400, 'INVALID_INPUT', 'snils')
    expectError(await patch(`${W}/${body.snils}`, { department: 'Хирургия' }, admin), 400, 'INVALID_INPUT', 'department')
    expect((await post(`${W}/${body.snils}/end-employment`, {}, admin)).status).toBe(200)
    const ended = expectError(await patch(`${W}/${body.snils}`, { position: 'Врач' }, admin), 400, 'INVALID_INPUT', 'employment')
    expect(ended.message).toContain('сотрудник уволен')
  })
})

describe('ending employment', () => {
  it('a head ends a worker of their organisation: the history row closes and the worker\'s sessions end', async () => {
    const nurse = await session(['nurse'], ORG_A.ogrn, 'Сестрова Мария Ивановна')
    expect((await get(`${W}/${nurse.snils}`, nurse)).status).toBe(200)
    const r = await post<{ worker: WireWorker }>(`${W}/${nurse.snils}/end-employment`, {}, headA)
    expect(r.status).toBe(200)
    expect(r.body.worker.employment).toBe('ended')
    expect(r.body.worker.endedAt).not.toBeNull()
    expect(r.body.worker.employmentHistory).toHaveLength(1)
    expect(r.body.worker.employmentHistory[0]!.endedOn).not.toBeNull()
    expectError(await get(`${W}/${nurse.snils}`, nurse), 401, 'SESSION_EXPIRED')
    // Again: nothing more to close.
    const again = await post<{ worker: WireWorker }>(`${W}/${nurse.snils}/end-employment`, null, headA)
    expect(again.status).toBe(200)
    expect(again.body.worker.employmentHistory).toEqual(r.body.worker.employmentHistory)
  })

  it('is refused for other organisations, other roles, unknown workers and impossible dates', async () => {
    const body = newWorkerBody({ startedOn: '2022-02-01' })
    await post(W, body, admin)
    const path = `${W}/${body.snils}/end-employment`
    expectError(await post(path, {}, headB), 403, 'ACCESS_DENIED')
    expectError(await post(path, {}, doctorA), 403, 'ACCESS_DENIED')
    expectError(await post(`${W}/${admin.snils}/end-employment`, {}, headA), 403, 'ACCESS_DENIED')
    expectError(await post(`${W}/${nextSnils()}/end-employment`, {}, admin), 404, 'NOT_FOUND')
    expectError(await post(`${W}/${encodeURIComponent(BAD_SNILS)}/end-employment`, {}, admin), 400, 'INVALID_INPUT', 'snils')
    const before = expectError(await post(path, { endedOn: '2022-01-31' }, admin), 400, 'INVALID_INPUT', 'endedOn')
    expect(before.message).toBe('Дата увольнения: 31.01.2022 — раньше даты приёма (01.02.2022)')
    expectError(await post(path, { endedOn: '2999-12-31' }, admin), 400, 'INVALID_INPUT', 'endedOn')
    expectError(await post(path, { endedOn: 'вчера' }, admin), 400, 'INVALID_INPUT', 'endedOn')
    // Nothing above changed the record.
    expect((await get<{ worker: WireWorker }>(`${W}/${body.snils}`, admin)).body.worker.employment).toBe('active')
  })
})

describe('register store', () => {
  it('keeps the history in step with the current fields through the original functions', async () => {
    const db = await openTestDb()
    try {
      await migrate(db)
      const snils = snilsWithChecksum('555444333')
      const now = new Date('2025-04-10T09:00:00Z')
      await upsertWorker(db, { snils, fullName: 'Старый Способ', position: 'Врач', organisation: 'Поликлиника без ОГРН', roles: ['doctor'] }, now)
      let r = await getWorkerRecord(db, snils)
      expect(r?.employmentHistory).toEqual([
        { organisationOgrn: null, organisation: 'Поликлиника без ОГРН', departmentId: null, department: null, position: 'Врач', startedOn: '2025-04-10', endedOn: null },
      ])
      // A repeated upsert without the new fields keeps them and adds no row.
      await saveWorker(db, { snils, fullName: 'Старый Способ', position: 'Врач', organisation: 'Поликлиника без ОГРН', specialties: ['Терапия'], birthDate: '1970-01-01' }, now)
      await upsertWorker(db, { snils, fullName: 'Старый Способ', position: 'Врач', organisation: 'Поликлиника без ОГРН' }, now)
      r = await getWorkerRecord(db, snils)
      expect(r).toMatchObject({ specialties: ['Терапия'], birthDate: '1970-01-01', roles: ['doctor'] })
      expect(r?.employmentHistory).toHaveLength(1)

      const later = new Date('2025-05-20T09:00:00Z')
      expect(await endEmployment(db, snils, later)).toMatchObject({ employment: 'ended', endedAt: later })
      r = await getWorkerRecord(db, snils)
      expect(r?.employmentHistory.map((e) => [e.startedOn, e.endedOn])).toEqual([['2025-04-10', '2025-05-20']])
      const open = await db.query('SELECT 1 FROM employment_records WHERE snils = $1 AND ended_on IS NULL', [snils])
      expect(open).toHaveLength(0)
      expect(await endEmployment(db, snilsWithChecksum('555444334'), later)).toBeNull()
    } finally {
      await db.close()
    }
  })

  it('gives one open row to concurrent writes of one new worker', async () => {
    const snils = nextSnils()
    const positions = ['Врач-терапевт', 'Врач-хирург', 'Врач-невролог', 'Врач-педиатр', 'Врач-кардиолог']
    const results = await Promise.all(
      positions.map((position) => saveWorker(portal.db, { snils, fullName: 'Гонкина Алла', position, organisationOgrn: ORG_A.ogrn, roles: ['doctor'] })),
    )
    expect(results).toHaveLength(positions.length)
    const record = await getWorkerRecord(portal.db, snils)
    const open = record!.employmentHistory.filter((e) => e.endedOn === null)
    expect(open).toHaveLength(1)
    expect(open[0]!.position).toBe(record!.position)
  })

  it('migration 003 gives workers registered before it the history row their fields imply', async () => {
    const db = await openTestDb()
    try {
      await migrate(db, loadMigrations().filter((m) => m.version < 3))
      const active = snilsWithChecksum('555444335')
      const ended = snilsWithChecksum('555444336')
      await db.query(
        `INSERT INTO workers (snils, full_name, position, organisation, organisation_ogrn, roles, employment, ended_at, created_at)
         VALUES ($1, 'Давний Работник', 'Врач', 'Поликлиника', '1027700132195', '{doctor}', 'active', NULL, '2024-01-15T10:00:00Z'),
                ($2, 'Давно Уволенный', 'Медсестра', 'Поликлиника', NULL, '{nurse}', 'ended', '2024-06-30T21:30:00Z', '2023-03-01T10:00:00Z')`,
        [active, ended],
      )
      expect(await migrate(db)).toContain(3)
      expect((await getWorkerRecord(db, active))?.employmentHistory).toEqual([
        { organisationOgrn: '1027700132195', organisation: 'Поликлиника', departmentId: null, department: null, position: 'Врач', startedOn: '2024-01-15', endedOn: null },
      ])
      // 21:30 UTC on 30 June is already 1 July in Moscow.
      expect((await getWorkerRecord(db, ended))?.employmentHistory.map((e) => [e.startedOn, e.endedOn])).toEqual([['2023-03-01', '2024-07-01']])
    } finally {
      await db.close()
    }
  })
})

describe('CSV import', () => {
  const HEADER = 'snils;full_name;birth_date;position;organisation_ogrn;department;roles;specialties'

  it('reads quoted cells with separators, quotes and line breaks, and numbers records by their first line', () => {
    const { separator, records } = parseCsv('\ufeffa,b\r\n"x, ""y""","многострочная\nячейка"\n\n1,2')
    expect(separator).toBe(',')
    expect(records).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, "y"', 'многострочная\nячейка'] },
      { line: 5, cells: ['1', '2'] },
    ])
    expect(parseCsv('a;b,c\n1;2,3').records[1]!.cells).toEqual(['1', '2,3'])
  })

  it('keeps nothing when a row is bad, the good rows with skipInvalid, and changes nothing on a re-import', async () => {
    const db = await openTestDb()
    try {
      await migrate(db)
      await upsertOrganisation(db, ORG_A)
      await addDepartment(db, ORG_A.ogrn, 'Терапевтическое отделение')
      const [a, b] = [nextSnils(), nextSnils()]
      const rows = [
        `${a};Первая Анна;1980-01-01;Врач;${ORG_A.ogrn};Терапевтическое отделение;doctor;Терапия`,
        `${BAD_SNILS};Плохой СНИЛС;;Врач;${ORG_A.ogrn};;doctor;`,
        `${b};Вторая Бэлла;;Медсестра;${ORG_A.ogrn};;nurse;`,
        `${nextSnils()};Неверный ОГРН;;Врач;${BAD_OGRN};;doctor;`,
        '"незакрытая;кавычка',
      ]
      const unclosed = await importWorkersCsv(db, [HEADER, ...rows].join('\n'))
      expect(unclosed).toMatchObject({ imported: false, problems: [{ line: 6, message: 'кавычка не закрыта до конца файла' }] })

      const text = [HEADER, ...rows.slice(0, 4)].join('\n')
      const refused = await importWorkersCsv(db, text)
      expect(refused).toMatchObject({ imported: false, rows: 4, created: 0, updated: 0, unchanged: 0, skipped: 0 })
      expect(refused.problems.map((p) => p.line)).toEqual([3, 5])
      expect(refused.problems[0]!.message).toContain('СНИЛС')
      expect(refused.problems[1]!.message).toContain('ОГРН организации')
      expect(await listWorkers(db)).toEqual([])

      const skipped = await importWorkersCsv(db, text, { skipInvalid: true })
      expect(skipped).toMatchObject({ imported: true, rows: 4, created: 2, updated: 0, unchanged: 0, skipped: 2 })
      expect((await listWorkers(db)).map((w) => w.snils).sort()).toEqual([a, b].sort())
      expect((await getWorkerRecord(db, a))?.employmentHistory).toHaveLength(1)

      const again = await importWorkersCsv(db, text, { skipInvalid: true })
      expect(again).toMatchObject({ imported: true, created: 0, updated: 0, unchanged: 2, skipped: 2 })
      expect((await getWorkerRecord(db, a))?.employmentHistory).toHaveLength(1)

      // A dismissed worker on an old staff list is not quietly taken back.
      await endEmployment(db, b)
      const stale = await importWorkersCsv(db, text, { skipInvalid: true })
      expect(stale.problems.map((p) => p.line)).toEqual([3, 4, 5])
      expect(stale.problems[1]!.message).toContain('Вторая Бэлла уволен(а)')
      expect((await listWorkers(db, { active: true })).map((w) => w.snils)).toEqual([a])
    } finally {
      await db.close()
    }
  })
})

