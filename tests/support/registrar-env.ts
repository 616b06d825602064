// A registrar's world for tests: the reference portal over TLS with the demo register, seeded FHIR
// data for the demo clinic, and workstation cores (the real createAppCore with its own local
// store each) logged in as the demo registrar by password and one-time code.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OutboxChannel } from '../../portal/src/accounts/channels'
import { DEMO_PASSWORD_ACCOUNT } from '../../portal/src/demo-seed'
import { seedFhir } from '../../portal/src/fhir/seed'
import { startPortal, type StartedPortal } from '../../portal/src/server'
import { DEMO_ORGANISATIONS } from '../../scripts/demo/people'
import { createAppCore } from '../../src/main/core/app-core'
import { loadConfig, type AppConfig } from '../../src/main/core/config'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'

export const DEMO_OGRN = DEMO_ORGANISATIONS[0]!.ogrn

export interface RegistrarEnv {
  fx: TokenFixture
  portal: StartedPortal
  outbox: OutboxChannel
  close(): Promise<void>
}

export async function startRegistrarEnv(options: { patients?: number; portalOptions?: Record<string, unknown> } = {}): Promise<RegistrarEnv> {
  const fx = await createTokenFixture()
  process.env.SOFTHSM2_CONF = fx.conf
  const outbox = new OutboxChannel()
  const portal = await startPortal({ demo: fx.manifest, port: 0, otpChannel: outbox, rateLimit: false, ...options.portalOptions })
  if ((options.patients ?? 0) > 0) await seedFhir(portal.db, { patients: options.patients!, organisationOgrn: DEMO_OGRN, seed: 7 })
  return {
    fx,
    portal,
    outbox,
    async close() {
      await portal.close()
      fx.cleanup()
    },
  }
}

export type Core = ReturnType<typeof createAppCore>

/** A workstation: the real core with a store of its own (a fresh folder unless given). */
export function newWorkstation(env: RegistrarEnv, overrides: Partial<AppConfig> = {}, log: (line: string) => void = () => {}): Core {
  return createAppCore(
    loadConfig({
      env: { LKMR_CONFIG: '/nonexistent/config.json' },
      overrides: {
        useDefaultLibraries: false,
        tokenLibraries: [],
        portalUrl: env.portal.url,
        portalCaFile: env.fx.manifest.caCertPem,
        idleTimeoutMs: 0,
        // The tests drive sync themselves (sync.now); the schedule stays out of the way.
        syncIntervalMs: 3600_000,
        ...overrides,
        storeDir: overrides.storeDir ?? mkdtempSync(join(tmpdir(), 'lkmr-ws-')),
      },
    }),
    { transport: 'web', log },
  )
}

/** The newest code sent to `to`, as the person reads it. */
export function codeFor(env: RegistrarEnv, to: string): string {
  const text = env.outbox.list({ to })[0]?.text ?? ''
  const code = /(?<!\d)\d{6}(?!\d)/.exec(text)?.[0]
  if (!code) throw new Error(`no code sent to ${to}`)
  return code
}

/** Password + code login of the demo registrar; the sync engine starts with it. */
export async function loginRegistrar(env: RegistrarEnv, core: Core) {
  const sent = await core.handlers['auth.passwordStart']({ login: DEMO_PASSWORD_ACCOUNT.phone, password: DEMO_PASSWORD_ACCOUNT.password })
  return core.handlers['auth.passwordConfirm']({ otpId: sent.otpId, code: codeFor(env, DEMO_PASSWORD_ACCOUNT.phone) })
}
