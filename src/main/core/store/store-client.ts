// The main process's handle on the store worker: each Store method as an async call.
import { AppError } from '../../../shared/errors'
import { resolveWorkerEntry, startWorker } from '../worker-entry'
import { STORE_METHODS, type AsyncStore, type StoreInit, type StoreReply, type StoreRequest } from './store-protocol'

export interface StoreClient extends AsyncStore {
  close(): Promise<void>
}

/**
 * History pages (applyHistoryPages' first argument) are moved to the worker instead of copied:
 * the caller hands them over. Only a page that is the whole of its buffer can move; a slice of
 * Node's shared pool is copied. Nothing else is ever moved.
 */
function moved(method: StoreRequest['method'], args: unknown[]): ArrayBuffer[] {
  if (method !== 'applyHistoryPages') return []
  return (args[0] as Uint8Array[])
    .filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer)
    .map((a) => a.buffer as ArrayBuffer)
}

/** Starts the worker and opens the database in it; STORE_UNAVAILABLE if it cannot. */
export async function openStoreWorker(file: string, key: Buffer): Promise<StoreClient> {
  const init: StoreInit = { file, keyHex: key.toString('hex') }
  const worker = startWorker(resolveWorkerEntry('store-worker', import.meta.url), 'store-worker', init)
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  let nextId = 1
  let dead: AppError | null = null
  const ready = new Promise<void>((resolve, reject) => pending.set(0, { resolve: () => resolve(), reject }))
  worker.on('message', (reply: StoreReply) => {
    const p = pending.get(reply.id)
    if (!p) return
    pending.delete(reply.id)
    if (reply.ok) p.resolve(reply.value)
    else p.reject(new AppError(reply.error.code, reply.error.params, reply.error.details ?? undefined))
  })
  const fail = (e: unknown) => {
    dead = new AppError('STORE_UNAVAILABLE', {}, `store worker stopped: ${e instanceof Error ? e.message : String(e)}`)
    for (const p of pending.values()) p.reject(dead)
    pending.clear()
  }
  worker.on('error', fail)
  worker.on('exit', (code) => fail(new Error(`exit ${code}`)))
  const call = (method: StoreRequest['method'], args: unknown[]): Promise<unknown> => {
    if (dead) return Promise.reject(dead)
    const id = nextId++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      worker.postMessage({ id, method, args } satisfies StoreRequest, moved(method, args))
    })
  }
  try {
    await ready
  } catch (e) {
    await worker.terminate()
    throw e
  }
  const client = Object.fromEntries(STORE_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)])) as unknown as StoreClient
  client.close = async () => {
    if (dead) return
    await call('close', []).catch(() => {})
    await worker.terminate()
  }
  return client
}
