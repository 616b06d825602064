import { spawnSync } from 'node:child_process'
import { createHash, webcrypto } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../../shared/errors'
import type { KeyAlgorithm } from '../../../shared/model'
import {
  createCa, exportKeyPem, exportSpki, generateKeyPair, issueCertificate, type CryptoKey, type DemoCa, type IssuedCertificate, type KeyKind,
} from '../../../../scripts/demo/pki'
import { certificateParts } from './certificate-parts'
import { CMS_ALGORITHMS } from './cms-algorithms'
import { buildSignedAttributes, encodeSignedData, signDetachedCadesBatch } from './cms-sign'
import { ecdsaDerToRaw, ecdsaRawToDer, signDetachedCades, verifyDetachedCades, type RawSigner } from './cms'

let ca: DemoCa
let work: string
const now = Date.now()
const period = { notBefore: new Date(now - 86400e3), notAfter: new Date(now + 30 * 86400e3) }
const content = new TextEncoder().encode('Запрос на вход: 8f3c1a… (ЛКМР)\n')

interface Holder {
  kind: KeyKind
  keys: webcrypto.CryptoKeyPair
  cert: IssuedCertificate
}

/** Signs like the token does: RSA PKCS#1 v1.5 over SHA-256; ECDSA r||s over the SHA-256 digest. */
function softwareSigner(kind: KeyKind, key: CryptoKey, seen?: Uint8Array[]): RawSigner {
  return async (signedAttrs) => {
    seen?.push(Uint8Array.from(signedAttrs))
    const alg = kind === 'RSA' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' }
    return { keyAlgorithm: kind as KeyAlgorithm, signature: new Uint8Array(await webcrypto.subtle.sign(alg, key, signedAttrs)) }
  }
}

async function holder(kind: KeyKind, keys?: webcrypto.CryptoKeyPair): Promise<Holder> {
  const k = keys ?? (await generateKeyPair(kind))
  const cert = await issueCertificate(ca, {
    subject: { surname: 'Иванов', givenName: 'Иван Иванович', snils: '11223344595', title: 'Врач-терапевт' },
    publicKey: await exportSpki(k.publicKey),
    ...period,
  })
  return { kind, keys: k, cert }
}

function openssl(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { cwd: work, encoding: 'utf8' })
  return { ok: r.status === 0, out: `${r.stdout}\n${r.stderr}` }
}

function opensslVerify(p7s: Uint8Array, data: Uint8Array): { ok: boolean; out: string } {
  writeFileSync(join(work, 'sig.p7s'), p7s)
  writeFileSync(join(work, 'data.bin'), data)
  return openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'sig.p7s', '-content', 'data.bin', '-CAfile', 'ca.pem', '-purpose', 'any', '-out', '/dev/null'])
}

async function expectCode(p: Promise<unknown>, code: AppError['code'], details?: RegExp): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(AppError.is(err, code), `expected ${code}, got ${String(err)}`).toBe(true)
  if (details) expect((err as AppError).details).toMatch(details)
  return err as AppError
}

beforeAll(async () => {
  ca = await createCa({ commonName: 'Тестовый УЦ CMS', keyKind: 'RSA' })
  work = mkdtempSync(join(tmpdir(), 'lkmr-cms-'))
  writeFileSync(join(work, 'ca.pem'), ca.certPem)
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe.each(['RSA', 'EC'] as const)('CAdES-BES with %s', (kind) => {
  let h: Holder
  let p7s: Uint8Array
  const signingTime = new Date(Math.floor(now / 1000) * 1000)
  const seen: Uint8Array[] = []

  beforeAll(async () => {
    h = await holder(kind)
    p7s = await signDetachedCades(content, h.cert.der, softwareSigner(kind, h.keys.privateKey, seen), { signingTime })
  })

  it('round-trips through our verifier', async () => {
    const r = await verifyDetachedCades(p7s, content)
    expect(Buffer.from(r.signerCertificate).equals(Buffer.from(h.cert.der))).toBe(true)
    expect(r.certificates).toHaveLength(1)
    expect(r.signingTime?.toISOString()).toBe(signingTime.toISOString())
    expect(r.hasSigningCertificateV2).toBe(true)
    // The signer was handed the DER SET OF signed attributes.
    expect(seen[0]![0]).toBe(0x31)
  })

  it('verifies with openssl cms -verify against the CA', () => {
    const r = opensslVerify(p7s, content)
    expect(r.out).toContain('Verification successful')
    expect(r.ok).toBe(true)
  })

  it('carries exactly the four CAdES-BES signed attributes (openssl cms -cmsout -print)', () => {
    writeFileSync(join(work, 'print.p7s'), p7s)
    const r = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'print.p7s'])
    expect(r.ok).toBe(true)
    const attrs = r.out.slice(r.out.indexOf('signedAttrs:'), r.out.indexOf('signatureAlgorithm:', r.out.indexOf('signedAttrs:')))
    const objects = [...attrs.matchAll(/object: (\S+) \(([\d.]+)\)/g)].map((m) => m[2]).sort()
    expect(objects).toEqual(['1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.5'].sort())
    expect(r.out).toContain('eContent: <ABSENT>') // detached
    expect(r.out).toMatch(kind === 'RSA' ? /signatureAlgorithm:\s*\n\s*algorithm: rsaEncryption/ : /signatureAlgorithm:\s*\n\s*algorithm: ecdsa-with-SHA256/)
  })

  it('fails on tampered content, here and in OpenSSL', async () => {
    const other = Uint8Array.from(content)
    other[0]! ^= 1
    await expectCode(verifyDetachedCades(p7s, other), 'SIGNATURE_INVALID', /messageDigest/)
    expect(opensslVerify(p7s, other).ok).toBe(false)
  })

  it('fails when the signed attributes were altered (signing time moved)', async () => {
    const stamp = signingTime.toISOString().replace(/[-T:]/g, '').slice(2, 14) + 'Z' // YYMMDDHHMMSSZ
    const at = Buffer.from(p7s).indexOf(Buffer.from(stamp, 'ascii'))
    expect(at).toBeGreaterThan(0)
    const forged = Uint8Array.from(p7s)
    forged[at + 3] = forged[at + 3] === 0x30 ? 0x31 : 0x30 // another month (second digit of MM), still a valid time
    await expectCode(verifyDetachedCades(forged, content), 'SIGNATURE_INVALID', /signature does not match/)
    expect(opensslVerify(forged, content).ok).toBe(false)
  })

  it('fails when the certificate does not belong to the key that signed', async () => {
    const stranger = await holder(kind)
    const forged = await signDetachedCades(content, stranger.cert.der, softwareSigner(kind, h.keys.privateKey))
    await expectCode(verifyDetachedCades(forged, content), 'SIGNATURE_INVALID', /signature does not match/)
    expect(opensslVerify(forged, content).ok).toBe(false)
  })

  it('includes extra certificates and still verifies', async () => {
    const withChain = await signDetachedCades(content, h.cert.der, softwareSigner(kind, h.keys.privateKey), { extraCertificates: [ca.der, h.cert.der] })
    const r = await verifyDetachedCades(withChain, content)
    expect(r.certificates).toHaveLength(2)
    expect(Buffer.from(r.signerCertificate).equals(Buffer.from(h.cert.der))).toBe(true)
    expect(opensslVerify(withChain, content).ok).toBe(true)
  })
})

describe.each(['RSA', 'EC'] as const)('batch signing with %s', (kind) => {
  it('signs 37 documents in chunks; every signature verifies, in order, also with OpenSSL', async () => {
    const h = await holder(kind)
    const docs = Array.from({ length: 37 }, (_, i) => new TextEncoder().encode(`Рецепт № ${i}`))
    const calls: number[] = []
    const one = softwareSigner(kind, h.keys.privateKey)
    const batch = async (attrs: Uint8Array[]) => {
      calls.push(attrs.length)
      return Promise.all(attrs.map((a) => one(a)))
    }
    const p7s = await signDetachedCadesBatch(docs, h.cert.der, batch, { chunkSize: 10 })
    expect(calls).toEqual([10, 10, 10, 7])
    expect(p7s).toHaveLength(37)
    for (let i = 0; i < docs.length; i++) await verifyDetachedCades(p7s[i]!, docs[i]!)
    await expectCode(verifyDetachedCades(p7s[3]!, docs[4]!), 'SIGNATURE_INVALID')
    expect(opensslVerify(p7s[36]!, docs[36]!).ok).toBe(true)
  })

  it('ends the batch with the signer failure and signs nothing for an empty batch', async () => {
    const h = await holder(kind)
    expect(await signDetachedCadesBatch([], h.cert.der, async () => [])).toEqual([])
    const failing = async () => {
      throw new AppError('TOKEN_REMOVED')
    }
    await expectCode(signDetachedCadesBatch([content, content], h.cert.der, failing), 'TOKEN_REMOVED')
  })
})

describe('signingCertificateV2', () => {
  it('rejects a signature whose ESS attribute names another certificate of the same key', async () => {
    const first = await holder('EC')
    const second = await holder('EC', first.keys) // same key, another certificate
    const digest = createHash('sha256').update(content).digest()
    const attrs = buildSignedAttributes(digest, first.cert.der, new Date())
    const { signature } = await softwareSigner('EC', first.keys.privateKey)(attrs)
    const p7s = encodeSignedData(certificateParts(second.cert.der), CMS_ALGORITHMS.EC, attrs, ecdsaRawToDer(signature))
    await expectCode(verifyDetachedCades(p7s, content), 'SIGNATURE_INVALID', /signingCertificateV2/)
    // The same assembly with the right certificate passes, so only the ESS binding failed above.
    const good = encodeSignedData(certificateParts(first.cert.der), CMS_ALGORITHMS.EC, attrs, ecdsaRawToDer(signature))
    expect((await verifyDetachedCades(good, content)).hasSigningCertificateV2).toBe(true)
  })
})

describe('verifyDetachedCades on signatures made by OpenSSL', () => {
  it.each(['RSA', 'EC'] as const)('accepts openssl cms -sign -cades output (%s)', async (kind) => {
    const h = await holder(kind)
    writeFileSync(join(work, 'signer.pem'), h.cert.pem)
    writeFileSync(join(work, 'signer.key'), await exportKeyPem(h.keys.privateKey))
    writeFileSync(join(work, 'in.bin'), content)
    const r = openssl(['cms', '-sign', '-binary', '-cades', '-md', 'sha256', '-in', 'in.bin', '-signer', 'signer.pem', '-inkey', 'signer.key', '-outform', 'DER', '-out', 'ossl.p7s'])
    expect(r.ok, r.out).toBe(true)
    const p7s = new Uint8Array(readFileSync(join(work, 'ossl.p7s')))
    const v = await verifyDetachedCades(p7s, content)
    expect(v.hasSigningCertificateV2).toBe(true)
    expect(v.signingTime).not.toBeNull()
    await expectCode(verifyDetachedCades(p7s, new TextEncoder().encode('другое')), 'SIGNATURE_INVALID')
  })
})

describe('failures', () => {
  it('answers SIGNATURE_INVALID for malformed input', async () => {
    const h = await holder('EC')
    const good = await signDetachedCades(content, h.cert.der, softwareSigner('EC', h.keys.privateKey))
    for (const bad of [new Uint8Array(0), Uint8Array.from([0x30, 0x80, 0, 0]), good.subarray(0, good.length - 10), content, h.cert.der]) {
      await expectCode(verifyDetachedCades(bad, content), 'SIGNATURE_INVALID')
    }
  })

  it('refuses GOST certificates with MECHANISM_NOT_SUPPORTED without calling the signer', async () => {
    const gostSpki = Uint8Array.from(Buffer.from(
      '3066301f06082a85030701010101301306072a85030202230106082a8503070101020203430004' + '40' + '07'.repeat(64), 'hex'))
    const cert = await issueCertificate(ca, { subject: { surname: 'Гостев', givenName: 'Г' }, publicKey: gostSpki, ...period })
    let called = false
    const err = await expectCode(
      signDetachedCades(content, cert.der, async () => {
        called = true
        return { keyAlgorithm: 'GOST256', signature: new Uint8Array(64) }
      }),
      'MECHANISM_NOT_SUPPORTED',
    )
    expect(err.params.algorithm).toBe('ГОСТ Р 34.10-2012 256 бит')
    expect(called).toBe(false)
  })

  it('refuses a signer that used another kind of key', async () => {
    const h = await holder('RSA')
    const ec = await generateKeyPair('EC')
    await expectCode(signDetachedCades(content, h.cert.der, softwareSigner('EC', ec.privateKey)), 'INTERNAL', /EC key for a RSA certificate/)
  })
})

describe('ECDSA signature forms', () => {
  it('converts r||s to Ecdsa-Sig-Value and back, with sign bytes and leading zeros', () => {
    const raw = new Uint8Array(64)
    raw[0] = 0x80 // r needs a sign byte
    raw[31] = 1
    raw[63] = 5 // s = 5: many leading zeros
    const der = ecdsaRawToDer(raw)
    expect(Buffer.from(der).toString('hex')).toBe('3026022100' + '80' + '00'.repeat(30) + '01' + '020105')
    expect(Buffer.from(ecdsaDerToRaw(der, 32)).equals(Buffer.from(raw))).toBe(true)
  })
})
