import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FHIR_EXTENSIONS, FHIR_SYSTEMS } from '../../../shared/fhir/systems'
import { buildMerged, canonical, compareRows, flatten, PATIENT_FIELD_KEYS, type Json } from './conflict-model'

const ATTACH = FHIR_EXTENSIONS.attachment

const remote: Json = {
  resourceType: 'Patient',
  id: 'p1',
  meta: { versionId: '4', lastUpdated: '2026-11-25T10:00:00Z' },
  identifier: [
    { system: FHIR_SYSTEMS.snils, value: '11223344595' },
    { system: FHIR_SYSTEMS.oms, value: '7700000000000017' },
    { system: 'urn:other', value: 'x' },
  ],
  name: [{ use: 'official', family: 'Иванова', given: ['Мария', 'Петровна'] }],
  gender: 'female',
  birthDate: '1980-03-14',
  telecom: [
    { system: 'phone', value: '+79001234567' },
    { system: 'email', value: 'm@example.ru' },
  ],
  address: [{ text: 'г. Москва, ул. Ленина, д. 1' }],
  extension: [
    { url: 'urn:other:extension', valueString: 'не прикрепление' },
    {
      url: ATTACH,
      extension: [
        { url: 'id', valueString: 'att-1' },
        { url: 'area', valueString: '5' },
        { url: 'basis', valueCode: 'territorial' },
        { url: 'period', valuePeriod: { start: '2026-01-10' } },
      ],
    },
  ],
}

const local: Json = {
  ...structuredClone(remote),
  meta: { versionId: '3' },
  identifier: [
    { system: 'urn:other', value: 'x' },
    { system: FHIR_SYSTEMS.snils, value: '11223344595' },
    { system: FHIR_SYSTEMS.oms, value: '5500001234567890' },
  ],
  name: [{ use: 'official', family: 'Петрова', given: ['Мария', 'Петровна'] }],
  telecom: [{ system: 'phone', value: '+79161112233' }],
  extension: [
    { url: 'urn:other:extension', valueString: 'не прикрепление' },
    {
      url: ATTACH,
      extension: [
        { url: 'id', valueString: 'att-1' },
        { url: 'area', valueString: '5' },
        { url: 'basis', valueCode: 'territorial' },
        { url: 'period', valuePeriod: { start: '2026-01-10', end: '2026-11-19' } },
        { url: 'endReason', valueString: 'Прикреплён заново' },
      ],
    },
    {
      url: ATTACH,
      extension: [
        { url: 'id', valueString: 'att-2' },
        { url: 'area', valueString: '7' },
        { url: 'basis', valueCode: 'application' },
        { url: 'period', valuePeriod: { start: '2026-11-20' } },
      ],
    },
  ],
}

const row = (rows: ReturnType<typeof compareRows>, key: string) => rows.find((r) => r.key === key)

const words = { basis: (code: string) => (code === 'territorial' ? 'по месту жительства' : 'по заявлению') }

describe('a Patient conflict, field by field', () => {
  const rows = compareRows('Patient', local, remote, words)

  it('reads the fields a registrar knows, in the form order', () => {
    expect(rows.map((r) => r.key)).toEqual(PATIENT_FIELD_KEYS)
    expect(row(rows, 'name')).toEqual({ key: 'name', local: 'Петрова Мария Петровна', remote: 'Иванова Мария Петровна', differs: true })
    expect(row(rows, 'birthDate')).toEqual({ key: 'birthDate', local: '14.03.1980', remote: '14.03.1980', differs: false })
    expect(row(rows, 'snils')).toMatchObject({ local: '112-233-445 95', remote: '112-233-445 95', differs: false })
    expect(row(rows, 'oms')).toMatchObject({ local: '5500001234567890', remote: '7700000000000017', differs: true })
    expect(row(rows, 'phone')).toMatchObject({ local: '+7 916 111-22-33', remote: '+7 900 123-45-67', differs: true })
    expect(row(rows, 'address')).toMatchObject({ remote: 'г. Москва, ул. Ленина, д. 1', differs: false })
    expect(row(rows, 'attachment')).toMatchObject({
      local: '5 · по месту жительства · 10.01.2026 – 19.11.2026; 7 · по заявлению · 20.11.2026 – …',
      remote: '5 · по месту жительства · 10.01.2026 – …',
      differs: true,
    })
  })

  it('does not count the order of identifiers or keys as a difference, nor other telecom entries', () => {
    expect(row(rows, 'snils')?.differs).toBe(false)
    expect(canonical({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(canonical({ a: [1, { c: 3, d: 2 }], b: 1 }))
  })

  it('shows basis codes as they are without words, and an extension of another shape by its values', () => {
    expect(row(compareRows('Patient', null, remote), 'attachment')?.remote).toBe('5 · territorial · 10.01.2026 – …')
    const odd = { resourceType: 'Patient', extension: [{ url: ATTACH, valueString: 'участок 9', valueDate: '2026-02-03' }] }
    expect(row(compareRows('Patient', odd, null), 'attachment')?.local).toBe('участок 9, 03.02.2026')
  })

  it('shows an absent field as null and a name from its text when it has one', () => {
    const bare = compareRows('Patient', { resourceType: 'Patient', name: [{ text: 'Иванова М. П.' }] }, null)
    expect(row(bare, 'name')).toEqual({ key: 'name', local: 'Иванова М. П.', remote: null, differs: true })
    expect(row(bare, 'phone')).toEqual({ key: 'phone', local: null, remote: null, differs: false })
  })

  it('merges from the portal version, taking only the chosen fields from ours', () => {
    const merged = buildMerged('Patient', local, remote, new Set(['name', 'phone']))
    expect(merged.meta).toEqual(remote.meta)
    expect(merged.id).toBe('p1')
    expect(merged.name).toEqual(local.name)
    // The portal's e-mail stays; the phone is ours.
    expect(merged.telecom).toEqual([
      { system: 'email', value: 'm@example.ru' },
      { system: 'phone', value: '+79161112233' },
    ])
    expect(merged.identifier).toEqual(remote.identifier)
    expect(merged.extension).toEqual(remote.extension)
    const after = compareRows('Patient', local, merged)
    expect(after.filter((r) => r.differs).map((r) => r.key)).toEqual(['oms', 'attachment'])
  })

  it('replaces only the chosen identifier and keeps the others', () => {
    const merged = buildMerged('Patient', local, remote, new Set(['oms', 'attachment']))
    expect(merged.identifier).toEqual([
      { system: FHIR_SYSTEMS.snils, value: '11223344595' },
      { system: 'urn:other', value: 'x' },
      { system: FHIR_SYSTEMS.oms, value: '5500001234567890' },
    ])
    expect(merged.extension).toEqual(local.extension)
  })

  it('knows the прикрепление by its extension URL only, not by a URL that merely looks like one', () => {
    const lookalike = { url: 'http://example.org/fhir/StructureDefinition/attachment-photo', valueString: 'фото.jpg' }
    const withPhoto = (json: Json, photo: string): Json => ({
      ...structuredClone(json),
      extension: [...(json.extension as unknown[]), { ...lookalike, valueString: photo }],
    })
    const l = withPhoto(local, 'моё-фото.jpg')
    const r = withPhoto(remote, 'фото.jpg')
    // The look-alike differs, yet it is not shown as the прикрепление: the row reads as before.
    expect(row(compareRows('Patient', l, r, words), 'attachment')).toEqual(row(rows, 'attachment'))
    // Keeping our прикрепление leaves the portal's look-alike as it is.
    const merged = buildMerged('Patient', l, r, new Set(['attachment']))
    expect(merged.extension).toEqual([
      { url: 'urn:other:extension', valueString: 'не прикрепление' },
      { ...lookalike, valueString: 'фото.jpg' },
      ...(local.extension as Json[]).filter((e) => e.url === FHIR_EXTENSIONS.attachment),
    ])
  })

  it('removes a field ours no longer has', () => {
    const withoutPhone: Json = { ...structuredClone(local), telecom: [] }
    delete withoutPhone.address
    const merged = buildMerged('Patient', withoutPhone, remote, new Set(['phone', 'address']))
    expect(merged.telecom).toEqual([{ system: 'email', value: 'm@example.ru' }])
    expect('address' in merged).toBe(false)
  })

  it('does not change the versions it was given', () => {
    const before = canonical(remote)
    buildMerged('Patient', local, remote, new Set(PATIENT_FIELD_KEYS))
    expect(canonical(remote)).toBe(before)
  })

  it('equals ours in every field when every field is taken from ours, and the portal version when none is', () => {
    const all = buildMerged('Patient', local, remote, new Set(PATIENT_FIELD_KEYS))
    expect(compareRows('Patient', local, all).every((r) => !r.differs)).toBe(true)
    expect(canonical(buildMerged('Patient', local, remote, new Set()))).toBe(canonical(remote))
  })
})

describe('any other resource, as flattened paths', () => {
  const remoteAppt: Json = {
    resourceType: 'Appointment',
    id: 'a1',
    meta: { versionId: '2' },
    status: 'booked',
    start: '2026-11-25T09:00:00+03:00',
    participant: [{ actor: { reference: 'Patient/p1' }, status: 'accepted' }],
    reasonCode: [{ text: 'Кашель' }],
  }
  const localAppt: Json = {
    resourceType: 'Appointment',
    id: 'a1',
    meta: { versionId: '1' },
    status: 'cancelled',
    start: '2026-11-25T09:00:00+03:00',
    participant: [{ actor: { reference: 'Patient/p1' }, status: 'declined' }],
    comment: 'Пациент позвонил',
  }

  it('flattens nested values into paths, leaving out id, meta and resourceType', () => {
    expect([...flatten(remoteAppt)]).toEqual([
      ['status', 'booked'],
      ['start', '2026-11-25T09:00:00+03:00'],
      ['participant[0].actor.reference', 'Patient/p1'],
      ['participant[0].status', 'accepted'],
      ['reasonCode[0].text', 'Кашель'],
    ])
    expect([...flatten({ a: [], b: {}, c: 1, d: null, e: true })]).toEqual([
      ['a', '[]'],
      ['b', '{}'],
      ['c', '1'],
      ['d', 'null'],
      ['e', 'true'],
    ])
  })

  it('compares path by path, both sides', () => {
    const rows = compareRows('Appointment', localAppt, remoteAppt)
    expect(rows.filter((r) => r.differs).map((r) => [r.key, r.local, r.remote])).toEqual([
      ['status', 'cancelled', 'booked'],
      ['participant[0].status', 'declined', 'accepted'],
      ['comment', 'Пациент позвонил', null],
      ['reasonCode[0].text', null, 'Кашель'],
    ])
  })

  it('merges the chosen paths, adding and removing as ours has them (containers left empty go too)', () => {
    const merged = buildMerged('Appointment', localAppt, remoteAppt, new Set(['participant[0].status', 'comment', 'reasonCode[0].text']))
    expect(merged).toEqual({
      resourceType: 'Appointment',
      id: 'a1',
      meta: { versionId: '2' },
      status: 'booked',
      start: '2026-11-25T09:00:00+03:00',
      participant: [{ actor: { reference: 'Patient/p1' }, status: 'declined' }],
      comment: 'Пациент позвонил',
    })
  })

  it('drops array items ours does not have without shifting the ones after them', () => {
    const merged = buildMerged('Patient-like', { given: ['Мария'] }, { given: ['Мария', 'Петровна', 'Ивановна'] }, new Set(['given[1]']))
    expect(merged.given).toEqual(['Мария', 'Ивановна'])
  })

  const jsonLeaf = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean())
  const resource = fc.dictionary(
    fc.constantFrom('status', 'start', 'comment', 'priority', 'description'),
    fc.oneof(jsonLeaf, fc.record({ text: jsonLeaf, code: jsonLeaf }, { requiredKeys: [] })),
  )

  it('taking every differing path from ours gives ours; taking none gives the portal version', () => {
    fc.assert(
      fc.property(resource, resource, (l, r) => {
        const ours = { resourceType: 'Task', ...l }
        const theirs = { resourceType: 'Task', ...r }
        const differing = new Set(compareRows('Task', ours, theirs).filter((x) => x.differs).map((x) => x.key))
        const merged = buildMerged('Task', ours, theirs, differing)
        expect(compareRows('Task', ours, merged).filter((x) => x.differs)).toEqual([])
        expect(canonical(buildMerged('Task', ours, theirs, new Set()))).toBe(canonical(theirs))
      }),
    )
  })
})
