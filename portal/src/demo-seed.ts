// Loads the demo PKI and workers (scripts/demo, `npm run demo:tokens`) into the portal: the demo
// CA becomes trusted, its CRL is imported and the demo workers are registered. Idempotent. The
// manifest's second, untrusted CA is deliberately left out.
import { readFileSync } from 'node:fs'
import type { DemoManifest } from '../../scripts/demo/manifest'
import type { Db } from './db'
import { upsertWorker } from './register'
import { importCrl, trustCa } from './trust'

export interface SeedSummary {
  caFingerprint: string
  crlRevokedCount: number
  workers: number
}

export async function seedFromDemo(db: Db, manifest: DemoManifest, now: Date = new Date()): Promise<SeedSummary> {
  const ca = await trustCa(db, readFileSync(manifest.caCertPem, 'utf8'))
  const crl = await importCrl(db, new Uint8Array(readFileSync(manifest.crlDer)))
  await db.transaction(async (tx) => {
    for (const w of manifest.workers) await upsertWorker(tx, w, now)
  })
  return { caFingerprint: ca.fingerprint, crlRevokedCount: crl.revokedCount, workers: manifest.workers.length }
}
