// What is plugged in: no drivers, no token, a token without certificates, or the certificates.
import { Alert } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { describeError } from '../../../shared/errors'
import type { CertificateInfo, LibraryStatus, TokenState } from '../../../shared/model'
import { ErrorAlert } from '../components/ErrorAlert'
import { EmptyState, WarningIcon } from '../components/EmptyState'
import { TokenIcon } from '../components/TokenIcon'
import { CertificateCard } from './CertificateCard'
import { libraryProblems, sortCertificates, tokenPanelKind } from './model'

export interface TokenStatePanelProps {
  state: TokenState
  onSelect: (cert: CertificateInfo) => void
}

function LibraryList({ libraries }: { libraries: LibraryStatus[] }): ReactNode {
  const { t } = useTranslation()
  return (
    <div className="library-list" data-testid="library-list">
      <div className="library-list__title">{t('login.libraries.tried')}</div>
      <ul>
        {libraries.map((lib) => (
          <li key={lib.path} data-testid="library-item" data-state={lib.state}>
            <span className="library-list__name">{lib.name}</span>
            <code className="library-list__path">{lib.path}</code>
            <span className={`library-list__state library-list__state--${lib.state}`}>
              {lib.error ? describeError(lib.error).title : t(`login.libraries.${lib.state}`)}
              {lib.source === 'configured' ? ` · ${t('login.libraries.configured')}` : ''}
            </span>
          </li>
        ))}
      </ul>
    </div>
  )
}

export function TokenStatePanel({ state, onSelect }: TokenStatePanelProps): ReactNode {
  const { t } = useTranslation()
  const kind = tokenPanelKind(state)
  const problems = libraryProblems(state)

  let content: ReactNode
  if (kind === 'noLibraries') {
    const failed = state.libraries.filter((l) => l.error)
    const text = describeError({ code: 'NO_TOKEN_LIBRARIES', params: {} })
    content = (
      <>
        {failed.length > 0 ? (
          failed.map((lib) => lib.error && <ErrorAlert key={lib.path} error={lib.error} testId="library-error" />)
        ) : (
          <EmptyState icon={<WarningIcon />} title={text.title}>
            <div>{text.message}</div>
            <div className="empty-state__action">{text.action}</div>
          </EmptyState>
        )}
        <LibraryList libraries={state.libraries} />
      </>
    )
  } else if (kind === 'noToken') {
    const text = describeError({ code: 'TOKEN_NOT_PRESENT', params: {} })
    content = (
      <EmptyState icon={<TokenIcon muted />} title={text.title}>
        <div className="empty-state__hint">{t('login.noToken.hint')}</div>
        <div>{text.action}</div>
      </EmptyState>
    )
  } else if (kind === 'noCertificates') {
    content = (
      <EmptyState icon={<TokenIcon />} title={t('login.noCertificates.title')}>
        <div>{t('login.noCertificates.message', { labels: state.tokens.map((tk) => `«${tk.label}»`).join(', ') })}</div>
        <div className="empty-state__action">{t('login.noCertificates.action')}</div>
      </EmptyState>
    )
  } else {
    const tokens = new Map(state.tokens.map((tk) => [tk.id, tk]))
    content = (
      <div className="cert-list" data-testid="cert-list">
        {sortCertificates(state.certificates).map((cert) => (
          <CertificateCard key={cert.id} cert={cert} token={tokens.get(cert.tokenId)} state={state} onSelect={onSelect} />
        ))}
      </div>
    )
  }

  const labels = new Map(state.tokens.map((tk) => [tk.id, tk.label]))
  return (
    <div data-testid="token-state" data-state={kind}>
      {kind !== 'noLibraries' && problems.length > 0 ? (
        <Alert
          className="panel-warning"
          type="warning"
          showIcon
          title={t('login.libraries.problems')}
          description={
            <ul className="plain-list" data-testid="library-problems">
              {problems.map((lib) => (
                <li key={lib.path}>
                  {lib.name}: {lib.error ? describeError(lib.error).message : describeError({ code: 'TOKEN_LIBRARY_NOT_FOUND', params: { path: lib.path } }).message}
                </li>
              ))}
            </ul>
          }
        />
      ) : null}
      {content}
      {state.errors.map(({ tokenId, error }) => (
        <ErrorAlert
          key={tokenId}
          error={error}
          testId="token-error"
          type="warning"
          extra={t('login.tokenErrors', { label: labels.get(tokenId) ?? tokenId })}
        />
      ))}
    </div>
  )
}
