// Security decisions of the Electron glue as plain functions: no `electron` import, so they are
// unit-tested in vitest and shared with the Node host and the renderer build (CSP).
import { pathToFileURL } from 'node:url'

/** Where the renderer legitimately comes from: the built files, or the dev server. */
export type RendererSource = { kind: 'file'; indexPath: string } | { kind: 'dev'; origin: string }

export interface CspOptions {
  /** Extra connect-src sources (the Node host adds its exact ws://127.0.0.1:PORT). */
  connect?: string[]
  /** Vite dev server: its React refresh preamble is an inline script. Never in a build. */
  dev?: boolean
  /** A <meta> policy: frame-ancestors is not allowed there (browsers ignore it with a warning). */
  meta?: boolean
}

/**
 * The one Content-Security-Policy of the UI. No inline or remote scripts, no eval, no plugins,
 * no frames, no forms posting anywhere. Styles allow 'unsafe-inline' because antd's CSS-in-JS
 * inserts <style> elements at run time. connect-src 'self' also covers ws: to the same host and
 * port (CSP Level 3), which is what the Node host's /rpc endpoint is.
 */
export function buildCsp(options: CspOptions = {}): string {
  const script = options.dev ? ["'self'", "'unsafe-inline'"] : ["'self'"]
  const directives: [string, string[]][] = [
    ['default-src', ["'none'"]],
    ['script-src', script],
    ['style-src', ["'self'", "'unsafe-inline'"]],
    ['img-src', ["'self'", 'data:']],
    ['font-src', ["'self'", 'data:']],
    ['connect-src', ["'self'", ...(options.connect ?? [])]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
    ['object-src', ["'none'"]],
  ]
  if (!options.meta) directives.push(['frame-ancestors', ["'none'"]])
  return directives.map(([name, values]) => `${name} ${values.join(' ')}`).join('; ')
}

/** Other response headers both transports send with the UI. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=()',
}

/** BrowserWindow webPreferences; structurally checked against Electron's type in window.ts. */
export interface SecureWebPreferences {
  preload: string
  contextIsolation: true
  sandbox: true
  nodeIntegration: false
  nodeIntegrationInWorker: false
  nodeIntegrationInSubFrames: false
  webSecurity: true
  allowRunningInsecureContent: false
  experimentalFeatures: false
  webviewTag: false
  navigateOnDragDrop: false
  safeDialogs: true
  spellcheck: false
  devTools: boolean
}

export function windowPreferences(preloadPath: string, devTools: boolean): SecureWebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools,
  }
}

function parseUrl(url: string): URL | null {
  try {
    return new URL(url)
  } catch {
    return null
  }
}

function decodedPath(url: URL): string | null {
  try {
    return decodeURIComponent(url.pathname)
  } catch {
    return null
  }
}

/**
 * Whether an IPC message may reach the core: it must come from the top frame of a page that is
 * our own renderer — the exact index.html we loaded from disk, or the dev server's origin.
 * Anything else (a subframe, a page navigated elsewhere, a file:// next to ours) is refused.
 */
export function isTrustedSender(
  url: string | null | undefined,
  frameIsMain: boolean,
  expected: RendererSource,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (!frameIsMain || !url) return false
  const actual = parseUrl(url)
  if (!actual) return false
  if (expected.kind === 'dev') {
    const origin = parseUrl(expected.origin)
    return origin !== null && actual.origin !== 'null' && actual.origin === origin.origin
  }
  if (actual.protocol !== 'file:' || actual.host !== '') return false
  const want = decodedPath(pathToFileURL(expected.indexPath))
  const got = decodedPath(actual)
  if (want === null || got === null) return false
  // Windows paths are case-insensitive; Chromium may report the drive letter in either case.
  return platform === 'win32' ? want.toLowerCase() === got.toLowerCase() : want === got
}

/** The dev server URL electron-vite passes in development, if it is a loopback http(s) URL. */
export function devServerOrigin(value: string | undefined): string | null {
  if (!value) return null
  const url = parseUrl(value)
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null
  if (!['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return null
  return url.origin
}

/**
 * The shipped default settings: electron-builder copies resources/ to <resourcesPath>/resources
 * in an installed app; unpackaged, they sit in the app folder (the project root).
 */
export function defaultsFilePath(where: { isPackaged: boolean; resourcesPath: string; appPath: string }): string {
  const base = where.isPackaged ? where.resourcesPath : where.appPath
  const sep = base.includes('\\') && !base.includes('/') ? '\\' : '/'
  return [base.replace(/[\\/]+$/, ''), 'resources', 'config', 'default.json'].join(sep)
}
