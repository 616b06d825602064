// X.509 CRL parsing and signature check on Node's own crypto (RSA PKCS#1 v1.5 and ECDSA with
// SHA-2). The signature is checked over the CRL's original tbsCertList bytes, not a re-encoding.
import { X509Certificate, verify as verifySignature } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CertificateList } from '@peculiar/asn1-x509'
import { VERIFY_SIGNATURE_ALGORITHMS } from '../../src/main/core/crypto/cms-algorithms'
import { children, expectTag, readSingle } from '../../src/main/core/crypto/der'

export interface ParsedCrl {
  thisUpdate: Date
  nextUpdate: Date | null
  /** Revoked serials as lowercase hex without leading zeros. */
  revoked: { serial: string; revokedAt: Date }[]
  /** Returns true when `issuer`'s public key verifies the CRL signature. */
  isSignedBy(issuer: X509Certificate): boolean
}

export function normalizeSerialHex(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '')
}

export function parseCrl(der: Uint8Array): ParsedCrl {
  let list: CertificateList
  let tbs: Uint8Array
  try {
    list = AsnConvert.parse(der, CertificateList)
    // The signature covers tbsCertList exactly as encoded, so take its bytes, not a re-encoding.
    tbs = expectTag(children(readSingle(der, 0x30))[0], 0x30, 'tbsCertList').der
  } catch (e) {
    throw new Error(`Not a DER X.509 CRL: ${(e as Error).message}`, { cause: e })
  }
  const sigOid = list.signatureAlgorithm.algorithm
  const hash = VERIFY_SIGNATURE_ALGORITHMS[sigOid]?.hash ?? null
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
