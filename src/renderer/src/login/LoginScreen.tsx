// The first screen: token state, certificates, PIN, progress, and every failure in plain Russian.
import { Alert, Button, Skeleton } from 'antd'
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { CertificateInfo, SessionInfo } from '../../../shared/model'
import { errorData } from '../api'
import { AppHeader } from '../components/AppHeader'
import { AppFooter } from '../components/AppFooter'
import { ErrorAlert } from '../components/ErrorAlert'
import { TokenStatePanel } from './TokenStatePanel'
import { useTokenState } from './useTokenState'

// The PIN dialog (Modal, Steps, Input) is fetched after first paint, so the first screen's
// bundle stays small; it is warm long before anyone has picked a certificate.
const loadPinDialog = () => import('./PinDialog')
const PinDialog = lazy(async () => ({ default: (await loadPinDialog()).PinDialog }))

export type SessionEndNotice = { kind: 'error'; error: AppErrorData } | { kind: 'tokenRemoved' } | { kind: 'idle' } | null

export interface LoginScreenProps {
  notice: SessionEndNotice
  onLoggedIn: (session: SessionInfo) => void
}

export function LoginScreen({ notice, onLoggedIn }: LoginScreenProps): ReactNode {
  const { t } = useTranslation()
  const { query, refresh } = useTokenState()
  const [selectedId, setSelectedId] = useState<string | null>(null)
  const [selectedCert, setSelectedCert] = useState<CertificateInfo | null>(null)

  useEffect(() => {
    const timer = setTimeout(() => void loadPinDialog(), 300)
    return () => clearTimeout(timer)
  }, [])

  const state = query.data
  const current = state?.certificates.find((c) => c.id === selectedId)
  const token = state?.tokens.find((tk) => tk.id === (current ?? selectedCert)?.tokenId)
  const select = (cert: CertificateInfo): void => {
    setSelectedId(cert.id)
    setSelectedCert(cert)
  }
  const closeDialog = (): void => {
    setSelectedId(null)
    setSelectedCert(null)
  }

  return (
    <div className="page">
      <AppHeader />
      <main className="login">
        <h1 className="login__title">{t('login.title')}</h1>
        <p className="login__lead">{t('login.lead')}</p>

        {notice?.kind === 'error' ? <ErrorAlert error={notice.error} testId="session-ended" type="warning" /> : null}
        {notice?.kind === 'tokenRemoved' || notice?.kind === 'idle' ? (
          <div data-testid="session-ended" data-code={notice.kind}>
            <Alert
              type="warning"
              showIcon
              title={t(`login.sessionEnded.${notice.kind}.title`)}
              description={`${t(`login.sessionEnded.${notice.kind}.message`)} ${t(`login.sessionEnded.${notice.kind}.action`)}`}
            />
          </div>
        ) : null}

        <section className="panel" aria-labelledby="certificates-title">
          <div className="panel__head">
            <h2 className="panel__title" id="certificates-title">
              {t('login.certificates')}
            </h2>
            <Button data-testid="refresh" loading={refresh.isPending} onClick={() => refresh.mutate()}>
              {t('login.refresh')}
            </Button>
          </div>
          <div className="panel__body">
          {refresh.isError ? <ErrorAlert error={errorData(refresh.error)} testId="refresh-error" /> : null}
          {state ? (
            <TokenStatePanel state={state} onSelect={select} />
          ) : query.isError ? (
            <ErrorAlert
              error={errorData(query.error)}
              testId="token-state-error"
              action={<Button onClick={() => void query.refetch()}>{t('login.refresh')}</Button>}
            />
          ) : (
            <div data-testid="token-state" data-state="loading" aria-busy="true">
              <div className="login__scanning">{t('login.scanning')}</div>
              <Skeleton active paragraph={{ rows: 3 }} title={false} />
            </div>
          )}
            <div className="login__auto">{t('login.autoUpdate')}</div>
          </div>
        </section>
      </main>
      <AppFooter />

      {selectedCert ? (
        <Suspense fallback={null}>
          <PinDialog
            cert={current ?? selectedCert}
            token={token}
            present={current !== undefined}
            onClose={closeDialog}
            onLoggedIn={onLoggedIn}
          />
        </Suspense>
      ) : null}
    </div>
  )
}
