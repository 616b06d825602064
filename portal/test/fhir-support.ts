// Sessions for FHIR tests: workers with given roles in given organisations, logged in with EDS
// through the real endpoints; and small request helpers for the FHIR API.
import { expect } from 'vitest'
import type { Role } from '../../src/shared/model'
import { snilsWithChecksum } from '../../src/shared/validators/snils'
import { omsWithChecksum } from '../../src/shared/validators/oms'
import { ogrnWithChecksum } from '../../src/shared/validators/ogrn'
import { FHIR_SYSTEMS } from '../../src/shared/fhir/systems'
import type { SessionResponse } from '../../src/shared/portal-api'
import { addWorker, issueUser, login, nextSnils, worker, type ApiResponse, type TestPortal } from './support'

export const FHIR = '/api/v1/fhir'
export const ORG_A = '1027700132195'
export const ORG_B = ogrnWithChecksum('103773901089')

export type Fhir = <T = Record<string, unknown>>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  o?: { json?: unknown; raw?: string; headers?: Record<string, string> },
) => Promise<ApiResponse<T>>

/** A logged-in worker: its FHIR client carries the access token. */
export async function fhirSession(portal: TestPortal, roles: Role[], ogrn: string | null = ORG_A): Promise<Fhir> {
  const snils = nextSnils()
  await addWorker(portal.db, worker(snils, { roles, organisationOgrn: ogrn }))
  const user = await issueUser(portal.pki.ca, { snils })
  const r = await login(portal.api, user)
  expect(r.status).toBe(200)
  const token = (r.body as SessionResponse).accessToken
  return (method, path, o = {}) =>
    portal.api(method, path.startsWith('/') ? path : `${FHIR}/${path}`, {
      token,
      json: o.json,
      raw: o.raw,
      headers: { ...(o.json !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...o.headers },
    })
}

let counter = 0
/** A patient with a fresh valid СНИЛС and полис ОМС. */
export function patient(family: string, given: string[], extra: Record<string, unknown> = {}) {
  counter++
  const snils = snilsWithChecksum(String(200_000_000 + counter * 37 + Math.floor(Math.random() * 30)).padStart(9, '0'))
  const oms = omsWithChecksum(String(7_700_000_000_000_00n + BigInt(counter * 101 + Math.floor(Math.random() * 100))).padStart(15, '0'))
  return {
    resourceType: 'Patient',
    identifier: [
      { system: FHIR_SYSTEMS.snils, value: snils },
      { system: FHIR_SYSTEMS.oms, value: oms },
    ],
    name: [{ family, given }],
    gender: 'female',
    birthDate: '1980-05-17',
    ...extra,
  }
}

export const snilsOf = (p: { identifier: Array<{ system: string; value: string }> }) => p.identifier.find((i) => i.system === FHIR_SYSTEMS.snils)!.value
export const omsOf = (p: { identifier: Array<{ system: string; value: string }> }) => p.identifier.find((i) => i.system === FHIR_SYSTEMS.oms)!.value

export interface Outcome {
  resourceType: 'OperationOutcome'
  issue: Array<{ severity: string; code: string; details: { coding: Array<{ system: string; code: string }>; text: string }; diagnostics?: string; expression?: string[] }>
}

/** Asserts an OperationOutcome answer with this status, catalogue code and FHIR issue type. */
export function expectOutcome(r: ApiResponse, status: number, code: string, issue?: string): Outcome {
  expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status })
  expect(String(r.headers['content-type'])).toContain('application/fhir+json')
  const o = r.body as Outcome
  expect(o.resourceType).toBe('OperationOutcome')
  expect(o.issue[0]!.details.coding[0]).toEqual({ system: 'urn:lkmr:error', code })
  expect(o.issue[0]!.details.text.length).toBeGreaterThan(5)
  if (issue) expect(o.issue[0]!.code).toBe(issue)
  expect(r.text).not.toMatch(/at .*\.ts|stack|PGlite|SELECT /i)
  return o
}

export interface BundleEntry {
  fullUrl?: string
  resource?: Record<string, unknown> & { id: string; meta: { versionId: string; lastUpdated: string } }
  request?: { method: string; url: string }
  response?: { status: string; location?: string; etag?: string; outcome?: Outcome }
}
export interface Bundle {
  resourceType: 'Bundle'
  type: string
  total?: number
  link: Array<{ relation: string; url: string }>
  entry: BundleEntry[]
}

export const linkOf = (b: Bundle, relation: string) => b.link.find((l) => l.relation === relation)?.url ?? null
/** The path + query of a bundle link (the client's base URL is the portal's). */
export const pathOf = (url: string) => {
  const u = new URL(url)
  return `${u.pathname}${u.search}`
}
