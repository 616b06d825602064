// Opens the workstation's encrypted SQLite database (SQLite3 Multiple Ciphers, AEGIS-256): a
// random 256-bit key, WAL, foreign keys, full fsync on commit so an acknowledged change survives a
// power cut, then the migrations. A wrong key or a copied file without the key reads as "not a
// database": STORE_UNAVAILABLE, never a half-open store.
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3-multiple-ciphers'
import { AppError } from '../../../shared/errors'
import { migrate } from './migrations'

export type Db = Database.Database

export const KEY_BYTES = 32

export function newStoreKey(): Buffer {
  return randomBytes(KEY_BYTES)
}

/**
 * How a store is encrypted: AEGIS-256, an authenticated cipher (a forged or damaged page fails to
 * decrypt) that runs on the CPU's AES instructions — about twice as fast as ChaCha20-Poly1305 on
 * writes here (an initial sync is mostly page encryption). The key is 256 random bits, never a
 * password, so the key derivation (Argon2id) is set to its minimum: stretching a random key adds
 * nothing and would cost 30 ms on every open.
 */
const CIPHER = ["cipher = 'aegis'", "algorithm = 'aegis-256'", 'tcost = 1', 'mcost = 64', 'pcost = 1']
/** Stores made before AEGIS: ChaCha20-Poly1305 (sqleet) with its default key derivation. They stay so. */
const LEGACY_CIPHER = ["cipher = 'chacha20'"]

export interface OpenOptions {
  /** Migrate only this far (tests of migrations from every earlier version). */
  schemaVersion?: number
}

export function openDatabase(file: string, key: Buffer, options: OpenOptions = {}): Db {
  if (key.length !== KEY_BYTES) throw new AppError('STORE_UNAVAILABLE', {}, `store key must be ${KEY_BYTES} bytes`)
  let db: Db | null = null
  try {
    db = openKeyedDatabase(file, key)
    // 8 KiB pages for a new store (an existing one keeps its size): half the pages to encrypt and
    // checksum per resource written, and a tenth smaller file (bench/registrar.ts).
    db.pragma('page_size = 8192')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    // Page cache: 64 MiB (the build's default is 16). The search structures of 200 000 cached
    // patients (patient_idx, the FTS5 index, the (type, id) index) are about 60 MB; with less, as-
    // you-type searches and pulls keep reading and decrypting the same pages again
    // (bench/registrar.ts: search p50 halves, p95 drops about 3×).
    db.pragma('cache_size = -65536')
    // Checkpoint every 32 MiB of WAL rather than every 1 000 pages: an initial sync appends 125 MB,
    // and each checkpoint costs two fsyncs and rewrites the pages every page's commit touched
    // (the tree's right edge) once per checkpoint, not once per commit. The WAL file is cut back
    // after a checkpoint so it does not stay that large.
    db.pragma('wal_autocheckpoint = 4096')
    db.pragma('journal_size_limit = 8388608')
    migrate(db, options.schemaVersion)
    return db
  } catch (e) {
    db?.close()
    if (e instanceof AppError) throw e
    throw new AppError('STORE_UNAVAILABLE', {}, `${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
}

/**
 * The file opened with the key (in the store's cipher, or the legacy one it was made with), and
 * nothing else: no pragmas, no migrations. Throws "file is not a database" for a wrong key.
 */
export function openKeyedDatabase(file: string, key: Buffer): Db {
  const db = openKeyed(file, key, CIPHER) ?? openKeyed(file, key, LEGACY_CIPHER)
  if (!db) throw new Error('file is not a database (a wrong key, or not a store)')
  return db
}

/** The database opened with this key and cipher, or null when they do not read it. */
function openKeyed(file: string, key: Buffer, cipher: readonly string[]): Db | null {
  const db = new Database(file)
  try {
    for (const p of cipher) db.pragma(p)
    db.pragma(`hexkey='${key.toString('hex')}'`)
    // Reading the schema proves the key: a wrong one fails here with "file is not a database".
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    return db
  } catch (e) {
    db.close()
    if ((e as { code?: string }).code === 'SQLITE_NOTADB') return null
    throw e
  }
}

/**
 * Where the key comes from. On the workstation the Electron glue wraps it with safeStorage (the
 * OS keychain / DPAPI); the Node host (tests, the demo in Chromium) keeps it in a file only its
 * user can read, or takes it from the environment.
 */
export interface StoreKeySource {
  /** The key, made and saved on first use. */
  load(): Buffer
}

/** The Node host's key: LKMR_STORE_KEY (hex) or a 0600 file next to the database. */
export function fileKeySource(keyFile: string, env: NodeJS.ProcessEnv = process.env): StoreKeySource {
  return {
    load() {
      if (env.LKMR_STORE_KEY) return parseHexKey(env.LKMR_STORE_KEY)
      if (existsSync(keyFile)) return parseHexKey(readFileSync(keyFile, 'utf8').trim())
      const key = newStoreKey()
      createKeyFile(keyFile, Buffer.from(key.toString('hex')))
      chmodSync(keyFile, 0o600)
      return key
    },
  }
}

/** What Electron's safeStorage offers (the OS keychain, DPAPI or libsecret), as the core needs it. */
export interface KeyWrapper {
  isEncryptionAvailable(): boolean
  encryptString(plain: string): Buffer
  decryptString(wrapped: Buffer): string
}

/**
 * The workstation's key: random, kept in a file only as wrapped by the OS (Signal Desktop's
 * scheme), so a copied profile folder does not open on another machine or account.
 */
export function wrappedKeySource(wrapper: KeyWrapper, keyFile: string): StoreKeySource {
  return {
    load() {
      if (!wrapper.isEncryptionAvailable()) throw new AppError('STORE_UNAVAILABLE', {}, 'OS key protection (safeStorage) is not available')
      if (existsSync(keyFile)) return parseHexKey(unwrap(wrapper, readFileSync(keyFile)))
      const key = newStoreKey()
      createKeyFile(keyFile, wrapper.encryptString(key.toString('hex')))
      return key
    },
  }
}

/**
 * Writes a new key file (mode 0600; fails if one exists), crash-safe: the bytes are flushed to
 * disk in a temporary file, which is then linked under the final name, and the folder flushed.
 * A kill or power cut at any moment leaves no key file or the whole one — never an empty or
 * unflushed one beside a database already written with that key, which could not be opened again.
 */
function createKeyFile(keyFile: string, data: Buffer): void {
  const tmp = `${keyFile}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    writeSync(fd, data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, keyFile)
  } finally {
    rmSync(tmp, { force: true })
  }
  try {
    const dir = openSync(dirname(keyFile), 'r')
    try {
      fsyncSync(dir)
    } finally {
      closeSync(dir)
    }
  } catch {
    // A folder cannot be flushed this way on Windows (NTFS journals the link itself).
  }
}

/** The OS refuses a key wrapped for another computer or user: that is an unavailable store, not a crash. */
function unwrap(wrapper: KeyWrapper, wrapped: Buffer): string {
  try {
    return wrapper.decryptString(wrapped)
  } catch (e) {
    throw new AppError('STORE_UNAVAILABLE', {}, `store key cannot be unwrapped here: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
}

export function parseHexKey(hex: string): Buffer {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new AppError('STORE_UNAVAILABLE', {}, 'store key is not 64 hex digits')
  return Buffer.from(hex, 'hex')
}
