// The one table of CMS signature algorithms: which digest and which signatureAlgorithm OID a
// key algorithm uses, and whether this build can produce and check it. GOST R 34.10-2012 is
// listed so it can be switched on later; its digest (Streebog) is not available in Node.
import type { KeyAlgorithm } from '../../../shared/model'
import { DIGEST_OID, KEY_OID, SIGNATURE_OID } from './oids'

export interface CmsAlgorithm {
  keyAlgorithm: KeyAlgorithm
  /** Russian display name for messages. */
  title: string
  digestOid: string
  /** Node's hash name, or null when Node cannot compute the digest. */
  nodeDigest: NodeDigest | null
  /** SignerInfo.signatureAlgorithm. */
  signatureOid: string
  /** Whether the AlgorithmIdentifier carries NULL parameters (RSA does). */
  signatureNullParams: boolean
  supported: boolean
}

export const CMS_ALGORITHMS: Readonly<Record<Exclude<KeyAlgorithm, 'UNKNOWN'>, CmsAlgorithm>> = {
  RSA: {
    keyAlgorithm: 'RSA',
    title: 'RSA (PKCS#1 v1.5, SHA-256)',
    digestOid: DIGEST_OID.sha256,
    nodeDigest: 'sha256',
    signatureOid: KEY_OID.rsaEncryption,
    signatureNullParams: true,
    supported: true,
  },
  EC: {
    keyAlgorithm: 'EC',
    title: 'ECDSA P-256 (SHA-256)',
    digestOid: DIGEST_OID.sha256,
    nodeDigest: 'sha256',
    signatureOid: SIGNATURE_OID.ecdsaWithSHA256,
    signatureNullParams: false,
    supported: true,
  },
  GOST256: {
    keyAlgorithm: 'GOST256',
    title: 'ГОСТ Р 34.10-2012 256 бит (ГОСТ Р 34.11-2012)',
    digestOid: DIGEST_OID.gost3411_2012_256,
    nodeDigest: null,
    signatureOid: SIGNATURE_OID.gost2012_256,
    signatureNullParams: false,
    supported: false,
  },
  GOST512: {
    keyAlgorithm: 'GOST512',
    title: 'ГОСТ Р 34.10-2012 512 бит (ГОСТ Р 34.11-2012)',
    digestOid: DIGEST_OID.gost3411_2012_512,
    nodeDigest: null,
    signatureOid: SIGNATURE_OID.gost2012_512,
    signatureNullParams: false,
    supported: false,
  },
}

export type NodeDigest = 'sha256' | 'sha384' | 'sha512'

/** Digest OIDs Node can compute, for verifying what others signed. */
export const NODE_DIGESTS: Readonly<Record<string, NodeDigest>> = {
  [DIGEST_OID.sha256]: 'sha256',
  [DIGEST_OID.sha384]: 'sha384',
  [DIGEST_OID.sha512]: 'sha512',
}

export const WEBCRYPTO_HASH: Readonly<Record<NodeDigest, string>> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' }

/**
 * SignerInfo.signatureAlgorithm values accepted when verifying: the key they need and the hash
 * the signature is made with (null: the SignerInfo's digestAlgorithm, as for rsaEncryption).
 */
export const VERIFY_SIGNATURE_ALGORITHMS: Readonly<Record<string, { keyAlgorithm: KeyAlgorithm; hash: NodeDigest | null }>> = {
  [KEY_OID.rsaEncryption]: { keyAlgorithm: 'RSA', hash: null },
  [SIGNATURE_OID.sha256WithRSAEncryption]: { keyAlgorithm: 'RSA', hash: 'sha256' },
  [SIGNATURE_OID.sha384WithRSAEncryption]: { keyAlgorithm: 'RSA', hash: 'sha384' },
  [SIGNATURE_OID.sha512WithRSAEncryption]: { keyAlgorithm: 'RSA', hash: 'sha512' },
  [SIGNATURE_OID.ecdsaWithSHA256]: { keyAlgorithm: 'EC', hash: 'sha256' },
  [SIGNATURE_OID.ecdsaWithSHA384]: { keyAlgorithm: 'EC', hash: 'sha384' },
  [SIGNATURE_OID.ecdsaWithSHA512]: { keyAlgorithm: 'EC', hash: 'sha512' },
  // GOST: the signature-with-digest OIDs, and the public key OIDs CryptoPro and others put here.
  [SIGNATURE_OID.gost2012_256]: { keyAlgorithm: 'GOST256', hash: null },
  [KEY_OID.gost2012_256]: { keyAlgorithm: 'GOST256', hash: null },
  [SIGNATURE_OID.gost2012_512]: { keyAlgorithm: 'GOST512', hash: null },
  [KEY_OID.gost2012_512]: { keyAlgorithm: 'GOST512', hash: null },
}

export function cmsAlgorithmFor(key: KeyAlgorithm): CmsAlgorithm | null {
  return key === 'UNKNOWN' ? null : CMS_ALGORITHMS[key]
}
