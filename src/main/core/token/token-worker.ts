// The token worker: the one owner of the PKCS#11 libraries in this process. It answers requests
// from the token service one at a time (every pkcs11js call here blocks, which is why it lives
// off the UI thread) and polls for tokens coming and going between requests.
import { parentPort, workerData } from 'node:worker_threads'
import { AppError, toAppError } from '../../../shared/errors'
import { mapPkcs11Error } from './pkcs11-errors'
import { Pkcs11Module } from './pkcs11-module'
import type { OpTimings, WorkerInit, WorkerMessage, WorkerOp, WorkerRequest } from './worker-protocol'

if (!parentPort) throw new Error('token-worker must run as a worker thread')
const port = parentPort
const init = workerData as WorkerInit

const post = (msg: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer)

const mod = new Pkcs11Module(init.libraries, { reinitOnPoll: init.reinitOnPoll })

function measured<T>(fn: () => T): { value: T; timings: OpTimings } {
  const t0 = performance.now()
  mod.takeTimings()
  const value = fn()
  return { value, timings: { phases: mod.takeTimings(), workerMs: performance.now() - t0 } }
}

{
  const { value: state, timings } = measured(() => {
    mod.open()
    return mod.scan()
  })
  post({ type: 'ready', state, timings })
}

let closed = false
const timer = setInterval(pollOnce, init.pollIntervalMs)

function run(req: WorkerRequest): { value: unknown; transfer: ArrayBuffer[] } {
  switch (req.op as WorkerOp) {
    case 'state':
      return { value: mod.state(), transfer: [] }
    case 'refresh':
      return { value: mod.refresh(), transfer: [] }
    case 'login': {
      const [certificateId, pin] = req.args as [string, string | null]
      mod.login(certificateId, pin)
      return { value: null, transfer: [] }
    }
    case 'sign': {
      const [certificateId, data] = req.args as [string, Uint8Array]
      const result = mod.sign(certificateId, data)
      // A fresh buffer to transfer: pkcs11js returns a Buffer view (slice() would still be one).
      const signature = new Uint8Array(result.signature)
      return { value: { keyAlgorithm: result.keyAlgorithm, signature }, transfer: [signature.buffer as ArrayBuffer] }
    }
    case 'signMany': {
      const [certificateId, items] = req.args as [string, Uint8Array[]]
      const results = items.map((item) => {
        const r = mod.sign(certificateId, item)
        return { keyAlgorithm: r.keyAlgorithm, signature: new Uint8Array(r.signature) }
      })
      return { value: results, transfer: results.map((r) => r.signature.buffer as ArrayBuffer) }
    }
    case 'certificate': {
      const [certificateId] = req.args as [string]
      const der = new Uint8Array(mod.certificate(certificateId)) // ours to transfer (see 'sign')
      return { value: der, transfer: [der.buffer as ArrayBuffer] }
    }
    case 'logout': {
      const [certificateId] = req.args as [string | null]
      mod.logout(certificateId ?? undefined)
      return { value: null, transfer: [] }
    }
    case 'loggedIn':
      return { value: mod.loggedInTokens(), transfer: [] }
    case 'close':
      closed = true
      clearInterval(timer)
      mod.close()
      return { value: null, transfer: [] }
    default:
      throw new AppError('INTERNAL', {}, `token worker: unknown op ${String(req.op)}`)
  }
}

/** Reports a changed token picture (after polling, or after a login changed the PIN flags). */
function pollOnce(): void {
  if (closed) return
  try {
    const state = mod.poll()
    mod.takeTimings()
    if (state) post({ type: 'change', state })
  } catch (e) {
    post({ type: 'log', message: `token poll failed: ${mapPkcs11Error(e).details ?? String(e)}` })
  }
  reportLostSessions()
}

/** Tells the service which logged-in sessions ended with their token (the app session ends too). */
function reportLostSessions(): void {
  const tokenIds = mod.takeLostSessions()
  if (tokenIds.length > 0) post({ type: 'sessionLost', tokenIds })
}

port.on('message', (req: WorkerRequest) => {
  const t0 = performance.now()
  mod.takeTimings()
  let response: WorkerMessage
  let transfer: ArrayBuffer[] = []
  try {
    const done = run(req)
    transfer = done.transfer
    response = { type: 'response', id: req.id, ok: true, value: done.value, timings: { phases: mod.takeTimings(), workerMs: performance.now() - t0 } }
  } catch (e) {
    const err = e instanceof AppError ? e : e instanceof Error && /^CKR_/.test(e.message) ? mapPkcs11Error(e) : toAppError(e)
    response = {
      type: 'response',
      id: req.id,
      ok: false,
      error: err.toData(),
      details: err.details ?? null,
      timings: { phases: mod.takeTimings(), workerMs: performance.now() - t0 },
    }
  }
  // A login lost during this request is told before its answer, so whoever awaits the answer
  // already knows.
  reportLostSessions()
  post(response, transfer)
  if (req.op === 'login' || req.op === 'logout') pollOnce()
})
