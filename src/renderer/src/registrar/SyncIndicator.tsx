// The sync state, always in the header: progress while pulling or pushing, changes waiting,
// the last sync, the last error (from the catalogue), problems that need the user (a link to
// «Синхронизация»), and «Синхронизировать».
import { Button, Spin, Tag, Tooltip } from 'antd'
import dayjs from 'dayjs'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { describeError } from '../../../shared/errors'
import { errorData } from '../api'
import { useSyncStatus } from './hooks'
import { syncView } from './sync-model'
import { SyncNowButton } from './SyncNowButton'

export interface SyncIndicatorProps {
  sessionOffline: boolean
  /** Opens «Синхронизация»; absent when the user has no access to it. */
  onOpenProblems?: () => void
}

/** «14:05» today, «24.11.2026 14:05» on another day (local time). */
function syncTime(at: string): string {
  const d = dayjs(at)
  return d.isSame(dayjs(), 'day') ? d.format('HH:mm') : d.format('DD.MM.YYYY HH:mm')
}

export function SyncIndicator({ sessionOffline, onOpenProblems }: SyncIndicatorProps): ReactNode {
  const { t } = useTranslation()
  const status = useSyncStatus()
  const s = status.data
  const view = syncView(s, sessionOffline)
  const error = view.error ? describeError(view.error) : null

  return (
    <div
      className="sync-indicator"
      data-testid="sync-status"
      data-phase={s?.phase ?? (status.isError ? 'unavailable' : 'loading')}
      data-online={s ? String(s.online) : undefined}
      data-pending={s?.pending}
      aria-live="polite"
    >
      {view.busy && s ? (
        <span className="sync-indicator__progress" data-testid="sync-progress">
          <Spin size="small" />
          {t(`sync.phase.${view.busy}`)}
          {s.progress ? ` ${s.progress.total === null ? s.progress.done : `${s.progress.done}/${s.progress.total}`}` : ''}
          {view.percent !== null ? ` (${view.percent}%)` : ''}
        </span>
      ) : s ? (
        <>
          {/* With problems waiting for a decision nothing is «all sent»: the link to them says how many. */}
          {s.pending > 0 || view.allSent ? (
            <Tag color={s.pending > 0 ? 'blue' : 'green'} data-testid="sync-pending" data-count={s.pending}>
              {s.pending > 0 ? t('sync.pending', { count: s.pending }) : t('sync.allSent')}
            </Tag>
          ) : null}
          <span className="sync-indicator__last" data-testid="sync-last">
            {s.lastSyncAt === null ? t('sync.never') : t('sync.last', { time: syncTime(s.lastSyncAt) })}
          </span>
        </>
      ) : status.isError ? (
        <Tooltip title={describeError(errorData(status.error)).message}>
          <span className="sync-indicator__muted" data-testid="sync-unavailable" data-code={errorData(status.error).code} tabIndex={0}>
            {t('sync.unavailable')}
          </span>
        </Tooltip>
      ) : (
        <Spin size="small" />
      )}
      {error && view.error ? (
        <Tooltip title={`${error.message} ${error.action}`}>
          <span className="sync-indicator__error" data-testid="sync-error" data-code={view.error.code} tabIndex={0}>
            {error.title}
          </span>
        </Tooltip>
      ) : s?.phase === 'offline' ? (
        <span className="sync-indicator__muted" data-testid="sync-offline">
          {t('registrar.syncPage.phases.offline')}
        </span>
      ) : null}
      {s && view.problems > 0 ? (
        <Button
          type="link"
          size="small"
          className="link-button sync-indicator__problems"
          data-testid="sync-problems-link"
          data-conflicts={s.conflicts}
          data-rejected={s.rejected}
          disabled={!onOpenProblems}
          onClick={onOpenProblems}
        >
          {[s.conflicts > 0 ? t('sync.conflicts', { count: s.conflicts }) : null, s.rejected > 0 ? t('sync.rejected', { count: s.rejected }) : null]
            .filter(Boolean)
            .join(' · ')}
        </Button>
      ) : null}
      <SyncNowButton testId="sync-now" size="small" busy={view.busy !== null} />
    </div>
  )
}
