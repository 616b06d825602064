// The byte-exact pieces of a DER certificate, read with the in-house DER walker: what CMS copies
// or compares (issuer name, serial, public key info) and what display and checks need (validity,
// extensions). No schema library: this runs in the token worker, where start-up time counts.
import { children, decodeOid, decodeTime, expectTag, readSingle, type Tlv } from './der'

export interface CertificateExtension {
  oid: string
  critical: boolean
  /** The contents of extnValue (the DER of the extension's own value). */
  value: Uint8Array
}

export interface CertificateParts {
  der: Uint8Array
  tbs: Tlv
  /** The INTEGER TLV of the serial number. */
  serial: Tlv
  issuer: Tlv
  subject: Tlv
  spki: Tlv
  notBefore: Date
  notAfter: Date
  /** OID of the CA's signature algorithm (outer signatureAlgorithm). */
  signatureAlgorithm: string
  extensions: CertificateExtension[]
}

function readExtensions(field: Tlv | undefined): CertificateExtension[] {
  if (!field) return []
  const list = expectTag(children(field)[0], 0x30, 'extensions')
  return children(list).map((ext) => {
    const parts = children(ext)
    const critical = parts[1]?.tag === 0x01 ? parts[1].value[0] !== 0 : false
    const value = expectTag(parts[parts.length - 1], 0x04, 'extnValue').value
    return { oid: decodeOid(expectTag(parts[0], 0x06, 'extnID')), critical, value }
  })
}

/** Splits a DER certificate; throws DerError when the structure is not an X.509 certificate. */
export function certificateParts(der: Uint8Array): CertificateParts {
  const cert = readSingle(der, 0x30)
  const [tbs, sigAlg] = children(cert)
  expectTag(tbs, 0x30, 'tbsCertificate')
  const f = children(tbs!)
  const at = f[0]?.tag === 0xa0 ? 1 : 0 // [0] EXPLICIT version is optional
  const validity = children(expectTag(f[at + 3], 0x30, 'validity'))
  return {
    der,
    tbs: tbs!,
    serial: expectTag(f[at], 0x02, 'serialNumber'),
    issuer: expectTag(f[at + 2], 0x30, 'issuer'),
    subject: expectTag(f[at + 4], 0x30, 'subject'),
    spki: expectTag(f[at + 5], 0x30, 'subjectPublicKeyInfo'),
    notBefore: decodeTime(validity[0] ?? expectTag(undefined, 0x17, 'notBefore')),
    notAfter: decodeTime(validity[1] ?? expectTag(undefined, 0x17, 'notAfter')),
    signatureAlgorithm: decodeOid(expectTag(children(expectTag(sigAlg, 0x30, 'signatureAlgorithm'))[0], 0x06, 'algorithm')),
    extensions: readExtensions(f.slice(at + 6).find((t) => t.tag === 0xa3)),
  }
}

/** The value of an extension, or null. */
export function extensionValue(parts: CertificateParts, oid: string): Uint8Array | null {
  return parts.extensions.find((e) => e.oid === oid)?.value ?? null
}
