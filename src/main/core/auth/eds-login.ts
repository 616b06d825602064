// EDS login (ЕСИА-style): portal challenge → PIN on the token → CAdES-BES signature of the
// challenge on the token → verification by the portal. Each step reports its stage and time.
import { AppError } from '../../../shared/errors'
import type { LoginStage } from '../../../shared/model'
import { MAX_CLOCK_SKEW_SECONDS, type SessionResponse } from '../../../shared/portal-api'
import { signDetachedCades } from '../crypto/cms-sign' // not the barrel: verification's ASN.1 schemas stay unloaded
import type { PortalClient } from '../portal/portal-client'
import type { TokenService } from '../token/token-service'
import { formatDate, formatDuration } from '../../../shared/format'

export interface EdsLoginDeps {
  tokens: Pick<TokenService, 'state' | 'login' | 'sign' | 'certificate'>
  portal: Pick<PortalClient, 'challenge' | 'loginWithSignature'>
  now?: () => Date
  onStage?: (stage: LoginStage) => void
  /**
   * Cancels the login: it rejects at once with CANCELLED, whatever step it is in. The token calls
   * finish in the worker and the token is logged out (TokenService); the caller logs out too.
   */
  signal?: AbortSignal
  /** A portal session that arrived after the login was cancelled: the caller ends it on the portal. */
  onAbandonedSession?: (session: SessionResponse) => void
}

/** `promise`, or CANCELLED as soon as `signal` aborts (the promise itself runs on, unobserved). */
function unlessCancelled<T>(promise: Promise<T>, signal: AbortSignal | undefined, late?: (value: T) => void): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) {
    promise.then((v) => late?.(v), () => {})
    return Promise.reject(new AppError('CANCELLED', {}, 'login cancelled'))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AppError('CANCELLED', {}, 'login cancelled'))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        if (signal.aborted) late?.(v)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/** Milliseconds spent in each step, for the benchmark and the log. */
export interface EdsLoginTimings {
  lookup: number
  challenge: number
  pin: number
  signing: number
  verifying: number
  total: number
}

export interface EdsLoginResult {
  session: SessionResponse
  timings: EdsLoginTimings
}

export async function loginWithCertificate(
  deps: EdsLoginDeps,
  certificateId: string,
  pin: string | null,
): Promise<EdsLoginResult> {
  const now = deps.now ?? (() => new Date())
  const signal = deps.signal
  const onStage = deps.onStage ?? (() => {})
  const stage = (s: LoginStage): void => {
    if (signal?.aborted) throw new AppError('CANCELLED', {}, `login cancelled before ${s}`)
    onStage(s)
  }
  const step = <T>(p: Promise<T>, late?: (value: T) => void): Promise<T> => unlessCancelled(p, signal, late)
  const t0 = performance.now()
  let mark = t0
  const lap = (): number => {
    const t = performance.now()
    const d = t - mark
    mark = t
    return d
  }

  const state = await step(deps.tokens.state())
  const cert = state.certificates.find((c) => c.id === certificateId)
  if (!cert) {
    throw state.tokens.length === 0
      ? new AppError('TOKEN_NOT_PRESENT', {}, `no token present; certificate ${certificateId}`)
      : new AppError('CERTIFICATE_NOT_FOUND', {}, `certificate ${certificateId} not on any present token`)
  }
  if (!cert.hasPrivateKey) throw new AppError('PRIVATE_KEY_NOT_FOUND', {}, `no private key with CKA_ID ${cert.ckaId}`)
  const lookup = lap()

  stage('challenge')
  const challenge = await step(deps.portal.challenge())
  const serverNow = new Date(challenge.serverTime)
  const skewSeconds = Math.round((now().getTime() - serverNow.getTime()) / 1000)
  if (Math.abs(skewSeconds) > MAX_CLOCK_SKEW_SECONDS) {
    throw new AppError('CLOCK_SKEW', { skew: formatDuration(Math.abs(skewSeconds)), skewSeconds }, `local-portal skew ${skewSeconds}s`)
  }
  // Judge validity by the portal's clock and refuse before C_Login: a doomed login must not
  // spend one of the token's PIN tries.
  if (new Date(cert.notAfter) < serverNow) throw new AppError('CERT_EXPIRED', { notAfter: formatDate(cert.notAfter) })
  if (new Date(cert.notBefore) > serverNow) throw new AppError('CERT_NOT_YET_VALID', { notBefore: formatDate(cert.notBefore) })
  const challengeTime = lap()

  stage('pin')
  await step(deps.tokens.login(certificateId, pin, { signal }))
  const pinTime = lap()

  stage('signing')
  const certificateDer = await step(deps.tokens.certificate(certificateId))
  const signature = await step(
    signDetachedCades(new TextEncoder().encode(challenge.challenge), certificateDer, (signedAttrs) =>
      deps.tokens.sign(certificateId, signedAttrs, { signal }),
    ),
  )
  const signing = lap()

  stage('verifying')
  const session = await step(
    deps.portal.loginWithSignature({
      challengeId: challenge.challengeId,
      signature: Buffer.from(signature).toString('base64'),
    }),
    deps.onAbandonedSession,
  )
  const verifying = lap()
  if (signal?.aborted) {
    deps.onAbandonedSession?.(session)
    throw new AppError('CANCELLED', {}, 'login cancelled after the portal answered')
  }
  stage('done')

  return {
    session,
    timings: { lookup, challenge: challengeTime, pin: pinTime, signing, verifying, total: performance.now() - t0 },
  }
}
