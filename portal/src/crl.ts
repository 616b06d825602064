// X.509 CRL parsing and signature check on Node's own crypto (RSA PKCS#1 v1.5 and ECDSA with
// SHA-2). The signature is checked over the CRL's original tbsCertList bytes, not a re-encoding.
import { X509Certificate, verify as verifySignature } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CertificateList } from '@peculiar/asn1-x509'
import { SIGNATURE_OID } from '../../src/main/core/crypto/oids'

export interface ParsedCrl {
  thisUpdate: Date
  nextUpdate: Date | null
  /** Revoked serials as lowercase hex without leading zeros. */
  revoked: { serial: string; revokedAt: Date }[]
  /** Returns true when `issuer`'s public key verifies the CRL signature. */
  isSignedBy(issuer: X509Certificate): boolean
}

const HASH_BY_SIGNATURE: Readonly<Record<string, string>> = {
  [SIGNATURE_OID.sha256WithRSAEncryption]: 'sha256',
  [SIGNATURE_OID.sha384WithRSAEncryption]: 'sha384',
  [SIGNATURE_OID.sha512WithRSAEncryption]: 'sha512',
  [SIGNATURE_OID.ecdsaWithSHA256]: 'sha256',
  [SIGNATURE_OID.ecdsaWithSHA384]: 'sha384',
  [SIGNATURE_OID.ecdsaWithSHA512]: 'sha512',
}

/** The bytes (tag, length and value) of the first element inside the outer DER SEQUENCE. */
function firstInnerElement(der: Uint8Array): Uint8Array {
  const headerLength = (at: number): { header: number; length: number } => {
    const first = der[at + 1]
    if (first === undefined) throw new Error('truncated DER')
    if (first < 0x80) return { header: 2, length: first }
    const n = first & 0x7f
    if (n === 0 || n > 4) throw new Error('unsupported DER length')
    let length = 0
    for (let i = 0; i < n; i++) {
      const b = der[at + 2 + i]
      if (b === undefined) throw new Error('truncated DER')
      length = length * 256 + b
    }
    return { header: 2 + n, length }
  }
  if (der[0] !== 0x30) throw new Error('not a DER SEQUENCE')
  const outer = headerLength(0)
  const start = outer.header
  if (der[start] !== 0x30) throw new Error('tbsCertList is not a SEQUENCE')
  const inner = headerLength(start)
  const end = start + inner.header + inner.length
  if (end > der.length) throw new Error('truncated DER')
  return der.subarray(start, end)
}

export function normalizeSerialHex(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '')
}

export function parseCrl(der: Uint8Array): ParsedCrl {
  let list: CertificateList
  let tbs: Uint8Array
  try {
    list = AsnConvert.parse(der, CertificateList)
    tbs = firstInnerElement(der)
  } catch (e) {
    throw new Error(`Not a DER X.509 CRL: ${(e as Error).message}`, { cause: e })
  }
  const sigOid = list.signatureAlgorithm.algorithm
  const hash = HASH_BY_SIGNATURE[sigOid]
  const signature = new Uint8Array(list.signature)
  return {
    thisUpdate: list.tbsCertList.thisUpdate.getTime(),
    nextUpdate: list.tbsCertList.nextUpdate?.getTime() ?? null,
    revoked: (list.tbsCertList.revokedCertificates ?? []).map((r) => ({
      serial: normalizeSerialHex(Buffer.from(r.userCertificate).toString('hex')),
      revokedAt: r.revocationDate.getTime(),
    })),
    isSignedBy(issuer: X509Certificate): boolean {
      if (!hash) return false
      try {
        return verifySignature(hash, tbs, issuer.publicKey, signature)
      } catch {
        return false
      }
    },
  }
}
