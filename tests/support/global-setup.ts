// Creates the demo PKI and SoftHSM tokens once per test run in a fresh folder, so every
// integration and end-to-end test meets real tokens and a real CA. Exposes the folder as DEMO_DIR.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'

let dir: string | undefined

export async function setup(project: TestProject): Promise<void> {
  // Developer shortcut for iterating on pure unit tests; CI and `npm test` never set it.
  if (process.env.LKMR_SKIP_DEMO === '1') return
  dir = mkdtempSync(join(tmpdir(), 'lkmr-demo-'))
  const { createDemo } = await import('../../scripts/demo/create-demo')
  const manifest = await createDemo({ dir })
  process.env.DEMO_DIR = dir
  process.env.SOFTHSM2_CONF = manifest.softhsmConf
  project.provide('demoDir', dir)
}

export async function teardown(): Promise<void> {
  if (dir && !process.env.KEEP_DEMO) rmSync(dir, { recursive: true, force: true })
}

declare module 'vitest' {
  export interface ProvidedContext {
    demoDir: string
  }
}
