// The one RPC contract between the UI and the core. Both transports (Electron IPC and the
// Node host's loopback WebSocket) carry exactly these methods and events, validated with the
// same zod schemas on both ends. Failures travel as data (`{ ok: false, error }`), never as
// thrown objects, so no stack or native error text can reach the renderer.
import { z } from 'zod'
import { appErrorDataSchema } from '../error-schemas'
import { loginStageSchema, sessionEndReasonSchema, sessionInfoSchema, tokenStateSchema } from '../model'
import {
  demoOutboxResponseSchema,
  loginHistoryResponseSchema,
  otpChannelSchema,
  otpLoginRequestSchema,
  passwordLoginRequestSchema,
  passwordResetConfirmSchema,
  passwordResetRequestSchema,
} from '../portal-api'
import {
  appointmentViewSchema,
  auditEntrySchema,
  doctorScheduleSchema,
  isoDateSchema,
  patientFormSchema,
  patientRecordSchema,
  patientSearchResultSchema,
  slotViewSchema,
  syncProblemSchema,
  syncStatusSchema,
} from '../registrar'

const none = z.object({}).strict()

export const appInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  transport: z.enum(['electron', 'web']),
  portalUrl: z.string(),
  platform: z.string(),
  /** Demo installation: 'demo.outbox' shows the one-time codes the demo portal "sent". */
  demoOutbox: z.boolean(),
})
export type AppInfo = z.infer<typeof appInfoSchema>

/** A one-time code was sent: where to (masked), how long it is valid, how many digits. */
export const otpChallengeSchema = z.object({
  otpId: z.string(),
  channel: otpChannelSchema,
  destination: z.string(),
  expiresAt: z.string(),
  codeLength: z.number().int(),
  /** Seconds left by the portal's clock when the answer came (the countdown starts from this). */
  validForSeconds: z.number().int().min(0),
})
export type OtpChallenge = z.infer<typeof otpChallengeSchema>

export const methods = {
  'app.info': { input: none, output: appInfoSchema },
  /** The user is at the workstation (input in the UI): restarts the idle lock timer. Any call does too. */
  'app.activity': { input: none, output: z.object({ ok: z.literal(true) }) },
  /** Current token picture (cached; cheap). */
  'token.state': { input: none, output: tokenStateSchema },
  /** Rescan libraries, slots and certificates now. */
  'token.refresh': { input: none, output: tokenStateSchema },
  /**
   * EDS login: challenge from the portal, PIN on the token, CAdES-BES signature, verification.
   * `pin` is null for PIN-pad tokens. The PIN is passed to C_Login and dropped.
   */
  'auth.loginWithCertificate': {
    input: z.object({ certificateId: z.string().min(1), pin: z.string().max(64).nullable() }).strict(),
    output: sessionInfoSchema,
  },
  /**
   * Cancels the EDS login in progress: it rejects at once with CANCELLED. A PKCS#11 call already
   * running on the token (C_Login, C_Sign) is let finish, then the token is logged out and the
   * session closed. `cancelled` is false when no login was in progress.
   */
  'auth.cancel': { input: none, output: z.object({ cancelled: z.boolean() }) },
  /**
   * Password login, step 1: the portal checks the login (phone, e-mail or СНИЛС) and the password
   * and sends a one-time code. The password goes to the portal and is dropped: it is not logged,
   * kept or returned. «Отправить код ещё раз» calls this again.
   */
  'auth.passwordStart': { input: passwordLoginRequestSchema.strict(), output: otpChallengeSchema },
  /** Step 2: the code → an app session (method 'password', no certificate). */
  'auth.passwordConfirm': { input: otpLoginRequestSchema.strict(), output: sessionInfoSchema },
  /** Forgotten password: a code to the account's phone or e-mail. */
  'auth.passwordResetStart': { input: passwordResetRequestSchema.strict(), output: otpChallengeSchema },
  /** The code and the new password (checked against the portal's policy: PASSWORD_WEAK). */
  'auth.passwordResetConfirm': { input: passwordResetConfirmSchema.strict(), output: z.object({ ok: z.literal(true) }) },
  /** The session user's logins, newest first (time, address, method, result). */
  'auth.loginHistory': { input: none, output: loginHistoryResponseSchema },
  /** Demo installations only (app.info.demoOutbox): the messages the demo portal "sent". */
  'demo.outbox': { input: none, output: demoOutboxResponseSchema },
  'auth.session': { input: none, output: sessionInfoSchema.nullable() },
  'auth.logout': { input: none, output: z.object({ ok: z.literal(true) }) },
  /**
   * Login without the portal: a worker who logged in online on this workstation within the
   * configured period, checked against the credential kept (hashed) in the local store. The
   * session is marked offline; sync waits for an online login.
   */
  'auth.offlineLogin': { input: passwordLoginRequestSchema.strict(), output: sessionInfoSchema },

  // --- registrar: everything below reads and writes the local store, online or not ---
  /** As-you-type search: a name («иван петр»), СНИЛС, полис ОМС or a birth date ДД.ММ.ГГГГ. */
  'patients.search': {
    input: z.object({ query: z.string().max(200), limit: z.number().int().min(1).max(200).default(50) }).strict(),
    output: patientSearchResultSchema,
  },
  'patients.get': { input: z.object({ id: z.string().min(1) }).strict(), output: patientRecordSchema },
  /** Registers (id null: a new client id) or edits a patient; FIELD_INVALID names the field. */
  'patients.save': {
    input: z.object({ id: z.string().min(1).nullable(), form: patientFormSchema }).strict(),
    output: patientRecordSchema,
  },
  /** Прикрепление to the workstation's clinic from a date; ends the one in force, if any. */
  'patients.attach': {
    input: z.object({ id: z.string().min(1), area: z.string().min(1).max(50), basis: z.enum(['application', 'territorial']), from: isoDateSchema }).strict(),
    output: patientRecordSchema,
  },
  /** Открепление from a date with a reason. */
  'patients.detach': {
    input: z.object({ id: z.string().min(1), to: isoDateSchema, reason: z.string().min(1).max(200) }).strict(),
    output: patientRecordSchema,
  },
  'patients.appointments': { input: z.object({ id: z.string().min(1) }).strict(), output: z.array(appointmentViewSchema) },
  /** Doctors with a schedule, from the local copy. */
  'schedule.doctors': { input: none, output: z.array(doctorScheduleSchema) },
  /** A schedule's slots for `days` days from `from` (1 = a day, 7 = a week). */
  'schedule.slots': {
    input: z.object({ scheduleId: z.string().min(1), from: isoDateSchema, days: z.number().int().min(1).max(14) }).strict(),
    output: z.array(slotViewSchema),
  },
  /** Books a free slot; SLOT_TAKEN when it is not free here. */
  'appointments.book': {
    input: z.object({ slotId: z.string().min(1), patientId: z.string().min(1), reason: z.string().max(200).default('') }).strict(),
    output: appointmentViewSchema,
  },
  /** Moves an appointment to another free slot (also how a lost booking conflict is resolved). */
  'appointments.move': { input: z.object({ id: z.string().min(1), slotId: z.string().min(1) }).strict(), output: appointmentViewSchema },
  'appointments.cancel': { input: z.object({ id: z.string().min(1) }).strict(), output: appointmentViewSchema },
  'sync.status': { input: none, output: syncStatusSchema },
  /** Sync now (pull, then push); answers when that run has ended. */
  'sync.now': { input: none, output: syncStatusSchema },
  /** Rejected changes and conflicts, oldest first. */
  'sync.problems': { input: none, output: z.array(syncProblemSchema) },
  /**
   * Settles a conflict: keep ours (pushed over the portal's version), take the portal's (ours is
   * dropped, after the user confirmed), or a merge the user made. Booking conflicts take 'remote'
   * or appointments.move.
   */
  'sync.resolve': {
    input: z
      .object({ changeId: z.string().min(1), choice: z.enum(['local', 'remote', 'merged']), merged: z.record(z.string(), z.unknown()).nullable().default(null) })
      .strict(),
    output: syncStatusSchema,
  },
  /** Drops a refused change or a conflict's local side after the user confirmed; the portal's version comes back. */
  'sync.discard': { input: z.object({ changeId: z.string().min(1) }).strict(), output: syncStatusSchema },
  /** Sends a rejected change again (after it was fixed with patients.save). */
  'sync.retry': { input: z.object({ changeId: z.string().min(1) }).strict(), output: syncStatusSchema },
  /** Who did what, when, on which record; newest first. */
  'audit.list': {
    input: z.object({ resourceId: z.string().nullable().default(null), limit: z.number().int().min(1).max(500).default(100) }).strict(),
    output: z.array(auditEntrySchema),
  },
} as const

export const events = {
  'token.changed': tokenStateSchema,
  'auth.progress': z.object({ stage: loginStageSchema }),
  'auth.sessionEnded': z.object({ reason: sessionEndReasonSchema }),
  'sync.status': syncStatusSchema,
  /** The local copy changed (pulled from the portal or written here): lists showing these types refresh. */
  'data.changed': z.object({ types: z.array(z.string()) }),
} as const

export type Methods = typeof methods
export type MethodName = keyof Methods
export type EventName = keyof typeof events
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>
export type MethodOutput<M extends MethodName> = z.output<Methods[M]['output']>
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>

export const METHOD_NAMES = Object.keys(methods) as MethodName[]
export const EVENT_NAMES = Object.keys(events) as EventName[]

export function isMethodName(x: unknown): x is MethodName {
  return typeof x === 'string' && Object.hasOwn(methods, x)
}
export function isEventName(x: unknown): x is EventName {
  return typeof x === 'string' && Object.hasOwn(events, x)
}

export const rpcResultSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: appErrorDataSchema }),
])
export type RpcResult<T = unknown> = { ok: true; value: T } | { ok: false; error: z.infer<typeof appErrorDataSchema> }

/** What a transport gives the renderer: `window.bridge` in Electron (preload) and in the Node host. */
export interface Bridge {
  invoke(method: string, input: unknown): Promise<RpcResult>
  subscribe(event: string, listener: (payload: unknown) => void): () => void
}

/** The server side of the contract: one handler per method, implemented by the core. */
export type Handlers = { [M in MethodName]: (input: z.output<Methods[M]['input']>) => Promise<MethodOutput<M>> }
