// X.509 certificate parsing for display and checks: owner and issuer with the Russian
// qualified-certificate attributes, key algorithm (RSA, ECDSA, GOST R 34.10-2012), usage,
// validity and fingerprint. Tolerates keys it cannot use (GOST) and any string encoding.
import { createHash } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import {
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  type SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509'
import { RSAPublicKey } from '@peculiar/asn1-rsa'
import { ECParameters } from '@peculiar/asn1-ecc'
import { AppError } from '../../../shared/errors'
import type { CertificateDetails, KeyAlgorithm } from '../../../shared/model'
import { CURVE_OID, KEY_OID, SIGNATURE_NAMES } from './oids'
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

export function describePublicKey(spki: SubjectPublicKeyInfo): KeyInfo {
  const oid = spki.algorithm.algorithm
  switch (oid) {
    case KEY_OID.rsaEncryption: {
      let bits: number | null = null
      try {
        bits = bitLength(new Uint8Array(AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey).modulus))
      } catch {
        bits = null
      }
      return { keyAlgorithm: 'RSA', keyDescription: bits ? `RSA ${bits} бит` : 'RSA', curve: null, rsaBits: bits }
    }
    case KEY_OID.ecPublicKey: {
      let curveOid: string | null = null
      try {
        if (spki.algorithm.parameters) curveOid = AsnConvert.parse(spki.algorithm.parameters, ECParameters).namedCurve ?? null
      } catch {
        curveOid = null
      }
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

/** Parses a DER certificate; throws AppError('INVALID_INPUT') when it is not one. */
export function decodeCertificate(der: Uint8Array): Certificate {
  try {
    return AsnConvert.parse(der, Certificate)
  } catch (e) {
    throw new AppError('INVALID_INPUT', {}, `not a DER X.509 certificate: ${(e as Error).message}`, { cause: e })
  }
}

export function parseCertificate(der: Uint8Array): CertificateDetails {
  const cert = decodeCertificate(der)
  const tbs = cert.tbsCertificate
  const key = describePublicKey(tbs.subjectPublicKeyInfo)
  let keyUsage: string[] = []
  let extendedKeyUsage: string[] = []
  for (const ext of tbs.extensions ?? []) {
    try {
      if (ext.extnID === id_ce_keyUsage) {
        const flags = AsnConvert.parse(ext.extnValue, KeyUsage).toNumber()
        keyUsage = KEY_USAGE_NAMES.filter((_, bit) => flags & (1 << bit))
      } else if (ext.extnID === id_ce_extKeyUsage) {
        extendedKeyUsage = [...AsnConvert.parse(ext.extnValue, ExtendedKeyUsage)]
      }
    } catch {
      // A malformed optional extension must not hide the certificate; leave the field empty.
    }
  }
  const sigOid = cert.signatureAlgorithm.algorithm
  return {
    subject: personNameFromName(tbs.subject),
    issuer: personNameFromName(tbs.issuer),
    serialNumber: serialHex(tbs.serialNumber),
    notBefore: tbs.validity.notBefore.getTime().toISOString(),
    notAfter: tbs.validity.notAfter.getTime().toISOString(),
    keyAlgorithm: key.keyAlgorithm,
    keyDescription: key.keyDescription,
    signatureAlgorithm: SIGNATURE_NAMES[sigOid] ?? sigOid,
    keyUsage,
    extendedKeyUsage,
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
  }
}

/** Where `date` falls in the certificate's validity period (bounds inclusive, as RFC 5280). */
export function validityAt(details: Pick<CertificateDetails, 'notBefore' | 'notAfter'>, date: Date = new Date()): Validity {
  const t = date.getTime()
  if (t < Date.parse(details.notBefore)) return 'notYetValid'
  if (t > Date.parse(details.notAfter)) return 'expired'
  return 'valid'
}
