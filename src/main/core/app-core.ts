// Composition root of the core services: builds the token service, the portal client and the
// session, and implements the RPC contract's handlers. Both transports (Electron IPC and the
// Node host) serve exactly this object; it never imports electron.
import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { platform } from 'node:os'
import { join } from 'node:path'
import { AppError, toAppError } from '../../shared/errors'
import type { EventName, EventPayload, Handlers } from '../../shared/rpc/contract'
import type { SyncStatus } from '../../shared/registrar'
import { loginWithCertificate, type EdsLoginTimings } from './auth/eds-login'
import { confirmPasswordLogin, confirmPasswordReset, startPasswordLogin, startPasswordReset } from './auth/password-login'
import { SessionManager } from './auth/session-manager'
import { OfflineLogin, makeVerifier } from './auth/offline-login'
import { storeDirDefault, type AppConfig } from './config'
import { RegistrarService } from './registrar/registrar-service'
import { fileKeySource, type StoreKeySource } from './store/database'
import { openStoreWorker, type StoreClient } from './store/store-client'
import { SyncEngine } from './sync/sync-engine'
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
  /** The local store's key in a store folder: safeStorage-wrapped in Electron; a 0600 key file by default (Node host). */
  storeKey?: (storeDir: string) => StoreKeySource
}

export function createAppCore(
  config: AppConfig,
  options: AppCoreOptions,
): AppCore & { tokens: TokenService; portal: PortalClient } {
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
      void syncReady.then((s) => s.stop()).catch(() => {})
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

  // The local store opens in its worker at start; a failure is reported on each call that needs it.
  const storeDir = config.storeDir ?? storeDirDefault()
  const storeReady: Promise<StoreClient> = (async () => {
    mkdirSync(storeDir, { recursive: true, mode: 0o700 })
    const key = (options.storeKey?.(storeDir) ?? fileKeySource(join(storeDir, 'store.key'))).load()
    return openStoreWorker(join(storeDir, 'store.db'), key)
  })()
  storeReady.catch((e: unknown) => log(`local store unavailable: ${toAppError(e).details ?? ''}`))
  const syncReady: Promise<SyncEngine> = storeReady.then(
    (store) =>
      new SyncEngine({
        store,
        fhir: (method, path, body, options) =>
          session.authorized(async (token) => {
            const answer = await portal.fhir(method, path, body, token, options)
            // Inside authorized(): a refused token is refreshed once and the call repeated.
            if (answer.status === 401) throw new AppError('SESSION_EXPIRED', {}, `portal 401 ${path}`)
            return answer
          }),
        probe: () => portal.health().then(() => true, () => false),
        onStatus: (status) => emit('sync.status', status),
        onDataChanged: (types) => emit('data.changed', { types }),
        log,
        intervalMs: config.syncIntervalMs,
      }),
  )
  syncReady.catch(() => {})
  const startSync = (): void => {
    void syncReady.then((s) => s.start()).catch(() => {})
  }
  const offline = new OfflineLogin(() => storeReady, config.offlineLoginDays)
  /** Step 1 of password logins in flight: the verifier made from the password, kept until step 2. */
  const pendingVerifiers = new Map<string, { login: string; verifier: Promise<string> }>()

  const sessionActor = () => {
    const info = session.info()
    if (!info) throw new AppError('SESSION_EXPIRED', {}, 'no session')
    return { snils: info.user.snils, name: info.user.fullName, organisation: info.user.organisation }
  }
  const registrarReady = storeReady.then(
    (store) =>
      new RegistrarService({
        store,
        actor: sessionActor,
        changed: (types) => {
          emit('data.changed', { types })
          void syncReady.then((s) => s.nudge()).catch(() => {})
        },
      }),
  )
  registrarReady.catch(() => {})
  const statusAfter = async (done: Promise<void>): Promise<SyncStatus> => {
    await done
    return (await syncEngine()).current()
  }
  const registrar = async (): Promise<RegistrarService> => {
    sessionActor()
    return registrarReady
  }
  const syncEngine = async (): Promise<SyncEngine> => {
    sessionActor()
    return syncReady
  }

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
        const info = session.start(response, certificateId, 'eds')
        startSync()
        return info
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
    'auth.passwordStart': async ({ login, password }) => {
      const challenge = await startPasswordLogin(passwordDeps, login, password)
      // The password itself is dropped here; only its slow hash waits for the code, for offline login later.
      if (config.offlineLoginDays > 0) {
        const verifier = makeVerifier(password)
        verifier.catch(() => {})
        pendingVerifiers.set(challenge.otpId, { login, verifier })
        setTimeout(() => pendingVerifiers.delete(challenge.otpId), 15 * 60_000).unref()
      }
      return challenge
    },
    'auth.passwordConfirm': async ({ otpId, code }) => {
      if (pendingLogin) throw new AppError('BUSY', {}, 'an EDS login is in progress')
      const response = await confirmPasswordLogin(passwordDeps, otpId, code)
      const replaced = session.info()
      const info = session.start(response, null, 'password')
      // An EDS session replaced by this one must not leave its token logged in.
      if (replaced?.certificateId) void tokens.logout().catch(() => {})
      const pending = pendingVerifiers.get(otpId)
      pendingVerifiers.delete(otpId)
      if (pending) {
        await pending.verifier
          .then((v) => offline.remember(pending.login, v, response.user))
          .catch((e: unknown) => log(`offline login not kept: ${toAppError(e).code}`))
      }
      startSync()
      return info
    },
    'auth.offlineLogin': async ({ login, password }) => {
      if (pendingLogin) throw new AppError('BUSY', {}, 'an EDS login is in progress')
      const { user, validUntil } = await offline.verify(login, password)
      const replaced = session.info()
      const info = session.startOffline(user, validUntil)
      if (replaced?.certificateId) void tokens.logout().catch(() => {})
      log('offline login')
      // Sync runs to tell "portal back, log in again" from "still offline".
      startSync()
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
    'patients.search': async ({ query, limit }) => (await registrar()).search(query, limit),
    'patients.get': async ({ id }) => (await registrar()).getPatient(id),
    'patients.save': async ({ id, form }) => (await registrar()).savePatient(id, form),
    'patients.attach': async ({ id, area, basis, from }) => (await registrar()).attach(id, area, basis, from),
    'patients.detach': async ({ id, to, reason }) => (await registrar()).detach(id, to, reason),
    'patients.appointments': async ({ id }) => (await registrar()).patientAppointments(id),
    'schedule.doctors': async () => (await registrar()).doctors(),
    'schedule.slots': async ({ scheduleId, from, days }) => (await registrar()).slots(scheduleId, from, days),
    'appointments.book': async ({ slotId, patientId, reason }) => (await registrar()).book(slotId, patientId, reason),
    'appointments.move': async ({ id, slotId }) => (await registrar()).move(id, slotId),
    'appointments.cancel': async ({ id }) => (await registrar()).cancel(id),
    'sync.status': async () => (await syncEngine()).current(),
    'sync.now': async () => (await syncEngine()).syncNow(),
    'sync.problems': async () => (await registrar()).problems(),
    // The registrar's changed() has already nudged sync: these answer with its status.
    'sync.resolve': async ({ changeId, choice, merged }) => statusAfter((await registrar()).resolve(changeId, choice, merged)),
    'sync.discard': async ({ changeId }) => statusAfter((await registrar()).discard(changeId)),
    'sync.retry': async ({ changeId }) => statusAfter((await registrar()).retry(changeId)),
    'audit.list': async ({ resourceId, limit }) => (await registrar()).audit(resourceId, limit),
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
      await syncReady.then((s) => s.stop()).catch(() => {})
      portal.close()
      await storeReady.then((s) => s.close()).catch(() => {})
      await tokens.close()
    },
  }
}
