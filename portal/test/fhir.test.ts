// The FHIR R4 API over HTTPS: every interaction and every error answer (OperationOutcome), on
// PGlite and, in npm test, on PostgreSQL too.
import 'reflect-metadata'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { errorOfOutcome } from '../../src/shared/fhir/outcome'
import { FHIR_SYSTEMS, type FhirResourceType } from '../../src/shared/fhir/systems'
import { ogrnWithChecksum } from '../../src/shared/validators/ogrn'
import { writeVersion, writeVersions } from '../src/fhir/store'
import { createTestPki, startTestPortal, type TestPortal } from './support'
import { FHIR, ORG_A, ORG_B, expectOutcome, fhirSession, linkOf, omsOf, pathOf, patient, snilsOf, type Bundle, type Fhir } from './fhir-support'

let portal: TestPortal
let doctor: Fhir
let registrar: Fhir
let nurse: Fhir
let admin: Fhir
let otherOrgDoctor: Fhir

type Resource = Record<string, unknown> & { id: string; meta: { versionId: string; lastUpdated: string } }

beforeAll(async () => {
  portal = await startTestPortal(await createTestPki(), { rateLimit: false })
  doctor = await fhirSession(portal, ['doctor'])
  registrar = await fhirSession(portal, ['registrar'])
  nurse = await fhirSession(portal, ['nurse'])
  admin = await fhirSession(portal, ['admin'], null)
  otherOrgDoctor = await fhirSession(portal, ['doctor'], ORG_B)
})
afterAll(async () => {
  await portal?.close()
})
beforeEach(() => portal.clock.reset())

async function create(client: Fhir, resource: Record<string, unknown>): Promise<Resource> {
  const r = await client<Resource>('POST', String(resource.resourceType), { json: resource })
  expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status: 201 })
  return r.body
}

const search = async (client: Fhir, query: string) => {
  const r = await client<Bundle>('GET', query)
  expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status: 200 })
  return r.body
}
const ids = (b: Bundle) => b.entry.map((e) => e.resource!.id).sort()

describe('capabilities and authentication', () => {
  it('publishes a CapabilityStatement without a session', async () => {
    const r = await portal.api<{ resourceType: string; fhirVersion: string; rest: Array<{ documentation: string; resource: Array<{ type: string; conditionalRead: string }> }> }>('GET', `${FHIR}/metadata`)
    expect(r.status).toBe(200)
    expect(r.body.resourceType).toBe('CapabilityStatement')
    expect(r.body.fhirVersion).toBe('4.0.1')
    expect(r.body.rest[0]!.resource.map((x) => x.type)).toHaveLength(12)
    expect(r.body.rest[0]!.resource[0]!.conditionalRead).toBe('not-match')
    expect(r.body.rest[0]!.documentation).toContain('If-None-Match: *')
  })

  it('answers 401 OperationOutcome without a session or with a dead one', async () => {
    expectOutcome(await portal.api('GET', `${FHIR}/Patient`), 401, 'SESSION_EXPIRED', 'login')
    expectOutcome(await portal.api('GET', `${FHIR}/Patient/x`, { token: 'y'.repeat(43) }), 401, 'SESSION_EXPIRED', 'login')
  })

  it('answers unknown types, routes and malformed bodies with OperationOutcome', async () => {
    expectOutcome(await doctor('GET', 'Unicorn/1'), 404, 'NOT_FOUND')
    expectOutcome(await doctor('GET', 'Patient/1/_history/1/extra'), 404, 'NOT_FOUND')
    expectOutcome(await doctor('POST', 'Patient', { raw: '{"resourceType": "Patient"', headers: { 'content-type': 'application/fhir+json' } }), 400, 'INVALID_INPUT', 'structure')
    expectOutcome(await doctor('GET', 'Patient/' + 'x'.repeat(65)), 400, 'INVALID_INPUT')
  })
})

describe('create, read, vread', () => {
  it('creates with a server id, version 1, Location and ETag; reads it back', async () => {
    const r = await doctor<Resource>('POST', 'Patient', { json: { ...patient('Соколова', ['Анна']), id: 'ignored-on-create', meta: { tag: [{ code: 't' }] } } })
    expect(r.status).toBe(201)
    const p = r.body
    expect(p.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(p.meta.versionId).toBe('1')
    expect(p.meta).toMatchObject({ tag: [{ code: 't' }] })
    expect(r.headers.etag).toBe('W/"1"')
    expect(r.headers['strict-transport-security']).toMatch(/max-age/)
    expect(r.headers['cache-control']).toBe('no-store')
    expect(r.headers.location).toMatch(new RegExp(`${FHIR}/Patient/${p.id}/_history/1$`))
    const read = await doctor<Resource>('GET', `Patient/${p.id}`)
    expect(read.status).toBe(200)
    expect(read.body).toEqual(p)
    expect(read.headers.etag).toBe('W/"1"')
    expect((await doctor('GET', `Patient/${p.id}`, { headers: { 'if-none-match': 'W/"1"' } })).status).toBe(304)
    expect((await doctor<Resource>('GET', `Patient/${p.id}/_history/1`)).body).toEqual(p)
    expectOutcome(await doctor('GET', `Patient/${p.id}/_history/2`), 404, 'NOT_FOUND', 'not-found')
    expectOutcome(await doctor('GET', 'Patient/no-such-patient'), 404, 'NOT_FOUND', 'not-found')
  })

  it('answers Prefer: return=minimal with headers only', async () => {
    const r = await doctor('POST', 'Patient', { json: patient('Минимов', ['Олег']), headers: { prefer: 'return=minimal' } })
    expect(r.status).toBe(201)
    expect(r.text).toBe('')
    expect(r.headers.location).toBeTruthy()
  })

  it('refuses invalid resources with the element named', async () => {
    const badSnils = patient('Ошибкина', ['Ирина'])
    badSnils.identifier[0]!.value = '112-233-445 96'
    const o = expectOutcome(await doctor('POST', 'Patient', { json: badSnils }), 400, 'INVALID_INPUT', 'value')
    expect(o.issue[0]!.expression).toEqual(['Patient.identifier[0].value'])
    expect(o.issue[0]!.diagnostics).toMatch(/СНИЛС/)
    const badOms = patient('Ошибкина', ['Ирина'])
    badOms.identifier[1]!.value = '1234567890123456'
    expect(expectOutcome(await doctor('POST', 'Patient', { json: badOms }), 400, 'INVALID_INPUT').issue[0]!.diagnostics).toMatch(/ОМС/)
    expectOutcome(await doctor('POST', 'Patient', { json: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }), 400, 'INVALID_INPUT', 'invariant')
    expectOutcome(await doctor('POST', 'Observation', { json: { resourceType: 'Observation', status: 'final' } }), 400, 'INVALID_INPUT', 'required')
    expectOutcome(await doctor('POST', 'Observation', { json: { resourceType: 'Observation', status: 'done', code: { text: 'x' } } }), 400, 'INVALID_INPUT', 'value')
    expectOutcome(await doctor('POST', 'Patient', { json: { ...patient('Датова', ['Ю']), birthDate: '17.05.1980' } }), 400, 'INVALID_INPUT', 'value')
    expectOutcome(await doctor('POST', 'Patient', { json: { ...patient('Датова', ['Ю']), birthDate: '1980-02-30' } }), 400, 'INVALID_INPUT', 'value')
    expectOutcome(
      await doctor('POST', 'Condition', { json: { resourceType: 'Condition', subject: { reference: 'Patient/1' }, code: { coding: [{ system: FHIR_SYSTEMS.icd10, code: 'ORZ' }] } } }),
      400,
      'INVALID_INPUT',
      'value',
    )
    expectOutcome(await doctor('POST', 'Condition', { json: { resourceType: 'Condition', subject: { reference: 'nonsense ref' } } }), 400, 'INVALID_INPUT', 'value')
    expectOutcome(await doctor('POST', 'Condition', { json: { resourceType: 'Condition', subject: { reference: 'urn:uuid:1' } } }), 400, 'INVALID_INPUT', 'invariant')
    expectOutcome(await doctor('POST', 'Patient', { json: [1, 2] }), 400, 'INVALID_INPUT', 'structure')
  })
})

describe('search', () => {
  let ivanova: Resource
  let ivanov: Resource
  let semenov: Resource
  beforeAll(async () => {
    ivanova = await create(registrar, patient('Иванова', ['Мария', 'Петровна'], { birthDate: '1975-03-02', gender: 'female' }))
    ivanov = await create(registrar, patient('Иванов', ['Пётр', 'Сергеевич'], { birthDate: '1990-11-30', gender: 'male' }))
    semenov = await create(registrar, patient('Семёнов', ['Алексей'], { birthDate: '1990-01-15', gender: 'male' }))
  })

  it('finds names by Cyrillic prefix in any case, ё and е alike, by any part and by full name', async () => {
    expect(ids(await search(doctor, 'Patient?name=иванов'))).toEqual([ivanov.id, ivanova.id].sort())
    expect(ids(await search(doctor, 'Patient?name=ИВАНОВА'))).toEqual([ivanova.id])
    expect(ids(await search(doctor, `Patient?name=${encodeURIComponent('Семенов')}`))).toEqual([semenov.id])
    expect(ids(await search(doctor, `Patient?given:exact=${encodeURIComponent('пётр')}`))).toEqual([ivanov.id])
    expect(ids(await search(doctor, `Patient?name=${encodeURIComponent('Иванова Мария П')}`))).toEqual([ivanova.id])
    expect(ids(await search(doctor, 'Patient?family:exact=иванов'))).toEqual([ivanov.id])
    expect(ids(await search(doctor, 'Patient?name:contains=еменов'))).toEqual([semenov.id])
    expect(ids(await search(doctor, 'Patient?name=иванов&gender=male'))).toEqual([ivanov.id])
    expect(ids(await search(doctor, 'Patient?name=семенов,иванова'))).toEqual([ivanova.id, semenov.id].sort())
  })

  it('finds by СНИЛС and полис ОМС, with or without system and separators', async () => {
    const snils = snilsOf(ivanova as never)
    const formatted = `${snils.slice(0, 3)}-${snils.slice(3, 6)}-${snils.slice(6, 9)} ${snils.slice(9)}`
    expect(ids(await search(doctor, `Patient?identifier=${encodeURIComponent(`${FHIR_SYSTEMS.snils}|${formatted}`)}`))).toEqual([ivanova.id])
    expect(ids(await search(doctor, `Patient?identifier=${snils}`))).toEqual([ivanova.id])
    expect(ids(await search(doctor, `Patient?identifier=${encodeURIComponent(`${FHIR_SYSTEMS.oms}|${omsOf(ivanov as never)}`)}`))).toEqual([ivanov.id])
    expect(ids(await search(doctor, `Patient?identifier=${encodeURIComponent(`${FHIR_SYSTEMS.oms}|${snils}`)}`))).toEqual([])
  })

  it('compares dates by their precision with prefixes', async () => {
    expect(ids(await search(doctor, 'Patient?birthdate=1990'))).toEqual([ivanov.id, semenov.id].sort())
    expect(ids(await search(doctor, 'Patient?birthdate=1990-11'))).toEqual([ivanov.id])
    expect(ids(await search(doctor, 'Patient?birthdate=1975-03-02'))).toEqual([ivanova.id])
    expect(ids(await search(doctor, 'Patient?birthdate=lt1980&name=иванов'))).toEqual([ivanova.id])
    expect(ids(await search(doctor, 'Patient?birthdate=ge1990-06-01&birthdate=le1990-12-31'))).toEqual([ivanov.id])
    expectOutcome(await doctor('GET', 'Patient?birthdate=02.03.1975'), 400, 'INVALID_INPUT', 'value')
  })

  it('pages with _count and a next link, and reports the total when asked', async () => {
    for (let i = 0; i < 7; i++) await create(registrar, patient('Пейджинг', [`Номер${i}`]))
    const first = await search(doctor, 'Patient?family=пейджинг&_count=3&_total=accurate')
    expect(first.total).toBe(7)
    expect(first.entry).toHaveLength(3)
    const seen = ids(first)
    let next = linkOf(first, 'next')
    while (next) {
      const page = await search(doctor, pathOf(next))
      seen.push(...ids(page))
      next = linkOf(page, 'next')
    }
    expect(seen).toHaveLength(7)
    expect(new Set(seen).size).toBe(7)
    const summary = await search(doctor, 'Patient?family=пейджинг&_summary=count')
    expect(summary.total).toBe(7)
    expect(summary.entry).toEqual([])
  })

  it('searches clinical resources by patient, code and date', async () => {
    const obs = await create(doctor, {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'ЧСС' },
      subject: { reference: `Patient/${ivanova.id}` },
      effectiveDateTime: '2026-11-20T10:15:00+03:00',
    })
    expect(ids(await search(doctor, `Observation?patient=${ivanova.id}`))).toEqual([obs.id])
    expect(ids(await search(doctor, `Observation?subject=Patient/${ivanova.id}&code=http://loinc.org|8867-4`))).toEqual([obs.id])
    expect(ids(await search(doctor, `Observation?patient=${ivanova.id}&date=2026-11-20`))).toEqual([obs.id])
    expect(ids(await search(doctor, `Observation?patient=${ivanova.id}&date=gt2026-11-20`))).toEqual([])
    expect(ids(await search(doctor, `Observation?patient=${ivanov.id}`))).toEqual([])
  })

  it('refuses unknown parameters and modifiers instead of ignoring them', async () => {
    expectOutcome(await doctor('GET', 'Patient?nickname=x'), 400, 'INVALID_INPUT', 'not-supported')
    expectOutcome(await doctor('GET', 'Patient?name:fuzzy=x'), 400, 'INVALID_INPUT', 'not-supported')
    expectOutcome(await doctor('GET', 'Patient?_include=Patient:organization'), 400, 'INVALID_INPUT', 'not-supported')
    expectOutcome(await doctor('GET', 'Patient?_count=many'), 400, 'INVALID_INPUT')
  })

  it('accepts POST _search with a form body', async () => {
    const r = await doctor<Bundle>('POST', 'Patient/_search', { raw: 'name=%D0%B8%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(r.status).toBe(200)
    expect(ids(r.body)).toEqual([ivanova.id])
  })
})

describe('conditional create', () => {
  it('returns the existing match, creates when none, refuses several', async () => {
    const p = patient('Условная', ['Ольга'])
    const condition = `identifier=${FHIR_SYSTEMS.snils}|${snilsOf(p)}`
    const first = await doctor<Resource>('POST', 'Patient', { json: p, headers: { 'if-none-exist': encodeURI(condition) } })
    expect(first.status).toBe(201)
    const again = await doctor<Resource>('POST', 'Patient', { json: p, headers: { 'if-none-exist': encodeURI(condition) } })
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(first.body.id)
    expect(again.body.meta.versionId).toBe('1')
    await create(doctor, patient('Двойникова', ['Анна']))
    await create(doctor, patient('Двойникова', ['Анна']))
    expectOutcome(await doctor('POST', 'Patient', { json: patient('Двойникова', ['Анна']), headers: { 'if-none-exist': `family:exact=${encodeURIComponent('двойникова')}` } }), 412, 'VERSION_CONFLICT', 'multiple-matches')
  })

  it('creates once when the same conditional create races with itself', async () => {
    const p = patient('Гонкина', ['Вера'])
    const headers = { 'if-none-exist': `identifier=${snilsOf(p)}` }
    const results = await Promise.all(Array.from({ length: 6 }, () => doctor<Resource>('POST', 'Patient', { json: p, headers })))
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201])
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1)
  })
})

describe('update, concurrency and delete', () => {
  it('updates with If-Match, refuses a stale version with 412, creates on a client id', async () => {
    const p = await create(doctor, patient('Версиева', ['Лидия']))
    const v2 = await doctor<Resource>('PUT', `Patient/${p.id}`, { json: { ...p, gender: 'other' }, headers: { 'if-match': 'W/"1"' } })
    expect(v2.status).toBe(200)
    expect(v2.body.meta.versionId).toBe('2')
    expect(v2.headers.etag).toBe('W/"2"')
    const stale = await doctor('PUT', `Patient/${p.id}`, { json: { ...p, gender: 'male' }, headers: { 'if-match': 'W/"1"' } })
    expectOutcome(stale, 412, 'VERSION_CONFLICT', 'conflict')
    expect(((await doctor<Resource>('GET', `Patient/${p.id}`)).body as unknown as { gender: string }).gender).toBe('other')
    expectOutcome(await doctor('PUT', `Patient/${p.id}`, { json: { ...p, id: 'other' } }), 400, 'INVALID_INPUT', 'invariant')
    expectOutcome(await doctor('PUT', `Patient/${p.id}`, { json: p, headers: { 'if-match': 'version one' } }), 400, 'INVALID_INPUT')
    const clientId = `client-${Date.now()}`
    const made = await doctor<Resource>('PUT', `Patient/${clientId}`, { json: { ...patient('Клиентова', ['Ия']), id: clientId } })
    expect(made.status).toBe(201)
    expect(made.body.meta.versionId).toBe('1')
    const replay = await doctor<Resource>('PUT', `Patient/${clientId}`, { json: { ...patient('Клиентова', ['Ия']), id: clientId } })
    expect(replay.status).toBe(200)
  })

  it('lets exactly one of two writers with the same version win; the other gets 412', async () => {
    for (let round = 0; round < 5; round++) {
      const p = await create(doctor, patient('Гонщикова', [`Раунд${round}`]))
      const [a, b] = await Promise.all([
        doctor('PUT', `Patient/${p.id}`, { json: { ...p, gender: 'male' }, headers: { 'if-match': 'W/"1"' } }),
        nurse('PUT', `Patient/${p.id}`, { json: { ...p, gender: 'other' }, headers: { 'if-match': 'W/"1"' } }),
      ])
      expect([a.status, b.status].sort()).toEqual([200, 412])
      const loser = a.status === 412 ? a : b
      expectOutcome(loser, 412, 'VERSION_CONFLICT')
      const current = (await doctor<Resource>('GET', `Patient/${p.id}`)).body
      expect(current.meta.versionId).toBe('2')
      expect((current as unknown as { gender: string }).gender).toBe(a.status === 200 ? 'male' : 'other')
    }
  })

  it('deletes into a tombstone: 410 on read, kept in history, old versions still readable', async () => {
    const p = await create(doctor, patient('Удалёнова', ['Нина']))
    const del = await doctor('DELETE', `Patient/${p.id}`)
    expect(del.status).toBe(204)
    expect(del.headers.etag).toBe('W/"2"')
    expectOutcome(await doctor('GET', `Patient/${p.id}`), 410, 'NOT_FOUND', 'deleted')
    expectOutcome(await doctor('GET', `Patient/${p.id}/_history/2`), 410, 'NOT_FOUND', 'deleted')
    expect((await doctor<Resource>('GET', `Patient/${p.id}/_history/1`)).status).toBe(200)
    expect(ids(await search(doctor, `Patient?_id=${p.id}`))).toEqual([])
    expect(ids(await search(doctor, 'Patient?family=удаленова'))).toEqual([])
    expect((await doctor('DELETE', `Patient/${p.id}`)).status).toBe(204)
    expectOutcome(await doctor('DELETE', 'Patient/never-existed'), 404, 'NOT_FOUND')
    const history = (await doctor<Bundle>('GET', `Patient/${p.id}/_history`)).body
    expect(history.type).toBe('history')
    expect(history.entry.map((e) => [e.request!.method, e.response!.status])).toEqual([
      ['DELETE', '204'],
      ['POST', '201'],
    ])
    expect(history.entry[0]!.resource).toBeUndefined()
    const back = await doctor<Resource>('PUT', `Patient/${p.id}`, { json: { ...p, meta: undefined } })
    expect(back.status).toBe(201)
    expect(back.body.meta.versionId).toBe('3')
  })

  it('pages instance history newest first', async () => {
    let p = await create(doctor, patient('Историева', ['Ада']))
    for (let i = 0; i < 4; i++) p = (await doctor<Resource>('PUT', `Patient/${p.id}`, { json: { ...p, active: i % 2 === 0 } })).body
    const first = (await doctor<Bundle>('GET', `Patient/${p.id}/_history?_count=2`)).body
    expect(first.entry.map((e) => e.resource!.meta.versionId)).toEqual(['5', '4'])
    const second = (await doctor<Bundle>('GET', pathOf(linkOf(first, 'next')!))).body
    expect(second.entry.map((e) => e.resource!.meta.versionId)).toEqual(['3', '2'])
  })
})

describe('create-only PUT (If-None-Match: *)', () => {
  let n = 0
  const clientId = (label: string) => `${label}-${Date.now().toString(36)}-${++n}`
  const putNew = (client: Fhir, id: string, body: Record<string, unknown>, headers: Record<string, string> = { 'if-none-match': '*' }) =>
    client<Resource>('PUT', `Patient/${id}`, { json: { ...body, id }, headers })
  const currentVersionOf = (r: { body: unknown }) => errorOfOutcome(r.body)?.params.currentVersion

  it('creates once; then 412 VERSION_CONFLICT with the current version, the resource untouched', async () => {
    const id = clientId('only-once')
    const body = patient('Однократная', ['Ия'])
    const made = await putNew(registrar, id, body)
    expect(made.status).toBe(201)
    expect(made.body.meta.versionId).toBe('1')
    expect(made.headers.location).toMatch(new RegExp(`/Patient/${id}/_history/1$`))
    const again = await putNew(registrar, id, { ...body, gender: 'male' })
    const o = expectOutcome(again, 412, 'VERSION_CONFLICT', 'conflict')
    expect(o.issue[0]!.diagnostics).toMatch(/If-None-Match/)
    expect(currentVersionOf(again)).toBe(1)
    const v2 = await registrar<Resource>('PUT', `Patient/${id}`, { json: { ...made.body, active: true }, headers: { 'if-match': 'W/"1"' } })
    expect(v2.status).toBe(200)
    const afterUpdate = await putNew(registrar, id, body)
    expectOutcome(afterUpdate, 412, 'VERSION_CONFLICT', 'conflict')
    expect(currentVersionOf(afterUpdate)).toBe(2)
    const read = await registrar<Resource>('GET', `Patient/${id}`)
    expect(read.body.meta.versionId).toBe('2')
    expect((read.body as unknown as { gender: string }).gender).toBe('female')
  })

  it('answers a retried create-only PUT (the first answer lost) with 412; the client reads the version it names', async () => {
    const id = clientId('retried')
    const body = patient('Повторная', ['Ия'])
    const first = await putNew(registrar, id, body)
    expect(first.status).toBe(201)
    // The answer is lost on the way; the workstation sends the identical request again.
    const retry = await putNew(registrar, id, body)
    expectOutcome(retry, 412, 'VERSION_CONFLICT', 'conflict')
    const version = currentVersionOf(retry)
    expect(version).toBe(1)
    const current = await registrar<Resource>('GET', `Patient/${id}/_history/${version}`)
    expect(current.status).toBe(200)
    expect(current.body).toEqual(first.body)
    const history = (await registrar<Bundle>('GET', `Patient/${id}/_history`)).body
    expect(history.entry).toHaveLength(1)
  })

  it('treats a deleted resource as absent, and keeps If-None-Match on reads meaning 304', async () => {
    const id = clientId('reborn')
    const body = patient('Возвращённая', ['Ия'])
    expect((await putNew(registrar, id, body)).status).toBe(201)
    expect((await registrar('GET', `Patient/${id}`, { headers: { 'if-none-match': 'W/"1"' } })).status).toBe(304)
    expect((await registrar('DELETE', `Patient/${id}`)).status).toBe(204)
    const back = await putNew(registrar, id, body)
    expect(back.status).toBe(201)
    expect(back.body.meta.versionId).toBe('3')
  })

  it('refuses other If-None-Match values on PUT and If-Match together with If-None-Match (400)', async () => {
    const id = clientId('bad-header')
    const body = patient('Заголовкова', ['Ия'])
    for (const value of ['W/"1"', '"1"', '*, W/"1"']) {
      const o = expectOutcome(await putNew(registrar, id, body, { 'if-none-match': value }), 400, 'INVALID_INPUT', 'value')
      expect(o.issue[0]!.diagnostics).toMatch(/If-None-Match.*«\*»/)
    }
    const both = expectOutcome(await putNew(registrar, id, body, { 'if-none-match': '*', 'if-match': 'W/"1"' }), 400, 'INVALID_INPUT', 'invariant')
    expect(both.issue[0]!.diagnostics).toMatch(/несовместимы/)
    expectOutcome(await registrar('GET', `Patient/${id}`), 404, 'NOT_FOUND')
  })

  it('in a batch: each entry on its own, 412 entries carry the current version', async () => {
    const existing = (await putNew(registrar, clientId('batch-existing'), patient('Пакетная', ['Анна']))).body
    const fresh = clientId('batch-fresh')
    const twice = clientId('batch-twice')
    const r = await registrar<Bundle>('POST', '', {
      json: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: { ...patient('Новая', ['Ия']), id: fresh }, request: { method: 'PUT', url: `Patient/${fresh}`, ifNoneMatch: '*' } },
          { resource: { ...existing, meta: undefined }, request: { method: 'PUT', url: `Patient/${existing.id}`, ifNoneMatch: '*' } },
          { resource: { ...existing, meta: undefined, gender: 'male' }, request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"4"' } },
          { resource: { ...existing, meta: undefined, active: true }, request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"1"' } },
          { resource: { ...patient('Дважды', ['Ия']), id: twice }, request: { method: 'PUT', url: `Patient/${twice}`, ifNoneMatch: '*' } },
          { resource: { ...patient('Дважды', ['Ия']), id: twice }, request: { method: 'PUT', url: `Patient/${twice}`, ifNoneMatch: '*' } },
          { resource: { ...patient('Условная', ['Ия']), id: twice }, request: { method: 'PUT', url: `Patient/${twice}`, ifNoneMatch: 'W/"1"' } },
          { resource: { ...patient('Условная', ['Ия']), id: twice }, request: { method: 'PUT', url: `Patient/${twice}`, ifNoneMatch: '*', ifMatch: 'W/"1"' } },
          { request: { method: 'GET', url: `Patient/${fresh}` } },
          { request: { method: 'GET', url: `Patient/${fresh}`, ifNoneMatch: 'W/"1"' } },
        ],
      },
    })
    expect(r.status).toBe(200)
    expect(r.body.type).toBe('batch-response')
    const entries = r.body.entry
    expect(entries.map((e) => e.response!.status)).toEqual(['201', '412', '412', '200', '201', '412', '400', '400', '200', '304'])
    expect(entries[0]!.resource!.meta.versionId).toBe('1')
    expect(entries[0]!.response!.location).toBe(`Patient/${fresh}/_history/1`)
    for (const [i, version] of [[1, 1], [2, 1], [5, 1]] as const) {
      const outcome = entries[i]!.response!.outcome!
      expect(outcome.issue[0]!.details.coding[0]!.code).toBe('VERSION_CONFLICT')
      expect(outcome.issue[0]!.expression).toEqual([`Bundle.entry[${i}]`])
      expect(errorOfOutcome(outcome)).toEqual({ code: 'VERSION_CONFLICT', params: { currentVersion: version } })
    }
    expect(entries[3]!.response!.etag).toBe('W/"2"')
    expect(entries[6]!.response!.outcome!.issue[0]!.expression).toEqual(['Bundle.entry[6].request.ifNoneMatch'])
    expect(entries[7]!.response!.outcome!.issue[0]!.diagnostics).toMatch(/несовместимы/)
    expect(entries[8]!.resource!.id).toBe(fresh)
    expect(entries[9]!.resource).toBeUndefined()
    // The failed entries left nothing: the existing patient is at version 2 (entry 3), not male.
    const now = (await registrar<Resource>('GET', `Patient/${existing.id}`)).body as Resource & { gender: string; active: boolean }
    expect([now.meta.versionId, now.gender, now.active]).toEqual(['2', 'female', true])
    expect((await registrar<Bundle>('GET', `Patient/${twice}/_history`)).body.entry).toHaveLength(1)
  })

  it('in a transaction: a create-only PUT of an existing resource is 412 for the whole bundle, nothing kept', async () => {
    const existing = (await putNew(registrar, clientId('tx-existing'), patient('Транзакционная', ['Ия']))).body
    const fresh = clientId('tx-fresh')
    const marker = patient('Откатная', ['Ия'])
    const bundle = (againId: string) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: marker, request: { method: 'POST', url: 'Patient' } },
        { resource: { ...patient('Свежая', ['Ия']), id: fresh }, request: { method: 'PUT', url: `Patient/${fresh}`, ifNoneMatch: '*' } },
        { resource: { ...existing, meta: undefined, id: againId }, request: { method: 'PUT', url: `Patient/${againId}`, ifNoneMatch: '*' } },
      ],
    })
    const bad = await registrar('POST', '', { json: bundle(existing.id) })
    const o = expectOutcome(bad, 412, 'VERSION_CONFLICT', 'conflict')
    expect(o.issue[0]!.expression).toEqual(['Bundle.entry[2]'])
    expect(errorOfOutcome(o)?.params.currentVersion).toBe(1)
    expect(ids(await search(registrar, 'Patient?family=откатная'))).toEqual([])
    expectOutcome(await registrar('GET', `Patient/${fresh}`), 404, 'NOT_FOUND')
    const good = await registrar<Bundle>('POST', '', { json: bundle(clientId('tx-other')) })
    expect(good.body.entry.map((e) => e.response!.status)).toEqual(['201', '201', '201'])
  })
})

describe('batch writes in bulk', () => {
  const batch = (client: Fhir, entry: unknown[], headers: Record<string, string> = {}) =>
    client<Bundle>('POST', '', { json: { resourceType: 'Bundle', type: 'batch', entry }, headers })
  const put = (resource: Record<string, unknown> & { id: string }, request: Record<string, string> = {}) => ({
    resource,
    request: { method: 'PUT', url: `${String(resource.resourceType)}/${resource.id}`, ...request },
  })

  it('keeps the entries around a failing one and leaves nothing of it: no version, no index row', async () => {
    const stamp = Date.now().toString(36)
    const base = (await create(registrar, patient('Серединова', ['Ия']))).id
    const current = (await registrar<Resource>('GET', `Patient/${base}`)).body
    const first = { ...patient('Перваякраева', ['Ия']), id: `edge-a-${stamp}` }
    const last = { ...patient('Последнякраева', ['Ия']), id: `edge-b-${stamp}` }
    const r = await batch(registrar, [
      put(first, { ifNoneMatch: '*' }),
      // A stale If-Match: refused under the row lock, after the entries before it were decided.
      put({ ...current, meta: undefined, name: [{ family: 'Несостоявшаяся', given: ['Ия'] }] } as unknown as Resource, { ifMatch: 'W/"5"' }),
      put(last, { ifNoneMatch: '*' }),
    ])
    expect(r.body.entry.map((e) => e.response!.status)).toEqual(['201', '412', '201'])
    expect(errorOfOutcome(r.body.entry[1]!.response!.outcome)?.params.currentVersion).toBe(1)
    expect(ids(await search(registrar, 'Patient?family=перваякраева'))).toEqual([first.id])
    expect(ids(await search(registrar, 'Patient?family=последнякраева'))).toEqual([last.id])
    expect(ids(await search(registrar, 'Patient?family=несостоявшаяся'))).toEqual([])
    expect(ids(await search(registrar, 'Patient?family=серединова')).includes(base)).toBe(true)
    expect((await registrar<Bundle>('GET', `Patient/${base}/_history`)).body.entry).toHaveLength(1)
  })

  it('runs entries in order: a GET sees the PUT before it, later writes of one resource see the earlier ones', async () => {
    const stamp = Date.now().toString(36)
    const a = { ...patient('Порядкова', ['Ия']), id: `order-a-${stamp}` }
    const r = await batch(registrar, [
      put(a, { ifNoneMatch: '*' }),
      { request: { method: 'GET', url: `Patient/${a.id}` } },
      put({ ...a, gender: 'male' }, { ifMatch: 'W/"1"' }),
      put({ ...a, gender: 'other' }, { ifMatch: 'W/"1"' }),
      { request: { method: 'DELETE', url: `Patient/${a.id}` } },
      { request: { method: 'DELETE', url: `Patient/${a.id}` } },
      { request: { method: 'DELETE', url: `Patient/never-${stamp}` } },
      { resource: patient('Между', ['Ия']), request: { method: 'POST', url: 'Patient' } },
      put({ ...a, gender: 'female' }, { ifNoneMatch: '*' }),
    ])
    expect(r.body.entry.map((e) => e.response!.status)).toEqual(['201', '200', '200', '412', '204', '204', '404', '201', '201'])
    expect(r.body.entry[1]!.resource!.meta.versionId).toBe('1')
    expect(r.body.entry[4]!.response!.etag).toBe('W/"3"')
    expect(r.body.entry[5]!.response!.etag).toBe('W/"3"')
    expect(r.body.entry[8]!.resource!.meta.versionId).toBe('4')
    const history = (await registrar<Bundle>('GET', `Patient/${a.id}/_history`)).body
    expect(history.entry.map((e) => [e.request!.method, e.response!.etag])).toEqual([
      ['PUT', 'W/"4"'],
      ['DELETE', 'W/"3"'],
      ['PUT', 'W/"2"'],
      ['PUT', 'W/"1"'],
    ])
    expect(ids(await search(registrar, `Patient?_id=${a.id}&gender=female`))).toEqual([a.id])
    expect(ids(await search(registrar, `Patient?_id=${a.id}&gender=male`))).toEqual([])
  })

  it('answers Prefer: return=minimal without the resources', async () => {
    const a = { ...patient('Краткова', ['Ия']), id: `minimal-${Date.now().toString(36)}` }
    const r = await batch(registrar, [put(a, { ifNoneMatch: '*' }), put(a, { ifNoneMatch: '*' })], { prefer: 'return=minimal' })
    expect(r.body.entry[0]).toEqual({ response: { status: '201', location: `Patient/${a.id}/_history/1`, etag: 'W/"1"', lastModified: expect.any(String) } })
    expect(r.body.entry[1]!.response!.status).toBe('412')
  })

  it('writes exactly the rows single writes write', async () => {
    const stamp = Date.now().toString(36)
    const resources = [
      patient('Строкова', ['Ия', 'Петровна'], { birthDate: '1971-02-03', telecom: [{ system: 'phone', value: '+79001234567' }] }),
      { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'ЧСС' }, subject: { reference: 'Patient/x' }, effectiveDateTime: '2026-11-20T10:15:00+03:00', valueQuantity: { value: 72, unit: '/min' } },
      { resourceType: 'Appointment', status: 'booked', participant: [{ actor: { reference: 'Patient/x' }, status: 'accepted' }], start: '2026-11-25T09:00:00+03:00', end: '2026-11-25T09:15:00+03:00' },
    ]
    const now = new Date('2026-11-22T08:00:00.000Z')
    const writes = (prefix: string) =>
      resources.flatMap((r, i) => {
        const id = `${prefix}-${stamp}-${i}`
        const type = r.resourceType as FhirResourceType
        const w = { type, id, method: 'PUT' as const, now, scope: '1027700132195', owner: '1027700132195' }
        return [
          { ...w, resource: { ...r, id }, ifMatch: null, ifNoneMatch: true },
          { ...w, resource: { ...r, id, meta: { tag: [{ code: 'v2' }] } }, ifMatch: 1 },
          { ...w, resource: null, method: 'DELETE' as const, ifMatch: null },
          { ...w, resource: { ...r, id }, ifMatch: null },
        ]
      })
    await portal.db.transaction(async (tx) => {
      for (const w of writes('single')) await writeVersion(tx, w)
    })
    const outcomes = await portal.db.transaction((tx) => writeVersions(tx, writes('bulk')))
    expect(outcomes.every((o) => o.ok)).toBe(true)
    const snapshot = async (prefix: string) => {
      const like = `${prefix}-${stamp}-%`
      const strip = <T extends { id: string; body?: string | null }>(rows: T[]) =>
        rows.map((r) => ({ ...r, id: r.id.replace(prefix, 'x'), ...(r.body ? { body: r.body.replaceAll(prefix, 'x') } : {}) }))
      return {
        resources: strip(await portal.db.query<{ id: string; body: string | null }>('SELECT type, id, version, last_updated, deleted, org, body FROM fhir_resources WHERE id LIKE $1 ORDER BY type, id', [like])),
        history: strip(await portal.db.query<{ id: string; body: string | null }>('SELECT type, id, version, last_updated, deleted, org, method, body FROM fhir_history WHERE id LIKE $1 ORDER BY type, id, version', [like])),
        strings: strip(await portal.db.query<{ id: string }>('SELECT type, id, param, value FROM fhir_idx_string WHERE id LIKE $1 ORDER BY type, id, param, value', [like])),
        tokens: strip(await portal.db.query<{ id: string }>('SELECT type, id, param, system, value FROM fhir_idx_token WHERE id LIKE $1 ORDER BY type, id, param, system, value', [like])),
        dates: strip(await portal.db.query<{ id: string }>('SELECT type, id, param, lo, hi FROM fhir_idx_date WHERE id LIKE $1 ORDER BY type, id, param, lo, hi', [like])),
      }
    }
    const single = await snapshot('single')
    expect(single.history).toHaveLength(12)
    expect(single.strings.length + single.tokens.length + single.dates.length).toBeGreaterThan(6)
    expect(await snapshot('bulk')).toEqual(single)
  })

  it('meets a concurrent creator of one of its ids: that entry 412, the others written', async () => {
    const stamp = Date.now().toString(36)
    const contested = { ...patient('Спорная', ['Ия']), id: `contested-${stamp}` }
    const others = [0, 1, 2].map((i) => ({ ...patient('Соседняя', [`Ия${i}`]), id: `neighbour-${stamp}-${i}` }))
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    let written!: () => void
    const hasWritten = new Promise<void>((r) => (written = r))
    // Another writer has created the contested id and not committed yet.
    const other = portal.db.transaction(async (tx) => {
      await writeVersion(tx, { type: 'Patient', id: contested.id, resource: contested, method: 'PUT', now: new Date(), scope: ORG_A, owner: ORG_A, ifMatch: null })
      written()
      await released
    })
    await hasWritten
    const pushed = batch(registrar, [put(others[0]!, { ifNoneMatch: '*' }), put(contested, { ifNoneMatch: '*' }), put(others[1]!, { ifNoneMatch: '*' }), put(others[2]!, { ifNoneMatch: '*' })])
    if (portal.db.kind === 'postgres') {
      // The batch has reached the insert of the contested id and waits for the other writer.
      await expect
        .poll(async () => Number((await portal.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))[0]!.n), { timeout: 10_000 })
        .toBeGreaterThan(0)
    } else {
      // PGlite runs one transaction at a time: the batch waits for the other one to end.
      await new Promise((r) => setTimeout(r, 100))
    }
    release()
    await other
    const r = await pushed
    expect(r.body.entry.map((e) => e.response!.status)).toEqual(['201', '412', '201', '201'])
    expect((await registrar<Bundle>('GET', `Patient/${contested.id}/_history`)).body.entry).toHaveLength(1)
    expect(ids(await search(registrar, `Patient?_id=${others.map((o) => o.id).join(',')}`))).toEqual(others.map((o) => o.id).sort())
  })
})

describe('system and type history', () => {
  /** Pulls every page from `start`; returns the (id, version) pairs and where to resume. */
  async function pull(client: Fhir, start: string): Promise<{ keys: string[]; resume: string }> {
    const keys: string[] = []
    let path = start
    for (;;) {
      const page = (await client<Bundle>('GET', path)).body
      expect(page.type).toBe('history')
      for (const e of page.entry) keys.push(`${e.fullUrl!.split('/fhir/')[1]}@${e.response!.etag}`)
      const next = linkOf(page, 'next')
      if (!next) return { keys, resume: pathOf(linkOf(page, 'sync')!) }
      path = pathOf(next)
    }
  }

  it('pages without skips or repeats when hundreds of versions share one timestamp', async () => {
    const fresh = await fhirSession(portal, ['registrar'], ogrnWithChecksum('114774638009'))
    // The clock stands still: every version below gets the same lastUpdated.
    const instant = new Date()
    portal.clock.set(instant)
    const entry = Array.from({ length: 230 }, (_, i) => ({ resource: patient('Одновременная', [`П${i}`]), request: { method: 'POST', url: 'Patient' } }))
    const tx = await fresh<Bundle>('POST', '', { json: { resourceType: 'Bundle', type: 'transaction', entry } })
    expect(tx.status).toBe(200)
    const { keys, resume } = await pull(fresh, `${FHIR}/_history?_since=${instant.toISOString()}&_count=40`)
    expect(keys).toHaveLength(230)
    expect(new Set(keys).size).toBe(230)
    // Nothing new: the resume link answers an empty page and points at the same place.
    const again = (await fresh<Bundle>('GET', resume)).body
    expect(again.entry).toEqual([])
    expect(pathOf(linkOf(again, 'sync')!)).toBe(resume)
  })

  it('delivers every version exactly once to a puller running while writers write', async () => {
    const org = ogrnWithChecksum('115774636399')
    const writerA = await fhirSession(portal, ['registrar'], org)
    const writerB = await fhirSession(portal, ['doctor'], org)
    const reader = await fhirSession(portal, ['doctor'], org)
    portal.clock.set(new Date())
    const written = new Set<string>()
    const write = async (client: Fhir, n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await client<Resource>('POST', 'Patient', { json: patient('Писатель', [`${i}`]) })
        written.add(`Patient/${r.body.id}@W/"1"`)
        if (i % 3 === 0) {
          const u = await client<Resource>('PUT', `Patient/${r.body.id}`, { json: { ...r.body, active: true } })
          written.add(`Patient/${r.body.id}@W/"${u.body.meta.versionId}"`)
        }
      }
    }
    const seen: string[] = []
    let cursorPath = `${FHIR}/_history?_count=7`
    let writing = true
    const puller = (async () => {
      while (writing) {
        const { keys, resume } = await pull(reader, cursorPath)
        seen.push(...keys)
        cursorPath = resume
      }
    })()
    await Promise.all([write(writerA, 30), write(writerB, 30)])
    writing = false
    await puller
    const { keys } = await pull(reader, cursorPath)
    seen.push(...keys)
    expect(seen.length).toBe(written.size)
    expect(new Set(seen)).toEqual(written)
  })

  it('moves an up-to-date client\'s resume cursor to the head even when nothing matched its filters', async () => {
    const quiet = await fhirSession(portal, ['doctor'], ogrnWithChecksum('117774600000'))
    await create(doctor, patient('Соседова', ['Ия']))
    const page = (await quiet<Bundle>('GET', '_history?_count=5')).body
    expect(page.entry).toEqual([])
    const resume = new URL(linkOf(page, 'sync')!).searchParams.get('_cursor')!
    expect(resume).not.toBe('0.0')
    // Written after the resume point by the same organisation: the next poll sees exactly it.
    const mine = await create(quiet, patient('Своя', ['Ия']))
    const next = (await quiet<Bundle>('GET', pathOf(linkOf(page, 'sync')!))).body
    expect(next.entry.map((e) => e.resource!.id)).toEqual([mine.id])
  })

  it('serves type history and only what the caller may read', async () => {
    const org = ogrnWithChecksum('116774669130')
    const doc = await fhirSession(portal, ['doctor'], org)
    const reg = await fhirSession(portal, ['registrar'], org)
    const p = await create(reg, patient('Типова', ['Ева']))
    await create(doc, { resourceType: 'Condition', subject: { reference: `Patient/${p.id}` }, code: { coding: [{ system: FHIR_SYSTEMS.icd10, code: 'J06.9' }] } })
    const types = async (client: Fhir, path: string) => (await pull(client, path)).keys.map((k) => k.split('/')[0]).sort()
    expect(await types(doc, `${FHIR}/_history`)).toEqual(['Condition', 'Patient'])
    expect(await types(reg, `${FHIR}/_history`)).toEqual(['Patient'])
    expect(await types(doc, `${FHIR}/Condition/_history`)).toEqual(['Condition'])
    expectOutcome(await reg('GET', 'Condition/_history'), 403, 'ACCESS_DENIED', 'forbidden')
    expectOutcome(await doc('GET', '_history?_cursor=garbage'), 400, 'INVALID_INPUT')
    expectOutcome(await doc('GET', '_history?_since=yesterday'), 400, 'INVALID_INPUT')
    expectOutcome(await doc('GET', '_history?_type=Patient'), 400, 'INVALID_INPUT', 'not-supported')
  })
})

describe('transactions and batches', () => {
  it('commits all entries, resolving urn:uuid references, and answers in entry order', async () => {
    const r = await doctor<Bundle>('POST', '', {
      json: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a', resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:1ee2e8c0-0f0a-4b1e-9c65-2a9e5e8a2b11' } }, request: { method: 'POST', url: 'Encounter' } },
          { fullUrl: 'urn:uuid:1ee2e8c0-0f0a-4b1e-9c65-2a9e5e8a2b11', resource: patient('Транзакцова', ['Зоя']), request: { method: 'POST', url: 'Patient' } },
        ],
      },
    })
    expect(r.status).toBe(200)
    expect(r.body.type).toBe('transaction-response')
    const [enc, pat] = r.body.entry
    expect(enc!.response!.status).toBe('201')
    expect(pat!.response!.location).toMatch(/^Patient\/[0-9a-f-]{36}\/_history\/1$/)
    expect((enc!.resource as unknown as { subject: { reference: string } }).subject.reference).toBe(`Patient/${pat!.resource!.id}`)
    expect(ids(await search(doctor, `Encounter?patient=${pat!.resource!.id}`))).toEqual([enc!.resource!.id])
  })

  it('keeps nothing when one entry fails, and names the entry', async () => {
    const existing = await create(doctor, patient('Атомарная', ['Ада']))
    const marker = patient('Откатова', ['Ира'])
    const bad = await doctor('POST', '', {
      json: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: marker, request: { method: 'POST', url: 'Patient' } },
          { resource: { ...existing, gender: 'male' }, request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"7"' } },
        ],
      },
    })
    const o = expectOutcome(bad, 412, 'VERSION_CONFLICT', 'conflict')
    expect(o.issue[0]!.expression).toEqual(['Bundle.entry[1]'])
    expect(ids(await search(doctor, 'Patient?family=откатова'))).toEqual([])
    const invalidEntry = await doctor('POST', '', {
      json: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: marker, request: { method: 'POST', url: 'Patient' } }, { resource: { resourceType: 'Observation' }, request: { method: 'POST', url: 'Observation' } }] },
    })
    expect(expectOutcome(invalidEntry, 400, 'INVALID_INPUT', 'required').issue[0]!.expression![0]).toMatch(/^Bundle\.entry\[1\]/)
    expect(ids(await search(doctor, 'Patient?family=откатова'))).toEqual([])
    expectOutcome(await doctor('POST', '', { json: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: marker, request: { method: 'PATCH', url: 'Patient/1' } }] } }), 400, 'INVALID_INPUT', 'not-supported')
    expectOutcome(await doctor('POST', '', { json: { resourceType: 'Bundle', type: 'document' } }), 400, 'INVALID_INPUT')
    expectOutcome(
      await doctor('POST', '', { json: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...marker, managingOrganization: { reference: 'urn:uuid:nowhere' } }, request: { method: 'POST', url: 'Patient' } }] } }),
      400,
      'INVALID_INPUT',
      'invariant',
    )
  })

  it('runs conditional creates and deletes inside a transaction', async () => {
    const p = patient('Идемпотентова', ['Ия'])
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: p, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${snilsOf(p)}` } }] }
    const first = await doctor<Bundle>('POST', '', { json: bundle })
    const second = await doctor<Bundle>('POST', '', { json: bundle })
    expect(first.body.entry[0]!.response!.status).toBe('201')
    expect(second.body.entry[0]!.response!.status).toBe('200')
    const id = first.body.entry[0]!.resource!.id
    expect(second.body.entry[0]!.resource!.id).toBe(id)
    const del = await doctor<Bundle>('POST', '', { json: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `Patient/${id}` } }, { request: { method: 'GET', url: `Patient/${id}` } }] } })
    expectOutcome(del, 410, 'NOT_FOUND', 'deleted')
    expect((await doctor('GET', `Patient/${id}`)).status).toBe(200)
  })

  it('answers a batch entry by entry', async () => {
    const r = await doctor<Bundle>('POST', '', {
      json: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: patient('Пакетова', ['Ия']), request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Observation' }, request: { method: 'POST', url: 'Observation' } },
          { request: { method: 'GET', url: 'Patient/nope' } },
        ],
      },
    })
    expect(r.status).toBe(200)
    expect(r.body.type).toBe('batch-response')
    expect(r.body.entry.map((e) => e.response!.status)).toEqual(['201', '400', '404'])
    expect(r.body.entry[1]!.response!.outcome!.issue[0]!.expression![0]).toMatch(/^Bundle\.entry\[1\]/)
  })
})

describe('access by role and organisation', () => {
  it('lets registrars register patients and book, but not read clinical data', async () => {
    const p = await create(registrar, patient('Ролева', ['Ия']))
    await create(registrar, { resourceType: 'Appointment', status: 'booked', participant: [{ actor: { reference: `Patient/${p.id}` }, status: 'accepted' }], start: '2026-11-25T09:00:00+03:00', end: '2026-11-25T09:15:00+03:00' })
    await create(doctor, { resourceType: 'Condition', subject: { reference: `Patient/${p.id}` }, code: { coding: [{ system: FHIR_SYSTEMS.icd10, code: 'I10' }] } })
    expectOutcome(await registrar('GET', `Condition?patient=${p.id}`), 403, 'ACCESS_DENIED', 'forbidden')
    expectOutcome(await registrar('POST', 'Condition', { json: { resourceType: 'Condition', subject: { reference: `Patient/${p.id}` } } }), 403, 'ACCESS_DENIED', 'forbidden')
    expect(ids(await search(nurse, `Condition?patient=${p.id}`))).toHaveLength(1)
    expectOutcome(await nurse('POST', 'Condition', { json: { resourceType: 'Condition', subject: { reference: `Patient/${p.id}` } } }), 403, 'ACCESS_DENIED')
    await create(nurse, { resourceType: 'Observation', status: 'final', code: { text: 'Температура' }, subject: { reference: `Patient/${p.id}` } })
  })

  it('lets administrators keep the directory but not read patients', async () => {
    await create(admin, { resourceType: 'Organization', name: 'ГБУЗ «Поликлиника № 2»', identifier: [{ system: FHIR_SYSTEMS.ogrn, value: ORG_B }] })
    expectOutcome(await admin('GET', 'Patient'), 403, 'ACCESS_DENIED', 'forbidden')
    expectOutcome(await doctor('POST', 'Organization', { json: { resourceType: 'Organization', name: 'x' } }), 403, 'ACCESS_DENIED')
    expectOutcome(await admin('POST', 'Organization', { json: { resourceType: 'Organization', identifier: [{ system: FHIR_SYSTEMS.ogrn, value: '1027700132196' }] } }), 400, 'INVALID_INPUT')
  })

  it('hides one organisation\'s resources from another', async () => {
    const p = await create(doctor, patient('Чужова', ['Ия']))
    expectOutcome(await otherOrgDoctor('GET', `Patient/${p.id}`), 404, 'NOT_FOUND')
    expect(ids(await search(otherOrgDoctor, 'Patient?family=чужова'))).toEqual([])
    expectOutcome(await otherOrgDoctor('PUT', `Patient/${p.id}`, { json: p }), 403, 'ACCESS_DENIED')
    expectOutcome(await otherOrgDoctor('DELETE', `Patient/${p.id}`), 403, 'ACCESS_DENIED')
    const theirs = (await pullAll(otherOrgDoctor)).filter((k) => k.includes(p.id))
    expect(theirs).toEqual([])
    expect((await doctor('GET', `Patient/${p.id}`)).status).toBe(200)
  })
})

async function pullAll(client: Fhir): Promise<string[]> {
  const keys: string[] = []
  let path = `${FHIR}/_history?_count=500`
  for (;;) {
    const page = (await client<Bundle>('GET', path)).body
    keys.push(...page.entry.map((e) => e.fullUrl!))
    const next = linkOf(page, 'next')
    if (!next) return keys
    path = pathOf(next)
  }
}

describe('logs', () => {
  it('carry method, path and status but no names, СНИЛС, tokens or bodies', async () => {
    const lines: string[] = []
    const logged = await startTestPortal(portal.pki, { rateLimit: false, logStream: { write: (l: string) => void lines.push(l) } })
    try {
      const client = await fhirSession(logged, ['registrar'])
      const p = patient('Логова', ['Секретная'])
      const snils = snilsOf(p)
      await client('POST', 'Patient', { json: p })
      await client('GET', `Patient?name=${encodeURIComponent('Логова')}&identifier=${snils}`)
      await client('POST', 'Patient', { json: { ...p, birthDate: 'bad' } })
      // The "request completed" line is written after the answer has left: wait for it.
      await expect.poll(() => lines.join(''), { timeout: 2000 }).toContain('"statusCode":400')
      const text = lines.join('')
      expect(text).toContain('"path":"/api/v1/fhir/Patient"')
      expect(text).toContain('"statusCode":400')
      for (const secret of ['Логова', 'Секретная', snils, 'authorization', 'Bearer']) expect(text).not.toContain(secret)
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    } finally {
      await logged.close()
    }
  })
})
