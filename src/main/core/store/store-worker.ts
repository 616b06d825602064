// The store's thread: opens the encrypted database and answers calls from the main process, so
// the UI-serving event loop never waits on SQLite or the disk.
import { parentPort, workerData } from 'node:worker_threads'
import { toAppError } from '../../../shared/errors'
import { openDatabase } from './database'
import { Store } from './store'
import { STORE_METHODS, type StoreInit, type StoreReply, type StoreRequest } from './store-protocol'

const init = workerData as StoreInit
const port = parentPort!
let store: Store | null = null
try {
  store = new Store(openDatabase(init.file, Buffer.from(init.keyHex, 'hex')))
  port.postMessage({ id: 0, ok: true, value: null } satisfies StoreReply)
} catch (e) {
  const err = toAppError(e)
  port.postMessage({ id: 0, ok: false, error: { ...err.toData(), details: err.details ?? null } } satisfies StoreReply)
}

port.on('message', (req: StoreRequest) => {
  if (req.method === 'close') {
    store?.close()
    store = null
    port.postMessage({ id: req.id, ok: true, value: null } satisfies StoreReply)
    port.close()
    return
  }
  try {
    if (!store) throw new Error('store is not open')
    if (!STORE_METHODS.includes(req.method)) throw new Error(`unknown store method ${req.method}`)
    const fn = (store as unknown as Record<string, (...args: unknown[]) => unknown>)[req.method]!
    port.postMessage({ id: req.id, ok: true, value: fn.apply(store, req.args) } satisfies StoreReply)
  } catch (e) {
    const err = toAppError(e)
    port.postMessage({ id: req.id, ok: false, error: { ...err.toData(), details: err.details ?? null } } satisfies StoreReply)
  }
})
