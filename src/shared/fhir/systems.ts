// FHIR R4 resource types the portal's sync API serves, and the identifier / code systems of the
// Russian identifiers in them. One home for these URIs: the portal indexes by them and the
// workstation writes them.

export const FHIR_RESOURCE_TYPES = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Encounter',
  'Condition',
  'Observation',
  'MedicationRequest',
  'Appointment',
  'Schedule',
  'Slot',
  'DocumentReference',
] as const
export type FhirResourceType = (typeof FHIR_RESOURCE_TYPES)[number]

export function isFhirResourceType(s: string): s is FhirResourceType {
  return (FHIR_RESOURCE_TYPES as readonly string[]).includes(s)
}

/** Identifier systems: the certificate-profile OIDs for СНИЛС, ИНН, ОГРН (domain.md). */
export const FHIR_SYSTEMS = {
  snils: 'urn:oid:1.2.643.100.3',
  inn: 'urn:oid:1.2.643.3.131.1.1',
  ogrn: 'urn:oid:1.2.643.100.1',
  /** Полис ОМС единого образца (16 digits). Project URI: no public OID is pinned down in domain.md. */
  oms: 'urn:lkmr:identifier:oms',
  /** МКБ-10 in НСИ. */
  icd10: 'urn:oid:1.2.643.5.1.13.13.11.1005',
} as const

/** Ids: FHIR's [A-Za-z0-9\-\.]{1,64}. */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/

export const FHIR_CONTENT_TYPE = 'application/fhir+json'

/** Project extensions (no national profile covers them); the workstation writes, both sides read. */
export const FHIR_EXTENSIONS = {
  /** Patient: one прикрепление each (id, organization, area, basis, period, endReason), history in order. */
  attachment: 'urn:lkmr:extension:attachment',
  /** Slot: the appointment that booked it (two registrars' bookings of one slot then differ). */
  slotAppointment: 'urn:lkmr:extension:slot-appointment',
  /** OperationOutcome.issue: the error catalogue params of the code (outcome.ts). */
  errorParams: 'urn:lkmr:error-params',
} as const
