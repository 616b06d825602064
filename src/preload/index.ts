// Exposes the RPC contract to the sandboxed renderer as `window.bridge` — two functions and
// nothing else. Validation happens in the main process (sender, method, input) and again in the
// renderer (output); this file stays glue.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import type { Bridge } from '../shared/rpc/contract'

const bridge: Bridge = {
  invoke: (method, input) => ipcRenderer.invoke('rpc', method, input),
  subscribe(event, listener) {
    const handler = (_e: IpcRendererEvent, name: unknown, payload: unknown): void => {
      if (name === event) listener(payload)
    }
    ipcRenderer.on('rpc-event', handler)
    return () => void ipcRenderer.removeListener('rpc-event', handler)
  },
}

contextBridge.exposeInMainWorld('bridge', bridge)
