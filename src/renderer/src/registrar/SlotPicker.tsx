// Picking another free time on a doctor's schedule (moving an appointment, settling a booking
// conflict). The failure of what the pick started (e.g. SLOT_TAKEN) shows here; the dialog stays.
import { Modal } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { SlotView } from '../../../shared/registrar'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { ScheduleGrid } from './ScheduleGrid'
import { ScheduleToolbar } from './ScheduleToolbar'
import { useScheduleView } from './useScheduleView'

export interface SlotPickerProps {
  title: string
  /** What is being moved, in a line («Иванов И. И., 25.11.2026 09:30»). */
  subject: ReactNode
  initialScheduleId: string | null
  /** The date to open on (ISO). */
  initialDate?: string
  currentSlotId?: string | null
  busy: boolean
  error: AppErrorData | null
  onPick: (slot: SlotView) => void
  onClose: () => void
}

export function SlotPicker(p: SlotPickerProps): ReactNode {
  const { t } = useTranslation()
  const state = useScheduleView({ scheduleId: p.initialScheduleId, date: p.initialDate, view: 'week' })
  return (
    <Modal open title={p.title} onCancel={p.onClose} footer={null} width={1000} destroyOnHidden>
      <div className="slot-picker" data-testid="slot-picker" aria-busy={p.busy}>
        <div className="home__muted">{p.subject}</div>
        <p className="slot-picker__hint">{t('registrar.schedule.pickHint')}</p>
        {p.error ? <ErrorAlert error={p.error} testId="slot-picker-error" /> : null}
        {state.doctorsQuery.isError ? <ErrorAlert error={errorData(state.doctorsQuery.error)} testId="doctors-error" /> : null}
        {state.slotsQuery.isError ? <ErrorAlert error={errorData(state.slotsQuery.error)} testId="slots-error" /> : null}
        <ScheduleToolbar state={state} />
        <ScheduleGrid
          slots={state.slots}
          from={state.from}
          days={state.days}
          freeOnly
          currentSlotId={p.currentSlotId}
          loading={state.slotsQuery.isFetching || p.busy}
          onSlot={(slot) => {
            if (!p.busy && slot.status === 'free') p.onPick(slot)
          }}
        />
      </div>
    </Modal>
  )
}
