// The fault-injecting PKCS#11 module (native/pkcs11-faults) through the real ABI: pkcs11js →
// libpkcs11-faults.so → SoftHSM2, on a private copy of the demo tokens. Every behaviour is driven
// by rewriting the module's configuration file between calls, as the workstation's tests will.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import pkcs11js from 'pkcs11js'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'

type PKCS11 = InstanceType<typeof pkcs11js.PKCS11>
type Handle = Buffer

const ROOT = resolve(import.meta.dirname, '../..')
const SOURCES = join(ROOT, 'native', 'pkcs11-faults')
const BUILD_SCRIPT = join(ROOT, 'native', 'build.sh')
const LIB = join(ROOT, 'native', 'build', 'libpkcs11-faults.so')
const PKCS11JS = createRequire(import.meta.url).resolve('pkcs11js')
const USER_PIN = '12345678'
const SO_PIN = '87654321'
const DOCTOR = 'demo-doctor'
const NURSE = 'demo-nurse'

// PKCS#11 2.40 values the module must produce (checked here as numbers, not through the addon).
const CKF_TOKEN_PRESENT = 0x1
const CKF_REMOVABLE_DEVICE = 0x2
const COUNT_LOW = 0x10000
const FINAL_TRY = 0x20000
const LOCKED = 0x40000
const PIN_FLAGS = COUNT_LOW | FINAL_TRY | LOCKED
const CKS_RO_PUBLIC_SESSION = 0
const CKS_RO_USER_FUNCTIONS = 1

let fx: TokenFixture
let confPath: string
let statePath: string
let p11: PKCS11
const savedEnv = { SOFTHSM2_CONF: process.env.SOFTHSM2_CONF, LKMR_FAULTS_CONF: process.env.LKMR_FAULTS_CONF }

/** Builds the module when it is missing or older than any of its sources. */
function buildIfStale(): void {
  const sources = [BUILD_SCRIPT, ...readdirSync(SOURCES).filter((f) => /\.[ch]$/.test(f)).map((f) => join(SOURCES, f))]
  const built = existsSync(LIB) ? statSync(LIB).mtimeMs : 0
  if (sources.some((f) => statSync(f).mtimeMs > built)) execFileSync('bash', [BUILD_SCRIPT], { stdio: 'pipe' })
}

type Section = Record<string, string | number | boolean>

/** Rewrites the configuration (atomically: write + rename) with one section per token. */
function configure(tokens: Record<string, Section> = {}, global: Section = {}): void {
  const lines = [`module = ${fx.library}`, `state = ${statePath}`]
  for (const [k, v] of Object.entries(global)) lines.push(`${k} = ${v}`)
  for (const [label, section] of Object.entries(tokens)) {
    lines.push(`[token ${label}]`)
    for (const [k, v] of Object.entries(section)) lines.push(`${k} = ${v}`)
  }
  writeRaw(lines.join('\n') + '\n')
}

function writeRaw(text: string): void {
  writeFileSync(`${confPath}.tmp`, text)
  renameSync(`${confPath}.tmp`, confPath)
}

/** The CKR name a call fails with, or CKR_OK. */
function ckr(fn: () => unknown): string {
  try {
    fn()
    return 'CKR_OK'
  } catch (e) {
    return (e as Error).message
  }
}

async function ckrAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'CKR_OK'
  } catch (e) {
    return (e as Error).message
  }
}

const slotNumber = (h: Handle): number => Number(h.readBigUInt64LE(0))
function slotHandle(n: number): Handle {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(n))
  return b
}

function labelOf(lib: PKCS11, slot: Handle): string {
  return lib.C_GetTokenInfo(slot).label.trim()
}

/** Labels of the present tokens (SoftHSM's spare uninitialised slot has none). */
function presentLabels(lib: PKCS11 = p11): string[] {
  return lib.C_GetSlotList(true).map((s) => labelOf(lib, s)).filter(Boolean).sort()
}

function slotOf(label: string, lib: PKCS11 = p11): Handle {
  const slot = lib.C_GetSlotList(true).find((s) => labelOf(lib, s) === label)
  if (!slot) throw new Error(`token ${label} not present`)
  return slot
}

function openSession(slot: Handle, lib: PKCS11 = p11, rw = false): Handle {
  return lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | (rw ? pkcs11js.CKF_RW_SESSION : 0))
}

function pinFlags(slot: Handle): number {
  return p11.C_GetTokenInfo(slot).flags & PIN_FLAGS
}

function privateKey(session: Handle, ckaIdHex: string, lib: PKCS11 = p11): Handle {
  lib.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_ID, value: Buffer.from(ckaIdHex, 'hex') },
  ])
  const [key] = lib.C_FindObjects(session, 1)
  lib.C_FindObjectsFinal(session)
  if (!key) throw new Error(`no private key ${ckaIdHex}`)
  return key
}

function signRsa(session: Handle, key: Handle, data: Buffer, lib: PKCS11 = p11): Buffer {
  lib.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, key)
  return lib.C_Sign(session, data, Buffer.alloc(512))
}

/** Raw CKM_ECDSA over a SHA-256 digest (Debian's SoftHSM has no CKM_ECDSA_SHA256). */
function signEcdsa(session: Handle, key: Handle, data: Buffer): Buffer {
  p11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, key)
  return p11.C_Sign(session, createHash('sha256').update(data).digest(), Buffer.alloc(132))
}

function verifiesWith(kind: 'doctor' | 'nurse', data: Buffer, signature: Buffer): boolean {
  const { cert } = fx.cert(kind)
  const key = new X509Certificate(readFileSync(cert.certPem)).publicKey
  return verifySignature('sha256', data, kind === 'nurse' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature)
}

/** A logged-in session on the doctor's token with the RSA key found. */
function doctorSession(lib: PKCS11 = p11): { slot: Handle; session: Handle; key: Handle } {
  const slot = slotOf(DOCTOR, lib)
  const session = openSession(slot, lib)
  lib.C_Login(session, pkcs11js.CKU_USER, USER_PIN)
  return { slot, session, key: privateKey(session, fx.cert('doctor').cert.ckaId, lib) }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

interface WaitResult {
  slot: number | null
  error: string | null
  ms: number
}

/**
 * C_WaitForSlotEvent in a worker thread (the call blocks its thread). The worker's pkcs11js
 * instance loads the same library, which this thread has already initialised for the process.
 */
function waitInWorker(flags: number): { ready: Promise<void>; result: Promise<WaitResult>; worker: Worker } {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads')
    const pkcs11js = require(workerData.pkcs11js)
    const lib = new pkcs11js.PKCS11()
    lib.load(workerData.lib)
    parentPort.postMessage({ ready: true })
    const t0 = Date.now()
    try {
      const slot = lib.C_WaitForSlotEvent(workerData.flags)
      parentPort.postMessage({ slot: slot ? Number(slot.readBigUInt64LE(0)) : null, error: null, ms: Date.now() - t0 })
    } catch (e) {
      parentPort.postMessage({ slot: null, error: e.message, ms: Date.now() - t0 })
    }`
  const worker = new Worker(code, { eval: true, workerData: { pkcs11js: PKCS11JS, lib: LIB, flags } })
  let onReady: () => void = () => {}
  const ready = new Promise<void>((r) => (onReady = r))
  const result = new Promise<WaitResult>((res, rej) => {
    worker.on('message', (m: { ready?: boolean } & WaitResult) => (m.ready ? onReady() : res(m)))
    worker.on('error', rej)
  })
  return { ready, result, worker }
}

/** A direct SoftHSM instance in this process: the same SoftHSM that the module forwards to. */
function loadSofthsmDirect(): PKCS11 {
  const direct = new pkcs11js.PKCS11()
  direct.load(fx.library)
  return direct
}

/** Sessions SoftHSM has open (its handles are small numbers, reused). */
function realSessionCount(direct: PKCS11): number {
  let n = 0
  for (let h = 1; h <= 256; h++) if (ckr(() => direct.C_GetSessionInfo(slotHandle(h))) === 'CKR_OK') n++
  return n
}

beforeAll(async () => {
  buildIfStale()
  fx = await createTokenFixture()
  confPath = join(fx.dir, 'faults.conf')
  statePath = join(fx.dir, 'faults.state')
  // Native libraries read these with getenv(), at C_Initialize.
  process.env.SOFTHSM2_CONF = fx.conf
  process.env.LKMR_FAULTS_CONF = confPath
  configure()
  p11 = new pkcs11js.PKCS11()
  p11.load(LIB)
})

afterAll(() => {
  ckr(() => p11?.C_Finalize())
  p11?.close()
  fx?.cleanup()
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

beforeEach(() => {
  rmSync(statePath, { force: true })
  configure()
  p11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK })
})

afterEach(() => {
  ckr(() => p11.C_Finalize())
})

describe('forwarding', () => {
  it('lists the same tokens as SoftHSM and identifies itself', () => {
    expect(presentLabels()).toEqual(fx.manifest.tokens.map((t) => t.label).sort())
    const info = p11.C_GetInfo()
    expect(info.libraryDescription.trim()).toBe('pkcs11-faults wrapper')
    expect(info.cryptokiVersion).toEqual({ major: 2, minor: 40 })
    expect(info.manufacturerID.trim()).toBe('SoftHSM')
    const slot = slotOf(DOCTOR)
    expect(p11.C_GetMechanismList(slot)).toContain(pkcs11js.CKM_SHA256_RSA_PKCS)
    // Unconfigured slots keep SoftHSM's IDs and flags.
    expect(p11.C_GetSlotInfo(slot).flags & CKF_REMOVABLE_DEVICE).toBe(0)
  })

  it('logs in and signs with RSA and ECDSA; signatures verify against the certificates', () => {
    const data = Buffer.from('Протокол консультации №17')
    const doctor = doctorSession()
    expect(p11.C_GetSessionInfo(doctor.session).state).toBe(CKS_RO_USER_FUNCTIONS)
    expect(slotNumber(p11.C_GetSessionInfo(doctor.session).slotID)).toBe(slotNumber(doctor.slot))
    expect(verifiesWith('doctor', data, signRsa(doctor.session, doctor.key, data))).toBe(true)

    const nurseSession = openSession(slotOf(NURSE))
    p11.C_Login(nurseSession, pkcs11js.CKU_USER, USER_PIN)
    const nurseKey = privateKey(nurseSession, fx.cert('nurse').cert.ckaId)
    const signature = signEcdsa(nurseSession, nurseKey, data)
    expect(signature.length).toBe(64)
    expect(verifiesWith('nurse', data, signature)).toBe(true)
    expect(verifiesWith('nurse', Buffer.from('something else'), signature)).toBe(false)
    p11.C_CloseSession(doctor.session)
    p11.C_CloseSession(nurseSession)
  })

  it('answers CKR_SESSION_HANDLE_INVALID for handles it never gave out, and never reuses its own', () => {
    expect(ckr(() => p11.C_GetSessionInfo(slotHandle(987654)))).toBe('CKR_SESSION_HANDLE_INVALID')
    const slot = slotOf(DOCTOR)
    const first = openSession(slot)
    p11.C_CloseSession(first)
    const second = openSession(slot)
    expect(second.equals(first)).toBe(false)
    expect(ckr(() => p11.C_GetSessionInfo(first))).toBe('CKR_SESSION_HANDLE_INVALID')
  })

  // Before Linux 6.13, file times advance with the kernel tick (4 ms at HZ=250): these rewrites
  // share one mtime and ctime, and only the module's content comparison tells them apart. Newer
  // kernels (multigrain timestamps) give each rewrite a distinct mtime once it has been stat'ed.
  it('notices quick in-place rewrites of the same size (one mtime tick)', () => {
    const base = readFileSync(confPath, 'utf8')
    for (const slot of [41, 42, 43, 44, 45]) {
      writeFileSync(confPath, `${base}[token ${DOCTOR}]\nslot = ${slot}\n`) // same inode, same size
      expect(slotNumber(slotOf(DOCTOR))).toBe(slot)
    }
  })

  it('refuses to initialise with an invalid configuration file and keeps the previous one on a bad rewrite', () => {
    p11.C_Finalize()
    writeRaw('[token demo-doctor]\npin_retry = 3\n')
    expect(ckr(() => p11.C_Initialize())).toBe('CKR_GENERAL_ERROR')
    configure({ [DOCTOR]: { present: false } })
    p11.C_Initialize()
    expect(presentLabels()).not.toContain(DOCTOR)
    writeRaw('[token demo-doctor]\npresent = maybe\n') // rejected at run time: the doctor stays out
    expect(presentLabels()).not.toContain(DOCTOR)
    configure()
    expect(presentLabels()).toContain(DOCTOR)
  })
})

describe('user-PIN retry counter', () => {
  it('counts down with COUNT_LOW, FINAL_TRY, LOCKED and then refuses without asking SoftHSM', () => {
    configure({ [DOCTOR]: { pin_retries: 3 } })
    const slot = slotOf(DOCTOR)
    const session = openSession(slot)
    expect(pinFlags(slot)).toBe(0)
    expect(ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '0000'))).toBe('CKR_PIN_INCORRECT')
    expect(pinFlags(slot)).toBe(COUNT_LOW)
    expect(ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '1111'))).toBe('CKR_PIN_INCORRECT')
    expect(pinFlags(slot)).toBe(COUNT_LOW | FINAL_TRY)
    expect(ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '2222'))).toBe('CKR_PIN_INCORRECT')
    expect(pinFlags(slot) & LOCKED).toBe(LOCKED)
    expect(pinFlags(slot) & FINAL_TRY).toBe(0)

    // The right PIN is refused too, and SoftHSM never sees it: the session stays logged out, and
    // SoftHSM's own COUNT_LOW (set by the wrong PINs, cleared by a right one) is still there.
    expect(ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, USER_PIN))).toBe('CKR_PIN_LOCKED')
    expect(p11.C_GetSessionInfo(session).state).toBe(CKS_RO_PUBLIC_SESSION)
    configure()
    expect(pinFlags(slot)).toBe(COUNT_LOW)
    configure({ [DOCTOR]: { pin_retries: 3 } })
    expect(pinFlags(slot) & LOCKED).toBe(LOCKED)
  })

  it('masks SoftHSM\'s own COUNT_LOW while the counter is on', () => {
    const slot = slotOf(NURSE)
    const session = openSession(slot)
    expect(ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '0000'))).toBe('CKR_PIN_INCORRECT')
    expect(pinFlags(slot)).toBe(COUNT_LOW) // SoftHSM's flag, forwarded
    configure({ [NURSE]: { pin_retries: 10 } })
    expect(pinFlags(slot)).toBe(0) // ours: 10 of 10 tries left
    p11.C_Login(session, pkcs11js.CKU_USER, USER_PIN)
  })

  it('a correct PIN refills the counter', () => {
    configure({ [DOCTOR]: { pin_retries: 3 } })
    const slot = slotOf(DOCTOR)
    const session = openSession(slot)
    ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '0000'))
    ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '0000'))
    expect(pinFlags(slot)).toBe(COUNT_LOW | FINAL_TRY)
    p11.C_Login(session, pkcs11js.CKU_USER, USER_PIN)
    expect(pinFlags(slot)).toBe(0)
    p11.C_Logout(session)
    expect(ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '0000'))).toBe('CKR_PIN_INCORRECT')
    expect(pinFlags(slot)).toBe(COUNT_LOW) // 2 of 3 left again, not the final try
  })

  it('stays locked across C_Finalize/C_Initialize and in another process', () => {
    configure({ [DOCTOR]: { pin_retries: 1 } })
    let slot = slotOf(DOCTOR)
    expect(pinFlags(slot)).toBe(FINAL_TRY) // max 1: no COUNT_LOW, but the next wrong PIN locks
    expect(ckr(() => p11.C_Login(openSession(slot), pkcs11js.CKU_USER, '0000'))).toBe('CKR_PIN_INCORRECT')
    p11.C_Finalize()
    p11.C_Initialize()
    slot = slotOf(DOCTOR)
    expect(pinFlags(slot) & LOCKED).toBe(LOCKED)
    expect(ckr(() => p11.C_Login(openSession(slot), pkcs11js.CKU_USER, USER_PIN))).toBe('CKR_PIN_LOCKED')
    expect(readFileSync(statePath, 'utf8')).toMatch(/^0 demo-doctor$/m)

    const other = spawnSync('pkcs11-tool', ['--module', LIB, '--token-label', DOCTOR, '--login', '--pin', USER_PIN, '-O'], {
      encoding: 'utf8',
      env: process.env,
    })
    expect(other.status).not.toBe(0)
    expect(other.stderr).toContain('CKR_PIN_LOCKED')
  })

  it('the SO unlocks with C_InitPIN, and the user PIN works again', () => {
    configure({ [DOCTOR]: { pin_retries: 2 } })
    const slot = slotOf(DOCTOR)
    const session = openSession(slot, p11, true)
    ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '0000'))
    ckr(() => p11.C_Login(session, pkcs11js.CKU_USER, '0000'))
    expect(pinFlags(slot) & LOCKED).toBe(LOCKED)
    expect(ckr(() => p11.C_Login(session, pkcs11js.CKU_SO, '00000000'))).toBe('CKR_PIN_INCORRECT')
    expect(pinFlags(slot) & LOCKED).toBe(LOCKED) // a wrong SO PIN is not the user's
    p11.C_Login(session, pkcs11js.CKU_SO, SO_PIN)
    p11.C_InitPIN(session, USER_PIN)
    p11.C_Logout(session)
    expect(pinFlags(slot)).toBe(0)
    p11.C_Login(session, pkcs11js.CKU_USER, USER_PIN)
    const key = privateKey(session, fx.cert('doctor').cert.ckaId)
    const data = Buffer.from('after unlock')
    expect(verifiesWith('doctor', data, signRsa(session, key, data))).toBe(true)
  })

  it('C_SetPIN with a wrong old PIN costs a try', () => {
    configure({ [NURSE]: { pin_retries: 3 } })
    const slot = slotOf(NURSE)
    const session = openSession(slot, p11, true)
    expect(ckr(() => p11.C_SetPIN(session, '0000', '99999999'))).toBe('CKR_PIN_INCORRECT')
    expect(pinFlags(slot)).toBe(COUNT_LOW)
    p11.C_SetPIN(session, USER_PIN, USER_PIN)
    expect(pinFlags(slot)).toBe(0)
  })
})

describe('removal and insertion', () => {
  it('a pulled token leaves the slot list, its sessions fail with DEVICE_REMOVED, then SESSION_HANDLE_INVALID', () => {
    const { slot, session, key } = doctorSession()
    const second = openSession(slot)
    p11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, key)
    configure({ [DOCTOR]: { present: false } })

    expect(presentLabels()).not.toContain(DOCTOR)
    expect(p11.C_GetSlotList(false).map(slotNumber)).toContain(slotNumber(slot))
    const slotFlags = p11.C_GetSlotInfo(slot).flags
    expect(slotFlags & CKF_TOKEN_PRESENT).toBe(0)
    expect(slotFlags & CKF_REMOVABLE_DEVICE).toBe(CKF_REMOVABLE_DEVICE)
    expect(ckr(() => p11.C_GetTokenInfo(slot))).toBe('CKR_TOKEN_NOT_PRESENT')
    expect(ckr(() => openSession(slot))).toBe('CKR_TOKEN_NOT_PRESENT')
    expect(ckr(() => p11.C_GetMechanismList(slot))).toBe('CKR_TOKEN_NOT_PRESENT')
    expect(ckr(() => p11.C_Sign(session, Buffer.from('x'), Buffer.alloc(512)))).toBe('CKR_DEVICE_REMOVED')
    expect(ckr(() => p11.C_GetSessionInfo(second))).toBe('CKR_DEVICE_REMOVED')
    expect(ckr(() => p11.C_FindObjectsInit(second, []))).toBe('CKR_DEVICE_REMOVED')
    // Other tokens are untouched.
    expect(presentLabels()).toContain(NURSE)

    configure()
    expect(presentLabels()).toContain(DOCTOR)
    expect(ckr(() => p11.C_GetSessionInfo(session))).toBe('CKR_SESSION_HANDLE_INVALID')
    expect(ckr(() => p11.C_CloseSession(second))).toBe('CKR_SESSION_HANDLE_INVALID')
    // The real sessions were closed, so SoftHSM logged the token out: a new session starts public.
    const fresh = openSession(slot)
    expect(p11.C_GetSessionInfo(fresh).state).toBe(CKS_RO_PUBLIC_SESSION)
    p11.C_Login(fresh, pkcs11js.CKU_USER, USER_PIN)
    const data = Buffer.from('after re-insertion')
    expect(verifiesWith('doctor', data, signRsa(fresh, privateKey(fresh, fx.cert('doctor').cert.ckaId), data))).toBe(true)
  })

  it('leaks no real session: SoftHSM itself has none left after a removal', () => {
    // SoftHSM initialised directly first; the module shares it (and must not finalise it).
    p11.C_Finalize()
    const direct = loadSofthsmDirect()
    direct.C_Initialize()
    try {
      p11.C_Initialize()
      const slot = slotOf(DOCTOR)
      const baseline = realSessionCount(direct)
      const sessions = [openSession(slot), openSession(slot), openSession(slot, p11, true)]
      p11.C_Login(sessions[0]!, pkcs11js.CKU_USER, USER_PIN)
      expect(realSessionCount(direct)).toBe(baseline + 3)
      configure({ [DOCTOR]: { present: false } })
      expect(ckr(() => p11.C_GetSessionInfo(sessions[1]!))).toBe('CKR_DEVICE_REMOVED')
      expect(realSessionCount(direct)).toBe(baseline)
      configure()
      for (const s of sessions) expect(ckr(() => p11.C_CloseSession(s))).toBe('CKR_SESSION_HANDLE_INVALID')
      const open = openSession(slot)
      expect(realSessionCount(direct)).toBe(baseline + 1)
      p11.C_Finalize() // not owner: closes its own sessions only
      expect(realSessionCount(direct)).toBe(baseline)
      expect(ckr(() => direct.C_GetSlotList(true))).toBe('CKR_OK')
      expect(ckr(() => p11.C_GetSessionInfo(open))).toBe('CKR_CRYPTOKI_NOT_INITIALIZED')
    } finally {
      ckr(() => direct.C_Finalize())
      direct.close()
      ckr(() => p11.C_Initialize()) // for afterEach
    }
  })

  it('C_WaitForSlotEvent with CKF_DONT_BLOCK reports removal and insertion, then CKR_NO_EVENT', () => {
    const slot = slotNumber(slotOf(DOCTOR))
    expect(p11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK)).toBeNull()
    configure({ [DOCTOR]: { present: false } })
    const event = p11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK)
    expect(event && slotNumber(event)).toBe(slot)
    expect(p11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK)).toBeNull()
    configure()
    const back = p11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK)
    expect(back && slotNumber(back)).toBe(slot)
    expect(p11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK)).toBeNull()
    // A configuration rewrite that changes nothing is no event.
    configure({}, {})
    expect(p11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK)).toBeNull()
  })

  it('a blocking C_WaitForSlotEvent (another thread) wakes on removal, and on C_Finalize', async () => {
    const slot = slotNumber(slotOf(NURSE))
    const first = waitInWorker(0)
    await first.ready
    await sleep(300)
    configure({ [NURSE]: { present: false } })
    const got = await first.result
    await first.worker.terminate()
    expect(got).toMatchObject({ slot, error: null })
    expect(got.ms).toBeGreaterThanOrEqual(250)

    const second = waitInWorker(0)
    await second.ready
    await sleep(200)
    p11.C_Finalize()
    const ended = await second.result
    await second.worker.terminate()
    expect(ended.error).toBe('CKR_CRYPTOKI_NOT_INITIALIZED')
    p11.C_Initialize()
  })

  it('comes back under another slot ID', () => {
    const { slot, session } = doctorSession()
    const oldId = slotNumber(slot)
    configure({ [DOCTOR]: { present: false } })
    expect(ckr(() => p11.C_GetSessionInfo(session))).toBe('CKR_DEVICE_REMOVED')
    configure({ [DOCTOR]: { present: true, slot: 42 } })
    const events = [p11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK), p11.C_WaitForSlotEvent(pkcs11js.CKF_DONT_BLOCK)]
    expect(events.map((e) => e && slotNumber(e))).toEqual([oldId, 42])

    const moved = slotOf(DOCTOR)
    expect(slotNumber(moved)).toBe(42)
    expect(p11.C_GetSlotList(false).map(slotNumber)).not.toContain(oldId)
    expect(ckr(() => p11.C_GetSlotInfo(slot))).toBe('CKR_SLOT_ID_INVALID')
    expect(p11.C_GetSlotInfo(moved).flags & CKF_TOKEN_PRESENT).toBe(CKF_TOKEN_PRESENT)
    expect(ckr(() => p11.C_GetSessionInfo(session))).toBe('CKR_SESSION_HANDLE_INVALID')
    const fresh = openSession(moved)
    expect(slotNumber(p11.C_GetSessionInfo(fresh).slotID)).toBe(42)
    p11.C_Login(fresh, pkcs11js.CKU_USER, USER_PIN)
    const data = Buffer.from('port 42')
    expect(verifiesWith('doctor', data, signRsa(fresh, privateKey(fresh, fx.cert('doctor').cert.ckaId), data))).toBe(true)

    // Moving while present is a removal plus an insertion: the open session is gone too.
    configure({ [DOCTOR]: { slot: 43 } })
    expect(ckr(() => p11.C_GetSessionInfo(fresh))).toBe('CKR_SESSION_HANDLE_INVALID')
    expect(slotNumber(slotOf(DOCTOR))).toBe(43)
  })

  it('C_CloseAllSessions on the slot forgets pulled sessions too', () => {
    const slot = slotOf(DOCTOR)
    const a = openSession(slot)
    configure({ [DOCTOR]: { present: false } })
    expect(p11.C_CloseAllSessions(slot)).toBeUndefined()
    expect(ckr(() => p11.C_GetSessionInfo(a))).toBe('CKR_SESSION_HANDLE_INVALID')
    configure()
    const b = openSession(slot)
    p11.C_CloseAllSessions(slot)
    expect(ckr(() => p11.C_GetSessionInfo(b))).toBe('CKR_SESSION_HANDLE_INVALID')
  })
})

describe('latency and injected failures', () => {
  it('delays the chosen call of the chosen token', () => {
    const { session, key } = doctorSession()
    const data = Buffer.from('slow token')
    let t0 = performance.now()
    signRsa(session, key, data)
    const fast = performance.now() - t0
    configure({ [DOCTOR]: { 'latency.C_Sign': 400 } })
    t0 = performance.now()
    const signature = signRsa(session, key, data)
    const slow = performance.now() - t0
    expect(verifiesWith('doctor', data, signature)).toBe(true)
    expect(fast).toBeLessThan(200)
    expect(slow).toBeGreaterThanOrEqual(400)
    expect(slow).toBeLessThan(400 + 600) // once, not per slice or per call
    // Other calls, and the other tokens, are not slowed down.
    const nurse = openSession(slotOf(NURSE))
    t0 = performance.now()
    p11.C_GetSessionInfo(session)
    p11.C_GetSessionInfo(nurse)
    expect(performance.now() - t0).toBeLessThan(100)
  })

  it('a global latency applies to calls without a token (C_GetSlotList)', () => {
    configure({}, { 'latency.C_GetSlotList': 150 })
    const t0 = performance.now()
    p11.C_GetSlotList(true)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150)
  })

  it('pulling the token during a slow signature ends it at once with DEVICE_REMOVED', async () => {
    const { session, key } = doctorSession()
    configure({ [DOCTOR]: { 'latency.C_Sign': 3000 } })
    p11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, key)
    const t0 = performance.now()
    const signing = ckrAsync(p11.C_SignAsync(session, Buffer.from('pulled'), Buffer.alloc(512)))
    await sleep(300)
    configure({ [DOCTOR]: { present: false, 'latency.C_Sign': 3000 } })
    expect(await signing).toBe('CKR_DEVICE_REMOVED')
    expect(performance.now() - t0).toBeLessThan(1500)
  })

  it('fails a chosen call with a chosen code, a chosen number of times, without leaving the operation active', () => {
    const { session, key } = doctorSession()
    const data = Buffer.from('device error')
    configure({ [DOCTOR]: { 'fail.C_Sign': 'CKR_DEVICE_ERROR', 'fail.C_Sign.count': 1 } })
    expect(ckr(() => signRsa(session, key, data))).toBe('CKR_DEVICE_ERROR')
    // The real operation ended with the failure: the next signature starts cleanly.
    expect(verifiesWith('doctor', data, signRsa(session, key, data))).toBe(true)

    configure({ [DOCTOR]: { 'fail.C_Sign': '0x30', 'fail.C_Sign.after': 1, 'fail.C_Sign.count': 2 } })
    const results = [1, 2, 3, 4].map(() => ckr(() => signRsa(session, key, data)))
    expect(results).toEqual(['CKR_OK', 'CKR_DEVICE_ERROR', 'CKR_DEVICE_ERROR', 'CKR_OK'])

    configure({ [DOCTOR]: { 'fail.C_SignUpdate': 'CKR_FUNCTION_FAILED' } })
    p11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, key)
    expect(ckr(() => p11.C_SignUpdate(session, data))).toBe('CKR_FUNCTION_FAILED')
    expect(ckr(() => p11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, key))).toBe('CKR_OK')
    expect(ckr(() => p11.C_SignFinal(session, Buffer.alloc(512)))).toBe('CKR_OK')

    // Without .count every call fails, for this token only.
    const nurseSlot = slotOf(NURSE)
    const doctorSlot = slotOf(DOCTOR)
    configure({ [DOCTOR]: { 'fail.C_GetTokenInfo': 'CKR_TOKEN_NOT_RECOGNIZED' } })
    expect(ckr(() => p11.C_GetTokenInfo(doctorSlot))).toBe('CKR_TOKEN_NOT_RECOGNIZED')
    expect(ckr(() => p11.C_GetTokenInfo(doctorSlot))).toBe('CKR_TOKEN_NOT_RECOGNIZED')
    expect(ckr(() => p11.C_GetTokenInfo(nurseSlot))).toBe('CKR_OK')
  })

  it('global failures hit every token; an injected C_Login failure does not reach the counter', () => {
    configure({ [NURSE]: { pin_retries: 3 } }, { 'fail.C_Login': 'CKR_PIN_EXPIRED', 'fail.C_Login.count': 2 })
    const doctor = openSession(slotOf(DOCTOR))
    const nurseSlot = slotOf(NURSE)
    const nurse = openSession(nurseSlot)
    expect(ckr(() => p11.C_Login(doctor, pkcs11js.CKU_USER, USER_PIN))).toBe('CKR_PIN_EXPIRED')
    expect(ckr(() => p11.C_Login(nurse, pkcs11js.CKU_USER, '0000'))).toBe('CKR_PIN_EXPIRED')
    expect(pinFlags(nurseSlot)).toBe(0)
    expect(ckr(() => p11.C_Login(nurse, pkcs11js.CKU_USER, USER_PIN))).toBe('CKR_OK')
  })
})

describe('pkcs11-tool', () => {
  const tool = (args: string[]) =>
    spawnSync('pkcs11-tool', ['--module', LIB, ...args], { encoding: 'utf8', env: process.env, cwd: fx.dir })

  it('lists slots (-L), objects (-O) and signs (--sign) through the module', () => {
    p11.C_Finalize() // pkcs11-tool is another process; nothing shared but the files
    configure({ [DOCTOR]: { slot: 7 } })
    const list = tool(['-L'])
    expect(list.status, list.stderr).toBe(0)
    expect(list.stdout).toMatch(/Slot \d+ \(0x7\)[^\n]*\n\s+token label\s+: demo-doctor/)
    for (const t of fx.manifest.tokens) expect(list.stdout).toContain(`token label        : ${t.label}`)

    const { cert } = fx.cert('doctor')
    const objects = tool(['--slot', '7', '--login', '--pin', USER_PIN, '-O'])
    expect(objects.status, objects.stderr).toBe(0)
    expect(objects.stdout).toContain('Private Key Object; RSA')
    expect(objects.stdout).toContain(`ID:         ${cert.ckaId}`)

    const input = join(fx.dir, 'to-sign.txt')
    const output = join(fx.dir, 'signature.bin')
    writeFileSync(input, 'Направление на консультацию')
    const sign = tool(['--slot', '7', '--login', '--pin', USER_PIN, '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', cert.ckaId, '-i', input, '-o', output])
    expect(sign.status, sign.stderr).toBe(0)
    expect(verifiesWith('doctor', readFileSync(input), readFileSync(output))).toBe(true)

    configure({ [DOCTOR]: { slot: 7, pin_retries: 1 } })
    const wrong = tool(['--slot', '7', '--login', '--pin', '0000', '-O'])
    expect(wrong.stderr).toContain('CKR_PIN_INCORRECT')
    expect(tool(['-L']).stdout).toMatch(/token label\s+: demo-doctor[\s\S]*?token flags\s+:[^\n]*user PIN locked/)

    writeRaw('[token demo-doctor]\npin_retry = 3\n')
    const broken = tool(['-L'])
    expect(broken.status).not.toBe(0)
    expect(broken.stderr).toContain('line 2: unknown key "pin_retry"')
    configure()
    p11.C_Initialize()
  })
})

describe('forwarding overhead', () => {
  it('adds little to C_Sign on the doctor\'s RSA key (SoftHSM directly vs through the module)', () => {
    p11.C_Finalize()
    const direct = loadSofthsmDirect()
    direct.C_Initialize()
    try {
      p11.C_Initialize()
      const viaDirect = doctorSession(direct)
      // The login is SoftHSM's, per token: our session is already logged in through it.
      const slot = slotOf(DOCTOR)
      const session = openSession(slot)
      const viaModule = { session, key: privateKey(session, fx.cert('doctor').cert.ckaId) }
      const data = Buffer.from('benchmark')
      const rounds = 10
      const perRound = 40
      const times = { direct: [] as number[], module: [] as number[] }
      const run = (lib: PKCS11, s: { session: Handle; key: Handle }, into: number[]) => {
        const t0 = performance.now()
        for (let i = 0; i < perRound; i++) signRsa(s.session, s.key, data, lib)
        into.push((performance.now() - t0) / perRound)
      }
      run(direct, viaDirect, [])
      run(p11, viaModule, [])
      for (let r = 0; r < rounds; r++) {
        run(direct, viaDirect, times.direct)
        run(p11, viaModule, times.module)
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
      const d = median(times.direct)
      const m = median(times.module)
      console.log(
        `C_SignInit+C_Sign RSA-2048 (SHA256-RSA-PKCS), median of ${rounds}×${perRound}: SoftHSM ${(d * 1000).toFixed(0)} µs, ` +
          `via pkcs11-faults ${(m * 1000).toFixed(0)} µs, overhead ${((m - d) * 1000).toFixed(1)} µs (${((m / d - 1) * 100).toFixed(1)}%)`,
      )
      // The best round of each is the least disturbed by other processes. The wrapper costs a
      // few microseconds per call (a stat of the configuration, two mutex sections).
      expect(Math.min(...times.module) - Math.min(...times.direct)).toBeLessThan(0.2) // ms
    } finally {
      ckr(() => p11.C_Finalize())
      ckr(() => direct.C_Finalize())
      direct.close()
      p11.C_Initialize()
    }
  })
})
