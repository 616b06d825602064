// Offline login: a worker who logged in online on this workstation may log in again while the
// portal cannot be reached, for a limited number of days, with the same login and password. What
// is kept is a slow salted hash (scrypt) of the password, made at the online login, in the
// encrypted local store — never the password. Five wrong passwords lock offline login for a while.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { AppError } from '../../../shared/errors'
import { userSchema, type User } from '../../../shared/model'
import { formatDateTimeRu } from '../../../shared/format'
import { isValidSnils } from '../../../shared/validators'
import type { AsyncStore } from '../store/store-protocol'

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, options, (e, key) => (e ? reject(e) : resolve(key))))

// ≈100 ms and 32 MiB per check on a clinic PC: slow for guessing, quick for a person.
const PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }
const KEY_LENGTH = 32
const MAX_FAILURES = 5
const CLINIC_TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone
const LOCK_MS = 15 * 60_000

/** The same account however the login was typed: СНИЛС and phone by digits, e-mail in lower case. */
export function offlineLoginKey(login: string): string {
  const t = login.trim().toLowerCase()
  if (t.includes('@')) return `email:${t}`
  const digits = t.replace(/\D/g, '')
  // 11 digits are a СНИЛС when its checksum holds and nothing marks a phone (+, brackets), as the portal decides.
  if (digits.length === 11 && !/[+()]/.test(t) && isValidSnils(digits)) return `snils:${digits}`
  if (/^[\d\s()+-]+$/.test(t) && digits.length === 11 && /^[78]/.test(digits)) return `phone:7${digits.slice(1)}`
  if (/^[\d\s-]+$/.test(t)) return `digits:${digits}`
  return `login:${t}`
}

export async function makeVerifier(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scrypt(password, salt, KEY_LENGTH, PARAMS)
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${hash.toString('base64')}`
}

export async function checkVerifier(verifier: string, password: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = verifier.split('$')
  if (kind !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: PARAMS.maxmem })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

export class OfflineLogin {
  private readonly failures = new Map<string, { count: number; lockedUntil: number }>()

  constructor(
    private readonly store: () => Promise<Pick<AsyncStore, 'getOfflineCredential' | 'putOfflineCredential'>>,
    private readonly maxAgeDays: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** After an online login: keep the verifier (made from the password at step 1) for this login. */
  async remember(login: string, verifier: string, user: User): Promise<void> {
    if (this.maxAgeDays <= 0) return
    const store = await this.store()
    await store.putOfflineCredential(offlineLoginKey(login), JSON.stringify(user), verifier, this.now().toISOString())
  }

  /** The user, if the password matches a recent online login here. */
  async verify(login: string, password: string): Promise<{ user: User; validUntil: Date }> {
    const key = offlineLoginKey(login)
    const now = this.now().getTime()
    this.refuseIfLocked(key, now)
    const unavailable = () => new AppError('OFFLINE_LOGIN_UNAVAILABLE', { days: this.maxAgeDays }, 'no recent online login of this account here')
    if (this.maxAgeDays <= 0) throw unavailable()
    const credential = await (await this.store()).getOfflineCredential(key)
    if (!credential) throw unavailable()
    const validUntil = new Date(Date.parse(credential.verifiedAt) + this.maxAgeDays * 86_400_000)
    if (validUntil.getTime() <= now) throw unavailable()
    const matches = await checkVerifier(credential.verifier, password)
    // Other attempts may have ended while this one was hashing: count on from theirs, and let no
    // attempt that started before a lock through after it.
    this.refuseIfLocked(key, now)
    if (!matches) {
      const count = (this.failures.get(key)?.count ?? 0) + 1
      this.failures.set(key, count >= MAX_FAILURES ? { count: 0, lockedUntil: now + LOCK_MS } : { count, lockedUntil: 0 })
      throw new AppError('CREDENTIALS_INVALID', {}, 'offline password check failed')
    }
    this.failures.delete(key)
    return { user: userSchema.parse(JSON.parse(credential.userJson)), validUntil }
  }

  private refuseIfLocked(key: string, now: number): void {
    const f = this.failures.get(key)
    if (!f || f.lockedUntil <= now) return
    const unlockAt = new Date(f.lockedUntil)
    throw new AppError('ACCOUNT_LOCKED', { unlockAt: formatDateTimeRu(unlockAt, CLINIC_TIME_ZONE), unlockAtIso: unlockAt.toISOString() }, 'offline login locked after failures')
  }
}
