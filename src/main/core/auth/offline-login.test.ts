// Offline login against a real encrypted store in a temp file: what is remembered after an online
// login, how the login is recognised however it is typed, wrong passwords and the lock, the age
// limit, and that no password is ever kept.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { User } from '../../../shared/model'
import { newStoreKey, openDatabase } from '../store/database'
import { Store } from '../store/store'
import { snilsWithChecksum } from '../../../shared/validators'
import { checkVerifier, makeVerifier, OfflineLogin, offlineLoginKey } from './offline-login'
import { rejectedAppError } from '../../../../tests/support/app-error'

const DAY = 86_400_000
const PASSWORD = 'Пароль-Секрет-2025!'
const user: User = { snils: '11223344595', fullName: 'Смирнова Анна Ивановна', position: 'Медицинский регистратор', organisation: 'ГБУЗ ГП № 1', roles: ['registrar'] }
const other: User = { ...user, snils: '12345678964', fullName: 'Орлова Нина Петровна' }

let dir: string
let file: string
let store: Store
let nowMs: number
const now = () => new Date(nowMs)

/** The store as the main process sees it (async calls); the real Store answers them. */
const asyncStore = () =>
  Promise.resolve({
    getOfflineCredential: async (loginKey: string) => store.getOfflineCredential(loginKey),
    putOfflineCredential: async (loginKey: string, userJson: string, verifier: string, verifiedAt: string) => store.putOfflineCredential(loginKey, userJson, verifier, verifiedAt),
  })

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-offline-'))
  file = join(dir, 'store.db')
  store = new Store(openDatabase(file, newStoreKey()))
  nowMs = Date.parse('2025-03-01T09:00:00.000Z')
})

afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})


async function remembered(days = 7, login = '+7 900 123-45-67', password = PASSWORD, who: User = user): Promise<OfflineLogin> {
  const offline = new OfflineLogin(asyncStore, days, now)
  await offline.remember(login, await makeVerifier(password), who)
  return offline
}

describe('offlineLoginKey', () => {
  it('takes a phone by its digits however it is written', () => {
    for (const login of ['+7 900 123-45-67', '89001234567', '8 (900) 123-45-67', '+79001234567', '7 900 123 45 67', ' 8-900-123-45-67 ']) {
      expect(offlineLoginKey(login), login).toBe('phone:79001234567')
    }
    expect(offlineLoginKey('+7 900 123-45-68')).toBe('phone:79001234568')
  })

  it('takes an e-mail in lower case', () => {
    expect(offlineLoginKey(' Anna.Smirnova@Clinic.RU ')).toBe('email:anna.smirnova@clinic.ru')
    expect(offlineLoginKey('anna.smirnova@clinic.ru')).toBe('email:anna.smirnova@clinic.ru')
  })

  it('takes a СНИЛС by its digits, with or without separators', () => {
    expect(offlineLoginKey('123-456-789 64')).toBe('snils:12345678964')
    expect(offlineLoginKey('12345678964')).toBe('snils:12345678964')
    expect(offlineLoginKey('123 456 789 64')).toBe('snils:12345678964')
  })

  it('tells a СНИЛС starting with 7 or 8 from a phone by its checksum, as the portal does', () => {
    const snils = snilsWithChecksum('812345678')
    expect(offlineLoginKey(snils)).toBe(`snils:${snils}`)
    expect(offlineLoginKey(`+7${snils.slice(1)}`)).toBe(`phone:7${snils.slice(1)}`)
    // 11 digits with a wrong checksum: not a СНИЛС; starting with 8 it is a phone.
    const bad = `${snils.slice(0, 10)}${(Number(snils[10]) + 1) % 10}`
    expect(offlineLoginKey(bad)).toBe(`phone:7${bad.slice(1)}`)
  })

  it('takes anything else as typed, in lower case', () => {
    expect(offlineLoginKey(' ASmirnova ')).toBe('login:asmirnova')
  })
})

describe('OfflineLogin', () => {
  it('lets the worker in with the password of the last online login, valid for the set days', async () => {
    const offline = await remembered(7)
    nowMs += 2 * DAY
    expect(await offline.verify('+7 900 123-45-67', PASSWORD)).toEqual({ user, validUntil: new Date(Date.parse('2025-03-01T09:00:00.000Z') + 7 * DAY) })
  })

  it('recognises the same account typed another way', async () => {
    expect((await (await remembered(7, '+7 900 123-45-67')).verify('89001234567', PASSWORD)).user).toEqual(user)
    expect((await (await remembered(7, 'Anna.Smirnova@Clinic.RU')).verify('anna.smirnova@clinic.ru', PASSWORD)).user).toEqual(user)
    expect((await (await remembered(7, '123-456-789 64', PASSWORD, other)).verify('12345678964', PASSWORD)).user).toEqual(other)
  })

  it('keeps each account apart and the newest password of each', async () => {
    const offline = await remembered(7, '+7 900 123-45-67', 'первый пароль')
    await offline.remember('12345678964', await makeVerifier('второй пароль'), other)
    expect((await offline.verify('12345678964', 'второй пароль')).user).toEqual(other)
    expect((await rejectedAppError(offline.verify('12345678964', 'первый пароль'))).code).toBe('CREDENTIALS_INVALID')
    // A later online login with a changed password replaces the old one.
    await offline.remember('89001234567', await makeVerifier('новый пароль'), user)
    expect((await rejectedAppError(offline.verify('+7 900 123-45-67', 'первый пароль'))).code).toBe('CREDENTIALS_INVALID')
    expect((await offline.verify('+7 900 123-45-67', 'новый пароль')).user).toEqual(user)
  })

  it('refuses a wrong password with CREDENTIALS_INVALID', async () => {
    const offline = await remembered()
    const e = await rejectedAppError(offline.verify('+7 900 123-45-67', 'пароль-секрет-2025!'))
    expect(e.code).toBe('CREDENTIALS_INVALID')
    expect(e.params).toEqual({})
  })

  it('locks after five wrong passwords, even for the right one, until the lock ends', async () => {
    const offline = await remembered()
    // Four wrong and a right one: the count starts again.
    for (let i = 0; i < 4; i++) expect((await rejectedAppError(offline.verify('+7 900 123-45-67', `не тот ${i}`))).code).toBe('CREDENTIALS_INVALID')
    expect((await offline.verify('+7 900 123-45-67', PASSWORD)).user).toEqual(user)
    for (let i = 0; i < 5; i++) expect((await rejectedAppError(offline.verify('+7 900 123-45-67', `не тот ${i}`))).code).toBe('CREDENTIALS_INVALID')

    const locked = await rejectedAppError(offline.verify('89001234567', PASSWORD))
    expect(locked.code).toBe('ACCOUNT_LOCKED')
    expect(locked.params.unlockAtIso).toBe('2025-03-01T09:15:00.000Z')
    expect(locked.params.unlockAt).toMatch(/^\d{2}\.\d{2}\.2025,? \d{2}:\d{2}$/)
    nowMs += 14 * 60_000
    expect((await rejectedAppError(offline.verify('+7 900 123-45-67', PASSWORD))).code).toBe('ACCOUNT_LOCKED')
    nowMs += 60_000
    expect((await offline.verify('+7 900 123-45-67', PASSWORD)).user).toEqual(user)
  })

  it('locks one account only', async () => {
    const offline = await remembered()
    await offline.remember('12345678964', await makeVerifier('другой'), other)
    for (let i = 0; i < 5; i++) await rejectedAppError(offline.verify('+7 900 123-45-67', 'не тот'))
    expect((await rejectedAppError(offline.verify('+7 900 123-45-67', PASSWORD))).code).toBe('ACCOUNT_LOCKED')
    expect((await offline.verify('12345678964', 'другой')).user).toEqual(other)
  })

  it('counts wrong passwords tried at the same time, and locks', async () => {
    const offline = await remembered()
    const attempts = await Promise.all(Array.from({ length: 6 }, (_, i) => rejectedAppError(offline.verify('+7 900 123-45-67', `не тот ${i}`))))
    // Five failures lock; the sixth, finishing after that, meets the lock.
    expect(attempts.map((e) => e.code).sort()).toEqual(['ACCOUNT_LOCKED', ...Array<string>(5).fill('CREDENTIALS_INVALID')])
    expect((await rejectedAppError(offline.verify('+7 900 123-45-67', PASSWORD))).code).toBe('ACCOUNT_LOCKED')
  })

  it('does not let in a guess that was under way when the lock came', async () => {
    await remembered()
    // The first credential read (the right password's attempt) waits until five wrong ones have failed.
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let reads = 0
    const gated = () =>
      Promise.resolve({
        getOfflineCredential: async (loginKey: string) => {
          if (reads++ === 0) await gate
          return store.getOfflineCredential(loginKey)
        },
        putOfflineCredential: async (loginKey: string, userJson: string, verifier: string, verifiedAt: string) => store.putOfflineCredential(loginKey, userJson, verifier, verifiedAt),
      })
    const offline = new OfflineLogin(gated, 7, now)
    const right = rejectedAppError(offline.verify('+7 900 123-45-67', PASSWORD))
    for (let i = 0; i < 5; i++) expect((await rejectedAppError(offline.verify('+7 900 123-45-67', `не тот ${i}`))).code).toBe('CREDENTIALS_INVALID')
    release()
    expect((await right).code).toBe('ACCOUNT_LOCKED')
  })

  it('refuses a credential older than the set days with OFFLINE_LOGIN_UNAVAILABLE', async () => {
    const offline = await remembered(7)
    nowMs += 7 * DAY - 1
    expect((await offline.verify('+7 900 123-45-67', PASSWORD)).user).toEqual(user)
    nowMs += 1
    const e = await rejectedAppError(offline.verify('+7 900 123-45-67', PASSWORD))
    expect(e.code).toBe('OFFLINE_LOGIN_UNAVAILABLE')
    expect(e.params).toEqual({ days: 7 })
    // A shorter limit set later applies to what was already remembered.
    nowMs = Date.parse('2025-03-01T09:00:00.000Z') + 3 * DAY
    expect((await rejectedAppError(new OfflineLogin(asyncStore, 2, now).verify('+7 900 123-45-67', PASSWORD))).params).toEqual({ days: 2 })
  })

  it('refuses an account that never logged in online here', async () => {
    const offline = await remembered()
    const e = await rejectedAppError(offline.verify('+7 900 000-00-00', PASSWORD))
    expect(e.code).toBe('OFFLINE_LOGIN_UNAVAILABLE')
    expect(e.params).toEqual({ days: 7 })
  })

  it('with maxAgeDays 0 keeps nothing and never lets anyone in offline', async () => {
    const off = new OfflineLogin(asyncStore, 0, now)
    await off.remember('+7 900 123-45-67', await makeVerifier(PASSWORD), user)
    expect(store.getOfflineCredential('phone:79001234567')).toBeNull()
    expect(store.db.prepare('SELECT count(*) AS n FROM offline_credentials').get()).toEqual({ n: 0 })
    // Not even a credential remembered while offline login was allowed.
    await (await remembered(7)).verify('+7 900 123-45-67', PASSWORD)
    const e = await rejectedAppError(off.verify('+7 900 123-45-67', PASSWORD))
    expect(e.code).toBe('OFFLINE_LOGIN_UNAVAILABLE')
    expect(e.params).toEqual({ days: 0 })
  })

  it('refuses a stored verifier it cannot read as a wrong password, not a crash', async () => {
    const offline = new OfflineLogin(asyncStore, 7, now)
    store.putOfflineCredential('phone:79001234567', JSON.stringify(user), `plain$${PASSWORD}`, now().toISOString())
    expect((await rejectedAppError(offline.verify('+7 900 123-45-67', PASSWORD))).code).toBe('CREDENTIALS_INVALID')
  })

  it('keeps no password: only a salted slow hash, in a file that shows nothing either', async () => {
    const offline = await remembered(7, '+7 900 123-45-67', PASSWORD)
    await offline.remember('12345678964', await makeVerifier(PASSWORD), other)
    const rows = store.db
      .prepare<[], { login_key: string; user_json: string; verifier: string; verified_at: string }>('SELECT * FROM offline_credentials')
      .all()
    expect(rows).toHaveLength(2)
    const plainForms = [PASSWORD, PASSWORD.toLowerCase(), Buffer.from(PASSWORD).toString('base64'), Buffer.from(PASSWORD).toString('hex')]
    for (const row of rows) {
      for (const value of Object.values(row)) for (const p of plainForms) expect(value.includes(p), `${value} has ${p}`).toBe(false)
      expect(row.verifier).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/)
    }
    // The same password gives different verifiers (a random salt each).
    expect(rows[0]!.verifier).not.toBe(rows[1]!.verifier)
    expect(await checkVerifier(rows[0]!.verifier, PASSWORD)).toBe(true)
    expect(await checkVerifier(rows[0]!.verifier, `${PASSWORD} `)).toBe(false)

    const files = [file, `${file}-wal`]
    for (const f of files) expect(readFileSync(f).includes(Buffer.from(PASSWORD, 'utf8')), f).toBe(false)
    store.db.pragma('wal_checkpoint(TRUNCATE)')
    expect(readFileSync(file).includes(Buffer.from(PASSWORD, 'utf8'))).toBe(false)
  })
})
