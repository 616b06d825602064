// Every error the portal answers with has the one body shape of the wire contract and an HTTP
// status that fits it. Unknown failures become INTERNAL with no stack or detail in the body.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../src/shared/errors'
import { portalErrorCodeSchema, type PortalErrorBody, type PortalErrorCode } from '../../src/shared/portal-api'

/**
 * 400: the request itself is malformed. 401: the caller is not authenticated (the signed
 * challenge or the certificate is not acceptable, or the session is gone). 403: the caller is
 * authenticated but not allowed (not a registered, active medical worker). 429, 500 as usual.
 */
export const HTTP_STATUS: Readonly<Record<PortalErrorCode, number>> = {
  INVALID_INPUT: 400,
  CHALLENGE_EXPIRED: 401,
  SIGNATURE_INVALID: 401,
  CERT_UNTRUSTED: 401,
  CERT_EXPIRED: 401,
  CERT_NOT_YET_VALID: 401,
  CERT_REVOKED: 401,
  CERT_KEY_USAGE: 401,
  CLOCK_SKEW: 401,
  CERT_NO_SNILS: 401,
  SESSION_EXPIRED: 401,
  WORKER_NOT_REGISTERED: 403,
  WORKER_EMPLOYMENT_ENDED: 403,
  CREDENTIALS_INVALID: 401,
  OTP_INVALID: 401,
  OTP_EXPIRED: 401,
  ACCOUNT_LOCKED: 423,
  PASSWORD_WEAK: 400,
  ACCESS_DENIED: 403,
  NOT_FOUND: 404,
  VERSION_CONFLICT: 412,
  RATE_LIMITED: 429,
  INTERNAL: 500,
}

/** Technical English messages for the body (the UI shows the catalogue text by code). */
const MESSAGES: Readonly<Record<PortalErrorCode, string>> = {
  INVALID_INPUT: 'The request is not valid',
  CHALLENGE_EXPIRED: 'The challenge is unknown, expired or already used',
  SIGNATURE_INVALID: 'The signature does not verify over the challenge',
  CERT_UNTRUSTED: 'The certificate does not chain to a trusted CA',
  CERT_EXPIRED: 'The certificate has expired',
  CERT_NOT_YET_VALID: 'The certificate is not yet valid',
  CERT_REVOKED: 'The certificate is revoked',
  CERT_KEY_USAGE: 'The certificate key usage does not allow signing',
  CLOCK_SKEW: 'The signing time differs too much from the server time',
  CERT_NO_SNILS: 'The certificate subject has no SNILS',
  SESSION_EXPIRED: 'The session is invalid, expired or revoked',
  WORKER_NOT_REGISTERED: 'The certificate owner is not in the medical worker register',
  WORKER_EMPLOYMENT_ENDED: 'The certificate owner has no active employment record',
  CREDENTIALS_INVALID: 'The login or the password is wrong',
  OTP_INVALID: 'The one-time code is wrong',
  OTP_EXPIRED: 'The one-time code is unknown, expired or already used',
  ACCOUNT_LOCKED: 'The account is locked after repeated failures',
  PASSWORD_WEAK: 'The new password does not meet the policy',
  ACCESS_DENIED: 'The role or organisation of the session does not allow this',
  NOT_FOUND: 'Not found',
  VERSION_CONFLICT: 'The resource was changed by someone else (version mismatch)',
  RATE_LIMITED: 'Too many requests',
  INTERNAL: 'Internal server error',
}

export function errorBody(code: PortalErrorCode, params: PortalErrorBody['error']['params'] = {}, message?: string): PortalErrorBody {
  return { error: { code, message: message ?? MESSAGES[code], params } }
}

export function sendError(reply: FastifyReply, code: PortalErrorCode, params: PortalErrorBody['error']['params'] = {}, message?: string): FastifyReply {
  const status = HTTP_STATUS[code]
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="lkmr-portal"')
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(code, params, message))
}

/** Fastify error handler: AppErrors keep their code; framework 4xx become INVALID_INPUT. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof AppError) {
    const code = portalErrorCodeSchema.safeParse(error.code)
    if (code.success) {
      if (code.data === 'INTERNAL') request.log.error({ err: error }, 'internal error')
      return sendError(reply, code.data, error.params, code.data === 'INVALID_INPUT' ? (error.details ?? undefined) : undefined)
    }
  }
  const status = (error as FastifyError).statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // The framework's own message may quote the body (JSON parse errors do): send its code only.
    const fastifyCode = (error as FastifyError).code
    reply.code(status)
    return reply
      .type('application/json; charset=utf-8')
      .send(errorBody('INVALID_INPUT', {}, fastifyCode ? `${MESSAGES.INVALID_INPUT} (${fastifyCode})` : undefined))
  }
  request.log.error({ err: error }, 'internal error')
  return sendError(reply, 'INTERNAL')
}
