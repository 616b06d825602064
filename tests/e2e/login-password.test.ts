// The password + one-time code route end to end with every part real: the built renderer in
// Debian's Chromium through the Node host, the real core, the reference portal over TLS on an
// embedded database with the demo outbox as code channel (shown in the «Демо: сообщения» panel,
// as `npm run demo` does). The registrar's account comes from the portal's demo seed; the nurse
// gets one here, the way an administrator's `portal set-password` makes it.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OutboxChannel } from '../../portal/src/accounts/channels'
import { hashPassword } from '../../portal/src/accounts/password'
import { setAccount } from '../../portal/src/accounts/store'
import { DEMO_PASSWORD_ACCOUNT } from '../../portal/src/demo-seed'
import { REGISTRAR } from '../../scripts/demo/people'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'
import { startPortalApp, type RunningApp } from './support/app'

let tokens: TokenFixture
let app: RunningApp
let stack: Awaited<ReturnType<typeof startPortalApp>>
const outbox = new OutboxChannel()
const NURSE = { phone: '+79005550101', typed: '8 900 555-01-01', password: 'Медсестра2025', newPassword: 'Весна2026Пароль' }
let nurseName: string

beforeAll(async () => {
  tokens = await createTokenFixture()
  stack = await startPortalApp(tokens, tokens.library, { portal: { otpChannel: outbox, rateLimit: false }, config: { demoOutbox: true } })
  app = stack.app
  const nurse = tokens.manifest.workers.find((w) => w.snils === tokens.cert('nurse').cert.snils)
  if (!nurse) throw new Error('no nurse in the demo register')
  nurseName = nurse.fullName
  await setAccount(stack.portal.db, { snils: nurse.snils, passwordHash: await hashPassword(NURSE.password), phone: NURSE.phone, now: new Date() })
})

afterAll(async () => {
  await stack?.close()
  tokens?.cleanup()
})

const page = () => app.page
const byId = (id: string) => page().locator(`[data-testid="${id}"]`)
const routeStep = () => byId('password-route').getAttribute('data-step')
/** Screenshots for a person to look at: LKMR_SCREENSHOT_DIR keeps them (the token folder is removed). */
const shot = (name: string) => page().screenshot({ path: join(process.env.LKMR_SCREENSHOT_DIR ?? tokens.dir, `${name}.png`), fullPage: true })

/** The code of the newest message to `to`, as its owner reads the SMS. */
function codeFor(to: string): string {
  const code = /(?<!\d)\d{6}(?!\d)/.exec(outbox.list({ to })[0]?.text ?? '')?.[0]
  if (!code) throw new Error(`no code sent to ${to}`)
  return code
}

async function typeCode(code: string): Promise<void> {
  await byId('otp-input').locator('input').first().click()
  await page().keyboard.type(code)
}

async function submitCredentials(login: string, password: string): Promise<void> {
  await byId('login-input').fill(login)
  await byId('password-input').fill(password)
  await byId('password-submit').click()
}

async function errorShown(): Promise<{ code: string | null; text: string }> {
  const e = byId('password-error')
  await e.waitFor()
  return { code: await e.getAttribute('data-code'), text: (await e.textContent()) ?? '' }
}

const RAW = /CKR_|Error:|\bat \w+ \(|[A-Z]{4,}_[A-Z_]{3,}/

describe('password + one-time code login in the real UI against the real portal', () => {
  it('offers the two ways in, the token route first', async () => {
    expect(await byId('login-method-token').textContent()).toBe('Электронная подпись')
    expect(await byId('login-method-password').textContent()).toBe('Логин и пароль')
    expect(await byId('cert-list').isVisible()).toBe(true)
    await shot('login-token-tab')
    await byId('login-method-password').click()
    await byId('password-form').waitFor()
    expect(await page().locator('h1').textContent()).toBe('Вход по логину и паролю')
    expect(await byId('demo-outbox').textContent()).toContain('Демо: сообщения')
    // A login that can match no account is refused before it costs a try.
    await submitCredentials('112-233-445 96', 'whatever')
    expect(await byId('pw-login-problem').textContent()).toContain('контрольное число')
    expect(await byId('password-error').count()).toBe(0)
  })

  it('refuses a wrong password in Russian and keeps what was typed', async () => {
    await submitCredentials('+7 900 123-45-67', 'not-the-password')
    const e = await errorShown()
    expect(e.code).toBe('CREDENTIALS_INVALID')
    expect(e.text).toContain('Неверный логин или пароль')
    expect(e.text).not.toMatch(RAW)
    expect(await byId('login-input').inputValue()).toBe('+7 900 123-45-67')
    expect(await byId('password-input').inputValue()).toBe('not-the-password')
    await shot('password-wrong')
  })

  it('asks for the code sent to the masked phone, counts wrong codes down, and logs in with the code from the demo panel', async () => {
    await byId('password-input').fill(DEMO_PASSWORD_ACCOUNT.password)
    await byId('password-submit').click()
    await byId('code-entry').waitFor()
    expect(await byId('code-destination').textContent()).toContain('+7 (9**) ***-**-67')
    expect(await byId('code-timer').textContent()).toMatch(/^Код действует ещё [45]:\d\d$/)
    // The demo panel shows the message the portal "sent".
    await expect.poll(async () => (await byId('demo-message-text').textContent()) ?? '', { timeout: 5000 }).toContain(codeFor(DEMO_PASSWORD_ACCOUNT.phone))
    await shot('password-code')

    const right = codeFor(DEMO_PASSWORD_ACCOUNT.phone)
    await typeCode(right === '000000' ? '111111' : '000000') // six digits submit at once
    const e = await errorShown()
    expect(e.code).toBe('OTP_INVALID')
    expect(e.text).toContain('Неверный код подтверждения')
    expect(e.text).toContain('Осталось попыток: 2')
    // Only the code field is emptied.
    expect(await byId('otp-input').locator('input').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value).join(''))).toBe('')
    expect(await routeStep()).toBe('code')

    await byId('demo-use-code').click()
    await byId('code-submit').click()
    await byId('shell').waitFor()
    expect(await byId('user-name').textContent()).toBe(REGISTRAR.fullName)
    expect(await byId('session-card').textContent()).toContain('Логин и пароль')
    expect(await page().content()).not.toContain(DEMO_PASSWORD_ACCOUNT.password)
  })

  it('shows the login history with methods and results in Russian', async () => {
    await byId('history-open').click()
    await page().locator('[data-testid="history"][data-state="ready"]').waitFor()
    const rows = byId('history-row')
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(4)
    const read = async (i: number) => [await rows.nth(i).getAttribute('data-method'), (await rows.nth(i).locator('td').allTextContents()).slice(1)]
    expect(await read(0)).toEqual(['otp', ['127.0.0.1', 'Код', 'Успешно']])
    expect(await read(1)).toEqual(['otp', ['127.0.0.1', 'Код', 'Неверный код подтверждения']])
    expect(await read(2)).toEqual(['password', ['127.0.0.1', 'Пароль', 'Успешно']])
    expect(await read(3)).toEqual(['password', ['127.0.0.1', 'Пароль', 'Неверный логин или пароль']])
    expect((await rows.nth(0).locator('td').first().textContent()) ?? '').toMatch(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$/)
    await shot('login-history')
    await byId('history-close').click()
    await byId('history').waitFor({ state: 'detached' })
    await byId('logout').click()
    // Back on the login screen, on the way this session was opened.
    await byId('password-form').waitFor()
  })

  it('lets a code that ran out of tries go, and sends a new one on request', async () => {
    await submitCredentials('registrar@poliklinika1.example', DEMO_PASSWORD_ACCOUNT.password)
    await byId('code-entry').waitFor()
    expect(await byId('code-destination').textContent()).toContain('r***@poliklinika1.example')
    const right = codeFor(DEMO_PASSWORD_ACCOUNT.email)
    const wrong = right === '000000' ? '111111' : '000000'
    for (const left of [2, 1]) {
      await typeCode(wrong)
      await expect.poll(async () => (await byId('password-error').textContent()) ?? '').toContain(`Осталось попыток: ${left}`)
    }
    await typeCode(wrong)
    await page().locator('[data-testid="code-entry"][data-state="dead"]').waitFor()
    expect((await errorShown()).code).toBe('OTP_EXPIRED')
    expect(await byId('code-timer').textContent()).toBe('Этот код больше не действует — запросите новый код.')
    expect(await byId('otp-input').locator('input').first().isDisabled()).toBe(true)
    // No waiting for a dead code: a new one can be asked for at once.
    await byId('code-resend').click()
    await byId('code-resent').waitFor()
    expect(await byId('password-error').count()).toBe(0)
    const fresh = codeFor(DEMO_PASSWORD_ACCOUNT.email)
    await typeCode(fresh)
    await byId('shell').waitFor()
    expect(await byId('user-name').textContent()).toBe(REGISTRAR.fullName)
    await byId('logout').click()
    await byId('password-form').waitFor()
  })

  it('locks the account after repeated failures and says until when', async () => {
    // Each refusal looks the same on screen: count the portal's answers to know it came.
    const refusals = async () =>
      (await stack.portal.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM login_attempts a JOIN accounts c ON c.snils = a.snils WHERE c.phone = $1 AND a.result = 'CREDENTIALS_INVALID'`,
        [NURSE.phone],
      ))[0]?.n
    for (let i = 1; i <= 4; i++) {
      await submitCredentials(NURSE.typed, `wrong-password-${i}`)
      await expect.poll(refusals).toBe(i)
      await expect.poll(async () => byId('password-error').getAttribute('data-code')).toBe('CREDENTIALS_INVALID')
    }
    await submitCredentials(NURSE.typed, 'wrong-password-5')
    await byId('password-locked').waitFor()
    const e = await errorShown()
    expect(e.code).toBe('ACCOUNT_LOCKED')
    expect(e.text).toContain('Учётная запись временно заблокирована')
    const rows = await stack.portal.db.query<{ locked_until: Date }>('SELECT locked_until FROM accounts WHERE phone = $1', [NURSE.phone])
    const until = rows[0]?.locked_until
    expect(until).toBeInstanceOf(Date)
    // The portal's time zone (Europe/Moscow), rounded up to the minute.
    const shown = new Intl.DateTimeFormat('ru-RU', { timeZone: 'Europe/Moscow', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
      new Date(Math.ceil((until as Date).getTime() / 60_000) * 60_000),
    )
    expect(e.text).toContain(`заблокирован до`)
    expect(e.text).toContain(shown)
    expect(e.text).toMatch(/примерно через (29|30) мин/)
    expect(e.text).not.toMatch(RAW)
    expect(await byId('locked-use-token').textContent()).toBe('Войти по электронной подписи')
    await shot('password-locked')
  })

  it('resets the password by a code from the lock screen, then logs in with the new one', async () => {
    await byId('locked-reset').click()
    await byId('reset-form').waitFor()
    expect(await byId('reset-login-input').inputValue()).toBe(NURSE.typed)
    await byId('reset-send').click()
    await byId('reset-confirm-form').waitFor()
    expect(await byId('code-destination').textContent()).toContain('+7 (9**) ***-**-01')
    await expect.poll(async () => (await byId('demo-message-text').textContent()) ?? '', { timeout: 5000 }).toContain('восстановления пароля')
    await byId('demo-use-code').click()

    // A weak password and a mismatch are pointed out before anything is sent.
    await byId('new-password-input').fill('short1')
    await byId('new-password-repeat').fill('short2')
    await byId('reset-save').click()
    const problems = byId('new-password-problems')
    expect(await problems.textContent()).toContain('Пароль короче 10 символов')
    expect(await problems.textContent()).toContain('Пароли не совпадают')
    expect(await routeStep()).toBe('resetCode')
    await shot('password-reset')

    await byId('new-password-input').fill(NURSE.newPassword)
    await byId('new-password-repeat').fill(NURSE.newPassword)
    expect(await problems.count()).toBe(0)
    await byId('reset-save').click()
    await byId('reset-done').waitFor()
    expect(await byId('reset-done').textContent()).toContain('Пароль изменён')
    await byId('reset-done-login').click()
    await byId('password-form').waitFor()
    expect(await byId('login-input').inputValue()).toBe(NURSE.typed)
    expect(await byId('password-input').inputValue()).toBe('')

    // The old password no longer works; the new one does (and the lock is gone).
    await byId('password-input').fill(NURSE.password)
    await byId('password-submit').click()
    expect((await errorShown()).code).toBe('CREDENTIALS_INVALID')
    await byId('password-input').fill(NURSE.newPassword)
    await byId('password-submit').click()
    await byId('code-entry').waitFor()
    await typeCode(codeFor(NURSE.phone))
    await byId('shell').waitFor()
    expect(await byId('user-name').textContent()).toBe(nurseName)

    await byId('history-open').click()
    await page().locator('[data-testid="history"][data-state="ready"]').waitFor()
    const methods = await byId('history-row').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-method')}:${r.getAttribute('data-result')}`))
    expect(methods.slice(0, 3)).toEqual(['otp:OK', 'password:OK', 'password:CREDENTIALS_INVALID'])
    expect(methods).toContain('reset:OK')
    expect(methods).toContain('password:ACCOUNT_LOCKED')
    expect(await byId('history').textContent()).toContain('Восстановление')
    await byId('history-close').click()
    await byId('logout').click()
    await byId('password-form').waitFor()
    expect(app.consoleErrors).toEqual([])
  })
})
