// The demo seed (portal/src/fhir/seed.ts) against the real store and, where it matters, through
// the real FHIR API over HTTPS: counts, identifiers, the stored form and index rows, search, system
// history, determinism, reruns and the `portal seed` command. On PGlite and, with
// PORTAL_TEST_DATABASE_URL, on PostgreSQL.
import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FHIR_SYSTEMS, type FhirResourceType, FHIR_RESOURCE_TYPES } from '../../src/shared/fhir/systems'
import { formatSnils, isValidOms, isValidSnils } from '../../src/shared/validators'
import type { Db } from '../src/db'
import { migrate } from '../src/migrate'
import { DIAGNOSES, VITAL_SIGNS } from '../src/fhir/seed-data'
import { patientOms, patientSnils, practitionerCount, seedFhir, type SeedResult } from '../src/fhir/seed'
import { indexRows, sqlInstant, type Json } from '../src/fhir/search-params'
import { normalizeSearchText } from '../../src/shared/text'
import { versionBody, writeVersion } from '../src/fhir/store'
import { validateResource } from '../src/fhir/validate'
import { createTestPki, openTestDb, runPortalCli, startTestPortal, type TestPortal } from './support'
import { FHIR, ORG_A, fhirSession, linkOf, pathOf, type Bundle, type Fhir } from './fhir-support'

const N = 300
const SEED = 42
// Real time (appointments lie after it), fixed so that two runs can be compared byte for byte.
const NOW = new Date(Math.floor(Date.now() / 60_000) * 60_000)

interface Row {
  type: FhirResourceType
  id: string
  body: string
}
type Resource = Json & { resourceType: FhirResourceType; id: string; meta: { versionId: string; lastUpdated: string } }

let portal: TestPortal
let doctor: Fhir
let result: SeedResult
let rows: Row[]
let resources: Resource[]

const readRows = async (db: Db): Promise<Row[]> => db.query<Row>('SELECT type, id, body FROM fhir_resources ORDER BY type, id')
const ofType = <T extends Json = Resource>(type: FhirResourceType) => resources.filter((r) => r.resourceType === type) as unknown as T[]
const refOf = (r: Json): string | undefined => (r as { reference?: string }).reference

interface PatientBody extends Resource {
  identifier: Array<{ system: string; value: string }>
  name: Array<{ family: string; given: string[] }>
  gender: 'male' | 'female'
  birthDate: string
}
const identifierOf = (p: PatientBody, system: string) => p.identifier.find((i) => i.system === system)!.value

beforeAll(async () => {
  portal = await startTestPortal(await createTestPki(), { rateLimit: false })
  doctor = await fhirSession(portal, ['doctor'], ORG_A)
  result = await seedFhir(portal.db, { patients: N, organisationOgrn: ORG_A, seed: SEED, now: NOW })
  rows = await readRows(portal.db)
  resources = rows.map((r) => JSON.parse(r.body) as Resource)
})
afterAll(async () => {
  await portal?.close()
})

describe('seedFhir: what is stored', () => {
  it('writes the expected resources, each as version 1 in the store and in its history', async () => {
    const doctors = practitionerCount(N)
    expect(doctors).toBe(3)
    expect(result.counts).toMatchObject({ Patient: N, Organization: 1, Practitioner: doctors, PractitionerRole: doctors, Schedule: doctors, Slot: doctors * 4 * 8 })
    for (const type of FHIR_RESOURCE_TYPES) expect(result.counts[type], type).toBeGreaterThan(0)
    expect(result.counts.Encounter).toBeLessThanOrEqual(3 * N)
    expect(result.resources).toBe(Object.values(result.counts).reduce((a, b) => a + b, 0))

    const stored = await portal.db.query<{ type: FhirResourceType; n: number }>('SELECT type, count(*)::int AS n FROM fhir_resources GROUP BY type')
    expect(Object.fromEntries(stored.map((s) => [s.type, s.n]))).toEqual(Object.fromEntries(Object.entries(result.counts).filter(([, n]) => n > 0)))
    const [history] = await portal.db.query<{ all: number; same: number }>(
      `SELECT (SELECT count(*)::int FROM fhir_history) AS all,
              count(*)::int AS same
       FROM fhir_history h JOIN fhir_resources r USING (type, id)
       WHERE h.body = r.body AND h.version = 1 AND r.version = 1 AND h.method = 'POST' AND NOT h.deleted AND NOT r.deleted
         AND h.org = $1 AND r.org = $1 AND h.last_updated = r.last_updated AND r.last_updated = $2`,
      [ORG_A, NOW],
    )
    expect(history).toEqual({ all: result.resources, same: result.resources })
  })

  it('links everything: each reference points at a seeded resource, each patient has 0–3 visits', () => {
    const known = new Set(resources.map((r) => `${r.resourceType}/${r.id}`))
    const dangling: string[] = []
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk)
      if (!v || typeof v !== 'object') return
      const ref = refOf(v as Json)
      if (ref !== undefined && !known.has(ref)) dangling.push(ref)
      Object.values(v).forEach(walk)
    }
    resources.forEach(walk)
    expect(dangling).toEqual([])
    const visits = new Map<string, number>()
    for (const e of ofType<{ subject: { reference: string } } & Json>('Encounter')) visits.set(e.subject.reference, (visits.get(e.subject.reference) ?? 0) + 1)
    expect(Math.max(...visits.values())).toBeLessThanOrEqual(3)
    expect(visits.size).toBeLessThan(N) // some patients never came
    expect(visits.size).toBeGreaterThan(N / 2)
  })

  it('gives every patient a valid СНИЛС and полис ОМС, unique across the run', () => {
    const patients = ofType<PatientBody>('Patient')
    const snils = patients.map((p) => identifierOf(p, FHIR_SYSTEMS.snils))
    const oms = patients.map((p) => identifierOf(p, FHIR_SYSTEMS.oms))
    expect(snils.filter((s) => !isValidSnils(s))).toEqual([])
    expect(oms.filter((s) => !isValidOms(s))).toEqual([])
    expect(new Set(snils).size).toBe(N)
    expect(new Set(oms).size).toBe(N)
    expect(new Set(snils)).toEqual(new Set(Array.from({ length: N }, (_, i) => patientSnils(SEED, i))))
    const doctorSnils = ofType<PatientBody>('Practitioner').map((p) => identifierOf(p, FHIR_SYSTEMS.snils))
    expect(doctorSnils.filter((s) => !isValidSnils(s) || snils.includes(s))).toEqual([])
  })

  it('derives identifiers that stay unique and valid for a million patients', () => {
    const million = 1_000_000
    const snils = new Set<string>()
    const oms = new Set<string>()
    for (let i = 0; i < million; i++) {
      snils.add(patientSnils(SEED, i))
      oms.add(patientOms(SEED, i))
    }
    expect(snils.size).toBe(million)
    expect(oms.size).toBe(million)
    for (let i = 0; i < million; i += 9973) {
      expect(isValidSnils(patientSnils(SEED, i)), patientSnils(SEED, i)).toBe(true)
      expect(isValidOms(patientOms(SEED, i)), patientOms(SEED, i)).toBe(true)
    }
  }, 120_000)

  it('passes the portal validator, every resource of every type', () => {
    const failures: string[] = []
    for (const r of resources) {
      try {
        validateResource(r, { type: r.resourceType, id: r.id })
      } catch (e) {
        failures.push(`${r.resourceType}/${r.id}: ${(e as Error).message}`)
      }
    }
    expect(failures).toEqual([])
    expect(new Set(resources.map((r) => r.resourceType))).toEqual(new Set(FHIR_RESOURCE_TYPES))
  })

  it('stores bodies in the form writeVersion writes, with the index rows indexRows gives', async () => {
    for (const [i, r] of resources.entries()) {
      expect(Object.keys(r).slice(0, 3)).toEqual(['resourceType', 'id', 'meta'])
      expect(r.meta).toEqual({ versionId: '1', lastUpdated: NOW.toISOString() })
      expect(rows[i]!.body).toBe(versionBody(r, r.id, 1, NOW))
    }
    const key = (type: string, id: string) => `${type}/${id}`
    const actual = new Map<string, string[]>()
    const push = (k: string, v: string) => actual.set(k, [...(actual.get(k) ?? []), v])
    for (const s of await portal.db.query<{ type: string; id: string; param: string; value: string }>('SELECT type, id, param, value FROM fhir_idx_string')) push(key(s.type, s.id), `s ${s.param}=${s.value}`)
    for (const t of await portal.db.query<{ type: string; id: string; param: string; system: string; value: string }>('SELECT type, id, param, system, value FROM fhir_idx_token')) push(key(t.type, t.id), `t ${t.param}=${t.system}|${t.value}`)
    for (const d of await portal.db.query<{ type: string; id: string; param: string; lo: Date; hi: Date }>('SELECT type, id, param, lo, hi FROM fhir_idx_date')) {
      push(key(d.type, d.id), `d ${d.param}=${sqlInstant(d.lo)}..${sqlInstant(d.hi)}`)
    }
    let compared = 0
    for (const r of resources) {
      const x = indexRows(r.resourceType, r)
      const expected = [
        ...x.strings.map((s) => `s ${s.param}=${s.value}`),
        ...x.tokens.map((t) => `t ${t.param}=${t.system}|${t.value}`),
        ...x.dates.map((d) => `d ${d.param}=${sqlInstant(d.lo)}..${sqlInstant(d.hi)}`),
      ].sort()
      expect((actual.get(key(r.resourceType, r.id)) ?? []).sort(), key(r.resourceType, r.id)).toEqual(expected)
      compared += expected.length
    }
    expect(compared).toBe([...actual.values()].reduce((n, v) => n + v.length, 0))
  })

  it('matches, row for row, what writeVersion itself writes for the same resource', async () => {
    const sample = FHIR_RESOURCE_TYPES.map((t) => resources.find((r) => r.resourceType === t)!)
    const snapshot = async (q: Pick<Db, 'query'>, r: Resource) => ({
      resource: await q.query('SELECT version, last_updated, deleted, org, body FROM fhir_resources WHERE type = $1 AND id = $2', [r.resourceType, r.id]),
      history: await q.query('SELECT version, last_updated, deleted, org, method, body FROM fhir_history WHERE type = $1 AND id = $2', [r.resourceType, r.id]),
      strings: await q.query('SELECT param, value FROM fhir_idx_string WHERE type = $1 AND id = $2 ORDER BY param, value', [r.resourceType, r.id]),
      tokens: await q.query('SELECT param, system, value FROM fhir_idx_token WHERE type = $1 AND id = $2 ORDER BY param, system, value', [r.resourceType, r.id]),
      dates: await q.query('SELECT param, lo, hi FROM fhir_idx_date WHERE type = $1 AND id = $2 ORDER BY param, lo, hi', [r.resourceType, r.id]),
    })
    const ROLLBACK = new Error('rollback')
    for (const r of sample) {
      const seeded = await snapshot(portal.db, r)
      // Write the same resource as a create through the store, take its rows, and roll back.
      let rewritten: unknown = null
      await portal.db
        .transaction(async (tx) => {
          for (const table of ['fhir_resources', 'fhir_history', 'fhir_idx_string', 'fhir_idx_token', 'fhir_idx_date']) {
            await tx.query(`DELETE FROM ${table} WHERE type = $1 AND id = $2`, [r.resourceType, r.id])
          }
          const { meta: _meta, ...plain } = r
          await writeVersion(tx, { type: r.resourceType, id: r.id, resource: plain, method: 'POST', now: NOW, scope: ORG_A, owner: ORG_A, ifMatch: null, mustBeNew: true })
          rewritten = await snapshot(tx, r)
          throw ROLLBACK
        })
        .catch((e: unknown) => {
          if (e !== ROLLBACK) throw e
        })
      expect(rewritten, `${r.resourceType}/${r.id}`).toEqual(seeded)
      expect(seeded.resource).toHaveLength(1)
    }
    expect(await readRows(portal.db)).toEqual(rows)
  })

  it('keeps the data plausible: Russian names agree with sex, codes and values are real', () => {
    for (const p of ofType<PatientBody>('Patient')) {
      const [name] = p.name
      const [, patronymic] = name!.given
      expect(`${name!.family} ${name!.given.join(' ')}`).toMatch(/^[А-ЯЁ][а-яё-]+ [А-ЯЁ][а-яё-]+ [А-ЯЁ][а-яё-]+$/)
      if (p.gender === 'female') {
        expect(name!.family).toMatch(/[ая]$/)
        expect(patronymic).toMatch(/(вна|чна)$/)
      } else {
        expect(name!.family).not.toMatch(/[ая]$/)
        expect(patronymic).toMatch(/ич$/)
      }
      expect(Date.parse(p.birthDate)).toBeLessThan(NOW.getTime())
    }
    const icd = new Map(DIAGNOSES.map((d) => [d.code, d.display]))
    for (const c of ofType<{ code: { coding: Array<{ system: string; code: string; display: string }> } } & Json>('Condition')) {
      const [coding] = c.code.coding
      expect(coding!.system).toBe(FHIR_SYSTEMS.icd10)
      expect(coding!.display).toBe(icd.get(coding!.code))
    }
    const ranges: Record<string, [number, number]> = { '8480-6': [70, 200], '8462-4': [35, 130], '8867-4': [50, 160], '8310-5': [35.5, 40.5], '8302-2': [45, 200], '29463-7': [2, 200] }
    const units = new Map(Object.values(VITAL_SIGNS).map((v) => [v.loinc, v.ucum]))
    for (const o of ofType<{ code: { coding: Array<{ code: string }> }; valueQuantity: { value: number; code: string; system: string } } & Json>('Observation')) {
      const loinc = o.code.coding[0]!.code
      const [lo, hi] = ranges[loinc]!
      expect(o.valueQuantity.value, loinc).toBeGreaterThanOrEqual(lo)
      expect(o.valueQuantity.value, loinc).toBeLessThanOrEqual(hi)
      expect(o.valueQuantity).toMatchObject({ system: 'http://unitsofmeasure.org', code: units.get(loinc) })
    }
    for (const c of ofType<{ onsetDateTime: string; recordedDate: string } & Json>('Condition')) {
      expect(c.onsetDateTime <= c.recordedDate.slice(0, 10), String(c.id)).toBe(true)
    }
    for (const e of ofType<{ period: { start: string; end: string }; class: Json } & Json>('Encounter')) {
      expect(Date.parse(e.period.start)).toBeLessThan(Date.parse(e.period.end))
      expect(Date.parse(e.period.end)).toBeLessThan(NOW.getTime())
      expect(e.class).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' })
    }
    for (const a of ofType<{ start: string; participant: Array<{ actor: Json }> } & Json>('Appointment')) {
      expect(Date.parse(a.start)).toBeGreaterThan(NOW.getTime())
      expect(a.participant.map((p) => refOf(p.actor)!.split('/')[0])).toEqual(['Patient', 'Practitioner'])
    }
    for (const d of ofType<{ content: Array<{ attachment: { title: string } }> } & Json>('DocumentReference')) {
      expect(d.content[0]!.attachment.title).toMatch(/^[А-ЯЁ].* от \d{2}\.\d{2}\.\d{4}$/)
    }
    for (const m of ofType<{ medicationCodeableConcept: { text: string } } & Json>('MedicationRequest')) expect(m.medicationCodeableConcept.text).toMatch(/^[А-ЯЁ]/)
  })
})

describe('seeded data through the FHIR API', () => {
  const search = async (query: string) => {
    const r = await doctor<Bundle>('GET', query)
    expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status: 200 })
    return r.body
  }
  const idsOf = (b: Bundle) => b.entry.map((e) => e.resource!.id).sort()
  /** The seeded patient with the most visits, and the ids of what refers to it by type. */
  const busiest = () => {
    const byPatient = new Map<string, Map<FhirResourceType, string[]>>()
    for (const r of resources) {
      const refs = [refOf((r.subject as Json | undefined) ?? {}), ...((r.participant as Array<{ actor?: Json }> | undefined) ?? []).map((p) => refOf(p.actor ?? {}))]
      const patientRef = refs.find((x) => x?.startsWith('Patient/'))
      if (!patientRef) continue
      const m = byPatient.get(patientRef) ?? new Map<FhirResourceType, string[]>()
      m.set(r.resourceType, [...(m.get(r.resourceType) ?? []), r.id].sort())
      byPatient.set(patientRef, m)
    }
    const [ref, related] = [...byPatient.entries()].sort((a, b) => (b[1].get('Encounter')?.length ?? 0) - (a[1].get('Encounter')?.length ?? 0) || (a[0] < b[0] ? -1 : 1))[0]!
    const patient = ofType<PatientBody>('Patient').find((p) => `Patient/${p.id}` === ref)!
    return { patient, related }
  }

  it('finds a seeded patient by Cyrillic name prefix, by СНИЛС, by полис ОМС and by birth date', async () => {
    const { patient } = busiest()
    const snils = identifierOf(patient, FHIR_SYSTEMS.snils)
    expect(idsOf(await search(`Patient?identifier=${encodeURIComponent(`${FHIR_SYSTEMS.snils}|${snils}`)}`))).toEqual([patient.id])
    expect(idsOf(await search(`Patient?identifier=${encodeURIComponent(`${FHIR_SYSTEMS.snils}|${formatSnils(snils)}`)}`))).toEqual([patient.id])
    expect(idsOf(await search(`Patient?identifier=${encodeURIComponent(`${FHIR_SYSTEMS.oms}|${identifierOf(patient, FHIR_SYSTEMS.oms)}`)}`))).toEqual([patient.id])

    // Upper case prefix of the surname: matched case-insensitively against every name part.
    const name = patient.name[0]!
    const prefix = name.family.slice(0, 3).toUpperCase()
    const expected = ofType<PatientBody>('Patient')
      .filter((p) => [p.name[0]!.family, ...p.name[0]!.given].some((part) => normalizeSearchText(part).startsWith(normalizeSearchText(prefix))))
      .map((p) => p.id)
      .sort()
    const byPrefix = await search(`Patient?name=${encodeURIComponent(prefix)}&_count=500&_total=accurate`)
    expect(idsOf(byPrefix)).toEqual(expected)
    expect(byPrefix.total).toBe(expected.length)
    expect(idsOf(await search(`Patient?family=${encodeURIComponent(name.family)}&given=${encodeURIComponent(name.given[1]!)}`))).toContain(patient.id)

    const sameDay = ofType<PatientBody>('Patient').filter((p) => p.birthDate === patient.birthDate).map((p) => p.id).sort()
    expect(idsOf(await search(`Patient?birthdate=${patient.birthDate}`))).toEqual(sameDay)
    expect(idsOf(await search(`Patient?birthdate=${patient.birthDate}&gender=${patient.gender}&name=${encodeURIComponent(prefix)}`))).toContain(patient.id)
  })

  it("finds the patient's encounters, observations and the rest by patient=", async () => {
    const { patient, related } = busiest()
    expect(related.get('Encounter')!.length).toBeGreaterThanOrEqual(2)
    for (const type of ['Encounter', 'Condition', 'Observation', 'MedicationRequest', 'DocumentReference', 'Appointment'] as const) {
      expect(idsOf(await search(`${type}?patient=${patient.id}&_count=500`)), type).toEqual(related.get(type) ?? [])
    }
    expect(idsOf(await search(`Encounter?subject=Patient/${patient.id}&status=finished`))).toEqual(related.get('Encounter'))
    // Blood pressure is measured at every visit.
    const systolic = await search(`Observation?patient=${patient.id}&code=${encodeURIComponent('http://loinc.org|8480-6')}`)
    expect(systolic.entry).toHaveLength(related.get('Encounter')!.length)
    const hypertension = ofType<{ code: { coding: Array<{ code: string }> } } & Json>('Condition').filter((c) => c.code.coding[0]!.code === 'I10').length
    const i10 = await search(`Condition?code=${encodeURIComponent(`${FHIR_SYSTEMS.icd10}|I10`)}&_summary=count`)
    expect(i10.total).toBe(hypertension)
  })

  it('serves every seeded version exactly once through system _history', async () => {
    const keys: string[] = []
    let path = `${FHIR}/_history?_count=500`
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(100)
      const page = (await doctor<Bundle>('GET', path)).body
      expect(page.type).toBe('history')
      for (const e of page.entry) keys.push(`${e.fullUrl!.split('/fhir/')[1]}@${e.response!.etag}`)
      const next = linkOf(page, 'next')
      if (!next) break
      path = pathOf(next)
    }
    expect(keys).toHaveLength(result.resources)
    expect(new Set(keys)).toEqual(new Set(resources.map((r) => `${r.resourceType}/${r.id}@W/"1"`)))
  })

  it('reads a seeded resource as stored and updates it like any other', async () => {
    const { patient } = busiest()
    const read = await doctor<Resource>('GET', `Patient/${patient.id}`)
    expect(read.status).toBe(200)
    expect(read.headers.etag).toBe('W/"1"')
    expect(read.body).toEqual(patient)
    const renamed = { ...patient, name: [{ ...patient.name[0]!, family: 'Переименованная' }] }
    const put = await doctor<Resource>('PUT', `Patient/${patient.id}`, { json: renamed, headers: { 'if-match': 'W/"1"' } })
    expect({ status: put.status, text: put.text.slice(0, 300) }).toMatchObject({ status: 200 })
    expect(put.body.meta.versionId).toBe('2')
    expect(idsOf(await search(`Patient?family=${encodeURIComponent('переименованная')}`))).toEqual([patient.id])
    expect(idsOf(await search(`Patient?family=${encodeURIComponent(patient.name[0]!.family)}`))).not.toContain(patient.id)
  })
})

describe('determinism and reruns', () => {
  it('gives the same data for the same seed whatever the batch size, and other data for another seed', async () => {
    const same = await openTestDb()
    const other = await openTestDb()
    try {
      await migrate(same)
      await migrate(other)
      const again = await seedFhir(same, { patients: N, organisationOgrn: ORG_A, seed: SEED, now: NOW, batchSize: 7 })
      expect(again.counts).toEqual(result.counts)
      // `rows` was read right after the first run, before the API test renamed a patient.
      expect(await readRows(same)).toEqual(rows)

      await seedFhir(other, { patients: 50, organisationOgrn: ORG_A, seed: SEED + 1, now: NOW })
      const otherRows = await readRows(other)
      const ids = new Set(rows.map((r) => r.id))
      expect(otherRows.filter((r) => ids.has(r.id))).toEqual([])
      const otherSnils = otherRows.filter((r) => r.type === 'Patient').map((r) => identifierOf(JSON.parse(r.body) as PatientBody, FHIR_SYSTEMS.snils))
      const snils = new Set(ofType<PatientBody>('Patient').map((p) => identifierOf(p, FHIR_SYSTEMS.snils)))
      expect(otherSnils.filter((s) => snils.has(s))).toEqual([])
    } finally {
      await same.close()
      await other.close()
    }
  }, 120_000)

  it('refuses the same seed twice in one database, and adds another seed under the same Organization', async () => {
    const count = async () => (await portal.db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_history'))[0]!.n
    const before = await count()
    await expect(seedFhir(portal.db, { patients: 5, organisationOgrn: ORG_A, seed: SEED })).rejects.toThrow('В базе уже есть данные, созданные с --seed 42')
    expect(await count()).toBe(before)
    const more = await seedFhir(portal.db, { patients: 5, organisationOgrn: ORG_A, seed: 7 })
    expect(more).toMatchObject({ organizationCreated: false, organizationId: result.organizationId })
    expect(more.counts).toMatchObject({ Organization: 0, Patient: 5, Practitioner: 3 })
    expect(await count()).toBe(before + more.resources)
    const orgRefs = (await portal.db.query<{ body: string }>("SELECT body FROM fhir_resources WHERE type = 'Patient'")).map(
      (r) => (JSON.parse(r.body) as { managingOrganization: { reference: string } }).managingOrganization.reference,
    )
    expect(new Set(orgRefs)).toEqual(new Set([`Organization/${result.organizationId}`]))
  })
})

describe('portal seed (the command)', () => {
  let tmp: string
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'portal-seed-'))
  })
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  const run = (args: string[]) => runPortalCli(args)

  it('seeds a data folder with a Russian report, and refuses a rerun and bad arguments', async () => {
    const data = ['--data', join(tmp, 'data')]
    const first = await run(['seed', '--patients', '25', '--ogrn', ORG_A, '--seed', '3', ...data])
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' })
    expect(first.stdout).toContain(`Пациентов: 25, ОГРН ${ORG_A}, --seed 3`)
    expect(first.stdout).toMatch(/пациенты: 25 из 25 \(100 %\)/)
    expect(first.stdout).toMatch(/Готово за \d+,\d с\. Записано ресурсов FHIR: \d+/)
    expect(first.stdout).toMatch(/ {2}25 {2}Patient — пациенты\n/)
    expect(first.stdout).toMatch(/ {3}3 {2}Practitioner — врачи\n/)

    const rerun = await run(['seed', '--patients', '25', '--ogrn', ORG_A, '--seed', '3', ...data])
    expect(rerun.code).toBe(1)
    expect(rerun.stderr).toContain('Ошибка: В базе уже есть данные, созданные с --seed 3')

    const bad = await run(['seed', '--patients', 'много', ...data])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Неверный --patients: много')
    const badOgrn = await run(['seed', '--patients', '5', '--org', '1027700132196', ...data])
    expect(badOgrn.code).toBe(2)
    expect(badOgrn.stderr).toContain('Неверный ОГРН: 1027700132196')
  }, 120_000)
})
