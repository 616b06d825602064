// First end-to-end smoke test of the real app: the REAL core (createAppCore: token worker,
// pkcs11js, the demo SoftHSM tokens from the global setup) behind the real Node host, the built
// renderer in Debian's Chromium. The portal is deliberately not running here, so a login attempt
// must end on the «Портал недоступен» screen. Portal-backed outcomes are wired in by the lead.
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { readDemoManifest, type DemoManifest } from '../../scripts/demo/manifest'
import { startRealApp, type RunningApp } from './support/app'

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

let manifest: DemoManifest
let app: RunningApp
let portalUrl: string

beforeAll(async () => {
  manifest = readDemoManifest(inject('demoDir'))
  process.env.SOFTHSM2_CONF = manifest.softhsmConf
  portalUrl = `https://127.0.0.1:${await closedPort()}`
  app = await startRealApp({
    tokenLibraries: [manifest.library],
    useDefaultLibraries: false,
    portalUrl,
    portalCaFile: manifest.caCertPem,
  })
})

afterAll(async () => {
  await app?.close()
})

const cert = (name: string) => app.page.locator('[data-testid="cert-item"]', { hasText: name })

describe('login screen against the real core and SoftHSM tokens', () => {
  it('becomes interactive after navigation, with no console errors or CSP violations', () => {
    expect(app.interactiveMs).not.toBeNull()
    // A sanity bound that holds on a loaded CI machine; the ≤1.5 s target is measured in bench/.
    expect(app.interactiveMs).toBeLessThan(5000)
    expect(app.consoleErrors).toEqual([])
  })

  it('removes the secret from the address bar', () => {
    expect(app.page.url()).not.toContain('#k=')
    expect(app.page.url()).not.toContain(app.host.secret)
  })

  it('lists every demo certificate that is on a token, with СНИЛС, dates and the token label', async () => {
    await expect.poll(() => app.page.locator('[data-testid="token-state"]').getAttribute('data-state')).toBe('certificates')
    const names = await app.page.locator('[data-testid="cert-name"]').allTextContents()
    const expected = manifest.tokens.flatMap((t) => t.certificates.map((c) => c.fullName))
    expect([...names].sort()).toEqual([...expected].sort())

    const doctorToken = manifest.tokens.find((t) => t.certificates.some((c) => c.kind === 'doctor'))
    const doctor = doctorToken?.certificates.find((c) => c.kind === 'doctor')
    expect(doctor?.snils).toMatch(/^\d{11}$/)
    const card = cert(doctor?.fullName ?? '')
    const snils = doctor?.snils ?? ''
    await expect.poll(() => card.locator('[data-testid="cert-snils"]').textContent()).toBe(
      `${snils.slice(0, 3)}-${snils.slice(3, 6)}-${snils.slice(6, 9)} ${snils.slice(9)}`,
    )
    expect(await card.locator('[data-testid="cert-dates"]').textContent()).toMatch(/^с \d{2}\.\d{2}\.\d{4} по \d{2}\.\d{2}\.\d{4}$/)
    // The token is named by its label and serial number, so two tokens with one label differ.
    expect(await card.locator('[data-testid="cert-token"]').textContent()).toBe(doctorToken?.label)
    expect(await card.locator('[data-testid="cert-token-serial"]').textContent()).toBe(`№ ${doctorToken?.serial}`)
    expect(await card.getAttribute('data-usable')).toBe('true')
  })

  it('marks expired, not-yet-valid and key-less certificates', async () => {
    const byKind = (kind: string) => manifest.tokens.flatMap((t) => t.certificates).find((c) => c.kind === kind)?.fullName ?? kind
    expect(await cert(byKind('expired')).getAttribute('data-validity')).toBe('expired')
    expect(await cert(byKind('notYetValid')).getAttribute('data-validity')).toBe('notYetValid')
    const noKey = cert(byKind('noPrivateKey'))
    expect(await noKey.getAttribute('data-usable')).toBe('false')
    expect(await noKey.locator('[data-testid="cert-disabled-reason"]').textContent()).toContain('нет закрытого ключа')
  })

  it('ends a login on «Портал недоступен» with what to do, when the portal cannot be reached', async () => {
    const doctorToken = manifest.tokens.find((t) => t.certificates.some((c) => c.kind === 'doctor'))
    const doctor = doctorToken?.certificates.find((c) => c.kind === 'doctor')
    await cert(doctor?.fullName ?? '').click()
    const pin = app.page.locator('[data-testid="pin-input"]')
    await pin.fill(doctorToken?.userPin ?? '')
    await pin.press('Enter')
    const error = app.page.locator('[data-testid="login-error"]')
    await error.waitFor()
    expect(await error.getAttribute('data-code')).toBe('PORTAL_UNREACHABLE')
    const text = (await error.textContent()) ?? ''
    expect(text).toContain('Портал недоступен')
    expect(text).toContain(portalUrl)
    expect(text).toContain('Проверьте подключение к сети')
    expect(text).not.toMatch(/ECONNREFUSED|Error:|CKR_/)
    // The PIN is gone from the field (and from the page) after the attempt.
    expect(await pin.inputValue()).toBe('')
  })
})
