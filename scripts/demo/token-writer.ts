// Writes demo objects onto SoftHSM tokens through PKCS#11: key pairs generated ON the token
// (the private key never leaves it) and X.509 certificate objects. Owns the library for the
// time of one `withTokens` call, so run it in a process that does not use SoftHSM otherwise.
import { createHash } from 'node:crypto'
// Default import: under Node ESM a namespace import sees PKCS11 but none of the CK* constants.
import pkcs11js from 'pkcs11js'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier, Certificate, SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { RSAPublicKey } from '@peculiar/asn1-rsa'
import { ECParameters } from '@peculiar/asn1-ecc'
import { CURVE_OID, KEY_OID } from '../../src/main/core/crypto/oids'

export type TokenKeyKind = 'RSA' | 'EC'

export interface TokenKeyPair {
  /** SubjectPublicKeyInfo DER of the generated key. */
  spki: Uint8Array
  /** CKA_ID given to both halves: SHA-1 of the public key bits (as the SKI of RFC 5280). */
  ckaId: Uint8Array
}

export interface DemoTokenSession {
  label: string
  serial: string
  /** Generates a key pair on the token and returns its public key. */
  generateKeyPair(kind: TokenKeyKind, label: string): TokenKeyPair
  /** Stores a certificate object; pair it with a key by passing the key's CKA_ID. */
  writeCertificate(der: Uint8Array, ckaId: Uint8Array, label: string): void
}

const P256_PARAMS_DER = AsnConvert.serialize(new ECParameters({ namedCurve: CURVE_OID.p256 }))
const P256_PARAMS = Buffer.from(P256_PARAMS_DER)

function attr(p11: pkcs11js.PKCS11, session: Buffer, handle: Buffer, type: number): Buffer {
  const [res] = p11.C_GetAttributeValue(session, handle, [{ type }])
  if (!res?.value) throw new Error(`attribute 0x${type.toString(16)} not readable`)
  return res.value
}

/** CKA_EC_POINT is a DER OCTET STRING around the uncompressed point (SoftHSM, PKCS#11 2.40). */
function unwrapEcPoint(value: Buffer): Uint8Array {
  if (value[0] === 0x04 && value.length === 65) return new Uint8Array(value)
  return new Uint8Array(AsnConvert.parse(value, OctetString).buffer)
}

function spkiOf(p11: pkcs11js.PKCS11, session: Buffer, pub: Buffer, kind: TokenKeyKind): Uint8Array {
  const info =
    kind === 'RSA'
      ? new SubjectPublicKeyInfo({
          algorithm: new AlgorithmIdentifier({ algorithm: KEY_OID.rsaEncryption, parameters: null }),
          subjectPublicKey: AsnConvert.serialize(
            new RSAPublicKey({
              modulus: unsignedInteger(attr(p11, session, pub, pkcs11js.CKA_MODULUS)),
              publicExponent: unsignedInteger(attr(p11, session, pub, pkcs11js.CKA_PUBLIC_EXPONENT)),
            }),
          ),
        })
      : new SubjectPublicKeyInfo({
          algorithm: new AlgorithmIdentifier({ algorithm: KEY_OID.ecPublicKey, parameters: P256_PARAMS_DER }),
          subjectPublicKey: toArrayBuffer(unwrapEcPoint(attr(p11, session, pub, pkcs11js.CKA_EC_POINT))),
        })
  return new Uint8Array(AsnConvert.serialize(info))
}

/** SHA-1 of the public key bits (RFC 5280 key identifier method 1), used as CKA_ID. */
export function keyIdOf(spki: Uint8Array): Uint8Array {
  const bits = AsnConvert.parse(spki, SubjectPublicKeyInfo).subjectPublicKey
  return new Uint8Array(createHash('sha1').update(new Uint8Array(bits)).digest())
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
}

/** An INTEGER body for a positive big-endian number (adds the sign byte where needed). */
function unsignedInteger(b: Buffer): ArrayBuffer {
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  const trimmed = b.subarray(i)
  return toArrayBuffer(trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed)
}

function openSession(p11: pkcs11js.PKCS11, slot: Buffer, pin: string): { session: Buffer; label: string; serial: string } {
  const info = p11.C_GetTokenInfo(slot)
  const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION)
  p11.C_Login(session, pkcs11js.CKU_USER, pin)
  return { session, label: info.label.trim(), serial: info.serialNumber.trim() }
}

function tokenSession(p11: pkcs11js.PKCS11, session: Buffer, label: string, serial: string): DemoTokenSession {
  return {
    label,
    serial,
    generateKeyPair(kind, keyLabel) {
      const common = [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: Buffer.from(keyLabel, 'utf8') },
      ]
      const pubTemplate =
        kind === 'RSA'
          ? [...common, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }]
          : [...common, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS }]
      const privTemplate = [
        ...common,
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      ]
      const mechanism = { mechanism: kind === 'RSA' ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN }
      const keys = p11.C_GenerateKeyPair(session, mechanism, pubTemplate, privTemplate)
      const spki = spkiOf(p11, session, keys.publicKey, kind)
      const ckaId = keyIdOf(spki)
      for (const handle of [keys.publicKey, keys.privateKey]) {
        p11.C_SetAttributeValue(session, handle, [{ type: pkcs11js.CKA_ID, value: Buffer.from(ckaId) }])
      }
      return { spki, ckaId }
    },
    writeCertificate(der, ckaId, certLabel) {
      const tbs = AsnConvert.parse(der, Certificate).tbsCertificate
      p11.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
        { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: pkcs11js.CKA_ID, value: Buffer.from(ckaId) },
        { type: pkcs11js.CKA_LABEL, value: Buffer.from(certLabel, 'utf8') },
        { type: pkcs11js.CKA_SUBJECT, value: Buffer.from(AsnConvert.serialize(tbs.subject)) },
        { type: pkcs11js.CKA_ISSUER, value: Buffer.from(AsnConvert.serialize(tbs.issuer)) },
        // CKA_SERIAL_NUMBER is the DER encoding of the INTEGER, tag and length included.
        { type: pkcs11js.CKA_SERIAL_NUMBER, value: derInteger(new Uint8Array(tbs.serialNumber)) },
        { type: pkcs11js.CKA_VALUE, value: Buffer.from(der) },
      ])
    },
  }
}

function derInteger(body: Uint8Array): Buffer {
  const len = body.length
  const head = len < 0x80 ? [0x02, len] : [0x02, 0x81, len]
  return Buffer.from([...head, ...body])
}

/**
 * Runs `work` with a logged-in R/W session on each token of the SoftHSM config `softhsmConf`,
 * keyed by token label, then logs out and finalises the library.
 */
export async function withTokens<T>(
  library: string,
  softhsmConf: string,
  pin: string,
  work: (tokens: Map<string, DemoTokenSession>) => Promise<T> | T,
): Promise<T> {
  const previousConf = process.env.SOFTHSM2_CONF
  process.env.SOFTHSM2_CONF = softhsmConf
  const p11 = new pkcs11js.PKCS11()
  p11.load(library)
  try {
    p11.C_Initialize()
  } catch (e) {
    if ((e as { code?: number }).code === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      throw new Error('the demo token writer needs its own SoftHSM instance: this process already uses the library', { cause: e })
    }
    throw e
  }
  const sessions: Buffer[] = []
  try {
    const tokens = new Map<string, DemoTokenSession>()
    for (const slot of p11.C_GetSlotList(true)) {
      const info = p11.C_GetTokenInfo(slot)
      if (!(info.flags & pkcs11js.CKF_TOKEN_INITIALIZED)) continue
      const s = openSession(p11, slot, pin)
      sessions.push(s.session)
      tokens.set(s.label, tokenSession(p11, s.session, s.label, s.serial))
    }
    return await work(tokens)
  } finally {
    for (const s of sessions) {
      try {
        p11.C_Logout(s)
        p11.C_CloseSession(s)
      } catch {
        // Closing is best effort; C_Finalize below releases everything anyway.
      }
    }
    p11.C_Finalize()
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF
    else process.env.SOFTHSM2_CONF = previousConf
  }
}
