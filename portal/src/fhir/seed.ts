// Realistic Russian demo data for the FHIR store: one organisation, its doctors with roles and
// schedules, and N patients with a few years of outpatient history. Rows are written in bulk (one
// INSERT … SELECT FROM unnest(…) per table and batch) in exactly the form writeVersion writes them,
// so search, read and _history see them as if they had come through the API.
//
// Deterministic: every patient draws from its own faker stream seeded with (seed, index), so the
// data do not depend on the batch size, and the same seed (and `now`) gives the same data.
// Memory stays flat: patients are generated and written one batch (one transaction) at a time.
import { Faker, base, en, ru } from '@faker-js/faker'
import { FHIR_SYSTEMS, type FhirResourceType, FHIR_RESOURCE_TYPES } from '../../../src/shared/fhir/systems'
import { ogrnWithChecksum, omsWithChecksum, snilsWithChecksum } from '../../../src/shared/validators'
import type { Db, Queryable } from '../db'
import { DEMO_ORGANISATIONS } from '../../../scripts/demo/people'
import { findOrganisation } from '../organisations'
import { indexRows, sqlInstant, type Json } from './search-params'
import { DEFAULT_SEED, MAX_SEED_PATIENTS } from './seed-options'
import { versionBody } from './store'
import { DIAGNOSES, DOCUMENT_KINDS, LOINC, POSITIONS, UCUM, VITAL_SIGNS, type Diagnosis, type Position, type VitalSign } from './seed-data'

export interface SeedOptions {
  patients: number
  /** ОГРН of the organisation that owns every seeded resource (the access scope). */
  organisationOgrn: string
  /** Seed of the generator; the same seed gives the same data. Default 42. */
  seed?: number
  /** Patients per transaction. Default 1000. */
  batchSize?: number
  /**
   * The moment the data are "as of": visits lie before it, appointments and slots after it, and
   * every version's meta.lastUpdated is it. Default: the real time (lastUpdated then per batch).
   */
  now?: Date
  onProgress?: (p: SeedProgress) => void
}

export interface SeedProgress {
  patientsDone: number
  patients: number
  resources: number
  elapsedMs: number
}

export interface SeedResult {
  organizationId: string
  /** false when an Organization with this ОГРН already existed and was referenced instead. */
  organizationCreated: boolean
  practitioners: number
  counts: Record<FhirResourceType, number>
  resources: number
  elapsedMs: number
}

const DEFAULT_BATCH = 1000
const PRACTITIONER_BATCH = 200
/** One doctor per this many patients, at least MIN_PRACTITIONERS. */
const PATIENTS_PER_PRACTITIONER = 500
const MIN_PRACTITIONERS = 3

const DAY = 86_400_000
const YEAR = 365.25 * DAY
/** Moscow has been UTC+3 all year since 2014. */
const MSK = 3 * 3600_000
const SCHEDULE_DAYS = 4
const SLOTS_PER_DAY = 8
const SLOT_MINUTES = 30

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode'
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category'
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical'
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status'
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category'
const ORGANIZATION_TYPE = 'http://terminology.hl7.org/CodeSystem/organization-type'

// Faker streams: each entity kind draws from its own, so adding doctors does not shift patients.
const STREAM_ORG = 0
const STREAM_PRACTITIONER = 1
const STREAM_PATIENT = 2

// --- identifiers -----------------------------------------------------------------------------

/** Multiplier of the index permutations below: coprime with 10^n, so i → (i·A + c) mod 10^n is a bijection. */
const PERMUTE = 387_419
const SNILS_BLOCK = 100_000_000

/**
 * A valid СНИЛС unique for every patient index of a run: the first digit (1–8) and a tenth of the
 * block come from the seed, so runs with different seeds rarely share a number either. The
 * permutation only makes neighbouring patients' numbers look unrelated. 9xx… is the doctors'.
 */
export function patientSnils(seed: number, index: number): string {
  const block = 1 + (seed % 8)
  const offset = (Math.floor(seed / 8) % 10) * MAX_SEED_PATIENTS
  return snilsWithChecksum(String(block * SNILS_BLOCK + (((index + offset) * PERMUTE + 12_345) % SNILS_BLOCK)))
}

export function practitionerSnils(seed: number, index: number): string {
  return snilsWithChecksum(String(9 * SNILS_BLOCK + (((index + (seed % 5000) * 20_000) * PERMUTE + 54_321) % SNILS_BLOCK)))
}

/** A valid 16-digit полис ОМС unique for every patient index of a run (77: Moscow-style prefix). */
export function patientOms(seed: number, index: number): string {
  const span = 100_000_000_000
  return omsWithChecksum(`77${String(seed % 100).padStart(2, '0')}${String((index * PERMUTE + 54_321) % span).padStart(11, '0')}`)
}

// --- dates (Moscow time) ---------------------------------------------------------------------

/** 'YYYY-MM-DD' of the Moscow day of an instant. */
const mskDate = (ms: number) => new Date(ms + MSK).toISOString().slice(0, 10)
/** 'YYYY-MM-DDTHH:mm:ss+03:00'. */
const mskDateTime = (ms: number) => `${new Date(ms + MSK).toISOString().slice(0, 19)}+03:00`
/** 'ДД.ММ.ГГГГ'. */
const ruDate = (ms: number) => {
  const [y, m, d] = mskDate(ms).split('-')
  return `${d}.${m}.${y}`
}
/** 00:00 Moscow time of the day of an instant. */
const mskMidnight = (ms: number) => Math.floor((ms + MSK) / DAY) * DAY - MSK
/** 0 = Sunday. */
const mskWeekday = (ms: number) => new Date(ms + MSK).getUTCDay()

// --- the bulk writer -------------------------------------------------------------------------

/** One transaction's rows, kept as column arrays: each statement gets one parameter per column. */
class RowBatch {
  private readonly types: string[] = []
  private readonly ids: string[] = []
  private readonly bodies: string[] = []
  private readonly str = { type: [] as string[], param: [] as string[], value: [] as string[], id: [] as string[] }
  private readonly tok = { type: [] as string[], param: [] as string[], system: [] as string[], value: [] as string[], id: [] as string[] }
  private readonly dat = { type: [] as string[], param: [] as string[], lo: [] as string[], hi: [] as string[], id: [] as string[] }
  readonly counts = new Map<FhirResourceType, number>()

  constructor(readonly lastUpdated: Date) {}

  get size(): number {
    return this.ids.length
  }

  add(type: FhirResourceType, resource: Json & { id: string }): void {
    const id = resource.id
    this.types.push(type)
    this.ids.push(id)
    this.bodies.push(versionBody(resource, id, 1, this.lastUpdated))
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1)
    const rows = indexRows(type, resource)
    for (const r of rows.strings) {
      this.str.type.push(type)
      this.str.param.push(r.param)
      this.str.value.push(r.value)
      this.str.id.push(id)
    }
    for (const r of rows.tokens) {
      this.tok.type.push(type)
      this.tok.param.push(r.param)
      this.tok.system.push(r.system)
      this.tok.value.push(r.value)
      this.tok.id.push(id)
    }
    for (const r of rows.dates) {
      this.dat.type.push(type)
      this.dat.param.push(r.param)
      this.dat.lo.push(sqlInstant(r.lo))
      this.dat.hi.push(sqlInstant(r.hi))
      this.dat.id.push(id)
    }
  }

  /** Two statements whatever the batch size; history rows keep the order the resources were added in. */
  async write(q: Queryable, org: string): Promise<void> {
    if (this.size === 0) return
    await q.query(
      `WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS v(type, id, body, n)),
            h AS (INSERT INTO fhir_history (type, id, version, last_updated, deleted, org, method, body)
                  SELECT type, id, 1, $4::timestamptz, false, $5::text, 'POST', body FROM v ORDER BY n)
       INSERT INTO fhir_resources (type, id, version, last_updated, deleted, org, body)
       SELECT type, id, 1, $4::timestamptz, false, $5::text, body FROM v`,
      [this.types, this.ids, this.bodies, this.lastUpdated, org],
    )
    await q.query(
      `WITH s AS (INSERT INTO fhir_idx_string (type, param, value, id)
                  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])),
            t AS (INSERT INTO fhir_idx_token (type, param, system, value, id)
                  SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[]))
       INSERT INTO fhir_idx_date (type, param, lo, hi, id)
       SELECT * FROM unnest($10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[], $14::text[])`,
      [
        this.str.type, this.str.param, this.str.value, this.str.id,
        this.tok.type, this.tok.param, this.tok.system, this.tok.value, this.tok.id,
        this.dat.type, this.dat.param, this.dat.lo, this.dat.hi, this.dat.id,
      ],
    )
  }
}

// --- generation ------------------------------------------------------------------------------

type Sex = 'male' | 'female'
type Reference = { reference: string; display?: string }

interface Doctor {
  id: string
  ref: Reference
  position: Position
}

interface Context {
  seed: number
  /** The "as of" instant (ms). */
  asOf: number
  org: Reference
  doctors: Doctor[]
  /** Indexes into doctors: first contact for adults, for children, and everyone else. */
  primary: number[]
  pediatric: number[]
  specialists: number[]
}

interface Person {
  family: string
  given: string
  patronymic: string
  sex: Sex
}

function person(f: Faker, sex: Sex): Person {
  return { family: f.person.lastName(sex), given: f.person.firstName(sex), patronymic: f.person.middleName(sex), sex }
}

const fullName = (p: Person) => `${p.family} ${p.given} ${p.patronymic}`
const humanName = (p: Person) => ({ use: 'official', text: fullName(p), family: p.family, given: [p.given, p.patronymic] })
const mobile = (f: Faker) => `+79${f.string.numeric(9)}`

function moscowAddress(f: Faker): Json {
  const line = `${f.location.street()}, д. ${f.number.int({ min: 1, max: 150 })}${f.datatype.boolean(0.2) ? `, корп. ${f.number.int({ min: 1, max: 5 })}` : ''}, кв. ${f.number.int({ min: 1, max: 400 })}`
  const postalCode = String(f.number.int({ min: 101_000, max: 129_399 }))
  return { use: 'home', type: 'physical', text: `${postalCode}, г. Москва, ${line}`, line: [line], city: 'Москва', state: 'Москва', postalCode, country: 'RU' }
}

/** What the register (or the built-in demo list) knows of the organisation. */
interface KnownOrganisation {
  name: string
  inn: string
  shortName?: string | null
  address?: string | null
}

function organizationResource(f: Faker, ogrn: string, registered: KnownOrganisation | null): Json & { id: string } {
  const name = registered?.name ?? `ГБУЗ «Городская поликлиника № ${f.number.int({ min: 2, max: 220 })} ДЗМ»`
  const address = registered?.address ?? `г. Москва, ${f.location.street()}, д. ${f.number.int({ min: 1, max: 90 })}`
  return {
    resourceType: 'Organization',
    id: f.string.uuid(),
    identifier: [
      { system: FHIR_SYSTEMS.ogrn, value: ogrn },
      ...(registered?.inn ? [{ system: FHIR_SYSTEMS.inn, value: registered.inn }] : []),
    ],
    active: true,
    type: [{ coding: [{ system: ORGANIZATION_TYPE, code: 'prov', display: 'Healthcare Provider' }], text: 'Медицинская организация' }],
    name,
    ...(registered?.shortName ? { alias: [registered.shortName] } : {}),
    telecom: [{ system: 'phone', value: `+7495${f.string.numeric(7)}`, use: 'work' }],
    address: [{ use: 'work', type: 'physical', text: address, city: 'Москва', country: 'RU' }],
  }
}

/** Practitioner, PractitionerRole, Schedule and Slots for the next few working days. */
function addDoctor(f: Faker, ctx: Pick<Context, 'seed' | 'asOf' | 'org'>, index: number, out: RowBatch | null): Doctor {
  f.seed([ctx.seed, STREAM_PRACTITIONER, index])
  const position = POSITIONS[index % POSITIONS.length]!
  const sex: Sex = f.datatype.boolean(0.7) ? 'female' : 'male'
  const p = person(f, sex)
  const id = f.string.uuid()
  const ref = { reference: `Practitioner/${id}`, display: fullName(p) }
  const doctor: Doctor = { id, ref, position }
  if (!out) return doctor
  out.add('Practitioner', {
    resourceType: 'Practitioner',
    id,
    identifier: [{ system: FHIR_SYSTEMS.snils, value: practitionerSnils(ctx.seed, index) }],
    active: true,
    name: [humanName(p)],
    telecom: [{ system: 'phone', value: `+7495${f.string.numeric(7)}`, use: 'work' }],
    gender: sex,
    birthDate: mskDate(ctx.asOf - f.number.int({ min: 26, max: 66 }) * YEAR - f.number.int({ min: 0, max: 364 }) * DAY),
    qualification: [{ code: { text: position.specialty } }],
  })
  const roleId = f.string.uuid()
  out.add('PractitionerRole', {
    resourceType: 'PractitionerRole',
    id: roleId,
    active: true,
    practitioner: ref,
    organization: ctx.org,
    code: [{ text: position.title }],
    specialty: [{ text: position.specialty }],
    availableTime: [{ daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri'], availableStartTime: '08:00:00', availableEndTime: '20:00:00' }],
  })
  // Working days from tomorrow; morning or afternoon reception by the doctor's shift.
  const days: number[] = []
  for (let day = mskMidnight(ctx.asOf) + DAY; days.length < SCHEDULE_DAYS; day += DAY) {
    const wd = mskWeekday(day)
    if (wd !== 0 && wd !== 6) days.push(day)
  }
  const scheduleId = f.string.uuid()
  const horizonEnd = days.at(-1)! + DAY
  out.add('Schedule', {
    resourceType: 'Schedule',
    id: scheduleId,
    active: true,
    serviceType: [{ text: position.visit }],
    specialty: [{ text: position.specialty }],
    actor: [ref, { reference: `PractitionerRole/${roleId}`, display: position.title }],
    planningHorizon: { start: mskDateTime(days[0]!), end: mskDateTime(horizonEnd) },
    comment: `Запись на приём: ${position.title.toLowerCase()} ${fullName(p)}`,
  })
  const shiftStart = index % 2 === 0 ? 8 * 3600_000 : 14 * 3600_000
  for (const day of days) {
    for (let s = 0; s < SLOTS_PER_DAY; s++) {
      const start = day + shiftStart + s * SLOT_MINUTES * 60_000
      out.add('Slot', {
        resourceType: 'Slot',
        id: f.string.uuid(),
        schedule: { reference: `Schedule/${scheduleId}` },
        serviceType: [{ text: position.visit }],
        status: f.datatype.boolean(0.45) ? 'busy' : 'free',
        start: mskDateTime(start),
        end: mskDateTime(start + SLOT_MINUTES * 60_000),
      })
    }
  }
  return doctor
}

const quantity = (v: VitalSign, value: number) => ({ value, unit: v.unit, system: UCUM, code: v.ucum })
const round1 = (x: number) => Math.round(x * 10) / 10

/** A patient's stable body measures and their blood pressure tendency. */
interface Physique {
  adultHeight: number
  bmi: number
  hypertensive: boolean
}

/** Vital signs at a visit, plausible for the age at that visit. */
function vitals(f: Faker, age: number, sex: Sex, body: Physique, fever: boolean): Record<VitalSign['key'], number> {
  const child = age < 18
  const height = age < 1 ? 50 + age * 25 + f.number.int({ min: -2, max: 2 }) : Math.min(body.adultHeight, 76 + age * 6 + f.number.int({ min: -4, max: 4 }))
  const bmi = child ? f.number.float({ min: 14.5, max: 19.5 }) : body.bmi
  const sysBase = child ? 92 + age : 112 + age * 0.3 + (sex === 'male' ? 4 : 0) + (body.hypertensive ? f.number.int({ min: 18, max: 38 }) : 0)
  const systolic = Math.round(sysBase + f.number.int({ min: -8, max: 8 }))
  const diastolic = Math.round(Math.min(systolic - 25, (child ? 58 : 72) + (body.hypertensive ? f.number.int({ min: 8, max: 18 }) : 0) + f.number.int({ min: -6, max: 6 })))
  const heartRate = age < 1 ? f.number.int({ min: 110, max: 150 }) : age < 7 ? f.number.int({ min: 85, max: 120 }) : f.number.int({ min: 60, max: 92 })
  const temperature = fever ? round1(f.number.float({ min: 37.3, max: 39.2 })) : round1(f.number.float({ min: 36.2, max: 36.9 }))
  return { systolic, diastolic, heartRate, temperature, height: Math.round(height), weight: round1(bmi * (height / 100) ** 2) }
}

/**
 * Working-hours visit start on a Moscow day, 08:00–19:30 in 15-minute steps. Sundays move to
 * Saturday for past visits and to Monday for bookings, so neither crosses "now".
 */
function visitStart(f: Faker, dayMs: number, when: 'past' | 'future'): number {
  const day = mskWeekday(dayMs) !== 0 ? dayMs : when === 'past' ? dayMs - DAY : dayMs + DAY
  return mskMidnight(day) + 8 * 3600_000 + f.number.int({ min: 0, max: 46 }) * 15 * 60_000
}

const ENCOUNTER_COUNTS = [
  { weight: 20, value: 0 },
  { weight: 35, value: 1 },
  { weight: 28, value: 2 },
  { weight: 17, value: 3 },
]
const AGE_BANDS: ReadonlyArray<{ weight: number; value: readonly [number, number] }> = [
  { weight: 15, value: [0, 17] },
  { weight: 30, value: [18, 39] },
  { weight: 35, value: [40, 64] },
  { weight: 20, value: [65, 95] },
]

/** Writes one patient and its history into `out`. */
function addPatient(f: Faker, ctx: Context, index: number, out: RowBatch): void {
  f.seed([ctx.seed, STREAM_PATIENT, index])
  const sex: Sex = f.datatype.boolean(0.46) ? 'male' : 'female'
  const p = person(f, sex)
  const [minAge, maxAge] = f.helpers.weightedArrayElement(AGE_BANDS)
  const birth = ctx.asOf - f.number.int({ min: minAge, max: maxAge }) * YEAR - f.number.int({ min: 1, max: 364 }) * DAY
  const ageNow = (ctx.asOf - birth) / YEAR
  const patientId = f.string.uuid()
  const subject: Reference = { reference: `Patient/${patientId}`, display: fullName(p) }
  out.add('Patient', {
    resourceType: 'Patient',
    id: patientId,
    identifier: [
      { use: 'official', system: FHIR_SYSTEMS.snils, value: patientSnils(ctx.seed, index) },
      { use: 'official', system: FHIR_SYSTEMS.oms, value: patientOms(ctx.seed, index) },
    ],
    active: true,
    name: [humanName(p)],
    telecom: [{ system: 'phone', value: mobile(f), use: 'mobile' }],
    gender: sex,
    birthDate: mskDate(birth),
    address: [moscowAddress(f)],
    managingOrganization: ctx.org,
  })

  // Long-term diagnoses the patient's visits come back to; more of them with age.
  const chronicPool = DIAGNOSES.filter((d) => d.chronic && d.minAge <= ageNow)
  const chronicCount = ageNow < 18 ? (f.datatype.boolean(0.1) ? 1 : 0) : f.number.int({ min: 0, max: ageNow > 55 ? 3 : ageNow > 35 ? 2 : 1 })
  const chronic = chronicPool.length > 0 ? f.helpers.arrayElements(chronicPool, Math.min(chronicCount, chronicPool.length)) : []
  const body: Physique = {
    adultHeight: sex === 'male' ? f.number.int({ min: 165, max: 192 }) : f.number.int({ min: 152, max: 178 }),
    bmi: chronic.some((d) => d.code === 'E66.0') ? f.number.float({ min: 30.5, max: 39 }) : f.number.float({ min: 19, max: 31 }),
    hypertensive: chronic.some((d) => d.hypertension === true),
  }
  const acutePool = DIAGNOSES.filter((d) => !d.chronic && d.minAge <= ageNow)
  const doctorPool = ageNow < 18 ? ctx.pediatric : ctx.primary
  const attending = ctx.doctors[doctorPool[index % doctorPool.length]!]!

  // Visits within the last three years (not before birth), oldest first.
  const from = Math.max(birth + 7 * DAY, ctx.asOf - 3 * 365 * DAY)
  const to = ctx.asOf - DAY
  const visits = f.helpers.weightedArrayElement(ENCOUNTER_COUNTS)
  const starts = Array.from({ length: to > from ? visits : 0 }, () => visitStart(f, f.number.int({ min: from, max: to }), 'past')).sort((a, b) => a - b)
  const conditionOf = new Map<string, string>()

  starts.forEach((start, visitNo) => {
    const end = start + f.number.int({ min: 3, max: 8 }) * 5 * 60_000
    const doctor = ctx.specialists.length > 0 && ageNow >= 18 && f.datatype.boolean(0.25) ? ctx.doctors[f.helpers.arrayElement(ctx.specialists)]! : attending
    const encounterId = f.string.uuid()
    const encounterRef = { reference: `Encounter/${encounterId}` }
    const diagnosis: Diagnosis | null =
      chronic.length > 0 && f.datatype.boolean(0.5) ? f.helpers.arrayElement(chronic) : acutePool.length > 0 ? f.helpers.arrayElement(acutePool) : null
    // A chronic condition is recorded once and referred to by later visits.
    const known = diagnosis?.chronic ? conditionOf.get(diagnosis.code) : undefined
    const conditionId = diagnosis ? (known ?? f.string.uuid()) : null
    out.add('Encounter', {
      resourceType: 'Encounter',
      id: encounterId,
      status: 'finished',
      class: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
      type: [{ text: doctor.position.visit }],
      subject,
      participant: [{ individual: doctor.ref }],
      period: { start: mskDateTime(start), end: mskDateTime(end) },
      ...(diagnosis && conditionId ? { reasonCode: [{ text: diagnosis.display }], diagnosis: [{ condition: { reference: `Condition/${conditionId}` }, rank: 1 }] } : {}),
      serviceProvider: ctx.org,
    })
    if (diagnosis && conditionId && !known) {
      if (diagnosis.chronic) conditionOf.set(diagnosis.code, conditionId)
      const resolvedAt = start + f.number.int({ min: 5, max: 14 }) * DAY
      const active = diagnosis.chronic || resolvedAt > ctx.asOf
      const onset = diagnosis.chronic
        ? mskDate(Math.min(start, Math.max(birth + diagnosis.minAge * YEAR, start - f.number.int({ min: 0, max: 8 }) * YEAR)))
        : mskDate(start - f.number.int({ min: 1, max: 5 }) * DAY)
      out.add('Condition', {
        resourceType: 'Condition',
        id: conditionId,
        clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: active ? 'active' : 'resolved' }] },
        verificationStatus: { coding: [{ system: CONDITION_VERIFICATION, code: 'confirmed' }] },
        category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
        code: { coding: [{ system: FHIR_SYSTEMS.icd10, code: diagnosis.code, display: diagnosis.display }], text: diagnosis.display },
        subject,
        encounter: encounterRef,
        onsetDateTime: onset,
        ...(active ? {} : { abatementDateTime: mskDate(resolvedAt) }),
        recordedDate: mskDateTime(start),
        recorder: doctor.ref,
      })
      // A prescription for most diagnoses that have a drug.
      if (diagnosis.drugs.length > 0 && f.datatype.boolean(diagnosis.chronic ? 0.85 : 0.6)) {
        const drugs = f.helpers.arrayElements(diagnosis.drugs, diagnosis.chronic && f.datatype.boolean(0.3) ? Math.min(2, diagnosis.drugs.length) : 1)
        for (const drug of drugs) {
          out.add('MedicationRequest', {
            resourceType: 'MedicationRequest',
            id: f.string.uuid(),
            status: active ? 'active' : 'completed',
            intent: 'order',
            medicationCodeableConcept: { text: drug.name },
            subject,
            encounter: encounterRef,
            authoredOn: mskDateTime(end),
            requester: doctor.ref,
            reasonReference: [{ reference: `Condition/${conditionId}`, display: diagnosis.display }],
            dosageInstruction: [{ text: drug.dosage }],
          })
        }
      }
    }
    // Blood pressure and pulse at every visit; temperature with a fever or now and then; height
    // and weight at the first visit (always for children).
    const age = (start - birth) / YEAR
    const fever = diagnosis?.fever === true
    const v = vitals(f, age, sex, body, fever)
    const measured: Array<VitalSign['key']> = ['systolic', 'diastolic', 'heartRate']
    if (fever || f.datatype.boolean(0.3)) measured.push('temperature')
    if (visitNo === 0 && (age < 18 || f.datatype.boolean(0.7))) measured.push('height', 'weight')
    const effective = mskDateTime(start + 5 * 60_000)
    for (const key of measured) {
      const vs = VITAL_SIGNS[key]
      out.add('Observation', {
        resourceType: 'Observation',
        id: f.string.uuid(),
        status: 'final',
        category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }], text: 'Показатели жизнедеятельности' }],
        code: { coding: [{ system: LOINC, code: vs.loinc, display: vs.display }], text: vs.text },
        subject,
        encounter: encounterRef,
        effectiveDateTime: effective,
        performer: [doctor.ref],
        valueQuantity: quantity(vs, v[key]),
      })
    }
    if (f.datatype.boolean(0.35)) {
      const kind = f.helpers.arrayElement(DOCUMENT_KINDS)
      out.add('DocumentReference', {
        resourceType: 'DocumentReference',
        id: f.string.uuid(),
        status: 'current',
        docStatus: 'final',
        type: { coding: [{ system: LOINC, code: kind.loinc, display: kind.display }], text: kind.text },
        subject,
        date: mskDateTime(end),
        author: [doctor.ref],
        custodian: ctx.org,
        description: kind.text,
        content: [{ attachment: { contentType: 'application/pdf', language: 'ru', title: `${kind.title(doctor.position.visit)} от ${ruDate(start)}`, creation: mskDateTime(end) } }],
        context: { encounter: [encounterRef], period: { start: mskDateTime(start), end: mskDateTime(end) } },
      })
    }
  })

  // A booked visit in the next three weeks for some: follow-up of a chronic condition or a check-up.
  if (f.datatype.boolean(0.3)) {
    const start = visitStart(f, mskMidnight(ctx.asOf) + f.number.int({ min: 1, max: 21 }) * DAY, 'future')
    const minutes = f.helpers.arrayElement([15, 20, 30])
    const reason = chronic.length > 0 ? `Диспансерное наблюдение: ${f.helpers.arrayElement(chronic).display}` : ageNow < 18 ? 'Профилактический медицинский осмотр' : 'Повторный приём'
    out.add('Appointment', {
      resourceType: 'Appointment',
      id: f.string.uuid(),
      status: 'booked',
      serviceType: [{ text: attending.position.visit }],
      reasonCode: [{ text: reason }],
      description: `${attending.position.visit}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`,
      start: mskDateTime(start),
      end: mskDateTime(start + minutes * 60_000),
      minutesDuration: minutes,
      created: mskDateTime(ctx.asOf - f.number.int({ min: 1, max: 14 }) * DAY),
      participant: [
        { actor: subject, required: 'required', status: 'accepted' },
        { actor: attending.ref, required: 'required', status: 'accepted' },
      ],
    })
  }
}

// --- the run ---------------------------------------------------------------------------------

const newFaker = () => new Faker({ locale: [ru, en, base] })

const emptyCounts = (): Record<FhirResourceType, number> => Object.fromEntries(FHIR_RESOURCE_TYPES.map((t) => [t, 0])) as Record<FhirResourceType, number>

/** An Organization resource already carrying this ОГРН (written by anyone): seeded data refer to it. */
async function existingOrganization(q: Queryable, ogrn: string): Promise<Reference | null> {
  const rows = await q.query<{ id: string; body: string }>(
    `SELECT r.id, r.body FROM fhir_idx_token t JOIN fhir_resources r ON r.type = t.type AND r.id = t.id
     WHERE t.type = 'Organization' AND t.param = 'identifier' AND t.system = $1 AND t.value = $2 AND NOT r.deleted
     ORDER BY r.id LIMIT 1`,
    [FHIR_SYSTEMS.ogrn, ogrn],
  )
  const row = rows[0]
  if (!row) return null
  const name = (JSON.parse(row.body) as { name?: unknown }).name
  return { reference: `Organization/${row.id}`, ...(typeof name === 'string' ? { display: name } : {}) }
}

export function practitionerCount(patients: number): number {
  return Math.max(MIN_PRACTITIONERS, Math.ceil(patients / PATIENTS_PER_PRACTITIONER))
}

/** Generates and writes the data; each batch is one transaction, so an interrupted run keeps whole patients. */
export async function seedFhir(db: Db, o: SeedOptions): Promise<SeedResult> {
  const started = performance.now()
  const seed = o.seed ?? DEFAULT_SEED
  const batchSize = o.batchSize ?? DEFAULT_BATCH
  if (!Number.isInteger(o.patients) || o.patients < 0 || o.patients > MAX_SEED_PATIENTS) throw new RangeError(`patients: 0…${MAX_SEED_PATIENTS}`)
  if (!Number.isInteger(seed) || seed < 0 || seed > 0x7fffffff) throw new RangeError('seed: a non-negative 32-bit integer')
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize: a positive integer')
  if (!/^\d{13}$/.test(o.organisationOgrn) || ogrnWithChecksum(o.organisationOgrn.slice(0, 12)) !== o.organisationOgrn) {
    throw new RangeError(`organisationOgrn: not a valid ОГРН: ${o.organisationOgrn}`)
  }
  const asOf = (o.now ?? new Date()).getTime()
  const stamp = () => o.now ?? new Date()
  const f = newFaker()
  const counts = emptyCounts()
  let resources = 0
  const tally = (b: RowBatch) => {
    for (const [t, n] of b.counts) counts[t] += n
    resources += b.size
  }

  // Organization: the one already stored for this ОГРН, else a new one named as in the register.
  let org = await existingOrganization(db, o.organisationOgrn)
  let organizationId: string
  const organizationCreated = org === null
  if (org) {
    organizationId = org.reference.slice('Organization/'.length)
  } else {
    f.seed([seed, STREAM_ORG])
    // The demo seeds the register only when the portal starts: fall back to its built-in list.
    const known = (await findOrganisation(db, o.organisationOgrn)) ?? DEMO_ORGANISATIONS.find((d) => d.ogrn === o.organisationOgrn) ?? null
    const resource = organizationResource(f, o.organisationOgrn, known)
    organizationId = resource.id
    org = { reference: `Organization/${resource.id}`, display: String(resource.name) }
    const b = new RowBatch(stamp())
    b.add('Organization', resource)
    await db.transaction((tx) => b.write(tx, o.organisationOgrn))
    tally(b)
  }

  // The same seed twice into one database would collide on ids: refuse before writing anything more.
  const firstDoctor = addDoctor(f, { seed, asOf, org }, 0, null)
  const clash = await db.query('SELECT 1 FROM fhir_resources WHERE type = $1 AND id = $2', ['Practitioner', firstDoctor.id])
  if (clash.length > 0) throw new Error(`В базе уже есть данные, созданные с --seed ${seed}: укажите другой --seed или чистую базу`)

  const doctorCount = practitionerCount(o.patients)
  const doctors: Doctor[] = []
  for (let from = 0; from < doctorCount; from += PRACTITIONER_BATCH) {
    const b = new RowBatch(stamp())
    for (let j = from; j < Math.min(doctorCount, from + PRACTITIONER_BATCH); j++) doctors.push(addDoctor(f, { seed, asOf, org }, j, b))
    await db.transaction((tx) => b.write(tx, o.organisationOgrn))
    tally(b)
  }
  const indexesWhere = (test: (p: Position) => boolean) => doctors.flatMap((d, i) => (test(d.position) ? [i] : []))
  const ctx: Context = {
    seed,
    asOf,
    org,
    doctors,
    primary: indexesWhere((p) => p.primary === true),
    pediatric: indexesWhere((p) => p.pediatric === true),
    specialists: indexesWhere((p) => !p.primary && !p.pediatric),
  }

  // Patients: batch k+1 is generated while batch k is being written (PostgreSQL works meanwhile).
  let pending: Promise<void> | null = null
  let done = 0
  for (let from = 0; from < o.patients; from += batchSize) {
    const to = Math.min(o.patients, from + batchSize)
    const b = new RowBatch(stamp())
    for (let i = from; i < to; i++) addPatient(f, ctx, i, b)
    if (pending) await pending
    pending = db
      .transaction((tx) => b.write(tx, o.organisationOgrn))
      .then(() => {
        tally(b)
        done = to
        o.onProgress?.({ patientsDone: done, patients: o.patients, resources, elapsedMs: performance.now() - started })
      })
    // Handled by the await above or below; this only keeps a failure from counting as unhandled meanwhile.
    pending.catch(() => undefined)
  }
  if (pending) await pending
  if (o.patients === 0) o.onProgress?.({ patientsDone: 0, patients: 0, resources, elapsedMs: performance.now() - started })
  return { organizationId, organizationCreated, practitioners: doctorCount, counts, resources, elapsedMs: performance.now() - started }
}
