// Composition root of the core services: builds the token service, the portal client and the
// session, and implements the RPC contract's handlers. Both transports (Electron IPC and the
// Node host) serve exactly this object; it never imports electron.
import { EventEmitter } from 'node:events'
import { platform } from 'node:os'
import { AppError, toAppError } from '../../shared/errors'
import type { EventName, EventPayload, Handlers } from '../../shared/rpc/contract'
import { loginWithCertificate, type EdsLoginTimings } from './auth/eds-login'
import { confirmPasswordLogin, confirmPasswordReset, startPasswordLogin, startPasswordReset } from './auth/password-login'
import { SessionManager } from './auth/session-manager'
import type { AppConfig } from './config'
import { PortalClient } from './portal/portal-client'
import { resolveLibraries } from './token/libraries'
import { parseCertificateId } from './token/certificate-id'
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
  // However a session ends (logout, expiry, idle lock, token pulled), the token's logged-in
  // PKCS#11 session ends with it.
  const session = new SessionManager(
    portal,
    (reason) => {
      log(`session ended: ${reason}`)
      void tokens.logout().catch(() => {})
      emit('auth.sessionEnded', { reason })
    },
    { idleTimeoutMs: config.idleTimeoutMs },
  )
  /** The token holding the current session's certificate, or null. */
  const sessionTokenId = (): string | null => {
    const certificateId = session.certificateId()
    return certificateId ? parseCertificateId(certificateId).tokenId : null
  }
  // The token of the session pulled out: the session ends (the workstation locks), as users of
  // qualified-signature products expect. Noticed either way: its logged-in PKCS#11 session died,
  // or the token is no longer listed.
  const unsubscribeTokens = tokens.onChange((state) => {
    emit('token.changed', state)
    const tokenId = sessionTokenId()
    if (tokenId !== null && !state.tokens.some((t) => t.id === tokenId)) void session.end('tokenRemoved')
  })
  const unsubscribeLost = tokens.onSessionLost((tokenIds) => {
    const tokenId = sessionTokenId()
    if (tokenId !== null && tokenIds.includes(tokenId)) void session.end('tokenRemoved')
  })

  const passwordDeps = { portal }

  /** The EDS login in progress (one at a time), to be cancelled by 'auth.cancel'. */
  let pendingLogin: AbortController | null = null

  const handlers: Handlers = {
    'app.info': async () => ({
      name: 'АРМ медицинского работника',
      version: options.version ?? '0.0.0',
      transport: options.transport,
      portalUrl: config.portalUrl,
      platform: platform(),
      demoOutbox: config.demoOutbox,
    }),
    'token.state': () => tokens.state(),
    'token.refresh': () => tokens.refresh(),
    'auth.loginWithCertificate': async ({ certificateId, pin }) => {
      if (pendingLogin) throw new AppError('BUSY', {}, 'another login is in progress')
      const controller = new AbortController()
      pendingLogin = controller
      try {
        const { session: response, timings } = await loginWithCertificate(
          {
            tokens,
            portal,
            onStage: (stage) => emit('auth.progress', { stage }),
            signal: controller.signal,
            onAbandonedSession: (s) => void portal.logout(s.accessToken).catch(() => {}),
          },
          certificateId,
          pin,
        )
        options.onLoginTimings?.(timings)
        return session.start(response, certificateId, 'eds')
      } catch (e) {
        const err = toAppError(e)
        log(`login failed: ${err.code}${err.details ? ` (${err.details})` : ''}`)
        // A refused or cancelled login must not leave the token logged in for whoever comes next.
        // After a cancel this is queued behind the token call still running in the worker.
        const loggedOut = tokens.logout().catch(() => {})
        if (err.code !== 'CANCELLED') await loggedOut
        throw err
      } finally {
        if (pendingLogin === controller) pendingLogin = null
      }
    },
    'auth.cancel': async () => {
      const controller = pendingLogin
      if (!controller) return { cancelled: false }
      log('login cancelled by the user')
      controller.abort()
      return { cancelled: true }
    },
    // Password route. Inputs are never logged (the dispatcher logs failures by code only) and
    // the password is not kept: it is passed to the portal and dropped.
    'auth.passwordStart': ({ login, password }) => startPasswordLogin(passwordDeps, login, password),
    'auth.passwordConfirm': async ({ otpId, code }) => {
      if (pendingLogin) throw new AppError('BUSY', {}, 'an EDS login is in progress')
      const response = await confirmPasswordLogin(passwordDeps, otpId, code)
      const replaced = session.info()
      const info = session.start(response, null, 'password')
      // An EDS session replaced by this one must not leave its token logged in.
      if (replaced?.certificateId) void tokens.logout().catch(() => {})
      return info
    },
    'auth.passwordResetStart': ({ login }) => startPasswordReset(passwordDeps, login),
    'auth.passwordResetConfirm': async ({ otpId, code, newPassword }) => {
      await confirmPasswordReset(passwordDeps, otpId, code, newPassword)
      return { ok: true as const }
    },
    'auth.loginHistory': () => session.authorized((accessToken) => portal.loginHistory(accessToken)),
    'demo.outbox': async () => {
      if (!config.demoOutbox) throw new AppError('ACCESS_DENIED', {}, 'demo outbox is off in this configuration')
      return portal.demoOutbox()
    },
    'auth.session': async () => session.info(),
    'auth.logout': async () => {
      await session.end('logout')
      await tokens.logout() // also when no portal session existed (a login that failed midway)
      return { ok: true as const }
    },
    'app.activity': async () => ({ ok: true as const }),
  }
  // Any call from the UI is a sign of someone at the workstation: the idle lock starts over.
  for (const name of Object.keys(handlers) as (keyof Handlers)[]) {
    const handler = handlers[name] as (input: unknown) => Promise<unknown>
    ;(handlers as Record<string, (input: unknown) => Promise<unknown>>)[name] = (input) => {
      session.touch()
      return handler(input)
    }
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
      unsubscribeLost()
      pendingLogin?.abort()
      session.close()
      portal.close()
      await tokens.close()
    },
  }
}
