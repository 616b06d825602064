// ECDSA signature formats: PKCS#11 and WebCrypto give r||s; CMS and X.509 carry
// Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }.
import { children, expectTag, integerToUnsigned, readSingle, sequence, unsignedInteger } from './der'

/** r||s (each half the curve size) → DER Ecdsa-Sig-Value. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError(`ECDSA r||s of odd length ${raw.length}`)
  const half = raw.length / 2
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)))
}

/** DER Ecdsa-Sig-Value → r||s with each half `size` bytes (32 for P-256). */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array {
  const [r, s, ...rest] = children(readSingle(der, 0x30))
  if (rest.length) throw new RangeError('Ecdsa-Sig-Value has extra fields')
  const out = new Uint8Array(size * 2)
  out.set(integerToUnsigned(expectTag(r, 0x02, 'r').value, size), 0)
  out.set(integerToUnsigned(expectTag(s, 0x02, 's').value, size), size)
  return out
}

export const CURVE_SIZES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }
