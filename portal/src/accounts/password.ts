// Password hashing (argon2id) and the password policy.
import { randomBytes } from 'node:crypto'
import * as argon2 from 'argon2'
import { AppError } from '../../../src/shared/errors'
import { PASSWORD_MIN_LENGTH, passwordProblems } from '../../../src/shared/password-policy'

/**
 * OWASP's argon2id baseline: 19 MiB of memory and 2 passes, one lane. Memory-hard, so guessing
 * on GPUs from a stolen table stays expensive, while one check costs ≈30 ms on one core of the
 * libuv pool (the event loop is not blocked): a two-core server still answers dozens of logins a
 * second, and the rate limiter caps what one address can ask for. Hashes made with other
 * parameters keep verifying (the PHC string carries them) and are upgraded at the next login.
 */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const

export { PASSWORD_MIN_LENGTH }

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS)
}

/** Whether the hash was made with other parameters than ARGON2_OPTIONS. */
export function needsRehash(hash: string): boolean {
  return argon2.needsRehash(hash, ARGON2_OPTIONS)
}

// Verified against when the login is unknown, so an answer takes as long whether the login
// exists or not. Made once per process, from a random password nobody knows.
let dummyHash: Promise<string> | null = null

/**
 * True when `password` matches `hash`. With `hash` null (no such login) it still runs one full
 * argon2 verification and answers false. A malformed stored hash is an error, not a mismatch.
 */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (hash === null) {
    dummyHash ??= hashPassword(randomBytes(32).toString('base64'))
    await argon2.verify(await dummyHash, password)
    return false
  }
  try {
    return await argon2.verify(hash, password)
  } catch (e) {
    throw new AppError('INTERNAL', {}, 'stored password hash is not a valid argon2 hash', { cause: e })
  }
}

/** The shared policy (the workstation checks the same rule before sending); else PASSWORD_WEAK. */
export function checkPasswordPolicy(password: string): void {
  if (passwordProblems(password).length > 0) {
    throw new AppError('PASSWORD_WEAK', { minLength: PASSWORD_MIN_LENGTH }, 'password does not meet the policy')
  }
}
