// The transport under the typed API. In Electron the preload provides `window.bridge` (IPC);
// in a browser served by the Node host, this module provides the same Bridge over the host's
// loopback WebSocket, authenticated with the per-launch secret from the URL fragment.
import { AppError } from '../../shared/errors'
import type { Bridge, RpcResult } from '../../shared/rpc/contract'
import {
  CLOSE,
  WS_PATH,
  decodeServerMessage,
  encodeMessage,
  secretFromHash,
  type ClientMessage,
} from '../../shared/rpc/ws-protocol'

declare global {
  interface Window {
    /** Set by the Electron preload. */
    bridge?: Bridge
  }
}

export type ConnectionStatus = 'connecting' | 'ready' | 'lost' | 'unauthorized'

export interface WsBridge extends Bridge {
  status(): ConnectionStatus
  onStatus(listener: (status: ConnectionStatus) => void): () => void
  close(): void
}

/** What a call resolves to when the connection drops before its answer arrives. */
const connectionLost = (): RpcResult => ({ ok: false, error: new AppError('INTERNAL', { reason: 'connection' }).toData() })

export function createWsBridge(url: string, secret: string): WsBridge {
  let socket: WebSocket | null = null
  let status: ConnectionStatus = 'connecting'
  let nextId = 1
  let retryDelay = 250
  let closedByUs = false
  const queue: Extract<ClientMessage, { t: 'invoke' }>[] = []
  const pending = new Map<number, (result: RpcResult) => void>()
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const statusListeners = new Set<(s: ConnectionStatus) => void>()

  const setStatus = (s: ConnectionStatus): void => {
    if (s === status) return
    status = s
    for (const l of statusListeners) l(s)
  }

  const connect = (): void => {
    const ws = new WebSocket(url)
    socket = ws
    ws.onopen = () => ws.send(encodeMessage({ t: 'hello', secret }))
    ws.onmessage = (e: MessageEvent) => {
      const message = decodeServerMessage(e.data)
      if (!message) return
      if (message.t === 'ready') {
        retryDelay = 250
        setStatus('ready')
        for (const m of queue.splice(0)) ws.send(encodeMessage(m))
      } else if (message.t === 'result') {
        pending.get(message.id)?.(message.result as RpcResult)
        pending.delete(message.id)
      } else {
        for (const l of listeners.get(message.event) ?? []) l(message.payload)
      }
    }
    ws.onclose = (e: CloseEvent) => {
      socket = null
      // Calls already sent will get no answer; calls not yet sent stay queued for the next socket.
      const queued = new Set(queue.map((m) => m.id))
      for (const [id, resolve] of pending) {
        if (queued.has(id)) continue
        resolve(connectionLost())
        pending.delete(id)
      }
      if (closedByUs) return
      if (e.code === CLOSE.unauthorized) {
        setStatus('unauthorized')
        for (const resolve of pending.values()) resolve(connectionLost())
        pending.clear()
        queue.length = 0
        return
      }
      setStatus('lost')
      setTimeout(connect, retryDelay)
      retryDelay = Math.min(retryDelay * 2, 4000)
    }
  }
  connect()

  return {
    invoke(method, input) {
      if (status === 'unauthorized') return Promise.resolve(connectionLost())
      const message: Extract<ClientMessage, { t: 'invoke' }> = { t: 'invoke', id: nextId++, method, input }
      return new Promise<RpcResult>((resolve) => {
        pending.set(message.id, resolve)
        if (status === 'ready' && socket?.readyState === WebSocket.OPEN) socket.send(encodeMessage(message))
        else queue.push(message)
      })
    },
    subscribe(event, listener) {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(listener)
      return () => void set.delete(listener)
    },
    status: () => status,
    onStatus(listener) {
      statusListeners.add(listener)
      return () => void statusListeners.delete(listener)
    },
    close() {
      closedByUs = true
      socket?.close()
    },
  }
}

const SECRET_STORAGE_KEY = 'lkmr.k'

/**
 * The secret for the Node host: taken from the fragment on first load, then kept in this tab's
 * sessionStorage (so a reload still works) and removed from the address bar.
 */
function takeSecret(): string | null {
  const fromHash = secretFromHash(window.location.hash)
  if (fromHash) {
    sessionStorage.setItem(SECRET_STORAGE_KEY, fromHash)
    history.replaceState(null, '', window.location.pathname + window.location.search)
    return fromHash
  }
  return sessionStorage.getItem(SECRET_STORAGE_KEY)
}

export type ResolvedBridge = { kind: 'electron'; bridge: Bridge } | { kind: 'web'; bridge: WsBridge } | { kind: 'none' }

export function resolveBridge(): ResolvedBridge {
  if (window.bridge) return { kind: 'electron', bridge: window.bridge }
  if (window.location.protocol !== 'http:' && window.location.protocol !== 'https:') return { kind: 'none' }
  const secret = takeSecret()
  if (!secret) return { kind: 'none' }
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:'
  return { kind: 'web', bridge: createWsBridge(`${scheme}//${window.location.host}${WS_PATH}`, secret) }
}
