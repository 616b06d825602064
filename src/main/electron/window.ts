// The main window and its session, hardened: sandboxed renderer with context isolation and no
// Node, strict CSP (header here, <meta> in index.html), no navigation, no new windows, no
// webviews, no permissions. Decisions live in policy.ts; this file applies them.
import { BrowserWindow, session as electronSession, type Session, type WebPreferences } from 'electron'
import { buildCsp, SECURITY_HEADERS, windowPreferences, type RendererSource } from './policy'

export interface MainWindowOptions {
  preloadPath: string
  source: RendererSource
  devTools: boolean
  log: (line: string) => void
}

/** Applies the CSP and security headers to every response and refuses every permission. */
export function hardenSession(ses: Session = electronSession.defaultSession, dev = false): void {
  const csp = buildCsp({ dev })
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders }
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'content-security-policy') delete headers[name]
    }
    headers['Content-Security-Policy'] = [csp]
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers[name] = [value]
    callback({ responseHeaders: headers })
  })
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  ses.setPermissionCheckHandler(() => false)
  ses.setDevicePermissionHandler(() => false)
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const webPreferences: WebPreferences = windowPreferences(options.preloadPath, options.devTools)
  const win = new BrowserWindow({
    title: 'АРМ медицинского работника',
    width: 1280,
    height: 820,
    minWidth: 1024,
    minHeight: 680,
    show: false,
    backgroundColor: '#f4f6fa',
    autoHideMenuBar: true,
    webPreferences,
  })
  const contents = win.webContents

  contents.on('will-navigate', (event, url) => {
    event.preventDefault()
    options.log(`window: blocked navigation to ${url.slice(0, 200)}`)
  })
  contents.on('will-redirect', (event) => event.preventDefault())
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    options.log(`window: blocked window.open(${url.slice(0, 200)})`)
    return { action: 'deny' }
  })
  win.once('ready-to-show', () => win.show())

  const { source } = options
  const loading = source.kind === 'dev' ? win.loadURL(source.origin) : win.loadFile(source.indexPath)
  loading.catch((e: unknown) => options.log(`window: failed to load the UI: ${e instanceof Error ? e.message : String(e)}`))
  return win
}
