// The login screen end to end with every part real: a private copy of the demo SoftHSM tokens,
// the real core (token worker, CAdES-BES on the token), the reference portal over TLS on an
// embedded database, the built renderer in Debian's Chromium through the Node host.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DemoCertKind } from '../../scripts/demo/manifest'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'
import { startPortalApp, type RunningApp } from './support/app'

let tokens: TokenFixture
let app: RunningApp

let stack: Awaited<ReturnType<typeof startPortalApp>>

beforeAll(async () => {
  tokens = await createTokenFixture()
  stack = await startPortalApp(tokens, tokens.library)
  app = stack.app
})

afterAll(async () => {
  await stack?.close()
  tokens?.cleanup()
})

const page = () => app.page
const certCard = (kind: DemoCertKind) => page().locator('[data-testid="cert-item"]', { hasText: tokens.cert(kind).cert.fullName })

/** Picks the certificate, types the PIN and waits for the shell or an error. */
async function attempt(kind: DemoCertKind, pin?: string): Promise<{ code: string | null; text: string }> {
  await certCard(kind).click()
  const input = page().locator('[data-testid="pin-input"]')
  await input.fill(pin ?? tokens.cert(kind).token.userPin)
  await input.press('Enter')
  const outcome = page().locator('[data-testid="shell"], [data-testid="login-error"]').first()
  await outcome.waitFor({ timeout: 15_000 })
  if ((await outcome.getAttribute('data-testid')) === 'shell') return { code: null, text: (await outcome.textContent()) ?? '' }
  return { code: await outcome.getAttribute('data-code'), text: (await outcome.textContent()) ?? '' }
}

/** A refusal that no PIN can fix ends the dialog with «Выбрать другой сертификат». */
async function chooseAnotherCertificate(): Promise<void> {
  await page().locator('[data-testid="pin-close"]').click()
  await page().locator('[data-testid="pin-dialog-body"]').waitFor({ state: 'detached' })
}

async function logout(): Promise<void> {
  await page().locator('[data-testid="logout"]').click()
  await page().locator('[data-testid="cert-list"]').waitFor()
}

describe('EDS login in the real UI against the real portal', () => {
  it('logs the doctor in and shows name, position and organisation, then logs out', async () => {
    const r = await attempt('doctor')
    expect(r.code).toBeNull()
    const doctor = tokens.manifest.workers.find((w) => w.snils === tokens.cert('doctor').cert.snils)
    const user = (await page().locator('[data-testid="user-box"]').textContent()) ?? ''
    expect(user).toContain(doctor?.fullName)
    expect(user).toContain(doctor?.position)
    expect(user).toContain(doctor?.organisation)
    await page().screenshot({ path: join(tokens.dir, 'shell.png') })
    await logout()
    expect(await page().locator('[data-testid="shell"]').count()).toBe(0)
  })

  it('logs the nurse in with an ECDSA key', async () => {
    expect((await attempt('nurse')).code).toBeNull()
    await logout()
  })

  const refusals: [DemoCertKind, string, string][] = [
    ['revoked', 'CERT_REVOKED', 'Сертификат отозван'],
    ['untrusted', 'CERT_UNTRUSTED', 'Недоверенный издатель'],
    ['unregistered', 'WORKER_NOT_REGISTERED', 'Недостаточные права доступа'],
    ['employmentEnded', 'WORKER_EMPLOYMENT_ENDED', 'Недостаточные права доступа'],
    ['noSnils', 'CERT_NO_SNILS', 'В сертификате нет СНИЛС'],
    ['expired', 'CERT_EXPIRED', 'Срок действия сертификата истёк'],
    ['notYetValid', 'CERT_NOT_YET_VALID', 'Сертификат ещё не действует'],
  ]
  it.each(refusals)('shows the %s certificate refused as %s in Russian with what to do', async (kind, code, title) => {
    const r = await attempt(kind)
    expect(r.code).toBe(code)
    expect(r.text).toContain(title)
    expect(r.text).not.toMatch(/CKR_|Error:|\bat \w+ \(|[A-Z]{4,}_[A-Z_]{3,}/)
    expect(await page().locator('[data-testid="pin-input"]').count()).toBe(0) // no second PIN prompt
    await chooseAnotherCertificate()
  })

  it('counts a wrong PIN down and warns that tries are running low, then accepts the right one', async () => {
    const wrong = await attempt('nurse', '0000')
    expect(wrong.code).toBe('PIN_INCORRECT')
    expect(wrong.text).toContain('Неверный PIN-код')
    // SoftHSM raises CKF_USER_PIN_COUNT_LOW after one wrong PIN: the error says tries are running low.
    expect(wrong.text).toContain('Осталось мало попыток')
    expect(await page().locator('[data-testid="pin-input"]').inputValue()).toBe('')
    const input = page().locator('[data-testid="pin-input"]')
    await input.fill(tokens.cert('nurse').token.userPin)
    await input.press('Enter')
    await page().locator('[data-testid="shell"]').waitFor()
    await logout()
  })

  it('sees a token pulled out and put back without a restart', async () => {
    const label = tokens.cert('doctor').token.label
    const t0 = Date.now()
    tokens.pull(label)
    await certCard('doctor').waitFor({ state: 'detached', timeout: 5000 })
    const goneMs = Date.now() - t0
    const t1 = Date.now()
    tokens.insert(label)
    await certCard('doctor').waitFor({ timeout: 5000 })
    const backMs = Date.now() - t1
    // Sanity bounds for a loaded CI machine (polling is every 500 ms); bench/ measures the figure.
    expect(goneMs).toBeLessThan(3000)
    expect(backMs).toBeLessThan(3000)
    // The re-inserted token works in the same app session.
    expect((await attempt('doctor')).code).toBeNull()
    await logout()
  })
})
