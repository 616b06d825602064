// Offline work of a registrar on one workstation: an online login leaves a local credential; with
// the portal unreachable she logs in offline (marked so), registers a patient, and sync reports
// "offline" without losing it; once the portal answers and she logs in online again, the patient
// reaches the portal exactly once.
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PASSWORD_ACCOUNT } from '../../portal/src/demo-seed'
import { snilsWithChecksum } from '../../src/shared/validators'
import { rejection } from '../support/app-error'
import { loginRegistrar, newWorkstation, startRegistrarEnv, type Core, type RegistrarEnv } from '../support/registrar-env'

let env: RegistrarEnv
const cores: Core[] = []
const storeDir = mkdtempSync(join(tmpdir(), 'lkmr-offline-'))

/** A loopback port nobody listens on: the portal "switched off". */
async function deadPortalUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  return `https://127.0.0.1:${port}`
}

beforeAll(async () => {
  env = await startRegistrarEnv({ patients: 5 })
})
afterAll(async () => {
  for (const c of cores) await c.close()
  await env?.close()
})

function workstation(overrides: Parameters<typeof newWorkstation>[1] = {}): Core {
  const core = newWorkstation(env, { storeDir, ...overrides })
  cores.push(core)
  return core
}

describe('offline login and offline work', () => {
  it('refuses offline login to an account that never logged in online here', async () => {
    const core = workstation({ portalUrl: await deadPortalUrl() })
    await rejection(core.handlers['auth.offlineLogin']({ login: DEMO_PASSWORD_ACCOUNT.phone, password: DEMO_PASSWORD_ACCOUNT.password }), 'OFFLINE_LOGIN_UNAVAILABLE')
    await core.close()
  })

  it('logs in offline after an online login, keeps the work, and sends it once when back online', async () => {
    const online = workstation()
    await loginRegistrar(env, online)
    await online.handlers['sync.now']({})
    await online.handlers['auth.logout']({})
    await online.close()

    const offline = workstation({ portalUrl: await deadPortalUrl(), portalTimeoutMs: 1000 })
    await rejection(offline.handlers['auth.passwordStart']({ login: DEMO_PASSWORD_ACCOUNT.phone, password: DEMO_PASSWORD_ACCOUNT.password }), 'PORTAL_UNREACHABLE')
    await rejection(offline.handlers['auth.offlineLogin']({ login: '8 (900) 123-45-67', password: 'not-her-password' }), 'CREDENTIALS_INVALID')
    const session = await offline.handlers['auth.offlineLogin']({ login: '8 (900) 123-45-67', password: DEMO_PASSWORD_ACCOUNT.password })
    expect(session).toMatchObject({ offline: true, method: 'password', user: { fullName: 'Белова Светлана Игоревна' } })
    expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.now() + 6 * 86_400_000)
    // The cached clinic is there to work with.
    expect((await offline.handlers['patients.search']({ query: 'а', limit: 10 })).items.length).toBeGreaterThan(0)
    const snils = snilsWithChecksum('192837465')
    const patient = await offline.handlers['patients.save']({
      id: null,
      form: { family: 'Автономова', given: 'Ольга', patronymic: '', gender: 'female', birthDate: '1985-03-04', snils, oms: '', phone: '', address: '' },
    })
    const status = await offline.handlers['sync.now']({})
    expect(status).toMatchObject({ online: false, phase: 'offline', pending: 1 })
    await offline.handlers['auth.logout']({})
    await offline.close()

    const back = workstation()
    await loginRegistrar(env, back)
    const done = await back.handlers['sync.now']({})
    expect(done).toMatchObject({ online: true, phase: 'idle', pending: 0, conflicts: 0, rejected: 0 })
    const rows = await env.portal.db.query<{ id: string }>(
      `SELECT id FROM fhir_idx_token WHERE type = 'Patient' AND param = 'identifier' AND value = $1`,
      [snils],
    )
    expect(rows.map((r) => r.id)).toEqual([patient.id])
    const audit = await back.handlers['audit.list']({ resourceId: patient.id, limit: 10 })
    expect(audit[0]).toMatchObject({ user: 'Белова Светлана Игоревна', action: 'patient.create', resourceType: 'Patient' })
  })

  it('asks for an online login when the portal is back during an offline session, keeping the queue', async () => {
    const core = workstation()
    const session = await core.handlers['auth.offlineLogin']({ login: DEMO_PASSWORD_ACCOUNT.phone, password: DEMO_PASSWORD_ACCOUNT.password })
    expect(session.offline).toBe(true)
    await core.handlers['patients.save']({
      id: null,
      form: { family: 'Ожидающая', given: 'Вера', patronymic: '', gender: 'female', birthDate: '1979-09-09', snils: '', oms: '', phone: '', address: '' },
    })
    const status = await core.handlers['sync.now']({})
    expect(status).toMatchObject({ online: true, phase: 'needsLogin', pending: 1 })
    expect(status.lastError?.code).toBe('OFFLINE_SESSION')
  })
})
