// The app's areas: «Главная», then the registrar's «Пациенты», «Расписание», «Синхронизация»,
// «Журнал действий» for the staff who work with them.
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { areaRoute, navAreaOf, NAV_AREAS, useNav, type NavArea } from './navigation'

export function NavBar({ registrar }: { registrar: boolean }): ReactNode {
  const { t } = useTranslation()
  const nav = useNav()
  const current = navAreaOf(nav.route)
  const areas: readonly NavArea[] = registrar ? NAV_AREAS : ['home']
  return (
    <nav className="app-nav" aria-label={t('nav.label')}>
      {areas.map((area) => (
        <button
          key={area}
          type="button"
          className={`app-nav__item${area === current ? ' app-nav__item--active' : ''}`}
          aria-current={area === current ? 'page' : undefined}
          data-testid={`nav-${area}`}
          onClick={() => nav.go(areaRoute(area))}
        >
          {t(`nav.${area}`)}
        </button>
      ))}
    </nav>
  )
}
