// Pure decisions of the login screen (no React, no DOM), unit-tested in model.test.ts.
import type { AppErrorData, ErrorCode } from '../../../shared/errors'
import type { CertificateInfo, LibraryStatus, LoginStage, TokenInfo, TokenState } from '../../../shared/model'
import { formatSnils } from '../../../shared/validators/snils'
import { formatDate } from '../../../shared/format'

export type TokenPanelKind = 'noLibraries' | 'noToken' | 'noCertificates' | 'certificates'

export function tokenPanelKind(state: TokenState): TokenPanelKind {
  if (!state.libraries.some((l) => l.state === 'loaded')) return 'noLibraries'
  if (state.tokens.length === 0) return 'noToken'
  if (state.certificates.length === 0) return 'noCertificates'
  return 'certificates'
}

/**
 * Libraries worth telling the user about: ones that failed, and admin-configured ones that are
 * missing. A default-list library that is simply not installed is normal (only one vendor's
 * driver is usually present) and is shown only when no library works at all.
 */
export function libraryProblems(state: TokenState): LibraryStatus[] {
  return state.libraries.filter((l) => l.state === 'error' || (l.state === 'missing' && l.source === 'configured'))
}

export type PinPrompt =
  | { kind: 'locked' }
  | { kind: 'pinpad' }
  | { kind: 'none' }
  | { kind: 'pin'; warning: 'finalTry' | 'countLow' | null; triesLeft: number | null }

/** What the PIN dialog asks for, from the token's flags (and a just-failed attempt). */
export function pinPrompt(token: TokenInfo | undefined, lastError: AppErrorData | null = null): PinPrompt {
  if (lastError?.code === 'PIN_LOCKED' || token?.pin.locked) return { kind: 'locked' }
  if (token?.pin.protectedAuthPath) return { kind: 'pinpad' }
  if (token && !token.pin.loginRequired) return { kind: 'none' }
  // A PIN_INCORRECT answer carries the token's flags as they were right after the attempt.
  const wrongPin = lastError?.code === 'PIN_INCORRECT' ? lastError.params : null
  const fromError = lastError && wrongPin ? triesLeftFrom(lastError) : null
  const triesLeft = fromError ?? token?.pin.triesLeft ?? null
  const finalTry = triesLeft === 1 || wrongPin?.finalTry === true || Boolean(token?.pin.finalTry)
  const countLow = wrongPin?.countLow === true || Boolean(token?.pin.countLow)
  return { kind: 'pin', warning: finalTry ? 'finalTry' : countLow ? 'countLow' : null, triesLeft }
}

/** Tries left reported with a PIN_INCORRECT error, when the token says so. */
export function triesLeftFrom(error: AppErrorData): number | null {
  const v = error.params.triesLeft
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null
}

/** Errors after which entering the PIN again for this certificate cannot help. */
const FINAL_FOR_CERTIFICATE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'PIN_LOCKED',
  'PIN_EXPIRED',
  'PRIVATE_KEY_NOT_FOUND',
  'CERTIFICATE_NOT_FOUND',
  'MECHANISM_NOT_SUPPORTED',
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_KEY_USAGE',
  'CERT_NO_SNILS',
  'WORKER_NOT_REGISTERED',
  'WORKER_EMPLOYMENT_ENDED',
])

export function canRetry(error: AppErrorData): boolean {
  return !FINAL_FOR_CERTIFICATE.has(error.code)
}

/** After this long in one login step the progress says the token is slow (and may be cancelled). */
export const SLOW_STAGE_MS = 4000

/** Minimum spacing of 'app.activity' calls while the user works (the idle lock is minutes long). */
export const ACTIVITY_THROTTLE_MS = 5000

export const LOGIN_STAGES = ['challenge', 'pin', 'signing', 'verifying'] as const satisfies readonly LoginStage[]

/** Index of the current step for the progress display (all done for 'done'). */
export function stageIndex(stage: LoginStage | null): number {
  if (stage === null) return 0
  if (stage === 'done') return LOGIN_STAGES.length
  return LOGIN_STAGES.indexOf(stage)
}

export interface CertificateView {
  name: string
  position: string | null
  organisation: string | null
  snils: string | null
  issuer: string
  validFrom: string
  validTo: string
}

export function certificateView(cert: CertificateInfo): CertificateView {
  const s = cert.subject
  const organisation = [s.organization, s.organizationalUnit].filter(Boolean).join(', ') || null
  return {
    name: s.fullName ?? s.commonName ?? cert.label,
    position: s.title,
    organisation,
    snils: s.snils ? formatSnils(s.snils) : null,
    issuer: cert.issuer.organization ?? cert.issuer.commonName ?? '—',
    validFrom: formatDate(cert.notBefore),
    validTo: formatDate(cert.notAfter),
  }
}

/**
 * Which token a certificate is on, precisely enough to tell two tokens apart: the label and the
 * serial number, and the driver too when more than one library shows tokens (the same token can
 * be seen through two drivers, and two tokens may share a label).
 */
export function tokenCaption(cert: CertificateInfo, token: TokenInfo | undefined, state: TokenState | undefined): { label: string; serial: string | null; library: string | null } {
  const libraries = new Set((state?.tokens ?? []).map((t) => t.libraryPath))
  return {
    label: cert.tokenLabel,
    serial: token?.serial ? token.serial : null,
    library: token && libraries.size > 1 ? token.libraryName : null,
  }
}

/** Usable certificates first, then by name; stable otherwise. */
export function sortCertificates(certs: readonly CertificateInfo[]): CertificateInfo[] {
  const rank = (c: CertificateInfo): number => (!c.hasPrivateKey ? 2 : c.validity === 'valid' ? 0 : 1)
  return [...certs].sort((a, b) => rank(a) - rank(b) || certificateView(a).name.localeCompare(certificateView(b).name, 'ru'))
}

/** Given name and patronymic for a greeting: «Иванов Иван Иванович» → «Иван Иванович». */
export function greetingName(fullName: string): string {
  const parts = fullName.trim().split(/\s+/)
  return parts.length >= 2 ? parts.slice(1).join(' ') : fullName
}
