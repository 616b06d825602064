// A doctor's slots, a column per day. A free slot can be picked; a booked one shows the patient
// and opens the appointment (unless only free slots may be picked). Unsent changes are tagged.
import { Button, Tooltip } from 'antd'
import dayjs from 'dayjs'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { formatRuDate } from '../../../shared/patient-form'
import type { SlotView } from '../../../shared/registrar'
import { ChangeTag } from './ChangeTag'
import { groupSlotsByDay, shortName, wallTime } from './schedule-model'

export interface ScheduleGridProps {
  slots: SlotView[]
  from: string
  days: number
  onSlot: (slot: SlotView) => void
  /** Only free slots react (picking a new time). */
  freeOnly?: boolean
  /** A slot shown as the current one (the appointment being moved). */
  currentSlotId?: string | null
  loading?: boolean
}

export function ScheduleGrid({ slots, from, days, onSlot, freeOnly = false, currentSlotId = null, loading = false }: ScheduleGridProps): ReactNode {
  const { t } = useTranslation()
  const grouped = groupSlotsByDay(slots, from, days)
  return (
    <div className={`schedule-grid schedule-grid--${days === 1 ? 'day' : 'week'}`} data-testid="schedule-grid" aria-busy={loading}>
      {grouped.map((day) => (
        <div key={day.date} className="schedule-day" data-testid="schedule-day" data-date={day.date}>
          <div className="schedule-day__head">
            <span className="schedule-day__weekday">{dayjs(day.date).format('dd')}</span> {formatRuDate(day.date).slice(0, 5)}
          </div>
          <div className="schedule-day__slots">
            {day.slots.length === 0 ? <div className="schedule-day__empty">{t('registrar.schedule.noSlots')}</div> : null}
            {day.slots.map((slot) => {
              const booked = slot.appointment
              const clickable = slot.status === 'free' || (!freeOnly && booked !== null)
              const label = booked ? shortName(booked.patientName) : slot.status === 'free' ? t('registrar.schedule.free') : t('registrar.schedule.busy')
              const button = (
                <Button
                  key={slot.id}
                  className={`slot slot--${slot.status}${slot.id === currentSlotId ? ' slot--current' : ''}`}
                  data-testid={`slot-${slot.id}`}
                  data-status={slot.status}
                  data-change={slot.change ?? undefined}
                  data-appointment={booked?.id}
                  disabled={!clickable}
                  onClick={() => onSlot(slot)}
                >
                  <span className="slot__time">{wallTime(slot.start)}</span>
                  <span className="slot__label">{label}</span>
                  <ChangeTag change={slot.change ?? booked?.change ?? null} />
                </Button>
              )
              return booked ? (
                <Tooltip key={slot.id} title={`${booked.patientName} · ${booked.service}`}>
                  {button}
                </Tooltip>
              ) : (
                button
              )
            })}
          </div>
        </div>
      ))}
    </div>
  )
}
