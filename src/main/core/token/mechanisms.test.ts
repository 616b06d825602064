// The mechanism table: one entry per key algorithm, GOST codes from the TC26 range, and the bytes
// given to C_Sign checked against node:crypto's own RSA and ECDSA.
import { createHash, generateKeyPairSync, publicDecrypt, sign, constants } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AppError } from '../../../shared/errors'
import { CKA_GOST, CKK, CKM, MECHANISMS, keyAlgorithmFromKeyType, signingInput, signingOptions } from './mechanisms'

describe('mechanism table', () => {
  it('holds the PKCS#11 and TC26 codes of shared/domain.md', () => {
    expect(CKK).toEqual({ RSA: 0, EC: 3, GOSTR3410: 0x30, GOSTR3410_512: 0xd4321003 })
    expect(CKM.GOSTR3410).toBe(0x1201)
    expect(CKM.GOSTR3410_512).toBe(0xd4321006)
    expect(CKM.GOSTR3410_WITH_GOSTR3411_12_256).toBe(0xd4321008)
    expect(CKM.GOSTR3410_WITH_GOSTR3411_12_512).toBe(0xd4321009)
    expect(CKM.GOSTR3411_12_256).toBe(0xd4321012)
    expect(CKM.GOSTR3411_12_512).toBe(0xd4321013)
    expect(CKA_GOST.GOSTR3410_PARAMS).toBe(0x250)
    expect(CKA_GOST.GOSTR3411_PARAMS).toBe(0x251)
  })

  it('prefers the token hashing for RSA, software SHA-256 + raw ECDSA for EC, the combined GOST mechanisms first', () => {
    expect(MECHANISMS.RSA.options[0]).toMatchObject({ mechanism: CKM.SHA256_RSA_PKCS, hash: null })
    expect(MECHANISMS.EC.options).toEqual([expect.objectContaining({ mechanism: CKM.ECDSA, hash: 'sha256', output: 'ecdsa-raw' })])
    expect(MECHANISMS.GOST256.options.map((o) => o.mechanism)).toEqual([CKM.GOSTR3410_WITH_GOSTR3411_12_256, CKM.GOSTR3410])
    expect(MECHANISMS.GOST512.options.map((o) => o.mechanism)).toEqual([CKM.GOSTR3410_WITH_GOSTR3411_12_512, CKM.GOSTR3410_512])
    expect(MECHANISMS.GOST256.options[1]!.hash).toBe('streebog256')
    expect(keyAlgorithmFromKeyType(CKK.GOSTR3410)).toBe('GOST256')
    expect(keyAlgorithmFromKeyType(CKK.GOSTR3410_512)).toBe('GOST512')
    expect(keyAlgorithmFromKeyType(0x10)).toBe('UNKNOWN')
  })
})

describe('signingOptions', () => {
  it('keeps the options the token lists, in table order', () => {
    expect(signingOptions(CKK.RSA, null).options.map((o) => o.mechanism)).toEqual([CKM.SHA256_RSA_PKCS, CKM.RSA_PKCS])
    expect(signingOptions(CKK.RSA, [CKM.RSA_PKCS, 0x1041]).options.map((o) => o.mechanism)).toEqual([CKM.RSA_PKCS])
    expect(signingOptions(CKK.EC, [CKM.ECDSA]).entry.keyAlgorithm).toBe('EC')
  })

  it('says MECHANISM_NOT_SUPPORTED when the token offers nothing usable', () => {
    let e: unknown
    try {
      signingOptions(CKK.EC, [CKM.SHA256_RSA_PKCS])
    } catch (err) {
      e = err
    }
    expect(AppError.is(e, 'MECHANISM_NOT_SUPPORTED')).toBe(true)
    expect((e as AppError).params).toEqual({ algorithm: 'ECDSA' })
    expect(() => signingOptions(0x10, null)).toThrow(/MECHANISM_NOT_SUPPORTED/)
  })

  it('GOST keys: MECHANISM_NOT_SUPPORTED with the reason, even on a token offering the GOST mechanisms', () => {
    for (const [kt, name] of [[CKK.GOSTR3410, 'ГОСТ Р 34.10-2012 256 бит'], [CKK.GOSTR3410_512, 'ГОСТ Р 34.10-2012 512 бит']] as const) {
      let e: unknown
      try {
        signingOptions(kt, Object.values(CKM))
      } catch (err) {
        e = err
      }
      expect(AppError.is(e, 'MECHANISM_NOT_SUPPORTED')).toBe(true)
      expect((e as AppError).params).toEqual({ algorithm: name })
      expect((e as AppError).details).toMatch(/Streebog/)
    }
  })
})

describe('signingInput', () => {
  const data = Buffer.from('подписываемые данные')

  it('RSA with the combined mechanism: the data itself (the token hashes)', () => {
    expect(signingInput(MECHANISMS.RSA.options[0]!, data).equals(data)).toBe(true)
  })

  it('RSA_PKCS: exactly the DigestInfo an RSA-SHA256 signature carries', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const digestInfo = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sign('sha256', data, privateKey))
    expect(signingInput(MECHANISMS.RSA.options[1]!, data).equals(digestInfo)).toBe(true)
  })

  it('ECDSA: SHA-256 of the data', () => {
    expect(signingInput(MECHANISMS.EC.options[0]!, data).equals(createHash('sha256').update(data).digest())).toBe(true)
  })
})
