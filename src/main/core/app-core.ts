// Composition root of the core services: builds the token service, the portal client and the
// session, and implements the RPC contract's handlers. Both transports (Electron IPC and the
// Node host) serve exactly this object; it never imports electron.
import { EventEmitter } from 'node:events'
import { platform } from 'node:os'
import { toAppError } from '../../shared/errors'
import type { EventName, EventPayload, Handlers } from '../../shared/rpc/contract'
import { loginWithCertificate, type EdsLoginTimings } from './auth/eds-login'
import { SessionManager } from './auth/session-manager'
import type { AppConfig } from './config'
import { PortalClient } from './portal/portal-client'
import { resolveLibraries } from './token/libraries'
import { createTokenService, type TokenService } from './token/token-service'

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void

export interface AppCore {
  handlers: Handlers
  onEvent(listener: EventListener): () => void
  close(): Promise<void>
}

export interface AppCoreOptions {
  transport: 'electron' | 'web'
  version?: string
  /** Called with each successful login's step timings (benchmark, log). */
  onLoginTimings?: (t: EdsLoginTimings) => void
  log?: (line: string) => void
}

export function createAppCore(config: AppConfig, options: AppCoreOptions): AppCore & { tokens: TokenService; portal: PortalClient } {
  const emitter = new EventEmitter()
  const emit = <E extends EventName>(event: E, payload: EventPayload<E>): void => {
    emitter.emit('event', event, payload)
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))

  const tokens = createTokenService({
    libraries: resolveLibraries({ configured: config.tokenLibraries, useDefaults: config.useDefaultLibraries }),
    pollIntervalMs: config.tokenPollIntervalMs,
  })
  const portal = new PortalClient({ baseUrl: config.portalUrl, caFile: config.portalCaFile, timeoutMs: config.portalTimeoutMs })
  // However a session ends, the token's logged-in PKCS#11 session ends with it.
  const session = new SessionManager(portal, (reason) => {
    void tokens.logout().catch(() => {})
    emit('auth.sessionEnded', { reason })
  })
  const unsubscribeTokens = tokens.onChange((state) => emit('token.changed', state))

  const handlers: Handlers = {
    'app.info': async () => ({
      name: 'АРМ медицинского работника',
      version: options.version ?? '0.0.0',
      transport: options.transport,
      portalUrl: config.portalUrl,
      platform: platform(),
    }),
    'token.state': () => tokens.state(),
    'token.refresh': () => tokens.refresh(),
    'auth.loginWithCertificate': async ({ certificateId, pin }) => {
      try {
        const { session: response, timings } = await loginWithCertificate(
          { tokens, portal, onStage: (stage) => emit('auth.progress', { stage }) },
          certificateId,
          pin,
        )
        options.onLoginTimings?.(timings)
        return session.start(response, certificateId, 'eds')
      } catch (e) {
        const err = toAppError(e)
        log(`login failed: ${err.code}${err.details ? ` (${err.details})` : ''}`)
        // A refused login must not leave the token logged in for whoever comes next.
        await tokens.logout().catch(() => {})
        throw err
      }
    },
    'auth.session': async () => session.info(),
    'auth.logout': async () => {
      await session.end('logout')
      await tokens.logout() // also when no portal session existed (a login that failed midway)
      return { ok: true as const }
    },
  }

  return {
    handlers,
    tokens,
    portal,
    onEvent(listener) {
      const wrapped = (event: EventName, payload: unknown): void => (listener as (e: EventName, p: unknown) => void)(event, payload)
      emitter.on('event', wrapped)
      return () => emitter.off('event', wrapped)
    },
    async close() {
      unsubscribeTokens()
      session.close()
      portal.close()
      await tokens.close()
    },
  }
}
