// Portal address and version, from app.info.
import { useQuery } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { useApi } from '../context'

export function AppFooter(): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const info = useQuery({ queryKey: ['app.info'], queryFn: () => api.call('app.info', {}), staleTime: Infinity, retry: false })
  return (
    <footer className="app-footer" data-testid="app-footer">
      {info.data ? (
        <>
          {t('app.footer', { portal: info.data.portalUrl, version: info.data.version })} · {t(`app.transport.${info.data.transport}`)}
        </>
      ) : null}
    </footer>
  )
}
