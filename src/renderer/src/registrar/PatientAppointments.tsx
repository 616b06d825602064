// «Записи на приём»: the patient's appointments with move and cancel, and «Записать на приём»
// (the schedule, with this patient chosen).
import { useQuery } from '@tanstack/react-query'
import { Button, Table, Tag } from 'antd'
import { useState, type HTMLAttributes, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { AppointmentView } from '../../../shared/registrar'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { useNav } from '../shell/navigation'
import { AppointmentActions } from './AppointmentActions'
import { ChangeTag } from './ChangeTag'
import { KEYS } from './query-keys'
import { formatWhen } from './schedule-model'

const STATUS_COLORS: Record<AppointmentView['status'], string> = { booked: 'blue', cancelled: 'default', fulfilled: 'green', noshow: 'orange', other: 'default' }

export function PatientAppointments({ patientId, patientName }: { patientId: string; patientName: string }): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const nav = useNav()
  const [actionError, setActionError] = useState<AppErrorData | null>(null)
  const list = useQuery({ queryKey: KEYS.patientAppointments(patientId), queryFn: () => api.call('patients.appointments', { id: patientId }), retry: false })
  const rows = [...(list.data ?? [])].sort((a, b) => b.start.localeCompare(a.start))

  return (
    <section className="panel" aria-labelledby="appointments-title" data-testid="patient-appointments">
      <div className="panel__head">
        <h2 className="panel__title" id="appointments-title">
          {t('registrar.appointment.title')}
        </h2>
        <Button type="primary" onClick={() => nav.go({ area: 'schedule', patient: { id: patientId, name: patientName } })} data-testid="book-for-patient">
          {t('registrar.appointment.book')}
        </Button>
      </div>
      <div className="panel__body">
        {actionError ? <ErrorAlert error={actionError} testId="appointment-error" /> : null}
        {list.isError ? (
          <ErrorAlert error={errorData(list.error)} testId="appointments-error" action={<Button onClick={() => void list.refetch()}>{t('common.retry')}</Button>} />
        ) : (
          <Table<AppointmentView>
            size="small"
            rowKey="id"
            loading={list.isPending}
            dataSource={rows}
            pagination={rows.length > 10 ? { pageSize: 10, showSizeChanger: false } : false}
            locale={{ emptyText: t('registrar.appointment.none') }}
            onRow={(a) => ({ 'data-testid': 'appointment-row', 'data-id': a.id, 'data-status': a.status, 'data-change': a.change ?? undefined }) as HTMLAttributes<HTMLElement>}
            columns={[
              { key: 'when', title: t('registrar.appointment.when'), render: (_, a) => <span className="mono">{formatWhen(a.start)}</span> },
              { key: 'doctor', title: t('registrar.appointment.doctor'), dataIndex: 'doctorName' },
              { key: 'service', title: t('registrar.appointment.service'), dataIndex: 'service' },
              {
                key: 'status',
                title: t('registrar.appointment.status'),
                render: (_, a) => (
                  <>
                    <Tag color={STATUS_COLORS[a.status]}>{t(`registrar.appointment.statuses.${a.status}`)}</Tag>
                    <ChangeTag change={a.change} />
                  </>
                ),
              },
              {
                key: 'actions',
                title: '',
                render: (_, a) => (a.status === 'booked' ? <AppointmentActions appointment={a} onError={setActionError} /> : null),
              },
            ]}
          />
        )}
      </div>
    </section>
  )
}
