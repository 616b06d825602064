// The encrypted database file: the key is needed to read it (the file, a copy of it, its WAL),
// nothing personal is readable in the bytes on disk, the pragmas the store relies on are set,
// and where the Node host's key comes from.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3-multiple-ciphers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FHIR_SYSTEMS } from '../../../shared/fhir/systems'
import { fileKeySource, KEY_BYTES, newStoreKey, openDatabase, parseHexKey, wrappedKeySource, type Db, type KeyWrapper } from './database'
import { SCHEMA_VERSION } from './migrations'
import { Store } from './store'
import { thrownAppError } from '../../../../tests/support/app-error'

const FAMILY = 'Шереметьева'
const SNILS = '11223344595'

let dir: string
const open: Db[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-db-'))
})

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close()
  rmSync(dir, { recursive: true, force: true })
})

function openTracked(file: string, key: Buffer): Db {
  const db = openDatabase(file, key)
  open.push(db)
  return db
}


/** A patient written the way the registrar writes one: through the Store's outbox. */
function writePatient(db: Db): void {
  new Store(db).commitChange({
    changeId: 'c-1',
    action: 'patient.create',
    title: `Регистрация: ${FAMILY} Ольга Викторовна`,
    actor: { snils: '12345678964', name: 'Смирнова Анна' },
    at: '2025-03-01T09:00:00.000Z',
    summary: `Зарегистрирован пациент ${FAMILY} О. В.`,
    entries: [
      {
        type: 'Patient',
        id: 'p-1',
        body: {
          resourceType: 'Patient',
          id: 'p-1',
          name: [{ use: 'official', family: FAMILY, given: ['Ольга', 'Викторовна'] }],
          identifier: [{ system: FHIR_SYSTEMS.snils, value: SNILS }],
          birthDate: '1975-04-12',
        },
      },
    ],
  })
}

function readPatientFamily(db: Db): string | undefined {
  const body = new Store(db).get('Patient', 'p-1')?.body as { name?: Array<{ family?: string }> } | undefined
  return body?.name?.[0]?.family
}

const contains = (file: string, text: string) => readFileSync(file).includes(Buffer.from(text, 'utf8'))

function plainReadFails(file: string): string {
  const db = new Database(file)
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    return 'read succeeded'
  } catch (e) {
    return (e as Error).message
  } finally {
    db.close()
  }
}

describe('openDatabase', () => {
  it('reopens a database with the key it was made with, data and schema intact', () => {
    const file = join(dir, 'store.db')
    const key = newStoreKey()
    const db = openDatabase(file, key)
    writePatient(db)
    db.close()
    const again = openTracked(file, Buffer.from(key))
    expect(readPatientFamily(again)).toBe(FAMILY)
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
  })

  it('refuses a copy of the closed file with another key, with no key, and to a plain SQLite', () => {
    const file = join(dir, 'store.db')
    const key = newStoreKey()
    const db = openDatabase(file, key)
    writePatient(db)
    db.close()
    const copy = join(dir, 'copy.db')
    copyFileSync(file, copy)

    const wrong = thrownAppError(() => openDatabase(copy, newStoreKey()))
    expect(wrong.code).toBe('STORE_UNAVAILABLE')
    expect(wrong.details).toMatch(/file is not a database/)
    const none = thrownAppError(() => openDatabase(copy, Buffer.alloc(0)))
    expect(none.code).toBe('STORE_UNAVAILABLE')
    expect(plainReadFails(copy)).toMatch(/file is not a database/)
    // The copy is whole: with the key it reads (and the failed attempts did not damage it).
    expect(readPatientFamily(openTracked(copy, key))).toBe(FAMILY)
  })

  it('refuses a copy of the open database and its WAL without the key', () => {
    const file = join(dir, 'store.db')
    const key = newStoreKey()
    const db = openTracked(file, key)
    writePatient(db)
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0)
    const copy = join(dir, 'copy.db')
    copyFileSync(file, copy)
    copyFileSync(`${file}-wal`, `${copy}-wal`)

    expect(thrownAppError(() => openDatabase(copy, newStoreKey())).code).toBe('STORE_UNAVAILABLE')
    expect(plainReadFails(copy)).toMatch(/file is not a database/)
    // The patient lives in the copied WAL (not yet in the main file): the key reads it.
    expect(readPatientFamily(openTracked(copy, key))).toBe(FAMILY)
  })

  it('refuses an unencrypted SQLite file rather than keeping patients in it', () => {
    const file = join(dir, 'plain.db')
    const plain = new Database(file)
    plain.exec('CREATE TABLE t (x TEXT); INSERT INTO t VALUES (1)')
    plain.close()
    expect(thrownAppError(() => openDatabase(file, newStoreKey())).code).toBe('STORE_UNAVAILABLE')
  })

  it('keeps no readable patient name or СНИЛС in the file or the WAL, before and after a checkpoint', () => {
    const file = join(dir, 'store.db')
    const key = newStoreKey()
    const db = openTracked(file, key)
    writePatient(db)
    expect(readPatientFamily(db)).toBe(FAMILY)
    const wal = `${file}-wal`
    expect(statSync(wal).size).toBeGreaterThan(0)
    for (const f of [file, wal]) {
      expect(contains(f, FAMILY), f).toBe(false)
      expect(contains(f, FAMILY.toLowerCase()), f).toBe(false)
      expect(contains(f, SNILS), f).toBe(false)
    }
    db.pragma('wal_checkpoint(TRUNCATE)')
    expect(statSync(wal).size).toBe(0)
    expect(contains(file, FAMILY)).toBe(false)
    expect(contains(file, FAMILY.toLowerCase())).toBe(false)
    expect(contains(file, SNILS)).toBe(false)
    // After the checkpoint the data is in the main file alone: a copy of it reads with the key.
    const copy = join(dir, 'main-only.db')
    copyFileSync(file, copy)
    expect(readPatientFamily(openTracked(copy, key))).toBe(FAMILY)
  })

  it('has a byte search that does find the name in an unencrypted file (the check above can fail)', () => {
    const file = join(dir, 'plain.db')
    const plain = new Database(file)
    plain.exec('CREATE TABLE t (x TEXT)')
    plain.prepare('INSERT INTO t VALUES (?)').run(`${FAMILY} ${SNILS}`)
    plain.close()
    expect(contains(file, FAMILY)).toBe(true)
    expect(contains(file, SNILS)).toBe(true)
  })

  it('runs in WAL mode with foreign keys, full sync on commit and AEGIS-256 encryption', () => {
    const db = openTracked(join(dir, 'store.db'), newStoreKey())
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.pragma('synchronous', { simple: true })).toBe(2)
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000)
    expect(db.pragma('cipher', { simple: true })).toBe('aegis')
    expect(db.pragma('algorithm', { simple: true })).toBe('aegis-256')
    expect(db.pragma('page_size', { simple: true })).toBe(8192)
    // Foreign keys are enforced, not just declared.
    expect(() => db.prepare('INSERT INTO base_versions (rid, version, body) VALUES (424242, 1, NULL)').run()).toThrow(/FOREIGN KEY constraint failed/)
  })

  it('opens a store made with the earlier cipher (ChaCha20-Poly1305) with its key, and keeps it so', () => {
    const file = join(dir, 'legacy.db')
    const key = newStoreKey()
    const legacy = new Database(file)
    legacy.pragma(`hexkey='${key.toString('hex')}'`)
    legacy.exec(`CREATE TABLE kept (x TEXT); INSERT INTO kept VALUES ('${FAMILY}')`)
    legacy.close()
    const db = openTracked(file, key)
    expect(db.pragma('cipher', { simple: true })).toBe('chacha20')
    expect(db.pragma('page_size', { simple: true })).toBe(4096)
    expect(db.prepare('SELECT x FROM kept').get()).toEqual({ x: FAMILY })
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    db.close()
    expect(contains(file, FAMILY)).toBe(false)
    expect(thrownAppError(() => openDatabase(file, newStoreKey())).code).toBe('STORE_UNAVAILABLE')
  })

  it('refuses a key of the wrong length without creating the file', () => {
    const file = join(dir, 'store.db')
    for (const key of [Buffer.alloc(0), Buffer.alloc(16, 1), Buffer.alloc(KEY_BYTES + 1, 1)]) {
      expect(thrownAppError(() => openDatabase(file, key)).code).toBe('STORE_UNAVAILABLE')
    }
    expect(existsSync(file)).toBe(false)
  })
})

describe('fileKeySource', () => {
  it('makes a random key in a 0600 file on first use and returns the same key after', () => {
    const keyFile = join(dir, 'store.key')
    const first = fileKeySource(keyFile, {}).load()
    expect(first).toHaveLength(KEY_BYTES)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(keyFile, 'utf8')).toBe(first.toString('hex'))
    expect(fileKeySource(keyFile, {}).load().equals(first)).toBe(true)
    // A second workstation (another file) gets another key.
    expect(fileKeySource(join(dir, 'other.key'), {}).load().equals(first)).toBe(false)
    // The key opens what it made.
    const file = join(dir, 'store.db')
    const db = openDatabase(file, first)
    writePatient(db)
    db.close()
    expect(readPatientFamily(openTracked(file, fileKeySource(keyFile, {}).load()))).toBe(FAMILY)
  })

  it('reads a key file with a trailing newline or upper-case digits', () => {
    const keyFile = join(dir, 'store.key')
    const hex = 'AB'.repeat(KEY_BYTES)
    writeFileSync(keyFile, `${hex}\n`, { mode: 0o600 })
    expect(fileKeySource(keyFile, {}).load().equals(Buffer.alloc(KEY_BYTES, 0xab))).toBe(true)
  })

  it('takes LKMR_STORE_KEY over the file, and then writes no file', () => {
    const keyFile = join(dir, 'store.key')
    const hex = '0f'.repeat(KEY_BYTES)
    expect(fileKeySource(keyFile, { LKMR_STORE_KEY: hex }).load().equals(Buffer.alloc(KEY_BYTES, 0x0f))).toBe(true)
    expect(existsSync(keyFile)).toBe(false)
    const saved = fileKeySource(keyFile, {}).load()
    expect(saved.equals(Buffer.alloc(KEY_BYTES, 0x0f))).toBe(false)
    expect(fileKeySource(keyFile, { LKMR_STORE_KEY: hex }).load().equals(Buffer.alloc(KEY_BYTES, 0x0f))).toBe(true)
  })

  it('refuses a malformed key from the environment or the file', () => {
    const keyFile = join(dir, 'store.key')
    for (const bad of ['xyz', '0f'.repeat(KEY_BYTES - 1), `${'0f'.repeat(KEY_BYTES)}0`, 'zz'.repeat(KEY_BYTES), ` ${'0f'.repeat(KEY_BYTES)}`]) {
      expect(thrownAppError(() => fileKeySource(keyFile, { LKMR_STORE_KEY: bad }).load()).code, bad).toBe('STORE_UNAVAILABLE')
    }
    writeFileSync(keyFile, 'not a key', { mode: 0o600 })
    expect(thrownAppError(() => fileKeySource(keyFile, {}).load()).code).toBe('STORE_UNAVAILABLE')
    // The bad file is left for a person to look at, not replaced by a new key (which would orphan the database).
    expect(readFileSync(keyFile, 'utf8')).toBe('not a key')
  })

  it('parseHexKey takes exactly 64 hex digits', () => {
    expect(parseHexKey('00'.repeat(31) + 'fF').equals(Buffer.from([...Array<number>(31).fill(0), 0xff]))).toBe(true)
    expect(thrownAppError(() => parseHexKey('')).code).toBe('STORE_UNAVAILABLE')
    expect(thrownAppError(() => parseHexKey('g'.repeat(64))).code).toBe('STORE_UNAVAILABLE')
  })
})

/**
 * Electron's safeStorage is not available under Node: this stands in for the OS's protection with
 * AES-256-GCM under a secret of "this computer and user". Another secret is another computer.
 */
function osProtection(available = true): KeyWrapper {
  const secret = randomBytes(32)
  return {
    isEncryptionAvailable: () => available,
    encryptString(plain) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', secret, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), body])
    },
    decryptString(wrapped) {
      const decipher = createDecipheriv('aes-256-gcm', secret, wrapped.subarray(0, 12))
      decipher.setAuthTag(wrapped.subarray(12, 28))
      return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]).toString('utf8')
    },
  }
}

describe('wrappedKeySource', () => {
  it('keeps the key only wrapped by the OS, 0600, and gives the same key again', () => {
    const keyFile = join(dir, 'store.wrapped-key')
    const os = osProtection()
    const key = wrappedKeySource(os, keyFile).load()
    expect(key).toHaveLength(KEY_BYTES)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    const onDisk = readFileSync(keyFile)
    expect(onDisk.includes(Buffer.from(key.toString('hex')))).toBe(false)
    expect(onDisk.includes(key)).toBe(false)
    expect(wrappedKeySource(os, keyFile).load().equals(key)).toBe(true)
    const file = join(dir, 'store.db')
    const db = openDatabase(file, key)
    writePatient(db)
    db.close()
    expect(readPatientFamily(openTracked(file, wrappedKeySource(os, keyFile).load()))).toBe(FAMILY)
  })

  it('refuses with STORE_UNAVAILABLE when the OS protection is not available, writing nothing', () => {
    const keyFile = join(dir, 'store.wrapped-key')
    expect(thrownAppError(() => wrappedKeySource(osProtection(false), keyFile).load()).code).toBe('STORE_UNAVAILABLE')
    expect(existsSync(keyFile)).toBe(false)
  })

  it('refuses a copied profile on another computer with STORE_UNAVAILABLE, leaving the key file', () => {
    const keyFile = join(dir, 'store.wrapped-key')
    wrappedKeySource(osProtection(), keyFile).load()
    const before = readFileSync(keyFile)
    const e = thrownAppError(() => wrappedKeySource(osProtection(), keyFile).load())
    expect(e.code).toBe('STORE_UNAVAILABLE')
    expect(readFileSync(keyFile).equals(before)).toBe(true)
  })

  it('refuses a wrapped value that is not a key', () => {
    const keyFile = join(dir, 'store.wrapped-key')
    const os = osProtection()
    writeFileSync(keyFile, os.encryptString('not a key'), { mode: 0o600 })
    expect(thrownAppError(() => wrappedKeySource(os, keyFile).load()).code).toBe('STORE_UNAVAILABLE')
  })
})
