// The app after login (loaded lazily, so the login screen's bundle stays small): the header with
// the user, the offline mark, the navigation and the sync state, then the current screen.
// The registrar's areas are loaded on first use.
import { Skeleton } from 'antd'
import { lazy, Suspense, useEffect, useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { SessionInfo } from '../../../shared/model'
import { errorData } from '../api'
import { AppFooter } from '../components/AppFooter'
import { AppHeader } from '../components/AppHeader'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { useRegistrarEvents } from '../registrar/hooks'
import { OfflineMark } from '../registrar/OfflineMark'
import { SyncIndicator } from '../registrar/SyncIndicator'
import { SyncNotices } from '../registrar/SyncNotices'
import { Home } from './Home'
import { NavBar } from './NavBar'
import { canUseRegistrar, NavContext, navAreaOf, popRoute, pushRoute, replaceRoute, type Navigation, type Route } from './navigation'
import { UserBox } from './UserBox'

const LoginHistory = lazy(async () => ({ default: (await import('./LoginHistory')).LoginHistory }))
const loadPatients = () => import('../registrar/PatientsPage')
const loadPatientCard = () => import('../registrar/PatientCard')
const loadSchedule = () => import('../registrar/SchedulePage')
const loadSync = () => import('../registrar/SyncPage')
const loadAudit = () => import('../registrar/AuditPage')
const PatientsPage = lazy(loadPatients)
const PatientCard = lazy(loadPatientCard)
const SchedulePage = lazy(loadSchedule)
const SyncPage = lazy(loadSync)
const AuditPage = lazy(loadAudit)
/** Fetched shortly after the shell shows, so the first click on an area does not wait for its code. */
const PRELOAD_AREAS_MS = 1500

export interface ShellProps {
  session: SessionInfo
  onLoggedOut: () => void
}

function Screen({ route, session, onOpenHistory }: { route: Route; session: SessionInfo; onOpenHistory: () => void }): ReactNode {
  switch (route.area) {
    case 'home':
      return <Home session={session} onOpenHistory={onOpenHistory} />
    case 'patients':
      return <PatientsPage query={route.query} />
    case 'patient':
      return <PatientCard id={route.id} fix={route.fix} />
    case 'schedule':
      return <SchedulePage patient={route.patient} />
    case 'sync':
      return <SyncPage />
    case 'audit':
      return <AuditPage />
  }
}

export default function Shell({ session, onLoggedOut }: ShellProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const [leaving, setLeaving] = useState(false)
  const [error, setError] = useState<AppErrorData | null>(null)
  const [historyOpen, setHistoryOpen] = useState(false)
  // `screen` counts the screens opened: a new one (even of the same kind) starts fresh, while
  // `replace` (e.g. the search text of «Пациенты») keeps the screen as it is.
  const [{ stack, screen }, setHistory] = useState<{ stack: Route[]; screen: number }>({ stack: [{ area: 'home' }], screen: 0 })
  const registrar = canUseRegistrar(session.user.roles)
  useRegistrarEvents()
  useEffect(() => {
    if (!registrar) return undefined
    const timer = setTimeout(() => {
      for (const load of [loadPatients, loadPatientCard, loadSchedule, loadSync, loadAudit]) void load()
    }, PRELOAD_AREAS_MS)
    return () => clearTimeout(timer)
  }, [registrar])

  const nav = useMemo<Navigation>(
    () => ({
      route: stack[stack.length - 1] ?? { area: 'home' },
      go: (route) => setHistory((h) => ({ stack: pushRoute(h.stack, route), screen: h.screen + 1 })),
      replace: (route) => setHistory((h) => ({ ...h, stack: replaceRoute(h.stack, route) })),
      back: () => setHistory((h) => ({ stack: popRoute(h.stack), screen: h.screen + 1 })),
    }),
    [stack],
  )
  // Without the registrar's roles only «Главная» exists.
  const route: Route = registrar ? nav.route : { area: 'home' }

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
    <NavContext.Provider value={nav}>
      <div className="page" data-testid="shell" data-area={route.area}>
        <AppHeader
          nav={
            <div className="app-header__nav-inner">
              <NavBar registrar={registrar} />
              <SyncIndicator sessionOffline={session.offline} onOpenProblems={registrar ? () => nav.go({ area: 'sync' }) : undefined} />
            </div>
          }
        >
          <div className="shell-side">
            <OfflineMark sessionOffline={session.offline} />
            <UserBox user={session.user} leaving={leaving} onLogout={() => void logout()} />
          </div>
        </AppHeader>
        <main className="home" aria-label={t(`nav.${navAreaOf(route)}`)}>
          <SyncNotices onRelogin={() => void logout()} leaving={leaving} />
          {error ? <ErrorAlert error={error} testId="logout-error" /> : null}
          <Suspense fallback={<Skeleton active paragraph={{ rows: 6 }} />}>
            <Screen key={screen} route={route} session={session} onOpenHistory={() => setHistoryOpen(true)} />
          </Suspense>
        </main>
        <AppFooter />
        {historyOpen ? (
          <Suspense fallback={null}>
            <LoginHistory open={historyOpen} onClose={() => setHistoryOpen(false)} />
          </Suspense>
        ) : null}
      </div>
    </NavContext.Provider>
  )
}
