// The registrar's screens end to end: a workstation (the real core with its own store) serving the
// built UI to Chromium, reaching the real portal through a loopback fault proxy (so a test can
// take the network away and give it back), the page driven as a registrar would, and the portal's
// own database read to check what arrived. Built on tests/support/registrar-env.ts.
import { join } from 'node:path'
import type { Locator, Page } from 'playwright-core'
import { expect } from 'vitest'
import { DEMO_PASSWORD_ACCOUNT } from '../../../portal/src/demo-seed'
import type { AppConfig } from '../../../src/main/core/config'
import { FHIR_SYSTEMS } from '../../../src/shared/fhir/systems'
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy'
import { codeFor, newWorkstation, type RegistrarEnv } from '../../support/registrar-env'
import { startApp, type RunningApp } from './app'

export type Json = Record<string, unknown>

/** A proxy in front of the env's portal: workstations pointed at it lose the network on 'refuse'. */
export function portalProxy(env: RegistrarEnv): Promise<FaultProxy> {
  const { port } = new URL(env.portal.url)
  return startFaultProxy({ target: { host: '127.0.0.1', port: Number(port) } })
}

/** A workstation (its own store unless `storeDir` is given) with the UI open in Chromium. */
export async function startRegistrarApp(env: RegistrarEnv, overrides: Partial<AppConfig> = {}): Promise<RunningApp> {
  const core = newWorkstation(env, overrides)
  try {
    const app = await startApp(core)
    // Fail fast with a locator message rather than at the test's own timeout.
    app.page.setDefaultTimeout(10_000)
    return app
  } catch (e) {
    await core.close()
    throw e
  }
}

export type Area = 'home' | 'patients' | 'schedule' | 'sync' | 'audit'

/** The element each area's screen shows once it is there. */
const AREA_SCREENS: Record<Area, string> = { home: 'session-card', patients: 'patients-page', schedule: 'schedule-page', sync: 'sync-page', audit: 'audit-page' }

/** The registrar at the keyboard: logs in, moves between screens, searches, syncs. */
export class RegistrarUi {
  constructor(
    readonly page: Page,
    private readonly env: RegistrarEnv,
    private readonly shotDir: string,
  ) {}

  byId(id: string): Locator {
    return this.page.locator(`[data-testid="${id}"]`)
  }

  /** Screenshots for a person to look at (LKMR_SCREENSHOT_DIR keeps them). */
  async shot(name: string): Promise<string> {
    const path = join(process.env.LKMR_SCREENSHOT_DIR ?? this.shotDir, `${name}.png`)
    // From the top: a full-page shot of a scrolled page draws the sticky header mid-page.
    await this.page.evaluate('window.scrollTo(0, 0)')
    await this.page.screenshot({ path, fullPage: true, animations: 'disabled' })
    return path
  }

  /** The «Логин и пароль» tab with login and password typed in, not yet sent. */
  async typeCredentials(login: string = DEMO_PASSWORD_ACCOUNT.phone, password: string = DEMO_PASSWORD_ACCOUNT.password): Promise<void> {
    if ((await this.byId('password-form').count()) === 0) await this.byId('login-method-password').click()
    await this.byId('password-form').waitFor()
    await this.byId('login-input').fill(login)
    await this.byId('password-input').fill(password)
  }

  /** Password, then the one-time code from the demo outbox, as she reads it from the SMS. */
  async loginOnline(): Promise<void> {
    await this.typeCredentials()
    await this.byId('password-submit').click()
    await this.byId('code-entry').waitFor()
    await this.byId('otp-input').locator('input').first().click()
    await this.page.keyboard.type(codeFor(this.env, DEMO_PASSWORD_ACCOUNT.phone))
    await this.byId('shell').waitFor()
  }

  async logout(): Promise<void> {
    await this.byId('logout').click()
    await this.byId('password-form').waitFor()
  }

  /** Opens an area from the navigation and waits for its screen (loaded lazily) to show. */
  async go(area: Area): Promise<void> {
    await this.byId(`nav-${area}`).click()
    await this.page.locator(`[data-testid="shell"][data-area="${area}"] [data-testid="${AREA_SCREENS[area]}"]`).waitFor()
  }

  /** The header's sync state as shown. */
  async syncState(): Promise<{ phase: string | null; pending: number | null; text: string }> {
    const s = this.byId('sync-status')
    const pending = await s.getAttribute('data-pending')
    return { phase: await s.getAttribute('data-phase'), pending: pending === null ? null : Number(pending), text: (await s.textContent()) ?? '' }
  }

  /** Waits until the header says everything is sent and sync is idle. */
  async waitAllSent(timeout = 20_000): Promise<void> {
    await expect.poll(async () => { const s = await this.syncState(); return `${s.phase}/${s.pending}` }, { timeout }).toBe('idle/0')
    expect(await this.byId('sync-pending').textContent()).toBe('Всё отправлено')
  }

  /** «Синхронизировать» in the header; waits until that run has answered. */
  async syncNow(): Promise<void> {
    const button = this.byId('sync-now')
    await expect.poll(() => button.isEnabled()).toBe(true)
    await button.click()
    await expect.poll(async () => (await button.getAttribute('class'))?.includes('ant-btn-loading') ?? false, { timeout: 20_000 }).toBe(false)
  }

  /** Types into the patient search (clearing it first) and waits for the answer to this text. */
  async search(text: string): Promise<void> {
    const box = this.byId('patient-search')
    await box.fill('')
    await box.pressSequentially(text, { delay: 20 })
    await this.page.locator(`[data-testid="patient-search-box"][data-state="ready"][data-query="${text.trim()}"]`).waitFor()
  }

  patientRow(id: string): Locator {
    return this.page.locator(`[data-testid="patient-row"][data-id="${id}"]`)
  }

  /** Types text into an input as a person does (key by key). */
  async type(testId: string, text: string): Promise<void> {
    const input = this.byId(testId)
    await input.fill('')
    await input.pressSequentially(text, { delay: 10 })
  }
}

// --- the portal's own view ----------------------------------------------------------------------

/** Current (not deleted) Patients on the portal carrying this СНИЛС. */
export async function portalPatientsBySnils(env: RegistrarEnv, snils: string): Promise<Array<{ id: string; version: number; body: Json }>> {
  const rows = await env.portal.db.query<{ id: string; version: number; body: string }>(
    `SELECT r.id, r.version, r.body FROM fhir_idx_token t JOIN fhir_resources r ON r.type = t.type AND r.id = t.id
     WHERE t.type = 'Patient' AND t.param = 'identifier' AND t.value = $1 AND NOT r.deleted`,
    [snils],
  )
  return rows.map((r) => ({ id: r.id, version: r.version, body: JSON.parse(r.body) as Json }))
}

/** One resource as the portal holds it now (null: not there or deleted). */
export async function portalResource(env: RegistrarEnv, type: string, id: string): Promise<Json | null> {
  const rows = await env.portal.db.query<{ body: string | null }>('SELECT body FROM fhir_resources WHERE type = $1 AND id = $2 AND NOT deleted', [type, id])
  const body = rows[0]?.body
  return body ? (JSON.parse(body) as Json) : null
}

/** Every current resource of a type on the portal. */
export async function portalResources(env: RegistrarEnv, type: string): Promise<Json[]> {
  const rows = await env.portal.db.query<{ body: string }>('SELECT body FROM fhir_resources WHERE type = $1 AND NOT deleted', [type])
  return rows.map((r) => JSON.parse(r.body) as Json)
}

/** Appointments on the portal booked (not cancelled) on this slot. */
export async function portalBookingsOfSlot(env: RegistrarEnv, slotId: string): Promise<Json[]> {
  const all = await portalResources(env, 'Appointment')
  return all.filter((a) => a.status !== 'cancelled' && JSON.stringify(a.slot ?? []).includes(`"Slot/${slotId}"`))
}

export interface PortalSlot {
  id: string
  scheduleId: string
  start: string
  status: string
}

export interface PortalDoctor {
  scheduleId: string
  name: string
  /** Free slots, soonest first. */
  free: PortalSlot[]
}

/** The clinic's doctors and their free slots as the portal has them (seeded by seedFhir). */
export async function portalDoctors(env: RegistrarEnv): Promise<PortalDoctor[]> {
  const schedules = await portalResources(env, 'Schedule')
  const slots = (await portalResources(env, 'Slot')).map((s) => ({
    id: String(s.id),
    scheduleId: /^Schedule\/(.+)$/.exec(String((s.schedule as Json | undefined)?.reference ?? ''))?.[1] ?? '',
    start: String(s.start),
    status: String(s.status),
  }))
  return schedules
    .map((s) => {
      const actor = (s.actor as Json[] | undefined)?.find((a) => String(a.reference ?? '').startsWith('Practitioner/'))
      const scheduleId = String(s.id)
      return {
        scheduleId,
        name: String(actor?.display ?? ''),
        free: slots.filter((x) => x.scheduleId === scheduleId && x.status === 'free').sort((a, b) => a.start.localeCompare(b.start)),
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'))
}

/** A seeded patient with a СНИЛС and a birth date, for searching. */
export async function portalSomePatient(env: RegistrarEnv): Promise<{ id: string; family: string; given: string; snils: string; birthDate: string }> {
  for (const p of await portalResources(env, 'Patient')) {
    const name = (p.name as Json[] | undefined)?.[0]
    const snils = (p.identifier as Json[] | undefined)?.find((i) => i.system === FHIR_SYSTEMS.snils)?.value
    const family = name?.family
    const given = (name?.given as string[] | undefined)?.[0]
    if (typeof family === 'string' && typeof given === 'string' && typeof snils === 'string' && typeof p.birthDate === 'string') {
      return { id: String(p.id), family, given, snils, birthDate: p.birthDate }
    }
  }
  throw new Error('no seeded patient with a СНИЛС and a birth date')
}

/** ISO date → ДД.ММ.ГГГГ, as the registrar types it. */
export const ruDate = (iso: string): string => `${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)}`
