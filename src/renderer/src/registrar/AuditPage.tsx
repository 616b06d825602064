// «Журнал действий»: who did what, when, on which record; newest first.
import { useQuery } from '@tanstack/react-query'
import { Button, Table } from 'antd'
import dayjs from 'dayjs'
import type { HTMLAttributes, ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { changeActionSchema, type AuditEntry } from '../../../shared/registrar'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { KEYS } from './query-keys'

const AUDIT_LIMIT = 200

/** What the user decided on «Синхронизация» (the core's audit actions besides the changes). */
const SYNC_ACTIONS = ['sync.resolve', 'sync.discard'] as const
const isSyncAction = (action: string): action is (typeof SYNC_ACTIONS)[number] => (SYNC_ACTIONS as readonly string[]).includes(action)

export default function AuditPage(): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const audit = useQuery({ queryKey: KEYS.audit, queryFn: () => api.call('audit.list', { resourceId: null, limit: AUDIT_LIMIT }), retry: false })
  const rows = (audit.data ?? []).map((e, i) => ({ ...e, key: `${e.at}-${i}` }))
  const actionText = (action: string): string =>
    changeActionSchema.safeParse(action).success
      ? t(`registrar.actions.${action}`)
      : isSyncAction(action)
        ? t(`registrar.audit.actions.${action}`)
        : action

  return (
    <section className="area" data-testid="audit-page">
      <div className="area__head">
        <h1 className="home__title">{t('registrar.audit.title')}</h1>
        <Button onClick={() => void audit.refetch()} loading={audit.isFetching} data-testid="audit-refresh">
          {t('login.refresh')}
        </Button>
      </div>
      <p className="home__lead">{t('registrar.audit.lead')}</p>
      {audit.isError ? (
        <ErrorAlert error={errorData(audit.error)} testId="audit-error" />
      ) : (
        <div data-testid="audit-table">
          <Table<AuditEntry & { key: string }>
            size="small"
            loading={audit.isPending}
            dataSource={rows}
            pagination={rows.length > 25 ? { pageSize: 25, showSizeChanger: false } : false}
            locale={{ emptyText: t('registrar.audit.empty') }}
            onRow={(e) => ({ 'data-testid': 'audit-row', 'data-action': e.action, 'data-resource': e.resourceId }) as HTMLAttributes<HTMLElement>}
            columns={[
              { key: 'at', title: t('registrar.audit.at'), render: (_, e) => <span className="mono nowrap">{dayjs(e.at).format('DD.MM.YYYY HH:mm:ss')}</span> },
              { key: 'user', title: t('registrar.audit.user'), dataIndex: 'user' },
              { key: 'action', title: t('registrar.audit.action'), render: (_, e) => actionText(e.action) },
              {
                key: 'record',
                title: t('registrar.audit.record'),
                render: (_, e) => (
                  <>
                    {e.summary} <span className="home__muted">({t(`registrar.resourceTypes.${e.resourceType}`, { defaultValue: e.resourceType })})</span>
                  </>
                ),
              },
            ]}
          />
        </div>
      )}
    </section>
  )
}
