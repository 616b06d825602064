import { describe, expect, it } from 'vitest'
import type { AppErrorData } from '../../../shared/errors'
import { validatePatientForm } from '../../../shared/patient-form'
import type { PatientForm } from '../../../shared/registrar'
import { draftFromForm, emptyDraft, errorForDisplay, fieldOfError, followRecord, formToSave, sameDraft, serverProblem, visibleProblems, type PatientField } from './patient-model'

const form: PatientForm = {
  family: 'Иванова',
  given: 'Мария',
  patronymic: '',
  gender: 'female',
  birthDate: '1980-03-14',
  snils: '11223344595',
  oms: '',
  phone: '+79001234567',
  address: '',
}

const fieldInvalid = (field: string, reason = 'Такой СНИЛС уже у другого пациента.'): AppErrorData => ({ code: 'FIELD_INVALID', params: { field, reason } })

describe('the form as typed and as sent', () => {
  it('shows a stored form the way it is typed, and sends it back unchanged', () => {
    const draft = draftFromForm(form)
    expect(draft).toMatchObject({ birthDate: '14.03.1980', snils: '112-233-445 95', phone: '+7 900 123-45-67' })
    expect(formToSave(draft)).toEqual(form)
  })

  it('starts a new patient empty, and sends nothing until a gender is chosen', () => {
    const draft = emptyDraft()
    expect(Object.values(draft).every((v) => v === '' || v === null)).toBe(true)
    expect(formToSave({ ...draftFromForm(form), gender: null })).toBeNull()
  })
})

describe('FIELD_INVALID from the core', () => {
  it('names the field by its key or by the label the form shows', () => {
    // What the core sends: the label for the catalogue text, the key beside it.
    expect(fieldOfError({ code: 'FIELD_INVALID', params: { field: 'СНИЛС', fieldName: 'snils', reason: 'x' } })).toBe('snils')
    expect(fieldOfError({ code: 'FIELD_INVALID', params: { field: 'Дата открепления', fieldName: 'to', reason: 'x' } })).toBeNull()
    expect(fieldOfError(fieldInvalid('snils'))).toBe('snils')
    expect(fieldOfError(fieldInvalid('СНИЛС'))).toBe('snils')
    expect(fieldOfError(fieldInvalid('Полис ОМС'))).toBe('oms')
    expect(fieldOfError(fieldInvalid('unknown'))).toBeNull()
    expect(fieldOfError({ code: 'SLOT_TAKEN', params: { field: 'snils' } })).toBeNull()
  })

  it('is shown by the field label, never the key', () => {
    expect(errorForDisplay(fieldInvalid('snils')).params.field).toBe('СНИЛС')
    const other: AppErrorData = { code: 'INTERNAL', params: {} }
    expect(errorForDisplay(other)).toBe(other)
  })

  it('stays under the field until the value it refused is changed', () => {
    const draft = draftFromForm(form)
    const server = serverProblem(fieldInvalid('snils'), draft)
    expect(server).toEqual({ field: 'snils', reason: 'Такой СНИЛС уже у другого пациента.', value: '112-233-445 95' })
    const none = new Set<PatientField>()
    expect(visibleProblems([], draft, none, false, server)).toEqual({ snils: 'Такой СНИЛС уже у другого пациента.' })
    expect(visibleProblems([], { ...draft, snils: '112-233-445 9' }, none, false, server)).toEqual({})
  })
})

describe('which problems show', () => {
  const draft = { ...emptyDraft(), family: 'Ivanova' }
  const problems = validatePatientForm(draft, new Date(2026, 10, 25))

  it('shows a field problem once the field was left, and all of them after a save was tried', () => {
    expect(visibleProblems(problems, draft, new Set(), false, null)).toEqual({})
    expect(Object.keys(visibleProblems(problems, draft, new Set<PatientField>(['family']), false, null))).toEqual(['family'])
    expect(Object.keys(visibleProblems(problems, draft, new Set(), true, null))).toEqual(['family', 'given', 'gender', 'birthDate'])
  })

  it("prefers the form's own message to the core's for the same field", () => {
    const server = serverProblem(fieldInvalid('family', 'от ядра'), draft)
    expect(visibleProblems(problems, draft, new Set<PatientField>(['family']), false, server).family).toMatch(/латинские/)
  })
})

describe('a record that changes under the open form', () => {
  const newer: PatientForm = { ...form, phone: '+79161112233', address: 'г. Москва, ул. Лесная, д. 3' }

  it('follows the newer record while the form is as it was filled', () => {
    const shown = followRecord(draftFromForm(form), form, newer)
    expect(sameDraft(shown, draftFromForm(newer))).toBe(true)
    // A new patient's empty form takes the record too.
    expect(sameDraft(followRecord(emptyDraft(), null, newer), draftFromForm(newer))).toBe(true)
  })

  it('keeps what the registrar typed', () => {
    const typed = { ...draftFromForm(form), family: 'Петрова' }
    expect(followRecord(typed, form, newer)).toBe(typed)
    const started = { ...emptyDraft(), family: 'Сид' }
    expect(followRecord(started, null, newer)).toBe(started)
  })

  it('compares drafts field by field', () => {
    expect(sameDraft(draftFromForm(form), draftFromForm({ ...form }))).toBe(true)
    expect(sameDraft(draftFromForm(form), { ...draftFromForm(form), gender: 'male' })).toBe(false)
  })
})
