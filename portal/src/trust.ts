// The portal's trust store: CA certificates it trusts as anchors, their newest CRLs (signature
// checked on import, revoked serials kept as rows) and the chain check of a signer certificate.
import { X509Certificate, createHash } from 'node:crypto'
import { normalizeSerialHex, parseCrl, type ParsedCrl } from './crl'
import type { Db, Queryable } from './db'

export interface TrustedCa {
  fingerprint: string
  subject: string
  notBefore: Date
  notAfter: Date
}

export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex')
}

/** Certificate or CRL bytes from a PEM text or DER; the first PEM block of `label` wins. */
export function pemOrDerToDer(input: string | Uint8Array, label: 'CERTIFICATE' | 'X509 CRL'): Uint8Array {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1')
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text)
  if (m) return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'))
  if (typeof input === 'string') throw new Error(`No PEM ${label} block found`)
  return input
}

function parseCertificateDer(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der)
  } catch (e) {
    throw new Error(`Not an X.509 certificate: ${(e as Error).message}`, { cause: e })
  }
}

/** Adds a CA certificate (PEM or DER) to the trusted anchors; idempotent. */
export async function trustCa(db: Queryable, input: string | Uint8Array): Promise<TrustedCa & { added: boolean }> {
  const der = pemOrDerToDer(input, 'CERTIFICATE')
  const cert = parseCertificateDer(der)
  if (!cert.ca) throw new Error(`Not a CA certificate (basicConstraints cA is not set): ${cert.subject}`)
  const ca: TrustedCa = {
    fingerprint: sha256Hex(der),
    subject: cert.subject,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  }
  const rows = await db.query(
    `INSERT INTO trusted_cas (fingerprint, subject, der, not_before, not_after) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint`,
    [ca.fingerprint, ca.subject, der, ca.notBefore, ca.notAfter],
  )
  return { ...ca, added: rows.length > 0 }
}

export async function listTrustedCas(db: Queryable): Promise<TrustedCa[]> {
  const rows = await db.query<{ fingerprint: string; subject: string; not_before: Date; not_after: Date }>(
    'SELECT fingerprint, subject, not_before, not_after FROM trusted_cas ORDER BY subject',
  )
  return rows.map((r) => ({ fingerprint: r.fingerprint, subject: r.subject, notBefore: r.not_before, notAfter: r.not_after }))
}

// Parsed anchors by fingerprint: the store changes rarely, parsing on every login is waste.
const parsedAnchors = new Map<string, X509Certificate>()

interface Anchor {
  fingerprint: string
  cert: X509Certificate
}

async function loadAnchors(db: Queryable): Promise<Anchor[]> {
  const rows = await db.query<{ fingerprint: string; der: Uint8Array }>('SELECT fingerprint, der FROM trusted_cas')
  return rows.map((r) => {
    let cert = parsedAnchors.get(r.fingerprint)
    if (!cert) {
      cert = new X509Certificate(r.der)
      parsedAnchors.set(r.fingerprint, cert)
    }
    return { fingerprint: r.fingerprint, cert }
  })
}

const CRL_INSERT_BATCH = 5000

export interface CrlImport {
  issuerFingerprint: string
  issuerSubject: string
  thisUpdate: Date
  nextUpdate: Date | null
  revokedCount: number
  /** False when the stored CRL is as new or newer (the import changed nothing). */
  replaced: boolean
}

/**
 * Imports a CRL (PEM or DER). It must be signed by a trusted CA; it replaces that CA's stored CRL
 * only when it is newer (a later thisUpdate), so re-importing or importing an old one is harmless.
 */
export async function importCrl(db: Db, input: string | Uint8Array): Promise<CrlImport> {
  const der = pemOrDerToDer(input, 'X509 CRL')
  const crl: ParsedCrl = parseCrl(der)
  const issuer = (await loadAnchors(db)).find((a) => crl.isSignedBy(a.cert))
  if (!issuer) throw new Error('The CRL is not signed by a trusted CA (trust the CA first)')
  const issuerFp = issuer.fingerprint
  const entries = crl.revoked
  const result: CrlImport = {
    issuerFingerprint: issuerFp,
    issuerSubject: issuer.cert.subject,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    revokedCount: entries.length,
    replaced: false,
  }
  result.replaced = await db.transaction(async (tx) => {
    const current = await tx.query<{ this_update: Date }>(
      'SELECT this_update FROM crls WHERE issuer_fingerprint = $1 FOR UPDATE',
      [issuerFp],
    )
    if (current[0] && current[0].this_update.getTime() >= crl.thisUpdate.getTime()) return false
    await tx.query('DELETE FROM crls WHERE issuer_fingerprint = $1', [issuerFp])
    await tx.query('INSERT INTO crls (issuer_fingerprint, der, this_update, next_update) VALUES ($1, $2, $3, $4)', [
      issuerFp,
      der,
      crl.thisUpdate,
      crl.nextUpdate,
    ])
    // Batched through unnest: real CRLs list tens of thousands of serials.
    for (let i = 0; i < entries.length; i += CRL_INSERT_BATCH) {
      const batch = entries.slice(i, i + CRL_INSERT_BATCH)
      await tx.query(
        `INSERT INTO revoked_certificates (issuer_fingerprint, serial, revoked_at)
         SELECT $1, s, t FROM unnest($2::text[], $3::timestamptz[]) AS u (s, t)
         ON CONFLICT DO NOTHING`,
        [issuerFp, batch.map((e) => e.serial), batch.map((e) => e.revokedAt.toISOString())],
      )
    }
    return true
  })
  return result
}

export interface ChainResult {
  /** The trusted CA the chain ends at. */
  anchorFingerprint: string
  /** Fingerprint of the certificate that issued the signer (anchor or intermediate). */
  issuerFingerprint: string
  /** Signer first, anchor last. */
  path: X509Certificate[]
}

export class ChainError extends Error {
  override readonly name = 'ChainError'
}

const MAX_CHAIN_DEPTH = 6

function validAt(cert: X509Certificate, now: Date): boolean {
  return Date.parse(cert.validFrom) <= now.getTime() && now.getTime() <= Date.parse(cert.validTo)
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  // checkIssued compares names, key identifiers and the issuer's keyCertSign usage; verify checks
  // the signature itself.
  return child.checkIssued(issuer) && child.verify(issuer.publicKey)
}

/**
 * Builds and checks the signer's chain to a trusted anchor, using the intermediates the signature
 * carried. Every issuer must be a CA valid at `now`; the signer's own validity is checked apart
 * (it has its own error codes). Throws ChainError when no trusted path exists.
 */
export async function verifyChain(
  db: Queryable,
  signerDer: Uint8Array,
  intermediatesDer: readonly Uint8Array[],
  now: Date,
): Promise<ChainResult> {
  const anchors = await loadAnchors(db)
  const signer = parseCertificateDer(signerDer)
  const signerFp = sha256Hex(signerDer)
  const intermediates = intermediatesDer
    .filter((d) => sha256Hex(d) !== signerFp)
    .flatMap((d) => {
      try {
        return [{ fingerprint: sha256Hex(d), cert: new X509Certificate(d) }]
      } catch {
        return []
      }
    })
    .filter((c) => c.cert.ca)
  const path: X509Certificate[] = [signer]
  let current = signer
  let issuerFingerprint: string | null = null
  const seen = new Set<string>([signerFp])
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    const anchor = anchors.find((a) => issuedBy(current, a.cert))
    if (anchor) {
      if (!validAt(anchor.cert, now)) throw new ChainError(`trusted CA is outside its validity period: ${anchor.cert.subject}`)
      path.push(anchor.cert)
      return { anchorFingerprint: anchor.fingerprint, issuerFingerprint: issuerFingerprint ?? anchor.fingerprint, path }
    }
    const next = intermediates.find((c) => !seen.has(c.fingerprint) && issuedBy(current, c.cert))
    if (!next) throw new ChainError(`no trusted issuer for ${current.subject} (issuer ${current.issuer})`)
    if (!validAt(next.cert, now)) throw new ChainError(`intermediate CA is outside its validity period: ${next.cert.subject}`)
    seen.add(next.fingerprint)
    issuerFingerprint ??= next.fingerprint
    path.push(next.cert)
    current = next.cert
  }
  throw new ChainError('certificate chain too long')
}

export type RevocationStatus =
  | { status: 'good'; crlStale: boolean }
  | { status: 'revoked'; revokedAt: Date }
  /** No CRL of the issuer is stored: revocation cannot be checked. */
  | { status: 'unknown' }

/**
 * Looks the serial up in the issuer's stored CRL. A CRL past its nextUpdate still counts for the
 * serials it lists (revocation is permanent); for others the answer is 'good' with crlStale set,
 * and the caller decides (the portal logs a warning and lets the login through; see README).
 */
export async function checkRevocation(db: Queryable, issuerFingerprint: string, serialHex: string, now: Date): Promise<RevocationStatus> {
  const crl = await db.query<{ next_update: Date | null }>('SELECT next_update FROM crls WHERE issuer_fingerprint = $1', [issuerFingerprint])
  if (!crl[0]) return { status: 'unknown' }
  const revoked = await db.query<{ revoked_at: Date }>(
    'SELECT revoked_at FROM revoked_certificates WHERE issuer_fingerprint = $1 AND serial = $2',
    [issuerFingerprint, normalizeSerialHex(serialHex)],
  )
  if (revoked[0]) return { status: 'revoked', revokedAt: revoked[0].revoked_at }
  const nextUpdate = crl[0].next_update
  return { status: 'good', crlStale: nextUpdate !== null && nextUpdate.getTime() < now.getTime() }
}
