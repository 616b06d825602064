// Builds tests/support/workstation-child.ts the way the app ships its main process: one ESM bundle
// per entry (the child, the store worker, the token worker side by side, so core/worker-entry.ts
// finds `store-worker.js` next to the code starting it), packages left external and loaded from
// node_modules. A crash test starts hundreds of hosts: from the bundle one starts in a fraction of
// the time tsx needs to compile the core's sources in every new process (and again in its workers).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'

const ROOT = join(import.meta.dirname, '../..')

export interface ChildBundle {
  /** The child's entry (plain JavaScript, run with `node`). */
  entry: string
  remove(): void
}

export async function bundleWorkstationChild(): Promise<ChildBundle> {
  // Inside the project, so the external packages resolve from its node_modules.
  const dir = join(ROOT, 'node_modules', '.cache', 'lkmr-workstation-child', `${process.pid}-${Date.now()}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  await build({
    entryPoints: {
      'workstation-child': join(ROOT, 'tests/support/workstation-child.ts'),
      'store-worker': join(ROOT, 'src/main/core/store/store-worker.ts'),
      'token-worker': join(ROOT, 'src/main/core/token/token-worker.ts'),
    },
    outdir: dir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  })
  return { entry: join(dir, 'workstation-child.js'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}
