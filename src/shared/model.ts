// Data shapes shared by the core, both RPC transports and the UI. Plain JSON only.
import { z } from 'zod'
import { appErrorDataSchema } from './error-schemas'

export const libraryStatusSchema = z.object({
  /** Vendor name shown to IT staff: «Рутокен ЭЦП», «SoftHSM2», … */
  name: z.string(),
  path: z.string(),
  /** Where the entry came from: the admin's setting or the built-in per-OS list. */
  source: z.enum(['configured', 'default']),
  state: z.enum(['loaded', 'missing', 'error']),
  /** Set when state is 'error' (or 'missing' for an admin-configured path). */
  error: appErrorDataSchema.nullable(),
  /** The library's own description (C_GetInfo) when loaded. */
  description: z.string().nullable(),
  version: z.string().nullable(),
})
export type LibraryStatus = z.infer<typeof libraryStatusSchema>

export const pinStateSchema = z.object({
  loginRequired: z.boolean(),
  /** The reader or token has its own PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH). */
  protectedAuthPath: z.boolean(),
  countLow: z.boolean(),
  finalTry: z.boolean(),
  locked: z.boolean(),
  /** Exact tries left where the token reports it (vendor extension), else null. */
  triesLeft: z.number().int().nullable(),
})
export type PinState = z.infer<typeof pinStateSchema>

export const tokenInfoSchema = z.object({
  /** Stable for as long as the token stays plugged in: library path + serial (+ slot if no serial). */
  id: z.string(),
  libraryPath: z.string(),
  libraryName: z.string(),
  slotId: z.string(),
  label: z.string(),
  manufacturer: z.string(),
  model: z.string(),
  serial: z.string(),
  pin: pinStateSchema,
})
export type TokenInfo = z.infer<typeof tokenInfoSchema>

export const keyAlgorithmSchema = z.enum(['RSA', 'EC', 'GOST256', 'GOST512', 'UNKNOWN'])
export type KeyAlgorithm = z.infer<typeof keyAlgorithmSchema>

export const personNameSchema = z.object({
  commonName: z.string().nullable(),
  surname: z.string().nullable(),
  givenName: z.string().nullable(),
  /** ФИО assembled from SN + GN, or CN when those are absent. */
  fullName: z.string().nullable(),
  snils: z.string().nullable(),
  inn: z.string().nullable(),
  innLe: z.string().nullable(),
  ogrn: z.string().nullable(),
  ogrnip: z.string().nullable(),
  organization: z.string().nullable(),
  organizationalUnit: z.string().nullable(),
  title: z.string().nullable(),
  email: z.string().nullable(),
  locality: z.string().nullable(),
  region: z.string().nullable(),
  street: z.string().nullable(),
  country: z.string().nullable(),
})
export type PersonName = z.infer<typeof personNameSchema>

export const certificateDetailsSchema = z.object({
  subject: personNameSchema,
  issuer: personNameSchema,
  serialNumber: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  keyAlgorithm: keyAlgorithmSchema,
  /** e.g. «RSA 2048», «ECDSA P-256», «ГОСТ Р 34.10-2012 256 бит». */
  keyDescription: z.string(),
  signatureAlgorithm: z.string(),
  keyUsage: z.array(z.string()),
  extendedKeyUsage: z.array(z.string()),
  fingerprintSha256: z.string(),
})
export type CertificateDetails = z.infer<typeof certificateDetailsSchema>

export const certificateInfoSchema = certificateDetailsSchema.extend({
  /** tokenId + '/' + CKA_ID in hex. */
  id: z.string(),
  tokenId: z.string(),
  tokenLabel: z.string(),
  ckaId: z.string(),
  label: z.string(),
  hasPrivateKey: z.boolean(),
  /** Local view of the validity period at the time of listing. */
  validity: z.enum(['valid', 'expired', 'notYetValid']),
})
export type CertificateInfo = z.infer<typeof certificateInfoSchema>

export const tokenStateSchema = z.object({
  libraries: z.array(libraryStatusSchema),
  tokens: z.array(tokenInfoSchema),
  certificates: z.array(certificateInfoSchema),
  /** Per-token problems met while reading it (e.g. removed mid-scan). */
  errors: z.array(z.object({ tokenId: z.string(), error: appErrorDataSchema })),
  scannedAt: z.string(),
})
export type TokenState = z.infer<typeof tokenStateSchema>

export const roleSchema = z.enum(['doctor', 'nurse', 'registrar', 'head', 'admin'])
export type Role = z.infer<typeof roleSchema>

export const userSchema = z.object({
  snils: z.string(),
  fullName: z.string(),
  position: z.string(),
  organisation: z.string(),
  roles: z.array(roleSchema),
})
export type User = z.infer<typeof userSchema>

export const sessionInfoSchema = z.object({
  user: userSchema,
  expiresAt: z.string(),
  certificateId: z.string().nullable(),
  method: z.enum(['eds', 'password']),
  /** Logged in without the portal (credential checked locally): work is kept for a later sync. */
  offline: z.boolean().default(false),
})
export type SessionInfo = z.infer<typeof sessionInfoSchema>

/**
 * Why an app session ended: the user logged out, the portal refused to extend it, the token
 * holding its certificate was pulled out, or nobody used the workstation for the idle timeout.
 */
export const sessionEndReasonSchema = z.enum(['logout', 'expired', 'tokenRemoved', 'idle'])
export type SessionEndReason = z.infer<typeof sessionEndReasonSchema>

export const loginStageSchema = z.enum(['challenge', 'pin', 'signing', 'verifying', 'done'])
export type LoginStage = z.infer<typeof loginStageSchema>
