// Maps what pkcs11js throws (Pkcs11Error: message = CKR name, code = CK_RV; plain Error with the
// dlerror() text when a library fails to load) onto the error catalogue. The CKR name and the
// native text go to `details` only, never to params, and a PIN never appears in either.
import { AppError, type ErrorCode } from '../../../shared/errors'
import type { PinState } from '../../../shared/model'

/** CK_RV values the token code reacts to (PKCS#11 v2.40 §11.1, cross-checked with pkcs11js). */
export const CKR = {
  OK: 0x0,
  GENERAL_ERROR: 0x5,
  FUNCTION_FAILED: 0x6,
  ARGUMENTS_BAD: 0x7,
  NO_EVENT: 0x8,
  ATTRIBUTE_SENSITIVE: 0x11,
  ATTRIBUTE_TYPE_INVALID: 0x12,
  DATA_INVALID: 0x20,
  DATA_LEN_RANGE: 0x21,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  FUNCTION_CANCELED: 0x50,
  FUNCTION_NOT_SUPPORTED: 0x54,
  KEY_HANDLE_INVALID: 0x60,
  KEY_TYPE_INCONSISTENT: 0x63,
  KEY_FUNCTION_NOT_PERMITTED: 0x68,
  MECHANISM_INVALID: 0x70,
  MECHANISM_PARAM_INVALID: 0x71,
  OBJECT_HANDLE_INVALID: 0x82,
  OPERATION_ACTIVE: 0x90,
  OPERATION_NOT_INITIALIZED: 0x91,
  PIN_INCORRECT: 0xa0,
  PIN_INVALID: 0xa1,
  PIN_LEN_RANGE: 0xa2,
  PIN_EXPIRED: 0xa3,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_COUNT: 0xb1,
  SESSION_HANDLE_INVALID: 0xb3,
  SESSION_READ_ONLY: 0xb5,
  SESSION_EXISTS: 0xb6,
  SIGNATURE_INVALID: 0xc0,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_NOT_RECOGNIZED: 0xe1,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  USER_PIN_NOT_INITIALIZED: 0x102,
  USER_TYPE_INVALID: 0x103,
  BUFFER_TOO_SMALL: 0x150,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const

/** Token flags (CK_TOKEN_INFO.flags). */
export const CKF_TOKEN = {
  RNG: 0x1,
  WRITE_PROTECTED: 0x2,
  LOGIN_REQUIRED: 0x4,
  USER_PIN_INITIALIZED: 0x8,
  PROTECTED_AUTHENTICATION_PATH: 0x100,
  TOKEN_INITIALIZED: 0x400,
  USER_PIN_COUNT_LOW: 0x10000,
  USER_PIN_FINAL_TRY: 0x20000,
  USER_PIN_LOCKED: 0x40000,
  USER_PIN_TO_BE_CHANGED: 0x80000,
} as const

/** The shape of pkcs11js's Pkcs11Error (not imported: this file must load without the addon). */
export interface Pkcs11ErrorLike {
  message: string
  code: number
  method?: string
}

export function isPkcs11Error(e: unknown): e is Pkcs11ErrorLike {
  return (
    e instanceof Error &&
    typeof (e as { code?: unknown }).code === 'number' &&
    /^CKR_[A-Z0-9_]+$/.test(e.message)
  )
}

/** The CK_RV of a PKCS#11 failure, or null for anything else. */
export function ckrCode(e: unknown): number | null {
  return isPkcs11Error(e) ? e.code : null
}

/** `C_Login: CKR_PIN_INCORRECT (0xa0)` — for `details`; never contains arguments. */
export function describePkcs11Error(e: unknown): string {
  if (isPkcs11Error(e)) return `${e.method ? `${e.method}: ` : ''}${e.message} (0x${e.code.toString(16)})`
  if (e instanceof Error) return `${e.name}: ${e.message}`
  return String(e)
}

/**
 * The PIN state the token's flags tell. The flags give an exact count in two cases only: a
 * locked PIN has none left and CKF_USER_PIN_FINAL_TRY means exactly one; otherwise the count is
 * unknown (null) — COUNT_LOW says only that a wrong PIN was entered since the last good one.
 */
export function pinStateFromFlags(flags: number): PinState {
  const locked = (flags & CKF_TOKEN.USER_PIN_LOCKED) !== 0
  const finalTry = !locked && (flags & CKF_TOKEN.USER_PIN_FINAL_TRY) !== 0
  return {
    loginRequired: (flags & CKF_TOKEN.LOGIN_REQUIRED) !== 0,
    protectedAuthPath: (flags & CKF_TOKEN.PROTECTED_AUTHENTICATION_PATH) !== 0,
    countLow: (flags & CKF_TOKEN.USER_PIN_COUNT_LOW) !== 0,
    finalTry,
    locked,
    triesLeft: locked ? 0 : finalTry ? 1 : null,
  }
}

/** CK_RVs meaning the token (or its session) went away under a running operation. */
const REMOVAL_CODES: ReadonlySet<number> = new Set([
  CKR.DEVICE_REMOVED,
  CKR.TOKEN_NOT_PRESENT,
  CKR.SESSION_HANDLE_INVALID,
  CKR.SESSION_CLOSED,
])

export function isRemovalError(e: unknown): boolean {
  const code = ckrCode(e)
  return code !== null && REMOVAL_CODES.has(code)
}

// --- loading a library ------------------------------------------------------------------

/**
 * A library that could not be dlopen()ed (pkcs11js `load()` throws a plain Error carrying the
 * dlerror() text; on Windows the LoadLibrary error). The ELF/PE header check in libraries.ts
 * usually names a wrong architecture before dlopen is tried; this is the fallback by message.
 */
export function mapLoadError(e: unknown, path: string): AppError {
  const text = e instanceof Error ? e.message : String(e)
  const details = `load ${path}: ${text}`
  // "<path>: cannot open shared object file: No such file or directory" is the library itself;
  // the same words about another file name a missing dependency (e.g. libpcsclite.so.1), which
  // is a load failure of a library that is there.
  if (/cannot open shared object file: No such file or directory/.test(text) && text.startsWith(`${path}:`)) {
    return new AppError('TOKEN_LIBRARY_NOT_FOUND', { path }, details, { cause: e })
  }
  if (/wrong ELF class|ELFCLASS(32|64)|wrong architecture|incompatible architecture|mach-o.*(architecture|cpu type)|not a valid Win32 application|error 193\b/i.test(text)) {
    return new AppError('TOKEN_LIBRARY_WRONG_ARCH', { path }, details, { cause: e })
  }
  return new AppError('TOKEN_LIBRARY_LOAD_FAILED', { path }, details, { cause: e })
}

/** C_Initialize (or C_GetInfo right after it) failed. */
export function mapInitError(e: unknown, path: string): AppError {
  return new AppError('TOKEN_LIBRARY_INIT_FAILED', { path }, `initialize ${path}: ${describePkcs11Error(e)}`, { cause: e })
}

// --- operations ----------------------------------------------------------------------------

export interface MapContext {
  /** Token flags read again after the failure (PIN counters), when available. */
  pin?: PinState | null
  /** Algorithm name for MECHANISM_NOT_SUPPORTED («RSA», «ECDSA», «ГОСТ Р 34.10-2012 256 бит»). */
  algorithm?: string
  /** Extra words for the log: what was being done («sign cert …»). Never the PIN. */
  what?: string
}

function codeFor(code: number, ctx: MapContext): { code: ErrorCode; params: Record<string, string | number | boolean | null> } {
  switch (code) {
    case CKR.PIN_INCORRECT: {
      const pin = ctx.pin
      // A token that locks on this very failure still answers CKR_PIN_INCORRECT; the flags say more.
      if (pin?.locked) return { code: 'PIN_LOCKED', params: {} }
      return {
        code: 'PIN_INCORRECT',
        params: { triesLeft: pin?.triesLeft ?? null, countLow: pin?.countLow ?? false, finalTry: pin?.finalTry ?? false },
      }
    }
    case CKR.PIN_INVALID:
    case CKR.PIN_LEN_RANGE:
      return { code: 'PIN_INVALID', params: {} }
    case CKR.PIN_LOCKED:
      return { code: 'PIN_LOCKED', params: {} }
    case CKR.PIN_EXPIRED:
      return { code: 'PIN_EXPIRED', params: {} }
    case CKR.DEVICE_REMOVED:
    case CKR.TOKEN_NOT_PRESENT:
    case CKR.SESSION_HANDLE_INVALID:
    case CKR.SESSION_CLOSED:
      return { code: 'TOKEN_REMOVED', params: {} }
    case CKR.MECHANISM_INVALID:
    case CKR.MECHANISM_PARAM_INVALID:
    case CKR.KEY_TYPE_INCONSISTENT:
      return { code: 'MECHANISM_NOT_SUPPORTED', params: { algorithm: ctx.algorithm ?? '' } }
    case CKR.USER_NOT_LOGGED_IN:
      // The token forgot the login (re-inserted, logged out elsewhere): the user must log in again.
      return { code: 'SESSION_EXPIRED', params: {} }
    default:
      return { code: 'TOKEN_ERROR', params: {} }
  }
}

/** Any failure of a token operation → AppError. AppErrors pass through unchanged. */
export function mapPkcs11Error(e: unknown, ctx: MapContext = {}): AppError {
  if (e instanceof AppError) return e
  const details = `${ctx.what ? `${ctx.what}: ` : ''}${describePkcs11Error(e)}`
  if (!isPkcs11Error(e)) return new AppError('TOKEN_ERROR', {}, details, { cause: e })
  const { code, params } = codeFor(e.code, ctx)
  return new AppError(code, params, details, { cause: e })
}
