// «Главная»: who is signed in, the session and the certificate used.
import { Button, Card, Descriptions, Tag } from 'antd'
import dayjs from 'dayjs'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { SessionInfo } from '../../../shared/model'
import { formatSnils } from '../../../shared/validators/snils'
import { certificateView, greetingName } from '../login/model'
import { useTokenState } from '../login/useTokenState'

export interface HomeProps {
  session: SessionInfo
  onOpenHistory: () => void
}

export function Home({ session, onOpenHistory }: HomeProps): ReactNode {
  const { t } = useTranslation()
  const { query } = useTokenState()
  const { user } = session
  const cert = session.certificateId ? query.data?.certificates.find((c) => c.id === session.certificateId) : undefined
  const view = cert ? certificateView(cert) : null
  return (
    <>
      <h1 className="home__title">{t('shell.welcome', { name: greetingName(user.fullName) })}</h1>
      <p className="home__lead">
        {session.offline ? t('shell.leadOffline') : session.method === 'password' ? t('shell.leadPassword') : t('shell.lead')}
      </p>
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
            <Button size="small" onClick={onOpenHistory} disabled={session.offline} data-testid="history-open">
              {t('history.open')}
            </Button>
          }
        >
          <Descriptions column={1} size="small">
            <Descriptions.Item label={t('shell.method')}>
              {t(`shell.methods.${session.method}`)}
              {session.offline ? ` · ${t('shell.offlineMethod')}` : ''}
            </Descriptions.Item>
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
              <Descriptions.Item label={t('cert.validity')}>{t('cert.validityRange', { from: view.validFrom, to: view.validTo })}</Descriptions.Item>
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
    </>
  )
}
