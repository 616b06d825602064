// Booking a free slot: the patient (chosen already, or found here with the same as-you-type
// search), a reason, «Записать». SLOT_TAKEN and other failures show here; nothing typed is lost.
import { useQueryClient } from '@tanstack/react-query'
import { Button, Descriptions, Input, Modal } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { AppointmentView, DoctorSchedule, SlotView } from '../../../shared/registrar'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { FormField } from '../components/FormField'
import { useApi } from '../context'
import { refreshTypes } from './hooks'
import { PatientSearch } from './PatientSearch'
import { formatWhen } from './schedule-model'

export interface ChosenPatient {
  id: string
  name: string
}

export interface BookDialogProps {
  slot: SlotView
  doctor: DoctorSchedule | undefined
  patient: ChosenPatient | null
  onClose: () => void
  onBooked: (appointment: AppointmentView) => void
}

export function BookDialog({ slot, doctor, patient: preselected, onClose, onBooked }: BookDialogProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const qc = useQueryClient()
  const [patient, setPatient] = useState<ChosenPatient | null>(preselected)
  const [search, setSearch] = useState('')
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<AppErrorData | null>(null)

  const book = async (): Promise<void> => {
    if (busy || !patient) return
    setBusy(true)
    setError(null)
    try {
      const appointment = await api.call('appointments.book', { slotId: slot.id, patientId: patient.id, reason: reason.trim() })
      onBooked(appointment)
    } catch (e) {
      const err = errorData(e)
      setError(err)
      if (err.code === 'SLOT_TAKEN') refreshTypes(qc, ['Slot', 'Appointment'])
    } finally {
      setBusy(false)
    }
  }

  return (
    <Modal
      open
      width={760}
      title={t('registrar.book.title')}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose} disabled={busy} data-testid="book-cancel">
          {t('common.cancel')}
        </Button>,
        <Button key="ok" type="primary" loading={busy} disabled={!patient} onClick={() => void book()} data-testid="book-submit">
          {t('registrar.book.submit')}
        </Button>,
      ]}
    >
      <div className="dialog-form" data-testid="book-dialog" data-slot={slot.id}>
        {error ? <ErrorAlert error={error} testId="book-error" /> : null}
        <Descriptions size="small" column={1}>
          <Descriptions.Item label={t('registrar.appointment.doctor')}>{doctor ? `${doctor.doctorName} — ${doctor.specialty}` : '—'}</Descriptions.Item>
          {doctor ? <Descriptions.Item label={t('registrar.appointment.service')}>{doctor.service}</Descriptions.Item> : null}
          <Descriptions.Item label={t('registrar.appointment.when')}>
            <span data-testid="book-when">{formatWhen(slot.start)}</span>
          </Descriptions.Item>
        </Descriptions>
        {patient ? (
          <div className="book-patient">
            <span className="field__label">{t('registrar.book.patient')}:</span>{' '}
            <strong data-testid="book-patient" data-id={patient.id}>
              {patient.name}
            </strong>{' '}
            <Button type="link" className="link-button" onClick={() => setPatient(null)} data-testid="book-change-patient">
              {t('registrar.book.changePatient')}
            </Button>
          </div>
        ) : (
          <div>
            <div className="field__label">{t('registrar.book.choosePatient')}</div>
            <PatientSearch compact autoFocus text={search} onText={setSearch} onPick={(p) => setPatient({ id: p.id, name: p.fullName })} />
          </div>
        )}
        <FormField id="book-reason" label={t('registrar.book.reason')} hint={t('registrar.book.reasonHint')}>
          <Input id="book-reason" data-testid="book-reason" maxLength={200} value={reason} onChange={(e) => setReason(e.target.value)} />
        </FormField>
      </div>
    </Modal>
  )
}
