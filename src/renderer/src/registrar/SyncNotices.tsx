// Under the header, on every screen: the core needs a new login to send changes (they are
// kept), or «Синхронизировать» failed.
import { Alert, Button } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { ErrorAlert } from '../components/ErrorAlert'
import { useLastSyncNowFailure, useSyncStatus } from './hooks'

export interface SyncNoticesProps {
  /** Ends the session and goes to the login screen (unsent changes stay in the local store). */
  onRelogin: () => void
  leaving: boolean
}

export function SyncNotices({ onRelogin, leaving }: SyncNoticesProps): ReactNode {
  const { t } = useTranslation()
  const status = useSyncStatus()
  const failure = useLastSyncNowFailure()
  const [dismissedAt, setDismissedAt] = useState<number | null>(null)
  const needsLogin = status.data?.phase === 'needsLogin'
  const showFailure = failure !== null && failure.at !== dismissedAt
  if (!needsLogin && !showFailure) return null
  return (
    <div className="sync-notices">
      {needsLogin ? (
        <div data-testid="relogin-banner">
          <Alert
            type="warning"
            showIcon
            title={t('sync.relogin.title')}
            description={t('sync.relogin.text')}
            action={
              <Button type="primary" loading={leaving} onClick={onRelogin} data-testid="relogin">
                {t('sync.relogin.action')}
              </Button>
            }
          />
        </div>
      ) : null}
      {showFailure && failure ? (
        <ErrorAlert
          error={failure.error}
          testId="sync-now-error"
          type="warning"
          action={
            <Button size="small" onClick={() => setDismissedAt(failure.at)} data-testid="sync-now-error-close">
              {t('common.hide')}
            </Button>
          }
        />
      ) : null}
    </div>
  )
}
