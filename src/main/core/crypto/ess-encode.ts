// Encoding of the ESS signing-certificate-v2 attribute value (RFC 5035) with the DER writer, for
// the signing path. Decoding, on the verification side, is in ess.ts with asn1-schema; keeping
// the two apart spares the app's start-up the schema library it only needs to verify.
import { octetString, sequence, tlv } from './der'

/**
 * SigningCertificateV2 naming one certificate by its SHA-256 hash (hashAlgorithm omitted: DER
 * drops the DEFAULT sha256) and by issuer and serial number:
 *   SEQUENCE { certs SEQUENCE OF ESSCertIDv2 { certHash, IssuerSerial { GeneralNames, serial } } }
 */
export function encodeSigningCertificateV2(certSha256: Uint8Array, issuerNameDer: Uint8Array, serialValue: Uint8Array): Uint8Array {
  const directoryName = tlv(0xa4, issuerNameDer) // GeneralName [4] EXPLICIT Name
  const issuerSerial = sequence(sequence(directoryName), tlv(0x02, serialValue))
  return sequence(sequence(sequence(octetString(certSha256), issuerSerial)))
}
