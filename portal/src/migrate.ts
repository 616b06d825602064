// Versioned SQL migrations: portal/src/migrations/NNN_name.sql, applied in order on start, each
// in its own transaction and recorded in schema_migrations. An advisory lock keeps two portal
// instances starting against the same PostgreSQL server from applying one twice.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Db } from './db'

export const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations')
const MIGRATION_LOCK_KEY = 7_346_211

export interface Migration {
  version: number
  name: string
  sql: string
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = /^(\d+)_([\w-]+)\.sql$/.exec(file)
      if (!m) throw new Error(`Migration file name must be NNN_name.sql: ${file}`)
      return { version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), 'utf8') }
    })
    .sort((a, b) => a.version - b.version)
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version) throw new Error(`Duplicate migration version ${m.version}`)
  })
  return migrations
}

/** Applies the migrations not yet applied; returns the versions it applied. */
export async function migrate(db: Db, migrations: Migration[] = loadMigrations()): Promise<number[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`)
  const applied: number[] = []
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
      const rows = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version])
      if (rows.length > 0) return false
      await tx.exec(m.sql)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
      return true
    })
    if (done) applied.push(m.version)
  }
  return applied
}
