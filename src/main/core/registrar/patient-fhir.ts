// A patient between the registrar's form and FHIR R4: name (family, given + отчество as the
// second given), gender, birthDate, СНИЛС and полис ОМС identifiers, phone, address, and
// прикрепление as a project extension (one entry per attachment, the history kept in order).
// Elements the form does not show (other names, identifiers, phones, e-mail, addresses, extensions)
// are kept; meta is the portal's and is dropped.
import { FHIR_SYSTEMS } from '../../../shared/fhir/systems'
import type { Attachment, PatientForm } from '../../../shared/registrar'
import { ATTACHMENT_EXTENSION, identifierValue, type Json } from '../store/index-fields'

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

export function patientToForm(p: Json): PatientForm {
  const name = obj(arr(p.name).find((n) => obj(n)?.use === 'official') ?? arr(p.name)[0]) ?? {}
  const given = arr(name.given).map(str)
  const phone = arr(p.telecom).map(obj).find((t) => t?.system === 'phone')
  const address = obj(arr(p.address)[0])
  return {
    family: str(name.family),
    given: given[0] ?? '',
    patronymic: given.slice(1).join(' '),
    gender: p.gender === 'female' ? 'female' : 'male',
    birthDate: str(p.birthDate),
    snils: identifierValue(p, FHIR_SYSTEMS.snils)?.replace(/\D/g, '') ?? '',
    oms: identifierValue(p, FHIR_SYSTEMS.oms)?.replace(/\D/g, '') ?? '',
    phone: str(phone?.value),
    address: str(address?.text),
  }
}

/** The new FHIR state: the form's fields over the previous resource (or a new one). */
export function formToPatient(form: PatientForm, id: string, previous: Json | null): Json {
  const base: Json = previous ? structuredClone(previous) : { resourceType: 'Patient', id }
  // The name the form shows (the official one, else the first) is replaced; the others are kept.
  const names = arr(base.name)
  const shownName = names.find((n) => obj(n)?.use === 'official') ?? names[0]
  const otherNames = names.filter((n) => n !== shownName && obj(n)?.use !== 'official')
  base.name = [{ use: 'official', family: form.family, given: [form.given, ...(form.patronymic ? [form.patronymic] : [])] }, ...otherNames]
  base.gender = form.gender
  base.birthDate = form.birthDate
  const identifiers = arr(base.identifier).filter((i) => {
    const system = obj(i)?.system
    return system !== FHIR_SYSTEMS.snils && system !== FHIR_SYSTEMS.oms
  })
  if (form.snils) identifiers.push({ system: FHIR_SYSTEMS.snils, value: form.snils })
  if (form.oms) identifiers.push({ system: FHIR_SYSTEMS.oms, value: form.oms })
  if (identifiers.length > 0) base.identifier = identifiers
  else delete base.identifier
  // Likewise the first phone: other phones and the e-mail stay.
  const shownPhone = arr(base.telecom).find((t) => obj(t)?.system === 'phone')
  const telecom = arr(base.telecom).filter((t) => t !== shownPhone)
  if (form.phone) telecom.unshift({ system: 'phone', value: form.phone, use: 'mobile' })
  if (telecom.length > 0) base.telecom = telecom
  else delete base.telecom
  // And the first address: another one (a temporary address) stays.
  const addresses = [...(form.address ? [{ use: 'home', type: 'physical', text: form.address, country: 'RU' }] : []), ...arr(base.address).slice(1)]
  if (addresses.length > 0) base.address = addresses
  else delete base.address
  delete base.meta
  base.resourceType = 'Patient'
  base.id = id
  return base
}

function ext(url: string, value: Json): Json {
  return { url, ...value }
}

export function attachmentsOf(p: Json): Attachment[] {
  return arr(p.extension)
    .map(obj)
    .filter((e): e is Json => e?.url === ATTACHMENT_EXTENSION)
    .map((e) => {
      const part = (url: string) => obj(arr(e.extension).find((x) => obj(x)?.url === url)) ?? {}
      const period = obj(part('period').valuePeriod) ?? {}
      return {
        id: str(part('id').valueString),
        organisation: str(obj(part('organization').valueReference)?.display),
        area: str(part('area').valueString),
        basis: part('basis').valueCode === 'territorial' ? 'territorial' : 'application',
        from: str(period.start),
        to: str(period.end) || null,
        endReason: str(part('endReason').valueString) || null,
      } satisfies Attachment
    })
}

function attachmentExtension(a: Attachment): Json {
  return {
    url: ATTACHMENT_EXTENSION,
    extension: [
      ext('id', { valueString: a.id }),
      ext('organization', { valueReference: { display: a.organisation } }),
      ext('area', { valueString: a.area }),
      ext('basis', { valueCode: a.basis }),
      ext('period', { valuePeriod: { start: a.from, ...(a.to ? { end: a.to } : {}) } }),
      ...(a.endReason ? [ext('endReason', { valueString: a.endReason })] : []),
    ],
  }
}

/** The resource with this attachment history (other extensions kept, in place of the old list). */
export function withAttachments(p: Json, attachments: Attachment[]): Json {
  const out = structuredClone(p)
  const others = arr(out.extension).filter((e) => obj(e)?.url !== ATTACHMENT_EXTENSION)
  const all = [...others, ...attachments.map(attachmentExtension)]
  if (all.length > 0) out.extension = all
  else delete out.extension
  delete out.meta
  return out
}
