// «Расписание»: a doctor's day or week. A free slot books (the patient chosen on the card, or
// found in the booking dialog); a booked one opens the appointment (move, cancel).
import { Alert, Button } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppointmentView, SlotView } from '../../../shared/registrar'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { AppointmentDialog } from './AppointmentDialog'
import { BookDialog, type ChosenPatient } from './BookDialog'
import { ScheduleGrid } from './ScheduleGrid'
import { ScheduleToolbar } from './ScheduleToolbar'
import { formatWhen } from './schedule-model'
import { useScheduleView } from './useScheduleView'

export default function SchedulePage({ patient: initialPatient }: { patient: ChosenPatient | null }): ReactNode {
  const { t } = useTranslation()
  const state = useScheduleView()
  const [patient, setPatient] = useState<ChosenPatient | null>(initialPatient)
  const [booking, setBooking] = useState<SlotView | null>(null)
  const [opened, setOpened] = useState<AppointmentView | null>(null)
  const [booked, setBooked] = useState<AppointmentView | null>(null)

  const onSlot = (slot: SlotView): void => {
    setBooked(null)
    if (slot.status === 'free') setBooking(slot)
    else if (slot.appointment) setOpened(slot.appointment)
  }

  return (
    <section className="area" data-testid="schedule-page">
      <div className="area__head">
        <h1 className="home__title">{t('registrar.schedule.title')}</h1>
      </div>
      {patient ? (
        <div className="schedule-patient" data-testid="schedule-patient" data-id={patient.id}>
          <Alert
            type="info"
            showIcon
            title={t('registrar.schedule.forPatient', { name: patient.name })}
            description={t('registrar.schedule.forPatientHint')}
            action={
              <Button size="small" onClick={() => setPatient(null)} data-testid="schedule-patient-clear">
                {t('registrar.schedule.clearPatient')}
              </Button>
            }
          />
        </div>
      ) : null}
      {booked ? (
        <div data-testid="book-done" data-id={booked.id}>
          <Alert type="success" showIcon title={t('registrar.book.done', { patient: booked.patientName, when: formatWhen(booked.start) })} />
        </div>
      ) : null}
      {state.doctorsQuery.isError ? (
        <ErrorAlert
          error={errorData(state.doctorsQuery.error)}
          testId="doctors-error"
          action={<Button onClick={() => void state.doctorsQuery.refetch()}>{t('common.retry')}</Button>}
        />
      ) : state.doctorsQuery.isSuccess && state.doctors.length === 0 ? (
        <div className="home__muted" data-testid="schedule-empty">
          {t('registrar.schedule.noDoctors')}
        </div>
      ) : (
        <div className="panel schedule-panel">
          <div className="panel__body">
            <ScheduleToolbar state={state} />
            {state.slotsQuery.isError ? <ErrorAlert error={errorData(state.slotsQuery.error)} testId="slots-error" /> : null}
            <ScheduleGrid slots={state.slots} from={state.from} days={state.days} loading={state.slotsQuery.isFetching} onSlot={onSlot} />
          </div>
        </div>
      )}
      {booking ? (
        <BookDialog
          slot={booking}
          doctor={state.doctor}
          patient={patient}
          onClose={() => setBooking(null)}
          onBooked={(appointment) => {
            setBooking(null)
            setBooked(appointment)
          }}
        />
      ) : null}
      {opened ? <AppointmentDialog appointment={opened} onClose={() => setOpened(null)} /> : null}
    </section>
  )
}
