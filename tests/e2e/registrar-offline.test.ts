// The registrar without the network, end to end in the real UI: she logs in online once on this
// workstation; then the portal becomes unreachable (a loopback fault proxy between the
// workstation and the real portal starts refusing connections), the password step says so and
// «Войти без сети» lets her in; «Автономный режим» shows on every screen; what she registers
// waits on this computer and reaches the portal exactly once after an online login. The idle
// lock ends a session with changes waiting, and they are still there after the next login.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REGISTRAR } from '../../scripts/demo/people'
import { formatSnils, snilsWithChecksum } from '../../src/shared/validators/snils'
import type { FaultProxy } from '../support/fault-proxy'
import { startRegistrarEnv, type RegistrarEnv } from '../support/registrar-env'
import type { RunningApp } from './support/app'
import { portalPatientsBySnils, portalProxy, RegistrarUi, startRegistrarApp, type Area } from './support/registrar'

let env: RegistrarEnv
let proxy: FaultProxy
let app: RunningApp | null = null
let ui: RegistrarUi
/** One workstation: the same store folder across app restarts. */
const storeDir = mkdtempSync(join(tmpdir(), 'lkmr-e2e-offline-'))

beforeAll(async () => {
  env = await startRegistrarEnv({ patients: 10 })
  proxy = await portalProxy(env)
})

afterAll(async () => {
  await app?.close()
  await proxy?.close()
  await env?.close()
})

async function open(overrides: Parameters<typeof startRegistrarApp>[1] = {}): Promise<void> {
  await app?.close()
  app = await startRegistrarApp(env, { portalUrl: proxy.httpsUrl, portalTimeoutMs: 2000, storeDir, ...overrides })
  ui = new RegistrarUi(app.page, env, env.fx.dir)
}

const page = () => ui.page
const byId = (id: string) => ui.byId(id)

/** A new patient through «Пациенты» → «Новый пациент» → «Зарегистрировать»; its id. */
async function register(p: { family: string; given: string; birthDate: string; snils: string }): Promise<string> {
  await ui.go('patients')
  await byId('patient-new').click()
  await byId('patient-form').waitFor()
  await byId('field-family').fill(p.family)
  await byId('field-given').fill(p.given)
  await byId('field-birthDate').fill(p.birthDate)
  await byId('gender-female').click()
  await byId('field-snils').fill(formatSnils(p.snils))
  await byId('patient-save').click()
  await page().locator('[data-testid="patient-saved"][data-saved="created"]').waitFor()
  const id = (await byId('patient-card').getAttribute('data-id')) ?? ''
  expect(id).not.toBe('')
  return id
}

/** The password step with the portal unreachable, then «Войти без сети». */
async function loginOffline(): Promise<void> {
  await ui.typeCredentials('8 (900) 123-45-67')
  await byId('password-submit').click()
  const error = byId('password-error')
  await error.waitFor()
  expect(await error.getAttribute('data-code')).toBe('PORTAL_UNREACHABLE')
  expect(await error.textContent()).toContain('Портал недоступен')
  expect(await byId('offline-login').textContent()).toBe('Войти без сети')
  await byId('offline-login').click()
  await byId('shell').waitFor()
}

describe('offline work in the real UI', () => {
  const offlinePatient = { family: 'Автономова', given: 'Ольга', birthDate: '04.03.1985', snils: snilsWithChecksum('192837465') }

  it('logs in online once, then without the portal: «Войти без сети» and the mark on every screen', async () => {
    await open()
    await ui.loginOnline()
    await ui.waitAllSent()
    await ui.logout()

    proxy.setMode('refuse')
    await loginOffline()
    expect(await byId('user-name').textContent()).toBe(REGISTRAR.fullName)
    expect(await byId('session-card').textContent()).toContain('без сети')
    const mark = byId('offline-mark')
    expect(await mark.textContent()).toBe('Автономный режим')
    expect(await mark.getAttribute('data-reason')).toBe('session')
    // Offline work is the normal state here, not an error: the header says the portal is out of reach.
    expect(await byId('sync-offline').textContent()).toBe('Нет связи с порталом')
    expect(await byId('sync-error').count()).toBe(0)
    for (const area of ['patients', 'schedule', 'sync', 'audit', 'home'] satisfies Area[]) {
      await ui.go(area)
      expect(await mark.isVisible(), area).toBe(true)
    }
    // The cached clinic is there to work with.
    await ui.go('patients')
    await ui.search('а')
    expect(await page().locator('[data-testid="patient-row"]').count()).toBeGreaterThan(0)
    await ui.shot('registrar-offline')
  })

  it('keeps a patient registered offline until an online login, then sends it once', async () => {
    const id = await register(offlinePatient)
    expect(await byId('patient-title').textContent()).toBe('Автономова Ольга Не отправлено')
    await ui.syncNow()
    await expect.poll(async () => (await ui.syncState()).pending).toBe(1)
    const s = await ui.syncState()
    expect(s.phase).toBe('offline')
    expect(await byId('sync-status').getAttribute('data-online')).toBe('false')
    expect(await byId('sync-pending').textContent()).toBe('Не отправлено: 1')
    await ui.go('sync')
    expect(await byId('sync-summary-pending').textContent()).toBe('1')
    expect(await byId('sync-summary').textContent()).toContain('Нет связи с порталом')
    await ui.shot('registrar-offline-sync')
    expect(await portalPatientsBySnils(env, offlinePatient.snils)).toEqual([])

    proxy.setMode('pass')
    await ui.logout()
    await ui.loginOnline()
    expect(await byId('offline-mark').count()).toBe(0)
    await ui.syncNow()
    await ui.waitAllSent()
    expect((await portalPatientsBySnils(env, offlinePatient.snils)).map((p) => p.id)).toEqual([id])
    // Once only, also after another sync.
    await ui.syncNow()
    await ui.waitAllSent()
    expect(await portalPatientsBySnils(env, offlinePatient.snils)).toHaveLength(1)
    expect(app?.consoleErrors).toEqual([])
  })

  it('ends an idle session to the login screen and keeps the queued changes for the next login', async () => {
    const waiting = { family: 'Ожидаева', given: 'Вера', birthDate: '09.09.1979', snils: snilsWithChecksum('564738291') }
    await open({ idleTimeoutMs: 4000 })
    await ui.loginOnline()
    await ui.waitAllSent()
    // The network drops; the registration waits here.
    proxy.setMode('refuse')
    const id = await register(waiting)
    await expect.poll(async () => (await ui.syncState()).pending).toBe(1)

    // Nobody touches the workstation.
    const ended = byId('session-ended')
    await ended.waitFor({ timeout: 15_000 })
    expect(await ended.getAttribute('data-code')).toBe('idle')
    expect(await ended.textContent()).toContain('бездействия')
    await byId('password-form').waitFor()
    expect(await byId('shell').count()).toBe(0)

    // Still no network: in again without it; the change is still waiting.
    await loginOffline()
    await expect.poll(async () => (await ui.syncState()).pending).toBe(1)
    await ui.go('patients')
    await ui.search('ожидаева')
    expect(await ui.patientRow(id).getAttribute('data-change')).toBe('pending')

    proxy.setMode('pass')
    await ui.logout()
    await ui.loginOnline()
    await ui.syncNow()
    await ui.waitAllSent()
    expect((await portalPatientsBySnils(env, waiting.snils)).map((p) => p.id)).toEqual([id])
    expect(app?.consoleErrors).toEqual([])
  })
})
