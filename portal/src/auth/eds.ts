// EDS login verification: the signed challenge is checked step by step, in a fixed order, and
// the first failing step answers with its own error code.
import { X509Certificate } from 'node:crypto'
import { AppError } from '../../../src/shared/errors'
import { MAX_CLOCK_SKEW_SECONDS } from '../../../src/shared/portal-api'
import { parseCertificate, validityAt } from '../../../src/main/core/crypto/certificate'
import { verifyDetachedCades } from '../../../src/main/core/crypto/cms'
import type { Db } from '../db'
import { formatDateRu, formatSkewRu } from '../format'
import { findWorker, type Worker } from '../register'
import { ChainError, checkRevocation, sha256Hex, verifyChain } from '../trust'
import { consumeChallenge } from './challenge'

export interface EdsLoginInput {
  challengeId: string
  /** DER CMS SignedData (detached) over the challenge text's UTF-8 bytes. */
  signature: Uint8Array
}

/** What is known about the attempt so far: filled as the checks go, for the audit record. */
export interface EdsAudit {
  snils: string | null
  certificateFingerprint: string | null
  /** Non-fatal findings (stale or missing CRL) and failure details; for the audit, not the user. */
  notes: string[]
}

export interface EdsVerifyOptions {
  now: Date
  timeZone: string
}

/**
 * Verifies an EDS login. Order: challenge (consumed once) → CMS signature → chain to a trusted
 * CA → validity at server time → revocation (CRL) → key usage → signing time skew → СНИЛС in the
 * certificate → worker registered → employment active. Throws AppError with the first failure.
 */
export async function verifyEdsLogin(db: Db, input: EdsLoginInput, audit: EdsAudit, o: EdsVerifyOptions): Promise<Worker> {
  const text = await consumeChallenge(db, input.challengeId, o.now)
  if (text === null) throw new AppError('CHALLENGE_EXPIRED', {}, 'challenge unknown, expired or already used')

  let signed: Awaited<ReturnType<typeof verifyDetachedCades>>
  try {
    signed = await verifyDetachedCades(input.signature, new TextEncoder().encode(text))
  } catch (e) {
    if (AppError.is(e, 'SIGNATURE_INVALID')) throw e
    throw new AppError('SIGNATURE_INVALID', {}, `CMS not verifiable: ${(e as Error).message}`, { cause: e })
  }
  audit.certificateFingerprint = sha256Hex(signed.signerCertificate)
  if (signed.signingTime === null || !signed.hasSigningCertificateV2) {
    throw new AppError('SIGNATURE_INVALID', {}, 'not CAdES-BES: signingTime and signingCertificateV2 are required')
  }

  let issuerFingerprint: string
  try {
    issuerFingerprint = (await verifyChain(db, signed.signerCertificate, signed.certificates, o.now)).issuerFingerprint
  } catch (e) {
    if (e instanceof ChainError) throw new AppError('CERT_UNTRUSTED', {}, e.message)
    throw e
  }

  const details = parseCertificate(signed.signerCertificate)
  switch (validityAt(details, o.now)) {
    case 'expired':
      throw new AppError('CERT_EXPIRED', { notAfter: formatDateRu(new Date(details.notAfter), o.timeZone) }, `notAfter ${details.notAfter}`)
    case 'notYetValid':
      throw new AppError('CERT_NOT_YET_VALID', { notBefore: formatDateRu(new Date(details.notBefore), o.timeZone) }, `notBefore ${details.notBefore}`)
    case 'valid':
      break
  }

  const serial = new X509Certificate(signed.signerCertificate).serialNumber
  const revocation = await checkRevocation(db, issuerFingerprint, serial, o.now)
  if (revocation.status === 'revoked') {
    throw new AppError('CERT_REVOKED', { revokedAt: formatDateRu(revocation.revokedAt, o.timeZone) }, `serial ${serial} listed in the CRL`)
  }
  if (revocation.status === 'unknown') audit.notes.push('crl-missing: no CRL of the issuer, revocation not checked')
  else if (revocation.crlStale) audit.notes.push('crl-stale: the issuer CRL is past its nextUpdate')

  if (!details.keyUsage.includes('digitalSignature') && !details.keyUsage.includes('nonRepudiation')) {
    throw new AppError('CERT_KEY_USAGE', {}, `keyUsage [${details.keyUsage.join(', ')}] allows no signature`)
  }

  const skewSeconds = Math.round((signed.signingTime.getTime() - o.now.getTime()) / 1000)
  if (Math.abs(skewSeconds) > MAX_CLOCK_SKEW_SECONDS) {
    throw new AppError('CLOCK_SKEW', { skewSeconds, skew: formatSkewRu(skewSeconds) }, `signingTime ${signed.signingTime.toISOString()}`)
  }

  const snils = details.subject.snils
  if (!snils) throw new AppError('CERT_NO_SNILS', {}, 'subject has no СНИЛС (1.2.643.100.3)')
  audit.snils = snils

  const worker = await findWorker(db, snils)
  if (!worker) throw new AppError('WORKER_NOT_REGISTERED', {}, 'СНИЛС not in the worker register')
  if (worker.employment !== 'active') throw new AppError('WORKER_EMPLOYMENT_ENDED', {}, 'employment ended')
  return worker
}
