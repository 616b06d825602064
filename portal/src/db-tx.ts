// Register writes take several statements that must land together. Their functions accept a Db
// (they open a transaction) or a transaction's Queryable (they join it): callers such as the demo
// seeding and the CSV import wrap many of them in one transaction of their own.
import type { Db, Queryable } from './db'

export async function inTransaction<T>(db: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const maybeDb = db as Partial<Db>
  return typeof maybeDb.transaction === 'function' ? maybeDb.transaction((tx) => fn(tx)) : fn(db)
}
