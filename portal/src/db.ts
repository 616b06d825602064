// One small database interface over the two PostgreSQL engines the portal runs on: embedded
// PGlite (default; a data folder or memory) and a real server through `pg` when DATABASE_URL is
// set. Both speak the same SQL (PostgreSQL dialect) with $1 parameters.
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'

/** Arrays go to `$n::text[]` (or `::int[]`, `::timestamptz[]`… from their text form); null elements are NULL. */
export type SqlParam = string | number | boolean | Date | null | readonly (string | null)[] | Uint8Array

export interface Queryable {
  /** Runs one statement with $1… parameters and returns its rows. */
  query<T extends object = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<T[]>
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
  /**
   * Runs fn in one transaction: committed when it resolves, rolled back when it throws. Inside it,
   * `inSavepoint` (db-tx.ts) undoes a part without ending the transaction.
   */
  transaction<T>(fn: (tx: Queryable & { exec(sql: string): Promise<void> }) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export interface OpenDbOptions {
  /** postgres://… — use a PostgreSQL server instead of the embedded engine. */
  databaseUrl?: string | null
  /** Folder for the embedded engine's data; null or undefined keeps it in memory. */
  dataDir?: string | null
}

/** Opens the database: PostgreSQL when a URL is given, else PGlite in dataDir (or in memory). */
export async function openDb(options: OpenDbOptions = {}): Promise<Db> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl)
  return openPglite(options.dataDir ?? null)
}

export async function openPglite(dataDir: string | null): Promise<Db> {
  const lite = dataDir ? await PGlite.create(dataDir) : await PGlite.create()
  const toParams = (params: readonly SqlParam[] | undefined): unknown[] => (params ? [...params] : [])
  return {
    kind: 'pglite',
    async query<T extends object>(sql: string, params?: readonly SqlParam[]) {
      return (await lite.query<T>(sql, toParams(params))).rows
    },
    async exec(sql: string) {
      await lite.exec(sql)
    },
    transaction(fn) {
      return lite.transaction(async (tx) =>
        fn({
          async query<T extends object>(sql: string, params?: readonly SqlParam[]) {
            return (await tx.query<T>(sql, toParams(params))).rows
          },
          async exec(sql: string) {
            await tx.exec(sql)
          },
        }),
      )
    },
    async close() {
      if (!lite.closed) await lite.close()
    },
  }
}

export async function openPostgres(connectionString: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString, max: 10 })
  // Fail early with a clear error when the server is not reachable.
  const probe = await pool.connect()
  probe.release()
  const run = async <T extends object>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly SqlParam[]) =>
    (await client.query(sql, params ? [...params] : [])).rows as T[]
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async exec(sql: string) {
      await pool.query(sql)
    },
    async transaction(fn) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn({
          query: (sql, params) => run(client, sql, params),
          async exec(sql: string) {
            await client.query(sql)
          },
        })
        await client.query('COMMIT')
        return result
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw e
      } finally {
        client.release()
      }
    },
    close: () => pool.end(),
  }
}
