// The one home for object identifiers used by the crypto code: X.500 and Russian subject
// attributes, key and signature algorithms (incl. GOST R 34.10/34.11-2012), CMS/CAdES attributes.

/** Subject/issuer attributes, incl. the Russian qualified-certificate profile. */
export const NAME_OID = {
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  serialNumber: '2.5.4.5',
  country: '2.5.4.6',
  locality: '2.5.4.7',
  region: '2.5.4.8',
  street: '2.5.4.9',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  title: '2.5.4.12',
  givenName: '2.5.4.42',
  email: '1.2.840.113549.1.9.1',
  /** СНИЛС */
  snils: '1.2.643.100.3',
  /** ИНН (физического лица, либо ЮЛ в старых сертификатах) */
  inn: '1.2.643.3.131.1.1',
  /** ИНН ЮЛ */
  innLe: '1.2.643.100.4',
  /** ОГРН */
  ogrn: '1.2.643.100.1',
  /** ОГРНИП */
  ogrnip: '1.2.643.100.5',
} as const

/** Certificate extensions of the Russian profile. */
export const RU_EXTENSION_OID = {
  subjectSignTool: '1.2.643.100.111',
  issuerSignTool: '1.2.643.100.112',
} as const

/** Public key algorithms (SubjectPublicKeyInfo.algorithm). */
export const KEY_OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  gost2001: '1.2.643.2.2.19',
  gost2012_256: '1.2.643.7.1.1.1.1',
  gost2012_512: '1.2.643.7.1.1.1.2',
} as const

/** Named elliptic curves and GOST parameter sets. */
export const CURVE_OID = {
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  gostTc26_256_A: '1.2.643.7.1.2.1.1.1',
  gostTc26_512_A: '1.2.643.7.1.2.1.2.1',
} as const

export const DIGEST_OID = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  gost3411_2012_256: '1.2.643.7.1.1.2.2',
  gost3411_2012_512: '1.2.643.7.1.1.2.3',
} as const

export const SIGNATURE_OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  gost2012_256: '1.2.643.7.1.1.3.2',
  gost2012_512: '1.2.643.7.1.1.3.3',
  gost2001: '1.2.643.2.2.3',
} as const

/** CMS content types and CAdES-BES signed attributes. */
export const CMS_OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
} as const

export const EKU_OID = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const

/** Human names of signature algorithms, for display and logs. */
export const SIGNATURE_NAMES: Readonly<Record<string, string>> = {
  [SIGNATURE_OID.sha256WithRSAEncryption]: 'sha256WithRSAEncryption',
  [SIGNATURE_OID.sha384WithRSAEncryption]: 'sha384WithRSAEncryption',
  [SIGNATURE_OID.sha512WithRSAEncryption]: 'sha512WithRSAEncryption',
  [SIGNATURE_OID.sha1WithRSAEncryption]: 'sha1WithRSAEncryption',
  [SIGNATURE_OID.ecdsaWithSHA256]: 'ecdsa-with-SHA256',
  [SIGNATURE_OID.ecdsaWithSHA384]: 'ecdsa-with-SHA384',
  [SIGNATURE_OID.ecdsaWithSHA512]: 'ecdsa-with-SHA512',
  [SIGNATURE_OID.gost2012_256]: 'ГОСТ Р 34.10-2012 256 бит (ГОСТ Р 34.11-2012)',
  [SIGNATURE_OID.gost2012_512]: 'ГОСТ Р 34.10-2012 512 бит (ГОСТ Р 34.11-2012)',
  [SIGNATURE_OID.gost2001]: 'ГОСТ Р 34.10-2001 (ГОСТ Р 34.11-94)',
}

/** X.509 v3 extensions read by the parser and the CMS verifier. */
export const EXTENSION_OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
} as const
