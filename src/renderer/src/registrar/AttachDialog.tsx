// «Прикрепить»: участок, основание (по заявлению / по месту жительства) and the date from which
// it holds. An attachment in force ends the day before (the core does it).
import { Button, Input, Modal, Radio } from 'antd'
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

export interface AttachDialogProps {
  patientId: string
  current: Attachment | null
  onClose: () => void
  onDone: (record: PatientRecord) => void
}

export function AttachDialog({ patientId, current, onClose, onDone }: AttachDialogProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const [area, setArea] = useState(current?.area ?? '')
  const [basis, setBasis] = useState<'application' | 'territorial'>('application')
  const [from, setFrom] = useState(formatRuDate(today()))
  const [tried, setTried] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<AppErrorData | null>(null)

  const fromIso = parseRuDate(from)
  const areaProblem = area.trim() === '' ? t('registrar.attachment.problems.area') : null
  const fromProblem = fromIso === null ? t('registrar.attachment.problems.date') : null

  const submit = async (): Promise<void> => {
    setTried(true)
    if (busy || areaProblem || fromIso === null) return
    setBusy(true)
    setError(null)
    try {
      onDone(await api.call('patients.attach', { id: patientId, area: area.trim(), basis, from: fromIso }))
    } catch (e) {
      setError(errorData(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <Modal
      open
      title={t('registrar.attachment.attachTitle')}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose} disabled={busy} data-testid="attach-cancel">
          {t('common.cancel')}
        </Button>,
        <Button key="ok" type="primary" loading={busy} onClick={() => void submit()} data-testid="attach-submit">
          {t('registrar.attachment.attach')}
        </Button>,
      ]}
    >
      <div className="dialog-form" data-testid="attach-dialog">
        {error ? <ErrorAlert error={error} testId="attach-error" /> : null}
        {current ? <p className="home__muted">{t('registrar.attachment.replaces', { area: current.area, from: formatRuDate(current.from) })}</p> : null}
        <FormField id="attach-area" label={t('registrar.attachment.area')} problem={tried ? areaProblem : null} problemTestId="attach-area-error">
          <Input id="attach-area" data-testid="attach-area" maxLength={50} value={area} status={tried && areaProblem ? 'error' : undefined} onChange={(e) => setArea(e.target.value)} />
        </FormField>
        <FormField id="attach-basis" label={t('registrar.attachment.basis')}>
          <div data-testid="attach-basis" data-value={basis}>
            <Radio.Group id="attach-basis" value={basis} onChange={(e) => setBasis(e.target.value === 'territorial' ? 'territorial' : 'application')}>
              <Radio value="application">
                <span data-testid="attach-basis-application">{t('registrar.attachment.bases.application')}</span>
              </Radio>
              <Radio value="territorial">
                <span data-testid="attach-basis-territorial">{t('registrar.attachment.bases.territorial')}</span>
              </Radio>
            </Radio.Group>
          </div>
        </FormField>
        <FormField id="attach-from" label={t('registrar.attachment.from')} problem={tried ? fromProblem : null} problemTestId="attach-from-error">
          <RuDateInput id="attach-from" testId="attach-from" value={from} invalid={tried && fromProblem !== null} onChange={setFrom} />
        </FormField>
      </div>
    </Modal>
  )
}
