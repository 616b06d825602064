// The synchronous token core: owns the PKCS#11 libraries of this process (load, C_Initialize,
// re-initialisation), finds tokens and certificates across all of them, logs in (one kept session
// per token, reused for batch signing) and signs on the token. Every call into pkcs11js here is
// blocking, so in the app this runs inside the token worker (token-worker.ts), never on the
// thread that serves the UI. Tests and the benchmark may use it directly.
//
// One owner per library: a library is initialised once per process and C_Finalize pulls it from
// under every other user, so only one Pkcs11Module may exist per process and library.
import { statSync } from 'node:fs'
import pkcs11js from 'pkcs11js'
import { AppError, type AppErrorData } from '../../../shared/errors'
import type { CertificateDetails, CertificateInfo, KeyAlgorithm, LibraryStatus, TokenInfo, TokenState } from '../../../shared/model'
import { parseCertificate, validityAt } from '../crypto/certificate'
import { certificateIdOf, parseCertificateId } from './certificate-id'
import { architectureMismatch, inspectBinary, type LibraryEntry } from './libraries'
import { signingInput, signingOptions, type MechanismOption } from './mechanisms'
import {
  CKF_TOKEN,
  CKR,
  ckrCode,
  describePkcs11Error,
  isRemovalError,
  mapInitError,
  mapLoadError,
  mapPkcs11Error,
  pinStateFromFlags,
} from './pkcs11-errors'
import { timePhase, type Timings } from './timings'

type Handle = Buffer
type PKCS11 = InstanceType<typeof pkcs11js.PKCS11>

// Plain numbers (PKCS#11 v2.40) so this file does not depend on the addon's constant exports.
const CKO_PUBLIC_KEY = 2
const CKO_PRIVATE_KEY = 3
const CKO_CERTIFICATE = 1
const CKA_CLASS = 0x0
const CKA_LABEL = 0x3
const CKA_VALUE = 0x11
const CKA_CERTIFICATE_TYPE = 0x80
const CKA_KEY_TYPE = 0x100
const CKA_ID = 0x102
const CKC_X_509 = 0
const CKF_RW_SESSION = 0x2
const CKF_SERIAL_SESSION = 0x4
const CKF_OS_LOCKING_OK = 0x2
const CKF_DONT_BLOCK = 1
const CKU_USER = 1
const CKR_CANT_LOCK = 0xa

/** Large enough for RSA-16384 and any ECDSA/GOST signature; a short buffer would leave the operation active. */
const SIGNATURE_BUFFER = 2048

export interface SignResult {
  keyAlgorithm: KeyAlgorithm
  signature: Uint8Array
}

export interface Pkcs11ModuleOptions {
  /**
   * Re-initialise a library (C_Finalize + C_Initialize) at every poll while no session is open,
   * to see tokens added or removed behind its back. 'auto': for SoftHSM2 itself only, which
   * enumerates its token directory at C_Initialize and never notices changes afterwards — not for
   * a module in front of it that forwards its manufacturer (the fault-injecting test module): that
   * one reports insertion and removal itself, through C_GetSlotList and C_WaitForSlotEvent.
   */
  reinitOnPoll?: 'auto' | 'always' | 'never'
  /** Clock for the certificates' validity view (tests). */
  now?: () => Date
}

interface Library {
  entry: LibraryEntry
  status: LibraryStatus
  p11: PKCS11 | null
  /** We called C_Initialize successfully (not someone else): we may finalise and re-initialise. */
  ownsInit: boolean
  reinitOnPoll: boolean
  /** Sessions became invalid (token pulled): re-initialise as soon as no session is open. */
  needsReinit: boolean
  /** A re-initialisation failed: load the library afresh at the next poll. */
  reopenOnPoll: boolean
  /** C_WaitForSlotEvent(CKF_DONT_BLOCK): null = not tried yet. */
  slotEvents: boolean | null
  /** Technical detail of the state (dlerror text, CKR name) for the log. */
  statusDetails?: string
}

interface Token {
  info: TokenInfo
  lib: Library
  slot: Handle
  flags: number
}

interface CachedKey {
  handle: Handle
  keyType: number
  options: MechanismOption[]
  keyAlgorithm: KeyAlgorithm
  algorithmName: string
}

interface KeptSession {
  tokenId: string
  serial: string
  lib: Library
  slot: Handle
  handle: Handle
  keys: Map<string, CachedKey>
}

interface CertRecord {
  info: CertificateInfo
  der: Uint8Array
}

/** Trailing blanks/NULs of the fixed-width PKCS#11 strings go; unreadable strings become ''. */
function clean(s: unknown): string {
  return typeof s === 'string' ? s.replace(/[\s\0]+$/u, '').replace(/^\s+/u, '') : ''
}

/** CK_ULONG as read from an attribute or handle: 8 bytes on LP64, 4 on Windows/32-bit. */
function readUlong(buf: Buffer): number {
  if (buf.length >= 8) return Number(buf.readBigUInt64LE(0))
  if (buf.length >= 4) return buf.readUInt32LE(0)
  return buf.length > 0 ? buf.readUIntLE(0, buf.length) : 0
}

export function slotIdString(slot: Handle): string {
  return slot.length === 8 || slot.length === 4 ? String(readUlong(slot)) : slot.toString('hex')
}

export { certificateIdOf, parseCertificateId }

/**
 * Reads attributes one call for all; where the token refuses some (sensitive, not defined,
 * CK_UNAVAILABLE_INFORMATION) it falls back to one call each and reports those as null.
 */
export function readAttributes(p11: PKCS11, session: Handle, object: Handle, types: readonly number[]): Map<number, Buffer | null> {
  const out = new Map<number, Buffer | null>()
  const take = (res: { type: number; value?: unknown }[]): void => {
    for (const a of res) out.set(a.type, Buffer.isBuffer(a.value) ? a.value : null)
  }
  try {
    take(p11.C_GetAttributeValue(session, object, types.map((type) => ({ type }))))
    return out
  } catch (e) {
    const code = ckrCode(e)
    if (code !== CKR.ATTRIBUTE_SENSITIVE && code !== CKR.ATTRIBUTE_TYPE_INVALID && code !== CKR.BUFFER_TOO_SMALL) throw e
  }
  for (const type of types) {
    try {
      take(p11.C_GetAttributeValue(session, object, [{ type }]))
    } catch (e) {
      const code = ckrCode(e)
      if (code !== CKR.ATTRIBUTE_SENSITIVE && code !== CKR.ATTRIBUTE_TYPE_INVALID && code !== CKR.BUFFER_TOO_SMALL) throw e
      out.set(type, null)
    }
  }
  return out
}

function findObjects(p11: PKCS11, session: Handle, template: { type: number; value: number | Buffer | boolean }[]): Handle[] {
  p11.C_FindObjectsInit(session, template)
  try {
    const all: Handle[] = []
    for (;;) {
      const batch = p11.C_FindObjects(session, 64)
      if (batch.length === 0) return all
      all.push(...batch)
    }
  } finally {
    p11.C_FindObjectsFinal(session)
  }
}

/**
 * SoftHSM2 itself (manufacturer «SoftHSM», description «Implementation of PKCS11»), as opposed to
 * a module in front of it that forwards its manufacturer but describes itself.
 */
export function isSoftHsmItself(manufacturer: string, libraryDescription: string): boolean {
  return /^softhsm/i.test(manufacturer) && (libraryDescription === '' || /^implementation of pkcs ?#?11$/i.test(libraryDescription))
}

function ignoreErrors(fn: () => void): void {
  try {
    fn()
  } catch {
    // Best effort clean-up of a session or library that may already be gone.
  }
}

export class Pkcs11Module {
  private readonly libs: Library[]
  private readonly reinitMode: 'auto' | 'always' | 'never'
  private readonly now: () => Date
  /** Present tokens from the last listing, by token id. */
  private tokens = new Map<string, Token>()
  /** Logged-in sessions kept for signing, by token id. */
  private readonly sessions = new Map<string, KeptSession>()
  /** Tokens whose kept session was dropped because the token went away. */
  private readonly removedWhileLoggedIn = new Set<string>()
  /** The same, not yet reported through takeLostSessions(). */
  private lostSessions: string[] = []
  private readonly mechanisms = new Map<string, number[] | null>()
  private certs = new Map<string, CertRecord>()
  private readonly parsed = new Map<string, CertificateDetails | null>()
  private lastState: TokenState | null = null
  private lastFingerprint = ''
  private opened = false
  /** Phases timed since the last takeTimings(). */
  private timings: Timings = {}

  constructor(libraries: readonly LibraryEntry[], options: Pkcs11ModuleOptions = {}) {
    this.reinitMode = options.reinitOnPoll ?? 'auto'
    this.now = options.now ?? (() => new Date())
    this.libs = libraries.map((entry) => ({
      entry,
      status: { ...entry, state: 'missing', error: null, description: null, version: null },
      p11: null,
      ownsInit: false,
      reinitOnPoll: false,
      needsReinit: false,
      reopenOnPoll: false,
      slotEvents: null,
    }))
  }

  /** Returns the phases timed since the previous call and starts a new record. */
  takeTimings(): Timings {
    const t = this.timings
    this.timings = {}
    return t
  }

  // --- libraries -------------------------------------------------------------------------------

  /** Loads and initialises every library not loaded yet (missing and failed ones are retried). */
  open(): LibraryStatus[] {
    for (const lib of this.libs) if (!lib.p11) this.openLibrary(lib)
    this.opened = true
    return this.libraryStatuses()
  }

  libraryStatuses(): LibraryStatus[] {
    return this.libs.map((l) => ({ ...l.status, error: l.status.error ? { ...l.status.error } : null }))
  }

  private setError(lib: Library, state: 'missing' | 'error', error: AppError | null): void {
    lib.status = { ...lib.status, state, error: error ? error.toData() : null, description: null, version: null }
    lib.statusDetails = error?.details
  }

  private openLibrary(lib: Library): void {
    const { path, source } = lib.entry
    let isFile: boolean
    try {
      isFile = statSync(path).isFile()
    } catch {
      const err = new AppError('TOKEN_LIBRARY_NOT_FOUND', { path }, `no file at ${path}`)
      this.setError(lib, 'missing', source === 'configured' ? err : null)
      return
    }
    if (!isFile) {
      this.setError(lib, 'error', new AppError('TOKEN_LIBRARY_LOAD_FAILED', { path }, `${path} is not a regular file`))
      return
    }
    try {
      const mismatch = architectureMismatch(inspectBinary(path))
      if (mismatch) {
        this.setError(lib, 'error', new AppError('TOKEN_LIBRARY_WRONG_ARCH', { path }, `${path}: ${mismatch}`))
        return
      }
    } catch (e) {
      this.setError(lib, 'error', new AppError('TOKEN_LIBRARY_LOAD_FAILED', { path }, `read ${path}: ${describePkcs11Error(e)}`))
      return
    }
    const p11 = new pkcs11js.PKCS11()
    try {
      timePhase(this.timings, 'libraryLoad', () => p11.load(path))
    } catch (e) {
      this.setError(lib, 'error', mapLoadError(e, path))
      return
    }
    try {
      lib.ownsInit = timePhase(this.timings, 'initialize', () => this.initialize(p11))
    } catch (e) {
      ignoreErrors(() => p11.close())
      this.setError(lib, 'error', mapInitError(e, path))
      return
    }
    lib.p11 = p11
    let manufacturer = ''
    let libraryDescription = ''
    let description: string | null = null
    let version: string | null = null
    try {
      const info = p11.C_GetInfo()
      manufacturer = clean(info.manufacturerID)
      libraryDescription = clean(info.libraryDescription)
      description = [manufacturer, libraryDescription].filter(Boolean).join(' — ') || null
      version = `${info.libraryVersion.major}.${info.libraryVersion.minor}`
    } catch {
      // C_GetInfo is informational only.
    }
    lib.reinitOnPoll = lib.ownsInit && (this.reinitMode === 'always' || (this.reinitMode === 'auto' && isSoftHsmItself(manufacturer, libraryDescription)))
    lib.status = { ...lib.status, state: 'loaded', error: null, description, version }
    lib.statusDetails = lib.ownsInit ? undefined : 'CKR_CRYPTOKI_ALREADY_INITIALIZED: initialised by another part of the process'
  }

  /** C_Initialize; true when this call initialised it, false when someone in the process had already. */
  private initialize(p11: PKCS11): boolean {
    try {
      p11.C_Initialize({ flags: CKF_OS_LOCKING_OK })
      return true
    } catch (e) {
      const code = ckrCode(e)
      if (code === CKR.CRYPTOKI_ALREADY_INITIALIZED) return false
      if (code !== CKR_CANT_LOCK) throw e
    }
    try {
      p11.C_Initialize()
      return true
    } catch (e) {
      if (ckrCode(e) === CKR.CRYPTOKI_ALREADY_INITIALIZED) return false
      throw e
    }
  }

  /**
   * Whether re-initialising `lib` now could pull a session from under someone: any kept session,
   * on any library. Two configured libraries may share one module underneath (SoftHSM directly
   * and through the fault module in front of it: one C_Initialize per process), so C_Finalize of
   * one can end the other's sessions; re-initialisation waits until no session is open at all.
   */
  private anySessionOpen(): boolean {
    return this.sessions.size > 0
  }

  /** C_Finalize + C_Initialize: forgets every session and re-reads the slots (SoftHSM: token dirs). */
  private reinitialize(lib: Library): void {
    const p11 = lib.p11
    if (!p11 || !lib.ownsInit) return
    for (const [id, s] of this.sessions) if (s.lib === lib) this.sessions.delete(id)
    try {
      timePhase(this.timings, 'initialize', () => {
        ignoreErrors(() => p11.C_Finalize())
        this.initialize(p11)
      })
      lib.needsReinit = false
    } catch (e) {
      // The library stopped working: report it and try loading it afresh at the next poll.
      ignoreErrors(() => p11.close())
      lib.p11 = null
      lib.reopenOnPoll = true
      this.setError(lib, 'error', mapInitError(e, lib.entry.path))
    }
    for (const id of [...this.mechanisms.keys()]) if (this.tokens.get(id)?.lib === lib) this.mechanisms.delete(id)
  }

  // --- tokens --------------------------------------------------------------------------------

  /** Present, initialised tokens of every loaded library (cheap: no objects are read). */
  private listTokens(): { tokens: Map<string, Token>; errors: { tokenId: string; error: AppErrorData }[] } {
    const tokens = new Map<string, Token>()
    const errors: { tokenId: string; error: AppErrorData }[] = []
    for (const lib of this.libs) {
      const p11 = lib.p11
      if (!p11) continue
      let slots: Handle[]
      try {
        slots = p11.C_GetSlotList(true)
      } catch (e) {
        errors.push({ tokenId: `${lib.entry.path}#`, error: mapPkcs11Error(e, { what: 'C_GetSlotList' }).toData() })
        continue
      }
      for (const slot of slots) {
        const slotId = slotIdString(slot)
        let ti: ReturnType<PKCS11['C_GetTokenInfo']>
        try {
          ti = p11.C_GetTokenInfo(slot)
        } catch (e) {
          // Pulled out between C_GetSlotList and here, or (SoftHSM) its directory went away.
          if (!isRemovalError(e) && ckrCode(e) !== CKR.GENERAL_ERROR) {
            errors.push({ tokenId: `${lib.entry.path}#slot${slotId}`, error: mapPkcs11Error(e, { what: `C_GetTokenInfo slot ${slotId}` }).toData() })
          }
          continue
        }
        // SoftHSM always shows one free, uninitialised token: nothing to log in to.
        if ((ti.flags & CKF_TOKEN.TOKEN_INITIALIZED) === 0) continue
        const serial = clean(ti.serialNumber)
        const model = clean(ti.model)
        const id = serial ? `${lib.entry.path}#${serial}` : `${lib.entry.path}#slot${slotId}`
        const label = clean(ti.label) || [model || 'Токен', serial].filter(Boolean).join(' ')
        tokens.set(id, {
          lib,
          slot,
          flags: ti.flags,
          info: {
            id,
            libraryPath: lib.entry.path,
            libraryName: lib.entry.name,
            slotId,
            label,
            manufacturer: clean(ti.manufacturerID),
            model,
            serial,
            pin: pinStateFromFlags(ti.flags),
          },
        })
      }
    }
    return { tokens, errors }
  }

  private fingerprint(tokens: Map<string, Token>, errors: { tokenId: string }[]): string {
    const parts = [...tokens.values()].map((t) => `${t.info.id}|${t.flags}`)
    parts.push(...errors.map((e) => `!${e.tokenId}`))
    parts.push(...this.libs.map((l) => `${l.entry.path}:${l.status.state}`))
    return parts.sort().join('\n')
  }

  /**
   * Drops kept sessions whose token is no longer listed, or whose handle the library no longer
   * knows (token pulled and put back between two polls); true if any was dropped.
   */
  private dropSessionsOfMissingTokens(tokens: Map<string, Token>): boolean {
    let dropped = false
    for (const [id, s] of this.sessions) {
      const t = tokens.get(id)
      let alive = t !== undefined && t.lib === s.lib
      if (alive) {
        try {
          s.lib.p11?.C_GetSessionInfo(s.handle)
        } catch (e) {
          alive = !isRemovalError(e)
        }
      }
      if (alive) continue
      this.dropSession(s, true)
      dropped = true
    }
    return dropped
  }

  private dropSession(s: KeptSession, removed: boolean): void {
    this.sessions.delete(s.tokenId)
    if (s.lib.p11) {
      const p11 = s.lib.p11
      ignoreErrors(() => p11.C_CloseSession(s.handle))
    }
    if (removed) {
      this.removedWhileLoggedIn.add(s.tokenId)
      this.lostSessions.push(s.tokenId)
      s.lib.needsReinit = true
    }
  }

  /** A full picture: libraries, tokens, certificates (with key presence), per-token errors. */
  scan(): TokenState {
    if (!this.opened) this.open()
    return timePhase(this.timings, 'discovery', () => {
      let listing = this.listTokens()
      if (this.dropSessionsOfMissingTokens(listing.tokens) && this.reinitPending()) listing = this.listTokens()
      return this.buildState(listing)
    })
  }

  private reinitPending(): boolean {
    let any = false
    for (const lib of this.libs) {
      if (lib.p11 && lib.needsReinit && lib.ownsInit && !this.anySessionOpen()) {
        this.reinitialize(lib)
        any = true
      }
    }
    return any
  }

  private buildState(listing: { tokens: Map<string, Token>; errors: { tokenId: string; error: AppErrorData }[] }): TokenState {
    const certificates: CertificateInfo[] = []
    const certs = new Map<string, CertRecord>()
    const errors = [...listing.errors]
    for (const token of listing.tokens.values()) {
      try {
        for (const rec of this.readCertificates(token)) {
          certs.set(rec.info.id, rec)
          certificates.push(rec.info)
        }
      } catch (e) {
        // Pulled out while its objects were being read: none of its certificates is listed (a
        // token is read whole or not at all) and the state says «Токен извлечён» for it.
        const gone = isRemovalError(e) || this.readFlags(token) === null
        if (gone) token.lib.needsReinit = true
        const err = gone
          ? new AppError('TOKEN_REMOVED', {}, `read certificates of ${token.info.id}: ${describePkcs11Error(e)}`)
          : mapPkcs11Error(e, { what: `read certificates of ${token.info.id}` })
        errors.push({ tokenId: token.info.id, error: err.toData() })
      }
    }
    this.tokens = listing.tokens
    this.certs = certs
    this.lastFingerprint = this.fingerprint(listing.tokens, listing.errors)
    this.lastState = {
      libraries: this.libraryStatuses(),
      tokens: [...listing.tokens.values()].map((t) => t.info),
      certificates,
      errors,
      scannedAt: this.now().toISOString(),
    }
    return this.lastState
  }

  /** The last scan, or a new one when there is none. */
  state(): TokenState {
    return this.lastState ?? this.scan()
  }

  /** Retries libraries that failed, then scans. */
  refresh(): TokenState {
    for (const lib of this.libs) if (!lib.p11) this.openLibrary(lib)
    this.opened = true
    return this.scan()
  }

  private withReadSession<T>(token: Token, fn: (p11: PKCS11, session: Handle) => T): T {
    const p11 = token.lib.p11
    if (!p11) throw new AppError('TOKEN_NOT_PRESENT', {}, `library ${token.lib.entry.path} not loaded`)
    const kept = this.sessions.get(token.info.id)
    if (kept && kept.lib === token.lib) return fn(p11, kept.handle)
    const session = p11.C_OpenSession(token.slot, CKF_SERIAL_SESSION)
    try {
      return fn(p11, session)
    } finally {
      ignoreErrors(() => p11.C_CloseSession(session))
    }
  }

  /** parseCertificate, remembered by DER (a rescan after every hot-plug event re-reads them all). */
  private parse(der: Buffer): CertificateDetails | null {
    const key = der.toString('base64')
    let details = this.parsed.get(key)
    if (details === undefined) {
      try {
        details = parseCertificate(new Uint8Array(der))
      } catch {
        details = null
      }
      if (this.parsed.size >= 512) this.parsed.clear()
      this.parsed.set(key, details)
    }
    return details
  }

  private readCertificates(token: Token): CertRecord[] {
    return this.withReadSession(token, (p11, session) => {
      const keyIds = new Set<string>()
      for (const cls of [CKO_PRIVATE_KEY, CKO_PUBLIC_KEY]) {
        for (const h of findObjects(p11, session, [{ type: CKA_CLASS, value: cls }])) {
          const id = readAttributes(p11, session, h, [CKA_ID]).get(CKA_ID)
          if (id && id.length > 0) keyIds.add(id.toString('hex'))
        }
      }
      const out: CertRecord[] = []
      const handles = findObjects(p11, session, [
        { type: CKA_CLASS, value: CKO_CERTIFICATE },
        { type: CKA_CERTIFICATE_TYPE, value: CKC_X_509 },
      ])
      for (const h of handles) {
        const attrs = readAttributes(p11, session, h, [CKA_VALUE, CKA_ID, CKA_LABEL])
        const der = attrs.get(CKA_VALUE)
        if (!der || der.length === 0) continue
        const ckaIdBuf = attrs.get(CKA_ID)
        const ckaId = ckaIdBuf ? ckaIdBuf.toString('hex') : ''
        const label = attrs.get(CKA_LABEL)?.toString('utf8').replace(/\0+$/u, '').trim() ?? ''
        const bytes = new Uint8Array(der)
        const details = this.parse(der)
        // Not an X.509 certificate we can read: nothing to show or sign with; skip it.
        if (!details) continue
        // Certificates without CKA_ID cannot be matched to a key; keep them apart by fingerprint.
        const idPart = ckaId || `fp-${details.fingerprintSha256.slice(0, 16)}`
        out.push({
          der: bytes,
          info: {
            ...details,
            id: certificateIdOf(token.info.id, idPart),
            tokenId: token.info.id,
            tokenLabel: token.info.label,
            ckaId,
            label,
            hasPrivateKey: ckaId !== '' && keyIds.has(ckaId),
            validity: validityAt(details, this.now()),
          },
        })
      }
      return out.sort((a, b) => a.info.label.localeCompare(b.info.label) || a.info.id.localeCompare(b.info.id))
    })
  }

  /**
   * One polling step: re-initialises SoftHSM-like libraries when idle, drains slot events, lists
   * tokens and drops sessions of tokens that went away. Returns a fresh full state when anything
   * changed since the last scan, else null.
   */
  poll(): TokenState | null {
    if (!this.opened) return this.scan()
    let events = false
    for (const lib of this.libs) {
      if (!lib.p11 && lib.reopenOnPoll) {
        lib.reopenOnPoll = false
        this.openLibrary(lib)
        events = events || lib.p11 !== null
      }
      if (!lib.p11) continue
      if ((lib.reinitOnPoll || lib.needsReinit) && lib.ownsInit && !this.anySessionOpen()) this.reinitialize(lib)
      if (lib.p11 && lib.slotEvents !== false && !lib.reinitOnPoll) events = this.drainSlotEvents(lib) || events
    }
    let listing = this.listTokens()
    if (this.dropSessionsOfMissingTokens(listing.tokens) && this.reinitPending()) listing = this.listTokens()
    if (!events && this.fingerprint(listing.tokens, listing.errors) === this.lastFingerprint) {
      this.tokens = listing.tokens
      return null
    }
    return timePhase(this.timings, 'discovery', () => this.buildState(listing))
  }

  private drainSlotEvents(lib: Library): boolean {
    const p11 = lib.p11
    if (!p11) return false
    let any = false
    try {
      for (let i = 0; i < 32; i++) {
        if (p11.C_WaitForSlotEvent(CKF_DONT_BLOCK) === null) break
        any = true
      }
      lib.slotEvents = true
    } catch (e) {
      if (ckrCode(e) === CKR.FUNCTION_NOT_SUPPORTED) lib.slotEvents = false
    }
    return any
  }

  // --- certificates, login, signing ---------------------------------------------------------

  /** The token holding a certificate id; relists once if it is not in the last listing. */
  private tokenFor(certificateId: string): { token: Token; ckaId: string } {
    const { tokenId, ckaId } = parseCertificateId(certificateId)
    let token = this.tokens.get(tokenId)
    if (!token) {
      const listing = this.listTokens()
      this.tokens = listing.tokens
      token = listing.tokens.get(tokenId)
    }
    if (!token) {
      if (this.removedWhileLoggedIn.has(tokenId)) throw new AppError('TOKEN_REMOVED', {}, `token ${tokenId} was removed`)
      throw new AppError('TOKEN_NOT_PRESENT', {}, `token ${tokenId} not present`)
    }
    return { token, ckaId }
  }

  /** DER of a certificate from the last scan. */
  certificate(certificateId: string): Uint8Array {
    const rec = this.certs.get(certificateId)
    if (rec) return rec.der.slice()
    const { token } = this.tokenFor(certificateId)
    const found = this.readCertificates(token).find((c) => c.info.id === certificateId)
    if (!found) throw new AppError('CERTIFICATE_NOT_FOUND', {}, `certificate ${certificateId} not on token ${token.info.id}`)
    return found.der.slice()
  }

  /** Token flags now; null if the token cannot be read (removed). */
  private readFlags(token: Token): number | null {
    try {
      const ti = token.lib.p11?.C_GetTokenInfo(token.slot)
      if (!ti || clean(ti.serialNumber) !== token.info.serial) return null
      return ti.flags
    } catch {
      return null
    }
  }

  private openSession(token: Token): Handle {
    const p11 = token.lib.p11
    if (!p11) throw new AppError('TOKEN_NOT_PRESENT', {}, `library ${token.lib.entry.path} not loaded`)
    return timePhase(this.timings, 'session', () => {
      try {
        return p11.C_OpenSession(token.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION)
      } catch (e) {
        if (ckrCode(e) !== 0xe2 /* CKR_TOKEN_WRITE_PROTECTED */) throw e
        return p11.C_OpenSession(token.slot, CKF_SERIAL_SESSION)
      }
    })
  }

  /** Turns a failure during an operation on `token` into an AppError, noticing removal. */
  private failure(e: unknown, token: Token, what: string, algorithm?: string): AppError {
    // Objects that vanish may mean the token vanished (SoftHSM: its directory moved away).
    if (e instanceof AppError && !['PRIVATE_KEY_NOT_FOUND', 'CERTIFICATE_NOT_FOUND', 'TOKEN_ERROR'].includes(e.code)) return e
    const flags = this.readFlags(token)
    if (flags === null || isRemovalError(e)) {
      const kept = this.sessions.get(token.info.id)
      if (kept) this.dropSession(kept, true)
      else token.lib.needsReinit = true
      return new AppError('TOKEN_REMOVED', {}, `${what}: token ${token.info.id} gone (${describePkcs11Error(e)})`, { cause: e })
    }
    if (e instanceof AppError) return e
    return mapPkcs11Error(e, { pin: pinStateFromFlags(flags), algorithm, what })
  }

  /**
   * C_Login for the token holding `certificateId`, keeping the session for sign(). `pin` null is
   * for PIN-pad tokens (CKF_PROTECTED_AUTHENTICATION_PATH). A repeated login verifies the PIN again.
   * The PIN goes to C_Login only: it is not stored, logged or put into any error.
   */
  login(certificateId: string, pin: string | null): void {
    const found = this.tokenFor(certificateId)
    const { ckaId } = found
    let token = found.token
    let flags = this.readFlags(token)
    if (flags === null) {
      // Pulled out and put back (perhaps into another slot) since the last listing: list again.
      const listing = this.listTokens()
      this.tokens = listing.tokens
      const again = listing.tokens.get(token.info.id)
      if (again) {
        token = again
        flags = this.readFlags(token)
      }
    }
    const p11 = token.lib.p11
    if (!p11) throw new AppError('TOKEN_NOT_PRESENT', {}, `library ${token.lib.entry.path} not loaded`)
    if (flags === null) {
      token.lib.needsReinit = true
      throw new AppError('TOKEN_NOT_PRESENT', {}, `token ${token.info.id} cannot be read`)
    }
    const pinState = pinStateFromFlags(flags)
    if (pinState.locked) throw new AppError('PIN_LOCKED', {}, `token ${token.info.id} reports CKF_USER_PIN_LOCKED`)

    let kept = this.sessions.get(token.info.id)
    if (kept && kept.lib !== token.lib) {
      this.dropSession(kept, false)
      kept = undefined
    }
    if (kept) {
      const s = kept
      // A new PIN entry is a new proof: log out first so a wrong PIN cannot ride on the old login.
      ignoreErrors(() => timePhase(this.timings, 'logout', () => p11.C_Logout(s.handle)))
      try {
        p11.C_GetSessionInfo(s.handle)
      } catch {
        this.dropSession(s, false)
        kept = undefined
      }
    }
    let handle: Handle
    try {
      handle = kept ? kept.handle : this.openSession(token)
    } catch (e) {
      throw this.failure(e, token, 'C_OpenSession')
    }
    const closeIfNew = (): void => {
      if (kept) this.dropSession(kept, false)
      else ignoreErrors(() => p11.C_CloseSession(handle))
    }
    try {
      if (ckaId && !this.certificateExists(p11, handle, ckaId)) {
        throw new AppError('CERTIFICATE_NOT_FOUND', {}, `no certificate with CKA_ID ${ckaId} on ${token.info.id}`)
      }
    } catch (e) {
      closeIfNew()
      throw this.failure(e, token, 'find certificate')
    }
    if (pinState.loginRequired || pin !== null || pinState.protectedAuthPath) {
      if (!pinState.protectedAuthPath && pin === null) {
        closeIfNew()
        throw new AppError('PIN_INVALID', {}, `no PIN given for token ${token.info.id} without a PIN pad`)
      }
      try {
        timePhase(this.timings, 'login', () => {
          if (pinState.protectedAuthPath) p11.C_Login(handle, CKU_USER)
          else p11.C_Login(handle, CKU_USER, pin ?? undefined)
        })
      } catch (e) {
        if (ckrCode(e) !== CKR.USER_ALREADY_LOGGED_IN) {
          closeIfNew()
          // The PIN counters in the token flags changed: the next poll reports them.
          throw this.failure(e, token, 'C_Login')
        }
        // Logged in already by another part of the process: the token is open to us as well.
      }
    }
    this.removedWhileLoggedIn.delete(token.info.id)
    this.sessions.set(token.info.id, kept ?? { tokenId: token.info.id, serial: token.info.serial, lib: token.lib, slot: token.slot, handle, keys: new Map() })
    if (kept) kept.keys.clear()
  }

  private certificateExists(p11: PKCS11, session: Handle, ckaId: string): boolean {
    if (ckaId.startsWith('fp-')) return true
    return findObjects(p11, session, [
      { type: CKA_CLASS, value: CKO_CERTIFICATE },
      { type: CKA_ID, value: Buffer.from(ckaId, 'hex') },
    ]).length > 0
  }

  /** True when a kept, logged-in session exists for the token holding the certificate. */
  isLoggedIn(certificateId: string): boolean {
    return this.sessions.has(parseCertificateId(certificateId).tokenId)
  }

  private sessionFor(token: Token): KeptSession {
    const kept = this.sessions.get(token.info.id)
    if (kept && kept.lib === token.lib) return kept
    if (this.removedWhileLoggedIn.has(token.info.id)) {
      throw new AppError('TOKEN_REMOVED', {}, `token ${token.info.id} was removed after login; log in again`)
    }
    if (token.info.pin.loginRequired) {
      throw new AppError('SESSION_EXPIRED', {}, `sign on ${token.info.id} without C_Login`)
    }
    const handle = this.openSession(token)
    const s: KeptSession = { tokenId: token.info.id, serial: token.info.serial, lib: token.lib, slot: token.slot, handle, keys: new Map() }
    this.sessions.set(token.info.id, s)
    return s
  }

  private mechanismsOf(token: Token): number[] | null {
    if (!this.mechanisms.has(token.info.id)) {
      let list: number[] | null
      try {
        list = token.lib.p11?.C_GetMechanismList(token.slot) ?? null
      } catch {
        list = null
      }
      this.mechanisms.set(token.info.id, list)
    }
    return this.mechanisms.get(token.info.id) ?? null
  }

  private keyFor(p11: PKCS11, s: KeptSession, token: Token, ckaId: string): CachedKey {
    const cached = s.keys.get(ckaId)
    if (cached) return cached
    if (!ckaId || ckaId.startsWith('fp-')) throw new AppError('PRIVATE_KEY_NOT_FOUND', {}, `certificate without CKA_ID on ${token.info.id}`)
    const [handle] = findObjects(p11, s.handle, [
      { type: CKA_CLASS, value: CKO_PRIVATE_KEY },
      { type: CKA_ID, value: Buffer.from(ckaId, 'hex') },
    ])
    if (!handle) throw new AppError('PRIVATE_KEY_NOT_FOUND', {}, `no private key with CKA_ID ${ckaId} on ${token.info.id}`)
    const kt = readAttributes(p11, s.handle, handle, [CKA_KEY_TYPE]).get(CKA_KEY_TYPE)
    const keyType = kt ? readUlong(kt) : -1
    const { entry, options } = signingOptions(keyType, this.mechanismsOf(token))
    const key: CachedKey = { handle, keyType, options, keyAlgorithm: entry.keyAlgorithm, algorithmName: entry.algorithmName }
    s.keys.set(ckaId, key)
    return key
  }

  /**
   * Signs `data` with the private key of a certificate on its logged-in session: RSA → PKCS#1 v1.5
   * over SHA-256(data); EC → raw r||s over SHA-256(data). Every operation started is finished.
   */
  sign(certificateId: string, data: Uint8Array): SignResult {
    const { token, ckaId } = this.tokenFor(certificateId)
    const p11 = token.lib.p11
    if (!p11) throw new AppError('TOKEN_NOT_PRESENT', {}, `library ${token.lib.entry.path} not loaded`)
    return timePhase(this.timings, 'sign', () => {
      let s: KeptSession
      let key: CachedKey
      try {
        s = this.sessionFor(token)
        key = this.keyFor(p11, s, token, ckaId)
      } catch (e) {
        throw this.failure(e, token, `sign ${certificateId}`)
      }
      let lastError: unknown = null
      for (const option of [...key.options]) {
        try {
          const signature = this.signOnce(p11, s, key, option, data)
          return { keyAlgorithm: key.keyAlgorithm, signature }
        } catch (e) {
          lastError = e
          const code = ckrCode(e)
          if (code === CKR.MECHANISM_INVALID || code === CKR.MECHANISM_PARAM_INVALID) {
            // Listed by C_GetMechanismList (or the list was unknown) but refused: try the next one.
            key.options = key.options.filter((o) => o !== option)
            continue
          }
          if (code === CKR.OBJECT_HANDLE_INVALID || code === CKR.KEY_HANDLE_INVALID) s.keys.delete(ckaId)
          throw this.failure(e, token, `sign ${certificateId} with ${option.name}`, key.algorithmName)
        }
      }
      if (lastError === null) {
        throw new AppError('MECHANISM_NOT_SUPPORTED', { algorithm: key.algorithmName }, `token ${token.info.id} refused every mechanism for ${key.keyAlgorithm}`)
      }
      throw this.failure(lastError, token, `sign ${certificateId}`, key.algorithmName)
    })
  }

  /** C_SignInit + C_Sign; a stuck operation (CKR_OPERATION_ACTIVE) is cleared by a fresh session. */
  private signOnce(p11: PKCS11, s: KeptSession, key: CachedKey, option: MechanismOption, data: Uint8Array): Uint8Array {
    const input = signingInput(option, data)
    try {
      p11.C_SignInit(s.handle, { mechanism: option.mechanism }, key.handle)
    } catch (e) {
      if (ckrCode(e) !== CKR.OPERATION_ACTIVE) throw e
      this.replaceSession(p11, s)
      p11.C_SignInit(s.handle, { mechanism: option.mechanism }, key.handle)
    }
    // Any C_Sign result other than CKR_BUFFER_TOO_SMALL ends the operation (PKCS#11 §5.12);
    // the buffer is large enough for every key this code signs with.
    const out = p11.C_Sign(s.handle, input, Buffer.alloc(SIGNATURE_BUFFER))
    return new Uint8Array(out)
  }

  /** Opens a new session beside the stuck one (the login is per token, so it survives) and closes the old. */
  private replaceSession(p11: PKCS11, s: KeptSession): void {
    const fresh = p11.C_OpenSession(s.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION)
    ignoreErrors(() => p11.C_CloseSession(s.handle))
    s.handle = fresh
  }

  /**
   * For the benchmark: a function doing exactly C_SignInit + C_Sign (plus the software hash the
   * key type needs) on the logged-in session, with no lookup, mapping or worker in between.
   */
  rawSigner(certificateId: string): { mechanism: string; sign(data: Uint8Array): Uint8Array } {
    const { token, ckaId } = this.tokenFor(certificateId)
    const p11 = token.lib.p11
    if (!p11) throw new AppError('TOKEN_NOT_PRESENT')
    const s = this.sessionFor(token)
    const key = this.keyFor(p11, s, token, ckaId)
    const option = key.options[0]!
    const out = Buffer.alloc(SIGNATURE_BUFFER)
    return {
      mechanism: option.name,
      sign: (data) => {
        p11.C_SignInit(s.handle, { mechanism: option.mechanism }, key.handle)
        return p11.C_Sign(s.handle, signingInput(option, data), out)
      },
    }
  }

  /**
   * C_Logout and close the kept session of the token holding `certificateId`, or of every token
   * when none is given.
   */
  logout(certificateId?: string): void {
    const only = certificateId === undefined ? null : parseCertificateId(certificateId).tokenId
    timePhase(this.timings, 'logout', () => {
      for (const s of [...this.sessions.values()]) {
        if (only !== null && s.tokenId !== only) continue
        const p11 = s.lib.p11
        if (p11) ignoreErrors(() => p11.C_Logout(s.handle))
        this.dropSession(s, false)
      }
    })
    if (only === null) this.removedWhileLoggedIn.clear()
    else this.removedWhileLoggedIn.delete(only)
  }

  /** Token ids whose logged-in session ended because the token was pulled out, since the last call. */
  takeLostSessions(): string[] {
    const lost = [...new Set(this.lostSessions)]
    this.lostSessions = []
    return lost
  }

  /** Token ids with a kept (logged-in) session. */
  loggedInTokens(): string[] {
    return [...this.sessions.keys()]
  }

  /** Logs out, finalises and unloads every library this module initialised. */
  close(): void {
    this.logout()
    timePhase(this.timings, 'finalize', () => {
      for (const lib of this.libs) {
        const p11 = lib.p11
        if (!p11) continue
        if (lib.ownsInit) ignoreErrors(() => p11.C_Finalize())
        ignoreErrors(() => p11.close())
        lib.p11 = null
      }
    })
    this.lastState = null
    this.opened = false
  }

  /** Technical details of each library's state, for the log and diagnostics (never shown to users). */
  libraryDetails(): { path: string; details: string | undefined }[] {
    return this.libs.map((l) => ({ path: l.entry.path, details: l.statusDetails }))
  }
}
