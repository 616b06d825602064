// The real renderer through the real Node host and WebSocket bridge, in Chromium, driven by the
// contract-level core from tests/support/transport-core.ts. This covers what the transport and
// the UI must do for every state the contract can express — live token updates, each PIN
// situation (tries left, last try, locked, PIN pad), progress, errors from the catalogue, the
// shell and logout, and the security of the page itself. Real-token and real-portal outcomes are
// covered by the tests that run the real core (login-smoke.test.ts and the lead's suites).
import { request } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { CLOSE } from '../../src/shared/rpc/ws-protocol'
import { certificate, createTransportCore, DEMO_PIN, token, tokenState, type TransportCore } from '../support/transport-core'
import { startApp, type RunningApp } from './support/app'

const DOCTOR = { tokenId: 'tok-doc', tokenLabel: 'Рутокен ЭЦП 3.0', ckaId: '01', fullName: 'Иванов Сергей Петрович' }
const doctorId = `${DOCTOR.tokenId}/${DOCTOR.ckaId}`

function withDoctor(pin: Parameters<typeof token>[2] = {}) {
  return tokenState({ tokens: [token(DOCTOR.tokenId, DOCTOR.tokenLabel, pin)], certificates: [certificate(DOCTOR)] })
}

let core: TransportCore
let app: RunningApp

beforeAll(async () => {
  core = createTransportCore(withDoctor())
  app = await startApp(core)
})

afterAll(async () => {
  await app?.close()
})

beforeEach(async () => {
  // Each test starts logged out, on a fresh page.
  await core.handlers['auth.logout']({})
  core.outcomes.clear()
  core.stageDelayMs = 0
  core.setState(withDoctor({ triesLeft: 3 }))
  await app.page.reload()
  await app.page.locator('[data-testid="token-state"]:not([data-state="loading"])').waitFor()
})

const page = () => app.page
const panelState = () => page().locator('[data-testid="token-state"]').getAttribute('data-state')
const openDoctor = async () => {
  await page().locator(`[data-cert-id="${doctorId}"]`).click()
}
const typePin = async (pin: string) => {
  const input = page().locator('[data-testid="pin-input"]')
  await input.fill(pin)
  await input.press('Enter')
}

describe('token state, live', () => {
  it('follows a token pulled out and put back, without a reload', async () => {
    expect(await panelState()).toBe('certificates')
    core.setState(tokenState())
    await expect.poll(panelState).toBe('noToken')
    expect(await page().locator('[data-testid="panel-title"]').textContent()).toBe('Смарт-карта не найдена')
    expect(await page().locator('[data-testid="token-state"]').textContent()).toContain('Вставьте токен')
    core.setState(withDoctor())
    await expect.poll(panelState).toBe('certificates')
    expect(await page().locator('[data-testid="cert-name"]').textContent()).toBe(DOCTOR.fullName)
  })

  it('shows «Драйверы токенов не найдены» and the libraries tried', async () => {
    core.setState(
      tokenState({
        libraries: [
          { name: 'Рутокен ЭЦП', path: '/usr/lib/librtpkcs11ecp.so', source: 'default', state: 'missing', error: null, description: null, version: null },
          { name: 'JaCarta', path: '/usr/lib/libjcPKCS11-2.so', source: 'default', state: 'missing', error: null, description: null, version: null },
        ],
      }),
    )
    await expect.poll(panelState).toBe('noLibraries')
    expect(await page().locator('[data-testid="panel-title"]').textContent()).toBe('Драйверы токенов не найдены')
    expect(await page().locator('[data-testid="library-item"]').allTextContents()).toEqual([
      expect.stringContaining('Рутокен ЭЦП'),
      expect.stringContaining('JaCarta'),
    ])
  })

  it('names a library that failed, with the catalogue text', async () => {
    const path = '/opt/vendor/libbroken.so'
    core.setState(
      tokenState({
        libraries: [
          { name: 'JaCarta', path, source: 'configured', state: 'error', error: { code: 'TOKEN_LIBRARY_WRONG_ARCH', params: { path } }, description: null, version: null },
        ],
      }),
    )
    await expect.poll(panelState).toBe('noLibraries')
    const err = page().locator('[data-testid="library-error"]')
    expect(await err.getAttribute('data-code')).toBe('TOKEN_LIBRARY_WRONG_ARCH')
    expect(await err.textContent()).toContain(`Библиотека ${path} собрана для другой разрядности`)
  })

  it('«Обновить» asks the core to rescan', async () => {
    const before = core.calls.filter((c) => c === 'token.refresh').length
    await page().locator('[data-testid="refresh"]').click()
    await expect.poll(() => core.calls.filter((c) => c === 'token.refresh').length).toBe(before + 1)
  })
})

describe('PIN dialog', () => {
  it('counts tries down after wrong PINs, warns before the last one, then explains the lock', async () => {
    await openDoctor()
    expect(await page().locator('[data-testid="pin-tries"]').textContent()).toBe('Осталось 3 попытки ввода PIN-кода')
    await expect.poll(() => page().locator('[data-testid="pin-input"]').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true)

    await typePin('0000')
    const error = page().locator('[data-testid="login-error"]')
    await error.waitFor()
    expect(await error.getAttribute('data-code')).toBe('PIN_INCORRECT')
    expect(await error.textContent()).toContain('Неверный PIN-код')
    expect(await error.textContent()).toContain('Осталось 2 попытки ввода PIN-кода')
    expect(await page().locator('[data-testid="pin-input"]').inputValue()).toBe('')

    await typePin('1111')
    await expect.poll(() => page().locator('[data-testid="pin-warning"]').getAttribute('data-level')).toBe('finalTry')
    expect(await page().locator('[data-testid="pin-warning"]').textContent()).toContain('Последняя попытка')

    await typePin('2222')
    await expect.poll(() => error.getAttribute('data-code')).toBe('PIN_LOCKED')
    expect(await error.textContent()).toContain('PIN-код заблокирован')
    expect(await page().locator('[data-testid="pin-input"]').count()).toBe(0)
    await page().locator('[data-testid="pin-close"]').click()
    // The card tells of the lock too, and reopening shows the explanation, not a prompt.
    await openDoctor()
    expect(await page().locator('[data-testid="login-error"]').getAttribute('data-code')).toBe('PIN_LOCKED')
    expect(await page().locator('[data-testid="pin-input"]').count()).toBe(0)
  })

  it('warns about few tries left from the token flags before any attempt', async () => {
    core.setState(withDoctor({ countLow: true }))
    await openDoctor()
    expect(await page().locator('[data-testid="pin-warning"]').getAttribute('data-level')).toBe('countLow')
    expect(await page().locator('[data-testid="pin-warning"]').textContent()).toContain('Осталось мало попыток')
  })

  it('asks to type the PIN on the device for a PIN-pad token, without a field', async () => {
    core.setState(withDoctor({ protectedAuthPath: true }))
    core.holdAt = 'pin' // the device is "waiting for the PIN pad" until the test lets it go
    await openDoctor()
    expect(await page().locator('[data-testid="pin-input"]').count()).toBe(0)
    expect(await page().locator('[data-testid="pinpad-info"]').textContent()).toContain('Введите PIN-код на устройстве')
    await page().locator('[data-testid="pin-submit"]').click()
    await page().locator('[data-testid="login-progress"][data-stage="pin"] [data-testid="pinpad-prompt"]').waitFor()
    core.release()
    await page().locator('[data-testid="shell"]').waitFor()
  })

  it('shows the four login steps as the core reports them', async () => {
    const progress = page().locator('[data-testid="login-progress"]')
    core.holdAt = 'challenge'
    await openDoctor()
    await typePin(DEMO_PIN)
    // Each stage is held until the screen has shown it, then the next one is let through.
    for (const [stage, next] of [['challenge', 'pin'], ['pin', 'signing'], ['signing', 'verifying'], ['verifying', null]] as const) {
      await page().locator(`[data-testid="login-progress"][data-stage="${stage}"]`).waitFor()
      core.holdAt = next
      core.release()
    }
    await page().locator('[data-testid="shell"]').waitFor()
    expect(await progress.count()).toBe(0)
  })

  it('shows a portal refusal from the catalogue and offers another certificate, not the PIN', async () => {
    core.outcomes.set(doctorId, { code: 'WORKER_NOT_REGISTERED', params: {} })
    await openDoctor()
    await typePin(DEMO_PIN)
    const error = page().locator('[data-testid="login-error"]')
    await expect.poll(() => error.getAttribute('data-code')).toBe('WORKER_NOT_REGISTERED')
    expect(await error.textContent()).toContain('Недостаточные права доступа')
    expect(await error.textContent()).toContain('кадровой службе')
    expect(await page().locator('[data-testid="pin-input"]').count()).toBe(0)
    expect(await page().locator('[data-testid="pin-close"]').textContent()).toBe('Выбрать другой сертификат')
  })

  it('keeps the PIN field for errors a retry can fix', async () => {
    core.outcomes.set(doctorId, { code: 'CLOCK_SKEW', params: { skew: '7 мин' } })
    await openDoctor()
    await typePin(DEMO_PIN)
    const error = page().locator('[data-testid="login-error"]')
    await expect.poll(() => error.getAttribute('data-code')).toBe('CLOCK_SKEW')
    expect(await error.textContent()).toContain('отличается от времени портала на 7 мин')
    expect(await page().locator('[data-testid="pin-input"]').count()).toBe(1)
  })

  it('«Отменить» in the progress ends the login at once and gives the PIN field back', async () => {
    core.holdAt = 'pin'
    await openDoctor()
    await typePin(DEMO_PIN)
    await page().locator('[data-testid="login-progress"][data-stage="pin"]').waitFor()
    await page().locator('[data-testid="login-cancel"]').click()
    const error = page().locator('[data-testid="login-error"]')
    await expect.poll(() => error.getAttribute('data-code')).toBe('CANCELLED')
    expect(await error.textContent()).toContain('Операция отменена')
    expect(core.calls).toContain('auth.cancel')
    expect(await page().locator('[data-testid="login-progress"]').count()).toBe(0)
    await typePin(DEMO_PIN)
    await page().locator('[data-testid="shell"]').waitFor()
  })

  it('says the certificate is gone when its token is pulled out while the dialog is open', async () => {
    await openDoctor()
    core.setState(tokenState())
    const error = page().locator('[data-testid="login-error"]')
    await expect.poll(() => error.getAttribute('data-code')).toBe('CERTIFICATE_NOT_FOUND')
    core.setState(withDoctor())
    await page().locator('[data-testid="pin-input"]').waitFor()
  })
})

describe('after login', () => {
  it('shows the user, the session and the certificate; «Выйти» returns to the login screen', async () => {
    await openDoctor()
    await typePin(DEMO_PIN)
    await page().locator('[data-testid="shell"]').waitFor()
    expect(await page().locator('[data-testid="user-name"]').textContent()).toBe(DOCTOR.fullName)
    expect(await page().locator('[data-testid="user-box"]').textContent()).toContain('Врач-терапевт участковый')
    expect(await page().locator('[data-testid="session-expires"]').textContent()).toMatch(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$/)
    expect(await page().locator('[data-testid="session-cert"]').textContent()).toContain(DOCTOR.tokenLabel)
    await page().locator('[data-testid="logout"]').click()
    await page().locator('[data-testid="token-state"]').waitFor()
    expect(core.calls).toContain('auth.logout')
  })

  it('keeps the session across a page reload (the secret survives in the tab)', async () => {
    await openDoctor()
    await typePin(DEMO_PIN)
    await page().locator('[data-testid="shell"]').waitFor()
    await page().reload()
    await page().locator('[data-testid="shell"]').waitFor()
    await page().locator('[data-testid="logout"]').click()
    await page().locator('[data-testid="token-state"]').waitFor()
  })

  it('returns to login with a message when the session ends because the token was removed', async () => {
    await openDoctor()
    await typePin(DEMO_PIN)
    await page().locator('[data-testid="shell"]').waitFor()
    core.emit('auth.sessionEnded', { reason: 'tokenRemoved' })
    const notice = page().locator('[data-testid="session-ended"]')
    await notice.waitFor()
    expect(await notice.textContent()).toContain('токен извлечён')
  })
})

describe('idle lock', () => {
  it('returns to login with a message when the session ended for inactivity, and reports activity while logged in', async () => {
    await openDoctor()
    await typePin(DEMO_PIN)
    await page().locator('[data-testid="shell"]').waitFor()
    const before = core.calls.filter((c) => c === 'app.activity').length
    await page().mouse.move(200, 200)
    await page().keyboard.press('Shift')
    await expect.poll(() => core.calls.filter((c) => c === 'app.activity').length).toBeGreaterThan(before)
    core.emit('auth.sessionEnded', { reason: 'idle' })
    const notice = page().locator('[data-testid="session-ended"]')
    await notice.waitFor()
    expect(await notice.getAttribute('data-code')).toBe('idle')
    expect(await notice.textContent()).toContain('Сеанс завершён из-за бездействия')
    expect(await page().locator('[data-testid="shell"]').count()).toBe(0)
  })
})

describe('several tokens', () => {
  it('tells two certificates of the same owner apart by token serial and driver', async () => {
    const a = { ...DOCTOR, tokenId: '/usr/lib/librtpkcs11ecp.so#0A0B0C01', ckaId: 'a1' }
    const b = { ...DOCTOR, tokenId: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so#0A0B0C02', ckaId: 'b2' }
    const ta = { ...token(a.tokenId, DOCTOR.tokenLabel), serial: '0A0B0C01', libraryPath: '/usr/lib/librtpkcs11ecp.so', libraryName: 'Рутокен ЭЦП' }
    const tb = { ...token(b.tokenId, DOCTOR.tokenLabel), serial: '0A0B0C02', libraryPath: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', libraryName: 'OpenSC' }
    core.setState(tokenState({ tokens: [ta, tb], certificates: [certificate(a), certificate(b)] }))
    const cards = page().locator('[data-testid="cert-item"]')
    await expect.poll(() => cards.count()).toBe(2)
    expect((await cards.locator('[data-testid="cert-token-serial"]').allTextContents()).sort()).toEqual(['№ 0A0B0C01', '№ 0A0B0C02'])
    expect((await cards.locator('[data-testid="cert-token-library"]').allTextContents()).sort()).toEqual(['драйвер OpenSC', 'драйвер Рутокен ЭЦП'])
    expect(new Set(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-cert-id')))).size).toBe(2)
  })
})

describe('the page and its socket', () => {
  it('is served with a strict CSP that blocks inline script', async () => {
    const csp = await new Promise<string>((resolve, reject) => {
      request(app.host.url, (res) => {
        res.resume()
        resolve(String(res.headers['content-security-policy']))
      })
        .on('error', reject)
        .end()
    })
    expect(csp).toContain("script-src 'self'")
    // Runs in the page (a string, as this file is compiled without DOM types).
    const result = (await page().evaluate(`(async () => {
      const violations = []
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective))
      const s = document.createElement('script')
      s.textContent = 'window.__inlineRan = true'
      document.body.append(s)
      await new Promise((r) => setTimeout(r, 50))
      return { ran: window.__inlineRan === true, violations }
    })()`)) as { ran: boolean; violations: string[] }
    expect(result.ran).toBe(false)
    expect(result.violations.some((d) => d.startsWith('script-src'))).toBe(true)
    app.consoleErrors.length = 0 // the violation above is logged on purpose
  })

  it('shows a clear message when opened without the secret, and refuses a wrong one', async () => {
    const other = await app.context.newPage()
    await other.goto(app.host.url)
    await other.locator('[data-testid="connection-missing"]').waitFor()
    await other.goto(`${app.host.url}#k=${'A'.repeat(43)}`)
    await other.reload()
    await other.locator('[data-testid="connection-unauthorized"]').waitFor()
    await other.close()
  })

  it('refuses a socket from a foreign origin even with the secret', async () => {
    const ws = new WebSocket(app.host.url.replace('http:', 'ws:') + 'rpc', { origin: 'http://evil.example' })
    const outcome = await new Promise<string>((resolve) => {
      ws.on('open', () => resolve('open'))
      ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`))
      ws.on('error', () => resolve('error'))
    })
    expect(outcome).toBe('http 403')
    expect(CLOSE.unauthorized).toBe(4401)
  })

  // Last: it stops the host.
  it('tells the user when the connection to the program is lost', async () => {
    await app.host.close()
    await page().locator('[data-testid="connection-lost"]').waitFor()
    expect(await page().locator('[data-testid="connection-lost"]').textContent()).toContain('Нет связи с программой')
  })
})
