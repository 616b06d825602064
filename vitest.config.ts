import { defineConfig } from 'vitest/config'

// `npm test` starts a throwaway PostgreSQL server (scripts/postgres-for-tests.sh) and sets this:
// the portal suite then runs a second time against it, with the same tests as on PGlite.
const postgresUrl = process.env.LKMR_TEST_POSTGRES_URL
// Per project, not at the root: an extending project would merge the root list into its own.
const ALL_TESTS = ['src/**/*.test.ts', 'portal/**/*.test.ts', 'scripts/**/*.test.ts', 'native/**/*.test.ts', 'tests/**/*.test.ts']

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'all', include: ALL_TESTS } },
      ...(postgresUrl
        ? [{ extends: true as const, test: { name: 'portal-postgres', include: ['portal/test/**/*.test.ts'], env: { PORTAL_TEST_DATABASE_URL: postgresUrl } } }]
        : []),
    ],
    exclude: ['**/node_modules/**', 'out/**'],
    globalSetup: ['tests/support/global-setup.ts'],
    setupFiles: ['tests/support/isolated-data.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default', './tests/support/summary-reporter.ts'],
    pool: 'forks',
  },
})
