// The one table of signing mechanisms by key type. Each key algorithm lists its options in order
// of preference; the token service takes the first one the token offers and this process can
// carry out (some need the data hashed here first, as SoftHSM's ECDSA and many GOST tokens do).
import { createHash } from 'node:crypto'
import { AppError } from '../../../shared/errors'
import type { KeyAlgorithm } from '../../../shared/model'

/** CKK_* key types (CKA_KEY_TYPE values). */
export const CKK = {
  RSA: 0x0,
  EC: 0x3,
  /** GOST R 34.10-2001 and 2012-256 keys. */
  GOSTR3410: 0x30,
  /** TC26 vendor range: GOST R 34.10-2012 512-bit keys. */
  GOSTR3410_512: 0xd4321003,
} as const

/** CKM_* mechanisms used for signing and hashing. */
export const CKM = {
  RSA_PKCS: 0x1,
  SHA256_RSA_PKCS: 0x40,
  ECDSA: 0x1041,
  ECDSA_SHA256: 0x1044,
  /** Signs a precomputed GOST R 34.11-2012 hash with a 256-bit key. */
  GOSTR3410: 0x1201,
  GOSTR3410_WITH_GOSTR3411: 0x1202,
  /** TC26 vendor range (base 0xD4321000). */
  GOSTR3410_512: 0xd4321006,
  GOSTR3410_WITH_GOSTR3411_12_256: 0xd4321008,
  GOSTR3410_WITH_GOSTR3411_12_512: 0xd4321009,
  GOSTR3411_12_256: 0xd4321012,
  GOSTR3411_12_512: 0xd4321013,
} as const

/** CKA_* attributes of GOST keys. */
export const CKA_GOST = {
  GOSTR3410_PARAMS: 0x250,
  GOSTR3411_PARAMS: 0x251,
  GOST28147_PARAMS: 0x252,
} as const

/** A digest this process computes before handing data to the token. */
export type SoftwareHash = 'sha256' | 'streebog256' | 'streebog512'

export interface MechanismOption {
  mechanism: number
  name: string
  /** null: the token hashes the data itself (combined mechanism). */
  hash: SoftwareHash | null
  /** How the hash is wrapped before C_Sign (RSA_PKCS needs a DigestInfo). */
  wrap: 'none' | 'digestInfo'
  /** What C_Sign returns: a PKCS#1 v1.5 block, raw r||s (ECDSA), or the GOST s||r block. */
  output: 'pkcs1' | 'ecdsa-raw' | 'gost-raw'
}

export interface MechanismEntry {
  keyAlgorithm: Exclude<KeyAlgorithm, 'UNKNOWN'>
  /** Shown in MECHANISM_NOT_SUPPORTED. */
  algorithmName: string
  keyTypes: readonly number[]
  /** In order of preference. */
  options: readonly MechanismOption[]
}

export const MECHANISMS: Readonly<Record<Exclude<KeyAlgorithm, 'UNKNOWN'>, MechanismEntry>> = {
  RSA: {
    keyAlgorithm: 'RSA',
    algorithmName: 'RSA',
    keyTypes: [CKK.RSA],
    options: [
      { mechanism: CKM.SHA256_RSA_PKCS, name: 'CKM_SHA256_RSA_PKCS', hash: null, wrap: 'none', output: 'pkcs1' },
      // Older tokens without the combined mechanism: the same signature from a DigestInfo.
      { mechanism: CKM.RSA_PKCS, name: 'CKM_RSA_PKCS', hash: 'sha256', wrap: 'digestInfo', output: 'pkcs1' },
    ],
  },
  EC: {
    keyAlgorithm: 'EC',
    algorithmName: 'ECDSA',
    keyTypes: [CKK.EC],
    options: [
      // Debian's SoftHSM2 refuses CKM_ECDSA_SHA256; raw CKM_ECDSA over our SHA-256 works everywhere.
      { mechanism: CKM.ECDSA, name: 'CKM_ECDSA', hash: 'sha256', wrap: 'none', output: 'ecdsa-raw' },
    ],
  },
  GOST256: {
    keyAlgorithm: 'GOST256',
    algorithmName: 'ГОСТ Р 34.10-2012 256 бит',
    keyTypes: [CKK.GOSTR3410],
    options: [
      { mechanism: CKM.GOSTR3410_WITH_GOSTR3411_12_256, name: 'CKM_GOSTR3410_WITH_GOSTR3411_12_256', hash: null, wrap: 'none', output: 'gost-raw' },
      // Rutoken: hashing in software and signing the hash works where the combined one is refused.
      { mechanism: CKM.GOSTR3410, name: 'CKM_GOSTR3410', hash: 'streebog256', wrap: 'none', output: 'gost-raw' },
    ],
  },
  GOST512: {
    keyAlgorithm: 'GOST512',
    algorithmName: 'ГОСТ Р 34.10-2012 512 бит',
    keyTypes: [CKK.GOSTR3410_512],
    options: [
      { mechanism: CKM.GOSTR3410_WITH_GOSTR3411_12_512, name: 'CKM_GOSTR3410_WITH_GOSTR3411_12_512', hash: null, wrap: 'none', output: 'gost-raw' },
      { mechanism: CKM.GOSTR3410_512, name: 'CKM_GOSTR3410_512', hash: 'streebog512', wrap: 'none', output: 'gost-raw' },
    ],
  },
}

/** Key algorithms whose signatures the rest of the product (CMS, portal) can use today. */
const SIGNING_IMPLEMENTED: ReadonlySet<KeyAlgorithm> = new Set<KeyAlgorithm>(['RSA', 'EC'])

/** Digests this process can compute. GOST R 34.11-2012 (Streebog) is not implemented yet. */
const SOFTWARE_HASHES: ReadonlySet<SoftwareHash> = new Set<SoftwareHash>(['sha256'])

export function keyAlgorithmFromKeyType(keyType: number): KeyAlgorithm {
  for (const entry of Object.values(MECHANISMS)) if (entry.keyTypes.includes(keyType)) return entry.keyAlgorithm
  return 'UNKNOWN'
}

function keyTypeName(keyType: number): string {
  return `CKK 0x${keyType.toString(16)}`
}

/**
 * The mechanisms to try for a key, best first. `available` is the token's C_GetMechanismList
 * (null when unknown: then every option is tried in order). Throws MECHANISM_NOT_SUPPORTED with
 * the reason in `details` when nothing fits.
 */
export function signingOptions(keyType: number, available: readonly number[] | null): { entry: MechanismEntry; options: MechanismOption[] } {
  const algorithm = keyAlgorithmFromKeyType(keyType)
  if (algorithm === 'UNKNOWN') {
    throw new AppError('MECHANISM_NOT_SUPPORTED', { algorithm: keyTypeName(keyType) }, `no signing mechanism for key type ${keyTypeName(keyType)}`)
  }
  const entry = MECHANISMS[algorithm]
  if (!SIGNING_IMPLEMENTED.has(algorithm)) {
    throw new AppError(
      'MECHANISM_NOT_SUPPORTED',
      { algorithm: entry.algorithmName },
      `${algorithm} signing is not implemented yet: GOST R 34.11-2012 (Streebog) hashing and GOST signatures in CMS are missing; ` +
        `table options: ${entry.options.map((o) => o.name).join(', ')}`,
    )
  }
  const doable = entry.options.filter((o) => o.hash === null || SOFTWARE_HASHES.has(o.hash))
  const offered = available === null ? doable : doable.filter((o) => available.includes(o.mechanism))
  if (offered.length === 0) {
    throw new AppError(
      'MECHANISM_NOT_SUPPORTED',
      { algorithm: entry.algorithmName },
      `token offers none of ${entry.options.map((o) => o.name).join(', ')} for ${algorithm}`,
    )
  }
  return { entry, options: offered }
}

/** DER prefix of DigestInfo{ sha256, NULL } (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex')

/** The bytes handed to C_Sign for `data` under `option`. */
export function signingInput(option: MechanismOption, data: Uint8Array): Buffer {
  if (option.hash === null) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (option.hash !== 'sha256') {
    throw new AppError('MECHANISM_NOT_SUPPORTED', {}, `software hash ${option.hash} is not implemented`)
  }
  const digest = createHash('sha256').update(data).digest()
  return option.wrap === 'digestInfo' ? Buffer.concat([SHA256_DIGEST_INFO_PREFIX, digest]) : digest
}
