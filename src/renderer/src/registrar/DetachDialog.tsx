// «Открепить»: the last day of the attachment in force and why it ends.
import { AutoComplete, Button, Modal } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import { formatRuDate, parseRuDate } from '../../../shared/patient-form'
import type { Attachment, PatientRecord } from '../../../shared/registrar'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { FormField } from '../components/FormField'
import { RuDateInput } from '../components/RuDateInput'
import { useApi } from '../context'
import { today } from './schedule-model'

export interface DetachDialogProps {
  patientId: string
  current: Attachment
  onClose: () => void
  onDone: (record: PatientRecord) => void
}

const REASONS = ['moved', 'otherClinic', 'application', 'death'] as const

export function DetachDialog({ patientId, current, onClose, onDone }: DetachDialogProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const [to, setTo] = useState(formatRuDate(today()))
  const [reason, setReason] = useState('')
  const [tried, setTried] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<AppErrorData | null>(null)

  const toIso = parseRuDate(to)
  const toProblem =
    toIso === null
      ? t('registrar.attachment.problems.date')
      : toIso < current.from
        ? t('registrar.attachment.problems.beforeFrom', { from: formatRuDate(current.from) })
        : null
  const reasonProblem = reason.trim() === '' ? t('registrar.attachment.problems.reason') : null

  const submit = async (): Promise<void> => {
    setTried(true)
    if (busy || toIso === null || toProblem || reasonProblem) return
    setBusy(true)
    setError(null)
    try {
      onDone(await api.call('patients.detach', { id: patientId, to: toIso, reason: reason.trim() }))
    } catch (e) {
      setError(errorData(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <Modal
      open
      title={t('registrar.attachment.detachTitle')}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose} disabled={busy} data-testid="detach-cancel">
          {t('common.cancel')}
        </Button>,
        <Button key="ok" type="primary" danger loading={busy} onClick={() => void submit()} data-testid="detach-submit">
          {t('registrar.attachment.detach')}
        </Button>,
      ]}
    >
      <div className="dialog-form" data-testid="detach-dialog">
        {error ? <ErrorAlert error={error} testId="detach-error" /> : null}
        <p className="home__muted">{t('registrar.attachment.detaching', { area: current.area, from: formatRuDate(current.from) })}</p>
        <FormField id="detach-to" label={t('registrar.attachment.to')} problem={tried ? toProblem : null} problemTestId="detach-to-error">
          <RuDateInput id="detach-to" testId="detach-to" value={to} invalid={tried && toProblem !== null} onChange={setTo} />
        </FormField>
        <FormField id="detach-reason" label={t('registrar.attachment.endReason')} problem={tried ? reasonProblem : null} problemTestId="detach-reason-error">
          <div data-testid="detach-reason">
            <AutoComplete
              id="detach-reason"
              value={reason}
              maxLength={200}
              status={tried && reasonProblem ? 'error' : undefined}
              options={REASONS.map((r) => ({ value: t(`registrar.attachment.reasons.${r}`) }))}
              onChange={(v: string) => setReason(v)}
              placeholder={t('registrar.attachment.reasonPlaceholder')}
            />
          </div>
        </FormField>
      </div>
    </Modal>
  )
}
