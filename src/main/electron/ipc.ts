// Electron IPC transport: one `rpc` channel into the shared dispatcher, one `rpc-event` channel
// out. Every call is checked to come from the top frame of our own renderer first.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron'
import { AppError } from '../../shared/errors'
import type { AppCore } from '../core/app-core'
import { checkEvent, createDispatcher } from '../rpc/dispatcher'
import { isTrustedSender, type RendererSource } from './policy'

export const RPC_CHANNEL = 'rpc'
export const EVENT_CHANNEL = 'rpc-event'

export interface IpcOptions {
  core: AppCore
  source: RendererSource
  /** The windows that may call and that receive events. */
  windows: () => BrowserWindow[]
  log: (line: string) => void
}

/** Registers the handler and the event forwarding; returns the function that removes both. */
export function registerIpc({ core, source, windows, log }: IpcOptions): () => void {
  const dispatch = createDispatcher(core.handlers, { log })

  const isOurs = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame
    const fromOurWindow = windows().some((w) => !w.isDestroyed() && w.webContents.id === event.sender.id)
    return fromOurWindow && frame !== null && isTrustedSender(frame.url, frame.parent === null, source)
  }

  ipcMain.handle(RPC_CHANNEL, (event, method: unknown, input: unknown) => {
    if (!isOurs(event)) {
      log(`ipc: refused a call from an untrusted frame (${event.senderFrame?.url ?? 'destroyed frame'})`)
      return { ok: false, error: new AppError('INTERNAL').toData() }
    }
    return dispatch(method, input)
  })

  const unsubscribe = core.onEvent((name, payload) => {
    const checked = checkEvent(name, payload, log)
    if (!checked) return
    for (const w of windows()) {
      // Only a window still showing our renderer gets events.
      if (w.isDestroyed() || !isTrustedSender(w.webContents.getURL(), true, source)) continue
      w.webContents.send(EVENT_CHANNEL, checked.event, checked.payload)
    }
  })

  return () => {
    unsubscribe()
    ipcMain.removeHandler(RPC_CHANNEL)
  }
}
