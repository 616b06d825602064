// The app after login (loaded lazily, so the login screen's bundle stays small): who is signed
// in, the session and the certificate used. The work areas of the cabinet are added here later.
import { Button, Card, Descriptions, Tag } from 'antd'
import dayjs from 'dayjs'
import { lazy, Suspense, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { SessionInfo } from '../../../shared/model'
import { formatSnils } from '../../../shared/validators/snils'
import { errorData } from '../api'
import { AppFooter } from '../components/AppFooter'
import { AppHeader } from '../components/AppHeader'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { certificateView, greetingName } from '../login/model'
import { useTokenState } from '../login/useTokenState'
import type { AppErrorData } from '../../../shared/errors'

const LoginHistory = lazy(async () => ({ default: (await import('./LoginHistory')).LoginHistory }))

export interface ShellProps {
  session: SessionInfo
  onLoggedOut: () => void
}

export default function Shell({ session, onLoggedOut }: ShellProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const { query } = useTokenState()
  const [leaving, setLeaving] = useState(false)
  const [error, setError] = useState<AppErrorData | null>(null)
  const [historyOpen, setHistoryOpen] = useState(false)
  const { user } = session
  const cert = session.certificateId ? query.data?.certificates.find((c) => c.id === session.certificateId) : undefined
  const view = cert ? certificateView(cert) : null

  const logout = async (): Promise<void> => {
    setLeaving(true)
    setError(null)
    try {
      await api.call('auth.logout', {})
      onLoggedOut()
    } catch (e) {
      setError(errorData(e))
      setLeaving(false)
    }
  }

  return (
    <div className="page" data-testid="shell">
      <AppHeader>
        <div className="user-box" data-testid="user-box">
          <div className="user-box__text">
            <div className="user-box__name" data-testid="user-name">
              {user.fullName}
            </div>
            <div className="user-box__job">
              {user.position} · {user.organisation}
            </div>
          </div>
          <Button className="user-box__logout" loading={leaving} onClick={() => void logout()} data-testid="logout">
            {t('shell.logout')}
          </Button>
        </div>
      </AppHeader>
      <main className="home">
        {error ? <ErrorAlert error={error} testId="logout-error" /> : null}
        <h1 className="home__title">{t('shell.welcome', { name: greetingName(user.fullName) })}</h1>
        <p className="home__lead">{session.method === 'password' ? t('shell.leadPassword') : t('shell.lead')}</p>
        <div className="home__grid">
          <Card title={t('shell.user')}>
            <Descriptions column={1} size="small">
              <Descriptions.Item label={t('cert.owner')}>{user.fullName}</Descriptions.Item>
              <Descriptions.Item label={t('cert.snils')}>{formatSnils(user.snils)}</Descriptions.Item>
              <Descriptions.Item label={t('cert.position')}>{user.position}</Descriptions.Item>
              <Descriptions.Item label={t('cert.organisation')}>{user.organisation}</Descriptions.Item>
              <Descriptions.Item label={t('shell.roles')}>
                {user.roles.map((r) => (
                  <Tag key={r}>{t(`shell.roleNames.${r}`)}</Tag>
                ))}
              </Descriptions.Item>
            </Descriptions>
          </Card>
          <Card
            title={t('shell.session')}
            data-testid="session-card"
            extra={
              <Button size="small" onClick={() => setHistoryOpen(true)} data-testid="history-open">
                {t('history.open')}
              </Button>
            }
          >
            <Descriptions column={1} size="small">
              <Descriptions.Item label={t('shell.method')}>{t(`shell.methods.${session.method}`)}</Descriptions.Item>
              <Descriptions.Item label={t('shell.expires')}>
                <span data-testid="session-expires">{dayjs(session.expiresAt).format('DD.MM.YYYY HH:mm')}</span>
              </Descriptions.Item>
            </Descriptions>
          </Card>
          <Card title={t('shell.certificate')} className="home__wide" data-testid="session-cert">
            {view && cert ? (
              <Descriptions column={{ xs: 1, md: 2 }} size="small">
                <Descriptions.Item label={t('cert.owner')}>{view.name}</Descriptions.Item>
                <Descriptions.Item label={t('cert.snils')}>{view.snils ?? t('cert.noSnils')}</Descriptions.Item>
                <Descriptions.Item label={t('cert.issuer')}>{view.issuer}</Descriptions.Item>
                <Descriptions.Item label={t('cert.validity')}>
                  {t('cert.validityRange', { from: view.validFrom, to: view.validTo })}
                </Descriptions.Item>
                <Descriptions.Item label={t('cert.token')}>{cert.tokenLabel}</Descriptions.Item>
                <Descriptions.Item label={t('cert.key')}>{cert.keyDescription}</Descriptions.Item>
                <Descriptions.Item label={t('cert.serial')}>
                  <code className="mono">{cert.serialNumber}</code>
                </Descriptions.Item>
              </Descriptions>
            ) : (
              <div className="home__muted">{session.certificateId ? t('shell.certificateGone') : t('shell.noCertificate')}</div>
            )}
          </Card>
        </div>
      </main>
      <AppFooter />
      {historyOpen ? (
        <Suspense fallback={null}>
          <LoginHistory open={historyOpen} onClose={() => setHistoryOpen(false)} />
        </Suspense>
      ) : null}
    </div>
  )
}
