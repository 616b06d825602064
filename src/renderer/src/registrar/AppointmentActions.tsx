// What can be done with a booked appointment: move it to another free time, or cancel it (after
// a yes). Used in the patient's appointments and on a booked slot of the schedule.
import { useQueryClient } from '@tanstack/react-query'
import { Button } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { AppointmentView } from '../../../shared/registrar'
import { errorData } from '../api'
import { ConfirmButton } from '../components/ConfirmButton'
import { useApi } from '../context'
import { refreshTypes } from './hooks'
import { formatWhen, shortName, wallDate } from './schedule-model'
import { SlotPicker } from './SlotPicker'

export interface AppointmentActionsProps {
  appointment: AppointmentView
  /** A failure of cancelling (moving shows its own in the picker); null clears it. */
  onError: (error: AppErrorData | null) => void
  /** After a move or a cancel. */
  onDone?: (updated: AppointmentView) => void
  size?: 'small' | 'middle'
}

export function AppointmentActions({ appointment, onError, onDone, size = 'small' }: AppointmentActionsProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const qc = useQueryClient()
  const [moving, setMoving] = useState(false)
  const [busy, setBusy] = useState(false)
  const [moveError, setMoveError] = useState<AppErrorData | null>(null)
  const when = formatWhen(appointment.start)

  // The lists refresh on the core's data.changed event (useRegistrarEvents).
  const finished = (updated: AppointmentView): void => {
    onDone?.(updated)
  }

  const move = async (slotId: string): Promise<void> => {
    setBusy(true)
    setMoveError(null)
    try {
      const updated = await api.call('appointments.move', { id: appointment.id, slotId })
      setMoving(false)
      finished(updated)
    } catch (e) {
      setMoveError(errorData(e))
      refreshTypes(qc, ['Slot'])
    } finally {
      setBusy(false)
    }
  }

  const cancel = async (): Promise<void> => {
    onError(null)
    try {
      finished(await api.call('appointments.cancel', { id: appointment.id }))
    } catch (e) {
      onError(errorData(e))
    }
  }

  return (
    <div className="row-actions">
      <Button
        size={size}
        data-testid="appointment-move"
        onClick={() => {
          setMoveError(null)
          setMoving(true)
        }}
      >
        {t('registrar.appointment.move')}
      </Button>
      <ConfirmButton
        testId="appointment-cancel"
        size={size}
        danger
        title={t('registrar.appointment.cancelTitle')}
        text={t('registrar.appointment.cancelText', { patient: appointment.patientName, when, doctor: appointment.doctorName })}
        confirmText={t('registrar.appointment.cancelConfirm')}
        onConfirm={cancel}
      >
        {t('registrar.appointment.cancel')}
      </ConfirmButton>
      {moving ? (
        <SlotPicker
          title={t('registrar.appointment.moveTitle')}
          subject={t('registrar.appointment.moveSubject', { patient: shortName(appointment.patientName), when, doctor: appointment.doctorName })}
          initialScheduleId={appointment.scheduleId}
          initialDate={wallDate(appointment.start) || undefined}
          currentSlotId={appointment.slotId}
          busy={busy}
          error={moveError}
          onPick={(slot) => void move(slot.id)}
          onClose={() => setMoving(false)}
        />
      ) : null}
    </div>
  )
}
