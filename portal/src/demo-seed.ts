// Loads the demo PKI and workers (scripts/demo, `npm run demo:tokens`) into the portal: the demo
// CA becomes trusted, its CRL is imported and the demo workers are registered; the registrar (who
// has no token) gets a password account. Idempotent. The manifest's second, untrusted CA is
// deliberately left out.
import { readFileSync } from 'node:fs'
import type { DemoManifest, DemoOrganisation } from '../../scripts/demo/manifest'
import { DEMO_ORGANISATIONS } from '../../scripts/demo/people'
import type { Db } from './db'
import { addDepartment, upsertOrganisation } from './organisations'
import { upsertWorker } from './register'
import { hashPassword, verifyPassword } from './accounts/password'
import { findAccount, setAccount } from './accounts/store'
import { importCrl, trustCa } from './trust'

export interface SeedSummary {
  caFingerprint: string
  crlRevokedCount: number
  organisations: number
  workers: number
  /** СНИЛС of the worker given DEMO_PASSWORD_ACCOUNT, or null (a manifest without a registrar). */
  passwordAccount: string | null
}

/**
 * The demo's password login (README, printed by `serve --demo`): phone or e-mail (or the СНИЛС)
 * and this password; the code lands in the demo outbox. Seeding puts the password back if it was
 * changed (a tried-out reset), so the documented one always works.
 */
export const DEMO_PASSWORD_ACCOUNT = {
  phone: '+79001234567',
  email: 'registrar@poliklinika1.example',
  password: 'demo12345678',
} as const

export async function seedFromDemo(db: Db, manifest: DemoManifest, now: Date = new Date()): Promise<SeedSummary> {
  const ca = await trustCa(db, readFileSync(manifest.caCertPem, 'utf8'))
  const crl = await importCrl(db, new Uint8Array(readFileSync(manifest.crlDer)))
  const organisations = demoOrganisations(manifest)
  await db.transaction(async (tx) => {
    // Organisations and departments first: workers name their department.
    for (const { departments, ...org } of organisations) {
      await upsertOrganisation(tx, org, now)
      for (const name of departments) await addDepartment(tx, org.ogrn, name)
    }
    for (const w of manifest.workers) await upsertWorker(tx, w, now)
  })
  const registrar = manifest.workers.find((w) => w.roles.includes('registrar') && w.employment === 'active')
  if (registrar) {
    const { password, ...contacts } = DEMO_PASSWORD_ACCOUNT
    // Left alone while it still has the demo password: a new one would end its live sessions.
    const existing = await findAccount(db, registrar.snils)
    if (!existing || !(await verifyPassword(existing.passwordHash, password))) {
      await setAccount(db, { snils: registrar.snils, passwordHash: await hashPassword(password), ...contacts, now })
    }
  }
  return {
    caFingerprint: ca.fingerprint,
    crlRevokedCount: crl.revokedCount,
    organisations: organisations.length,
    workers: manifest.workers.length,
    passwordAccount: registrar?.snils ?? null,
  }
}

/** The manifest's organisations; a demo folder made before they were listed gets the built-in ones its workers refer to. */
function demoOrganisations(manifest: DemoManifest): DemoOrganisation[] {
  return manifest.organisations ?? DEMO_ORGANISATIONS.filter((o) => manifest.workers.some((w) => w.organisationOgrn === o.ogrn))
}
