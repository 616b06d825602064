// Build of the three parts of the app (`npx electron-vite build` → out/main, out/preload,
// out/renderer). Runs without the Electron binary.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'
import type { Plugin } from 'vite'
import { buildCsp } from './src/main/electron/policy'

const root = import.meta.dirname
const at = (p: string): string => resolve(root, p)

/** Native modules: loaded from node_modules at run time (unpacked from the asar), never bundled. */
const NATIVE = ['pkcs11js', 'better-sqlite3-multiple-ciphers']

// The token worker (PKCS#11) and the store worker (SQLite) run off the main thread; each is
// emitted as <name>.js next to index.js so the core can start it (core/worker-entry.ts).
const mainInput: Record<string, string> = { index: at('src/main/index.ts') }
for (const [name, file] of [
  ['token-worker', 'src/main/core/token/token-worker.ts'],
  ['store-worker', 'src/main/core/store/store-worker.ts'],
]) {
  if (existsSync(at(file!))) mainInput[name!] = at(file!)
}
// The same app without Electron (Node host + Chromium), run from its bundle by `npm run start:web`.
mainInput['start-web'] = at('src/main/host/start-web.ts')

/**
 * Keeps index.html's CSP <meta> identical to the policy the transports send as a header
 * (src/main/electron/policy.ts). The dev server gets the dev variant: Vite's React refresh
 * preamble is an inline script.
 */
function cspMeta(): Plugin {
  let dev = false
  return {
    name: 'lkmr-csp-meta',
    configResolved(config) {
      dev = config.command === 'serve'
    },
    transformIndexHtml(html) {
      const tag = /<meta http-equiv="Content-Security-Policy" content="[^"]*"\s*\/?>/
      if (!tag.test(html)) throw new Error('index.html must carry a Content-Security-Policy <meta> tag')
      return html.replace(tag, `<meta http-equiv="Content-Security-Policy" content="${buildCsp({ meta: true, dev })}" />`)
    },
  }
}

export default defineConfig({
  main: {
    build: {
      outDir: at('out/main'),
      // All package.json dependencies stay external (installed with the app), natives included.
      externalizeDeps: { include: NATIVE },
      rolldownOptions: {
        input: mainInput,
        output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: at('out/preload'),
      // Sandboxed preloads cannot be ES modules or require packages: one self-contained CJS file.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: at('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: at('src/renderer'),
    plugins: [react(), cspMeta()],
    build: {
      outDir: at('out/renderer'),
      minify: true,
      sourcemap: false,
      // No inline data: scripts or module-preload polyfill: the CSP allows 'self' scripts only.
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      rolldownOptions: {
        input: { index: at('src/renderer/index.html') },
      },
    },
  },
})
