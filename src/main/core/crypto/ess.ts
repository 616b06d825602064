// ESS signing-certificate-v2 (RFC 5035), the CAdES-BES attribute that binds the signer's
// certificate to the signature: its ASN.1 for decoding (encoding: ess-encode.ts). No @peculiar package ships it, so it is defined here with
// asn1-schema (decorators applied as functions: the project does not enable legacy decorators).
import { AsnConvert, AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier, GeneralNames, PolicyInformation } from '@peculiar/asn1-x509'
import { DIGEST_OID } from './oids'

/** IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } */
export class IssuerSerial {
  issuer = new GeneralNames()
  serialNumber = new ArrayBuffer(0)
  constructor(params: Partial<IssuerSerial> = {}) {
    Object.assign(this, params)
  }
}
AsnProp({ type: GeneralNames })(IssuerSerial.prototype, 'issuer')
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(IssuerSerial.prototype, 'serialNumber')

/**
 * ESSCertIDv2 ::= SEQUENCE {
 *   hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *   certHash      OCTET STRING,
 *   issuerSerial  IssuerSerial OPTIONAL }
 */
export class EssCertIdV2 {
  /** Absent means SHA-256 (DER omits a DEFAULT value). */
  hashAlgorithm?: AlgorithmIdentifier
  certHash = new OctetString()
  issuerSerial?: IssuerSerial
  constructor(params: Partial<EssCertIdV2> = {}) {
    Object.assign(this, params)
  }
}
AsnProp({ type: AlgorithmIdentifier, optional: true })(EssCertIdV2.prototype, 'hashAlgorithm')
AsnProp({ type: OctetString })(EssCertIdV2.prototype, 'certHash')
AsnProp({ type: IssuerSerial, optional: true })(EssCertIdV2.prototype, 'issuerSerial')

/** SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies SEQUENCE OF PolicyInformation OPTIONAL } */
export class SigningCertificateV2 {
  certs: EssCertIdV2[] = []
  policies?: PolicyInformation[]
  constructor(params: Partial<SigningCertificateV2> = {}) {
    Object.assign(this, params)
  }
}
AsnProp({ type: EssCertIdV2, repeated: 'sequence' })(SigningCertificateV2.prototype, 'certs')
AsnProp({ type: PolicyInformation, repeated: 'sequence', optional: true })(SigningCertificateV2.prototype, 'policies')

export function decodeSigningCertificateV2(der: Uint8Array): SigningCertificateV2 {
  return AsnConvert.parse(der, SigningCertificateV2)
}

/** The digest OID an ESSCertIDv2 uses (SHA-256 when absent). */
export function essHashOid(id: EssCertIdV2): string {
  return id.hashAlgorithm?.algorithm ?? DIGEST_OID.sha256
}
