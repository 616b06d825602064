// CMS SignedData, detached CAdES-BES (contentType, messageDigest, signingTime,
// signingCertificateV2): signing with a key on a token and verifying. See cms-sign.ts and
// cms-verify.ts; the algorithm table (RSA, ECDSA, GOST R 34.10-2012) is cms-algorithms.ts.
export { signDetachedCades, signDetachedCadesBatch, buildSignedAttributes, type RawSigner, type RawBatchSigner, type SignOptions } from './cms-sign'
export { verifyDetachedCades, type VerifiedCades } from './cms-verify'
export { CMS_ALGORITHMS, cmsAlgorithmFor, type CmsAlgorithm } from './cms-algorithms'
export { ecdsaRawToDer, ecdsaDerToRaw } from './ecdsa-signature'
