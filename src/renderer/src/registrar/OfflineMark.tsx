// «Автономный режим»: shown in the header on every screen while the workstation works without
// the portal (an offline login, or the portal does not answer). The tooltip says changes are kept.
import { Tag, Tooltip } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { useSyncStatus } from './hooks'
import { syncView } from './sync-model'

export function OfflineMark({ sessionOffline }: { sessionOffline: boolean }): ReactNode {
  const { t } = useTranslation()
  const status = useSyncStatus()
  const { offline } = syncView(status.data, sessionOffline)
  if (offline === null) return null
  return (
    <Tooltip title={t(`offline.hint.${offline}`)}>
      <Tag color="orange" className="offline-mark" data-testid="offline-mark" data-reason={offline} tabIndex={0} aria-label={`${t('offline.mark')}. ${t(`offline.hint.${offline}`)}`}>
        {t('offline.mark')}
      </Tag>
    </Tooltip>
  )
}
