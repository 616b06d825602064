// Savepoints inside one transaction (db-tx.ts), on PGlite and, with PORTAL_TEST_DATABASE_URL, on
// PostgreSQL: what FHIR batches rely on to undo one entry and keep the rest.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Db } from '../src/db'
import { inSavepoint } from '../src/db-tx'
import { openTestDb } from './support'

let db: Db

beforeAll(async () => {
  db = await openTestDb()
  await db.exec('CREATE TABLE parts (id integer PRIMARY KEY, note text)')
})
afterAll(async () => {
  await db?.close()
})

const ids = async () => (await db.query<{ id: number }>('SELECT id FROM parts ORDER BY id')).map((r) => r.id)

it('keeps a part that succeeds and undoes one that fails, even after a failed statement, and the transaction goes on', async () => {
  const failures = await db.transaction(async (tx) => {
    const seen: string[] = []
    await tx.query('INSERT INTO parts VALUES (1)')
    await inSavepoint(tx, () => tx.query('INSERT INTO parts VALUES (2)'))
    // The second insert breaks the primary key: PostgreSQL aborts the statement's subtransaction.
    await inSavepoint(tx, async () => {
      await tx.query('INSERT INTO parts VALUES (3)')
      await tx.query('INSERT INTO parts VALUES (1)')
    }).catch((e: { code?: string }) => seen.push(e.code ?? 'no code'))
    // A failure thrown by the code itself undoes the part's rows too.
    await inSavepoint(tx, async () => {
      await tx.query('INSERT INTO parts VALUES (4)')
      throw new Error('refused')
    }).catch((e: Error) => seen.push(e.message))
    await inSavepoint(tx, () => tx.query('INSERT INTO parts VALUES (5)'))
    return seen
  })
  expect(failures).toEqual(['23505', 'refused'])
  expect(await ids()).toEqual([1, 2, 5])
})

it('nests: an inner part undone leaves the outer one, an outer part undone takes the inner one with it', async () => {
  await db.query('DELETE FROM parts')
  await db.transaction(async (tx) => {
    await inSavepoint(tx, async () => {
      await tx.query('INSERT INTO parts VALUES (10)')
      await inSavepoint(tx, async () => {
        await tx.query('INSERT INTO parts VALUES (11)')
        throw new Error('inner')
      }).catch(() => undefined)
      await tx.query('INSERT INTO parts VALUES (12)')
    })
    await inSavepoint(tx, async () => {
      await inSavepoint(tx, () => tx.query('INSERT INTO parts VALUES (20)'))
      throw new Error('outer')
    }).catch(() => undefined)
  })
  expect(await ids()).toEqual([10, 12])
})
