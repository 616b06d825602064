// Holds the portal session in the main process (tokens never go to the renderer), refreshes it
// before the access token runs out and ends it on logout, when the portal refuses it, when the
// token is pulled out (EDS sessions only), or after a spell of inactivity (the idle lock).
// A password session has no certificate: refresh and the idle lock work the same.
import { AppError } from '../../../shared/errors'
import type { SessionEndReason, SessionInfo } from '../../../shared/model'
import type { SessionResponse } from '../../../shared/portal-api'
import type { PortalClient } from '../portal/portal-client'

export type { SessionEndReason }

export interface SessionManagerOptions {
  /** End the session after this long without touch(); 0 or absent: never. */
  idleTimeoutMs?: number
}

interface Current {
  /** null: an offline session (no portal tokens; sync waits for an online login). */
  response: SessionResponse | null
  user: SessionInfo['user']
  expiresAt: string
  certificateId: string | null
  method: SessionInfo['method']
}

export class SessionManager {
  private current: Current | null = null
  private refreshTimer: NodeJS.Timeout | null = null
  private idleTimer: NodeJS.Timeout | null = null
  private refreshing: Promise<void> | null = null
  private readonly idleTimeoutMs: number

  constructor(
    private readonly portal: Pick<PortalClient, 'refresh' | 'logout'>,
    private readonly onEnded: (reason: SessionEndReason) => void,
    options: SessionManagerOptions = {},
  ) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0
  }

  start(response: SessionResponse, certificateId: string | null, method: SessionInfo['method']): SessionInfo {
    if (method === 'eds' && certificateId === null) throw new AppError('INTERNAL', {}, 'an EDS session needs its certificate')
    const previous = this.current
    this.current = { response, user: response.user, expiresAt: response.expiresAt, certificateId, method }
    // A session replaced by a new login is closed on the portal (quietly: nobody was logged out).
    if (previous?.response) void this.portal.logout(previous.response.accessToken).catch(() => {})
    this.scheduleRefresh()
    this.touch()
    return this.info() as SessionInfo
  }

  /**
   * A session without the portal (offline login): the user works on the local store until
   * `expiresAt`; portal calls fail with OFFLINE_SESSION. Idle lock applies as usual.
   */
  startOffline(user: SessionInfo['user'], expiresAt: Date): SessionInfo {
    const previous = this.current
    this.clearRefresh()
    this.current = { response: null, user, expiresAt: expiresAt.toISOString(), certificateId: null, method: 'password' }
    if (previous?.response) void this.portal.logout(previous.response.accessToken).catch(() => {})
    const c = this.current
    // A timer waits at most 2^31-1 ms (24.8 days; offline logins may last 30): re-armed until due.
    const arm = () => {
      this.refreshTimer = setTimeout(() => {
        if (this.current !== c) return
        if (expiresAt.getTime() > Date.now()) arm()
        else void this.end('expired')
      }, Math.max(1000, Math.min(expiresAt.getTime() - Date.now(), 2 ** 31 - 1)))
      this.refreshTimer.unref()
    }
    arm()
    this.touch()
    return this.info() as SessionInfo
  }

  /** The user is at the workstation: the idle lock starts counting again. */
  touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
    const c = this.current
    if (!c || this.idleTimeoutMs <= 0) return
    this.idleTimer = setTimeout(() => {
      if (this.current === c) void this.end('idle')
    }, this.idleTimeoutMs)
    this.idleTimer.unref()
  }

  /** The certificate the current session was opened with (null: none, or no session). */
  certificateId(): string | null {
    return this.current?.certificateId ?? null
  }

  /**
   * Runs a portal call with the session's access token. An access token the portal no longer
   * takes (a machine that slept past the refresh) is refreshed once and the call repeated; if the
   * refresh is refused too, the session ends ('expired') and the call fails with SESSION_EXPIRED.
   */
  async authorized<T>(call: (accessToken: string) => Promise<T>): Promise<T> {
    const c = this.current
    if (!c) throw new AppError('SESSION_EXPIRED', {}, 'no session')
    if (!c.response) throw new AppError('OFFLINE_SESSION', {}, 'an offline session has no portal access')
    try {
      return await call(c.response.accessToken)
    } catch (e) {
      if (!AppError.is(e, 'SESSION_EXPIRED') || this.current !== c) throw e
      await this.refresh()
      const next = this.current as Current | null
      if (!next?.response) throw e
      return call(next.response.accessToken)
    }
  }

  info(): SessionInfo | null {
    const c = this.current
    if (!c) return null
    return { user: c.user, expiresAt: c.expiresAt, certificateId: c.certificateId, method: c.method, offline: c.response === null }
  }

  /** Ends the session locally and on the portal (best effort: a dead network must not block logout). */
  async end(reason: SessionEndReason): Promise<void> {
    const c = this.current
    this.current = null
    this.clearTimer()
    if (!c) return
    // Locally the session is over now (the token is logged out, the UI told); the portal is told
    // after, so a slow network cannot keep a pulled token's session open.
    this.onEnded(reason)
    if (!c.response) return
    try {
      await this.portal.logout(c.response.accessToken)
    } catch {
      // The session is gone locally; the portal's copy expires on its own.
    }
  }

  close(): void {
    this.clearTimer()
    this.current = null
  }

  private clearTimer(): void {
    this.clearRefresh()
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
  }

  private clearRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer)
    this.refreshTimer = null
  }

  private scheduleRefresh(): void {
    this.clearRefresh()
    const c = this.current
    if (!c?.response) return
    const lifetime = new Date(c.response.expiresAt).getTime() - Date.now()
    // Refresh at 80% of the access token's life; never busy-loop on odd clocks.
    const delay = Math.max(5_000, lifetime * 0.8)
    this.refreshTimer = setTimeout(() => void this.refresh(), delay)
    this.refreshTimer.unref()
  }

  /** One refresh at a time: the portal rotates refresh tokens, so a second one would be refused. */
  private refresh(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null
    })
    return this.refreshing
  }

  private async refreshOnce(): Promise<void> {
    const c = this.current
    if (!c?.response) return
    try {
      const next = await this.portal.refresh(c.response.refreshToken)
      if (this.current === c) {
        this.current = { ...c, response: next, user: next.user, expiresAt: next.expiresAt }
        this.scheduleRefresh()
      }
    } catch {
      if (this.current === c) {
        this.current = null
        this.clearTimer()
        this.onEnded('expired')
      }
    }
  }
}
