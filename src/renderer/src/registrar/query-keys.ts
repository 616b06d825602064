// The TanStack query keys of the registrar screens, and which of them a 'data.changed' event
// (the FHIR types that changed in the local copy) makes stale. Pure.
import type { QueryKey } from '@tanstack/react-query'

export const KEYS = {
  search: (query: string) => ['patients.search', query] as const,
  patient: (id: string) => ['patients.get', id] as const,
  patientAppointments: (id: string) => ['patients.appointments', id] as const,
  doctors: ['schedule.doctors'] as const,
  slots: (scheduleId: string, from: string, days: number) => ['schedule.slots', scheduleId, from, days] as const,
  syncStatus: ['sync.status'] as const,
  problems: ['sync.problems'] as const,
  audit: ['audit.list'] as const,
} as const

/** Prefixes (all queries of a method) each FHIR type feeds. */
const FED_BY: Readonly<Record<string, readonly QueryKey[]>> = {
  Patient: [['patients.search'], ['patients.get'], ['patients.appointments'], ['schedule.slots']],
  Appointment: [['schedule.slots'], ['patients.appointments']],
  Slot: [['schedule.slots']],
  Schedule: [['schedule.doctors'], ['schedule.slots']],
  Practitioner: [['schedule.doctors'], ['schedule.slots'], ['patients.appointments']],
  PractitionerRole: [['schedule.doctors']],
}

/** Every local change is a possible sync problem and an audit entry. */
const ALWAYS: readonly QueryKey[] = [KEYS.problems, KEYS.audit]

/** The query prefixes to invalidate for the changed types, each once. */
export function keysForTypes(types: readonly string[]): QueryKey[] {
  const seen = new Set<string>()
  const keys: QueryKey[] = []
  for (const key of [...types.flatMap((t) => FED_BY[t] ?? []), ...ALWAYS]) {
    const id = JSON.stringify(key)
    if (seen.has(id)) continue
    seen.add(id)
    keys.push(key)
  }
  return keys
}
