// Demo PKI built with @peculiar/x509 on Node's webcrypto: a CA, end-entity certificates with
// the Russian qualified-certificate subject profile, a TLS server certificate and a CRL.
// Used by the demo-token generator and by tests that need software certificates.
import { webcrypto } from 'node:crypto'
import * as x509 from '../../src/main/core/crypto/x509'
import { AsnConvert } from '@peculiar/asn1-schema'
import { AttributeTypeAndValue, AttributeValue, Name as AsnName, RelativeDistinguishedName } from '@peculiar/asn1-x509'
import { EKU_OID, NAME_OID, RU_EXTENSION_OID } from '../../src/main/core/crypto/oids'

type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair
type Algorithm = webcrypto.Algorithm
type EcdsaParams = webcrypto.EcdsaParams

const crypto = webcrypto

export type KeyKind = 'RSA' | 'EC'

export interface DemoCa {
  certificate: x509.X509Certificate
  keys: CryptoKeyPair
  /** DER of the CA certificate. */
  der: Uint8Array
  certPem: string
  /** PKCS#8 PEM of the CA private key. */
  keyPem: string
}

export interface IssuedCertificate {
  certificate: x509.X509Certificate
  der: Uint8Array
  pem: string
  /** Lowercase hex, as written into the certificate. */
  serialNumber: string
}

/** Subject of a qualified certificate of a person working for an organisation. */
export interface QualifiedSubject {
  /** Фамилия (SN). */
  surname: string
  /** Имя и отчество (GN). */
  givenName: string
  /** CN; defaults to «Фамилия Имя Отчество». */
  commonName?: string
  title?: string
  organization?: string
  organizationalUnit?: string
  /** 11 digits; omitted when null/undefined (a certificate without СНИЛС). */
  snils?: string | null
  /** ИНН of the person, 12 digits. */
  inn?: string | null
  /** ИНН ЮЛ of the organisation, 10 digits. */
  innLe?: string | null
  /** ОГРН of the organisation, 13 digits. */
  ogrn?: string | null
  locality?: string
  region?: string
  street?: string
  email?: string
  /** Defaults to RU. */
  country?: string
}

type StringKind = 'utf8' | 'printable' | 'numeric' | 'ia5'

const RSA_GEN: webcrypto.RsaHashedKeyGenParams = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
const EC_GEN: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }

export function signingAlgorithmFor(key: CryptoKey): Algorithm | EcdsaParams {
  return key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams : { name: 'RSASSA-PKCS1-v1_5' }
}

/** An extractable RSA-2048 (SHA-256) or ECDSA P-256 key pair. */
export async function generateKeyPair(kind: KeyKind): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(kind === 'RSA' ? RSA_GEN : EC_GEN, true, ['sign', 'verify'])) as CryptoKeyPair
}

/** PEM with the label OpenSSL expects and a final newline (so PEM files can be concatenated). */
export function toPem(der: Uint8Array | ArrayBuffer, label: 'CERTIFICATE' | 'X509 CRL' | 'PRIVATE KEY' | 'PUBLIC KEY'): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64')
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`
}

export async function exportKeyPem(key: CryptoKey): Promise<string> {
  return toPem(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')
}

export async function exportSpki(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('spki', key))
}

/** Random positive serial number (16 bytes), lowercase hex. */
export function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[0] = (b[0]! & 0x7f) | 0x01
  return Buffer.from(b).toString('hex')
}

function derString(kind: StringKind, text: string): AttributeValue {
  switch (kind) {
    case 'utf8':
      return new AttributeValue({ utf8String: text })
    case 'printable':
      return new AttributeValue({ printableString: text })
    case 'ia5':
      return new AttributeValue({ ia5String: text })
    case 'numeric': {
      // NumericString (tag 0x12) is how the Russian profile encodes СНИЛС, ИНН and ОГРН.
      const body = Buffer.from(text, 'ascii')
      if (body.length > 127) throw new RangeError('NumericString too long')
      return new AttributeValue({ anyValue: new Uint8Array([0x12, body.length, ...body]).buffer })
    }
  }
}

/** An X.500 name from (OID, text, string type) triples, one attribute per RDN, in order. */
export function buildName(attrs: ReadonlyArray<readonly [oid: string, text: string | null | undefined, kind?: StringKind]>): x509.Name {
  const rdns = attrs
    .filter((a): a is readonly [string, string, StringKind?] => typeof a[1] === 'string' && a[1] !== '')
    .map(([oid, text, kind]) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value: derString(kind ?? 'utf8', text) })]))
  return new x509.Name(AsnConvert.serialize(new AsnName(rdns)))
}

export function qualifiedSubjectName(s: QualifiedSubject): x509.Name {
  return buildName([
    [NAME_OID.country, s.country ?? 'RU', 'printable'],
    [NAME_OID.region, s.region],
    [NAME_OID.locality, s.locality],
    [NAME_OID.street, s.street],
    [NAME_OID.organization, s.organization],
    [NAME_OID.organizationalUnit, s.organizationalUnit],
    [NAME_OID.title, s.title],
    [NAME_OID.commonName, s.commonName ?? `${s.surname} ${s.givenName}`],
    [NAME_OID.surname, s.surname],
    [NAME_OID.givenName, s.givenName],
    [NAME_OID.email, s.email, 'ia5'],
    [NAME_OID.snils, s.snils, 'numeric'],
    [NAME_OID.inn, s.inn, 'numeric'],
    [NAME_OID.innLe, s.innLe, 'numeric'],
    [NAME_OID.ogrn, s.ogrn, 'numeric'],
  ])
}

function toIssued(certificate: x509.X509Certificate): IssuedCertificate {
  return {
    certificate,
    der: new Uint8Array(certificate.rawData),
    pem: toPem(certificate.rawData, 'CERTIFICATE'),
    serialNumber: certificate.serialNumber.toLowerCase(),
  }
}

export interface CreateCaOptions {
  /** Defaults to «Демо УЦ ЛКМР». */
  commonName?: string
  organization?: string
  keyKind?: KeyKind
  notBefore?: Date
  notAfter?: Date
}

/** A self-signed CA certificate with its key pair. */
export async function createCa(opts: CreateCaOptions = {}): Promise<DemoCa> {
  const keys = await generateKeyPair(opts.keyKind ?? 'EC')
  const now = Date.now()
  const name = buildName([
    [NAME_OID.country, 'RU', 'printable'],
    [NAME_OID.locality, 'Москва'],
    [NAME_OID.organization, opts.organization ?? 'ООО «Демо Удостоверяющий Центр»'],
    [NAME_OID.commonName, opts.commonName ?? 'Демо УЦ ЛКМР'],
  ])
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    // Old enough to have issued the demo's long-expired certificates.
    notBefore: opts.notBefore ?? new Date(now - 3 * 365 * 24 * 3600e3),
    notAfter: opts.notAfter ?? new Date(now + 10 * 365 * 24 * 3600e3),
    keys,
    signingAlgorithm: signingAlgorithmFor(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return {
    certificate,
    keys,
    der: new Uint8Array(certificate.rawData),
    certPem: toPem(certificate.rawData, 'CERTIFICATE'),
    keyPem: await exportKeyPem(keys.privateKey),
  }
}

export interface IssueCertificateOptions {
  subject: QualifiedSubject | x509.Name
  /** SPKI DER (e.g. built from a key on a token) or a webcrypto public key. */
  publicKey: Uint8Array | CryptoKey
  notBefore: Date
  notAfter: Date
  serialNumber?: string
  /** Defaults to digitalSignature + nonRepudiation. */
  keyUsage?: number
  /** EKU OIDs; defaults to clientAuth + emailProtection. */
  extendedKeyUsage?: string[]
  /** Extra extensions (e.g. subjectAltName). */
  extensions?: x509.Extension[]
}

/** An end-entity certificate signed by `ca`, with the Russian qualified-certificate profile. */
export async function issueCertificate(ca: DemoCa, opts: IssueCertificateOptions): Promise<IssuedCertificate> {
  const publicKey = await x509.PublicKey.create(opts.publicKey)
  const subject = opts.subject instanceof x509.Name ? opts.subject : qualifiedSubjectName(opts.subject)
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(opts.keyUsage ?? (x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation), true),
    new x509.ExtendedKeyUsageExtension(opts.extendedKeyUsage ?? [EKU_OID.clientAuth, EKU_OID.emailProtection]),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    subjectSignTool('Демо-СКЗИ «SoftHSM2»'),
    ...(opts.extensions ?? []),
  ]
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: opts.serialNumber ?? randomSerial(),
    subject,
    issuer: ca.certificate.subjectName,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: signingAlgorithmFor(ca.keys.privateKey),
    extensions,
  })
  return toIssued(certificate)
}

/** subjectSignTool (1.2.643.100.111): the signing tool of the owner, a UTF8String. */
function subjectSignTool(text: string): x509.Extension {
  const body = Buffer.from(text, 'utf8')
  const value = new Uint8Array([0x0c, ...derLength(body.length), ...body])
  return new x509.Extension(RU_EXTENSION_OID.subjectSignTool, false, value)
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n]
  if (n < 0x100) return [0x81, n]
  return [0x82, n >> 8, n & 0xff]
}

export interface TlsServerCertificate extends IssuedCertificate {
  /** PKCS#8 PEM of the server's private key. */
  keyPem: string
  hosts: string[]
}

const IP_HOST = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]*)$/i

/** A TLS server certificate (EC P-256) for the given DNS names and IP addresses. */
export async function issueTlsServerCertificate(
  ca: DemoCa,
  opts: { hosts?: string[]; commonName?: string; notBefore?: Date; notAfter?: Date } = {},
): Promise<TlsServerCertificate> {
  const hosts = opts.hosts ?? ['localhost', '127.0.0.1', '::1']
  const keys = await generateKeyPair('EC')
  const now = Date.now()
  const issued = await issueCertificate(ca, {
    subject: buildName([
      [NAME_OID.country, 'RU', 'printable'],
      [NAME_OID.organization, 'Демо портал ЛКМР'],
      [NAME_OID.commonName, opts.commonName ?? hosts[0] ?? 'localhost'],
    ]),
    publicKey: keys.publicKey,
    notBefore: opts.notBefore ?? new Date(now - 24 * 3600e3),
    notAfter: opts.notAfter ?? new Date(now + 2 * 365 * 24 * 3600e3),
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    extendedKeyUsage: [EKU_OID.serverAuth],
    extensions: [
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: IP_HOST.test(h) ? 'ip' : 'dns', value: h }))),
    ],
  })
  return { ...issued, keyPem: await exportKeyPem(keys.privateKey), hosts }
}

export interface RevokedEntry {
  /** Hex serial number of the revoked certificate. */
  serialNumber: string
  revocationDate?: Date
}

/** A CRL signed by `ca` listing `revoked`; DER and PEM. */
export async function createCrl(
  ca: DemoCa,
  opts: { revoked: RevokedEntry[]; thisUpdate?: Date; nextUpdate?: Date; crlNumber?: number },
): Promise<{ crl: x509.X509Crl; der: Uint8Array; pem: string }> {
  const now = Date.now()
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.certificate.subjectName,
    thisUpdate: opts.thisUpdate ?? new Date(now - 3600e3),
    nextUpdate: opts.nextUpdate ?? new Date(now + 30 * 24 * 3600e3),
    signingKey: ca.keys.privateKey,
    signingAlgorithm: signingAlgorithmFor(ca.keys.privateKey),
    entries: opts.revoked.map((r) => ({
      serialNumber: r.serialNumber,
      revocationDate: r.revocationDate ?? new Date(now - 3600e3),
      reason: x509.X509CrlReason.keyCompromise,
    })),
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      new x509.Extension('2.5.29.20', false, derInteger(opts.crlNumber ?? 1)),
    ],
  })
  return { crl, der: new Uint8Array(crl.rawData), pem: toPem(crl.rawData, 'X509 CRL') }
}

function derInteger(n: number): Uint8Array {
  const bytes: number[] = []
  let v = n
  do {
    bytes.unshift(v & 0xff)
    v = Math.floor(v / 256)
  } while (v > 0)
  if (bytes[0]! & 0x80) bytes.unshift(0)
  return new Uint8Array([0x02, bytes.length, ...bytes])
}

/** Imports a PKCS#8 PEM private key (RSA or P-256) for signing. */
export async function importPrivateKeyPem(pem: string, kind: KeyKind): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0]!
  return crypto.subtle.importKey('pkcs8', der, kind === 'RSA' ? RSA_GEN : EC_GEN, true, ['sign'])
}

export type { CryptoKey, CryptoKeyPair }
