// The store worker as the main process uses it: a real worker thread over a real encrypted file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { newStoreKey, openDatabase } from './database'
import { Store, type NewChange } from './store'
import { openStoreWorker, type StoreClient } from './store-client'
import { rejectedAppError } from '../../../../tests/support/app-error'

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
