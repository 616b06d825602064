// A booked slot opened from the schedule: who, when, with whom, and move / cancel.
import { Button, Descriptions, Modal, Tag } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { AppointmentView } from '../../../shared/registrar'
import { ErrorAlert } from '../components/ErrorAlert'
import { useNav } from '../shell/navigation'
import { AppointmentActions } from './AppointmentActions'
import { ChangeTag } from './ChangeTag'
import { formatWhen } from './schedule-model'

export function AppointmentDialog({ appointment, onClose }: { appointment: AppointmentView; onClose: () => void }): ReactNode {
  const { t } = useTranslation()
  const nav = useNav()
  const [error, setError] = useState<AppErrorData | null>(null)
  const patientId = appointment.patientId
  return (
    <Modal
      open
      title={t('registrar.appointment.dialogTitle')}
      onCancel={onClose}
      destroyOnHidden
      footer={
        <Button onClick={onClose} data-testid="appointment-dialog-close">
          {t('common.close')}
        </Button>
      }
    >
      <div className="dialog-form" data-testid="appointment-dialog" data-id={appointment.id}>
        {error ? <ErrorAlert error={error} testId="appointment-error" /> : null}
        <Descriptions size="small" column={1}>
          <Descriptions.Item label={t('registrar.book.patient')}>
            {patientId ? (
              <Button type="link" className="link-button" data-testid="appointment-open-patient" onClick={() => nav.go({ area: 'patient', id: patientId, fix: null })}>
                {appointment.patientName}
              </Button>
            ) : (
              appointment.patientName
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t('registrar.appointment.when')}>{formatWhen(appointment.start)}</Descriptions.Item>
          <Descriptions.Item label={t('registrar.appointment.doctor')}>{appointment.doctorName}</Descriptions.Item>
          <Descriptions.Item label={t('registrar.appointment.service')}>{appointment.service}</Descriptions.Item>
          <Descriptions.Item label={t('registrar.appointment.status')}>
            <Tag>{t(`registrar.appointment.statuses.${appointment.status}`)}</Tag>
            <ChangeTag change={appointment.change} />
          </Descriptions.Item>
        </Descriptions>
        {appointment.status === 'booked' ? <AppointmentActions appointment={appointment} size="middle" onError={setError} onDone={onClose} /> : null}
      </div>
    </Modal>
  )
}
