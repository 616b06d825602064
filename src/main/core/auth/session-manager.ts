// Holds the portal session in the main process (tokens never go to the renderer), refreshes it
// before the access token runs out and ends it on logout or when the portal refuses it.
import type { SessionInfo } from '../../../shared/model'
import type { SessionResponse } from '../../../shared/portal-api'
import type { PortalClient } from '../portal/portal-client'

export type SessionEndReason = 'logout' | 'expired' | 'tokenRemoved'

interface Current {
  response: SessionResponse
  certificateId: string | null
  method: SessionInfo['method']
}

export class SessionManager {
  private current: Current | null = null
  private refreshTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly portal: Pick<PortalClient, 'refresh' | 'logout'>,
    private readonly onEnded: (reason: SessionEndReason) => void,
  ) {}

  start(response: SessionResponse, certificateId: string | null, method: SessionInfo['method']): SessionInfo {
    this.current = { response, certificateId, method }
    this.scheduleRefresh()
    return this.info() as SessionInfo
  }

  info(): SessionInfo | null {
    const c = this.current
    if (!c) return null
    return { user: c.response.user, expiresAt: c.response.expiresAt, certificateId: c.certificateId, method: c.method }
  }

  /** Ends the session locally and on the portal (best effort: a dead network must not block logout). */
  async end(reason: SessionEndReason): Promise<void> {
    const c = this.current
    this.current = null
    this.clearTimer()
    if (!c) return
    try {
      await this.portal.logout(c.response.accessToken)
    } catch {
      // The session is gone locally; the portal's copy expires on its own.
    }
    this.onEnded(reason)
  }

  close(): void {
    this.clearTimer()
    this.current = null
  }

  private clearTimer(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer)
    this.refreshTimer = null
  }

  private scheduleRefresh(): void {
    this.clearTimer()
    const c = this.current
    if (!c) return
    const lifetime = new Date(c.response.expiresAt).getTime() - Date.now()
    // Refresh at 80% of the access token's life; never busy-loop on odd clocks.
    const delay = Math.max(5_000, lifetime * 0.8)
    this.refreshTimer = setTimeout(() => void this.refresh(), delay)
    this.refreshTimer.unref()
  }

  private async refresh(): Promise<void> {
    const c = this.current
    if (!c) return
    try {
      const next = await this.portal.refresh(c.response.refreshToken)
      if (this.current === c) {
        this.current = { ...c, response: next }
        this.scheduleRefresh()
      }
    } catch {
      if (this.current === c) {
        this.current = null
        this.onEnded('expired')
      }
    }
  }
}
