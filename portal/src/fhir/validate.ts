// Structural checks of incoming resources: the type, the id, the elements R4 requires (1..*
// cardinality) of each type, the codes the store indexes, dates, references, and the Russian
// identifiers by their checksums. Diagnostics are Russian: the workstation shows them next to the field.
import { isValidInn, isValidOgrn, isValidOms, isValidSnils } from '../../../src/shared/validators'
import { FHIR_ID, FHIR_SYSTEMS, isFhirResourceType, type FhirResourceType } from '../../../src/shared/fhir/systems'
import { invalid } from './outcome'
import { dateRange, normalizeReference, type Json } from './search-params'

/** Elements R4 requires, as alternatives (medication[x] is one of two). */
const REQUIRED: Readonly<Record<FhirResourceType, ReadonlyArray<readonly string[]>>> = {
  Patient: [],
  Practitioner: [],
  PractitionerRole: [],
  Organization: [],
  Encounter: [['status'], ['class']],
  Condition: [['subject']],
  Observation: [['status'], ['code']],
  MedicationRequest: [['status'], ['intent'], ['subject'], ['medicationCodeableConcept', 'medicationReference']],
  Appointment: [['status'], ['participant']],
  Schedule: [['actor']],
  Slot: [['schedule'], ['status'], ['start'], ['end']],
  DocumentReference: [['status'], ['content']],
}

const CODES: Readonly<Partial<Record<FhirResourceType, Record<string, readonly string[]>>>> = {
  Patient: { gender: ['male', 'female', 'other', 'unknown'] },
  Practitioner: { gender: ['male', 'female', 'other', 'unknown'] },
  Encounter: { status: ['planned', 'arrived', 'triaged', 'in-progress', 'onleave', 'finished', 'cancelled', 'entered-in-error', 'unknown'] },
  Observation: { status: ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'] },
  MedicationRequest: {
    status: ['active', 'on-hold', 'cancelled', 'completed', 'entered-in-error', 'stopped', 'draft', 'unknown'],
    intent: ['proposal', 'plan', 'order', 'original-order', 'reflex-order', 'filler-order', 'instance-order', 'option'],
  },
  Appointment: {
    status: ['proposed', 'pending', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error', 'checked-in', 'waitlist'],
  },
  Slot: { status: ['busy', 'free', 'busy-unavailable', 'busy-tentative', 'entered-in-error'] },
  DocumentReference: { status: ['current', 'superseded', 'entered-in-error'] },
}

/** Date elements checked for format (and indexed by their ranges). */
const DATES: Readonly<Partial<Record<FhirResourceType, readonly string[]>>> = {
  Patient: ['birthDate'],
  Practitioner: ['birthDate'],
  Condition: ['recordedDate', 'onsetDateTime'],
  Observation: ['effectiveDateTime', 'issued'],
  MedicationRequest: ['authoredOn'],
  Appointment: ['start', 'end'],
  Slot: ['start', 'end'],
  DocumentReference: ['date'],
}

const IDENTIFIER_CHECKS: ReadonlyArray<{ system: string; check: (v: string) => boolean; name: string }> = [
  { system: FHIR_SYSTEMS.snils, check: isValidSnils, name: 'СНИЛС' },
  { system: FHIR_SYSTEMS.oms, check: isValidOms, name: 'Полис ОМС' },
  { system: FHIR_SYSTEMS.inn, check: isValidInn, name: 'ИНН' },
  { system: FHIR_SYSTEMS.ogrn, check: isValidOgrn, name: 'ОГРН' },
]

const ICD10 = /^[A-Z]\d{2}(\.\d{1,2})?$/

function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && v !== ''
}

export interface ValidateOptions {
  /** The type the URL names (or the transaction entry's). */
  type: FhirResourceType
  /** For update: the id in the URL, which the body must carry. */
  id?: string
  /** Transactions may carry urn:uuid: references resolved before storing. */
  allowUrnReferences?: boolean
}

/** Throws an INVALID_INPUT FhirProblem naming the first problem; returns the body as a resource. */
export function validateResource(body: unknown, o: ValidateOptions): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('Тело запроса должно быть ресурсом FHIR в формате JSON', undefined, 'structure')
  const r = body as Json
  const type = r.resourceType
  if (typeof type !== 'string' || !isFhirResourceType(type)) throw invalid(`Неизвестный тип ресурса: ${String(type)}`, 'resourceType', 'structure')
  if (type !== o.type) throw invalid(`Тип ресурса ${type} не совпадает с адресом (${o.type})`, 'resourceType', 'invariant')
  if (r.id !== undefined && (typeof r.id !== 'string' || !FHIR_ID.test(r.id))) {
    throw invalid('Идентификатор ресурса: латинские буквы, цифры, «-» и «.», до 64 символов', `${type}.id`, 'value')
  }
  if (o.id !== undefined && r.id !== o.id) throw invalid(`В теле ресурса должен быть id = ${o.id}, как в адресе`, `${type}.id`, 'invariant')
  if (r.meta !== undefined && (typeof r.meta !== 'object' || r.meta === null || Array.isArray(r.meta))) throw invalid('meta должен быть объектом', `${type}.meta`, 'structure')

  for (const alternatives of REQUIRED[type]) {
    if (!alternatives.some((k) => isPresent(r[k]))) {
      throw invalid(`Не заполнено обязательное поле ${alternatives.join(' или ')}`, `${type}.${alternatives[0]}`, 'required')
    }
  }
  for (const [element, allowed] of Object.entries(CODES[type] ?? {})) {
    const v = r[element]
    if (v !== undefined && (typeof v !== 'string' || !allowed.includes(v))) {
      throw invalid(`Недопустимое значение ${element}: ${String(v)}; допустимо: ${allowed.join(', ')}`, `${type}.${element}`, 'value')
    }
  }
  for (const element of DATES[type] ?? []) {
    const v = r[element]
    if (v !== undefined && (typeof v !== 'string' || !dateRange(v))) {
      throw invalid(`Неверная дата ${element}: ожидается ГГГГ-ММ-ДД или ГГГГ-ММ-ДДTчч:мм:сс+03:00`, `${type}.${element}`, 'value')
    }
  }
  if (Array.isArray(r.identifier)) {
    r.identifier.forEach((id: unknown, i) => {
      const o2 = id as Json | null
      const system = typeof o2?.system === 'string' ? o2.system : ''
      const value = typeof o2?.value === 'string' ? o2.value : null
      const rule = IDENTIFIER_CHECKS.find((c) => c.system === system)
      if (rule && (value === null || !rule.check(value))) {
        throw invalid(`${rule.name} указан неверно: проверьте цифры (не сходится контрольная сумма)`, `${type}.identifier[${i}].value`, 'value')
      }
    })
  }
  checkCodings(r, type)
  checkReferences(r, type, o.allowUrnReferences === true)
  return r
}

/** МКБ-10 codes in any Coding of the resource must look like J06.9. */
function checkCodings(r: Json, type: string): void {
  walk(r, type, (node, at) => {
    if (node.system === FHIR_SYSTEMS.icd10 && (typeof node.code !== 'string' || !ICD10.test(node.code))) {
      throw invalid(`Код МКБ-10 указан неверно: ${String(node.code)} (пример: J06.9)`, `${at}.code`, 'value')
    }
  })
}

function checkReferences(r: Json, type: string, allowUrn: boolean): void {
  walk(r, type, (node, at) => {
    if (!('reference' in node)) return
    const ref = node.reference
    if (typeof ref !== 'string') throw invalid('Ссылка должна быть строкой', `${at}.reference`, 'structure')
    if (ref.startsWith('#')) return
    if (ref.startsWith('urn:uuid:')) {
      if (allowUrn) return
      throw invalid('Ссылка urn:uuid: допустима только внутри транзакции', `${at}.reference`, 'invariant')
    }
    const normal = normalizeReference(ref)
    if (!normal || !isFhirResourceType(normal.split('/')[0]!)) throw invalid(`Неверная ссылка: ${ref} (ожидается Тип/id)`, `${at}.reference`, 'value')
  })
}

function walk(node: unknown, at: string, visit: (o: Json, at: string) => void, depth = 0): void {
  if (depth > 32) throw invalid('Слишком глубокая вложенность ресурса', at, 'structure')
  if (Array.isArray(node)) {
    node.forEach((v, i) => walk(v, `${at}[${i}]`, visit, depth + 1))
    return
  }
  if (!node || typeof node !== 'object') return
  const o = node as Json
  visit(o, at)
  for (const [k, v] of Object.entries(o)) if (v && typeof v === 'object') walk(v, `${at}.${k}`, visit, depth + 1)
}
