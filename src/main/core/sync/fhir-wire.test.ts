// Reading the portal's FHIR answers for sync. History pages are made by the portal's own bundle
// writer, so what the workstation reads is what the portal sends.
import { describe, expect, it } from 'vitest'
import { historyBundle, type BundleLink } from '../../../../portal/src/fhir/bundle'
import type { HistoryRow } from '../../../../portal/src/fhir/history'
import { errorOfOutcome } from '../../../shared/fhir/outcome'
import { thrownAppError } from '../../../../tests/support/app-error'
import { outcomeText, readBundleResponse, readHistoryPage, sameContent, versionOfEtag } from './fhir-wire'

const BASE = 'https://portal.example.ru/fhir'
const at = new Date('2025-03-01T09:00:00.000Z')

const patientV1 = { resourceType: 'Patient', id: 'p-1', meta: { versionId: '1' }, name: [{ use: 'official', family: 'Жуков', given: ['Семён'] }] }
const patientV2 = { ...patientV1, meta: { versionId: '2' }, birthDate: '1990-01-01' }
const slotV7 = { resourceType: 'Slot', id: 's-1', meta: { versionId: '7' }, status: 'busy' }

function row(r: Omit<HistoryRow, 'cursor' | 'lastUpdated' | 'body'> & { body: object | null }, n: number): HistoryRow {
  return { ...r, cursor: `900.${n}`, lastUpdated: at, body: r.body === null ? null : JSON.stringify(r.body) }
}

const rows: HistoryRow[] = [
  row({ type: 'Patient', id: 'p-1', version: 1, deleted: false, method: 'POST', body: patientV1 }, 1),
  row({ type: 'Patient', id: 'p-1', version: 2, deleted: false, method: 'PUT', body: patientV2 }, 2),
  row({ type: 'Slot', id: 's-1', version: 7, deleted: false, method: 'PUT', body: slotV7 }, 3),
  row({ type: 'Appointment', id: 'a-1', version: 3, deleted: true, method: 'DELETE', body: null }, 4),
]

const links = (relation: 'next' | 'sync', cursor: string): BundleLink[] => [
  { relation: 'self', url: `${BASE}/_history?_since=2025-01-01T00%3A00%3A00Z&_count=4&_cursor=900.0` },
  { relation, url: `${BASE}/_history?_since=2025-01-01T00%3A00%3A00Z&_count=4&_cursor=${encodeURIComponent(cursor)}` },
]

const page = (relation: 'next' | 'sync', cursor: string, r: HistoryRow[] = rows): Buffer => Buffer.from(historyBundle(BASE, r, links(relation, cursor)))
const bytes = (bundle: unknown): Buffer => Buffer.from(JSON.stringify(bundle))
const bundleOf = (p: Buffer) => JSON.parse(p.toString('utf8')) as { entry: Array<Record<string, unknown> & { request: { method: string } }> }

/** The page read, with each resource's span turned back into the resource it points at. */
function read(p: Buffer) {
  const view = readHistoryPage(p)
  return { ...view, entries: view.entries.map(({ resource, ...e }) => ({ ...e, body: resource ? (JSON.parse(p.toString('utf8', resource.start, resource.end)) as unknown) : null })) }
}

describe('readHistoryPage', () => {
  it('reads the portal history bundle: entries in order, versions from the ETags, deletes, the next page', () => {
    expect(read(page('next', '900.4'))).toEqual({
      entries: [
        { type: 'Patient', id: 'p-1', version: 1, deleted: false, body: patientV1 },
        { type: 'Patient', id: 'p-1', version: 2, deleted: false, body: patientV2 },
        { type: 'Slot', id: 's-1', version: 7, deleted: false, body: slotV7 },
        { type: 'Appointment', id: 'a-1', version: 3, deleted: true, body: null },
      ],
      cursor: '900.4',
      more: true,
    })
  })

  it('points at each resource exactly as the portal wrote it, whitespace and key order kept', () => {
    const p = page('sync', '900.4')
    const written = rows.filter((r) => r.body !== null).map((r) => r.body)
    const view = readHistoryPage(p)
    expect(view.entries.flatMap((e) => (e.resource ? [p.toString('utf8', e.resource.start, e.resource.end)] : []))).toEqual(written)
    const spaced = Buffer.from(JSON.stringify(bundleOf(p), null, 2))
    expect(read(spaced).entries).toEqual(read(p).entries)
  })

  it('takes the sync link of the last page as where the next pull starts', () => {
    expect(read(page('sync', '900.4'))).toMatchObject({ cursor: '900.4', more: false })
    expect(read(page('sync', '900.4', []))).toEqual({ entries: [], cursor: '900.4', more: false })
  })

  it('takes the next link over the sync link when both are there', () => {
    const bundle = { resourceType: 'Bundle', type: 'history', link: [...links('sync', '1.1'), ...links('next', '2.2')], entry: [] }
    expect(read(bytes(bundle))).toMatchObject({ cursor: '2.2', more: true })
  })

  it('treats an entry whose request is DELETE, or whose resource is null, as deleted', () => {
    const bundle = bundleOf(page('sync', '900.1'))
    bundle.entry[0]!.request.method = 'DELETE'
    bundle.entry[1]!.resource = null
    const [first, second] = read(bytes(bundle)).entries
    expect(first).toEqual({ type: 'Patient', id: 'p-1', version: 1, deleted: true, body: null })
    expect(second).toEqual({ type: 'Patient', id: 'p-1', version: 2, deleted: true, body: null })
  })

  it('refuses what is not a resumable history page, as a portal error', () => {
    const refused = (p: Buffer | string, why: RegExp) => {
      const e = thrownAppError(() => readHistoryPage(typeof p === 'string' ? Buffer.from(p) : p))
      expect(e.code).toBe('PORTAL_ERROR')
      expect(e.details).toMatch(why)
    }
    refused('null', /object expected/)
    refused(bytes({ resourceType: 'Bundle', type: 'searchset', link: links('next', '1.1'), entry: [] }), /not a history bundle/)
    refused(bytes({ resourceType: 'Bundle', type: 'history', link: [links('next', '1.1')[0]], entry: [] }), /without a resume link/)
    refused(bytes({ resourceType: 'Bundle', type: 'history', link: [{ relation: 'next', url: `${BASE}/_history?_count=4` }], entry: [] }), /without a resume link/)
    // Brackets out of pair in a part that is neither read nor stored.
    refused(bytes({ resourceType: 'Bundle', type: 'history', link: links('next', '1.1'), entry: [] }).toString().replace('"link"', '"meta":{],"link"'), /mismatched bracket/)
  })

  it('refuses a page cut short, with text after it, or not UTF-8', () => {
    const whole = page('next', '900.4')
    for (const cut of [1, 10, 200, whole.length - 1]) expect(() => readHistoryPage(whole.subarray(0, whole.length - cut))).toThrow(/unreadable history page/)
    expect(() => readHistoryPage(Buffer.concat([whole, Buffer.from(' {}')]))).toThrow(/text after the value/)
    // Escapes in a resource (an escaped quote and backslash do not end its strings early).
    const escaped = Buffer.from(whole.toString('utf8').replace('Жуков', 'Jukov\\u0000\\\\\\"'))
    expect(read(escaped).entries[0]!.body).toMatchObject({ name: [{ family: 'Jukov\u0000\\"' }] })
    const broken = Buffer.from(whole)
    broken[whole.indexOf(Buffer.from('Жуков'))] = 0xff
    expect(() => readHistoryPage(broken)).toThrow(/not UTF-8/)
  })

  it('checks every part it reads, and leaves the resources to be checked where they are stored', () => {
    const text = page('sync', '900.4').toString('utf8')
    // Broken outside a resource: refused here.
    expect(() => readHistoryPage(Buffer.from(text.replace('"request":{', '"request":{,')))).toThrow(/unreadable history page/)
    expect(() => readHistoryPage(Buffer.from(text.replace('"response":{"status"', '"response":{status')))).toThrow(/unreadable history page/)
    // A resource that is not an object at all: refused here; "nul" is no null.
    expect(() => readHistoryPage(Buffer.from(text.replace('"resource":{', '"resource":[{').replace('}]}},"request"', '}]}],"request"')))).toThrow()
    expect(() => readHistoryPage(bytes({ ...bundleOf(Buffer.from(text)), entry: [{ ...bundleOf(Buffer.from(text)).entry[0], resource: 'x' }] }))).toThrow(/not an object/)
    expect(() => readHistoryPage(Buffer.from(text.replace(/"resource":\{.*?\},"request"/, '"resource":nul,"request"')))).toThrow(/not an object/)
  })

  it('refuses an entry without type, id or version', () => {
    const withEntry = (entry: unknown) => bytes({ resourceType: 'Bundle', type: 'history', link: links('sync', '1.1'), entry: [entry] })
    expect(() => readHistoryPage(withEntry({ fullUrl: `${BASE}/Patient/p-1`, resource: patientV1, request: { method: 'PUT' }, response: { status: '200' } }))).toThrow(
      /without type, id or version/,
    )
    expect(() => readHistoryPage(withEntry({ resource: patientV1, request: { method: 'PUT' }, response: { etag: 'W/"1"' } }))).toThrow(/without type, id or version/)
    expect(() => readHistoryPage(withEntry({ fullUrl: 'p-1', resource: patientV1, response: { etag: 'W/"1"' } }))).toThrow(/without type, id or version/)
  })
})

describe('versionOfEtag', () => {
  it('reads weak and strong ETags with a number, nothing else', () => {
    expect(versionOfEtag('W/"3"')).toBe(3)
    expect(versionOfEtag('"12"')).toBe(12)
    expect(versionOfEtag(' W/"5" ')).toBe(5)
    expect(versionOfEtag('W/"x"')).toBeNull()
    expect(versionOfEtag('3')).toBeNull()
    expect(versionOfEtag(3)).toBeNull()
    expect(versionOfEtag(undefined)).toBeNull()
  })
})

describe('readBundleResponse', () => {
  const outcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'conflict', details: { coding: [{ system: 'urn:lkmr:error', code: 'VERSION_CONFLICT' }], text: 'Конфликт версий.' } }],
  }
  const response = {
    resourceType: 'Bundle',
    type: 'batch-response',
    entry: [
      { resource: patientV1, response: { status: '201 Created', location: 'Patient/p-1/_history/1', etag: 'W/"1"' } },
      { response: { status: '412 Precondition Failed', outcome } },
      { response: { status: 200, etag: '"4"' } },
    ],
  }

  it('reads each entry: status, version, stored resource and outcome, in order', () => {
    expect(readBundleResponse(response, 3)).toEqual([
      { status: 201, version: 1, resource: patientV1, outcome: null },
      { status: 412, version: null, resource: null, outcome },
      { status: 200, version: 4, resource: null, outcome: null },
    ])
  })

  it('refuses an answer of another size or shape', () => {
    expect(() => readBundleResponse(response, 2)).toThrow(/expected size/)
    expect(() => readBundleResponse({ ...response, resourceType: 'OperationOutcome' }, 3)).toThrow(/expected size/)
    expect(() => readBundleResponse({ resourceType: 'Bundle', type: 'batch-response' }, 0)).toThrow(/expected size/)
    expect(() => readBundleResponse({ resourceType: 'Bundle', entry: [{ response: {} }] }, 1)).toThrow(/without a status/)
    expect(() => readBundleResponse({ resourceType: 'Bundle', entry: [{}] }, 1)).toThrow(/without a status/)
  })
})

describe('outcomeText, and the code by errorOfOutcome', () => {
  it('prefers the Russian diagnostics, naming the field', () => {
    const o = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'invalid',
          details: { coding: [{ system: 'urn:lkmr:error', code: 'INVALID_INPUT' }], text: 'Неверные данные. Запрос содержит ошибку.' },
          diagnostics: 'СНИЛС не прошёл проверку контрольного числа',
          expression: ['Patient.identifier[0].value'],
        },
      ],
    }
    expect(outcomeText(o)).toBe('СНИЛС не прошёл проверку контрольного числа (Patient.identifier[0].value)')
    expect(errorOfOutcome(o)?.code).toBe('INVALID_INPUT')
  })

  it('takes the catalogue text over diagnostics in English', () => {
    const o = { issue: [{ details: { text: 'Недостаточно прав.' }, diagnostics: 'caller lacks scope patient/*.write' }] }
    expect(outcomeText(o)).toBe('Недостаточно прав.')
  })

  it('joins several issues and skips empty ones', () => {
    const o = { issue: [{ diagnostics: 'Фамилия обязательна', expression: ['Patient.name'] }, { diagnostics: 'no text' }, { details: { text: 'Дата рождения в будущем.' } }] }
    expect(outcomeText(o)).toBe('Фамилия обязательна (Patient.name); Дата рождения в будущем.')
  })

  it('says the portal gave no reason when there is none', () => {
    for (const o of [null, {}, { issue: [] }, { issue: [{ diagnostics: 'internal' }] }, 'text']) {
      expect(outcomeText(o)).toBe('Портал отклонил изменение без пояснений.')
    }
    expect(errorOfOutcome({ issue: [{ details: { text: 'x' } }] })).toBeNull()
    expect(errorOfOutcome(null)).toBeNull()
  })
})

describe('sameContent', () => {
  it('ignores meta and the order of keys, at any depth', () => {
    const ours = { resourceType: 'Patient', id: 'p-1', name: [{ family: 'Жуков', given: ['Семён'], use: 'official' }], gender: 'male' }
    const theirs = { meta: { versionId: '4', lastUpdated: '2025-03-01T09:00:00Z' }, gender: 'male', id: 'p-1', name: [{ use: 'official', given: ['Семён'], family: 'Жуков' }], resourceType: 'Patient' }
    expect(sameContent(ours, theirs)).toBe(true)
    expect(sameContent(theirs, ours)).toBe(true)
    expect(sameContent({ ...ours, extra: undefined }, ours)).toBe(true)
  })

  it('sees any other difference', () => {
    const ours = { resourceType: 'Patient', id: 'p-1', name: [{ family: 'Жуков', given: ['Семён', 'Ильич'] }] }
    expect(sameContent(ours, { ...ours, gender: 'male' })).toBe(false)
    expect(sameContent(ours, { ...ours, name: [{ family: 'Жукова', given: ['Семён', 'Ильич'] }] })).toBe(false)
    // Order inside arrays matters (FHIR lists are ordered).
    expect(sameContent(ours, { ...ours, name: [{ family: 'Жуков', given: ['Ильич', 'Семён'] }] })).toBe(false)
    expect(sameContent({ a: 1 }, { a: '1' })).toBe(false)
    expect(sameContent({ a: null }, {})).toBe(false)
    // Only the resource's own meta is the portal's: a nested "meta" is content.
    expect(sameContent({ contained: [{ meta: { v: 1 } }] }, { contained: [{ meta: { v: 2 } }] })).toBe(false)
  })
})
