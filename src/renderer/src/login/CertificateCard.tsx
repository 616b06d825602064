// One certificate in the login list: whose it is, from whom, until when, on which token.
import { Button, Tag } from 'antd'
import type { KeyboardEvent, ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { describeError } from '../../../shared/errors'
import type { CertificateInfo, TokenInfo, TokenState } from '../../../shared/model'
import { certificateView, tokenCaption } from './model'

export interface CertificateCardProps {
  cert: CertificateInfo
  token: TokenInfo | undefined
  /** The whole picture, to tell this token from others with the same label (see tokenCaption). */
  state?: TokenState
  onSelect: (cert: CertificateInfo) => void
}

const VALIDITY_COLOR = { valid: 'success', expired: 'error', notYetValid: 'warning' } as const

function initials(name: string): string {
  return name
    .split(/\s+/)
    .slice(0, 2)
    .map((p) => p.charAt(0))
    .join('')
    .toUpperCase()
}

export function CertificateCard({ cert, token, state, onSelect }: CertificateCardProps): ReactNode {
  const { t } = useTranslation()
  const view = certificateView(cert)
  const caption = tokenCaption(cert, token, state)
  const usable = cert.hasPrivateKey
  const select = (): void => {
    if (usable) onSelect(cert)
  }
  const onKeyDown = (e: KeyboardEvent): void => {
    if (e.target === e.currentTarget && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault()
      select()
    }
  }
  const noKey = describeError({ code: 'PRIVATE_KEY_NOT_FOUND', params: {} })

  return (
    <div
      className={`cert-card${usable ? '' : ' cert-card--disabled'}`}
      data-testid="cert-item"
      data-cert-id={cert.id}
      data-usable={usable ? 'true' : 'false'}
      data-validity={cert.validity}
      role="button"
      tabIndex={usable ? 0 : -1}
      aria-disabled={!usable}
      onClick={select}
      onKeyDown={onKeyDown}
    >
      <div className="cert-card__avatar" aria-hidden="true">
        {initials(view.name)}
      </div>
      <div className="cert-card__body">
        <div className="cert-card__head">
          <span className="cert-card__name" data-testid="cert-name">
            {view.name}
          </span>
          <Tag variant="outlined" color={VALIDITY_COLOR[cert.validity]} data-testid="cert-validity">
            {t(`cert.status.${cert.validity}`)}
          </Tag>
          {!usable ? <Tag variant="outlined">{t('cert.noKey')}</Tag> : null}
          {token?.pin.locked ? (
            <Tag variant="outlined" color="error">
              {t('cert.pinLocked')}
            </Tag>
          ) : null}
        </div>
        {view.position || view.organisation ? (
          <div className="cert-card__job">{[view.position, view.organisation].filter(Boolean).join(' · ')}</div>
        ) : null}
        <dl className="cert-card__facts">
          <div>
            <dt>{t('cert.snils')}</dt>
            <dd data-testid="cert-snils">{view.snils ?? t('cert.noSnils')}</dd>
          </div>
          <div>
            <dt>{t('cert.validity')}</dt>
            <dd data-testid="cert-dates">{t('cert.validityRange', { from: view.validFrom, to: view.validTo })}</dd>
          </div>
          <div>
            <dt>{t('cert.token')}</dt>
            <dd>
              <span data-testid="cert-token">{caption.label}</span>
              {caption.serial ? (
                <span className="cert-card__serial" data-testid="cert-token-serial">
                  {t('cert.tokenSerial', { serial: caption.serial })}
                </span>
              ) : null}
              {caption.library ? (
                <span className="cert-card__serial" data-testid="cert-token-library">
                  {t('cert.tokenLibrary', { library: caption.library })}
                </span>
              ) : null}
            </dd>
          </div>
          <div>
            <dt>{t('cert.key')}</dt>
            <dd>{cert.keyDescription}</dd>
          </div>
          <div className="cert-card__wide">
            <dt>{t('cert.issuer')}</dt>
            <dd>{view.issuer}</dd>
          </div>
        </dl>
        {!usable ? (
          <div className="cert-card__reason" data-testid="cert-disabled-reason">
            {noKey.message}
          </div>
        ) : cert.validity === 'expired' ? (
          <div className="cert-card__reason">{t('cert.expiredHint', { date: view.validTo })}</div>
        ) : cert.validity === 'notYetValid' ? (
          <div className="cert-card__reason">{t('cert.notYetValidHint', { date: view.validFrom })}</div>
        ) : null}
      </div>
      <div className="cert-card__action">
        <Button
          type={usable && cert.validity === 'valid' ? 'primary' : 'default'}
          disabled={!usable}
          tabIndex={-1}
          onClick={(e) => {
            e.stopPropagation()
            select()
          }}
        >
          {t('cert.signIn')}
        </Button>
      </div>
    </div>
  )
}
