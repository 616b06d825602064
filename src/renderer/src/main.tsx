// Renderer entry: picks the transport (Electron preload or the Node host's WebSocket), sets up
// Russian locale, theme and the typed API, and renders the app.
import './styles.css'
import 'dayjs/locale/ru'
import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query'
import { Alert, ConfigProvider } from 'antd'
import ruRU from 'antd/locale/ru_RU'
import dayjs from 'dayjs'
import { StrictMode, useEffect, useState, type ReactNode } from 'react'
import { createRoot } from 'react-dom/client'
import { useTranslation } from 'react-i18next'
import { createApi } from './api'
import { App } from './App'
import { resolveBridge, type ConnectionStatus, type WsBridge } from './bridge'
import { EmptyState, WarningIcon } from './components/EmptyState'
import { ApiContext } from './context'
import { initI18n } from './i18n'
import { theme } from './theme'

dayjs.locale('ru')
initI18n()

function ConnectionGate({ bridge, children }: { bridge: WsBridge; children: ReactNode }): ReactNode {
  const { t } = useTranslation()
  const qc = useQueryClient()
  const [status, setStatus] = useState<ConnectionStatus>(bridge.status())
  useEffect(
    () =>
      bridge.onStatus((s) => {
        setStatus((prev) => {
          // Back after a break: events may have been missed, so re-read everything.
          if (s === 'ready' && prev === 'lost') void qc.invalidateQueries()
          return s
        })
      }),
    [bridge, qc],
  )
  if (status === 'unauthorized') {
    return (
      <div className="standalone">
        <EmptyState icon={<WarningIcon />} title={t('connection.unauthorized')} testId="connection-unauthorized">
          {t('connection.unauthorizedHint')}
        </EmptyState>
      </div>
    )
  }
  return (
    <>
      {status === 'lost' ? (
        <div className="connection-banner" data-testid="connection-lost">
          <Alert banner type="warning" showIcon title={t('connection.lost')} description={t('connection.lostHint')} />
        </div>
      ) : null}
      {children}
    </>
  )
}

function Missing(): ReactNode {
  const { t } = useTranslation()
  return (
    <div className="standalone">
      <EmptyState icon={<WarningIcon />} title={t('connection.missing')} testId="connection-missing">
        {t('connection.missingHint')}
      </EmptyState>
    </div>
  )
}

const resolved = resolveBridge()
const queryClient = new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false } } })
const api = resolved.kind === 'none' ? null : createApi(resolved.bridge)

const element = document.getElementById('root')
if (!element) throw new Error('#root is missing from index.html')

createRoot(element).render(
  <StrictMode>
    <ConfigProvider locale={ruRU} theme={theme}>
      <QueryClientProvider client={queryClient}>
        {api === null ? (
          <Missing />
        ) : (
          <ApiContext.Provider value={api}>
            {resolved.kind === 'web' ? (
              <ConnectionGate bridge={resolved.bridge}>
                <App />
              </ConnectionGate>
            ) : (
              <App />
            )}
          </ApiContext.Provider>
        )}
      </QueryClientProvider>
    </ConfigProvider>
  </StrictMode>,
)
