// The store worker as the main process uses it: a real worker thread over a real encrypted file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { newStoreKey, openDatabase } from './database'
import { Store, type NewChange } from './store'
import { openStoreWorker, type StoreClient } from './store-client'
import { rejectedAppError } from '../../../../tests/support/app-error'
import { historyBundle } from '../../../../portal/src/fhir/bundle'
import type { HistoryRow } from '../../../../portal/src/fhir/history'
import { readHistoryPage } from '../sync/fhir-wire'

const BASE = 'https://portal.example.ru/api/v1/fhir'

let dir: string
const clients: StoreClient[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-store-worker-'))
})

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
  rmSync(dir, { recursive: true, force: true })
})

async function open(file: string, key: Buffer): Promise<StoreClient> {
  const client = await openStoreWorker(file, key)
  clients.push(client)
  return client
}


const registration = (changeId: string, id: string, family: string): NewChange => ({
  changeId,
  action: 'patient.create',
  title: `Регистрация: ${family}`,
  actor: { snils: '12345678964', name: 'Смирнова Анна Ивановна' },
  at: '2025-03-01T09:00:00.000Z',
  summary: `Зарегистрирован пациент ${family}`,
  entries: [{ type: 'Patient', id, body: { resourceType: 'Patient', id, name: [{ use: 'official', family, given: ['Ольга'] }], birthDate: '1975-04-12' } }],
})

describe('openStoreWorker', () => {
  it('answers Store calls from the worker: a change committed there is found by a search', async () => {
    const file = join(dir, 'store.db')
    const key = newStoreKey()
    const client = await open(file, key)
    expect(await client.commitChange(registration('c-1', 'p-1', 'Шереметьева'))).toBeUndefined()
    expect(await client.searchPatients('шерем ольг', 10)).toEqual({
      kind: 'name',
      rows: [{ id: 'p-1', displayName: 'Шереметьева Ольга', birthDate: '1975-04-12', gender: null, snils: null, oms: null, phone: null, attached: false, change: 'pending' }],
    })
    expect(await client.counts()).toEqual({ pending: 1, rejected: 0, conflicts: 0 })
    expect((await client.nextChanges(10)).map((c) => c.changeId)).toEqual(['c-1'])
    await client.setState('pull.cursor', '7.1')
    expect(await client.getState('pull.cursor')).toBe('7.1')

    // It is the file on disk: after the worker closes, the same key reads the change there.
    await client.close()
    const store = new Store(openDatabase(file, key))
    try {
      expect(store.get('Patient', 'p-1')?.change).toBe('pending')
      expect(store.getState('pull.cursor')).toBe('7.1')
    } finally {
      store.close()
    }
  })

  it('takes history pages as bytes moved to the worker, stores each resource as sent, one transaction for all', async () => {
    const file = join(dir, 'store.db')
    const key = newStoreKey()
    const client = await open(file, key)
    const patientOf = (id: string, family: string) => ({ resourceType: 'Patient', id, meta: { versionId: '1' }, name: [{ use: 'official', family, given: ['Ольга'] }] })
    const rowOf = (id: string, family: string, n: number): HistoryRow => ({ type: 'Patient', id, version: 1, deleted: false, method: 'POST', cursor: `5.${n}`, lastUpdated: new Date(), body: JSON.stringify(patientOf(id, family)) })
    // Each page in a buffer of its own, as the portal client gives them.
    const pageOf = (rows: HistoryRow[], relation: 'next' | 'sync') => Buffer.from(new Uint8Array(Buffer.from(historyBundle(BASE, rows, [{ relation, url: `${BASE}/_history?_cursor=${rows.at(-1)!.cursor}` }]))).buffer)
    const pages = [pageOf([rowOf('p-1', 'Орлова', 1)], 'next'), pageOf([rowOf('p-2', 'Серова', 2), rowOf('p-3', 'Белова', 3)], 'sync')]
    const read = pages.map((p) => readHistoryPage(p))
    const sent = pages.map((p, i) => p.toString('utf8', read[i]!.entries[0]!.resource!.start, read[i]!.entries[0]!.resource!.end))

    expect(await client.applyHistoryPages(pages, read.map((r) => r.entries), 'pull.cursor', read[1]!.cursor)).toEqual({ applied: 3, skipped: 0, kept: 0 })
    // Moved, not copied: the main thread's buffers are empty now.
    expect(pages.map((p) => p.byteLength)).toEqual([0, 0])
    expect((await client.searchPatients('серова', 10)).rows.map((r) => r.id)).toEqual(['p-2'])
    expect(await client.getState('pull.cursor')).toBe('5.3')

    // A page with a resource that is not JSON: refused as a portal error, nothing of the call applied.
    // (A small page is a slice of Node's shared buffer pool: copied, not moved.)
    const bad = Buffer.from(historyBundle(BASE, [rowOf('p-4', 'Жукова', 4), { ...rowOf('p-5', 'Иванова', 5), body: '{"resourceType":"Patient","id":"p-5",}' }], [{ relation: 'sync', url: `${BASE}/_history?_cursor=5.5` }]))
    const e = await rejectedAppError(client.applyHistoryPages([bad], [readHistoryPage(bad).entries], 'pull.cursor', '5.5'))
    expect(e.code).toBe('PORTAL_ERROR')
    expect(bad.byteLength).toBeGreaterThan(0)
    expect((await client.searchPatients('жукова', 10)).rows).toEqual([])
    expect(await client.getState('pull.cursor')).toBe('5.3')

    await client.close()
    const store = new Store(openDatabase(file, key))
    try {
      expect(store.db.prepare("SELECT body FROM resources WHERE id IN ('p-1', 'p-2') ORDER BY id").all()).toEqual(sent.map((body) => ({ body })))
    } finally {
      store.close()
    }
  })

  it('sends failures back as AppError with a code and the detail for the log', async () => {
    const client = await open(join(dir, 'store.db'), newStoreKey())
    await client.commitChange(registration('c-1', 'p-1', 'Орлова'))
    const duplicate = await rejectedAppError(client.commitChange(registration('c-1', 'p-2', 'Серова')))
    expect(duplicate.code).toBe('INTERNAL')
    expect(duplicate.details).toMatch(/UNIQUE constraint failed: changes\.change_id/)
    // The failed call left nothing behind, and the worker goes on answering.
    expect((await client.searchPatients('серова', 10)).rows).toEqual([])
    expect((await client.searchPatients('орлова', 10)).rows.map((r) => r.id)).toEqual(['p-1'])
  })

  it('refuses a file made with another key with STORE_UNAVAILABLE', async () => {
    const file = join(dir, 'store.db')
    const made = await open(file, newStoreKey())
    await made.commitChange(registration('c-1', 'p-1', 'Орлова'))
    await made.close()
    const e = await rejectedAppError(openStoreWorker(file, newStoreKey()))
    expect(e.code).toBe('STORE_UNAVAILABLE')
    expect(e.details).toMatch(/file is not a database/)
  })

  it('ends the worker on close(); later calls fail with STORE_UNAVAILABLE', async () => {
    const client = await open(join(dir, 'store.db'), newStoreKey())
    await client.setState('k', 'v')
    await client.close()
    const e = await rejectedAppError(client.getState('k'))
    expect(e.code).toBe('STORE_UNAVAILABLE')
    expect(e.details).toMatch(/store worker stopped/)
    // A second close is harmless.
    await expect(client.close()).resolves.toBeUndefined()
  })
})
