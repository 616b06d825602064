// The synchronous token core against real SoftHSM2 tokens (a private copy of the demo tokens).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createPublicKey, verify, X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import pkcs11js from 'pkcs11js'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate } from '@peculiar/asn1-x509'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../../shared/errors'
import type { DemoCertKind } from '../../../../scripts/demo/manifest'
import { Pkcs11Module, readAttributes } from './pkcs11-module'
import { createTokenFixture, type TokenFixture } from './testing/token-fixture'

let fx: TokenFixture
let mod: Pkcs11Module
let scratch: string

const certId = (kind: DemoCertKind): string => {
  const { token, cert } = fx.cert(kind)
  return `${fx.library}#${token.serial}/${cert.ckaId}`
}
const pinOf = (kind: DemoCertKind): string => fx.cert(kind).token.userPin
const publicKeyOf = (kind: DemoCertKind) => createPublicKey(readFileSync(fx.cert(kind).cert.certPem))

function expectAppError(fn: () => unknown, code: string): AppError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(AppError)
    expect((e as AppError).code).toBe(code)
    return e as AppError
  }
  throw new Error(`expected ${code}, nothing was thrown`)
}

beforeAll(async () => {
  fx = await createTokenFixture()
  process.env.SOFTHSM2_CONF = fx.conf
  scratch = join(fx.dir, 'scratch')
  mkdirSync(scratch)
  // A text file named like a library, and a real ELF whose class byte says 32-bit.
  writeFileSync(join(scratch, 'libnotreally.so'), 'этот файл не библиотека\n'.repeat(10))
  copyFileSync(fx.library, join(scratch, 'libwrongclass.so'))
  const elf = readFileSync(join(scratch, 'libwrongclass.so'))
  elf[4] = 1 // EI_CLASS = ELFCLASS32
  writeFileSync(join(scratch, 'libwrongclass.so'), elf)
  mod = new Pkcs11Module([
    { name: 'Рутокен ЭЦП', path: join(scratch, 'librtpkcs11ecp.so'), source: 'configured' },
    { name: 'JaCarta', path: join(scratch, 'libjcPKCS11-2.so'), source: 'default' },
    { name: 'Не библиотека', path: join(scratch, 'libnotreally.so'), source: 'configured' },
    { name: '32-битный драйвер', path: join(scratch, 'libwrongclass.so'), source: 'configured' },
    { name: 'Папка', path: scratch, source: 'configured' },
    { name: 'SoftHSM2', path: fx.library, source: 'default' },
  ])
})

afterAll(() => {
  mod?.close()
  fx?.cleanup()
})

describe('libraries', () => {
  it('reports each library problem with its own code and loads SoftHSM2', () => {
    const libs = mod.open()
    const byName = new Map(libs.map((l) => [l.name, l]))
    expect(byName.get('Рутокен ЭЦП')).toMatchObject({ state: 'missing', error: { code: 'TOKEN_LIBRARY_NOT_FOUND', params: { path: join(scratch, 'librtpkcs11ecp.so') } } })
    // A default that is not installed is simply absent, not an error.
    expect(byName.get('JaCarta')).toMatchObject({ state: 'missing', error: null })
    expect(byName.get('Не библиотека')).toMatchObject({ state: 'error', error: { code: 'TOKEN_LIBRARY_LOAD_FAILED' } })
    expect(byName.get('32-битный драйвер')).toMatchObject({ state: 'error', error: { code: 'TOKEN_LIBRARY_WRONG_ARCH' } })
    expect(byName.get('Папка')).toMatchObject({ state: 'error', error: { code: 'TOKEN_LIBRARY_LOAD_FAILED' } })
    const softhsm = byName.get('SoftHSM2')!
    expect(softhsm.state).toBe('loaded')
    expect(softhsm.error).toBeNull()
    expect(softhsm.description).toMatch(/SoftHSM/)
    expect(softhsm.version).toMatch(/^\d+\.\d+$/)
    // Technical detail for the log says why; it never reaches params.
    const details = new Map(mod.libraryDetails().map((d) => [d.path, d.details]))
    expect(details.get(join(scratch, 'libwrongclass.so'))).toMatch(/32-bit/)
    expect(details.get(join(scratch, 'libnotreally.so'))).toMatch(/invalid ELF header|file too short/)
  })
})

describe('discovery', () => {
  it('lists every initialised demo token (not SoftHSM\'s free slot) with its PIN state', () => {
    const state = mod.scan()
    const labels = state.tokens.map((t) => t.label).sort()
    expect(labels).toEqual(fx.manifest.tokens.map((t) => t.label).sort())
    for (const t of state.tokens) {
      const demo = fx.token(t.label)
      expect(t.id).toBe(`${fx.library}#${demo.serial}`)
      expect(t.serial).toBe(demo.serial)
      expect(t.libraryPath).toBe(fx.library)
      expect(t.libraryName).toBe('SoftHSM2')
      expect(t.model).toMatch(/SoftHSM/)
      expect(t.slotId).toMatch(/^\d+$/)
      expect(t.pin).toEqual({ loginRequired: true, protectedAuthPath: false, countLow: false, finalTry: false, locked: false, triesLeft: null })
    }
    expect(state.errors).toEqual([])
  })

  it('lists certificates with owner, СНИЛС, validity and key presence', () => {
    const state = mod.state()
    const all = fx.manifest.tokens.flatMap((t) => t.certificates)
    expect(state.certificates).toHaveLength(all.length)
    const doctor = state.certificates.find((c) => c.id === certId('doctor'))!
    expect(doctor).toMatchObject({
      tokenLabel: fx.cert('doctor').token.label,
      ckaId: fx.cert('doctor').cert.ckaId,
      label: fx.cert('doctor').cert.label,
      hasPrivateKey: true,
      validity: 'valid',
      keyAlgorithm: 'RSA',
    })
    expect(doctor.subject.fullName).toBe(fx.cert('doctor').cert.fullName)
    expect(doctor.subject.snils).toBe(fx.cert('doctor').cert.snils)
    expect(doctor.fingerprintSha256).toBe(new X509Certificate(readFileSync(fx.cert('doctor').cert.certPem)).fingerprint256.replace(/:/g, '').toLowerCase())
    const nurse = state.certificates.find((c) => c.id === certId('nurse'))!
    expect(nurse).toMatchObject({ keyAlgorithm: 'EC', hasPrivateKey: true, validity: 'valid' })
    expect(state.certificates.find((c) => c.id === certId('noPrivateKey'))).toMatchObject({ hasPrivateKey: false })
    expect(state.certificates.find((c) => c.id === certId('expired'))).toMatchObject({ validity: 'expired', hasPrivateKey: true })
    expect(state.certificates.find((c) => c.id === certId('notYetValid'))).toMatchObject({ validity: 'notYetValid' })
    expect(state.certificates.find((c) => c.id === certId('noSnils'))!.subject.snils).toBeNull()
    const empty = state.tokens.find((t) => t.label === 'demo-empty')!
    expect(state.certificates.filter((c) => c.tokenId === empty.id)).toEqual([])
  })

  it('returns the certificate DER as stored on the token', () => {
    const der = mod.certificate(certId('nurse'))
    expect(Buffer.from(der).equals(new X509Certificate(readFileSync(fx.cert('nurse').cert.certPem)).raw)).toBe(true)
    expectAppError(() => mod.certificate(`${fx.library}#${fx.token('demo-empty').serial}/00ff`), 'CERTIFICATE_NOT_FOUND')
  })

  it('reads attributes the token refuses (sensitive key value) as null without failing the rest', () => {
    const p11 = new pkcs11js.PKCS11()
    p11.load(fx.library)
    expect(() => p11.C_Initialize()).toThrow(/CKR_CRYPTOKI_ALREADY_INITIALIZED/)
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).serialNumber.trim() === fx.cert('doctor').token.serial)!
    const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION)
    try {
      p11.C_Login(session, pkcs11js.CKU_USER, pinOf('doctor'))
      p11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }])
      const [key] = p11.C_FindObjects(session, 1)
      p11.C_FindObjectsFinal(session)
      const attrs = readAttributes(p11, session, key!, [pkcs11js.CKA_ID, pkcs11js.CKA_VALUE, pkcs11js.CKA_LABEL])
      expect(attrs.get(pkcs11js.CKA_ID)!.toString('hex')).toBe(fx.cert('doctor').cert.ckaId)
      expect(attrs.get(pkcs11js.CKA_VALUE)).toBeNull()
      expect(attrs.get(pkcs11js.CKA_LABEL)!.toString('utf8')).toBe(fx.cert('doctor').cert.label)
    } finally {
      p11.C_Logout(session)
      p11.C_CloseSession(session)
    }
  })
})

describe('PIN and signing', () => {
  it('a wrong PIN gives PIN_INCORRECT with SoftHSM\'s count-low flag, and never echoes the PIN', () => {
    const wrong = 'wrong-pin-9731'
    const err = expectAppError(() => mod.login(certId('doctor'), wrong), 'PIN_INCORRECT')
    expect(err.params).toEqual({ triesLeft: null, countLow: true, finalTry: false })
    expect(err.details).toMatch(/CKR_PIN_INCORRECT/)
    expect(JSON.stringify({ ...err, message: err.message, details: err.details })).not.toContain(wrong)
    const token = mod.scan().tokens.find((t) => t.id === certId('doctor').split('/').slice(0, -1).join('/'))!
    expect(token.pin.countLow).toBe(true)
    expect(mod.isLoggedIn(certId('doctor'))).toBe(false)
  })

  it('an empty PIN is refused without a login attempt', () => {
    expectAppError(() => mod.login(certId('doctor'), null), 'PIN_INVALID')
  })

  it('signing before login asks for a new login', () => {
    expectAppError(() => mod.sign(certId('doctor'), Buffer.from('x')), 'SESSION_EXPIRED')
  })

  it('the right PIN logs in, clears count-low, and RSA signatures verify against the certificate', () => {
    mod.login(certId('doctor'), pinOf('doctor'))
    expect(mod.isLoggedIn(certId('doctor'))).toBe(true)
    expect(mod.scan().tokens.find((t) => t.serial === fx.cert('doctor').token.serial)!.pin.countLow).toBe(false)
    const data = Buffer.from('Запрос на вход 2f1c', 'utf8')
    const { keyAlgorithm, signature } = mod.sign(certId('doctor'), data)
    expect(keyAlgorithm).toBe('RSA')
    expect(signature).toHaveLength(256)
    expect(verify('sha256', data, publicKeyOf('doctor'), signature)).toBe(true)
    expect(verify('sha256', Buffer.from('другие данные'), publicKeyOf('doctor'), signature)).toBe(false)
  })

  it('50 back-to-back signatures on one login, each valid (no CKR_OPERATION_ACTIVE)', () => {
    const key = publicKeyOf('doctor')
    for (let i = 0; i < 50; i++) {
      const data = Buffer.from(`документ ${i}`)
      const { signature } = mod.sign(certId('doctor'), data)
      expect(verify('sha256', data, key, signature)).toBe(true)
    }
  })

  it('a repeated login verifies the PIN again: a wrong one ends the login', () => {
    mod.login(certId('doctor'), pinOf('doctor'))
    expectAppError(() => mod.login(certId('doctor'), 'not-the-pin'), 'PIN_INCORRECT')
    expect(mod.isLoggedIn(certId('doctor'))).toBe(false)
    expectAppError(() => mod.sign(certId('doctor'), Buffer.from('x')), 'SESSION_EXPIRED')
    mod.login(certId('doctor'), pinOf('doctor'))
    expect(verify('sha256', Buffer.from('y'), publicKeyOf('doctor'), mod.sign(certId('doctor'), Buffer.from('y')).signature)).toBe(true)
  })

  it('ECDSA P-256: raw r||s over SHA-256 that verifies as IEEE P1363', () => {
    mod.login(certId('nurse'), pinOf('nurse'))
    const data = Buffer.from('подписанные атрибуты')
    const { keyAlgorithm, signature } = mod.sign(certId('nurse'), data)
    expect(keyAlgorithm).toBe('EC')
    expect(signature).toHaveLength(64)
    expect(verify('sha256', data, { key: publicKeyOf('nurse'), dsaEncoding: 'ieee-p1363' }, signature)).toBe(true)
  })

  it('a certificate without its private key cannot sign, and the session survives the error', () => {
    mod.login(certId('noPrivateKey'), pinOf('noPrivateKey'))
    expectAppError(() => mod.sign(certId('noPrivateKey'), Buffer.from('x')), 'PRIVATE_KEY_NOT_FOUND')
    const data = Buffer.from('после ошибки')
    expect(verify('sha256', data, { key: publicKeyOf('expired'), dsaEncoding: 'ieee-p1363' }, mod.sign(certId('expired'), data).signature)).toBe(true)
  })

  it('a token logged in by another part of the process (CKR_USER_ALREADY_LOGGED_IN) counts as logged in', () => {
    mod.logout()
    const p11 = new pkcs11js.PKCS11()
    p11.load(fx.library)
    expect(() => p11.C_Initialize()).toThrow(/CKR_CRYPTOKI_ALREADY_INITIALIZED/)
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).serialNumber.trim() === fx.cert('nurse').token.serial)!
    const other = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION)
    try {
      p11.C_Login(other, pkcs11js.CKU_USER, pinOf('nurse'))
      mod.login(certId('nurse'), pinOf('nurse'))
      const data = Buffer.from('z')
      expect(verify('sha256', data, { key: publicKeyOf('nurse'), dsaEncoding: 'ieee-p1363' }, mod.sign(certId('nurse'), data).signature)).toBe(true)
    } finally {
      p11.C_CloseSession(other)
    }
  })

  it('a GOST R 34.10-2012 key gives MECHANISM_NOT_SUPPORTED with the reason in details, not a crash', () => {
    // SoftHSM has no GOST mechanisms but stores a CKK_GOSTR3410 key object; with a certificate
    // object of the same CKA_ID (the DER is reused, only the key type matters here).
    const p11 = new pkcs11js.PKCS11()
    p11.load(fx.library)
    expect(() => p11.C_Initialize()).toThrow(/CKR_CRYPTOKI_ALREADY_INITIALIZED/)
    const empty = fx.token('demo-empty')
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).serialNumber.trim() === empty.serial)!
    const s = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION)
    try {
      p11.C_Login(s, pkcs11js.CKU_USER, empty.userPin)
      const id = Buffer.from('c0570001', 'hex')
      const der = new X509Certificate(readFileSync(fx.cert('doctor').cert.certPem)).raw
      p11.C_CreateObject(s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: 0x30 },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_ID, value: id },
        { type: pkcs11js.CKA_VALUE, value: Buffer.alloc(32, 7) },
        { type: 0x250, value: Buffer.from('06092a8503070102010101', 'hex') }, // CKA_GOSTR3410_PARAMS: tc26 256 A
        { type: 0x251, value: Buffer.from('06082a85030701010202', 'hex') }, // CKA_GOSTR3411_PARAMS: Streebog-256
      ])
      p11.C_CreateObject(s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
        { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_ID, value: id },
        { type: pkcs11js.CKA_SUBJECT, value: Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, Certificate).tbsCertificate.subject)) },
        { type: pkcs11js.CKA_VALUE, value: der },
      ])
      const gostCert = `${fx.library}#${empty.serial}/c0570001`
      expect(mod.scan().certificates.find((c) => c.id === gostCert)).toMatchObject({ hasPrivateKey: true })
      mod.login(gostCert, empty.userPin)
      const err = expectAppError(() => mod.sign(gostCert, Buffer.from('x')), 'MECHANISM_NOT_SUPPORTED')
      expect(err.params).toEqual({ algorithm: 'ГОСТ Р 34.10-2012 256 бит' })
      expect(err.details).toMatch(/Streebog/)
    } finally {
      mod.logout()
      p11.C_CloseSession(s)
    }
  })

  it('logout ends signing', () => {
    mod.login(certId('doctor'), pinOf('doctor'))
    mod.logout()
    expect(mod.isLoggedIn(certId('doctor'))).toBe(false)
    expectAppError(() => mod.sign(certId('doctor'), Buffer.from('x')), 'SESSION_EXPIRED')
  })
})

describe('hot-plug (SoftHSM token folder moved away and back)', () => {
  it('a pulled token disappears at the next poll; a logged-in one fails with TOKEN_REMOVED; put back, it works again', () => {
    const doctorToken = `${fx.library}#${fx.cert('doctor').token.serial}`
    mod.scan()
    expect(mod.poll()).toBeNull()
    mod.login(certId('doctor'), pinOf('doctor'))

    fx.pull('demo-doctor')
    expectAppError(() => mod.sign(certId('doctor'), Buffer.from('x')), 'TOKEN_REMOVED')
    const gone = mod.poll()
    expect(gone).not.toBeNull()
    expect(gone!.tokens.map((t) => t.id)).not.toContain(doctorToken)
    expect(gone!.certificates.map((c) => c.id)).not.toContain(certId('doctor'))
    expect(gone!.tokens).toHaveLength(fx.manifest.tokens.length - 1)
    expect(gone!.errors).toEqual([])
    expectAppError(() => mod.login(certId('doctor'), pinOf('doctor')), 'TOKEN_REMOVED')
    expect(mod.poll()).toBeNull()

    fx.insert('demo-doctor')
    const back = mod.poll()
    expect(back).not.toBeNull()
    expect(back!.tokens.map((t) => t.id)).toContain(doctorToken)
    expect(back!.certificates.find((c) => c.id === certId('doctor'))).toMatchObject({ hasPrivateKey: true })
    mod.login(certId('doctor'), pinOf('doctor'))
    const data = Buffer.from('после переподключения')
    expect(verify('sha256', data, publicKeyOf('doctor'), mod.sign(certId('doctor'), data).signature)).toBe(true)
  })

  it('a pulled token that was not logged in disappears too, and other tokens stay', () => {
    mod.logout()
    fx.pull('demo-nurse')
    try {
      const s = mod.poll()
      expect(s).not.toBeNull()
      expect(s!.tokens.map((t) => t.label).sort()).toEqual(fx.manifest.tokens.map((t) => t.label).filter((l) => l !== 'demo-nurse').sort())
      expectAppError(() => mod.login(certId('nurse'), pinOf('nurse')), 'TOKEN_NOT_PRESENT')
    } finally {
      fx.insert('demo-nurse')
    }
    expect(mod.poll()!.tokens.map((t) => t.label)).toContain('demo-nurse')
  })
})
