// The patient card: the form (register or edit), then — once the patient exists — прикрепление
// and appointments. Opened from a rejected change («Исправить»), it shows the portal's message:
// saving the fixed form queues the change again.
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, Button, Skeleton } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { useNav, type FixNote } from '../shell/navigation'
import { AttachmentSection } from './AttachmentSection'
import { ChangeTag } from './ChangeTag'
import { PatientAppointments } from './PatientAppointments'
import { PatientEditor } from './PatientEditor'
import { KEYS } from './query-keys'

export interface PatientCardProps {
  id: string | null
  fix: FixNote | null
}

export default function PatientCard({ id: openedId, fix }: PatientCardProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const qc = useQueryClient()
  const nav = useNav()
  // A new patient gets its id from the first save; the card stays (with what was typed).
  const [id, setId] = useState(openedId)
  const record = useQuery({
    queryKey: KEYS.patient(id ?? ''),
    queryFn: () => api.call('patients.get', { id: id ?? '' }),
    enabled: id !== null,
    retry: false,
  })
  const data = id === null ? null : (record.data ?? null)
  const name = data ? [data.form.family, data.form.given, data.form.patronymic].filter(Boolean).join(' ') : null

  let body: ReactNode
  if (openedId !== null && record.isPending) {
    body = <Skeleton active paragraph={{ rows: 8 }} />
  } else if (openedId !== null && record.isError && !data) {
    body = (
      <ErrorAlert
        error={errorData(record.error)}
        testId="patient-load-error"
        action={<Button onClick={() => void record.refetch()}>{t('common.retry')}</Button>}
      />
    )
  } else {
    body = (
      <>
        <section className="panel" aria-labelledby="patient-form-title">
          <div className="panel__head">
            <h2 className="panel__title" id="patient-form-title">
              {t('registrar.card.data')}
            </h2>
          </div>
          <div className="panel__body">
            <PatientEditor
              id={id}
              initial={data?.form ?? null}
              onSaved={(saved) => {
                qc.setQueryData(KEYS.patient(saved.id), saved)
                setId(saved.id)
              }}
            />
          </div>
        </section>
        {data ? (
          <>
            <AttachmentSection record={data} />
            <PatientAppointments patientId={data.id} patientName={name ?? ''} />
          </>
        ) : null}
      </>
    )
  }

  return (
    <section className="area" data-testid="patient-card" data-id={id ?? ''} data-change={data?.change ?? ''}>
      <div className="area__head">
        <div>
          <Button type="link" className="link-button" onClick={nav.back} data-testid="patient-back">
            {t('common.backToList')}
          </Button>
          <h1 className="home__title" data-testid="patient-title">
            {id === null ? t('registrar.card.new') : (name ?? t('registrar.card.title'))} {data ? <ChangeTag change={data.change} /> : null}
          </h1>
        </div>
      </div>
      {fix ? (
        <div data-testid="patient-fix-note" data-change-id={fix.changeId}>
          <Alert type="error" showIcon title={t('registrar.card.fixTitle')} description={`${fix.message} ${t('registrar.card.fixHint')}`} />
        </div>
      ) : null}
      {body}
    </section>
  )
}
