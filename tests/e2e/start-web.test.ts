// The built app as `npm run start:web` runs it: the bundle out/main/start-web.js in plain Node
// (no tsx), its bundled token worker, the demo SoftHSM tokens and the reference portal, opened in
// Chromium. Catches what only the bundle can get wrong (worker and resource paths).
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startPortal, type StartedPortal } from '../../portal/src/server'
import { readDemoManifest, type DemoManifest } from '../../scripts/demo/manifest'
import { CHROMIUM, CHROMIUM_FLAGS } from '../../src/main/host/chromium'
import { ensureBuilt, ROOT } from './support/app'

let manifest: DemoManifest
let portal: StartedPortal
let app: ChildProcess
let url: string
let browser: Browser

beforeAll(async () => {
  ensureBuilt()
  manifest = readDemoManifest(inject('demoDir'))
  portal = await startPortal({ demo: manifest, port: 0 })
  app = spawn(process.execPath, [join(ROOT, 'out/main/start-web.js'), '--no-browser'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      LKMR_CONFIG: '/nonexistent/config.json',
      SOFTHSM2_CONF: manifest.softhsmConf,
      LKMR_TOKEN_LIBRARIES: manifest.library,
      LKMR_DEFAULT_LIBRARIES: '0',
      LKMR_PORTAL_URL: portal.url,
      LKMR_PORTAL_CA: manifest.caCertPem,
    },
  })
  url = await new Promise<string>((resolveUrl, reject) => {
    let text = ''
    app.stdout?.on('data', (c: Buffer) => {
      text += c.toString()
      const m = /откройте (\S+)/.exec(text)
      if (m?.[1]) resolveUrl(m[1])
    })
    app.on('exit', (code) => reject(new Error(`start-web exited with ${code}: ${text}`)))
  })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true })
})

afterAll(async () => {
  await browser?.close()
  if (app && app.exitCode === null) {
    app.kill('SIGTERM')
    await new Promise((r) => app.once('exit', r))
  }
  await portal?.close()
})

describe('npm run start:web (the bundle)', () => {
  it('serves the login screen with the tokens read by the bundled worker and logs the doctor in', async () => {
    const page = await browser.newPage()
    await page.goto(url)
    const doctor = manifest.tokens.flatMap((t) => t.certificates.map((c) => ({ t, c }))).find((x) => x.c.kind === 'doctor')!
    const card = page.locator('[data-testid="cert-item"]', { hasText: doctor.c.fullName })
    await card.waitFor({ timeout: 10_000 })
    expect(await page.locator('[data-testid="app-footer"]').textContent()).toContain(portal.url)
    await card.click()
    await page.locator('[data-testid="pin-input"]').fill(doctor.t.userPin)
    await page.locator('[data-testid="pin-input"]').press('Enter')
    await page.locator('[data-testid="shell"]').waitFor({ timeout: 10_000 })
    expect(await page.locator('[data-testid="user-name"]').textContent()).toContain(doctor.c.fullName)
  })

  it('stops cleanly on SIGTERM', async () => {
    app.kill('SIGTERM')
    const code = await new Promise<number | null>((r) => app.once('exit', (c) => r(c)))
    expect(code).toBe(0)
  })
})
