// Process boundaries are enforced here, as Signal Desktop and VS Code do: the build fails when
// the renderer reaches for Node or Electron, when core code imports `electron`, or when the
// preload grows beyond exposing the contract.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import { builtinModules } from 'node:module'

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)]

const restrict = (paths, patterns, message) => ({
  'no-restricted-imports': ['error', {
    paths: paths.map((name) => ({ name, message })),
    patterns: patterns.map((group) => ({ group: [group], message })),
  }],
})

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.demo/**', 'native/**/build/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // The renderer is a web page: no Node, no Electron, no main-process code.
    files: ['src/renderer/**/*.{ts,tsx}'],
    rules: restrict(
      ['electron', ...nodeBuiltins],
      ['**/main/**', '**/preload/**', 'pkcs11js', 'better-sqlite3*', 'fastify', 'pg', '@electric-sql/*', 'ws'],
      'The renderer is sandboxed web code: talk to the core through the RPC contract (window.bridge).',
    ),
  },
  {
    // Shared code runs in the renderer too.
    files: ['src/shared/**/*.ts'],
    rules: restrict(
      ['electron', ...nodeBuiltins],
      ['**/main/**', '**/preload/**', '**/renderer/**', 'pkcs11js', 'better-sqlite3*'],
      'src/shared is imported by the renderer: keep it free of Node, Electron and process-specific code.',
    ),
  },
  {
    // Core services, the portal, scripts, benchmarks and tests run in plain Node.
    files: ['src/main/core/**/*.ts', 'src/main/host/**/*.ts', 'src/main/cli/**/*.ts', 'portal/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'tests/**/*.ts'],
    rules: restrict(['electron'], ['electron/*', '**/renderer/**', '**/preload/**'], 'Core code must run without Electron (vitest, Node host, CLI): keep `electron` in src/main/electron.'),
  },
  {
    // The preload only exposes the contract: a couple of lines of glue, no logic.
    files: ['src/preload/**/*.ts'],
    rules: {
      ...restrict(
        [...nodeBuiltins],
        ['**/main/**', '**/renderer/**'],
        'The preload exposes the RPC contract only; logic belongs in the main process.',
      ),
      'max-lines': ['error', { max: 40, skipBlankLines: true, skipComments: true }],
      complexity: ['error', 3],
      'max-depth': ['error', 1],
    },
  },
)
