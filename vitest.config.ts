import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'portal/**/*.test.ts', 'scripts/**/*.test.ts', 'native/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'out/**'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default', './tests/support/summary-reporter.ts'],
    pool: 'forks',
  },
})
