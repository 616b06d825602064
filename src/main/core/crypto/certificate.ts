// X.509 certificate parsing for display and checks: owner and issuer with the Russian
// qualified-certificate attributes, key algorithm (RSA, ECDSA, GOST R 34.10-2012), usage,
// validity and fingerprint. Tolerates keys it cannot use (GOST) and any string encoding.
import { createHash } from 'node:crypto'
import { AppError } from '../../../shared/errors'
import type { CertificateDetails, KeyAlgorithm } from '../../../shared/model'
import { certificateParts, extensionValue, type CertificateParts } from './certificate-parts'
import { children, decodeOid, expectTag, readSingle, type Tlv } from './der'
import { CURVE_OID, EXTENSION_OID, KEY_OID, SIGNATURE_NAMES } from './oids'
import { personNameFromName } from './x500-name'

export type Validity = 'valid' | 'expired' | 'notYetValid'

/** Key usage bit names in bit order (RFC 5280). */
const KEY_USAGE_NAMES = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
  'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
] as const

const CURVE_NAMES: Readonly<Record<string, string>> = {
  [CURVE_OID.p256]: 'P-256',
  [CURVE_OID.p384]: 'P-384',
  [CURVE_OID.p521]: 'P-521',
}

export function toHex(bytes: Uint8Array | ArrayBuffer): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex')
}

/** Serial number as lowercase hex of the integer (no sign padding byte). */
export function serialHex(serial: ArrayBuffer | Uint8Array): string {
  const b = serial instanceof Uint8Array ? serial : new Uint8Array(serial)
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  return toHex(b.subarray(i))
}

function bitLength(unsignedBigEndian: Uint8Array): number {
  let i = 0
  while (i < unsignedBigEndian.length && unsignedBigEndian[i] === 0) i++
  if (i === unsignedBigEndian.length) return 0
  return (unsignedBigEndian.length - i - 1) * 8 + (32 - Math.clz32(unsignedBigEndian[i]!))
}

export interface KeyInfo {
  keyAlgorithm: KeyAlgorithm
  keyDescription: string
  /** EC curve name ('P-256', …) or OID of the parameter set, when there is one. */
  curve: string | null
  /** RSA modulus size in bits, else null. */
  rsaBits: number | null
}

/** Reads the algorithm and size of a SubjectPublicKeyInfo (DER TLV). */
export function describePublicKey(spki: Tlv): KeyInfo {
  const [algorithm, publicKey] = children(spki)
  const [algOid, params] = children(expectTag(algorithm, 0x30, 'algorithm'))
  const oid = decodeOid(expectTag(algOid, 0x06, 'algorithm OID'))
  switch (oid) {
    case KEY_OID.rsaEncryption: {
      let bits: number | null = null
      try {
        // BIT STRING: one unused-bits byte, then RSAPublicKey ::= SEQUENCE { modulus, exponent }.
        const rsa = readSingle(expectTag(publicKey, 0x03, 'subjectPublicKey').value.subarray(1), 0x30)
        bits = bitLength(expectTag(children(rsa)[0], 0x02, 'modulus').value)
      } catch {
        bits = null
      }
      return { keyAlgorithm: 'RSA', keyDescription: bits ? `RSA ${bits} бит` : 'RSA', curve: null, rsaBits: bits }
    }
    case KEY_OID.ecPublicKey: {
      const curveOid = params?.tag === 0x06 ? decodeOid(params) : null
      const curve = curveOid ? (CURVE_NAMES[curveOid] ?? curveOid) : null
      return { keyAlgorithm: 'EC', keyDescription: curve ? `ECDSA ${curve}` : 'ECDSA', curve, rsaBits: null }
    }
    case KEY_OID.gost2012_256:
      return { keyAlgorithm: 'GOST256', keyDescription: 'ГОСТ Р 34.10-2012 256 бит', curve: null, rsaBits: null }
    case KEY_OID.gost2012_512:
      return { keyAlgorithm: 'GOST512', keyDescription: 'ГОСТ Р 34.10-2012 512 бит', curve: null, rsaBits: null }
    case KEY_OID.gost2001:
      return { keyAlgorithm: 'UNKNOWN', keyDescription: 'ГОСТ Р 34.10-2001', curve: null, rsaBits: null }
    default:
      return { keyAlgorithm: 'UNKNOWN', keyDescription: `Неизвестный алгоритм (${oid})`, curve: null, rsaBits: null }
  }
}

/** Splits a DER certificate; throws AppError('INVALID_INPUT') when it is not one. */
export function decodeCertificate(der: Uint8Array): CertificateParts {
  try {
    return certificateParts(der)
  } catch (e) {
    throw new AppError('INVALID_INPUT', {}, `not a DER X.509 certificate: ${(e as Error).message}`, { cause: e })
  }
}

function keyUsageNames(value: Uint8Array | null): string[] {
  if (!value) return []
  // KeyUsage ::= BIT STRING; bit 0 is the most significant bit of the first content byte.
  const bits = expectTag(readSingle(value), 0x03, 'keyUsage').value.subarray(1)
  return KEY_USAGE_NAMES.filter((_, bit) => ((bits[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1)
}

function extendedKeyUsages(value: Uint8Array | null): string[] {
  if (!value) return []
  return children(readSingle(value, 0x30)).map(decodeOid)
}

/** A malformed optional extension must not hide the certificate: leave its field empty. */
function tolerant(read: () => string[]): string[] {
  try {
    return read()
  } catch {
    return []
  }
}

export function parseCertificate(der: Uint8Array): CertificateDetails {
  const parts = decodeCertificate(der)
  try {
    const key = describePublicKey(parts.spki)
    return {
      subject: personNameFromName(parts.subject),
      issuer: personNameFromName(parts.issuer),
      serialNumber: serialHex(parts.serial.value),
      notBefore: parts.notBefore.toISOString(),
      notAfter: parts.notAfter.toISOString(),
      keyAlgorithm: key.keyAlgorithm,
      keyDescription: key.keyDescription,
      signatureAlgorithm: SIGNATURE_NAMES[parts.signatureAlgorithm] ?? parts.signatureAlgorithm,
      keyUsage: tolerant(() => keyUsageNames(extensionValue(parts, EXTENSION_OID.keyUsage))),
      extendedKeyUsage: tolerant(() => extendedKeyUsages(extensionValue(parts, EXTENSION_OID.extKeyUsage))),
      fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    }
  } catch (e) {
    if (e instanceof AppError) throw e
    throw new AppError('INVALID_INPUT', {}, `not a DER X.509 certificate: ${(e as Error).message}`, { cause: e })
  }
}

/** Where `date` falls in the certificate's validity period (bounds inclusive, as RFC 5280). */
export function validityAt(details: Pick<CertificateDetails, 'notBefore' | 'notAfter'>, date: Date = new Date()): Validity {
  const t = date.getTime()
  if (t < Date.parse(details.notBefore)) return 'notYetValid'
  if (t > Date.parse(details.notAfter)) return 'expired'
  return 'valid'
}
