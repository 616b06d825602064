// «Синхронизировать»: pull, then push, now. Its failure shows under the header (SyncNotices).
import { Button } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { useSyncNow } from './hooks'

export function SyncNowButton({ testId, busy, size }: { testId: string; busy: boolean; size?: 'small' | 'middle' }): ReactNode {
  const { t } = useTranslation()
  const syncNow = useSyncNow()
  return (
    <Button size={size} data-testid={testId} loading={syncNow.isPending} disabled={busy && !syncNow.isPending} onClick={() => syncNow.mutate()}>
      {t('sync.now')}
    </Button>
  )
}
