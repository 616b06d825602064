// The registrar's work on the local store: patients (register, edit, прикрепление), schedules and
// appointments (book, move, cancel), and settling what sync could not. Everything is written
// locally first — one change, its outbox rows and its audit line in one transaction — and the
// sync engine is nudged to send it. Works the same online and offline.
import { randomUUID } from 'node:crypto'
import { AppError } from '../../../shared/errors'
import { formatDateTimeRu } from '../../../shared/format'
import { FHIR_EXTENSIONS } from '../../../shared/fhir/systems'
import { formatRuDate, normalizePatientForm, validatePatientForm } from '../../../shared/patient-form'
import type { AppointmentView, DoctorSchedule, PatientForm, PatientRecord, SlotView, SyncProblem } from '../../../shared/registrar'
import { appointmentIndex, displayName, refId, type Json } from '../store/index-fields'
import type { AsyncStore } from '../store/store-protocol'
import type { Actor, ChangeEntryInput, NewChange, StoredResource } from '../store/store'
import { attachmentsOf, formToPatient, patientToForm, withAttachments } from './patient-fhir'

export interface RegistrarDeps {
  store: AsyncStore
  /** The signed-in user (SESSION_EXPIRED when nobody is). */
  actor: () => Actor & { organisation: string }
  /** A change was committed: sync soon, tell the UI. */
  changed: (types: string[]) => void
  now?: () => Date
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')


export class RegistrarService {
  constructor(private readonly d: RegistrarDeps) {}

  private now(): Date {
    return this.d.now?.() ?? new Date()
  }

  private async commit(action: NewChange['action'], title: string, summary: string, entries: ChangeEntryInput[], fold = false): Promise<void> {
    const actor = this.d.actor()
    await this.d.store.commitChange({ changeId: randomUUID(), action, title, actor, at: this.now().toISOString(), entries, summary, fold })
    this.d.changed([...new Set(entries.map((e) => e.type))])
  }

  private async require(type: string, id: string): Promise<StoredResource> {
    const r = await this.d.store.get(type, id)
    if (!r) throw new AppError('NOT_FOUND', {}, `${type}/${id} is not in the local store`)
    return r
  }

  // --- patients ----------------------------------------------------------------------------------

  async search(query: string, limit: number) {
    const started = performance.now()
    const { kind, rows } = await this.d.store.searchPatients(query, limit)
    return {
      kind,
      items: rows.map((r) => ({
        id: r.id,
        fullName: r.displayName,
        birthDate: r.birthDate,
        gender: r.gender === 'male' ? ('male' as const) : r.gender === 'female' ? ('female' as const) : null,
        snils: r.snils,
        oms: r.oms,
        phone: r.phone,
        attached: r.attached,
        change: r.change,
      })),
      tookMs: Math.round((performance.now() - started) * 100) / 100,
    }
  }

  async getPatient(id: string): Promise<PatientRecord> {
    return toRecord(id, await this.require('Patient', id))
  }

  async savePatient(id: string | null, input: PatientForm): Promise<PatientRecord> {
    const form = normalizePatientForm(input)
    const problem = validatePatientForm(form, this.now())[0]
    if (problem) throw new AppError('FIELD_INVALID', { field: problem.label, fieldName: problem.field, reason: problem.reason }, `patient form: ${problem.field}`)
    const existing = id ? await this.require('Patient', id) : null
    const patientId = id ?? randomUUID()
    const body = formToPatient(form, patientId, existing?.body ?? null)
    const name = displayName(body)
    await this.commit(
      existing ? 'patient.update' : 'patient.create',
      name,
      existing ? `Изменены данные пациента ${name}` : `Зарегистрирован пациент ${name}`,
      [{ type: 'Patient', id: patientId, body }],
      existing !== null,
    )
    return this.getPatient(patientId)
  }

  async attach(id: string, area: string, basis: 'application' | 'territorial', from: string): Promise<PatientRecord> {
    const patient = await this.require('Patient', id)
    const { organisation } = this.d.actor()
    const list = attachmentsOf(patient.body).map((a) => (a.to === null ? { ...a, to: from, endReason: 'Прикреплён заново' } : a))
    list.push({ id: randomUUID(), organisation, area, basis, from, to: null, endReason: null })
    const body = withAttachments(patient.body, list)
    const name = displayName(body)
    await this.commit('patient.attach', name, `Пациент ${name} прикреплён: участок ${area} с ${formatRuDate(from)}`, [{ type: 'Patient', id, body }], true)
    return this.getPatient(id)
  }

  async detach(id: string, to: string, reason: string): Promise<PatientRecord> {
    const patient = await this.require('Patient', id)
    const list = attachmentsOf(patient.body)
    const current = list.find((a) => a.to === null)
    if (!current) throw new AppError('FIELD_INVALID', { field: 'Прикрепление', fieldName: 'attachment', reason: 'У пациента нет действующего прикрепления.' })
    if (to < current.from) throw new AppError('FIELD_INVALID', { field: 'Дата открепления', fieldName: 'to', reason: 'Дата открепления раньше даты прикрепления.' })
    const body = withAttachments(patient.body, list.map((a) => (a === current ? { ...a, to, endReason: reason } : a)))
    const name = displayName(body)
    await this.commit('patient.detach', name, `Пациент ${name} откреплён с ${formatRuDate(to)}: ${reason}`, [{ type: 'Patient', id, body }], true)
    return this.getPatient(id)
  }

  // --- schedules and appointments ----------------------------------------------------------------

  async doctors(): Promise<DoctorSchedule[]> {
    const schedules = await this.d.store.listByType('Schedule')
    return schedules
      .filter((s) => s.active !== false)
      .map(scheduleView)
      .sort((a, b) => a.doctorName.localeCompare(b.doctorName, 'ru'))
  }

  async slots(scheduleId: string, from: string, days: number): Promise<SlotView[]> {
    // Slot times are stored with the Moscow offset (+03:00): the day's bounds in the same form.
    const start = `${from}T00:00:00+03:00`
    const endDate = new Date(Date.parse(`${from}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
    const slots = await this.d.store.slotsOf(scheduleId, start, `${endDate}T00:00:00+03:00`)
    const appointments = await this.d.store.appointmentsOfSlots(slots.map((s) => str(s.body.id)))
    const schedule = await this.d.store.get('Schedule', scheduleId)
    const doctorName = schedule ? scheduleView(schedule.body).doctorName : ''
    const bySlot = new Map<string, StoredResource>()
    for (const a of appointments) {
      const ix = appointmentIndex(a.body)
      if (ix.slotId && ix.status !== 'cancelled') bySlot.set(ix.slotId, a)
    }
    return Promise.all(
      slots.map(async (s) => {
        const id = str(s.body.id)
        const a = bySlot.get(id)
        return {
          id,
          scheduleId,
          start: str(s.body.start),
          end: str(s.body.end),
          status: s.body.status === 'free' && !a ? ('free' as const) : ('busy' as const),
          appointment: a ? await this.appointmentView(a, doctorName) : null,
          change: s.change,
        }
      }),
    )
  }

  async patientAppointments(patientId: string): Promise<AppointmentView[]> {
    const list = await this.d.store.appointmentsOfPatient(patientId)
    return Promise.all(list.map((a) => this.appointmentView(a, null)))
  }

  private async appointmentView(a: StoredResource, doctorName: string | null): Promise<AppointmentView> {
    const ix = appointmentIndex(a.body)
    const participants = arr(a.body.participant).map((p) => obj(obj(p)?.actor))
    const patientRef = participants.find((x) => refId(x, 'Patient') !== null)
    const doctorRef = participants.find((x) => refId(x, 'Practitioner') !== null)
    let patientName = str(patientRef?.display)
    if (!patientName && ix.patientId) patientName = displayName((await this.d.store.get('Patient', ix.patientId))?.body ?? {})
    const status = str(a.body.status)
    const slot = ix.slotId ? await this.d.store.get('Slot', ix.slotId) : null
    return {
      id: str(a.body.id),
      slotId: ix.slotId,
      scheduleId: slot ? refId(slot.body.schedule, 'Schedule') : null,
      patientId: ix.patientId,
      patientName,
      doctorName: doctorName ?? str(doctorRef?.display),
      service: str(obj(arr(a.body.serviceType)[0])?.text),
      start: str(a.body.start),
      end: str(a.body.end),
      status: status === 'booked' || status === 'cancelled' || status === 'fulfilled' || status === 'noshow' ? status : 'other',
      change: a.change,
    }
  }

  /** A slot that can be booked here: free on the portal as we know it and not held by an appointment. */
  private async freeSlot(slotId: string): Promise<StoredResource> {
    const slot = await this.require('Slot', slotId)
    const holders = (await this.d.store.appointmentsOfSlots([slotId])).filter((a) => a.body.status !== 'cancelled')
    if (slot.body.status !== 'free' || holders.length > 0) throw new AppError('SLOT_TAKEN', {}, `Slot/${slotId} is ${str(slot.body.status)}`)
    return slot
  }

  private scheduleOf(slot: StoredResource): Promise<StoredResource> {
    return this.require('Schedule', refId(slot.body.schedule, 'Schedule') ?? '')
  }

  async book(slotId: string, patientId: string, reason: string): Promise<AppointmentView> {
    const slot = await this.freeSlot(slotId)
    const patient = await this.require('Patient', patientId)
    const schedule = await this.scheduleOf(slot)
    const doctor = practitionerActor(schedule.body)
    const id = randomUUID()
    const name = displayName(patient.body)
    const start = str(slot.body.start)
    const appointment: Json = {
      resourceType: 'Appointment',
      id,
      status: 'booked',
      serviceType: arr(slot.body.serviceType).length > 0 ? slot.body.serviceType : schedule.body.serviceType,
      ...(reason ? { reasonCode: [{ text: reason }], description: reason } : {}),
      start,
      end: str(slot.body.end),
      slot: [{ reference: `Slot/${slotId}` }],
      created: this.now().toISOString(),
      participant: [
        { actor: { reference: `Patient/${patientId}`, display: name }, required: 'required', status: 'accepted' },
        ...(doctor ? [{ actor: doctor, required: 'required', status: 'accepted' }] : []),
      ],
    }
    const title = `Запись ${ruDateTime(start)}: ${name}`
    await this.commit('appointment.book', title, `Записан на приём ${ruDateTime(start)}: ${name}`, [
      { type: 'Slot', id: slotId, body: slotState(slot.body, id) },
      { type: 'Appointment', id, body: appointment },
    ])
    return this.appointmentView({ body: appointment, version: null, change: 'pending' }, str(doctor?.display))
  }

  /**
   * Moves an appointment to another free slot. An appointment whose booking is not on the portal
   * yet (pending, refused or lost to another registrar) has that booking rewritten instead: the
   * new slot goes out in the same request, and the lost slot is no longer asked for.
   */
  async move(id: string, slotId: string): Promise<AppointmentView> {
    const appointment = await this.require('Appointment', id)
    const newSlot = await this.freeSlot(slotId)
    const oldSlotId = appointmentIndex(appointment.body).slotId
    const start = str(newSlot.body.start)
    const body: Json = { ...stripMeta(appointment.body), start, end: str(newSlot.body.end), slot: [{ reference: `Slot/${slotId}` }] }
    const name = str(obj(arr(body.participant).map((p) => obj(obj(p)?.actor)).find((x) => refId(x, 'Patient') !== null))?.display)
    const unsent = await this.d.store.unsentChangeOf('Appointment', id)
    if (unsent?.action === 'appointment.book') {
      // The booking is still ours alone: drop it (its slot goes back to the portal's state) and book afresh with the same id.
      await this.d.store.discard(unsent.changeId, this.d.actor(), this.now().toISOString(), `Запись перенесена до отправки на ${ruDateTime(start)}`)
      await this.commit('appointment.book', `Запись ${ruDateTime(start)}: ${name}`, `Записан на приём ${ruDateTime(start)}: ${name}`, [
        { type: 'Slot', id: slotId, body: slotState(newSlot.body, id) },
        { type: 'Appointment', id, body },
      ])
    } else {
      const entries: ChangeEntryInput[] = [{ type: 'Slot', id: slotId, body: slotState(newSlot.body, id) }, { type: 'Appointment', id, body }]
      if (oldSlotId) {
        const old = await this.d.store.get('Slot', oldSlotId)
        if (old) entries.unshift({ type: 'Slot', id: oldSlotId, body: slotState(old.body, null) })
      }
      await this.commit('appointment.move', `Запись ${ruDateTime(start)}: ${name}`, `Запись перенесена на ${ruDateTime(start)}: ${name}`, entries)
    }
    return this.appointmentView(await this.require('Appointment', id), null)
  }

  async cancel(id: string): Promise<AppointmentView> {
    const appointment = await this.require('Appointment', id)
    if (appointment.body.status === 'cancelled') return this.appointmentView(appointment, null)
    const start = str(appointment.body.start)
    const unsent = await this.d.store.unsentChangeOf('Appointment', id)
    if (unsent?.action === 'appointment.book' && appointment.version === null) {
      // Never reached the portal: dropping the booking is the whole cancellation.
      const view = await this.appointmentView(appointment, null)
      await this.d.store.discard(unsent.changeId, this.d.actor(), this.now().toISOString(), `Запись ${ruDateTime(start)} отменена до отправки`)
      this.d.changed(['Appointment', 'Slot'])
      return { ...view, status: 'cancelled', change: null }
    }
    const body: Json = { ...stripMeta(appointment.body), status: 'cancelled', cancelationReason: { text: 'Отменена регистратором' } }
    const entries: ChangeEntryInput[] = [{ type: 'Appointment', id, body }]
    const slotId = appointmentIndex(appointment.body).slotId
    if (slotId) {
      const slot = await this.d.store.get('Slot', slotId)
      if (slot) entries.push({ type: 'Slot', id: slotId, body: slotState(slot.body, null) })
    }
    const name = str(obj(arr(body.participant).map((p) => obj(obj(p)?.actor)).find((x) => refId(x, 'Patient') !== null))?.display)
    await this.commit('appointment.cancel', `Запись ${ruDateTime(start)}: ${name}`, `Запись ${ruDateTime(start)} отменена: ${name}`, entries)
    return this.appointmentView(await this.require('Appointment', id), null)
  }

  // --- sync problems -----------------------------------------------------------------------------

  async problems(): Promise<SyncProblem[]> {
    const problems = await this.d.store.problems()
    return Promise.all(
      problems.map(async (p) => {
        // Only bookings, moves and cancellations write an appointment: one more store call each.
        const change = p.action.startsWith('appointment.') ? await this.d.store.change(p.changeId) : null
        const appointment = change?.entries.find((e) => e.type === 'Appointment')
        return { ...p, appointmentId: appointment?.id ?? null }
      }),
    )
  }

  /** Drops a refused or conflicting change after the user confirmed: the portal's state comes back. */
  async discard(changeId: string): Promise<void> {
    const change = await this.d.store.change(changeId)
    if (!change || change.state === 'pending') throw new AppError('NOT_FOUND', {}, `no refused or conflicting change ${changeId}`)
    const title = (await this.d.store.problems()).find((p) => p.changeId === changeId)?.title ?? ''
    await this.d.store.discard(changeId, this.d.actor(), this.now().toISOString(), `Изменение «${title}» отменено пользователем, восстановлена версия портала`)
    this.d.changed([...new Set(change.entries.map((e) => e.type))])
  }

  async resolve(changeId: string, choice: 'local' | 'remote' | 'merged', merged: Json | null): Promise<void> {
    const change = await this.d.store.change(changeId)
    if (!change || change.state !== 'conflict' || !change.remote) throw new AppError('NOT_FOUND', {}, `no conflict ${changeId}`)
    const actor = this.d.actor()
    const at = this.now().toISOString()
    const label = `${change.remote.type}/${change.remote.id}`
    if (choice === 'remote') {
      await this.d.store.discard(changeId, actor, at, `Конфликт: принята версия портала (${label})`)
    } else {
      const slotLost = change.entries.some((e) => e.type === 'Slot') && change.remote.type === 'Slot'
      if (slotLost) throw new AppError('SLOT_TAKEN', {}, 'a taken slot cannot be kept: move the appointment or drop it')
      let body: Json | null = null
      if (choice === 'merged') {
        if (!merged || merged.resourceType !== change.remote.type || merged.id !== change.remote.id) {
          throw new AppError('INVALID_INPUT', {}, 'merged resource must have the conflicting resource type and id')
        }
        if (merged.resourceType === 'Patient') {
          const problem = validatePatientForm(normalizePatientForm(patientToForm(merged)), this.now())[0]
          if (problem) throw new AppError('FIELD_INVALID', { field: problem.label, fieldName: problem.field, reason: problem.reason })
        }
        body = stripMeta(merged)
      }
      await this.d.store.resolveKeep(changeId, body, actor, at, choice === 'local' ? `Конфликт: оставлена своя версия (${label})` : `Конфликт: версии объединены (${label})`)
    }
    this.d.changed([...new Set(change.entries.map((e) => e.type))])
  }

  async retry(changeId: string): Promise<void> {
    await this.d.store.retry(changeId)
    this.d.changed([])
  }

  audit(resourceId: string | null, limit: number) {
    return this.d.store.auditList(resourceId, limit)
  }
}

/** The schedule's practitioner (its actor that references a Practitioner). */
function practitionerActor(schedule: Json): Json | undefined {
  return arr(schedule.actor)
    .map(obj)
    .find((a): a is Json => a !== null && refId(a, 'Practitioner') !== null)
}

function scheduleView(s: Json): DoctorSchedule {
  const practitioner = practitionerActor(s)
  return {
    scheduleId: str(s.id),
    practitionerId: refId(practitioner, 'Practitioner'),
    doctorName: str(practitioner?.display),
    specialty: str(obj(arr(s.specialty)[0])?.text),
    service: str(obj(arr(s.serviceType)[0])?.text),
  }
}

function toRecord(id: string, r: StoredResource): PatientRecord {
  return { id, form: patientToForm(r.body), attachments: attachmentsOf(r.body), version: r.version, change: r.change }
}

/**
 * The slot as booked by this appointment. The reference makes two registrars' bookings of one
 * slot different writes (a conflict), and a retried booking of our own the same write.
 */
const SLOT_BOOKING_EXTENSION = FHIR_EXTENSIONS.slotAppointment

function slotState(slot: Json, appointmentId: string | null): Json {
  const others = arr(slot.extension).filter((e) => obj(e)?.url !== SLOT_BOOKING_EXTENSION)
  const extension = appointmentId ? [...others, { url: SLOT_BOOKING_EXTENSION, valueReference: { reference: `Appointment/${appointmentId}` } }] : others
  const { meta: _meta, extension: _old, ...rest } = slot
  return { ...rest, ...(extension.length > 0 ? { extension } : {}), status: appointmentId ? 'busy' : 'free' }
}

function stripMeta(body: Json): Json {
  const { meta: _meta, ...rest } = body
  return rest
}

/** Slot times as the clinic reads them (the portal's slots are in Moscow time). */
function ruDateTime(iso: string): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : formatDateTimeRu(d, 'Europe/Moscow')
}
