// The token service as the main process sees it: a promise API over the token worker, which owns
// the PKCS#11 libraries and does every blocking call. Errors come back as AppError; token changes
// (inserted, removed, PIN flags) arrive as fresh TokenState through onChange.
import type { Worker } from 'node:worker_threads'
import { AppError } from '../../../shared/errors'
import type { TokenState } from '../../../shared/model'
import { resolveWorkerEntry, startWorker } from '../worker-entry'
import type { LibraryEntry } from './libraries'
import type { SignResult } from './pkcs11-module'
import type { OpTimings, WorkerInit, WorkerMessage, WorkerOp, WorkerOps, WorkerRequest } from './worker-protocol'

// The synchronous core (for the benchmark's raw C_Sign) is `Pkcs11Module` in ./pkcs11-module; it
// is not re-exported here so that the main thread never loads the pkcs11js addon.
export { timePhase, formatTimings, type Phase, type Timings } from './timings'
export type { OpTimings } from './worker-protocol'
export type { SignResult } from './pkcs11-module'

/** Options of a token operation that can be cancelled. */
export interface OperationOptions {
  /**
   * Aborting rejects the operation at once with CANCELLED. PKCS#11 2.40 cannot interrupt a call
   * already running on the token: the worker lets it finish (which also ends a started signing
   * operation, so no CKR_OPERATION_ACTIVE is left), and a cancelled login is then logged out.
   */
  signal?: AbortSignal
}

export interface SignBatchOptions extends OperationOptions {
  /** Called after each signature with the number done so far. */
  onProgress?: (done: number, total: number) => void
}

export interface TokenService {
  /** The current picture (kept fresh by the worker's polling; no PKCS#11 call). */
  state(): Promise<TokenState>
  /** Retries libraries that failed and rescans slots and certificates now. */
  refresh(): Promise<TokenState>
  /** Called with a full fresh state whenever tokens appear, disappear or change PIN flags. */
  onChange(listener: (s: TokenState) => void): () => void
  /**
   * C_Login on the certificate's token (pin null: PIN pad). The logged-in session is kept for
   * sign() and signBatch() until logout(), the token's removal or close(): one PIN entry serves
   * any number of signatures.
   */
  login(certificateId: string, pin: string | null, options?: OperationOptions): Promise<void>
  /** One signature on the kept session (see mechanisms.ts for what is hashed where). */
  sign(certificateId: string, data: Uint8Array, options?: OperationOptions): Promise<SignResult>
  /**
   * Signs each item in turn on the kept session, with no PIN entry in between (a batch of
   * documents); the first failure ends the batch. With `onProgress` or `signal`, each signature
   * is its own worker request, so progress is per document and a cancel stops between two
   * signatures; without them, items go in chunks (one round trip per chunk) for throughput.
   */
  signBatch(certificateId: string, items: readonly Uint8Array[], options?: SignBatchOptions): Promise<SignResult[]>
  /** DER of the certificate. */
  certificate(certificateId: string): Promise<Uint8Array>
  /** C_Logout and close the kept session of one certificate's token, or of every token. */
  logout(certificateId?: string): Promise<void>
  /** Token ids with a kept, logged-in session. */
  loggedIn(): Promise<string[]>
  /**
   * Called with the token ids whose logged-in session ended because the token was pulled out
   * (the app session on such a token must end as well).
   */
  onSessionLost(listener: (tokenIds: string[]) => void): () => void
  close(): Promise<void>
  /** Time spent by the worker's start-up and by the last request of each kind (benchmark, log). */
  timings(): TokenServiceTimings
}

export interface RequestTimings extends OpTimings {
  /** Main thread: from posting the request to having the answer. */
  roundTripMs: number
}

export interface TokenServiceTimings {
  /** Worker start-up: library load, C_Initialize, first discovery. */
  startup: (OpTimings & { sinceCreateMs: number }) | null
  last: Partial<Record<WorkerOp, RequestTimings>>
}

export interface TokenServiceOptions {
  libraries: { name: string; path: string; source: 'configured' | 'default' }[]
  /**
   * Environment for the PKCS#11 libraries (e.g. SOFTHSM2_CONF). Native libraries read it with
   * getenv(), which sees the process environment only, so these values are set on process.env.
   */
  env?: Record<string, string>
  pollIntervalMs?: number
  /** See Pkcs11ModuleOptions.reinitOnPoll. */
  reinitOnPoll?: 'auto' | 'always' | 'never'
  /** Technical messages of the worker (polling failures), for the log. */
  log?: (line: string) => void
  /** The worker script; defaults to resolveWorkerEntry() (the benchmark points at the built one). */
  workerEntry?: URL
}

interface Pending {
  op: WorkerOp
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
  sentAt: number
}

function cancelled(what: string): AppError {
  return new AppError('CANCELLED', {}, `${what} cancelled`)
}

/** Signatures per worker request in an unobserved signBatch: enough to amortise the round trip,
 * few enough that a token event waits for at most a few signatures. */
const SIGN_CHUNK = 16

export function createTokenService(options: TokenServiceOptions): TokenService {
  for (const [k, v] of Object.entries(options.env ?? {})) process.env[k] = v
  const init: WorkerInit = {
    libraries: options.libraries.map((l): LibraryEntry => ({ name: l.name, path: l.path, source: l.source })),
    pollIntervalMs: options.pollIntervalMs ?? 500,
    reinitOnPoll: options.reinitOnPoll ?? 'auto',
  }
  const log = options.log ?? (() => {})
  const listeners = new Set<(s: TokenState) => void>()
  const lostListeners = new Set<(tokenIds: string[]) => void>()
  const pending = new Map<number, Pending>()
  const timings: TokenServiceTimings = { startup: null, last: {} }
  let nextId = 1
  let current: TokenState | null = null
  let closed = false
  let worker: Worker | null = null
  let ready: Promise<void> = Promise.resolve()

  const setState = (s: TokenState): void => {
    current = s
  }
  const emit = (s: TokenState): void => {
    for (const l of listeners) {
      try {
        l(s)
      } catch (e) {
        log(`token listener failed: ${String(e)}`)
      }
    }
  }
  const picture = (s: TokenState | null): string =>
    s ? JSON.stringify([s.libraries, s.tokens, s.certificates, s.errors]) : ''

  const start = (): void => {
    const createdAt = performance.now()
    const w = startWorker(options.workerEntry ?? resolveWorkerEntry('token-worker', import.meta.url), 'token-worker', init)
    worker = w
    let markReady: () => void = () => {}
    let failReady: (e: unknown) => void = () => {}
    ready = new Promise<void>((resolve, reject) => {
      markReady = resolve
      failReady = reject
    })
    // Callers of a not-yet-ready service see the failure through their own request.
    ready.catch(() => {})

    w.on('message', (msg: WorkerMessage) => {
      switch (msg.type) {
        case 'ready':
          timings.startup = { ...msg.timings, sinceCreateMs: performance.now() - createdAt }
          setState(msg.state)
          markReady()
          if (pending.size === 0) w.unref()
          break
        case 'change':
          setState(msg.state)
          emit(msg.state)
          break
        case 'log':
          log(msg.message)
          break
        case 'sessionLost':
          for (const l of lostListeners) {
            try {
              l(msg.tokenIds)
            } catch (e) {
              log(`token listener failed: ${String(e)}`)
            }
          }
          break
        case 'response': {
          const p = pending.get(msg.id)
          if (!p) break
          pending.delete(msg.id)
          if (pending.size === 0) w.unref()
          timings.last[p.op] = { ...msg.timings, roundTripMs: performance.now() - p.sentAt }
          if (msg.ok) p.resolve(msg.value)
          else p.reject(new AppError(msg.error.code, msg.error.params, msg.details ?? undefined))
          break
        }
      }
    })
    const die = (reason: string): void => {
      if (worker !== w) return
      worker = null
      const err = new AppError('INTERNAL', {}, `token worker stopped: ${reason}`)
      failReady(err)
      for (const [id, p] of pending) {
        pending.delete(id)
        p.reject(err)
      }
    }
    w.on('error', (e) => die(e instanceof Error ? `${e.name}: ${e.message}` : String(e)))
    w.on('exit', (code) => die(`exit code ${code}`))
    // Until it is ready and while a request is in flight the worker keeps the process alive;
    // idle, it does not (a CLI that forgets close() still exits).
  }

  /**
   * One request to the worker. With a signal, aborting rejects the returned promise at once with
   * CANCELLED; the worker still finishes the request (its answer is then dropped) and `onAbort`
   * runs, e.g. to queue a logout right behind it.
   */
  const call = async <O extends WorkerOp>(
    op: O,
    args: WorkerOps[O]['args'],
    transfer: ArrayBuffer[] = [],
    cancel?: { signal: AbortSignal | undefined; onAbort?: () => void },
  ): Promise<WorkerOps[O]['value']> => {
    if (closed) throw new AppError('INTERNAL', {}, 'token service is closed')
    const signal = cancel?.signal
    if (signal?.aborted) throw cancelled(op)
    if (!worker) start()
    const w = worker!
    const id = nextId++
    let abortListener: (() => void) | null = null
    const result = new Promise<WorkerOps[O]['value']>((resolve, reject) => {
      pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, sentAt: performance.now() })
      if (signal) {
        abortListener = () => {
          reject(cancelled(op))
          cancel?.onAbort?.()
        }
        signal.addEventListener('abort', abortListener, { once: true })
      }
    })
    w.ref()
    const req: WorkerRequest<O> = { id, op, args }
    w.postMessage(req, transfer)
    try {
      return await result
    } finally {
      if (signal && abortListener) signal.removeEventListener('abort', abortListener)
    }
  }

  const signOne = async (certificateId: string, data: Uint8Array, signal: AbortSignal | undefined): Promise<SignResult> => {
    // A copy of our own to transfer: a Node Buffer's slice() is a view, often of the shared
    // Buffer pool, and transferring that would detach memory the caller (and Node) still use.
    const copy = new Uint8Array(data)
    const r = await call('sign', [certificateId, copy], [copy.buffer as ArrayBuffer], { signal })
    // Structured clone delivers a Uint8Array whose buffer the worker transferred to us.
    return { keyAlgorithm: r.keyAlgorithm, signature: r.signature }
  }

  start()

  return {
    async state() {
      if (closed) throw new AppError('INTERNAL', {}, 'token service is closed')
      if (!worker) start()
      await ready
      return current!
    },
    async refresh() {
      const s = await call('refresh', [])
      // The worker's polling will not report what this rescan already found: tell the listeners.
      const changed = picture(s) !== picture(current)
      setState(s)
      if (changed) emit(s)
      return s
    },
    onChange(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    onSessionLost(listener) {
      lostListeners.add(listener)
      return () => {
        lostListeners.delete(listener)
      }
    },
    async login(certificateId, pin, options = {}) {
      await call('login', [certificateId, pin], [], {
        signal: options.signal,
        // Let the running C_Login finish, then log that token out: a cancelled login must not
        // leave the token open for whoever comes next.
        onAbort: () => void call('logout', [certificateId]).catch(() => {}),
      })
    },
    sign: (certificateId, data, options = {}) => signOne(certificateId, data, options.signal),
    async signBatch(certificateId, items, options = {}) {
      const out: SignResult[] = []
      if (options.onProgress || options.signal) {
        for (const item of items) {
          out.push(await signOne(certificateId, item, options.signal))
          options.onProgress?.(out.length, items.length)
        }
        return out
      }
      for (let i = 0; i < items.length; i += SIGN_CHUNK) {
        // Copies of our own to transfer (see signOne).
        const chunk = items.slice(i, i + SIGN_CHUNK).map((item) => new Uint8Array(item))
        out.push(...(await call('signMany', [certificateId, chunk], chunk.map((c) => c.buffer as ArrayBuffer))))
      }
      return out
    },
    async certificate(certificateId) {
      return call('certificate', [certificateId])
    },
    async logout(certificateId) {
      await call('logout', [certificateId ?? null])
    },
    async loggedIn() {
      return call('loggedIn', [])
    },
    async close() {
      if (closed) return
      const w = worker
      if (w) {
        try {
          await call('close', [])
        } finally {
          closed = true
          worker = null
          await w.terminate()
        }
      }
      closed = true
      listeners.clear()
      lostListeners.clear()
    },
    timings() {
      return { startup: timings.startup ? { ...timings.startup } : null, last: { ...timings.last } }
    },
  }
}
