// Certificate ids (`tokenId/CKA_ID-hex`, token id = library path + '#' + serial) without the
// pkcs11js addon, so the main thread can read them without loading it.
import { AppError } from '../../../shared/errors'

export function certificateIdOf(tokenId: string, ckaIdHex: string): string {
  return `${tokenId}/${ckaIdHex}`
}

/** Splits `tokenId/ckaId` (token ids contain '/', CKA_ID hex does not). */
export function parseCertificateId(certificateId: string): { tokenId: string; ckaId: string } {
  const i = certificateId.lastIndexOf('/')
  if (i <= 0) throw new AppError('CERTIFICATE_NOT_FOUND', {}, `malformed certificate id ${JSON.stringify(certificateId)}`)
  return { tokenId: certificateId.slice(0, i), ckaId: certificateId.slice(i + 1) }
}
