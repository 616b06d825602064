// The controls of a schedule view: the doctor, day or week, back / today / forward, a date.
import { Button, Segmented, Select } from 'antd'
import dayjs from 'dayjs'
import { useEffect, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { formatRuDate, parseRuDate } from '../../../shared/patient-form'
import { RuDateInput } from '../components/RuDateInput'
import { addDays, type ScheduleView } from './schedule-model'
import type { ScheduleViewState } from './useScheduleView'

/** «среда, 25.11.2026» or «23.11.2026 – 29.11.2026». */
function rangeText(from: string, days: number): string {
  if (days === 1) return `${dayjs(from).format('dddd')}, ${formatRuDate(from)}`
  return `${formatRuDate(from)} – ${formatRuDate(addDays(from, days - 1))}`
}

export function ScheduleToolbar({ state }: { state: ScheduleViewState }): ReactNode {
  const { t } = useTranslation()
  const [typed, setTyped] = useState('')
  const jump = (text: string): void => {
    setTyped(text)
    const iso = parseRuDate(text)
    if (iso) state.setDate(iso)
  }
  // Moved by the buttons: the typed date no longer says where the view is.
  const { date } = state
  useEffect(() => {
    setTyped((text) => (text === '' || parseRuDate(text) === date ? text : ''))
  }, [date])
  return (
    <div className="schedule-toolbar">
      <div data-testid="schedule-doctor" data-value={state.scheduleId ?? ''} className="schedule-toolbar__doctor">
        <Select
          showSearch={{ optionFilterProp: 'label' }}
          aria-label={t('registrar.schedule.doctor')}
          placeholder={t('registrar.schedule.doctor')}
          loading={state.doctorsQuery.isPending}
          value={state.scheduleId ?? undefined}
          onChange={(v: string) => state.setScheduleId(v)}
          options={state.doctors.map((d) => ({ value: d.scheduleId, label: `${d.doctorName} — ${d.specialty}, ${d.service}` }))}
          popupMatchSelectWidth={false}
        />
      </div>
      <Segmented<ScheduleView>
        value={state.view}
        onChange={state.setView}
        options={[
          { value: 'day', label: <span data-testid="schedule-view-day">{t('registrar.schedule.day')}</span> },
          { value: 'week', label: <span data-testid="schedule-view-week">{t('registrar.schedule.week')}</span> },
        ]}
      />
      <div className="schedule-toolbar__nav">
        <Button onClick={state.prev} aria-label={t(`registrar.schedule.prev.${state.view}`)} data-testid="schedule-prev">
          ‹
        </Button>
        <Button onClick={state.goToday} data-testid="schedule-today">
          {t('registrar.schedule.today')}
        </Button>
        <Button onClick={state.next} aria-label={t(`registrar.schedule.next.${state.view}`)} data-testid="schedule-next">
          ›
        </Button>
      </div>
      <div className="schedule-toolbar__date">
        <RuDateInput testId="schedule-date" value={typed} onChange={jump} invalid={typed.length === 10 && parseRuDate(typed) === null} />
      </div>
      <div className="schedule-toolbar__range" data-testid="schedule-range" data-from={state.from} data-days={state.days}>
        {rangeText(state.from, state.days)}
      </div>
    </div>
  )
}
