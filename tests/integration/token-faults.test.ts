// Real token behaviour through the real PKCS#11 ABI: the token service (worker thread, pkcs11js)
// → the fault-injecting module (native/pkcs11-faults) → SoftHSM2, on a private copy of the demo
// tokens. The module's configuration is rewritten while the service runs: PIN counters that lock,
// tokens pulled out in the middle of discovery, C_Login and C_Sign, re-inserted into another slot,
// slow tokens and cancelled operations, injected failures, batch signing with one PIN entry.
import { createPublicKey, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { DemoCertKind } from '../../scripts/demo/manifest'
import type { TokenState } from '../../src/shared/model'
import { createFaultsConfig, unblockPin, type FaultsConfig } from '../../src/main/core/token/testing/faults'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'
import { createTokenService, type TokenService } from '../../src/main/core/token/token-service'
import { rejection } from '../support/app-error'

const DOCTOR = 'demo-doctor'
const NURSE = 'demo-nurse'

let fx: TokenFixture
let faults: FaultsConfig
let svc: TokenService
const changes: { at: number; state: TokenState }[] = []
const lost: { at: number; tokenIds: string[] }[] = []
const logs: string[] = []

const tokenId = (label: string): string => `${faults.library}#${fx.token(label).serial}`
const certId = (kind: DemoCertKind): string => {
  const { token, cert } = fx.cert(kind)
  return `${faults.library}#${token.serial}/${cert.ckaId}`
}
const pinOf = (kind: DemoCertKind): string => fx.cert(kind).token.userPin
const publicKeyOf = (kind: DemoCertKind) => createPublicKey(readFileSync(fx.cert(kind).cert.certPem))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const data = (i: number): Uint8Array => new TextEncoder().encode(`документ №${i}`)

/** Resolves with the first token picture (from now on, or the current one) that satisfies `ok`. */
async function stateWhere(ok: (s: TokenState) => boolean, timeoutMs = 5000): Promise<TokenState> {
  const current = await svc.state()
  if (ok(current)) return current
  const since = changes.length
  const t0 = performance.now()
  while (performance.now() - t0 < timeoutMs) {
    const hit = changes.slice(since).find((c) => ok(c.state))
    if (hit) return hit.state
    await sleep(10)
  }
  throw new Error(`no token state within ${timeoutMs} ms matched; last: ${JSON.stringify((await svc.state()).tokens.map((t) => [t.label, t.slotId, t.pin]))}`)
}
const tokenOf = (s: TokenState, label: string) => s.tokens.find((t) => t.id === tokenId(label))
const hasToken = (label: string) => (s: TokenState) => tokenOf(s, label) !== undefined
const lacksToken = (label: string) => (s: TokenState) => tokenOf(s, label) === undefined

beforeAll(async () => {
  fx = await createTokenFixture()
  faults = createFaultsConfig(fx)
  svc = createTokenService({
    libraries: [{ name: 'pkcs11-faults', path: faults.library, source: 'configured' }],
    env: faults.env(),
    pollIntervalMs: 500,
    log: (l) => logs.push(l),
  })
  svc.onChange((state) => changes.push({ at: performance.now(), state }))
  svc.onSessionLost((tokenIds) => lost.push({ at: performance.now(), tokenIds }))
  await svc.state()
})

afterAll(async () => {
  await svc?.close()
  fx?.cleanup()
})

beforeEach(async () => {
  // Every test starts with all tokens in, nothing injected and nobody logged in.
  faults.set({})
  await svc.logout()
  await stateWhere((s) => fx.manifest.tokens.every((t) => hasToken(t.label)(s)))
})

describe('the fault module as a token library', () => {
  it('is loaded as its own library and lists the demo tokens through it', async () => {
    const s = await svc.state()
    const lib = s.libraries.find((l) => l.path === faults.library)
    expect(lib).toMatchObject({ state: 'loaded', error: null })
    expect(lib?.description).toMatch(/SoftHSM — pkcs11-faults wrapper/)
    expect(s.tokens.map((t) => t.label).sort()).toEqual(fx.manifest.tokens.map((t) => t.label).sort())
    expect(s.certificates.find((c) => c.id === certId('doctor'))).toMatchObject({ hasPrivateKey: true, tokenLabel: DOCTOR })
  })
})

describe('PIN retry counter', () => {
  it('counts down by the token flags, announces the last try before it, locks, and refuses without asking the token', async () => {
    faults.set({ [NURSE]: { pin_retries: 3 } })
    const id = certId('nurse')
    expect(tokenOf(await svc.state(), NURSE)?.pin).toMatchObject({ countLow: false, finalTry: false, locked: false })

    const first = await rejection(svc.login(id, '0000'), 'PIN_INCORRECT')
    expect(first.params).toEqual({ triesLeft: null, countLow: true, finalTry: false })
    await stateWhere((s) => tokenOf(s, NURSE)?.pin.countLow === true)

    // Two tries left: the next failure leaves one, and the answer says so before it is spent.
    const second = await rejection(svc.login(id, '0000'), 'PIN_INCORRECT')
    expect(second.params).toEqual({ triesLeft: 1, countLow: true, finalTry: true })
    const finalTry = await stateWhere((s) => tokenOf(s, NURSE)?.pin.finalTry === true)
    expect(tokenOf(finalTry, NURSE)?.pin).toMatchObject({ triesLeft: 1, locked: false })

    // The token answers the last wrong PIN with CKR_PIN_INCORRECT and locks: the flags tell.
    await rejection(svc.login(id, '0000'), 'PIN_LOCKED')
    const locked = await stateWhere((s) => tokenOf(s, NURSE)?.pin.locked === true)
    expect(tokenOf(locked, NURSE)?.pin).toMatchObject({ locked: true, triesLeft: 0, finalTry: false })

    // Locked: even the right PIN is refused, and C_Login is not called at all (an injected
    // C_Login failure would show as TOKEN_ERROR if it were).
    faults.set({ [NURSE]: { pin_retries: 3, 'fail.C_Login': 'CKR_DEVICE_ERROR' } })
    await rejection(svc.login(id, pinOf('nurse')), 'PIN_LOCKED')
    expect(await svc.loggedIn()).toEqual([])

    // The administrator unblocks it with the SO PIN (pkcs11-tool, another process): usable again.
    faults.set({ [NURSE]: { pin_retries: 3 } })
    unblockPin(faults, NURSE, fx.token(NURSE).soPin, pinOf('nurse'))
    await stateWhere((s) => tokenOf(s, NURSE)?.pin.locked === false)
    await svc.login(id, pinOf('nurse'))
    expect(await svc.loggedIn()).toEqual([tokenId(NURSE)])
    expect((await svc.sign(id, data(1))).signature.length).toBeGreaterThan(0)
  })

  it('a correct PIN refills the counter', async () => {
    faults.set({ [NURSE]: { pin_retries: 3 } })
    await rejection(svc.login(certId('nurse'), '0000'), 'PIN_INCORRECT')
    await stateWhere((s) => tokenOf(s, NURSE)?.pin.countLow === true)
    await svc.login(certId('nurse'), pinOf('nurse'))
    const s = await stateWhere((st) => tokenOf(st, NURSE)?.pin.countLow === false)
    expect(tokenOf(s, NURSE)?.pin).toMatchObject({ countLow: false, finalTry: false, locked: false, triesLeft: null })
  })
})

describe('removal and insertion', () => {
  it('reaches the certificate list within a second of removal and of insertion', async () => {
    const t0 = performance.now()
    faults.set({ [NURSE]: { present: false } })
    const gone = await stateWhere(lacksToken(NURSE))
    const goneMs = performance.now() - t0
    expect(gone.certificates.some((c) => c.tokenId === tokenId(NURSE))).toBe(false)
    const t1 = performance.now()
    faults.set({})
    const back = await stateWhere(hasToken(NURSE))
    const backMs = performance.now() - t1
    expect(back.certificates.some((c) => c.id === certId('nurse'))).toBe(true)
    // Polling every 500 ms with slot events: well under a second; the bound is for a loaded CI
    // machine (bench/ measures the figure).
    expect(goneMs).toBeLessThan(2000)
    expect(backMs).toBeLessThan(2000)
  })

  it('during certificate discovery: that token is reported removed with none of its certificates, the others are read', async () => {
    // Each attribute read on the doctor's token takes 400 ms, so the rescan is still reading it
    // when the token is pulled.
    faults.set({ [DOCTOR]: { 'latency.C_GetAttributeValue': 400 } })
    const scan = svc.refresh()
    await sleep(250)
    faults.set({ [DOCTOR]: { present: false, 'latency.C_GetAttributeValue': 400 } })
    const s = await scan
    expect(s.errors).toContainEqual({ tokenId: tokenId(DOCTOR), error: { code: 'TOKEN_REMOVED', params: {} } })
    expect(s.certificates.some((c) => c.tokenId === tokenId(DOCTOR))).toBe(false)
    expect(s.certificates.some((c) => c.id === certId('nurse'))).toBe(true)
    // The next poll simply shows it gone (no stale error), and it comes back whole.
    const after = await stateWhere(lacksToken(DOCTOR))
    expect(after.errors).toEqual([])
    faults.set({})
    const back = await stateWhere(hasToken(DOCTOR))
    expect(back.certificates.some((c) => c.id === certId('doctor'))).toBe(true)
    expect(back.errors).toEqual([])
  })

  it('during C_Login: ends at once with TOKEN_REMOVED; back in another slot, it logs in and signs in the same service', async () => {
    faults.set({ [DOCTOR]: { 'latency.C_Login': 5000 } })
    const t0 = performance.now()
    const login = svc.login(certId('doctor'), pinOf('doctor'))
    await sleep(300)
    faults.set({ [DOCTOR]: { present: false, 'latency.C_Login': 5000 } })
    await rejection(login, 'TOKEN_REMOVED')
    expect(performance.now() - t0).toBeLessThan(4000) // not the 5 s of the slow C_Login
    expect(await svc.loggedIn()).toEqual([])
    await stateWhere(lacksToken(DOCTOR))

    // Another USB port: the token appears under slot 77.
    faults.set({ [DOCTOR]: { slot: 77 } })
    const back = await stateWhere((s) => tokenOf(s, DOCTOR)?.slotId === '77')
    expect(back.certificates.some((c) => c.id === certId('doctor'))).toBe(true)
    await svc.login(certId('doctor'), pinOf('doctor'))
    const { signature } = await svc.sign(certId('doctor'), data(2))
    expect(verify('sha256', data(2), publicKeyOf('doctor'), signature)).toBe(true)
  })

  it('during C_Sign: ends at once with TOKEN_REMOVED, drops the login and tells who lost it; re-inserted, a new login signs', async () => {
    await svc.login(certId('doctor'), pinOf('doctor'))
    faults.set({ [DOCTOR]: { 'latency.C_Sign': 5000 } })
    const lostBefore = lost.length
    const t0 = performance.now()
    const signing = svc.sign(certId('doctor'), data(3))
    await sleep(300)
    faults.set({ [DOCTOR]: { present: false, 'latency.C_Sign': 5000 } })
    await rejection(signing, 'TOKEN_REMOVED')
    expect(performance.now() - t0).toBeLessThan(4000)
    expect(lost.slice(lostBefore).flatMap((l) => l.tokenIds)).toContain(tokenId(DOCTOR))
    expect(await svc.loggedIn()).toEqual([])
    await stateWhere(lacksToken(DOCTOR))

    // Back (the same slot): the old login is gone — signing asks for a new one, which works.
    faults.set({})
    await stateWhere(hasToken(DOCTOR))
    await rejection(svc.sign(certId('doctor'), data(4)), 'TOKEN_REMOVED')
    await svc.login(certId('doctor'), pinOf('doctor'))
    const { signature } = await svc.sign(certId('doctor'), data(4))
    expect(verify('sha256', data(4), publicKeyOf('doctor'), signature)).toBe(true)
    // No worker crash, nothing odd in the log.
    expect(logs.filter((l) => /stopped|failed/.test(l))).toEqual([])
  })
})

describe('slow tokens and cancel', () => {
  it('a cancelled slow login rejects at once; the token is logged out once C_Login returns', async () => {
    faults.set({ [DOCTOR]: { 'latency.C_Login': 3000 } })
    const controller = new AbortController()
    const t0 = performance.now()
    const login = svc.login(certId('doctor'), pinOf('doctor'), { signal: controller.signal })
    await sleep(300)
    controller.abort()
    await rejection(login, 'CANCELLED')
    expect(performance.now() - t0).toBeLessThan(2000) // not the 3 s of C_Login
    // Queued behind the running C_Login and the logout it triggered: nobody is logged in.
    expect(await svc.loggedIn()).toEqual([])
    expect(performance.now() - t0).toBeGreaterThan(2500) // it did wait for C_Login to finish
    await rejection(svc.sign(certId('doctor'), data(5)), 'SESSION_EXPIRED')
    // And the token is in a clean state: a normal login and signature work.
    faults.set({})
    await svc.login(certId('doctor'), pinOf('doctor'))
    expect((await svc.sign(certId('doctor'), data(5))).signature.length).toBeGreaterThan(0)
  })

  it('a cancelled slow signature leaves no operation active: the next one signs', async () => {
    await svc.login(certId('doctor'), pinOf('doctor'))
    faults.set({ [DOCTOR]: { 'latency.C_Sign': 2000 } })
    const controller = new AbortController()
    const signing = svc.sign(certId('doctor'), data(6), { signal: controller.signal })
    await sleep(200)
    controller.abort()
    await rejection(signing, 'CANCELLED')
    faults.set({})
    const { signature } = await svc.sign(certId('doctor'), data(7))
    expect(verify('sha256', data(7), publicKeyOf('doctor'), signature)).toBe(true)
    // Signing cancels do not log out: the batch may go on with the same login.
    expect(await svc.loggedIn()).toEqual([tokenId(DOCTOR)])
  })

  it('a cancelled batch stops between two signatures', async () => {
    await svc.login(certId('doctor'), pinOf('doctor'))
    faults.set({ [DOCTOR]: { 'latency.C_Sign': 300 } })
    const controller = new AbortController()
    let done = 0
    const batch = svc.signBatch(certId('doctor'), [1, 2, 3, 4, 5, 6].map(data), {
      signal: controller.signal,
      onProgress: (n) => {
        done = n
        if (n === 2) controller.abort()
      },
    })
    await rejection(batch, 'CANCELLED')
    expect(done).toBe(2)
  })
})

describe('signing', () => {
  it('a batch of signatures needs one PIN entry: C_Login is not called again', async () => {
    await svc.login(certId('doctor'), pinOf('doctor'))
    // From now on any C_Login on the doctor's token fails: the batch must not need one.
    faults.set({ [DOCTOR]: { 'fail.C_Login': 'CKR_DEVICE_ERROR' } })
    const items = Array.from({ length: 20 }, (_, i) => data(100 + i))
    const progress: number[] = []
    const results = await svc.signBatch(certId('doctor'), items, { onProgress: (n) => progress.push(n) })
    expect(results).toHaveLength(20)
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    results.forEach((r, i) => expect(verify('sha256', items[i]!, publicKeyOf('doctor'), r.signature)).toBe(true))
    // Logged out, the next signature needs a login again.
    await svc.logout()
    await rejection(svc.sign(certId('doctor'), data(1)), 'SESSION_EXPIRED')
  })

  it('back-to-back signing never meets CKR_OPERATION_ACTIVE, also right after a failed C_Sign', async () => {
    await svc.login(certId('nurse'), pinOf('nurse'))
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => svc.sign(certId('nurse'), data(i))))
    expect(all).toHaveLength(40)
    faults.set({ [NURSE]: { 'fail.C_Sign': 'CKR_DEVICE_ERROR', 'fail.C_Sign.count': 1 } })
    await rejection(svc.sign(certId('nurse'), data(1)), 'TOKEN_ERROR')
    const again = await svc.sign(certId('nurse'), data(2))
    expect(again.keyAlgorithm).toBe('EC')
    expect(await svc.loggedIn()).toEqual([tokenId(NURSE)])
  })

  it('logout of one certificate leaves the other token logged in', async () => {
    await svc.login(certId('nurse'), pinOf('nurse'))
    await svc.login(certId('doctor'), pinOf('doctor'))
    expect((await svc.loggedIn()).sort()).toEqual([tokenId(DOCTOR), tokenId(NURSE)].sort())
    await svc.logout(certId('doctor'))
    expect(await svc.loggedIn()).toEqual([tokenId(NURSE)])
    await rejection(svc.sign(certId('doctor'), data(1)), 'SESSION_EXPIRED')
    expect((await svc.sign(certId('nurse'), data(1))).signature.length).toBeGreaterThan(0)
  })
})
