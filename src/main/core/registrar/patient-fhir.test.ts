// The registrar's patient form ↔ FHIR Patient: round trips over valid forms, what an edit keeps of
// the previous resource, the прикрепление history as extensions, and what the index takes of it.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FHIR_SYSTEMS } from '../../../shared/fhir/systems'
import { normalizePatientForm, validatePatientForm } from '../../../shared/patient-form'
import type { Attachment, PatientForm } from '../../../shared/registrar'
import { omsWithChecksum } from '../../../shared/validators/oms'
import { snilsWithChecksum } from '../../../shared/validators/snils'
import { ATTACHMENT_EXTENSION, hasAttachmentInForce, patientIndex, type Json } from '../store/index-fields'
import { attachmentsOf, formToPatient, patientToForm, withAttachments } from './patient-fhir'

const TODAY = new Date('2025-06-01T12:00:00Z')
const UPPER = [...'АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ']
const LOWER = [...'абвгдеёжзийклмнопрстуфхцчшщъыьэюя']

const word = fc.tuple(fc.constantFrom(...UPPER), fc.string({ unit: fc.constantFrom(...LOWER), minLength: 1, maxLength: 12 })).map(([a, b]) => a + b)
const name = fc.oneof({ arbitrary: word, weight: 4 }, { arbitrary: fc.tuple(word, word).map(([a, b]) => `${a}-${b}`), weight: 1 })
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n })
const isoDate = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2025, 4, 31) }).map((ms) => new Date(ms).toISOString().slice(0, 10))

const validForm: fc.Arbitrary<PatientForm> = fc.record({
  family: name,
  given: name,
  patronymic: fc.oneof(fc.constant(''), name),
  gender: fc.constantFrom('male' as const, 'female' as const),
  birthDate: isoDate,
  snils: fc.oneof(fc.constant(''), digits(9).map(snilsWithChecksum)),
  oms: fc.oneof(fc.constant(''), digits(15).map(omsWithChecksum)),
  phone: fc.oneof(fc.constant(''), digits(10).map((d) => `+7${d}`)),
  address: fc.oneof(fc.constant(''), fc.array(word, { minLength: 1, maxLength: 6 }).map((w) => `г. ${w.join(', д. ')}`)),
})

const attachment: fc.Arbitrary<Attachment> = fc.record({
  id: fc.uuid(),
  organisation: fc.string({ maxLength: 40 }),
  area: fc.string({ maxLength: 10 }),
  basis: fc.constantFrom('application' as const, 'territorial' as const),
  from: isoDate,
  to: fc.option(isoDate, { nil: null }),
  endReason: fc.option(fc.string({ minLength: 1, maxLength: 30 }), { nil: null }),
})

const SNILS = snilsWithChecksum('112233445')
const OMS = omsWithChecksum('770000000000001')

const form: PatientForm = {
  family: 'Иванова',
  given: 'Мария',
  patronymic: 'Петровна',
  gender: 'female',
  birthDate: '1980-11-25',
  snils: SNILS,
  oms: OMS,
  phone: '+79001234567',
  address: 'г. Москва, ул. Ленина, д. 1',
}

describe('formToPatient / patientToForm', () => {
  it('makes a FHIR Patient of a new patient form', () => {
    expect(formToPatient(form, 'p-1', null)).toEqual({
      resourceType: 'Patient',
      id: 'p-1',
      name: [{ use: 'official', family: 'Иванова', given: ['Мария', 'Петровна'] }],
      gender: 'female',
      birthDate: '1980-11-25',
      identifier: [
        { system: FHIR_SYSTEMS.snils, value: SNILS },
        { system: FHIR_SYSTEMS.oms, value: OMS },
      ],
      telecom: [{ system: 'phone', value: '+79001234567', use: 'mobile' }],
      address: [{ use: 'home', type: 'physical', text: 'г. Москва, ул. Ленина, д. 1', country: 'RU' }],
    })
  })

  it('leaves out what the form leaves empty', () => {
    expect(formToPatient({ ...form, patronymic: '', snils: '', oms: '', phone: '', address: '' }, 'p-2', null)).toEqual({
      resourceType: 'Patient',
      id: 'p-2',
      name: [{ use: 'official', family: 'Иванова', given: ['Мария'] }],
      gender: 'female',
      birthDate: '1980-11-25',
    })
  })

  it('round-trips every valid form, new or over an earlier state', () => {
    fc.assert(
      fc.property(validForm, validForm, (a, b) => {
        expect(validatePatientForm(a, TODAY)).toEqual([])
        expect(normalizePatientForm(a)).toEqual(a)
        const created = formToPatient(a, 'p-1', null)
        expect(patientToForm(created)).toEqual(a)
        const edited = formToPatient(b, 'p-1', created)
        expect(patientToForm(edited)).toEqual(b)
        expect(edited).toEqual(formToPatient(b, 'p-1', null))
      }),
      { numRuns: 300 },
    )
  })

  it('reads what the index takes from it the same way', () => {
    fc.assert(
      fc.property(validForm, (f) => {
        const idx = patientIndex(formToPatient(f, 'p-1', null))
        expect(idx.displayName).toBe([f.family, f.given, f.patronymic].filter(Boolean).join(' '))
        expect(idx.snils).toBe(f.snils || null)
        expect(idx.oms).toBe(f.oms || null)
        expect(idx.birthDate).toBe(f.birthDate)
        expect(idx.phone).toBe(f.phone || null)
        expect(idx.gender).toBe(f.gender)
        expect(idx.attached).toBe(false)
      }),
      { numRuns: 100 },
    )
  })

  it('keeps what the form does not show of the previous resource, and drops its meta', () => {
    const oldSnils = snilsWithChecksum('987654321')
    const previous: Json = {
      resourceType: 'Patient',
      id: 'p-1',
      meta: { versionId: '4', lastUpdated: '2025-02-01T10:00:00.000Z' },
      active: true,
      maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] },
      communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ru' }] }, preferred: true }],
      generalPractitioner: [{ reference: 'Practitioner/dr-1' }],
      name: [
        { use: 'maiden', family: 'Смирнова', given: ['Мария'] },
        { use: 'official', family: 'Иванова', given: ['Мария', 'Петровна'] },
      ],
      gender: 'female',
      birthDate: '1980-11-25',
      identifier: [
        { system: FHIR_SYSTEMS.snils, value: oldSnils },
        { system: 'urn:oid:1.2.643.100.4', value: '4510 123456' },
      ],
      telecom: [
        { system: 'phone', value: '+79001112233', use: 'mobile' },
        { system: 'phone', value: '+74951234567', use: 'home' },
        { system: 'email', value: 'maria@example.ru' },
      ],
      address: [
        { use: 'home', type: 'physical', text: 'г. Москва, ул. Старая, д. 2', country: 'RU' },
        { use: 'temp', text: 'г. Тверь, ул. Дачная, д. 5' },
      ],
      extension: [
        { url: 'urn:other:extension', valueString: 'кем-то добавлено' },
        { url: ATTACHMENT_EXTENSION, extension: [{ url: 'id', valueString: 'att-1' }, { url: 'period', valuePeriod: { start: '2020-01-01' } }] },
      ],
    }
    expect(patientToForm(previous)).toMatchObject({ family: 'Иванова', snils: oldSnils, phone: '+79001112233', address: 'г. Москва, ул. Старая, д. 2' })

    const edited = formToPatient({ ...form, family: 'Иванова-Смирнова', oms: '' }, 'p-1', previous)
    expect(edited).toEqual({
      resourceType: 'Patient',
      id: 'p-1',
      active: true,
      maritalStatus: previous.maritalStatus,
      communication: previous.communication,
      generalPractitioner: previous.generalPractitioner,
      name: [
        { use: 'official', family: 'Иванова-Смирнова', given: ['Мария', 'Петровна'] },
        { use: 'maiden', family: 'Смирнова', given: ['Мария'] },
      ],
      gender: 'female',
      birthDate: '1980-11-25',
      identifier: [
        { system: 'urn:oid:1.2.643.100.4', value: '4510 123456' },
        { system: FHIR_SYSTEMS.snils, value: SNILS },
      ],
      telecom: [
        { system: 'phone', value: '+79001234567', use: 'mobile' },
        { system: 'phone', value: '+74951234567', use: 'home' },
        { system: 'email', value: 'maria@example.ru' },
      ],
      address: [
        { use: 'home', type: 'physical', text: 'г. Москва, ул. Ленина, д. 1', country: 'RU' },
        { use: 'temp', text: 'г. Тверь, ул. Дачная, д. 5' },
      ],
      extension: previous.extension,
    })
    expect(patientToForm(edited)).toEqual({ ...form, family: 'Иванова-Смирнова', oms: '' })
    // The previous resource itself is not touched.
    expect((previous.name as Json[])[1]).toEqual({ use: 'official', family: 'Иванова', given: ['Мария', 'Петровна'] })
    expect(previous.meta).toEqual({ versionId: '4', lastUpdated: '2025-02-01T10:00:00.000Z' })
  })

  it('takes the first name when none is official, and keeps the others', () => {
    const previous: Json = {
      resourceType: 'Patient',
      id: 'p-1',
      name: [
        { use: 'usual', family: 'Петрова', given: ['Анна'] },
        { use: 'nickname', given: ['Аня'] },
      ],
    }
    expect(patientToForm(previous)).toMatchObject({ family: 'Петрова', given: 'Анна', patronymic: '' })
    expect(formToPatient({ ...form, family: 'Петрова', given: 'Анна', patronymic: '' }, 'p-1', previous).name).toEqual([
      { use: 'official', family: 'Петрова', given: ['Анна'] },
      { use: 'nickname', given: ['Аня'] },
    ])
  })

  it('reads a sparse resource as an empty form, not a failure', () => {
    expect(patientToForm({ resourceType: 'Patient', id: 'p-1' })).toEqual({
      family: '',
      given: '',
      patronymic: '',
      gender: 'male',
      birthDate: '',
      snils: '',
      oms: '',
      phone: '',
      address: '',
    })
    // More given names than two: all after the first are the отчество, as written.
    expect(patientToForm({ name: [{ family: 'Оглы', given: ['Рашид', 'Алиевич', 'оглы'] }] })).toMatchObject({ given: 'Рашид', patronymic: 'Алиевич оглы' })
    // A СНИЛС stored with separators is shown as digits.
    expect(patientToForm({ identifier: [{ system: FHIR_SYSTEMS.snils, value: '112-233-445 95' }] }).snils).toBe('11223344595')
  })
})

describe('attachments (прикрепление)', () => {
  const current: Attachment = { id: 'att-2', organisation: 'ГБУЗ ГП № 1', area: '12', basis: 'application', from: '2023-05-10', to: null, endReason: null }
  const ended: Attachment = { id: 'att-1', organisation: 'ГБУЗ ГП № 5', area: '3', basis: 'territorial', from: '2015-01-01', to: '2023-05-09', endReason: 'Смена места жительства' }

  it('round-trips any attachment history through the extensions', () => {
    fc.assert(
      fc.property(fc.array(attachment, { maxLength: 4 }), (list) => {
        const p = withAttachments(formToPatient(form, 'p-1', null), list)
        expect(attachmentsOf(p)).toEqual(list)
        expect(hasAttachmentInForce(p)).toBe(list.some((a) => a.to === null))
        expect(patientIndex(p).attached).toBe(list.some((a) => a.to === null))
      }),
      { numRuns: 200 },
    )
  })

  it('writes the project extension with its parts', () => {
    const p = withAttachments({ resourceType: 'Patient', id: 'p-1' }, [ended])
    expect(p.extension).toEqual([
      {
        url: ATTACHMENT_EXTENSION,
        extension: [
          { url: 'id', valueString: 'att-1' },
          { url: 'organization', valueReference: { display: 'ГБУЗ ГП № 5' } },
          { url: 'area', valueString: '3' },
          { url: 'basis', valueCode: 'territorial' },
          { url: 'period', valuePeriod: { start: '2015-01-01', end: '2023-05-09' } },
          { url: 'endReason', valueString: 'Смена места жительства' },
        ],
      },
    ])
  })

  it('replaces the history in place, keeping other extensions and dropping meta', () => {
    const other = { url: 'urn:other:extension', valueString: 'x' }
    const base: Json = { resourceType: 'Patient', id: 'p-1', meta: { versionId: '2' }, extension: [other] }
    const first = withAttachments(base, [current])
    expect(first.meta).toBeUndefined()
    expect(base.extension).toEqual([other])
    const second = withAttachments(first, [{ ...current, to: '2025-01-31', endReason: 'Открепление' }, { ...current, id: 'att-3', from: '2025-02-01' }])
    expect((second.extension as Json[])[0]).toEqual(other)
    expect((second.extension as Json[]).filter((e) => e.url === ATTACHMENT_EXTENSION)).toHaveLength(2)
    expect(attachmentsOf(second).map((a) => [a.id, a.to, a.endReason])).toEqual([
      ['att-2', '2025-01-31', 'Открепление'],
      ['att-3', null, null],
    ])
    expect(withAttachments({ resourceType: 'Patient', id: 'p-1' }, [])).toEqual({ resourceType: 'Patient', id: 'p-1' })
    expect(withAttachments(first, [])).toEqual({ resourceType: 'Patient', id: 'p-1', extension: [other] })
  })

  it('hasAttachmentInForce: an attachment extension with a period and no end', () => {
    expect(hasAttachmentInForce(withAttachments({}, [ended, current]))).toBe(true)
    expect(hasAttachmentInForce(withAttachments({}, [ended]))).toBe(false)
    expect(hasAttachmentInForce({})).toBe(false)
    // No period: not known to be in force.
    expect(hasAttachmentInForce({ extension: [{ url: ATTACHMENT_EXTENSION, extension: [{ url: 'id', valueString: 'x' }] }] })).toBe(false)
    // Another extension with an open period is not an attachment.
    expect(hasAttachmentInForce({ extension: [{ url: 'urn:other', extension: [{ url: 'period', valuePeriod: { start: '2020-01-01' } }] }] })).toBe(false)
    // An empty end is no end.
    expect(hasAttachmentInForce({ extension: [{ url: ATTACHMENT_EXTENSION, extension: [{ url: 'period', valuePeriod: { start: '2020-01-01', end: '' } }] }] })).toBe(true)
  })
})
