// The login screen when the workstation's surroundings are wrong, each with the real part that
// is wrong: a token driver that is not installed, SoftHSM with no token in it, a token with no
// certificates, and a portal whose clock is 40 minutes off (the reference portal, over TLS).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startPortal, type StartedPortal } from '../../portal/src/server'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'
import { startRealApp, type RunningApp } from './support/app'

let tokens: TokenFixture
let app: RunningApp | null = null

beforeAll(async () => {
  tokens = await createTokenFixture()
})
afterEach(async () => {
  await app?.close()
  app = null
})
afterAll(() => tokens?.cleanup())

const panel = () => app!.page.locator('[data-testid="token-state"]')

describe('login screen in a broken environment', () => {
  it('names the missing token driver and says what to do', async () => {
    process.env.SOFTHSM2_CONF = tokens.conf
    app = await startRealApp({ tokenLibraries: ['/opt/nowhere/librtpkcs11ecp.so'], useDefaultLibraries: false })
    expect(await panel().getAttribute('data-state')).toBe('noLibraries')
    const text = (await panel().textContent()) ?? ''
    expect(text).toContain('/opt/nowhere/librtpkcs11ecp.so')
    expect(text).toMatch(/драйвер/i)
    expect(text).not.toMatch(/dlopen|ENOENT|CKR_/)
  })

  it('says «Смарт-карта не найдена» when the driver has no token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lkmr-notoken-'))
    mkdirSync(join(dir, 'tokens'))
    const conf = join(dir, 'softhsm2.conf')
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`)
    process.env.SOFTHSM2_CONF = conf
    app = await startRealApp({ tokenLibraries: [tokens.library], useDefaultLibraries: false })
    expect(await panel().getAttribute('data-state')).toBe('noToken')
    expect(await panel().textContent()).toContain('Смарт-карта не найдена')
  })

  it('says a token holds no certificates', async () => {
    process.env.SOFTHSM2_CONF = tokens.conf
    for (const t of tokens.manifest.tokens) if (t.certificates.length > 0) tokens.pull(t.label)
    try {
      app = await startRealApp({ tokenLibraries: [tokens.library], useDefaultLibraries: false })
      expect(await panel().getAttribute('data-state')).toBe('noCertificates')
      expect(await panel().textContent()).toContain('«demo-empty»')
    } finally {
      for (const t of tokens.manifest.tokens) if (t.certificates.length > 0) tokens.insert(t.label)
    }
  })

  it('refuses to log in when the computer clock is 40 minutes off the portal', async () => {
    process.env.SOFTHSM2_CONF = tokens.conf
    let portal: StartedPortal | null = null
    try {
      portal = await startPortal({ demo: tokens.manifest, port: 0, now: () => new Date(Date.now() - 40 * 60_000) })
      app = await startRealApp({
        tokenLibraries: [tokens.library],
        useDefaultLibraries: false,
        portalUrl: portal.url,
        portalCaFile: tokens.manifest.caCertPem,
      })
      const { token, cert } = tokens.cert('doctor')
      await app.page.locator('[data-testid="cert-item"]', { hasText: cert.fullName }).click()
      await app.page.locator('[data-testid="pin-input"]').fill(token.userPin)
      await app.page.locator('[data-testid="pin-input"]').press('Enter')
      const error = app.page.locator('[data-testid="login-error"]')
      await error.waitFor()
      expect(await error.getAttribute('data-code')).toBe('CLOCK_SKEW')
      const text = (await error.textContent()) ?? ''
      expect(text).toContain('Неверное время на компьютере')
      expect(text).toContain('40 мин')
    } finally {
      await portal?.close()
    }
  })
})
