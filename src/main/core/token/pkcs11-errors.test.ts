// Mapping of real pkcs11js failures (its own error classes, real dlopen messages) to the catalogue.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pkcs11js from 'pkcs11js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../../shared/errors'
import { CKF_TOKEN, CKR, isPkcs11Error, isRemovalError, mapInitError, mapLoadError, mapPkcs11Error, pinStateFromFlags } from './pkcs11-errors'

const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so'
let dir: string

/** The error pkcs11js throws for a failed call (same class, same message format as the addon). */
const ckr = (name: string, method = 'C_Login'): Error => {
  const code = (pkcs11js as unknown as Record<string, number>)[name]!
  return new pkcs11js.Pkcs11Error(`${name}:${code}`, code, method)
}

/** The Error pkcs11js's load() throws for `path` (the real dlerror() text). */
function loadError(path: string): unknown {
  try {
    new pkcs11js.PKCS11().load(path)
  } catch (e) {
    return e
  }
  throw new Error(`${path} loaded`)
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-p11err-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('constants', () => {
  it('match the ones pkcs11js was built with', () => {
    const lib = pkcs11js as unknown as Record<string, number>
    for (const [name, value] of Object.entries(CKR)) expect([name, lib[`CKR_${name}`]]).toEqual([name, value])
    expect(CKF_TOKEN.USER_PIN_COUNT_LOW).toBe(lib.CKF_USER_PIN_COUNT_LOW)
    expect(CKF_TOKEN.USER_PIN_FINAL_TRY).toBe(lib.CKF_USER_PIN_FINAL_TRY)
    expect(CKF_TOKEN.USER_PIN_LOCKED).toBe(lib.CKF_USER_PIN_LOCKED)
    expect(CKF_TOKEN.PROTECTED_AUTHENTICATION_PATH).toBe(lib.CKF_PROTECTED_AUTHENTICATION_PATH)
    expect(CKF_TOKEN.LOGIN_REQUIRED).toBe(lib.CKF_LOGIN_REQUIRED)
    expect(CKF_TOKEN.TOKEN_INITIALIZED).toBe(lib.CKF_TOKEN_INITIALIZED)
  })
})

describe('PIN and operation errors', () => {
  it('PIN_INCORRECT carries the tries info from the token flags; a locked token says PIN_LOCKED', () => {
    const e = mapPkcs11Error(ckr('CKR_PIN_INCORRECT'), { pin: pinStateFromFlags(0x40d | CKF_TOKEN.USER_PIN_COUNT_LOW | CKF_TOKEN.USER_PIN_FINAL_TRY) })
    expect(e).toBeInstanceOf(AppError)
    expect(e.toData()).toEqual({ code: 'PIN_INCORRECT', params: { triesLeft: 1, countLow: true, finalTry: true } })
    expect(e.details).toBe('C_Login: CKR_PIN_INCORRECT (0xa0)')
    expect(mapPkcs11Error(ckr('CKR_PIN_INCORRECT')).params).toEqual({ triesLeft: null, countLow: false, finalTry: false })
    expect(mapPkcs11Error(ckr('CKR_PIN_INCORRECT'), { pin: pinStateFromFlags(CKF_TOKEN.USER_PIN_LOCKED) }).code).toBe('PIN_LOCKED')
  })

  it('the flags give an exact count only for the last try (1) and a locked PIN (0)', () => {
    const base = CKF_TOKEN.LOGIN_REQUIRED
    expect(pinStateFromFlags(base).triesLeft).toBeNull()
    expect(pinStateFromFlags(base | CKF_TOKEN.USER_PIN_COUNT_LOW)).toMatchObject({ countLow: true, finalTry: false, locked: false, triesLeft: null })
    expect(pinStateFromFlags(base | CKF_TOKEN.USER_PIN_COUNT_LOW | CKF_TOKEN.USER_PIN_FINAL_TRY)).toMatchObject({ finalTry: true, triesLeft: 1 })
    // A token that leaves FINAL_TRY set once locked is locked, not on its last try.
    expect(pinStateFromFlags(base | CKF_TOKEN.USER_PIN_FINAL_TRY | CKF_TOKEN.USER_PIN_LOCKED)).toMatchObject({ finalTry: false, locked: true, triesLeft: 0 })
  })

  it('maps each CKR to its own code and keeps the CKR name in details only', () => {
    const cases: [string, string][] = [
      ['CKR_PIN_INVALID', 'PIN_INVALID'],
      ['CKR_PIN_LEN_RANGE', 'PIN_INVALID'],
      ['CKR_PIN_LOCKED', 'PIN_LOCKED'],
      ['CKR_PIN_EXPIRED', 'PIN_EXPIRED'],
      ['CKR_DEVICE_REMOVED', 'TOKEN_REMOVED'],
      ['CKR_TOKEN_NOT_PRESENT', 'TOKEN_REMOVED'],
      ['CKR_SESSION_HANDLE_INVALID', 'TOKEN_REMOVED'],
      ['CKR_SESSION_CLOSED', 'TOKEN_REMOVED'],
      ['CKR_MECHANISM_INVALID', 'MECHANISM_NOT_SUPPORTED'],
      ['CKR_KEY_TYPE_INCONSISTENT', 'MECHANISM_NOT_SUPPORTED'],
      ['CKR_USER_NOT_LOGGED_IN', 'SESSION_EXPIRED'],
      ['CKR_DEVICE_ERROR', 'TOKEN_ERROR'],
      ['CKR_FUNCTION_FAILED', 'TOKEN_ERROR'],
      ['CKR_GENERAL_ERROR', 'TOKEN_ERROR'],
    ]
    for (const [name, code] of cases) {
      const e = mapPkcs11Error(ckr(name, 'C_Sign'), { algorithm: 'RSA' })
      expect([name, e.code]).toEqual([name, code])
      expect(e.details).toContain(name)
      expect(JSON.stringify(e.params)).not.toContain('CKR_')
    }
    expect(mapPkcs11Error(ckr('CKR_MECHANISM_INVALID', 'C_SignInit'), { algorithm: 'ECDSA' }).params).toEqual({ algorithm: 'ECDSA' })
    expect(isRemovalError(ckr('CKR_DEVICE_REMOVED'))).toBe(true)
    expect(isRemovalError(ckr('CKR_PIN_INCORRECT'))).toBe(false)
  })

  it('passes AppErrors through and turns anything else into TOKEN_ERROR', () => {
    const app = new AppError('PIN_LOCKED')
    expect(mapPkcs11Error(app)).toBe(app)
    expect(isPkcs11Error(new Error('boom'))).toBe(false)
    const e = mapPkcs11Error(new TypeError('bad argument'), { what: 'C_Sign' })
    expect(e.code).toBe('TOKEN_ERROR')
    expect(e.details).toBe('C_Sign: TypeError: bad argument')
  })
})

describe('library load and initialisation errors (real dlopen messages)', () => {
  it('missing file → TOKEN_LIBRARY_NOT_FOUND', () => {
    const path = join(dir, 'librtpkcs11ecp.so')
    const e = mapLoadError(loadError(path), path)
    expect(e.toData()).toEqual({ code: 'TOKEN_LIBRARY_NOT_FOUND', params: { path } })
    expect(e.details).toMatch(/cannot open shared object file/)
  })

  it('wrong ELF class → TOKEN_LIBRARY_WRONG_ARCH', () => {
    const path = join(dir, 'lib32.so')
    const elf = readFileSync(SOFTHSM)
    elf[4] = 1
    writeFileSync(path, elf)
    const err = loadError(path)
    expect(String(err)).toMatch(/wrong ELF class: ELFCLASS32/)
    expect(mapLoadError(err, path).code).toBe('TOKEN_LIBRARY_WRONG_ARCH')
  })

  it('not a library, or one without C_GetFunctionList → TOKEN_LIBRARY_LOAD_FAILED', () => {
    const text = join(dir, 'text.so')
    writeFileSync(text, 'это не библиотека PKCS#11, а просто текст\n'.repeat(20))
    expect(mapLoadError(loadError(text), text).code).toBe('TOKEN_LIBRARY_LOAD_FAILED')
    // A real shared library that is not a PKCS#11 module: the libc this process runs on.
    const libc = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))![1]!
    const e = mapLoadError(loadError(libc), libc)
    expect(e.code).toBe('TOKEN_LIBRARY_LOAD_FAILED')
    expect(e.details).toMatch(/C_GetFunctionList/)
  })

  it('a missing dependency of a present library is a load failure, not "not found"', () => {
    const path = '/opt/x/librtpkcs11ecp.so'
    const e = mapLoadError(new Error('libpcsclite.so.1: cannot open shared object file: No such file or directory'), path)
    expect(e.code).toBe('TOKEN_LIBRARY_LOAD_FAILED')
  })

  it('C_Initialize failure → TOKEN_LIBRARY_INIT_FAILED with the CKR in details', () => {
    const e = mapInitError(ckr('CKR_DEVICE_ERROR', 'C_Initialize'), SOFTHSM)
    expect(e.toData()).toEqual({ code: 'TOKEN_LIBRARY_INIT_FAILED', params: { path: SOFTHSM } })
    expect(e.details).toMatch(/C_Initialize: CKR_DEVICE_ERROR/)
  })
})
