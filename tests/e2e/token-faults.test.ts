// Real token behaviour in the real UI: Chromium → Node host → the real core → pkcs11js → the
// fault-injecting PKCS#11 module (native/pkcs11-faults) → SoftHSM2 (a private token copy), and
// the reference portal over TLS. The module's configuration is rewritten while the app runs:
// a PIN that locks after three wrong tries, a token pulled out in the middle of the signature and
// put back into another slot, a slow token whose login is cancelled.
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { DemoCertKind } from '../../scripts/demo/manifest'
import { createFaultsConfig, type FaultsConfig } from '../../src/main/core/token/testing/faults'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'
import { startPortalApp, type RunningApp } from './support/app'

const DOCTOR = 'demo-doctor'
const NURSE = 'demo-nurse'

let tokens: TokenFixture
let faults: FaultsConfig
let app: RunningApp

let stack: Awaited<ReturnType<typeof startPortalApp>>

beforeAll(async () => {
  tokens = await createTokenFixture()
  faults = createFaultsConfig(tokens)
  stack = await startPortalApp(tokens, faults.library)
  app = stack.app
})

afterAll(async () => {
  await stack?.close()
  tokens?.cleanup()
})

beforeEach(() => {
  faults.set({})
})

const page = () => app.page
const certCard = (kind: DemoCertKind) => page().locator('[data-testid="cert-item"]', { hasText: tokens.cert(kind).cert.fullName })
const pinInput = () => page().locator('[data-testid="pin-input"]')
const loginError = () => page().locator('[data-testid="login-error"]')

async function typePin(pin: string): Promise<void> {
  await pinInput().fill(pin)
  await pinInput().press('Enter')
}

/** Waits for the dialog to end busy with an error (its code) or for the shell (null). */
async function outcome(timeout = 15_000): Promise<{ code: string | null; text: string }> {
  const el = page().locator('[data-testid="shell"], [data-testid="login-error"]').first()
  await el.waitFor({ timeout })
  if ((await el.getAttribute('data-testid')) === 'shell') return { code: null, text: '' }
  return { code: await el.getAttribute('data-code'), text: (await el.textContent()) ?? '' }
}

async function closeDialog(): Promise<void> {
  await page().locator('[data-testid="pin-close"], [data-testid="pin-cancel"]').first().click()
  await page().locator('[data-testid="pin-dialog-body"]').waitFor({ state: 'detached' })
}

async function logout(): Promise<void> {
  await page().locator('[data-testid="logout"]').click()
  await page().locator('[data-testid="cert-list"]').waitFor()
}

describe('a PIN that locks (3 tries, like many smart cards)', () => {
  it('counts down, warns before the last try, then shows the locked state with what to do and no prompt', async () => {
    faults.set({ [NURSE]: { pin_retries: 3 } })
    await certCard('nurse').click()
    await typePin('0000')
    let r = await outcome()
    expect(r.code).toBe('PIN_INCORRECT')
    expect(r.text).toContain('Неверный PIN-код')
    expect(r.text).toContain('Осталось мало попыток')
    expect(await page().locator('[data-testid="pin-warning"][data-level="finalTry"]').count()).toBe(0)

    await typePin('0000')
    r = await outcome()
    expect(r.code).toBe('PIN_INCORRECT')
    // Before the final attempt: the warning that it is the last one, and exactly one try left.
    const warning = page().locator('[data-testid="pin-warning"][data-level="finalTry"]')
    await warning.waitFor()
    expect(await warning.textContent()).toContain('Последняя попытка')
    expect(r.text).toContain('Осталась 1 попытка ввода PIN-кода')
    expect(await pinInput().isVisible()).toBe(true)
    await page().screenshot({ path: join(tokens.dir, 'pin-final-try.png') })

    await typePin('0000')
    r = await outcome()
    expect(r.code).toBe('PIN_LOCKED')
    expect(r.text).toContain('PIN-код заблокирован')
    expect(r.text).toContain('администратор')
    expect(r.text).toContain('удостоверяющий центр')
    expect(r.text).not.toMatch(/CKR_|[A-Z]{4,}_[A-Z_]{3,}/)
    expect(await pinInput().count()).toBe(0)
    await page().screenshot({ path: join(tokens.dir, 'pin-locked.png') })
    await closeDialog()

    // The card says it, and choosing it again shows the locked state — never another prompt.
    await expect.poll(() => certCard('nurse').textContent()).toContain('PIN-код заблокирован')
    await certCard('nurse').click()
    await loginError().waitFor()
    expect(await loginError().getAttribute('data-code')).toBe('PIN_LOCKED')
    expect(await pinInput().count()).toBe(0)
    expect(await page().locator('[data-testid="pin-submit"]').count()).toBe(0)
    await closeDialog()
  })
})

describe('a token pulled out and put back', () => {
  it('pulled during the signature: the login ends with «Токен извлечён» and the certificate leaves the list', async () => {
    // Each signature takes 4 s, long enough to pull the token in the middle of it.
    faults.set({ [DOCTOR]: { 'latency.C_Sign': 4000 } })
    await certCard('doctor').click()
    await typePin(tokens.cert('doctor').token.userPin)
    await page().locator('[data-testid="login-progress"][data-stage="signing"]').waitFor()
    const t0 = Date.now()
    faults.set({ [DOCTOR]: { present: false, 'latency.C_Sign': 4000 } })
    const r = await outcome()
    expect(r.code).toBe('TOKEN_REMOVED')
    expect(r.text).toContain('Токен извлечён')
    expect(Date.now() - t0).toBeLessThan(3500) // the signature did not run its 4 s to the end
    await page().screenshot({ path: join(tokens.dir, 'token-removed.png') })
    // The message stays while the list updates (the certificate is gone with its token).
    await certCard('doctor').waitFor({ state: 'detached', timeout: 3000 })
    expect(await loginError().getAttribute('data-code')).toBe('TOKEN_REMOVED')
    await closeDialog()
    expect(await page().locator('[data-testid="shell"]').count()).toBe(0)
  })

  it('put back into another slot: it is listed again and logs in in the same app session', async () => {
    const t0 = Date.now()
    faults.set({ [DOCTOR]: { slot: 77 } })
    await certCard('doctor').waitFor({ timeout: 5000 })
    expect(Date.now() - t0).toBeLessThan(3000) // sanity bound; polling is every 500 ms
    await certCard('doctor').click()
    await typePin(tokens.cert('doctor').token.userPin)
    expect((await outcome()).code).toBeNull()
  })

  it('pulled while logged in: the session ends and the login screen says why', async () => {
    await page().locator('[data-testid="shell"]').waitFor()
    faults.set({ [DOCTOR]: { slot: 77, present: false } })
    const notice = page().locator('[data-testid="session-ended"]')
    await notice.waitFor({ timeout: 5000 })
    expect(await notice.getAttribute('data-code')).toBe('tokenRemoved')
    expect(await notice.textContent()).toContain('токен извлечён')
    expect(await page().locator('[data-testid="shell"]').count()).toBe(0)
    faults.set({})
    await certCard('doctor').waitFor({ timeout: 5000 })
  })
})

describe('a slow token', () => {
  it('shows progress, and «Отменить» ends the login at once; the next login works', async () => {
    faults.set({ [DOCTOR]: { 'latency.C_Login': 4000 } })
    await certCard('doctor').click()
    await typePin(tokens.cert('doctor').token.userPin)
    await page().locator('[data-testid="login-progress"][data-stage="pin"]').waitFor()
    // The UI stays responsive while the token works: the list can be read, the button pressed.
    expect(await page().locator('[data-testid="cert-item"]').count()).toBeGreaterThan(0)
    const cancel = page().locator('[data-testid="login-cancel"]')
    expect(await cancel.textContent()).toContain('Отменить')
    const t0 = Date.now()
    await cancel.click()
    const r = await outcome()
    expect(r.code).toBe('CANCELLED')
    expect(r.text).toContain('Операция отменена')
    expect(Date.now() - t0).toBeLessThan(2500) // C_Login itself still runs for 4 s
    await page().screenshot({ path: join(tokens.dir, 'login-cancelled.png') })
    // The PIN can be entered again; the core waits for the slow C_Login and logs the token out
    // before this login runs.
    faults.set({})
    expect(await pinInput().isVisible()).toBe(true)
    await typePin(tokens.cert('doctor').token.userPin)
    expect((await outcome(20_000)).code).toBeNull()
    await logout()
  })

  it('says the token is slow when a step takes seconds', async () => {
    faults.set({ [DOCTOR]: { 'latency.C_Sign': 6000 } })
    await certCard('doctor').click()
    await typePin(tokens.cert('doctor').token.userPin)
    await page().locator('[data-testid="login-progress"][data-stage="signing"]').waitFor()
    const slow = page().locator('[data-testid="login-slow"]')
    await slow.waitFor({ timeout: 6000 })
    expect(await slow.textContent()).toContain('Токен отвечает медленно')
    await page().locator('[data-testid="login-cancel"]').click()
    expect((await outcome()).code).toBe('CANCELLED')
    faults.set({})
    await closeDialog()
  })
})
