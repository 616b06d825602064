// Who may read and write what: by role (carried in the session) and by organisation (a resource
// belongs to the organisation of the worker who created it; others do not see it at all).
// Administrators keep the directory (organisations, practitioners) of every organisation but do
// not read clinical data; registrars book and register but do not read diagnoses.
import { AppError } from '../../../src/shared/errors'
import type { Role } from '../../../src/shared/model'
import { FHIR_RESOURCE_TYPES, type FhirResourceType } from '../../../src/shared/fhir/systems'
import type { Caller } from '../auth/guard'

interface Rule {
  read: readonly Role[]
  write: readonly Role[]
}

const CARE: readonly Role[] = ['doctor', 'nurse', 'head']
const FRONT_DESK: readonly Role[] = ['doctor', 'nurse', 'registrar', 'head']
const EVERYONE: readonly Role[] = ['doctor', 'nurse', 'registrar', 'head', 'admin']
const DIRECTORY: Rule = { read: EVERYONE, write: ['admin', 'head'] }
const SCHEDULING: Rule = { read: EVERYONE, write: FRONT_DESK }
const CLINICAL: Rule = { read: CARE, write: ['doctor', 'head'] }

export const ACCESS: Readonly<Record<FhirResourceType, Rule>> = {
  Patient: { read: FRONT_DESK, write: FRONT_DESK },
  Practitioner: DIRECTORY,
  PractitionerRole: DIRECTORY,
  Organization: DIRECTORY,
  Encounter: CLINICAL,
  Condition: CLINICAL,
  Observation: { read: CARE, write: CARE },
  MedicationRequest: CLINICAL,
  Appointment: SCHEDULING,
  Schedule: SCHEDULING,
  Slot: SCHEDULING,
  DocumentReference: CLINICAL,
}

export type Operation = 'read' | 'write'

export function allowed(caller: Caller, type: FhirResourceType, op: Operation): boolean {
  return caller.roles.some((r) => ACCESS[type][op].includes(r))
}

export function requireAccess(caller: Caller, type: FhirResourceType, op: Operation): void {
  if (!allowed(caller, type, op)) {
    throw new AppError('ACCESS_DENIED', {}, `${op} ${type} not allowed for roles ${caller.roles.join(',') || '(none)'}`)
  }
  requireOrganisation(caller)
}

/** Everyone but administrators works inside an organisation; without one in the register, nothing is theirs. */
export function requireOrganisation(caller: Caller): void {
  if (!caller.roles.includes('admin') && !caller.organisationOgrn) {
    throw new AppError('ACCESS_DENIED', {}, 'the worker has no organisation in the register')
  }
}

export function readableTypes(caller: Caller): FhirResourceType[] {
  return FHIR_RESOURCE_TYPES.filter((t) => allowed(caller, t, 'read'))
}

/**
 * The organisation filter for the caller: null means every organisation (administrators), else
 * the caller's ОГРН. A caller without one sees nothing (requireAccess refuses first).
 */
export function orgScope(caller: Caller): string | null {
  return caller.roles.includes('admin') ? null : (caller.organisationOgrn ?? '-')
}

/** The organisation a new resource belongs to. */
export function ownerOrg(caller: Caller): string | null {
  return caller.organisationOgrn
}
