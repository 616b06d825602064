// What the local search indexes take from a FHIR resource: a patient's names (folded for FTS5),
// СНИЛС, полис ОМС, birth date and the summary columns a result row shows without parsing JSON;
// an appointment's slot, patient, start and status; a slot's schedule, start and status.
import { FHIR_EXTENSIONS, FHIR_SYSTEMS } from '../../../shared/fhir/systems'
import { normalizeSearchText } from '../../../shared/text'

export type Json = Record<string, unknown>

const arr = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v])
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null)

/** The id of a reference «Type/id» of the given type, or null. */
export function refId(ref: unknown, type: string): string | null {
  const r = str(obj(ref)?.reference)
  if (!r) return null
  const parts = r.split('/')
  const i = parts.lastIndexOf(type)
  return i >= 0 && parts[i + 1] ? parts[i + 1]! : null
}

/** «Фамилия Имя Отчество» of the first (official) name. */
export function displayName(resource: Json): string {
  const names = arr(resource.name).map(obj).filter((n): n is Json => n !== null)
  const n = names.find((x) => x.use === 'official') ?? names[0]
  if (!n) return ''
  const text = str(n.text)
  const parts = [str(n.family), ...arr(n.given).map(str)].filter((x): x is string => x !== null)
  return parts.length > 0 ? parts.join(' ') : (text ?? '')
}

export function identifierValue(resource: Json, system: string): string | null {
  for (const i of arr(resource.identifier)) {
    const o = obj(i)
    if (o && o.system === system) return str(o.value)
  }
  return null
}

export const ATTACHMENT_EXTENSION = FHIR_EXTENSIONS.attachment

export interface PatientIndex {
  /** Folded words of every name, for FTS5. */
  names: string
  sortName: string
  displayName: string
  snils: string | null
  oms: string | null
  birthDate: string | null
  gender: string | null
  phone: string | null
  attached: boolean
}

/** An attachment in force: an extension entry without period.end. */
export function hasAttachmentInForce(resource: Json): boolean {
  return arr(resource.extension).some((e) => {
    const o = obj(e)
    if (!o || o.url !== ATTACHMENT_EXTENSION) return false
    const period = arr(o.extension).map(obj).find((x) => x?.url === 'period')
    return period !== undefined && !str(obj(period?.valuePeriod)?.end)
  })
}

export function patientIndex(resource: Json): PatientIndex {
  const words = arr(resource.name).flatMap((n) => {
    const o = obj(n)
    if (!o) return []
    return [str(o.family), ...arr(o.given).map(str), str(o.text)].filter((x): x is string => x !== null)
  })
  const name = displayName(resource)
  const phone = arr(resource.telecom).map(obj).find((t) => t?.system === 'phone')
  return {
    names: normalizeSearchText(words.join(' ')).replace(/[^\p{L}\p{N} ]+/gu, ' '),
    sortName: normalizeSearchText(name),
    displayName: name,
    snils: identifierValue(resource, FHIR_SYSTEMS.snils)?.replace(/\D/g, '') ?? null,
    oms: identifierValue(resource, FHIR_SYSTEMS.oms)?.replace(/\D/g, '') ?? null,
    birthDate: str(resource.birthDate),
    gender: str(resource.gender),
    phone: str(phone?.value),
    attached: hasAttachmentInForce(resource),
  }
}

export interface AppointmentIndex {
  start: string | null
  slotId: string | null
  patientId: string | null
  status: string | null
}

export function appointmentIndex(resource: Json): AppointmentIndex {
  const patient = arr(resource.participant)
    .map((p) => refId(obj(p)?.actor, 'Patient'))
    .find((x) => x !== null)
  return {
    start: str(resource.start),
    slotId: arr(resource.slot).map((s) => refId(s, 'Slot')).find((x) => x !== null) ?? null,
    patientId: patient ?? null,
    status: str(resource.status),
  }
}

export interface SlotIndex {
  scheduleId: string | null
  start: string | null
  status: string | null
}

export function slotIndex(resource: Json): SlotIndex {
  return { scheduleId: refId(resource.schedule, 'Schedule'), start: str(resource.start), status: str(resource.status) }
}
