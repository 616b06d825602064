// The top bar shared by the login screen and the app shell; the shell adds its navigation row.
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'

export interface AppHeaderProps {
  /** The right-hand side of the top row (the user, marks). */
  children?: ReactNode
  /** A second row: the app's navigation and the sync state. */
  nav?: ReactNode
}

export function AppHeader({ children, nav }: AppHeaderProps): ReactNode {
  const { t } = useTranslation()
  return (
    <header className={`app-header${nav ? ' app-header--with-nav' : ''}`}>
      <div className="app-header__inner">
        <div className="app-header__brand">
          <svg className="app-header__mark" width="32" height="32" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="#0d4cd3" />
            <path d="M13 7h6v6h6v6h-6v6h-6v-6H7v-6h6z" fill="#ffffff" />
          </svg>
          <div>
            <div className="app-header__title">{t('app.name')}</div>
            <div className="app-header__subtitle">{t('app.subtitle')}</div>
          </div>
        </div>
        <div className="app-header__side">{children}</div>
      </div>
      {nav ? <div className="app-header__nav">{nav}</div> : null}
    </header>
  )
}
