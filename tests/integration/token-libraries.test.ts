// Several tokens and several PKCS#11 libraries at once, through the real ABI: SoftHSM2 loaded
// directly AND the fault module in front of the same SoftHSM2 (two libraries sharing one module
// underneath: one C_Initialize per process), plus a doctor with two tokens of their own.
import { createPublicKey, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DemoToken } from '../../scripts/demo/manifest'
import type { TokenState } from '../../src/shared/model'
import { isSoftHsmItself } from '../../src/main/core/token/pkcs11-module'
import { createFaultsConfig, type FaultsConfig } from '../../src/main/core/token/testing/faults'
import { createTokenFixture, type TokenFixture } from '../../src/main/core/token/testing/token-fixture'
import { createTokenService, type TokenService } from '../../src/main/core/token/token-service'

const SECOND = 'demo-doctor-2'

let fx: TokenFixture
let faults: FaultsConfig
let svc: TokenService
let second: DemoToken
const changes: TokenState[] = []
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const direct = (): string => fx.library
const idOn = (library: string, label: string): string => `${library}#${fx.token(label).serial}`
const certOn = (library: string, label: string): string => {
  const t = fx.token(label)
  return `${idOn(library, label)}/${t.certificates[0]!.ckaId}`
}

async function stateWhere(ok: (s: TokenState) => boolean, timeoutMs = 5000): Promise<TokenState> {
  const t0 = performance.now()
  for (;;) {
    const s = changes.at(-1) ?? (await svc.state())
    if (ok(s)) return s
    if (performance.now() - t0 > timeoutMs) throw new Error(`no matching token state within ${timeoutMs} ms`)
    await sleep(20)
  }
}
const listed = (s: TokenState, library: string, label: string): boolean => s.tokens.some((t) => t.id === idOn(library, label))

beforeAll(async () => {
  fx = await createTokenFixture()
  // Before anything in this process loads SoftHSM: the doctor gets a second token of their own.
  second = await fx.addToken(SECOND, 'doctor')
  faults = createFaultsConfig(fx)
  svc = createTokenService({
    libraries: [
      { name: 'SoftHSM2', path: direct(), source: 'configured' },
      { name: 'pkcs11-faults', path: faults.library, source: 'configured' },
    ],
    env: faults.env(),
    pollIntervalMs: 500,
  })
  svc.onChange((s) => changes.push(s))
  await svc.state()
})

afterAll(async () => {
  await svc?.close()
  fx?.cleanup()
})

describe('two libraries, several tokens', () => {
  it('lists every token once per library, with unique token and certificate ids', async () => {
    const s = await svc.state()
    expect(s.libraries.map((l) => l.state)).toEqual(['loaded', 'loaded'])
    const labels = fx.manifest.tokens.map((t) => t.label)
    expect(labels).toContain(SECOND)
    for (const label of labels) {
      expect(listed(s, direct(), label)).toBe(true)
      expect(listed(s, faults.library, label)).toBe(true)
    }
    expect(new Set(s.tokens.map((t) => t.id)).size).toBe(s.tokens.length)
    expect(new Set(s.certificates.map((c) => c.id)).size).toBe(s.certificates.length)
    expect(s.errors).toEqual([])
  })

  it('tells two certificates of the same owner on two tokens apart by token label and serial', async () => {
    const s = await svc.state()
    const doctorName = fx.cert('doctor').cert.fullName
    const mine = s.certificates.filter((c) => c.subject.fullName === doctorName && c.tokenId.startsWith(`${direct()}#`))
    expect(mine).toHaveLength(2)
    const tokens = mine.map((c) => s.tokens.find((t) => t.id === c.tokenId)!)
    expect(new Set(tokens.map((t) => t.label))).toEqual(new Set(['demo-doctor', SECOND]))
    expect(new Set(tokens.map((t) => t.serial)).size).toBe(2)
    expect(mine[0]!.fingerprintSha256).not.toBe(mine[1]!.fingerprintSha256)
    expect(mine.map((c) => c.tokenLabel).sort()).toEqual(['demo-doctor', SECOND].sort())
  })

  it('logs in and signs on two tokens through two libraries at once', async () => {
    const a = certOn(direct(), 'demo-doctor')
    const b = certOn(faults.library, SECOND)
    await svc.login(a, fx.token('demo-doctor').userPin)
    await svc.login(b, second.userPin)
    const msg = new TextEncoder().encode('направление')
    const [ra, rb] = await Promise.all([svc.sign(a, msg), svc.sign(b, msg)])
    expect(verify('sha256', msg, createPublicKey(readFileSync(fx.cert('doctor').cert.certPem)), ra.signature)).toBe(true)
    expect(verify('sha256', msg, createPublicKey(readFileSync(second.certificates[0]!.certPem)), rb.signature)).toBe(true)
    await svc.logout()
  })

  it('a logged-in session through the module survives SoftHSM\'s re-initialisation polling of the direct library', async () => {
    const b = certOn(faults.library, SECOND)
    await svc.login(b, second.userPin)
    // Several polls: the direct SoftHSM must not be finalised under the module's open session.
    await sleep(1600)
    const msg = new TextEncoder().encode('рецепт')
    const { signature } = await svc.sign(b, msg)
    expect(verify('sha256', msg, createPublicKey(readFileSync(second.certificates[0]!.certPem)), signature)).toBe(true)
    await svc.logout()
  })

  it('a removal simulated by the module affects only that library', async () => {
    faults.set({ [SECOND]: { present: false } })
    const s = await stateWhere((st) => !listed(st, faults.library, SECOND))
    expect(listed(s, direct(), SECOND)).toBe(true)
    faults.set({})
    await stateWhere((st) => listed(st, faults.library, SECOND))
  })

  it('a SoftHSM token folder pulled and put back is seen through both libraries (re-initialisation while idle)', async () => {
    fx.pull('demo-nurse')
    await stateWhere((st) => !listed(st, direct(), 'demo-nurse') && !listed(st, faults.library, 'demo-nurse'))
    fx.insert('demo-nurse')
    const back = await stateWhere((st) => listed(st, direct(), 'demo-nurse') && listed(st, faults.library, 'demo-nurse'))
    expect(back.libraries.map((l) => l.state)).toEqual(['loaded', 'loaded'])
    const nurse = certOn(faults.library, 'demo-nurse')
    await svc.login(nurse, fx.token('demo-nurse').userPin)
    expect((await svc.sign(nurse, new TextEncoder().encode('x'))).keyAlgorithm).toBe('EC')
    await svc.logout()
  })
})

describe('which libraries are re-initialised to see SoftHSM token folders', () => {
  it('SoftHSM2 itself, not a module in front of it that forwards its manufacturer', () => {
    expect(isSoftHsmItself('SoftHSM', 'Implementation of PKCS11')).toBe(true)
    expect(isSoftHsmItself('SoftHSM', 'pkcs11-faults wrapper')).toBe(false)
    expect(isSoftHsmItself('Aktiv Co.', 'Rutoken ECP PKCS #11 library')).toBe(false)
  })
})
