// Wire contract between the workstation and the portal (ЕСИА-style EDS login). The reference
// portal in portal/ and the workstation's portal client both validate against these schemas.
import { z } from 'zod'
import { errorCodeSchema, errorParamsSchema } from './error-schemas'
import { userSchema } from './model'

export const PORTAL_API_PREFIX = '/api/v1'

export const portalPaths = {
  health: `${PORTAL_API_PREFIX}/health`,
  challenge: `${PORTAL_API_PREFIX}/auth/challenge`,
  eds: `${PORTAL_API_PREFIX}/auth/eds`,
  refresh: `${PORTAL_API_PREFIX}/auth/refresh`,
  logout: `${PORTAL_API_PREFIX}/auth/logout`,
  me: `${PORTAL_API_PREFIX}/auth/me`,
} as const

/** Error codes the portal may answer with; the workstation shows them from the one catalogue. */
export const portalErrorCodeSchema = errorCodeSchema.extract([
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_KEY_USAGE',
  'CERT_NO_SNILS',
  'WORKER_NOT_REGISTERED',
  'WORKER_EMPLOYMENT_ENDED',
  'SIGNATURE_INVALID',
  'CHALLENGE_EXPIRED',
  'CLOCK_SKEW',
  'INVALID_INPUT',
  'SESSION_EXPIRED',
  'RATE_LIMITED',
  'INTERNAL',
])
export type PortalErrorCode = z.infer<typeof portalErrorCodeSchema>

export const portalErrorBodySchema = z.object({
  error: z.object({
    code: portalErrorCodeSchema,
    /** Technical message for logs (English); the UI uses the catalogue text. */
    message: z.string(),
    /** e.g. { notAfter } for CERT_EXPIRED, { skewSeconds } for CLOCK_SKEW. */
    params: errorParamsSchema.default({}),
  }),
})
export type PortalErrorBody = z.infer<typeof portalErrorBodySchema>

export const healthResponseSchema = z.object({ status: z.literal('ok'), serverTime: z.string() })

export const challengeResponseSchema = z.object({
  challengeId: z.string(),
  /** The exact text to sign: its UTF-8 bytes are the detached content of the CMS signature. */
  challenge: z.string(),
  expiresAt: z.string(),
  serverTime: z.string(),
})
export type ChallengeResponse = z.infer<typeof challengeResponseSchema>

export const edsLoginRequestSchema = z.object({
  challengeId: z.string().min(1).max(128),
  /** Base64 of the DER CMS SignedData (detached, CAdES-BES) over the challenge text. */
  signature: z.string().min(1).max(64 * 1024),
})
export type EdsLoginRequest = z.infer<typeof edsLoginRequestSchema>

export const sessionResponseSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresAt: z.string(),
  refreshExpiresAt: z.string(),
  user: userSchema,
})
export type SessionResponse = z.infer<typeof sessionResponseSchema>

export const refreshRequestSchema = z.object({ refreshToken: z.string().min(1).max(512) })

export const meResponseSchema = z.object({ user: userSchema, expiresAt: z.string() })

/** Portal and workstation clocks may differ by at most this much before login is refused. */
export const MAX_CLOCK_SKEW_SECONDS = 300
