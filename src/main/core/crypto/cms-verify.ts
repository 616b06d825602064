// Verification of detached CAdES-BES signatures: structure, messageDigest and contentType
// attributes, the signature over the signed attributes with the signer certificate's key, and
// signing-certificate-v2. Chain, validity and revocation are the caller's business (the portal).
import { createHash, webcrypto } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Name } from '@peculiar/asn1-x509'
import { AppError } from '../../../shared/errors'
import { describePublicKey, decodeCertificate } from './certificate'
import { extensionValue } from './certificate-parts'
import { certificateParts } from './certificate-parts'
import { NODE_DIGESTS, VERIFY_SIGNATURE_ALGORITHMS, WEBCRYPTO_HASH, cmsAlgorithmFor, type NodeDigest } from './cms-algorithms'
import { bytesEqual, children, decodeOid, decodeTime, expectTag, readSingle, type Tlv } from './der'
import { CURVE_SIZES, ecdsaDerToRaw } from './ecdsa-signature'
import { decodeSigningCertificateV2, essHashOid } from './ess'
import { CMS_OID, EXTENSION_OID } from './oids'

export interface VerifiedCades {
  /** DER of the certificate whose key made the signature. */
  signerCertificate: Uint8Array
  /** DER of every certificate carried in the SignedData (signer's included). */
  certificates: Uint8Array[]
  signingTime: Date | null
  hasSigningCertificateV2: boolean
}

class Invalid extends Error {}

const fail = (reason: string): never => {
  throw new Invalid(reason)
}

interface SignerInfoParts {
  sid: Tlv
  digestOid: string
  signedAttrs: Tlv | undefined
  signatureOid: string
  signature: Uint8Array
}

function parseSignerInfo(t: Tlv): SignerInfoParts {
  const f = children(expectTag(t, 0x30, 'SignerInfo'))
  let i = 1 // skip version
  const sid = f[i++] ?? fail('SignerInfo without sid')
  const digestOid = decodeOid(children(expectTag(f[i++], 0x30, 'digestAlgorithm'))[0] ?? fail('empty digestAlgorithm'))
  const signedAttrs = f[i]?.tag === 0xa0 ? f[i++] : undefined
  const signatureOid = decodeOid(children(expectTag(f[i++], 0x30, 'signatureAlgorithm'))[0] ?? fail('empty signatureAlgorithm'))
  const signature = expectTag(f[i++], 0x04, 'signature').value
  return { sid, digestOid, signedAttrs, signatureOid, signature }
}

/** Signed attributes by OID; each must occur once with exactly one value. */
function attributeMap(signedAttrs: Tlv): Map<string, Tlv> {
  const out = new Map<string, Tlv>()
  for (const a of children(signedAttrs)) {
    const [type, values] = children(expectTag(a, 0x30, 'Attribute'))
    const oid = decodeOid(type ?? fail('attribute without type'))
    const vals = children(expectTag(values, 0x31, 'attrValues'))
    if (out.has(oid)) fail(`attribute ${oid} occurs twice`)
    if (vals.length !== 1) fail(`attribute ${oid} has ${vals.length} values`)
    out.set(oid, vals[0]!)
  }
  return out
}

function subjectKeyId(certDer: Uint8Array): Uint8Array | null {
  const value = extensionValue(decodeCertificate(certDer), EXTENSION_OID.subjectKeyIdentifier)
  return value ? readSingle(value, 0x04).value : null
}

function findSigner(sid: Tlv, certificates: Uint8Array[]): Uint8Array {
  if (sid.tag === 0x30) {
    const [issuer, serial] = children(sid)
    const match = certificates.find((c) => {
      const p = certificateParts(c)
      return !!issuer && !!serial && bytesEqual(p.issuer.der, issuer.der) && bytesEqual(p.serial.value, serial.value)
    })
    return match ?? fail('signer certificate (issuerAndSerialNumber) not among the certificates')
  }
  if (sid.tag === 0x80) {
    const match = certificates.find((c) => {
      const ski = subjectKeyId(c)
      return ski !== null && bytesEqual(ski, sid.value)
    })
    return match ?? fail('signer certificate (subjectKeyIdentifier) not among the certificates')
  }
  return fail(`unknown SignerIdentifier tag 0x${sid.tag.toString(16)}`)
}

async function checkSignature(certDer: Uint8Array, si: SignerInfoParts, digest: NodeDigest, data: Uint8Array): Promise<void> {
  const key = describePublicKey(decodeCertificate(certDer).spki)
  const sigAlg = VERIFY_SIGNATURE_ALGORITHMS[si.signatureOid] ?? fail(`unsupported signatureAlgorithm ${si.signatureOid}`)
  if (sigAlg.keyAlgorithm !== key.keyAlgorithm) fail(`signatureAlgorithm ${si.signatureOid} does not fit the ${key.keyDescription} key`)
  const alg = cmsAlgorithmFor(key.keyAlgorithm)
  if (!alg?.supported) {
    throw new AppError('MECHANISM_NOT_SUPPORTED', { algorithm: key.keyDescription }, `verifying ${key.keyDescription} signatures is not implemented`)
  }
  const hash = WEBCRYPTO_HASH[sigAlg.hash ?? digest]
  const spki = certificateParts(certDer).spki.der
  const subtle = webcrypto.subtle
  let ok: boolean
  if (key.keyAlgorithm === 'RSA') {
    const pub = await subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify'])
    ok = await subtle.verify('RSASSA-PKCS1-v1_5', pub, si.signature, data)
  } else {
    const curve = key.curve ?? fail('EC key without a named curve')
    const size = CURVE_SIZES[curve] ?? fail(`unsupported curve ${curve}`)
    const pub = await subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: curve }, false, ['verify'])
    let raw: Uint8Array
    try {
      raw = ecdsaDerToRaw(si.signature, size)
    } catch (e) {
      return fail(`malformed ECDSA signature: ${(e as Error).message}`)
    }
    ok = await subtle.verify({ name: 'ECDSA', hash }, pub, raw, data)
  }
  if (!ok) fail('signature does not match the signed attributes')
}

function checkSigningCertificateV2(value: Tlv, certDer: Uint8Array): void {
  const sc = decodeSigningCertificateV2(value.der)
  const first = sc.certs[0] ?? fail('signingCertificateV2 names no certificate')
  const hashName = NODE_DIGESTS[essHashOid(first)] ?? fail(`signingCertificateV2 hash ${essHashOid(first)} unsupported`)
  const certHash = createHash(hashName).update(certDer).digest()
  if (!bytesEqual(new Uint8Array(first.certHash.buffer), certHash)) fail('signingCertificateV2 hash does not match the signer certificate')
  if (first.issuerSerial) {
    const parts = certificateParts(certDer)
    const certIssuer = new Uint8Array(AsnConvert.serialize(AsnConvert.parse(parts.issuer.der, Name)))
    const named = first.issuerSerial.issuer.some(
      (g) => g.directoryName && bytesEqual(new Uint8Array(AsnConvert.serialize(g.directoryName)), certIssuer),
    )
    const serial = new Uint8Array(first.issuerSerial.serialNumber)
    if (!named || !bytesEqual(serial, parts.serial.value)) fail('signingCertificateV2 issuerSerial does not match the signer certificate')
  }
}

async function verify(p7s: Uint8Array, content: Uint8Array): Promise<VerifiedCades> {
  const [ctype, wrapped] = children(readSingle(p7s, 0x30))
  if (!ctype || decodeOid(ctype) !== CMS_OID.signedData) fail('not a CMS SignedData')
  const sd = children(expectTag(children(expectTag(wrapped, 0xa0, 'content'))[0], 0x30, 'SignedData'))
  const encap = children(expectTag(sd[2], 0x30, 'encapContentInfo'))
  const eContentType = decodeOid(encap[0] ?? fail('encapContentInfo without type'))
  if (encap[1]) {
    const inner = children(expectTag(encap[1], 0xa0, 'eContent'))[0]
    if (!inner || !bytesEqual(expectTag(inner, 0x04, 'eContent').value, content)) fail('attached content differs from the given content')
  }
  const rest = sd.slice(3)
  const certificates = (rest.find((t) => t.tag === 0xa0) ? children(rest.find((t) => t.tag === 0xa0)!) : [])
    .filter((c) => c.tag === 0x30)
    .map((c) => Uint8Array.from(c.der))
  const signerInfos = children(expectTag(rest[rest.length - 1], 0x31, 'signerInfos'))
  if (signerInfos.length !== 1) fail(`expected one signer, found ${signerInfos.length}`)
  const si = parseSignerInfo(signerInfos[0]!)

  const signerCertificate = findSigner(si.sid, certificates)
  if (!si.signedAttrs) fail('no signed attributes (not CAdES-BES)')
  const attrs = attributeMap(si.signedAttrs!)

  const ct = attrs.get(CMS_OID.contentType) ?? fail('contentType attribute missing')
  if (decodeOid(ct) !== eContentType) fail('contentType attribute differs from eContentType')
  const digestName = NODE_DIGESTS[si.digestOid]
  if (!digestName) {
    const key = describePublicKey(decodeCertificate(signerCertificate).spki)
    if (!cmsAlgorithmFor(key.keyAlgorithm)?.supported) {
      throw new AppError('MECHANISM_NOT_SUPPORTED', { algorithm: key.keyDescription }, `digest ${si.digestOid} is not implemented`)
    }
    fail(`unsupported digestAlgorithm ${si.digestOid}`)
  }
  const md = expectTag(attrs.get(CMS_OID.messageDigest) ?? fail('messageDigest attribute missing'), 0x04, 'messageDigest')
  if (!bytesEqual(md.value, createHash(digestName!).update(content).digest())) fail('messageDigest does not match the content')

  // The signature covers the attributes re-tagged as SET OF (0x31), as they were encoded.
  const signedAttrsDer = Uint8Array.from(si.signedAttrs!.der)
  signedAttrsDer[0] = 0x31
  await checkSignature(signerCertificate, si, digestName!, signedAttrsDer)

  const scv2 = attrs.get(CMS_OID.signingCertificateV2)
  if (scv2) checkSigningCertificateV2(scv2, signerCertificate)
  const st = attrs.get(CMS_OID.signingTime)
  return {
    signerCertificate,
    certificates,
    signingTime: st ? decodeTime(st) : null,
    hasSigningCertificateV2: scv2 !== undefined,
  }
}

/**
 * Verifies a detached CAdES-BES signature over `content`. Throws AppError('SIGNATURE_INVALID')
 * with the technical reason in `details` on any failure, malformed input included, and
 * AppError('MECHANISM_NOT_SUPPORTED') for GOST signatures this build cannot check yet.
 */
export async function verifyDetachedCades(p7s: Uint8Array, content: Uint8Array): Promise<VerifiedCades> {
  try {
    return await verify(p7s, content)
  } catch (e) {
    if (e instanceof AppError && e.code === 'MECHANISM_NOT_SUPPORTED') throw e
    const reason = e instanceof Invalid ? e.message : `malformed CMS: ${e instanceof Error ? e.message : String(e)}`
    throw new AppError('SIGNATURE_INVALID', {}, reason, { cause: e })
  }
}
