// The history cursor against real concurrency, which only a PostgreSQL server has (PGlite runs one
// transaction at a time): a transaction that started earlier but commits later must not be
// jumped over by a reader that already saw a later one. npm test always provides the server.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openPostgres, type Db } from '../src/db'
import { migrate } from '../src/migrate'
import { historyPage, START_CURSOR } from '../src/fhir/history'
import { writeVersion } from '../src/fhir/store'

let admin: Db
let db: Db
const name = `fhir_order_${process.pid}_${Date.now()}`

beforeAll(async () => {
  const url = process.env.LKMR_TEST_POSTGRES_URL
  if (!url) throw new Error('LKMR_TEST_POSTGRES_URL is not set: run through npm test, which starts a PostgreSQL server')
  admin = await openPostgres(url)
  await admin.exec(`CREATE DATABASE ${name}`)
  const u = new URL(url)
  u.pathname = `/${name}`
  db = await openPostgres(u.toString())
  await migrate(db)
})
afterAll(async () => {
  await db?.close()
  await admin?.exec(`DROP DATABASE IF EXISTS ${name}`)
  await admin?.close()
})

const write = (q: Parameters<typeof writeVersion>[0], id: string) =>
  writeVersion(q, { type: 'Patient', id, resource: { resourceType: 'Patient' }, method: 'POST', now: new Date(), scope: 'o', owner: 'o', ifMatch: null })

async function pullFrom(cursor: string): Promise<{ ids: string[]; cursor: string }> {
  const page = await historyPage(db, { types: ['Patient'], scope: 'o', since: null, cursor, count: 100 })
  return { ids: page.rows.map((r) => r.id), cursor: page.cursor }
}

it('holds back rows committed after an older transaction that is still open, then serves both once', async () => {
  let releaseA!: () => void
  const aMayCommit = new Promise<void>((r) => (releaseA = r))
  let aWrote!: () => void
  const aHasWritten = new Promise<void>((r) => (aWrote = r))
  const a = db.transaction(async (tx) => {
    await write(tx, 'a1')
    aWrote()
    await aMayCommit
    await write(tx, 'a2') // a sequence number larger than b's, in the older transaction
  })
  await aHasWritten
  await db.transaction((tx) => write(tx, 'b1'))

  // b1 is committed, but A (older txid) is open: serving b1 now would move the cursor past A.
  const first = await pullFrom(START_CURSOR)
  expect(first.ids).toEqual([])
  releaseA()
  await a
  const second = await pullFrom(first.cursor)
  expect(second.ids).toEqual(['a1', 'a2', 'b1'])
  expect((await pullFrom(second.cursor)).ids).toEqual([])
})
