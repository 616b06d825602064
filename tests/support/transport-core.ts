// A small AppCore for testing the TRANSPORTS (dispatcher, Electron IPC policy, Node host,
// renderer bridge and UI states): it answers the real RPC contract with data that passes the
// real shared zod schemas. It is not a stand-in for the token service or the portal — those are
// tested against real SoftHSM tokens and the real portal elsewhere; here the transport is under
// test, and the scenarios (no drivers, a PIN-pad token, a last PIN try…) are chosen by the test.
import { AppError, type AppErrorData } from '../../src/shared/errors'
import type { CertificateInfo, LoginStage, PinState, SessionInfo, TokenInfo, TokenState } from '../../src/shared/model'
import type { EventName, EventPayload, Handlers } from '../../src/shared/rpc/contract'
import type { AppCore } from '../../src/main/core/app-core'

type Listener = <E extends EventName>(event: E, payload: EventPayload<E>) => void

export interface TransportCore extends AppCore {
  /** Replaces the token picture and announces it as the core does ('token.changed'). */
  setState(state: TokenState): void
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void
  /** Methods called, in order (inputs are not recorded: a PIN must not be kept even here). */
  calls: string[]
  /** Outcome of the next logins per certificate id; default: success with the right PIN. */
  outcomes: Map<string, AppErrorData>
  /** Milliseconds between login stages (to see the progress UI). */
  stageDelayMs: number
  /** Stops a login at this stage until release(): lets a test look at a transient screen. */
  holdAt: LoginStage | null
  release(): void
  closed: boolean
}

export const DEMO_PIN = '12345678'

const REGISTRAR_METHODS = [
  'auth.offlineLogin',
  'patients.search',
  'patients.get',
  'patients.save',
  'patients.attach',
  'patients.detach',
  'patients.appointments',
  'schedule.doctors',
  'schedule.slots',
  'appointments.book',
  'appointments.move',
  'appointments.cancel',
  'sync.status',
  'sync.now',
  'sync.problems',
  'sync.resolve',
  'sync.discard',
  'sync.retry',
  'audit.list',
] as const satisfies ReadonlyArray<keyof Handlers>

function noStore(method: string): () => Promise<never> {
  return async () => {
    throw new AppError('STORE_UNAVAILABLE', {}, `${method}: the transport test core has no local store`)
  }
}

export function pinState(overrides: Partial<PinState> = {}): PinState {
  return {
    loginRequired: true,
    protectedAuthPath: false,
    countLow: false,
    finalTry: false,
    locked: false,
    triesLeft: null,
    ...overrides,
  }
}

export function token(id: string, label: string, pin: Partial<PinState> = {}): TokenInfo {
  return {
    id,
    libraryPath: '/usr/lib/softhsm/libsofthsm2.so',
    libraryName: 'SoftHSM2',
    slotId: '1',
    label,
    manufacturer: 'SoftHSM project',
    model: 'SoftHSM v2',
    serial: id.split('/').pop() ?? id,
    pin: pinState(pin),
  }
}

const EMPTY_PERSON = {
  commonName: null,
  surname: null,
  givenName: null,
  fullName: null,
  snils: null,
  inn: null,
  innLe: null,
  ogrn: null,
  ogrnip: null,
  organization: null,
  organizationalUnit: null,
  title: null,
  email: null,
  locality: null,
  region: null,
  street: null,
  country: 'RU',
}

export interface CertSpec {
  tokenId: string
  tokenLabel: string
  ckaId: string
  fullName: string
  title?: string | null
  organization?: string | null
  snils?: string | null
  validity?: CertificateInfo['validity']
  hasPrivateKey?: boolean
  keyAlgorithm?: CertificateInfo['keyAlgorithm']
  keyDescription?: string
  notBefore?: string
  notAfter?: string
}

export function certificate(spec: CertSpec): CertificateInfo {
  const [surname = null, ...given] = spec.fullName.split(' ')
  return {
    id: `${spec.tokenId}/${spec.ckaId}`,
    tokenId: spec.tokenId,
    tokenLabel: spec.tokenLabel,
    ckaId: spec.ckaId,
    label: spec.fullName,
    hasPrivateKey: spec.hasPrivateKey ?? true,
    validity: spec.validity ?? 'valid',
    subject: {
      ...EMPTY_PERSON,
      commonName: spec.fullName,
      surname,
      givenName: given.join(' ') || null,
      fullName: spec.fullName,
      snils: spec.snils === undefined ? '11223344595' : spec.snils,
      organization: spec.organization === undefined ? 'ГБУЗ «Городская поликлиника № 1»' : spec.organization,
      title: spec.title === undefined ? 'Врач-терапевт участковый' : spec.title,
    },
    issuer: { ...EMPTY_PERSON, commonName: 'Демо УЦ', organization: 'АО «Демонстрационный удостоверяющий центр»' },
    serialNumber: '01a2b3c4d5e6f708',
    notBefore: spec.notBefore ?? '2025-01-15T00:00:00.000Z',
    notAfter: spec.notAfter ?? '2026-04-15T00:00:00.000Z',
    keyAlgorithm: spec.keyAlgorithm ?? 'RSA',
    keyDescription: spec.keyDescription ?? 'RSA 2048',
    signatureAlgorithm: 'sha256WithRSAEncryption',
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extendedKeyUsage: [],
    fingerprintSha256: 'ab'.repeat(32),
  }
}

export function tokenState(partial: Partial<TokenState> = {}): TokenState {
  return {
    libraries: [
      {
        name: 'SoftHSM2',
        path: '/usr/lib/softhsm/libsofthsm2.so',
        source: 'default',
        state: 'loaded',
        error: null,
        description: 'Implementation of PKCS11',
        version: '2.6',
      },
    ],
    tokens: [],
    certificates: [],
    errors: [],
    scannedAt: new Date().toISOString(),
    ...partial,
  }
}

export function createTransportCore(initial: TokenState = tokenState()): TransportCore {
  let state = initial
  let session: SessionInfo | null = null
  const listeners = new Set<Listener>()
  const emit: TransportCore['emit'] = (event, payload) => {
    for (const l of listeners) l(event, payload)
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  let releaseHold: (() => void) | null = null
  let cancelLogin: (() => void) | null = null

  const core: TransportCore = {
    calls: [],
    outcomes: new Map(),
    stageDelayMs: 0,
    holdAt: null,
    release() {
      const r = releaseHold
      releaseHold = null
      r?.()
    },
    closed: false,
    handlers: undefined as unknown as Handlers,
    setState(next) {
      state = { ...next, scannedAt: new Date(Math.max(Date.now(), Date.parse(state.scannedAt) + 1)).toISOString() }
      emit('token.changed', state)
    },
    emit,
    onEvent(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    async close() {
      core.closed = true
      listeners.clear()
    },
  }

  /** Set by 'auth.cancel': the held or running login stops at its next stage. */
  let loginCancelled = false
  const stage = async (s: LoginStage): Promise<void> => {
    if (loginCancelled) throw new AppError('CANCELLED')
    emit('auth.progress', { stage: s })
    if (core.holdAt === s) {
      core.holdAt = null
      await new Promise<void>((r) => (releaseHold = r))
    }
    if (core.stageDelayMs) await sleep(core.stageDelayMs)
    if (loginCancelled) throw new AppError('CANCELLED')
  }

  const updatePin = (tokenId: string, pin: Partial<PinState>): void => {
    core.setState({
      ...state,
      tokens: state.tokens.map((t) => (t.id === tokenId ? { ...t, pin: { ...t.pin, ...pin } } : t)),
    })
  }

  core.handlers = {
    'app.info': async () => {
      core.calls.push('app.info')
      return { name: 'АРМ медицинского работника', version: '0.1.0', transport: 'web', portalUrl: 'https://127.0.0.1:8443', platform: 'linux', demoOutbox: false }
    },
    // The password route is exercised against the real portal (tests/e2e/login-password.test.ts);
    // here it only answers within the contract: no account exists.
    'auth.passwordStart': async () => {
      core.calls.push('auth.passwordStart')
      throw new AppError('CREDENTIALS_INVALID')
    },
    'auth.passwordConfirm': async () => {
      core.calls.push('auth.passwordConfirm')
      throw new AppError('OTP_EXPIRED')
    },
    'auth.passwordResetStart': async () => {
      core.calls.push('auth.passwordResetStart')
      throw new AppError('CREDENTIALS_INVALID')
    },
    'auth.passwordResetConfirm': async () => {
      core.calls.push('auth.passwordResetConfirm')
      throw new AppError('OTP_EXPIRED')
    },
    'auth.loginHistory': async () => {
      core.calls.push('auth.loginHistory')
      if (!session) throw new AppError('SESSION_EXPIRED')
      return { entries: [] }
    },
    'demo.outbox': async () => {
      core.calls.push('demo.outbox')
      throw new AppError('ACCESS_DENIED')
    },
    'token.state': async () => {
      core.calls.push('token.state')
      return state
    },
    'token.refresh': async () => {
      core.calls.push('token.refresh')
      state = { ...state, scannedAt: new Date().toISOString() }
      return state
    },
    'auth.loginWithCertificate': ({ certificateId, pin }) => {
      core.calls.push('auth.loginWithCertificate')
      // 'auth.cancel' rejects the login at once, as the real core does.
      loginCancelled = false
      const cancelled = new Promise<never>((_, reject) => {
        cancelLogin = () => reject(new AppError('CANCELLED'))
      })
      return Promise.race([login(certificateId, pin), cancelled]).finally(() => {
        cancelLogin = null
      })
    },
    'auth.cancel': async () => {
      core.calls.push('auth.cancel')
      const cancel = cancelLogin
      if (!cancel) return { cancelled: false }
      loginCancelled = true
      cancel()
      core.release()
      return { cancelled: true }
    },
    'app.activity': async () => {
      core.calls.push('app.activity')
      return { ok: true as const }
    },
    'auth.session': async () => {
      core.calls.push('auth.session')
      return session
    },
    'auth.logout': async () => {
      core.calls.push('auth.logout')
      session = null
      emit('auth.sessionEnded', { reason: 'logout' })
      return { ok: true as const }
    },
    // The registrar's methods work on the local store and the portal: they are tested against
    // the real core (tests/e2e/registrar*.test.ts). Here they answer within the contract: this
    // core has no store.
    ...(Object.fromEntries(REGISTRAR_METHODS.map((m) => [m, noStore(m)])) as unknown as Pick<Handlers, (typeof REGISTRAR_METHODS)[number]>),
  }

  async function login(certificateId: string, pin: string | null): Promise<SessionInfo> {
    const cert = state.certificates.find((c) => c.id === certificateId)
    if (!cert) throw new AppError(state.tokens.length ? 'CERTIFICATE_NOT_FOUND' : 'TOKEN_NOT_PRESENT')
    const tk = state.tokens.find((t) => t.id === cert.tokenId)
    await stage('challenge')
    const outcome = core.outcomes.get(certificateId)
    if (outcome && outcome.code.startsWith('CERT_')) throw AppError.fromData(outcome)
    await stage('pin')
    if (tk?.pin.locked) throw new AppError('PIN_LOCKED')
    if (tk && !tk.pin.protectedAuthPath && tk.pin.loginRequired && pin !== DEMO_PIN) {
      const left = Math.max(0, (tk.pin.triesLeft ?? 3) - 1)
      if (left === 0) {
        updatePin(tk.id, { locked: true, triesLeft: 0, finalTry: false, countLow: false })
        throw new AppError('PIN_LOCKED')
      }
      updatePin(tk.id, { triesLeft: left, countLow: true, finalTry: left === 1 })
      throw new AppError('PIN_INCORRECT', { triesLeft: left })
    }
    await stage('signing')
    await stage('verifying')
    if (outcome) throw AppError.fromData(outcome)
    await stage('done')
    session = {
      user: {
        snils: cert.subject.snils ?? '',
        fullName: cert.subject.fullName ?? '',
        position: cert.subject.title ?? '',
        organisation: cert.subject.organization ?? '',
        roles: ['doctor'],
      },
      expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString(),
      certificateId,
      method: 'eds',
      offline: false,
    }
    return session
  }
  return core
}
