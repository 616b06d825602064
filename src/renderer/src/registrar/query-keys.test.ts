import { describe, expect, it } from 'vitest'
import { KEYS, keysForTypes } from './query-keys'

describe('keysForTypes', () => {
  it('refreshes the lists that show the changed types, and always the problems and the audit log', () => {
    expect(keysForTypes(['Patient'])).toEqual([['patients.search'], ['patients.get'], ['patients.appointments'], ['schedule.slots'], KEYS.problems, KEYS.audit])
    expect(keysForTypes(['Slot', 'Appointment'])).toEqual([['schedule.slots'], ['patients.appointments'], KEYS.problems, KEYS.audit])
    expect(keysForTypes(['Observation'])).toEqual([KEYS.problems, KEYS.audit])
    expect(keysForTypes([])).toEqual([KEYS.problems, KEYS.audit])
  })

  it('names each key once', () => {
    const keys = keysForTypes(['Patient', 'Appointment', 'Slot', 'Schedule', 'Practitioner', 'PractitionerRole', 'Patient'])
    expect(new Set(keys.map((k) => JSON.stringify(k))).size).toBe(keys.length)
  })

  it('keys a method by its name first, so a prefix matches every query of it', () => {
    expect(KEYS.search('иван')[0]).toBe('patients.search')
    expect(KEYS.slots('s', '2026-11-25', 7)).toEqual(['schedule.slots', 's', '2026-11-25', 7])
  })
})
