// The registrar's data as it crosses the RPC boundary: patients (form, summary, прикрепление),
// doctors' schedules and appointments, and the sync picture (status, rejected changes, conflicts,
// audit). The FHIR mapping lives in the core (src/main/core/registrar); the UI sees only these.
import { z } from 'zod'
import { appErrorDataSchema } from './error-schemas'

/** A calendar date, ISO `YYYY-MM-DD` on the wire (the UI shows and takes ДД.ММ.ГГГГ). */
export const isoDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/)

export const genderSchema = z.enum(['male', 'female'])

/** What the registrar types to register or edit a patient. Checked by validatePatientForm. */
export const patientFormSchema = z.object({
  family: z.string().max(100),
  given: z.string().max(100),
  /** Отчество; '' when there is none. */
  patronymic: z.string().max(100),
  gender: genderSchema,
  birthDate: isoDateSchema,
  /** 11 digits, '' when not known yet (newborns). */
  snils: z.string().max(20),
  /** Полис ОМС единого образца, 16 digits; '' when none. */
  oms: z.string().max(30),
  /** '+7XXXXXXXXXX' or ''. */
  phone: z.string().max(30),
  address: z.string().max(500),
})
export type PatientForm = z.infer<typeof patientFormSchema>

/** Why a local change is not on the portal yet: waiting, refused by the portal, or in conflict. */
export const changeStateSchema = z.enum(['pending', 'rejected', 'conflict'])
export type ChangeState = z.infer<typeof changeStateSchema>

/** Прикрепление: the patient is attached to this clinic for primary care. */
export const attachmentSchema = z.object({
  id: z.string(),
  organisation: z.string(),
  /** Участок. */
  area: z.string(),
  /** Основание: заявление пациента или по месту жительства. */
  basis: z.enum(['application', 'territorial']),
  from: isoDateSchema,
  /** null while in force. */
  to: isoDateSchema.nullable(),
  /** Why it ended (открепление). */
  endReason: z.string().nullable(),
})
export type Attachment = z.infer<typeof attachmentSchema>

export const patientSummarySchema = z.object({
  id: z.string(),
  fullName: z.string(),
  birthDate: isoDateSchema.nullable(),
  gender: genderSchema.nullable(),
  snils: z.string().nullable(),
  oms: z.string().nullable(),
  phone: z.string().nullable(),
  /** An attachment in force. */
  attached: z.boolean(),
  /** The state of its unsent local change, null when the portal has it all. */
  change: changeStateSchema.nullable(),
})
export type PatientSummary = z.infer<typeof patientSummarySchema>

export const patientRecordSchema = z.object({
  id: z.string(),
  form: patientFormSchema,
  attachments: z.array(attachmentSchema),
  /** The portal's version this record is based on; null = not on the portal yet. */
  version: z.number().int().nullable(),
  change: changeStateSchema.nullable(),
})
export type PatientRecord = z.infer<typeof patientRecordSchema>

export const patientSearchResultSchema = z.object({
  items: z.array(patientSummarySchema),
  /** What the query was taken for: a name, СНИЛС, полис ОМС or a birth date. */
  kind: z.enum(['name', 'snils', 'oms', 'birthDate', 'empty']),
  tookMs: z.number(),
})
export type PatientSearchResult = z.infer<typeof patientSearchResultSchema>

export const doctorScheduleSchema = z.object({
  scheduleId: z.string(),
  practitionerId: z.string().nullable(),
  doctorName: z.string(),
  specialty: z.string(),
  /** «Приём терапевта» etc. */
  service: z.string(),
})
export type DoctorSchedule = z.infer<typeof doctorScheduleSchema>

export const appointmentStatusSchema = z.enum(['booked', 'cancelled', 'fulfilled', 'noshow', 'other'])

export const appointmentViewSchema = z.object({
  id: z.string(),
  slotId: z.string().nullable(),
  /** The doctor's schedule the slot belongs to (to move within it). */
  scheduleId: z.string().nullable(),
  patientId: z.string().nullable(),
  patientName: z.string(),
  doctorName: z.string(),
  service: z.string(),
  start: z.string(),
  end: z.string(),
  status: appointmentStatusSchema,
  change: changeStateSchema.nullable(),
})
export type AppointmentView = z.infer<typeof appointmentViewSchema>

export const slotViewSchema = z.object({
  id: z.string(),
  scheduleId: z.string(),
  start: z.string(),
  end: z.string(),
  /** free: can be booked; busy: taken (by an appointment here or not bookable). */
  status: z.enum(['free', 'busy']),
  appointment: appointmentViewSchema.nullable(),
  change: changeStateSchema.nullable(),
})
export type SlotView = z.infer<typeof slotViewSchema>

export const syncPhaseSchema = z.enum(['idle', 'pulling', 'pushing', 'offline', 'needsLogin', 'error'])
export type SyncPhase = z.infer<typeof syncPhaseSchema>

export const syncStatusSchema = z.object({
  /** The portal answered the last attempt. */
  online: z.boolean(),
  phase: syncPhaseSchema,
  /** Local changes waiting to be sent (not counting rejected and conflicts). */
  pending: z.number().int(),
  rejected: z.number().int(),
  conflicts: z.number().int(),
  lastSyncAt: z.string().nullable(),
  lastError: appErrorDataSchema.nullable(),
  /** Entries pulled or changes pushed in the running phase; total when known. */
  progress: z.object({ done: z.number().int(), total: z.number().int().nullable() }).nullable(),
  /** When the next automatic attempt runs (after a failure: backing off). */
  nextAttemptAt: z.string().nullable(),
})
export type SyncStatus = z.infer<typeof syncStatusSchema>

/** A user action the outbox holds: what to show in the problems list and the audit log. */
export const changeActionSchema = z.enum([
  'patient.create',
  'patient.update',
  'patient.attach',
  'patient.detach',
  'appointment.book',
  'appointment.move',
  'appointment.cancel',
])
export type ChangeAction = z.infer<typeof changeActionSchema>

const json = z.record(z.string(), z.unknown())

export const syncProblemSchema = z.object({
  changeId: z.string(),
  kind: z.enum(['rejected', 'conflict']),
  action: changeActionSchema,
  resourceType: z.string(),
  resourceId: z.string(),
  /** «Иванов Иван Иванович» / «Запись 25.11.2026 09:30». */
  title: z.string(),
  /** The portal's message (Russian) for a rejected change; what changed for a conflict. */
  message: z.string(),
  /** Our version and the portal's, for the side-by-side view. */
  local: json.nullable(),
  remote: json.nullable(),
  /** Booking conflicts: the slot was taken by someone else; resolve by picking another slot. */
  slotTaken: z.boolean(),
  /** The appointment a booking, move or cancel change is about (appointments.move takes it). */
  appointmentId: z.string().nullable(),
  createdAt: z.string(),
  by: z.string(),
})
export type SyncProblem = z.infer<typeof syncProblemSchema>

export const auditEntrySchema = z.object({
  at: z.string(),
  user: z.string(),
  action: z.string(),
  resourceType: z.string(),
  resourceId: z.string(),
  summary: z.string(),
})
export type AuditEntry = z.infer<typeof auditEntrySchema>
