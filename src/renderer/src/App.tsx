// Top level: the login screen, or the (lazily loaded) app shell once a session exists.
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { Spin } from 'antd'
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react'
import type { SessionInfo } from '../../shared/model'
import { useApi } from './context'
import { LoginScreen, type LoginMethod, type SessionEndNotice } from './login/LoginScreen'
import { ACTIVITY_THROTTLE_MS } from './login/model'
import { tokenStateQuery } from './login/useTokenState'

const loadShell = () => import('./shell/Shell')
const Shell = lazy(loadShell)
const SESSION_KEY = ['auth.session'] as const

export function App(): ReactNode {
  const api = useApi()
  const qc = useQueryClient()
  const [notice, setNotice] = useState<SessionEndNotice>(null)
  const session = useQuery({ queryKey: SESSION_KEY, queryFn: () => api.call('auth.session', {}), staleTime: Infinity, retry: false })
  // The login screen opens on the way the last session was opened (a nurse without a token
  // should not have to switch tabs after every logout or idle lock).
  const [lastMethod, setLastMethod] = useState<LoginMethod>('token')
  const sessionMethod = session.data?.method
  useEffect(() => {
    if (sessionMethod) setLastMethod(sessionMethod === 'password' ? 'password' : 'token')
  }, [sessionMethod])
  // Ask for the tokens together with the session, not after it: the login screen is the usual
  // first screen and should not wait for a second round trip.
  useEffect(() => void qc.prefetchQuery(tokenStateQuery(api, qc)), [api, qc])

  useEffect(
    () =>
      api.on('auth.sessionEnded', ({ reason }) => {
        const ended = qc.getQueryData<SessionInfo | null>(SESSION_KEY)
        qc.setQueryData(SESSION_KEY, null)
        if (reason === 'expired') setNotice({ kind: 'error', error: { code: 'SESSION_EXPIRED', params: {} } })
        else if (reason === 'tokenRemoved') setNotice({ kind: 'tokenRemoved' })
        else if (reason === 'idle') setNotice({ kind: 'idle', method: ended?.method ?? 'eds' })
      }),
    [api, qc],
  )

  // While someone is logged in, their input keeps the session from the idle lock.
  const loggedInNow = Boolean(session.data)
  useEffect(() => {
    if (!loggedInNow) return undefined
    let last = 0
    const onInput = (): void => {
      const now = Date.now()
      if (now - last < ACTIVITY_THROTTLE_MS) return
      last = now
      void api.call('app.activity', {}).catch(() => {})
    }
    const kinds = ['pointerdown', 'keydown', 'wheel', 'pointermove', 'touchstart'] as const
    for (const k of kinds) window.addEventListener(k, onInput, { passive: true, capture: true })
    return () => {
      for (const k of kinds) window.removeEventListener(k, onInput, { capture: true })
    }
  }, [api, loggedInNow])

  // Fetch the shell's code while the user is busy with the token, so login → home is instant.
  useEffect(() => {
    const timer = setTimeout(() => void loadShell(), 1500)
    return () => clearTimeout(timer)
  }, [])

  const loggedIn = (s: SessionInfo): void => {
    setNotice(null)
    qc.setQueryData(SESSION_KEY, s)
  }
  const loggedOut = (): void => {
    setNotice(null)
    qc.setQueryData(SESSION_KEY, null)
  }

  if (session.data) {
    return (
      <Suspense fallback={<Spin fullscreen />}>
        <Shell session={session.data} onLoggedOut={loggedOut} />
      </Suspense>
    )
  }
  // While the session is being checked, the login screen is already shown: an existing session
  // (a reloaded page) simply replaces it.
  return <LoginScreen notice={notice} onLoggedIn={loggedIn} initialMethod={lastMethod} />
}
