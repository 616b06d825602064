// HTTPS client for the portal API. Runs in the main process only: tokens it holds never reach
// the renderer. Network and TLS failures become catalogue errors with the URL for the screen.
import { readFileSync } from 'node:fs'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { createSecureContext, rootCertificates, type PeerCertificate, type TLSSocket } from 'node:tls'
import type { z } from 'zod'
import { AppError } from '../../../shared/errors'
import {
  challengeResponseSchema,
  demoOutboxResponseSchema,
  healthResponseSchema,
  loginHistoryResponseSchema,
  meResponseSchema,
  otpSentResponseSchema,
  portalErrorBodySchema,
  portalPaths,
  sessionResponseSchema,
  type ChallengeResponse,
  type DemoOutboxResponse,
  type EdsLoginRequest,
  type LoginHistoryResponse,
  type OtpLoginRequest,
  type OtpSentResponse,
  type PasswordLoginRequest,
  type PasswordResetConfirm,
  type SessionResponse,
} from '../../../shared/portal-api'

export interface PortalClientOptions {
  baseUrl: string
  /** PEM with extra trust anchors (the clinic's or the demo CA); system roots stay trusted. */
  caFile?: string | null
  timeoutMs?: number
}

/** TLS error codes that mean "the certificate is not one we trust", as opposed to no answer. */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
])
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED',
])

/** A portal answer with the portal's clock at the time (its Date header; null if absent or unreadable). */
export interface Dated<T> {
  value: T
  serverTime: Date | null
}

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

export const FHIR_BASE = '/api/v1/fhir'

/** The chunks in one buffer of its own (never a slice of Node's shared pool), so it can be moved to a worker. */
function ownBuffer(chunks: Buffer[]): Buffer {
  const own = Buffer.allocUnsafeSlow(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of chunks) at += c.copy(own, at)
  return own
}

export interface FhirAnswer {
  status: number
  /** The body parsed; null when asked for raw bytes of a successful answer. */
  json: unknown
  /** A successful answer's body as it came, when asked for raw (history pages); else null. */
  bytes: Buffer | null
  /** The ETag header as sent (W/"3"), or null. */
  etag: string | null
}

export interface FhirOptions {
  headers?: Record<string, string>
  /** A successful answer's body as bytes, unparsed (errors are parsed as usual). */
  raw?: boolean
}

export interface TlsCheck {
  authorized: boolean
  error: string | null
  subject: string | null
  issuer: string | null
  validTo: string | null
}

export class PortalClient {
  readonly baseUrl: URL
  private readonly agent: HttpsAgent | HttpAgent
  private readonly ca: string[] | undefined
  private readonly timeoutMs: number

  constructor(options: PortalClientOptions) {
    this.baseUrl = new URL(options.baseUrl)
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.ca = options.caFile ? [...rootCertificates, readFileSync(options.caFile, 'utf8')] : undefined
    // Keep-alive: the login makes two requests back to back; one TLS handshake serves both. The CA
    // list goes in as a context made once: given as `ca`, the agent would join its 140 PEMs into
    // the socket pool's key on every request (2 ms each).
    this.agent = this.isHttps
      ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ...(this.ca ? { secureContext: createSecureContext({ ca: this.ca }) } : {}) })
      : new HttpAgent({ keepAlive: true, maxSockets: 4 })
  }

  private get isHttps(): boolean {
    return this.baseUrl.protocol === 'https:'
  }

  health(): Promise<z.infer<typeof healthResponseSchema>> {
    return this.call('GET', portalPaths.health, undefined, healthResponseSchema)
  }

  challenge(): Promise<ChallengeResponse> {
    return this.call('POST', portalPaths.challenge, {}, challengeResponseSchema)
  }

  loginWithSignature(body: EdsLoginRequest): Promise<SessionResponse> {
    return this.call('POST', portalPaths.eds, body, sessionResponseSchema)
  }

  refresh(refreshToken: string): Promise<SessionResponse> {
    return this.call('POST', portalPaths.refresh, { refreshToken }, sessionResponseSchema)
  }

  me(accessToken: string): Promise<z.infer<typeof meResponseSchema>> {
    return this.call('GET', portalPaths.me, undefined, meResponseSchema, accessToken)
  }

  async logout(accessToken: string): Promise<void> {
    await this.request('POST', portalPaths.logout, {}, accessToken)
  }

  /** Password step 1: the portal checks the password and sends a one-time code. */
  passwordLogin(body: PasswordLoginRequest): Promise<Dated<OtpSentResponse>> {
    return this.callDated('POST', portalPaths.password, body, otpSentResponseSchema)
  }

  /** Password step 2: the one-time code → a session. */
  passwordOtp(body: OtpLoginRequest): Promise<SessionResponse> {
    return this.call('POST', portalPaths.passwordOtp, body, sessionResponseSchema)
  }

  /** Sends a reset code to the account's phone or e-mail (202). */
  passwordReset(login: string): Promise<Dated<OtpSentResponse>> {
    return this.callDated('POST', portalPaths.passwordReset, { login }, otpSentResponseSchema)
  }

  /** Sets the new password with the reset code (204, no body). */
  async passwordResetConfirm(body: PasswordResetConfirm): Promise<void> {
    const { status, json } = await this.request('POST', portalPaths.passwordResetConfirm, body)
    if (status < 200 || status >= 300) throw this.httpError(status, json, portalPaths.passwordResetConfirm)
  }

  /** The session user's own login history, newest first. */
  loginHistory(accessToken: string): Promise<LoginHistoryResponse> {
    return this.call('GET', portalPaths.loginHistory, undefined, loginHistoryResponseSchema, accessToken)
  }

  /** Demo portals only: the messages (codes) the portal "sent". */
  demoOutbox(): Promise<DemoOutboxResponse> {
    return this.call('GET', portalPaths.demoOutbox, undefined, demoOutboxResponseSchema)
  }

  /**
   * A FHIR API call (base /api/v1/fhir): the status and JSON as they came, for the sync engine to
   * read per FHIR's rules (ETag versions, OperationOutcome, 412). Network failures throw
   * PORTAL_UNREACHABLE like every other call.
   */
  async fhir(method: HttpMethod, path: string, body: unknown, accessToken: string, options: FhirOptions = {}): Promise<FhirAnswer> {
    const { status, json, bytes, etag } = await this.request(method, `${FHIR_BASE}${path}`, body, accessToken, { accept: 'application/fhir+json', ...options.headers }, options.raw)
    return { status, json, bytes, etag }
  }

  /** For diagnostics: does the portal answer, and is its TLS certificate trusted? */
  checkTls(): Promise<TlsCheck> {
    return new Promise((resolvePromise, reject) => {
      const req = httpsRequest(new URL(portalPaths.health, this.baseUrl), {
        method: 'GET',
        agent: false,
        ca: this.ca,
        rejectUnauthorized: false,
        timeout: this.timeoutMs,
      })
      req.on('response', (res) => {
        const socket = res.socket as TLSSocket
        const peer: PeerCertificate | undefined = socket.getPeerCertificate?.()
        const verifyError = socket.authorizationError
        resolvePromise({
          authorized: socket.authorized,
          error: verifyError ? String(verifyError) : null,
          subject: peer?.subject ? Object.entries(peer.subject).map(([k, v]) => `${k}=${String(v)}`).join(', ') : null,
          issuer: peer?.issuer ? Object.entries(peer.issuer).map(([k, v]) => `${k}=${String(v)}`).join(', ') : null,
          validTo: peer?.valid_to ?? null,
        })
        res.resume()
      })
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
      req.on('error', (e) => reject(this.networkError(e)))
      req.end()
    })
  }

  close(): void {
    this.agent.destroy()
  }

  private async call<T extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: T,
    bearer?: string,
  ): Promise<z.infer<T>> {
    return (await this.callDated(method, path, body, schema, bearer)).value
  }

  private async callDated<T extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: T,
    bearer?: string,
  ): Promise<Dated<z.infer<T>>> {
    const { status, json, date } = await this.request(method, path, body, bearer)
    if (status >= 200 && status < 300) {
      const parsed = schema.safeParse(json)
      if (parsed.success) return { value: parsed.data, serverTime: date }
      throw new AppError('PORTAL_ERROR', {}, `unexpected response shape from ${path}: ${parsed.error.message}`)
    }
    throw this.httpError(status, json, path)
  }

  private httpError(status: number, json: unknown, path: string): AppError {
    const body = portalErrorBodySchema.safeParse(json)
    if (body.success) return new AppError(body.data.error.code, body.data.error.params, `portal ${status} ${path}: ${body.data.error.message}`)
    if (status === 429) return new AppError('RATE_LIMITED', {}, `portal 429 ${path}`)
    return new AppError('PORTAL_ERROR', {}, `portal HTTP ${status} ${path}`)
  }

  private networkError(e: unknown): AppError {
    const code = (e as { code?: string }).code ?? ''
    const url = this.baseUrl.origin
    if (TLS_TRUST_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) {
      return new AppError('PORTAL_TLS_UNTRUSTED', { url }, `${code}: ${(e as Error).message}`)
    }
    if (UNREACHABLE_CODES.has(code)) return new AppError('PORTAL_UNREACHABLE', { url }, `${code}: ${(e as Error).message}`)
    return new AppError('PORTAL_UNREACHABLE', { url }, e instanceof Error ? `${code} ${e.message}` : String(e))
  }

  private request(
    method: HttpMethod,
    path: string,
    body: unknown,
    bearer?: string,
    extraHeaders: Record<string, string> = {},
    raw = false,
  ): Promise<{ status: number; json: unknown; bytes: Buffer | null; date: Date | null; etag: string | null }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders }
    if (payload) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(payload.length)
    }
    if (bearer) headers.authorization = `Bearer ${bearer}`
    const send = this.isHttps ? httpsRequest : httpRequest
    return new Promise((resolvePromise, reject) => {
      const req = send(new URL(path, this.baseUrl), { method, headers, agent: this.agent, timeout: this.timeoutMs })
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', (e) => reject(this.networkError(e)))
        res.on('end', () => {
          const status = res.statusCode ?? 0
          const keepBytes = raw && status >= 200 && status < 300
          const bytes = keepBytes ? ownBuffer(chunks) : Buffer.concat(chunks)
          let json: unknown = null
          try {
            json = !keepBytes && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : null
          } catch {
            json = null
          }
          const date = res.headers.date ? new Date(res.headers.date) : null
          const etag = typeof res.headers.etag === 'string' ? res.headers.etag : null
          resolvePromise({ status, json, bytes: keepBytes ? bytes : null, date: date && !Number.isNaN(date.getTime()) ? date : null, etag })
        })
      })
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })))
      req.on('error', (e) => reject(this.networkError(e)))
      req.end(payload)
    })
  }
}
