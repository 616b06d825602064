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
  /** Password + one-time code (the Госуслуги account route): step 1, checks the password, sends a code. */
  password: `${PORTAL_API_PREFIX}/auth/password`,
  /** Step 2: the code → a session. */
  passwordOtp: `${PORTAL_API_PREFIX}/auth/password/otp`,
  /** Password reset: sends a code to the account's phone or e-mail. */
  passwordReset: `${PORTAL_API_PREFIX}/auth/password/reset`,
  passwordResetConfirm: `${PORTAL_API_PREFIX}/auth/password/reset/confirm`,
  /** The session user's own login history (newest first). */
  loginHistory: `${PORTAL_API_PREFIX}/auth/history`,
  /** Demo only (portal started with the outbox channel): the messages the portal "sent". */
  demoOutbox: `${PORTAL_API_PREFIX}/demo/outbox`,
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
  'CREDENTIALS_INVALID',
  'OTP_INVALID',
  'OTP_EXPIRED',
  'ACCOUNT_LOCKED',
  'PASSWORD_WEAK',
  'ACCESS_DENIED',
  'NOT_FOUND',
  'VERSION_CONFLICT',
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

// --- Password + one-time code (accounts of staff without a token) ---

/** A login is a phone (+7…, 8…), an e-mail or a СНИЛС; the portal normalises it. */
export const passwordLoginRequestSchema = z.object({
  login: z.string().trim().min(3).max(254),
  password: z.string().min(1).max(1024),
})
export type PasswordLoginRequest = z.infer<typeof passwordLoginRequestSchema>

export const otpChannelSchema = z.enum(['sms', 'email', 'outbox'])

/** A code was sent: where to (masked) and until when it is valid. */
export const otpSentResponseSchema = z.object({
  otpId: z.string(),
  channel: otpChannelSchema,
  /** e.g. «+7 (9**) ***-**-67» or «i***@mail.ru». */
  destination: z.string(),
  expiresAt: z.string(),
  codeLength: z.number().int(),
})
export type OtpSentResponse = z.infer<typeof otpSentResponseSchema>

export const otpLoginRequestSchema = z.object({
  otpId: z.string().min(1).max(128),
  code: z.string().regex(/^\d{6}$/),
})
export type OtpLoginRequest = z.infer<typeof otpLoginRequestSchema>

export const passwordResetRequestSchema = z.object({ login: z.string().trim().min(3).max(254) })

export const passwordResetConfirmSchema = z.object({
  otpId: z.string().min(1).max(128),
  code: z.string().regex(/^\d{6}$/),
  newPassword: z.string().min(1).max(1024),
})
export type PasswordResetConfirm = z.infer<typeof passwordResetConfirmSchema>

export const loginMethodSchema = z.enum(['eds', 'password', 'otp', 'refresh', 'reset'])

export const loginHistoryEntrySchema = z.object({
  at: z.string(),
  address: z.string().nullable(),
  method: loginMethodSchema,
  /** 'OK' or the error code. */
  result: z.string(),
})
export const loginHistoryResponseSchema = z.object({ entries: z.array(loginHistoryEntrySchema) })
export type LoginHistoryResponse = z.infer<typeof loginHistoryResponseSchema>

export const demoOutboxResponseSchema = z.object({
  messages: z.array(z.object({ to: z.string(), channel: otpChannelSchema, text: z.string(), sentAt: z.string() })),
})
export type DemoOutboxResponse = z.infer<typeof demoOutboxResponseSchema>
