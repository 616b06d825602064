// The token service through its worker thread, against real SoftHSM2 tokens (a private copy of
// the demo tokens): state, PIN outcomes, signing, hot-plug events, and the worker entry both as
// TypeScript (tsx, vitest) and as a bundled .js next to the bundle.
import { execFile } from 'node:child_process'
import { createPublicKey, verify, X509Certificate } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TokenState } from '../../../shared/model'
import type { DemoCertKind } from '../../../../scripts/demo/manifest'
import { createTokenFixture, type TokenFixture } from './testing/token-fixture'
import { resolveWorkerEntry, workerStart } from '../worker-entry'
import { createTokenService, type TokenService } from './token-service'
import { rejection } from '../../../../tests/support/app-error'

const run = promisify(execFile)
const here = fileURLToPath(new URL('.', import.meta.url))

let fx: TokenFixture
let svc: TokenService
const events: { at: number; state: TokenState }[] = []

const certId = (kind: DemoCertKind): string => {
  const { token, cert } = fx.cert(kind)
  return `${fx.library}#${token.serial}/${cert.ckaId}`
}
const tokenId = (label: string): string => `${fx.library}#${fx.token(label).serial}`
const pinOf = (kind: DemoCertKind): string => fx.cert(kind).token.userPin
const publicKeyOf = (kind: DemoCertKind) => createPublicKey(readFileSync(fx.cert(kind).cert.certPem))

/** The first change event after `since` whose state satisfies `ok`, or a timeout error. */
function changeWhere(since: number, ok: (s: TokenState) => boolean, timeoutMs: number): Promise<{ at: number; state: TokenState }> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const hit = events.find((e) => e.at >= since && ok(e.state))
      if (hit) resolve(hit)
      return hit !== undefined
    }
    if (check()) return
    const poll = setInterval(() => {
      if (check()) clearInterval(poll)
    }, 10)
    setTimeout(() => {
      clearInterval(poll)
      if (!check()) reject(new Error(`no matching token change event within ${timeoutMs} ms`))
    }, timeoutMs)
  })
}

beforeAll(async () => {
  fx = await createTokenFixture()
  svc = createTokenService({
    libraries: [{ name: 'SoftHSM2', path: fx.library, source: 'configured' }],
    env: { SOFTHSM2_CONF: fx.conf },
    pollIntervalMs: 500,
  })
  svc.onChange((state) => events.push({ at: performance.now(), state }))
})

afterAll(async () => {
  await svc?.close()
  fx?.cleanup()
})

describe('token service (worker thread)', () => {
  it('starts the worker, loads SoftHSM2 and reports every demo token and certificate, with phase timings', async () => {
    const state = await svc.state()
    expect(state.libraries).toEqual([
      expect.objectContaining({ name: 'SoftHSM2', path: fx.library, source: 'configured', state: 'loaded', error: null }),
    ])
    expect(state.tokens.map((t) => t.label).sort()).toEqual(fx.manifest.tokens.map((t) => t.label).sort())
    expect(state.certificates).toHaveLength(fx.manifest.tokens.flatMap((t) => t.certificates).length)
    expect(state.certificates.find((c) => c.id === certId('doctor'))).toMatchObject({ hasPrivateKey: true, keyAlgorithm: 'RSA' })
    const startup = svc.timings().startup!
    for (const phase of ['libraryLoad', 'initialize', 'discovery'] as const) expect(startup.phases[phase]).toBeGreaterThan(0)
  })

  it('refresh() rescans and returns the same picture', async () => {
    const s = await svc.refresh()
    expect(s.tokens.map((t) => t.id).sort()).toEqual((await svc.state()).tokens.map((t) => t.id).sort())
  })

  it('a wrong PIN rejects with PIN_INCORRECT (count low), and a change event reports the PIN flags', async () => {
    const since = performance.now()
    const err = await rejection(svc.login(certId('nurse'), 'definitely-wrong'), 'PIN_INCORRECT')
    expect(err.params).toEqual({ triesLeft: null, countLow: true, finalTry: false })
    expect(err.details).toMatch(/C_Login: CKR_PIN_INCORRECT/)
    expect(err.details).not.toContain('definitely-wrong')
    const ev = await changeWhere(since, (s) => s.tokens.some((t) => t.id === tokenId('demo-nurse') && t.pin.countLow), 1500)
    expect(ev.state.tokens.find((t) => t.id === tokenId('demo-nurse'))!.pin.countLow).toBe(true)
    expect((await svc.state()).tokens.find((t) => t.id === tokenId('demo-nurse'))!.pin.countLow).toBe(true)
  })

  it('logs in and signs with RSA and ECDSA keys; signatures verify against the certificates', async () => {
    await svc.login(certId('doctor'), pinOf('doctor'))
    const data = new TextEncoder().encode('вход 7c21')
    const rsa = await svc.sign(certId('doctor'), data)
    expect(rsa.keyAlgorithm).toBe('RSA')
    expect(rsa.signature).toBeInstanceOf(Uint8Array)
    expect(verify('sha256', data, publicKeyOf('doctor'), rsa.signature)).toBe(true)

    await svc.login(certId('nurse'), pinOf('nurse'))
    const ec = await svc.sign(certId('nurse'), data)
    expect(ec.keyAlgorithm).toBe('EC')
    expect(verify('sha256', data, { key: publicKeyOf('nurse'), dsaEncoding: 'ieee-p1363' }, ec.signature)).toBe(true)

    const t = svc.timings().last
    expect(t.login!.phases.login).toBeGreaterThan(0)
    expect(t.sign!.phases.sign).toBeGreaterThan(0)
    expect(t.sign!.roundTripMs).toBeGreaterThanOrEqual(t.sign!.workerMs)
  })

  it('returns the certificate DER and rebuilds errors as AppError', async () => {
    const der = await svc.certificate(certId('doctor'))
    expect(Buffer.from(der).equals(new X509Certificate(readFileSync(fx.cert('doctor').cert.certPem)).raw)).toBe(true)
    await rejection(svc.certificate(`${tokenId('demo-empty')}/abcd`), 'CERTIFICATE_NOT_FOUND')
    await rejection(svc.sign(certId('noPrivateKey'), new Uint8Array([1])), 'SESSION_EXPIRED')
  })

  it("leaves the caller's data intact: the same buffer signs twice, and the certificate cache survives", async () => {
    await svc.login(certId('doctor'), pinOf('doctor'))
    // A buffer of the caller's own (not Node's pool, which Node protects): transferring its
    // ArrayBuffer to the worker would detach it and lose the caller's data.
    const data = Buffer.alloc(300, 7)
    const plain = new TextEncoder().encode('направление на консультацию')
    await svc.sign(certId('doctor'), data)
    await svc.sign(certId('doctor'), data)
    await svc.sign(certId('doctor'), plain)
    expect(data.length).toBe(300)
    expect(data.every((b) => b === 7)).toBe(true)
    expect(new TextDecoder().decode(plain)).toBe('направление на консультацию')
    const first = await svc.certificate(certId('doctor'))
    const second = await svc.certificate(certId('doctor'))
    expect(first.length).toBeGreaterThan(0)
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true)
  })

  it('50 back-to-back and 20 concurrent signatures on one login, all valid', async () => {
    const key = publicKeyOf('doctor')
    for (let i = 0; i < 50; i++) {
      const data = new TextEncoder().encode(`пакет ${i}`)
      expect(verify('sha256', data, key, (await svc.sign(certId('doctor'), data)).signature)).toBe(true)
    }
    const inputs = Array.from({ length: 20 }, (_, i) => new TextEncoder().encode(`одновременно ${i}`))
    const sigs = await Promise.all(inputs.map((d) => svc.sign(certId('doctor'), d)))
    sigs.forEach((s, i) => expect(verify('sha256', inputs[i]!, key, s.signature)).toBe(true))
  })

  it('a pulled token leaves the state with a change event; put back, it returns and signs again', async () => {
    // One user at a time: SoftHSM sees a token folder come back only at C_Initialize, which the
    // worker redoes only while no session of the library is open (another login would be lost).
    await svc.logout()
    await svc.login(certId('doctor'), pinOf('doctor'))
    let since = performance.now()
    fx.pull('demo-doctor')
    // Polling is every 500 ms; 3 s is a sanity bound for a loaded CI machine (bench/ measures it).
    const gone = await changeWhere(since, (s) => !s.tokens.some((t) => t.id === tokenId('demo-doctor')), 3000)
    expect(gone.at - since).toBeLessThan(3000)
    expect(gone.state.certificates.some((c) => c.id === certId('doctor'))).toBe(false)
    expect(gone.state.tokens).toHaveLength(fx.manifest.tokens.length - 1)
    expect((await svc.state()).tokens.some((t) => t.id === tokenId('demo-doctor'))).toBe(false)
    await rejection(svc.sign(certId('doctor'), new Uint8Array([1])), 'TOKEN_REMOVED')

    since = performance.now()
    fx.insert('demo-doctor')
    const back = await changeWhere(since, (s) => s.tokens.some((t) => t.id === tokenId('demo-doctor')), 3000)
    expect(back.at - since).toBeLessThan(3000)
    expect(back.state.certificates.find((c) => c.id === certId('doctor'))).toMatchObject({ hasPrivateKey: true })
    await svc.login(certId('doctor'), pinOf('doctor'))
    const data = new TextEncoder().encode('снова вставлен')
    expect(verify('sha256', data, publicKeyOf('doctor'), (await svc.sign(certId('doctor'), data)).signature)).toBe(true)
  })

  it('logout ends the login', async () => {
    await svc.logout()
    await rejection(svc.sign(certId('doctor'), new Uint8Array([1])), 'SESSION_EXPIRED')
  })

  it('refresh() sees a change at once and tells the listeners', async () => {
    const since = performance.now()
    fx.pull('demo-empty')
    try {
      const s = await svc.refresh()
      expect(s.tokens.some((t) => t.id === tokenId('demo-empty'))).toBe(false)
      await changeWhere(since, (st) => !st.tokens.some((t) => t.id === tokenId('demo-empty')), 1500)
    } finally {
      fx.insert('demo-empty')
    }
    await changeWhere(performance.now(), (st) => st.tokens.some((t) => t.id === tokenId('demo-empty')), 1500)
  })
})

describe('worker entry', () => {
  it('prefers a bundled token-worker.js next to the module, else the TypeScript source', () => {
    const dir = join(fx.dir, 'bundle')
    mkdirSync(dir)
    const base = pathToFileURL(join(dir, 'index.js')).href
    expect(resolveWorkerEntry('token-worker', base).pathname).toMatch(/\/token-worker\.ts$/)
    writeFileSync(join(dir, 'token-worker.js'), '')
    expect(resolveWorkerEntry('token-worker', base).pathname).toBe(join(dir, 'token-worker.js'))
    expect(workerStart(new URL('file:///x/token-worker.js'))).toEqual({ target: new URL('file:///x/token-worker.js'), eval: false })
    const ts = workerStart(new URL('file:///x/token-worker.ts'))
    expect(ts.eval).toBe(true)
    expect(ts.target).toMatch(/tsx\/dist\/esm\/api\/index\.mjs.*register\(\).*file:\/\/\/x\/token-worker\.ts/s)
  })

  const script = (serviceModule: string): string => `
    import { createTokenService } from ${JSON.stringify(serviceModule)}
    const svc = createTokenService({
      libraries: [{ name: 'SoftHSM2', path: ${JSON.stringify('LIB')}, source: 'configured' }],
      env: { SOFTHSM2_CONF: process.env.FIXTURE_CONF },
    })
    const s = await svc.state()
    await svc.close()
    console.log(JSON.stringify({ tokens: s.tokens.map((t) => t.label).sort(), startup: svc.timings().startup.phases }))
  `

  it('starts under tsx from the TypeScript sources (a bootstrap registers tsx inside the worker)', async () => {
    const file = join(fx.dir, 'under-tsx.mts')
    writeFileSync(file, script(pathToFileURL(join(here, 'token-service.ts')).href).replace('LIB', fx.library))
    const tsxCli = join(createRequire(import.meta.url).resolve('tsx'), '../cli.mjs')
    const { stdout } = await run(process.execPath, [tsxCli, file], { env: { ...process.env, FIXTURE_CONF: fx.conf }, timeout: 30_000 })
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { tokens: string[] }
    expect(out.tokens).toEqual(fx.manifest.tokens.map((t) => t.label).sort())
  })

  it('starts from a bundled build (token-worker.js next to the bundle, plain node, no tsx)', async () => {
    const { build } = await import('esbuild')
    const out = join(fx.dir, 'out-main')
    await build({
      entryPoints: { index: join(here, 'token-service.ts'), 'token-worker': join(here, 'token-worker.ts') },
      outdir: out,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: ['pkcs11js'],
      logLevel: 'silent',
    })
    // Resolve pkcs11js from the project, as the packaged app does from its node_modules.
    writeFileSync(join(out, 'package.json'), '{"type":"module"}')
    mkdirSync(join(out, 'node_modules'))
    const { symlinkSync } = await import('node:fs')
    symlinkSync(join(here, '../../../../node_modules/pkcs11js'), join(out, 'node_modules/pkcs11js'))
    const file = join(out, 'run.mjs')
    writeFileSync(file, script('./index.js').replace('LIB', fx.library))
    const { stdout } = await run(process.execPath, [file], { env: { ...process.env, FIXTURE_CONF: fx.conf }, timeout: 30_000 })
    const res = JSON.parse(stdout.trim().split('\n').pop()!) as { tokens: string[]; startup: Record<string, number> }
    expect(res.tokens).toEqual(fx.manifest.tokens.map((t) => t.label).sort())
    expect(res.startup.initialize).toBeGreaterThan(0)
  })
})
