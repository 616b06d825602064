// «Прикрепление»: the attachment in force, the history, «Прикрепить» and «Открепить».
import { useQueryClient } from '@tanstack/react-query'
import { Button, Descriptions, Table } from 'antd'
import { useState, type HTMLAttributes, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { formatRuDate } from '../../../shared/patient-form'
import type { Attachment, PatientRecord } from '../../../shared/registrar'
import { AttachDialog } from './AttachDialog'
import { DetachDialog } from './DetachDialog'
import { KEYS } from './query-keys'

export function AttachmentSection({ record }: { record: PatientRecord }): ReactNode {
  const { t } = useTranslation()
  const qc = useQueryClient()
  const [dialog, setDialog] = useState<'attach' | 'detach' | null>(null)
  const current = record.attachments.find((a) => a.to === null) ?? null
  const history = [...record.attachments].sort((a, b) => b.from.localeCompare(a.from))

  const done = (updated: PatientRecord): void => {
    qc.setQueryData(KEYS.patient(updated.id), updated)
    setDialog(null)
  }

  return (
    <section className="panel" aria-labelledby="attachment-title" data-testid="attachment-section">
      <div className="panel__head">
        <h2 className="panel__title" id="attachment-title">
          {t('registrar.attachment.title')}
        </h2>
        <div className="panel__actions">
          <Button onClick={() => setDialog('attach')} data-testid="attach-open">
            {t('registrar.attachment.attach')}
          </Button>
          <Button onClick={() => setDialog('detach')} disabled={current === null} data-testid="detach-open">
            {t('registrar.attachment.detach')}
          </Button>
        </div>
      </div>
      <div className="panel__body">
        {current ? (
          <Descriptions size="small" column={{ xs: 1, md: 2 }} data-testid="attachment-current">
            <Descriptions.Item label={t('registrar.attachment.organisation')}>{current.organisation}</Descriptions.Item>
            <Descriptions.Item label={t('registrar.attachment.area')}>
              <span data-testid="attachment-current-area">{current.area}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('registrar.attachment.basis')}>{t(`registrar.attachment.bases.${current.basis}`)}</Descriptions.Item>
            <Descriptions.Item label={t('registrar.attachment.from')}>{formatRuDate(current.from)}</Descriptions.Item>
          </Descriptions>
        ) : (
          <div className="home__muted" data-testid="attachment-none">
            {t('registrar.attachment.none')}
          </div>
        )}
        {history.length > 0 ? (
          <div data-testid="attachment-history">
            <h3 className="panel__subtitle">{t('registrar.attachment.history')}</h3>
            <Table<Attachment>
              size="small"
              rowKey="id"
              pagination={false}
              dataSource={history}
              onRow={(a) => ({ 'data-testid': 'attachment-row', 'data-id': a.id, 'data-open': String(a.to === null) }) as HTMLAttributes<HTMLElement>}
              columns={[
                { key: 'from', title: t('registrar.attachment.from'), render: (_, a) => formatRuDate(a.from) },
                { key: 'to', title: t('registrar.attachment.to'), render: (_, a) => (a.to ? formatRuDate(a.to) : t('registrar.attachment.inForce')) },
                { key: 'area', title: t('registrar.attachment.area'), dataIndex: 'area' },
                { key: 'basis', title: t('registrar.attachment.basis'), render: (_, a) => t(`registrar.attachment.bases.${a.basis}`) },
                { key: 'endReason', title: t('registrar.attachment.endReason'), render: (_, a) => a.endReason ?? '—' },
              ]}
            />
          </div>
        ) : null}
      </div>
      {dialog === 'attach' ? <AttachDialog patientId={record.id} current={current} onClose={() => setDialog(null)} onDone={done} /> : null}
      {dialog === 'detach' && current ? <DetachDialog patientId={record.id} current={current} onClose={() => setDialog(null)} onDone={done} /> : null}
    </section>
  )
}
