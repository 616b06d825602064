// Register writes take several statements that must land together. Their functions accept a Db
// (they open a transaction) or a transaction's Queryable (they join it): callers such as the demo
// seeding and the CSV import wrap many of them in one transaction of their own.
//
// Savepoints let one transaction hold many independent parts (the entries of a FHIR batch): a
// part that fails is rolled back to its savepoint, and the transaction goes on. Plain SQL, so the
// same on PGlite and on a PostgreSQL server.
import type { Db, Queryable } from './db'

export async function inTransaction<T>(db: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const maybeDb = db as Partial<Db>
  return typeof maybeDb.transaction === 'function' ? maybeDb.transaction((tx) => fn(tx)) : fn(db)
}

/**
 * Runs fn inside a savepoint of the open transaction `tx`: kept when it resolves; when it throws,
 * everything it did (rows, row locks, a failed statement's aborted state) is undone and the error
 * re-thrown, and the transaction can go on. Nests: a savepoint name refers to its innermost one.
 * Call only inside a transaction.
 */
export async function inSavepoint<T>(tx: Queryable, fn: () => Promise<T>): Promise<T> {
  await tx.query('SAVEPOINT part')
  let result: T
  try {
    result = await fn()
  } catch (e) {
    await tx.query('ROLLBACK TO SAVEPOINT part')
    await tx.query('RELEASE SAVEPOINT part')
    throw e
  }
  await tx.query('RELEASE SAVEPOINT part')
  return result
}
