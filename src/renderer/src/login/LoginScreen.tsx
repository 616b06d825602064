// The first screen: two ways in. «Электронная подпись»: token state, certificates, PIN, progress,
// and every failure in plain Russian. «Логин и пароль»: the password + one-time code route.
import { Alert, Button, Skeleton, Tabs } from 'antd'
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
// The password route likewise: fetched shortly after first paint, or when its tab is opened.
const loadPasswordLogin = () => import('./PasswordLogin')
const PasswordLogin = lazy(async () => ({ default: (await loadPasswordLogin()).PasswordLogin }))

export type SessionEndNotice =
  | { kind: 'error'; error: AppErrorData }
  | { kind: 'tokenRemoved' }
  | { kind: 'idle'; method: SessionInfo['method'] }
  | null

export type LoginMethod = 'token' | 'password'

export interface LoginScreenProps {
  notice: SessionEndNotice
  onLoggedIn: (session: SessionInfo) => void
  /** The tab to open with (the way the last session was opened). */
  initialMethod?: LoginMethod
}

/** The idle notice of a password session says nothing about a token. */
function noticeKey(notice: { kind: 'tokenRemoved' } | { kind: 'idle'; method: SessionInfo['method'] }): string {
  return notice.kind === 'idle' && notice.method === 'password' ? 'idlePassword' : notice.kind
}

export function LoginScreen({ notice, onLoggedIn, initialMethod = 'token' }: LoginScreenProps): ReactNode {
  const { t } = useTranslation()
  const { query, refresh } = useTokenState()
  const [method, setMethod] = useState<LoginMethod>(initialMethod)
  const [selectedId, setSelectedId] = useState<string | null>(null)
  const [selectedCert, setSelectedCert] = useState<CertificateInfo | null>(null)

  useEffect(() => {
    const timer = setTimeout(() => {
      void loadPinDialog()
      void loadPasswordLogin()
    }, 300)
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

  const tokenRoute = (
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
  )

  return (
    <div className="page">
      <AppHeader />
      <main className="login">
        <h1 className="login__title">{method === 'token' ? t('login.title') : t('password.title')}</h1>
        <p className="login__lead">{method === 'token' ? t('login.lead') : t('password.lead')}</p>

        {notice?.kind === 'error' ? <ErrorAlert error={notice.error} testId="session-ended" type="warning" /> : null}
        {notice?.kind === 'tokenRemoved' || notice?.kind === 'idle' ? (
          <div data-testid="session-ended" data-code={notice.kind}>
            <Alert
              type="warning"
              showIcon
              title={t(`login.sessionEnded.${noticeKey(notice)}.title`)}
              description={`${t(`login.sessionEnded.${noticeKey(notice)}.message`)} ${t(`login.sessionEnded.${noticeKey(notice)}.action`)}`}
            />
          </div>
        ) : null}

        <Tabs
          className="login__methods"
          activeKey={method}
          onChange={(key) => setMethod(key === 'password' ? 'password' : 'token')}
          items={[
            {
              key: 'token',
              label: <span data-testid="login-method-token">{t('login.methods.token')}</span>,
              children: tokenRoute,
            },
            {
              key: 'password',
              label: <span data-testid="login-method-password">{t('login.methods.password')}</span>,
              children: (
                <Suspense fallback={<Skeleton active paragraph={{ rows: 4 }} title={false} />}>
                  <PasswordLogin active={method === 'password'} onLoggedIn={onLoggedIn} onUseToken={() => setMethod('token')} />
                </Suspense>
              ),
            },
          ]}
        />
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
