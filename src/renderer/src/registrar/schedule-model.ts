// Pure decisions of the schedule screens (no React): the day or week shown, slots grouped by day,
// times as the clinic wrote them, and which doctor's schedule a booking conflict belongs to.
import type { DoctorSchedule, SlotView } from '../../../shared/registrar'
import { formatRuDate, localIsoDate } from '../../../shared/patient-form'

export type ScheduleView = 'day' | 'week'

export const VIEW_DAYS: Readonly<Record<ScheduleView, 1 | 7>> = { day: 1, week: 7 }

function parseIso(isoDate: string): Date {
  const [y, m, d] = isoDate.split('-').map(Number)
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1))
}

const isoOf = (d: Date): string => d.toISOString().slice(0, 10)

export function addDays(isoDate: string, days: number): string {
  const d = parseIso(isoDate)
  d.setUTCDate(d.getUTCDate() + days)
  return isoOf(d)
}

/** The Monday of the week holding the date (Russian weeks start on Monday). */
export function weekStart(isoDate: string): string {
  return addDays(isoDate, -weekdayIndex(isoDate))
}

/** The first day the view shows for a chosen date. */
export function viewStart(view: ScheduleView, isoDate: string): string {
  return view === 'week' ? weekStart(isoDate) : isoDate
}

/** The chosen date moved one view back (-1) or forward (+1). */
export function shiftView(view: ScheduleView, isoDate: string, direction: -1 | 1): string {
  return addDays(viewStart(view, isoDate), direction * VIEW_DAYS[view])
}

export function today(now: Date = new Date()): string {
  return localIsoDate(now)
}

/** 0 = Monday … 6 = Sunday. */
export function weekdayIndex(isoDate: string): number {
  return (parseIso(isoDate).getUTCDay() + 6) % 7
}

// Slot and appointment times carry the clinic's UTC offset (…T09:30:00+03:00): they are shown as
// written, so a workstation whose clock is set to another zone still shows the clinic's times.
const WALL = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/

/** The calendar day of an instant as the clinic wrote it. */
export function wallDate(instant: string): string {
  const m = WALL.exec(instant)
  if (m?.[1]) return m[1]
  const d = new Date(instant)
  return Number.isNaN(d.getTime()) ? '' : localIsoDate(d)
}

/** «09:30». */
export function wallTime(instant: string): string {
  const m = WALL.exec(instant)
  if (m?.[2]) return m[2]
  const d = new Date(instant)
  return Number.isNaN(d.getTime()) ? '' : `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
}

/** «25.11.2026 09:30». */
export function formatWhen(instant: string): string {
  return `${formatRuDate(wallDate(instant))} ${wallTime(instant)}`.trim()
}

export interface SlotDay {
  date: string
  slots: SlotView[]
}

/** Every day of the view (empty days too), each with its slots in time order; slots outside are left out. */
export function groupSlotsByDay(slots: readonly SlotView[], from: string, days: number): SlotDay[] {
  const result: SlotDay[] = Array.from({ length: days }, (_, i) => ({ date: addDays(from, i), slots: [] }))
  const byDate = new Map(result.map((d) => [d.date, d]))
  for (const slot of slots) byDate.get(wallDate(slot.start))?.slots.push(slot)
  for (const day of result) day.slots.sort((a, b) => a.start.localeCompare(b.start))
  return result
}

/** «Иванов Иван Иванович» → «Иванов И. И.». */
export function shortName(fullName: string): string {
  const [family, ...rest] = fullName.trim().split(/\s+/)
  if (!family) return ''
  const initials = rest.map((n) => `${n.charAt(0).toUpperCase()}.`).join(' ')
  return initials ? `${family} ${initials}` : family
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/**
 * The doctor's schedule of a booking conflict's FHIR JSON: a Slot's own schedule reference; for
 * an Appointment the practitioner among the participants, else the doctor's name in its display.
 */
export function scheduleOfResource(json: Record<string, unknown> | null, doctors: readonly DoctorSchedule[]): string | null {
  if (!json) return null
  const schedule = isRecord(json.schedule) && typeof json.schedule.reference === 'string' ? /^Schedule\/(.+)$/.exec(json.schedule.reference)?.[1] : undefined
  if (schedule && doctors.some((d) => d.scheduleId === schedule)) return schedule
  if (!Array.isArray(json.participant)) return null
  for (const p of json.participant) {
    const actor = isRecord(p) && isRecord(p.actor) ? p.actor : null
    const reference = typeof actor?.reference === 'string' ? actor.reference : ''
    const m = /^Practitioner\/(.+)$/.exec(reference)
    const byId = m ? doctors.find((d) => d.practitionerId === m[1]) : undefined
    if (byId) return byId.scheduleId
    const byName = typeof actor?.display === 'string' ? doctors.find((d) => d.doctorName === actor.display) : undefined
    if (byName) return byName.scheduleId
  }
  return null
}
