// «Синхронизация»: where sync stands, and every change the portal did not take (rejected or in
// conflict), oldest first, each with what can be done about it.
import { useQuery } from '@tanstack/react-query'
import { Button, Descriptions, Skeleton } from 'antd'
import dayjs from 'dayjs'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { describeError } from '../../../shared/errors'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { useSyncStatus } from './hooks'
import { ProblemCard } from './ProblemCard'
import { KEYS } from './query-keys'
import { SyncNowButton } from './SyncNowButton'

const when = (at: string | null): string | null => (at ? dayjs(at).format('DD.MM.YYYY HH:mm') : null)

export default function SyncPage(): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const status = useSyncStatus()
  const problems = useQuery({ queryKey: KEYS.problems, queryFn: () => api.call('sync.problems', {}), retry: false })
  const s = status.data

  return (
    <section className="area" data-testid="sync-page">
      <div className="area__head">
        <h1 className="home__title">{t('registrar.syncPage.title')}</h1>
        <SyncNowButton testId="sync-now-page" busy={s?.phase === 'pulling' || s?.phase === 'pushing'} />
      </div>
      <p className="home__lead">{t('registrar.syncPage.lead')}</p>
      {s ? (
        <div className="panel">
          <div className="panel__body">
            <Descriptions size="small" column={{ xs: 1, md: 3 }} data-testid="sync-summary">
              <Descriptions.Item label={t('registrar.syncPage.pending')}>
                <span data-testid="sync-summary-pending">{s.pending}</span>
              </Descriptions.Item>
              <Descriptions.Item label={t('registrar.syncPage.rejected')}>{s.rejected}</Descriptions.Item>
              <Descriptions.Item label={t('registrar.syncPage.conflicts')}>{s.conflicts}</Descriptions.Item>
              <Descriptions.Item label={t('registrar.syncPage.last')}>{when(s.lastSyncAt) ?? t('sync.never')}</Descriptions.Item>
              <Descriptions.Item label={t('registrar.syncPage.next')}>{when(s.nextAttemptAt) ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('registrar.syncPage.state')}>{t(`registrar.syncPage.phases.${s.phase}`)}</Descriptions.Item>
            </Descriptions>
            {s.lastError ? (
              <div className="sync-page__error" data-testid="sync-summary-error">
                <strong>{describeError(s.lastError).title}.</strong> {describeError(s.lastError).message} {describeError(s.lastError).action}
              </div>
            ) : null}
          </div>
        </div>
      ) : status.isError ? (
        <ErrorAlert error={errorData(status.error)} testId="sync-status-error" />
      ) : null}
      <h2 className="area__subtitle">{t('registrar.problems.title')}</h2>
      <div className="problem-list" data-testid="sync-problems" data-count={problems.data?.length}>
        {problems.isPending ? (
          <Skeleton active paragraph={{ rows: 4 }} />
        ) : problems.isError ? (
          <ErrorAlert error={errorData(problems.error)} testId="problems-error" action={<Button onClick={() => void problems.refetch()}>{t('common.retry')}</Button>} />
        ) : problems.data.length === 0 ? (
          <div className="home__muted" data-testid="problems-empty">
            {t('registrar.problems.none')}
          </div>
        ) : (
          problems.data.map((p) => <ProblemCard key={p.changeId} problem={p} />)
        )}
      </div>
    </section>
  )
}
