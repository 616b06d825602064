// The app session and the token login end together: the real core (createAppCore: token worker,
// session manager, RPC handlers) against the reference portal over TLS, with the tokens behind
// the fault-injecting PKCS#11 module. Idle lock, token pulled while logged in, cancel of a slow
// login, one login at a time.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startPortal, type StartedPortal } from '../../portal/src/server'
import type { EventName } from '../../src/shared/rpc/contract'
import { createAppCore, type AppCore } from '../../src/main/core/app-core'
import { loadConfig } from '../../src/main/core/config'
import { createFaultsConfig, type FaultsConfig } from '../../src/main/core/token/testing/faults'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'
import type { TokenService } from '../../src/main/core/token/token-service'
import { rejection } from '../support/app-error'

const IDLE_MS = 1500
const DOCTOR = 'demo-doctor'

let fx: TokenFixture
let faults: FaultsConfig
let portal: StartedPortal
let core: AppCore & { tokens: TokenService }
const events: { at: number; event: EventName; payload: unknown }[] = []
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const doctorCert = (): string => {
  const { token, cert } = fx.cert('doctor')
  return `${faults.library}#${token.serial}/${cert.ckaId}`
}
const login = () => core.handlers['auth.loginWithCertificate']({ certificateId: doctorCert(), pin: fx.cert('doctor').token.userPin })

async function eventAfter(since: number, event: EventName, timeoutMs: number): Promise<{ at: number; payload: unknown }> {
  const t0 = performance.now()
  for (;;) {
    const hit = events.find((e) => e.at >= since && e.event === event)
    if (hit) return hit
    if (performance.now() - t0 > timeoutMs) throw new Error(`no ${event} within ${timeoutMs} ms`)
    await sleep(10)
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = performance.now()
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(20)
  }
}

beforeAll(async () => {
  fx = await createTokenFixture()
  faults = createFaultsConfig(fx)
  process.env.SOFTHSM2_CONF = fx.conf
  portal = await startPortal({ demo: fx.manifest, port: 0 })
  const config = loadConfig({
    overrides: {
      tokenLibraries: [faults.library],
      useDefaultLibraries: false,
      portalUrl: portal.url,
      portalCaFile: fx.manifest.caCertPem,
      idleTimeoutMs: IDLE_MS,
    },
  })
  core = createAppCore(config, { transport: 'web', log: () => {} })
  core.onEvent((event, payload) => events.push({ at: performance.now(), event, payload }))
  await core.handlers['token.state']({})
})

afterAll(async () => {
  await core?.close()
  await portal?.close()
  fx?.cleanup()
})

beforeEach(async () => {
  faults.set({})
  await core.handlers['auth.logout']({})
  await until(async () => (await core.handlers['token.state']({})).tokens.some((t) => t.label === DOCTOR), 5000, 'doctor token listed')
})

describe('idle lock', () => {
  it('ends the session with reason idle and logs the token out when nobody uses the workstation', async () => {
    const t0 = performance.now()
    const session = await login()
    expect(session.certificateId).toBe(doctorCert())
    expect(await core.tokens.loggedIn()).toHaveLength(1)
    const ended = await eventAfter(t0, 'auth.sessionEnded', IDLE_MS + 5000)
    expect(ended.payload).toEqual({ reason: 'idle' })
    expect(ended.at - t0).toBeGreaterThanOrEqual(IDLE_MS - 50)
    await until(async () => (await core.tokens.loggedIn()).length === 0, 3000, 'token logged out')
    expect(await core.handlers['auth.session']({})).toBeNull()
  })

  it('activity from the UI (app.activity, or any call) keeps the session open', async () => {
    const t0 = performance.now()
    await login()
    for (let i = 0; i < 6; i++) {
      await sleep(IDLE_MS / 3)
      await (i % 2 === 0 ? core.handlers['app.activity']({}) : core.handlers['token.state']({}))
    }
    // Twice the timeout has passed with activity in between: still logged in.
    expect(performance.now() - t0).toBeGreaterThan(2 * IDLE_MS)
    expect(events.some((e) => e.at >= t0 && e.event === 'auth.sessionEnded')).toBe(false)
    expect(await core.handlers['auth.session']({})).not.toBeNull()
    const quiet = performance.now()
    const ended = await eventAfter(quiet, 'auth.sessionEnded', IDLE_MS + 5000)
    expect(ended.payload).toEqual({ reason: 'idle' })
  })
})

describe('the session token pulled out', () => {
  it('ends the app session with reason tokenRemoved and drops the token login', async () => {
    await login()
    const t0 = performance.now()
    faults.set({ [DOCTOR]: { present: false } })
    const ended = await eventAfter(t0, 'auth.sessionEnded', 5000)
    expect(ended.payload).toEqual({ reason: 'tokenRemoved' })
    expect(ended.at - t0).toBeLessThan(3000) // polled every 500 ms; a sanity bound only
    expect(await core.handlers['auth.session']({})).toBeNull()
    expect(await core.tokens.loggedIn()).toEqual([])
    // Put back, the same app logs in again.
    faults.set({})
    await until(async () => (await core.handlers['token.state']({})).tokens.some((t) => t.label === DOCTOR), 5000, 'doctor back')
    expect((await login()).certificateId).toBe(doctorCert())
  })
})

describe('cancel', () => {
  it('auth.cancel ends a slow login at once; the token is left logged out; the next login works', async () => {
    expect(await core.handlers['auth.cancel']({})).toEqual({ cancelled: false })
    faults.set({ [DOCTOR]: { 'latency.C_Login': 3000 } })
    const t0 = performance.now()
    const pending = login()
    await eventAfter(t0, 'auth.progress', 5000)
    await until(async () => events.some((e) => e.at >= t0 && e.event === 'auth.progress' && (e.payload as { stage: string }).stage === 'pin'), 5000, 'pin stage')
    // One login at a time.
    await rejection(login(), 'BUSY')
    const c0 = performance.now()
    expect(await core.handlers['auth.cancel']({})).toEqual({ cancelled: true })
    await rejection(pending, 'CANCELLED')
    expect(performance.now() - c0).toBeLessThan(1000) // the 3 s C_Login is still running
    expect(await core.handlers['auth.session']({})).toBeNull()
    // The worker finishes C_Login, then logs the token out.
    expect(await core.tokens.loggedIn()).toEqual([])
    faults.set({})
    expect((await login()).certificateId).toBe(doctorCert())
  })

  it('a cancel during signing lets C_Sign finish and leaves nothing active behind', async () => {
    faults.set({ [DOCTOR]: { 'latency.C_Sign': 2000 } })
    const t0 = performance.now()
    const pending = login()
    await until(async () => events.some((e) => e.at >= t0 && e.event === 'auth.progress' && (e.payload as { stage: string }).stage === 'signing'), 5000, 'signing stage')
    await sleep(200)
    await core.handlers['auth.cancel']({})
    await rejection(pending, 'CANCELLED')
    expect(await core.tokens.loggedIn()).toEqual([])
    faults.set({})
    expect((await login()).certificateId).toBe(doctorCert())
  })
})
