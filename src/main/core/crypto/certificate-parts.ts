// The byte-exact pieces of a DER certificate that CMS copies or compares: issuer name, serial
// number, subject public key info.
import { children, expectTag, readSingle, type Tlv } from './der'

export interface CertificateParts {
  der: Uint8Array
  tbs: Tlv
  /** The INTEGER TLV of the serial number. */
  serial: Tlv
  issuer: Tlv
  subject: Tlv
  spki: Tlv
}

/** Splits a DER certificate; throws DerError when the structure is not an X.509 certificate. */
export function certificateParts(der: Uint8Array): CertificateParts {
  const cert = readSingle(der, 0x30)
  const tbs = expectTag(children(cert)[0], 0x30, 'tbsCertificate')
  const f = children(tbs)
  const at = f[0]?.tag === 0xa0 ? 1 : 0 // [0] EXPLICIT version is optional
  return {
    der,
    tbs,
    serial: expectTag(f[at], 0x02, 'serialNumber'),
    issuer: expectTag(f[at + 2], 0x30, 'issuer'),
    subject: expectTag(f[at + 4], 0x30, 'subject'),
    spki: expectTag(f[at + 5], 0x30, 'subjectPublicKeyInfo'),
  }
}
