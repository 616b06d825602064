// Electron app lifecycle: one instance, one hardened window, the core behind IPC, and a quit
// that waits for the core to close (token sessions, worker) before the process ends.
import { app, BrowserWindow, dialog, safeStorage } from 'electron'
import { join } from 'node:path'
import { createAppCore, type AppCore } from '../core/app-core'
import { loadConfig } from '../core/config'
import { wrappedKeySource } from '../core/store/database'
import { registerIpc } from './ipc'
import { defaultsFilePath, devServerOrigin, type RendererSource } from './policy'
import { checkForUpdates } from './updater'
import { createMainWindow, hardenSession } from './window'

const CLOSE_TIMEOUT_MS = 5000

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`)
}

export function runElectronApp(): void {
  // Every renderer sandboxed, whatever a window asks for.
  app.enableSandbox()
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }

  const here = import.meta.dirname
  const devOrigin = app.isPackaged ? null : devServerOrigin(process.env.ELECTRON_RENDERER_URL)
  const source: RendererSource = devOrigin
    ? { kind: 'dev', origin: devOrigin }
    : { kind: 'file', indexPath: join(here, '../renderer/index.html') }
  const preloadPath = join(here, '../preload/index.cjs')

  let core: AppCore | null = null
  let unregister: (() => void) | null = null
  let mainWindow: BrowserWindow | null = null
  let closed = false
  let closing = false

  const openWindow = (): void => {
    mainWindow = createMainWindow({ preloadPath, source, devTools: !app.isPackaged, log })
    mainWindow.on('closed', () => {
      mainWindow = null
    })
  }

  app.on('second-instance', () => {
    if (!mainWindow) return
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.focus()
  })

  app.on('web-contents-created', (_event, contents) => {
    // Belt and braces for any other web contents: no new windows, no navigation.
    contents.setWindowOpenHandler(() => ({ action: 'deny' }))
    contents.on('will-navigate', (e) => e.preventDefault())
  })

  app.on('window-all-closed', () => app.quit())

  app.on('before-quit', (event) => {
    if (closed) return
    event.preventDefault()
    if (closing) return
    closing = true
    const timeout = new Promise<void>((r) => setTimeout(r, CLOSE_TIMEOUT_MS).unref())
    const done = (async () => {
      unregister?.()
      await core?.close()
    })().catch((e: unknown) => log(`quit: core close failed: ${e instanceof Error ? e.message : String(e)}`))
    void Promise.race([done, timeout]).finally(() => {
      closed = true
      app.quit()
    })
  })

  void app.whenReady().then(() => {
    try {
      const config = loadConfig({
        defaultsFile: defaultsFilePath({ isPackaged: app.isPackaged, resourcesPath: process.resourcesPath, appPath: app.getAppPath() }),
      })
      core = createAppCore(config, {
        transport: 'electron',
        version: app.getVersion(),
        log,
        // The local store's key is wrapped by the OS (safeStorage), never kept in the clear.
        storeKey: (storeDir) => wrappedKeySource(safeStorage, join(storeDir, 'store.wrapped-key')),
      })
    } catch (e) {
      log(`startup: ${e instanceof Error ? e.message : String(e)}`)
      dialog.showErrorBox(
        'АРМ медицинского работника не запускается',
        `${e instanceof Error ? e.message : String(e)}\n\nИсправьте файл настроек или обратитесь к администратору.`,
      )
      closed = true
      app.quit()
      return
    }
    hardenSession(undefined, source.kind === 'dev')
    unregister = registerIpc({ core, source, windows: () => BrowserWindow.getAllWindows(), log })
    openWindow()
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow()
    })
    setTimeout(() => void checkForUpdates(log), 10_000).unref()
  })
}
