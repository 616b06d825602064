// The reference portal's HTTP(S) server: Fastify with the auth endpoints of the wire contract,
// JSON error bodies, security headers and a body size limit.
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyLoggerOptions, type FastifyServerOptions } from 'fastify'
import { AppError } from '../../src/shared/errors'
import { portalPaths } from '../../src/shared/portal-api'
import { readDemoManifest, type DemoManifest } from '../../scripts/demo/manifest'
import { registerAuthRoutes } from './auth/routes'
import { openDb, type Db } from './db'
import { seedFromDemo } from './demo-seed'
import { errorBody, handleError } from './http-errors'
import { migrate } from './migrate'
import { createRateLimiters, type RateLimitOptions } from './rate-limit'
import { installGuard, requireGuardOnEveryRoute } from './auth/guard'
import { FHIR_BASE_PATH } from './fhir/routes'
import { registerRegisterRoutes } from './register-routes'
import { registerFhirRoutes } from './fhir/routes'
import { registerAccountRoutes } from './accounts/routes'
import type { OtpChannel } from './accounts/channels'

export const DEFAULT_PORTAL_NAME = 'Справочный портал ЛКМР'
export const BODY_LIMIT_BYTES = 256 * 1024

export interface PortalServerOptions {
  db: Db
  /** HTTPS when given (PEM certificate chain and key); plain HTTP when null. */
  tls: { cert: string | Buffer; key: string | Buffer } | null
  /** Fastify's (pino) request log to stdout; off by default. */
  logger?: boolean
  /** Logs (JSON lines) to this stream instead of stdout; implies logger. */
  logStream?: { write(line: string): void }
  /** Default 120 s. */
  challengeTtlSeconds?: number
  /** Default 15 min. */
  accessTtlSeconds?: number
  /** Default 8 h: the session's absolute end. */
  refreshTtlSeconds?: number
  /** Server clock; tests move it. */
  now?: () => Date
  /** Shown in the challenge text. */
  portalName?: string
  /** Time zone for dates in error params (ДД.ММ.ГГГГ). Default Europe/Moscow. */
  timeZone?: string
  /**
   * Per-address limits of the auth endpoints, counted on the `now` clock: `login` (challenge, eds and
   * the password routes) and `refresh` have separate budgets, default 30 requests per 60 s each (DEFAULT_RATE_LIMITS).
   * false turns limiting off (test suites that make many requests from one address; benchmarks).
   */
  rateLimit?: RateLimitOptions | false
  /** A session unused this long ends. Default 30 min. */
  idleTimeoutSeconds?: number
  /**
   * Where one-time codes of password login and reset go (accounts/channels.ts). Without one,
   * password login is off. An OutboxChannel also opens GET demo/outbox: demo only.
   */
  otpChannel?: OtpChannel | null
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
}

/** The only routes open without a session: health, the login steps, FHIR metadata, the demo outbox. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  portalPaths.health,
  portalPaths.challenge,
  portalPaths.eds,
  portalPaths.refresh,
  portalPaths.password,
  portalPaths.passwordOtp,
  portalPaths.passwordReset,
  portalPaths.passwordResetConfirm,
  portalPaths.demoOutbox,
  `${FHIR_BASE_PATH}/metadata`,
])

/**
 * JSON logs (pino) with no personal data or secrets: requests are logged by method, route path and
 * status only — FHIR search query strings carry names and СНИЛС, headers carry tokens.
 */
export const LOGGER_OPTIONS: FastifyLoggerOptions & { redact: { paths: string[]; remove: boolean } } = {
  serializers: {
    req: (req) => ({ method: req.method, path: req.url.split('?')[0], id: req.id }),
    res: (res) => ({ statusCode: res.statusCode }),
  },
  redact: { paths: ['req.headers', 'headers.authorization', '*.password', '*.code', '*.refreshToken', '*.accessToken'], remove: true },
}

/** Builds the portal (migrations applied to `db` first). Call listen() or use startPortal(). */
export async function createPortalServer(options: PortalServerOptions): Promise<FastifyInstance> {
  await migrate(options.db)
  const now = options.now ?? (() => new Date())
  const common = {
    bodyLimit: BODY_LIMIT_BYTES,
    // Request logs carry method, path and status only (LOGGER_OPTIONS): no query, headers or bodies.
    logger: options.logStream ? { ...LOGGER_OPTIONS, stream: options.logStream } : options.logger === true ? LOGGER_OPTIONS : false,
    trustProxy: false,
    return503OnClosing: true,
  } satisfies FastifyServerOptions
  const app = (
    options.tls
      ? Fastify({ ...common, https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' } })
      : Fastify(common)
  ) as unknown as FastifyInstance

  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value)
    if (options.tls) reply.header('strict-transport-security', 'max-age=31536000')
    return payload
  })
  app.setErrorHandler(handleError)
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).type('application/json; charset=utf-8').send(errorBody('INVALID_INPUT', {}, `No route ${request.method} ${request.url.split('?')[0]}`)),
  )

  requireGuardOnEveryRoute(app, PUBLIC_PATHS)
  app.get(portalPaths.health, async () => {
    try {
      await options.db.query('SELECT 1')
    } catch (e) {
      throw new AppError('INTERNAL', {}, 'database not answering', { cause: e })
    }
    return { status: 'ok' as const, serverTime: now().toISOString() }
  })

  const idleTimeoutSeconds = options.idleTimeoutSeconds ?? 30 * 60
  const guard = installGuard(app, { db: options.db, now, idleTimeoutSeconds })
  const authSettings = {
    db: options.db,
    now,
    guard,
    idleTimeoutSeconds,
    portalName: options.portalName ?? DEFAULT_PORTAL_NAME,
    timeZone: options.timeZone ?? 'Europe/Moscow',
    challengeTtlSeconds: options.challengeTtlSeconds ?? 120,
    accessTtlSeconds: options.accessTtlSeconds ?? 15 * 60,
    refreshTtlSeconds: options.refreshTtlSeconds ?? 8 * 3600,
    rateLimiters: createRateLimiters(options.rateLimit, () => now().getTime()),
  }
  registerAuthRoutes(app, authSettings)
  registerRegisterRoutes(app, { db: options.db, now, guard })
  // Same settings object: the password routes share the login rate-limit budget with EDS.
  registerAccountRoutes(app, { ...authSettings, otpChannel: options.otpChannel ?? null })
  await registerFhirRoutes(app, { db: options.db, now, guard })
  return app
}

export interface RunningPortal {
  /** https://host:port (the actual port when 0 was asked for). */
  url: string
  port: number
  app: FastifyInstance
  close(): Promise<void>
}

/** Builds and starts the portal on host:port (port 0 picks a free one). */
export async function listenPortal(
  options: PortalServerOptions & { host?: string; port?: number },
): Promise<RunningPortal> {
  const app = await createPortalServer(options)
  const host = options.host ?? '127.0.0.1'
  await app.listen({ host, port: options.port ?? 8443 })
  const port = (app.server.address() as AddressInfo).port
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  return {
    url: `${options.tls ? 'https' : 'http'}://${shownHost}:${port}`,
    port,
    app,
    close: () => app.close(),
  }
}

export interface StartPortalOptions extends Omit<PortalServerOptions, 'db' | 'tls'> {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 8443; 0 picks a free port (see RunningPortal.port). */
  port?: number
  /** An open database; else one is opened from databaseUrl or dataDir and closed on close(). */
  db?: Db
  /** postgres://… (PostgreSQL server) instead of the embedded engine. */
  databaseUrl?: string | null
  /** Folder of the embedded engine; null or undefined keeps the data in memory. */
  dataDir?: string | null
  /** Demo folder or manifest: seeds the demo CA, CRL and workers, and serves its TLS certificate. */
  demo?: string | DemoManifest
  /** PEM certificate and key; defaults to the demo's. null serves plain HTTP. */
  tls?: PortalServerOptions['tls']
}

export interface StartedPortal extends RunningPortal {
  db: Db
}

/** Opens the database (unless given), seeds the demo (if asked), and starts the portal. */
export async function startPortal(options: StartPortalOptions = {}): Promise<StartedPortal> {
  const manifest = typeof options.demo === 'string' ? readDemoManifest(options.demo) : options.demo
  let tls = options.tls
  if (tls === undefined) {
    if (!manifest) throw new Error('TLS certificate and key are required (or a demo folder to take them from)')
    tls = { cert: readFileSync(manifest.portalTls.certPem), key: readFileSync(manifest.portalTls.keyPem) }
  }
  const ownDb = options.db === undefined
  const db = options.db ?? (await openDb({ databaseUrl: options.databaseUrl, dataDir: options.dataDir }))
  try {
    await migrate(db)
    if (manifest) await seedFromDemo(db, manifest)
    const running = await listenPortal({ ...options, db, tls })
    return {
      ...running,
      db,
      async close() {
        await running.close()
        if (ownDb) await db.close()
      },
    }
  } catch (e) {
    if (ownDb) await db.close()
    throw e
  }
}
