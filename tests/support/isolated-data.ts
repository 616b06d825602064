// Each test file gets its own data folder: a core created without `storeDir` opens its local store
// under XDG_DATA_HOME, and test files must not share (or leave behind) one store.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'lkmr-data-'))
process.env.XDG_DATA_HOME = dir
afterAll(() => rmSync(dir, { recursive: true, force: true }))
