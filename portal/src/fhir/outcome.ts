// Every error of the FHIR API is an OperationOutcome (application/fhir+json) with the HTTP status
// FHIR expects. The issue carries our catalogue code (details.coding, system urn:lkmr:error) so the
// workstation shows the same Russian texts as everywhere else, the code's params (an extension,
// e.g. a 412's currentVersion; src/shared/fhir/outcome.ts reads them), and where in the resource
// it was.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, ERRORS, describeError, type ErrorCode, type ErrorParams } from '../../../src/shared/errors'
import { ERROR_CODE_SYSTEM, errorParamsExtension, type FhirExtension } from '../../../src/shared/fhir/outcome'
import { FHIR_CONTENT_TYPE } from '../../../src/shared/fhir/systems'
import { HTTP_STATUS } from '../http-errors'

/** FHIR IssueType values we answer with. */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'deleted'
  | 'conflict'
  | 'multiple-matches'
  | 'not-supported'
  | 'too-costly'
  | 'throttled'
  | 'exception'
  | 'processing'

export interface Issue {
  code: IssueType
  /** Technical detail for the log and for developers; the user sees the catalogue text. */
  diagnostics?: string
  /** FHIRPath of the offending element, e.g. Patient.identifier[0].value. */
  expression?: string
}

/** A FHIR-specific failure: a catalogue code plus the issue(s) and, where FHIR wants one, a status of its own. */
export class FhirProblem extends AppError {
  readonly issues: Issue[]
  readonly status: number | undefined

  constructor(code: ErrorCode, issues: Issue[], o: { status?: number; params?: ErrorParams } = {}) {
    super(code, o.params ?? {}, issues.map((i) => i.diagnostics).filter(Boolean).join('; ') || undefined)
    this.issues = issues
    this.status = o.status
  }
}

export const invalid = (diagnostics: string, expression?: string, code: IssueType = 'invalid') =>
  new FhirProblem('INVALID_INPUT', [{ code, diagnostics, expression }])

export const notSupported = (diagnostics: string, status = 400) => new FhirProblem('INVALID_INPUT', [{ code: 'not-supported', diagnostics }], { status })

const ISSUE_BY_CODE: Partial<Record<ErrorCode, IssueType>> = {
  INVALID_INPUT: 'invalid',
  SESSION_EXPIRED: 'login',
  ACCESS_DENIED: 'forbidden',
  NOT_FOUND: 'not-found',
  VERSION_CONFLICT: 'conflict',
  RATE_LIMITED: 'throttled',
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome'
  issue: Array<{
    extension?: FhirExtension[]
    severity: 'error' | 'information'
    code: IssueType
    details: { coding: Array<{ system: string; code: string }>; text: string }
    diagnostics?: string
    expression?: string[]
  }>
}

export function operationOutcome(code: ErrorCode, issues: Issue[], params: ErrorParams = {}): OperationOutcome {
  const text = describeError({ code, params })
  const extension = errorParamsExtension(params)
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      ...(extension ? { extension: [extension] } : {}),
      severity: 'error',
      code: i.code,
      details: { coding: [{ system: ERROR_CODE_SYSTEM, code }], text: `${text.title}. ${text.message}` },
      ...(i.diagnostics ? { diagnostics: i.diagnostics } : {}),
      ...(i.expression ? { expression: [i.expression] } : {}),
    })),
  }
}

/** Status and OperationOutcome for anything thrown in the FHIR scope. */
export function outcomeOf(error: unknown): { status: number; outcome: OperationOutcome; internal: boolean } {
  if (error instanceof FhirProblem) {
    return { status: error.status ?? statusOf(error.code), outcome: operationOutcome(error.code, error.issues, error.params), internal: false }
  }
  if (error instanceof AppError && error.code in ERRORS && error.code !== 'INTERNAL') {
    const issue: Issue = { code: ISSUE_BY_CODE[error.code] ?? 'processing' }
    // INVALID_INPUT details are ours and safe (field names); other details may name people.
    if (error.code === 'INVALID_INPUT' && error.details) issue.diagnostics = error.details
    return { status: statusOf(error.code), outcome: operationOutcome(error.code, [issue], error.params), internal: false }
  }
  const status = (error as FastifyError | undefined)?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Framework errors (bad JSON, body too large, media type): their message may quote the body.
    const fastifyCode = (error as FastifyError).code
    return {
      status,
      outcome: operationOutcome('INVALID_INPUT', [{ code: status === 413 ? 'too-costly' : 'structure', diagnostics: fastifyCode }]),
      internal: false,
    }
  }
  return { status: 500, outcome: operationOutcome('INTERNAL', [{ code: 'exception' }]), internal: true }
}

function statusOf(code: ErrorCode): number {
  return (HTTP_STATUS as Partial<Record<ErrorCode, number>>)[code] ?? (code === 'INTERNAL' ? 500 : 400)
}

export function sendOutcome(reply: FastifyReply, status: number, outcome: OperationOutcome): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="lkmr-portal"')
  return reply.code(status).type(`${FHIR_CONTENT_TYPE}; charset=utf-8`).send(outcome)
}

export function handleFhirError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, outcome, internal } = outcomeOf(error)
  if (internal) request.log.error({ err: error }, 'internal error')
  if (status === 429 && error instanceof AppError && typeof error.params.retryAfterSeconds === 'number') {
    reply.header('retry-after', String(error.params.retryAfterSeconds))
  }
  return sendOutcome(reply, status, outcome)
}
