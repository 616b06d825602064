// Search parameters of each resource type and how their index rows are extracted from a resource.
// Kinds follow FHIR: string (prefix, case- and ё-insensitive), token (system|code), reference
// (Type/id), date (ranges with precision). `_id` and `_lastUpdated` are common to all types.
import { FHIR_RESOURCE_TYPES, type FhirResourceType } from '../../../src/shared/fhir/systems'
import { normalizeSearchText } from '../../../src/shared/text'

export type ParamKind = 'string' | 'token' | 'reference' | 'date'

export type Json = Record<string, unknown>

export interface ParamDef {
  kind: ParamKind
  /** Reference params: the types the reference may point at (for `patient` → Patient). */
  target?: FhirResourceType[]
  extract(r: Json): unknown[]
}

export interface IndexRows {
  strings: Array<{ param: string; value: string }>
  tokens: Array<{ param: string; system: string; value: string }>
  dates: Array<{ param: string; lo: Date; hi: Date }>
}


const arr = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v])
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null)
const path =
  (...keys: string[]) =>
  (r: Json): unknown[] => {
    let cur: unknown[] = [r]
    for (const k of keys) cur = cur.flatMap((c) => arr(obj(c)?.[k]))
    return cur
  }

/** Every searchable string of HumanName(s): each part, the text, and "family given…" as one. */
function humanNames(names: unknown[]): string[] {
  return names.flatMap((n) => {
    const o = obj(n)
    if (!o) return []
    const family = str(o.family)
    const given = arr(o.given).map(str).filter((g): g is string => g !== null)
    const out = [...(family ? [family] : []), ...given]
    if (family && given.length > 0) out.push([family, ...given].join(' '))
    const text = str(o.text)
    if (text) out.push(text)
    return out
  })
}

const names = (r: Json) => humanNames(arr(r.name))
const families = (r: Json) => arr(r.name).map((n) => str(obj(n)?.family))
const givens = (r: Json) => arr(r.name).flatMap((n) => arr(obj(n)?.given))

const ref = (target: FhirResourceType[] | undefined, extract: (r: Json) => unknown[]): ParamDef => ({ kind: 'reference', target, extract })
const token = (extract: (r: Json) => unknown[]): ParamDef => ({ kind: 'token', extract })
const date = (extract: (r: Json) => unknown[]): ParamDef => ({ kind: 'date', extract })
const string = (extract: (r: Json) => unknown[]): ParamDef => ({ kind: 'string', extract })

/** subject + patient pair most clinical resources have. */
const subjectParams = (key = 'subject'): Record<string, ParamDef> => ({
  subject: ref(undefined, path(key)),
  patient: ref(['Patient'], path(key)),
})

const effective = (r: Json) => [r.effectiveDateTime, r.effectivePeriod, r.effectiveInstant]

export const SEARCH_PARAMS: Readonly<Record<FhirResourceType, Record<string, ParamDef>>> = {
  Patient: {
    name: string(names),
    family: string(families),
    given: string(givens),
    identifier: token(path('identifier')),
    birthdate: date(path('birthDate')),
    gender: token(path('gender')),
    telecom: token(path('telecom')),
  },
  Practitioner: {
    name: string(names),
    family: string(families),
    given: string(givens),
    identifier: token(path('identifier')),
  },
  PractitionerRole: {
    practitioner: ref(['Practitioner'], path('practitioner')),
    organization: ref(['Organization'], path('organization')),
    role: token(path('code')),
    specialty: token(path('specialty')),
  },
  Organization: {
    name: string((r) => [r.name, ...arr(r.alias)]),
    identifier: token(path('identifier')),
  },
  Encounter: {
    ...subjectParams(),
    date: date(path('period')),
    status: token(path('status')),
    practitioner: ref(['Practitioner'], path('participant', 'individual')),
  },
  Condition: {
    ...subjectParams(),
    code: token(path('code')),
    'clinical-status': token(path('clinicalStatus')),
    'recorded-date': date(path('recordedDate')),
    'onset-date': date((r) => [r.onsetDateTime, r.onsetPeriod]),
    encounter: ref(['Encounter'], path('encounter')),
  },
  Observation: {
    ...subjectParams(),
    code: token(path('code')),
    category: token(path('category')),
    status: token(path('status')),
    date: date(effective),
    encounter: ref(['Encounter'], path('encounter')),
  },
  MedicationRequest: {
    ...subjectParams(),
    status: token(path('status')),
    intent: token(path('intent')),
    code: token(path('medicationCodeableConcept')),
    authoredon: date(path('authoredOn')),
    requester: ref(undefined, path('requester')),
    encounter: ref(['Encounter'], path('encounter')),
  },
  Appointment: {
    actor: ref(undefined, path('participant', 'actor')),
    patient: ref(['Patient'], path('participant', 'actor')),
    practitioner: ref(['Practitioner'], path('participant', 'actor')),
    date: date(path('start')),
    status: token(path('status')),
    slot: ref(['Slot'], path('slot')),
  },
  Schedule: {
    actor: ref(undefined, path('actor')),
    date: date(path('planningHorizon')),
    active: token(path('active')),
  },
  Slot: {
    schedule: ref(['Schedule'], path('schedule')),
    start: date(path('start')),
    status: token(path('status')),
  },
  DocumentReference: {
    ...subjectParams(),
    date: date(path('date')),
    type: token(path('type')),
    status: token(path('status')),
    author: ref(undefined, path('author')),
    encounter: ref(['Encounter'], path('context', 'encounter')),
  },
}

// Every type is listed (the Record type says so); this keeps FHIR_RESOURCE_TYPES the source of truth.
for (const t of FHIR_RESOURCE_TYPES) if (!SEARCH_PARAMS[t]) throw new Error(`no search params for ${t}`)

/** 'Patient/1', 'https://x/fhir/Patient/1' or 'Patient/1/_history/2' → 'Patient/1'. */
export function normalizeReference(reference: string): string | null {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(reference)
  return m ? `${m[1]}/${m[2]}` : null
}

/** Token values of a code, boolean, Coding, CodeableConcept, Identifier or ContactPoint. */
function tokenValues(v: unknown): Array<{ system: string; value: string }> {
  if (typeof v === 'string') return [{ system: '', value: v }]
  if (typeof v === 'boolean') return [{ system: '', value: String(v) }]
  const o = obj(v)
  if (!o) return []
  if (Array.isArray(o.coding)) return o.coding.flatMap(tokenValues)
  if (typeof o.code === 'string') return [{ system: str(o.system) ?? '', value: o.code }]
  if (typeof o.value === 'string') return [{ system: str(o.system) ?? '', value: normalizeTokenValue(str(o.system) ?? '', o.value) }]
  return []
}

/** Identifiers of people and organisations are compared by their digits: 112-233-445 95 = 11223344595. */
export function normalizeTokenValue(system: string, value: string): string {
  return system.startsWith('urn:oid:1.2.643.') || system === 'urn:lkmr:identifier:oms' ? value.replace(/[\s-]/g, '') : value
}

// --- dates ---

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/

/**
 * The instant range [lo, hi) a FHIR date, dateTime or instant denotes, by its precision: '1980'
 * is the whole year, '1980-05-01' the whole day. Times without a zone are taken as Moscow time.
 */
export function dateRange(text: string): { lo: Date; hi: Date } | null {
  const m = DATE_RE.exec(text)
  if (!m) return null
  const [, y, mo, d, hh, mi, ss, frac, tz] = m
  const year = Number(y)
  if (mo === undefined) return { lo: utc(year, 0, 1), hi: utc(year + 1, 0, 1) }
  const month = Number(mo) - 1
  if (month < 0 || month > 11) return null
  if (d === undefined) return { lo: utc(year, month, 1), hi: utc(year, month + 1, 1) }
  const day = Number(d)
  const lo = utc(year, month, day)
  if (lo.getUTCDate() !== day) return null
  if (hh === undefined) return { lo, hi: utc(year, month, day + 1) }
  const zone = tz === undefined ? '+03:00' : tz
  const seconds = ss ?? '00'
  const instant = new Date(`${y}-${mo}-${d}T${hh}:${mi}:${seconds}${frac ?? ''}${zone}`)
  if (Number.isNaN(instant.getTime())) return null
  const precisionMs = ss === undefined ? 60_000 : frac ? 1 : 1000
  return { lo: instant, hi: new Date(instant.getTime() + precisionMs) }
}

const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d))

/** Open ends of a Period; stored as PostgreSQL's -infinity / infinity. */
export const OPEN_START = new Date(-8.64e15)
export const OPEN_END = new Date(8.64e15)

export function sqlInstant(d: Date): string {
  return d.getTime() <= OPEN_START.getTime() ? '-infinity' : d.getTime() >= OPEN_END.getTime() ? 'infinity' : d.toISOString()
}

function dateValues(v: unknown): Array<{ lo: Date; hi: Date }> {
  if (typeof v === 'string') {
    const r = dateRange(v)
    return r ? [r] : []
  }
  const o = obj(v)
  if (!o) return []
  // Period: an open end is unbounded.
  const start = typeof o.start === 'string' ? dateRange(o.start) : null
  const end = typeof o.end === 'string' ? dateRange(o.end) : null
  if (!start && !end) return []
  return [{ lo: start?.lo ?? OPEN_START, hi: end?.hi ?? OPEN_END }]
}

/** The index rows of a resource: one per searchable value. */
export function indexRows(type: FhirResourceType, r: Json): IndexRows {
  const rows: IndexRows = { strings: [], tokens: [], dates: [] }
  for (const [param, def] of Object.entries(SEARCH_PARAMS[type])) {
    const values = def.extract(r)
    switch (def.kind) {
      case 'string':
        for (const v of new Set(values.map((x) => (typeof x === 'string' ? normalizeSearchText(x) : '')).filter(Boolean))) {
          rows.strings.push({ param, value: v })
        }
        break
      case 'token':
        for (const t of values.flatMap(tokenValues)) rows.tokens.push({ param, ...t })
        break
      case 'reference':
        for (const v of values) {
          const reference = str(obj(v)?.reference)
          const normal = reference ? normalizeReference(reference) : null
          if (!normal) continue
          if (def.target && !def.target.some((t) => normal.startsWith(`${t}/`))) continue
          rows.tokens.push({ param, system: '', value: normal })
        }
        break
      case 'date':
        for (const d of values.flatMap(dateValues)) rows.dates.push({ param, ...d })
        break
    }
  }
  return rows
}
