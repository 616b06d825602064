// Starting worker threads from source (development, tests: a .ts entry through tsx) or from the
// bundle (the app: a .js emitted by electron-vite next to index.js). Shared by the token worker
// and the store worker.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/**
 * A worker's entry: the bundled `<name>.js` (emitted next to the main bundle's entries; the
 * module starting it may sit one level down, in the bundle's chunks/), else the TypeScript
 * source `<name>.ts` beside that module (development, tests). `base` is the caller's
 * import.meta.url.
 */
export function resolveWorkerEntry(name: string, base: string): URL {
  for (const candidate of [`./${name}.js`, `../${name}.js`]) {
    const js = new URL(candidate, base)
    if (existsSync(fileURLToPath(js))) return js
  }
  return new URL(`./${name}.ts`, base)
}

/** File URL of tsx's ESM API (`register()`), read from tsx's own exports map. */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url)
  const pkgFile = require.resolve('tsx/package.json')
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> }
  const rel = pkg.exports?.['./esm/api']?.import?.default
  if (!rel) throw new Error('tsx has no ./esm/api export')
  return pathToFileURL(join(dirname(pkgFile), rel)).href
}

/**
 * How to start the worker. A bundled .js starts as it is. A .ts entry (development, tests) does
 * not: on Node 20 a worker does not get the parent's tsx hooks for its entry module even when it
 * inherits `--import tsx` (verified with tsx 4.23: "Unknown file extension .ts"), so a tiny
 * bootstrap registers tsx in the worker first and then imports the entry.
 */
export function workerStart(entry: URL): { target: URL | string; eval: boolean } {
  if (!entry.pathname.endsWith('.ts')) return { target: entry, eval: false }
  const api = tsxEsmApi()
  const code =
    `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })` +
    `.catch((e) => { setImmediate(() => { throw e }) })`
  return { target: code, eval: true }
}

/** Starts the worker at `entry` (see workerStart) with its data. */
export function startWorker(entry: URL, name: string, workerData: unknown): Worker {
  const how = workerStart(entry)
  // A bundled worker is plain JavaScript: it must not inherit the parent's loader flags (tsx
  // under the CLI or benchmark costs ~60 ms of start-up); the .ts bootstrap registers its own.
  return new Worker(how.target, { eval: how.eval, workerData, name, ...(how.eval ? {} : { execArgv: [] }) })
}
