// End-to-end harness: the built renderer (out/renderer) served by the real Node host, driven in
// Debian's Chromium through playwright-core. Give it the real core (createAppCore with a config
// pointing at the demo SoftHSM tokens and the portal) or, for transport/UI-state tests, the
// contract-level core from tests/support/transport-core.ts.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { hashForSecret } from '../../../src/shared/rpc/ws-protocol'
import { createAppCore, type AppCore } from '../../../src/main/core/app-core'
import { loadConfig, type AppConfig } from '../../../src/main/core/config'
import { CHROMIUM, CHROMIUM_FLAGS } from '../../../src/main/host/chromium'
import { startNodeHost, type NodeHost } from '../../../src/main/host/node-host'
import type { TokenFixture } from '../../../src/main/core/token/testing/token-fixture'
import { startPortal, type StartedPortal, type StartPortalOptions } from '../../../portal/src/server'

export const ROOT = resolve(import.meta.dirname, '../../..')
export const RENDERER_DIR = join(ROOT, 'out/renderer')

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** Builds the app (`electron-vite build`) when out/renderer is missing or older than its sources. */
export function ensureBuilt(): void {
  const index = join(RENDERER_DIR, 'index.html')
  const sources = Math.max(
    newestMtime(join(ROOT, 'src/renderer')),
    newestMtime(join(ROOT, 'src/shared')),
    statSync(join(ROOT, 'electron.vite.config.ts')).mtimeMs,
  )
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return
  execFileSync(join(ROOT, 'node_modules/.bin/electron-vite'), ['build'], { cwd: ROOT, stdio: 'pipe' })
}

export interface RunningApp {
  page: Page
  context: BrowserContext
  browser: Browser
  host: NodeHost
  core: AppCore
  /** The page's URL including the secret fragment. */
  appUrl: string
  /** Console errors and CSP violations seen by the page (should stay empty). */
  consoleErrors: string[]
  /** Milliseconds from navigation start until the token panel left its loading state. */
  interactiveMs: number | null
  close(): Promise<void>
}

export interface StartAppOptions {
  viewport?: { width: number; height: number }
  /** Close the core with the app (default true). */
  closeCore?: boolean
  /** Wait until the login screen shows a token state (default true). */
  waitForLogin?: boolean
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true })
}

/** Serves the built UI for `core` and opens it in a fresh Chromium page. */
export async function startApp(core: AppCore, options: StartAppOptions = {}): Promise<RunningApp> {
  ensureBuilt()
  const hostLogs: string[] = []
  const host = await startNodeHost({ core, rendererDir: RENDERER_DIR, log: (l) => hostLogs.push(l) })
  const browser = await launchBrowser()
  const context = await browser.newContext({
    locale: 'ru-RU',
    timezoneId: 'Europe/Moscow',
    viewport: options.viewport ?? { width: 1280, height: 860 },
  })
  const page = await context.newPage()
  const consoleErrors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
  const appUrl = `${host.url}${hashForSecret(host.secret)}`
  await page.goto(appUrl)
  let interactiveMs: number | null = null
  if (options.waitForLogin ?? true) {
    await page.locator('[data-testid="token-state"]:not([data-state="loading"]), [data-testid="shell"]').first().waitFor()
    interactiveMs = await page.evaluate(() => performance.now())
  }
  let closed = false
  return {
    page,
    context,
    browser,
    host,
    core,
    appUrl,
    consoleErrors,
    interactiveMs,
    async close() {
      if (closed) return
      closed = true
      await browser.close()
      await host.close()
      if (options.closeCore ?? true) await core.close()
    },
  }
}

/**
 * The real app: configuration through the core's own loader (defaults, machine file, env) with
 * the test's overrides — e.g. the demo SoftHSM library and the test portal's URL and CA.
 */
export async function startRealApp(overrides: Partial<AppConfig>, options: StartAppOptions = {}): Promise<RunningApp> {
  const config = loadConfig({ overrides })
  const core = createAppCore(config, { transport: 'web', version: '0.0.0-e2e', log: () => {} })
  try {
    return await startApp(core, options)
  } catch (e) {
    await core.close()
    throw e
  }
}

export interface PortalAppOptions {
  /** Portal options besides the demo seed and the port (e.g. the demo outbox as code channel). */
  portal?: Omit<StartPortalOptions, 'demo' | 'port'>
  /** App settings besides the token library and the portal's address and CA. */
  config?: Partial<AppConfig>
}

/**
 * The whole stack on a private token copy: the reference portal seeded from it (TLS, embedded
 * database) and the real app using `library` (SoftHSM itself, or the fault module in front of it).
 */
export async function startPortalApp(
  tokens: TokenFixture,
  library: string,
  options: PortalAppOptions = {},
): Promise<{ app: RunningApp; portal: StartedPortal; close(): Promise<void> }> {
  process.env.SOFTHSM2_CONF = tokens.conf
  const portal = await startPortal({ ...options.portal, demo: tokens.manifest, port: 0 })
  try {
    const app = await startRealApp({
      tokenLibraries: [library],
      useDefaultLibraries: false,
      portalUrl: portal.url,
      portalCaFile: tokens.manifest.caCertPem,
      ...options.config,
    })
    // Fail fast with a locator message rather than at the test's own timeout.
    app.page.setDefaultTimeout(10_000)
    return {
      app,
      portal,
      async close() {
        await app.close()
        await portal.close()
      },
    }
  } catch (e) {
    await portal.close()
    throw e
  }
}
