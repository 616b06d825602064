// How the portal's FHIR OperationOutcomes carry the error catalogue (errors.ts): the code in
// issue.details.coding (system ERROR_CODE_SYSTEM) and the code's params in an extension of the
// issue, e.g. a 412's current version:
//   { "extension": [{ "url": "urn:lkmr:error-params",
//                     "extension": [{ "url": "currentVersion", "valueInteger": 3 }] }], … }
// A null param is left out (FHIR has no null). The portal writes these (portal/src/fhir/outcome.ts);
// errorOfOutcome reads them back. The workstation's sync needs only the text (outcomeText): on a
// 412 it reads the portal's current version itself, to compare it with what it sent.
import { ERRORS, type AppErrorData, type ErrorCode, type ErrorParams } from '../errors'
import { FHIR_EXTENSIONS } from './systems'

export const ERROR_CODE_SYSTEM = 'urn:lkmr:error'
export const ERROR_PARAMS_EXTENSION = FHIR_EXTENSIONS.errorParams

export interface FhirExtension {
  url: string
  valueString?: string
  valueInteger?: number
  valueDecimal?: number
  valueBoolean?: boolean
  extension?: FhirExtension[]
}

const INT32 = 2 ** 31

/** The params as one complex extension; null when there is nothing to carry. */
export function errorParamsExtension(params: ErrorParams): FhirExtension | null {
  const parts: FhirExtension[] = []
  for (const [url, value] of Object.entries(params)) {
    if (value === null) continue
    if (typeof value === 'string') parts.push({ url, valueString: value })
    else if (typeof value === 'boolean') parts.push({ url, valueBoolean: value })
    else if (Number.isInteger(value) && Math.abs(value) < INT32) parts.push({ url, valueInteger: value })
    else if (Number.isFinite(value)) parts.push({ url, valueDecimal: value })
  }
  return parts.length > 0 ? { url: ERROR_PARAMS_EXTENSION, extension: parts } : null
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, code)

function paramsOf(issue: Record<string, unknown>): ErrorParams {
  const params: ErrorParams = {}
  const outer = Array.isArray(issue.extension) ? issue.extension.find((x) => isObject(x) && x.url === ERROR_PARAMS_EXTENSION) : undefined
  if (!isObject(outer) || !Array.isArray(outer.extension)) return params
  for (const part of outer.extension) {
    if (!isObject(part) || typeof part.url !== 'string') continue
    const value = [part.valueInteger, part.valueDecimal, part.valueString, part.valueBoolean].find((v) => v !== undefined)
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') params[part.url] = value
  }
  return params
}

/**
 * The catalogue error an OperationOutcome carries: the first issue with a code of ours, with its
 * params. null when the value is not an OperationOutcome or has no code of ours.
 */
export function errorOfOutcome(outcome: unknown): AppErrorData | null {
  if (!isObject(outcome) || outcome.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue)) return null
  for (const issue of outcome.issue) {
    if (!isObject(issue) || !isObject(issue.details) || !Array.isArray(issue.details.coding)) continue
    const coding = issue.details.coding.find((c) => isObject(c) && c.system === ERROR_CODE_SYSTEM && isErrorCode(c.code))
    if (isObject(coding) && isErrorCode(coding.code)) return { code: coding.code, params: paramsOf(issue) }
  }
  return null
}
