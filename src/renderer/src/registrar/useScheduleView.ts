// The state of a schedule view (doctor, day or week, date) and its slots: shared by «Расписание»
// and the slot pickers (moving an appointment, settling a booking conflict).
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import type { DoctorSchedule, SlotView } from '../../../shared/registrar'
import { useApi } from '../context'
import { useDoctors } from './hooks'
import { KEYS } from './query-keys'
import { shiftView, today, VIEW_DAYS, viewStart, type ScheduleView } from './schedule-model'

export interface ScheduleViewState {
  doctors: DoctorSchedule[]
  doctorsQuery: ReturnType<typeof useDoctors>
  scheduleId: string | null
  doctor: DoctorSchedule | undefined
  setScheduleId: (id: string) => void
  view: ScheduleView
  setView: (view: ScheduleView) => void
  /** The chosen date (ISO); the view starts at viewStart(view, date). */
  date: string
  setDate: (isoDate: string) => void
  from: string
  days: number
  slots: SlotView[]
  slotsQuery: ReturnType<typeof useSlots>
  prev: () => void
  next: () => void
  goToday: () => void
}

function useSlots(scheduleId: string | null, from: string, days: number) {
  const api = useApi()
  return useQuery({
    queryKey: KEYS.slots(scheduleId ?? '', from, days),
    queryFn: () => api.call('schedule.slots', { scheduleId: scheduleId ?? '', from, days }),
    enabled: scheduleId !== null,
    placeholderData: keepPreviousData,
    retry: false,
  })
}

export function useScheduleView(initial: { scheduleId?: string | null; view?: ScheduleView; date?: string } = {}): ScheduleViewState {
  const doctorsQuery = useDoctors()
  const doctors = doctorsQuery.data ?? []
  const [chosen, setScheduleId] = useState<string | null>(initial.scheduleId ?? null)
  const [view, setView] = useState<ScheduleView>(initial.view ?? 'week')
  const [date, setDate] = useState(initial.date ?? today())
  // Until a doctor is chosen, the first one's schedule is shown.
  const scheduleId = chosen ?? doctors[0]?.scheduleId ?? null
  const from = viewStart(view, date)
  const days = VIEW_DAYS[view]
  const slotsQuery = useSlots(scheduleId, from, days)
  // Slots kept from the previous view while the next loads belong to the same schedule only.
  const slots = slotsQuery.data && (slotsQuery.data[0]?.scheduleId ?? scheduleId) === scheduleId ? slotsQuery.data : []
  return {
    doctors,
    doctorsQuery,
    scheduleId,
    doctor: doctors.find((d) => d.scheduleId === scheduleId),
    setScheduleId,
    view,
    setView,
    date,
    setDate,
    from,
    days,
    slots,
    slotsQuery,
    prev: () => setDate(shiftView(view, date, -1)),
    next: () => setDate(shiftView(view, date, 1)),
    goToday: () => setDate(today()),
  }
}
