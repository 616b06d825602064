// CAdES-BES detached signatures (CMS SignedData) made with a key we never see: the caller's
// signer (a token) signs the DER of the signed attributes; this module builds everything else.
import { createHash } from 'node:crypto'
import { AppError } from '../../../shared/errors'
import type { KeyAlgorithm } from '../../../shared/model'
import { describePublicKey } from './certificate'
import { certificateParts, type CertificateParts } from './certificate-parts'
import { cmsAlgorithmFor, type CmsAlgorithm } from './cms-algorithms'
import {
  algorithmIdentifier, bytesEqual, encodeTime, octetString, oid, readSingle, sequence, setOf, smallInteger, tlv,
} from './der'
import { ecdsaRawToDer } from './ecdsa-signature'
import { encodeSigningCertificateV2 } from './ess-encode'
import { CMS_OID } from './oids'

/**
 * Signs the DER of the SET OF signed attributes. RSA: PKCS#1 v1.5 over SHA-256 (as
 * CKM_SHA256_RSA_PKCS gives). EC: raw r||s over the SHA-256 digest (the signer hashes, as with
 * CKM_ECDSA). `keyAlgorithm` says which key signed, and must match the certificate.
 */
export type RawSigner = (signedAttrsDer: Uint8Array) => Promise<{ keyAlgorithm: KeyAlgorithm; signature: Uint8Array }>

export interface SignOptions {
  /** Defaults to now. */
  signingTime?: Date
  /** More certificates to include (e.g. the chain), DER. */
  extraCertificates?: Uint8Array[]
}

function attribute(type: string, value: Uint8Array): Uint8Array {
  return sequence(oid(type), setOf([value]))
}

/** What signing needs from a certificate, computed once per certificate rather than per signature. */
interface PreparedSigner {
  cert: CertificateParts
  keyAlgorithm: KeyAlgorithm
  alg: CmsAlgorithm & { nodeDigest: string }
  /** The signingCertificateV2 attribute value: fixed for a certificate. */
  essAttribute: Uint8Array
}

const prepared = new Map<string, PreparedSigner>()
const PREPARED_MAX = 32

function prepare(certificateDer: Uint8Array): PreparedSigner {
  const certHash = createHash('sha256').update(certificateDer).digest()
  const cacheKey = certHash.toString('hex')
  const hit = prepared.get(cacheKey)
  if (hit) return hit
  const cert = partsOf(certificateDer)
  const key = describePublicKey(cert.spki)
  const alg = cmsAlgorithmFor(key.keyAlgorithm)
  if (!alg || !alg.supported || !alg.nodeDigest) {
    throw new AppError(
      'MECHANISM_NOT_SUPPORTED',
      { algorithm: key.keyDescription },
      `CMS signing with ${key.keyDescription} is not implemented${alg ? ` (digest ${alg.digestOid} unavailable)` : ''}`,
    )
  }
  const entry: PreparedSigner = {
    cert,
    keyAlgorithm: key.keyAlgorithm,
    alg: alg as PreparedSigner['alg'],
    essAttribute: attribute(CMS_OID.signingCertificateV2, encodeSigningCertificateV2(certHash, cert.issuer.der, cert.serial.value)),
  }
  if (prepared.size >= PREPARED_MAX) prepared.delete(prepared.keys().next().value as string)
  prepared.set(cacheKey, entry)
  return entry
}

function partsOf(der: Uint8Array): CertificateParts {
  try {
    return certificateParts(der)
  } catch (e) {
    throw new AppError('INVALID_INPUT', {}, `signer certificate is not DER X.509: ${(e as Error).message}`, { cause: e })
  }
}

/** The DER of the signed attributes (SET OF, DER-sorted): the bytes the signer signs. */
export function buildSignedAttributes(contentDigest: Uint8Array, certificateDer: Uint8Array, signingTime: Date): Uint8Array {
  return signedAttributes(contentDigest, prepare(certificateDer).essAttribute, signingTime)
}

const CONTENT_TYPE_DATA = attribute(CMS_OID.contentType, oid(CMS_OID.data))

function signedAttributes(contentDigest: Uint8Array, essAttribute: Uint8Array, signingTime: Date): Uint8Array {
  return setOf([
    CONTENT_TYPE_DATA,
    attribute(CMS_OID.signingTime, encodeTime(signingTime)),
    attribute(CMS_OID.messageDigest, octetString(contentDigest)),
    essAttribute,
  ])
}

/** A detached CAdES-BES CMS SignedData (DER ContentInfo) over `content`. */
export async function signDetachedCades(
  content: Uint8Array,
  certificateDer: Uint8Array,
  signer: RawSigner,
  options: SignOptions = {},
): Promise<Uint8Array> {
  const p = prepare(certificateDer)
  const signedAttrs = attributesFor(p, content, options.signingTime ?? new Date())
  return assemble(p, signedAttrs, await signer(signedAttrs), options.extraCertificates)
}

/** Signs the signed-attribute sets of many documents at once (one token login, a batch). */
export type RawBatchSigner = (signedAttrsDer: Uint8Array[]) => Promise<Awaited<ReturnType<RawSigner>>[]>

/**
 * Detached CAdES-BES signatures of many documents with one certificate. Documents go to the
 * signer in chunks, and the next chunk's attributes are built while the token signs the current
 * one, so the token, not this thread, sets the pace.
 */
export async function signDetachedCadesBatch(
  contents: readonly Uint8Array[],
  certificateDer: Uint8Array,
  signer: RawBatchSigner,
  options: SignOptions & { chunkSize?: number } = {},
): Promise<Uint8Array[]> {
  const p = prepare(certificateDer)
  const size = Math.max(1, options.chunkSize ?? 16)
  const attrsOf = (from: number): Uint8Array[] =>
    contents.slice(from, from + size).map((c) => attributesFor(p, c, options.signingTime ?? new Date()))
  const out: Uint8Array[] = []
  let current = attrsOf(0)
  let signing = current.length ? signer(current) : null
  for (let from = 0; signing; from += size) {
    const next = from + size < contents.length ? attrsOf(from + size) : null
    const results = await signing
    signing = next ? signer(next) : null
    // Let the signer reach the token (its own awaits) before this thread assembles the chunk.
    if (signing) await new Promise<void>((resolveSoon) => setImmediate(resolveSoon))
    if (results.length !== current.length) throw new AppError('INTERNAL', {}, `batch signer returned ${results.length} of ${current.length}`)
    results.forEach((r, i) => out.push(assemble(p, current[i]!, r, options.extraCertificates)))
    current = next ?? []
  }
  return out
}

function attributesFor(p: PreparedSigner, content: Uint8Array, signingTime: Date): Uint8Array {
  return signedAttributes(createHash(p.alg.nodeDigest).update(content).digest(), p.essAttribute, signingTime)
}

function assemble(
  p: PreparedSigner,
  signedAttrs: Uint8Array,
  raw: Awaited<ReturnType<RawSigner>>,
  extraCertificates?: Uint8Array[],
): Uint8Array {
  if (raw.keyAlgorithm !== p.keyAlgorithm) {
    throw new AppError('INTERNAL', {}, `signer used a ${raw.keyAlgorithm} key for a ${p.keyAlgorithm} certificate`)
  }
  const signatureValue = raw.keyAlgorithm === 'EC' ? ecdsaRawToDer(raw.signature) : raw.signature
  return encodeSignedData(p.cert, p.alg, signedAttrs, signatureValue, extraCertificates)
}

/** Assembles the DER ContentInfo around signed attributes and their signature value (CMS form). */
export function encodeSignedData(
  cert: CertificateParts,
  alg: CmsAlgorithm,
  signedAttrs: Uint8Array,
  signatureValue: Uint8Array,
  extraCertificates: Uint8Array[] = [],
): Uint8Array {
  const signerInfo = sequence(
    smallInteger(1),
    sequence(cert.issuer.der, cert.serial.der), // IssuerAndSerialNumber, bytes as in the certificate
    algorithmIdentifier(alg.digestOid),
    tlv(0xa0, readSingle(signedAttrs).value), // [0] IMPLICIT SET OF Attribute
    algorithmIdentifier(alg.signatureOid, alg.signatureNullParams),
    octetString(signatureValue),
  )
  const extra = extraCertificates.filter((c) => !bytesEqual(c, cert.der))
  for (const c of extra) partsOf(c)
  const signedData = sequence(
    smallInteger(1),
    setOf([algorithmIdentifier(alg.digestOid)]),
    sequence(oid(CMS_OID.data)), // detached: no eContent
    setOf([cert.der, ...extra], 0xa0), // [0] IMPLICIT CertificateSet
    setOf([signerInfo]),
  )
  return sequence(oid(CMS_OID.signedData), tlv(0xa0, signedData))
}
