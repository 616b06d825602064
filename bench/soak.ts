// Soak run of the token service with real-token faults (prints numbers; not a test).
//   npm run bench:soak [-- --ops 3000 --throughput 1000]
// The fault-injecting module (native/pkcs11-faults) sits in front of a private copy of the demo
// SoftHSM tokens. Thousands of signatures go through the token service's worker while tokens are
// pulled out and put back (sometimes into another slot) and wrong PINs are typed at random. It
// prints operations done, faults injected, crashes and unexpected errors (must be 0), sessions
// left open in SoftHSM (must be 0), how fast removal and insertion reach the certificate list,
// and signing throughput with the module in the path versus without it.
import { createPublicKey, verify } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import pkcs11js from 'pkcs11js'
import { AppError } from '../src/shared/errors'
import type { TokenState } from '../src/shared/model'
import { createFaultsConfig, type FaultsConfig } from '../src/main/core/token/testing/faults'
import { createTokenFixture, type TokenFixture } from '../src/main/core/token/testing/token-fixture'
import { createTokenService, type TokenService } from '../src/main/core/token/token-service'

const { values: args } = parseArgs({
  options: {
    ops: { type: 'string', default: '3000' },
    throughput: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '20261121' },
  },
})
const N_OPS = Number(args.ops)
const N_THROUGHPUT = Number(args.throughput)
const out = (line = ''): void => void process.stdout.write(`${line}\n`)

/** A small deterministic PRNG so a run can be repeated (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}

/** The bundled worker, built from the current sources, as the shipped app runs it. */
function workerEntry(): URL {
  return new URL('../out/main/token-worker.js', import.meta.url)
}

/** Resolves with the time when the token picture first satisfies `ok`. */
function waitForState(tokens: TokenService, ok: (s: TokenState) => boolean, timeoutMs = 5000): Promise<number> {
  return new Promise((resolveAt, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error('token state did not change in time'))
    }, timeoutMs)
    const off = tokens.onChange((s) => {
      if (!ok(s)) return
      clearTimeout(timer)
      off()
      resolveAt(performance.now())
    })
  })
}

/**
 * Sessions SoftHSM itself still has open, probed by handle (SoftHSM reports ulSessionCount as
 * unavailable). The module shares this process's SoftHSM, so a read-only probe sees them all.
 */
function softhsmSessions(library: string, maxHandle: number): number {
  const p11 = new pkcs11js.PKCS11()
  p11.load(library)
  try {
    p11.C_Initialize()
  } catch (e) {
    if ((e as { code?: number }).code !== 0x191) throw e // CKR_CRYPTOKI_ALREADY_INITIALIZED: shared
  }
  let open = 0
  const handle = Buffer.alloc(8)
  for (let h = 1; h <= maxHandle; h++) {
    handle.writeBigUInt64LE(BigInt(h))
    try {
      p11.C_GetSessionInfo(handle)
      open++
    } catch {
      // CKR_SESSION_HANDLE_INVALID: not open
    }
  }
  return open
}

async function throughput(tokens: TokenService, certId: string, pin: string, n: number): Promise<number> {
  await tokens.login(certId, pin)
  const data = Buffer.alloc(300, 7)
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < n) {
        next++
        await tokens.sign(certId, data)
      }
    }),
  )
  const rate = (n / (performance.now() - t0)) * 1000
  await tokens.logout()
  return rate
}

async function main(): Promise<void> {
  execFileSync('npx', ['electron-vite', 'build'], { cwd: resolve(import.meta.dirname, '..'), stdio: 'ignore' })
  const random = rng(Number(args.seed))
  const fx: TokenFixture = await createTokenFixture()
  const faults: FaultsConfig = createFaultsConfig(fx)
  const doctor = fx.cert('doctor')
  const label = doctor.token.label
  const pin = doctor.token.userPin
  const certPem = readFileSync(doctor.cert.certPem, 'utf8')
  const publicKey = createPublicKey(certPem)
  process.env.SOFTHSM2_CONF = fx.conf

  const counts = { signs: 0, verified: 0, logins: 0, wrongPins: 0, removals: 0, slotMoves: 0, removedMidOp: 0 }
  const unexpected: string[] = []
  const removalMs: number[] = []
  const insertionMs: number[] = []
  let crashes = 0
  let openWhileLoggedIn = -1
  let slot = 100
  faults.set({ [label]: { pin_retries: 10, present: true, slot } })

  // No SoftHSM re-initialisation on polling: the module reports presence itself, as real tokens
  // do, and the leak probe below must not race a C_Finalize.
  const tokens = createTokenService({
    libraries: [{ name: 'pkcs11-faults', path: faults.library, source: 'configured' }],
    env: faults.env(),
    reinitOnPoll: 'never',
    workerEntry: workerEntry(),
    log: (line) => {
      if (/worker (exited|error)/i.test(line)) crashes++
    },
  })
  const tokenPresent = (s: TokenState): boolean => s.tokens.some((t) => t.label === label)
  const certIdNow = async (): Promise<string> => {
    const c = (await tokens.state()).certificates.find((x) => x.tokenLabel === label && x.ckaId === doctor.cert.ckaId)
    if (!c) throw new Error('doctor certificate not listed')
    return c.id
  }
  const expectCode = (e: unknown, ...codes: string[]): void => {
    if (!(e instanceof AppError)) {
      crashes++
      unexpected.push(`non-AppError: ${String(e)}`)
    } else if (!codes.includes(e.code)) unexpected.push(`${e.code} (${e.details ?? ''})`)
  }

  const t0 = performance.now()
  try {
    await waitForState(tokens, tokenPresent).catch(() => 0)
    let certId = await certIdNow()
    let loggedIn = false
    for (let i = 0; i < N_OPS; i++) {
      const r = random()
      if (r < 0.02) {
        // Pull the token out in the middle of a signature, then put it back (every other time
        // into another USB port, i.e. another slot).
        counts.removals++
        const signing = loggedIn ? tokens.sign(certId, Buffer.from(`op ${i}`)) : null
        const pulledAt = performance.now()
        const gone = waitForState(tokens, (s) => !tokenPresent(s))
        faults.set({ [label]: { pin_retries: 10, present: false, slot } })
        if (signing) {
          const data = Buffer.from(`op ${i}`)
          await signing.then(
            ({ signature }) => {
              counts.signs++
              if (verify('sha256', data, publicKey, Buffer.from(signature))) counts.verified++
              else unexpected.push(`signature ${i} (before the removal) does not verify`)
            },
            (e: unknown) => {
              counts.removedMidOp++
              expectCode(e, 'TOKEN_REMOVED')
            },
          )
        }
        removalMs.push((await gone) - pulledAt)
        if (random() < 0.5) {
          slot++
          counts.slotMoves++
        }
        const insertedAt = performance.now()
        const back = waitForState(tokens, tokenPresent)
        faults.set({ [label]: { pin_retries: 10, present: true, slot } })
        insertionMs.push((await back) - insertedAt)
        certId = await certIdNow()
        loggedIn = false
      } else if (r < 0.06) {
        counts.wrongPins++
        await tokens.login(certId, '0000').then(
          () => unexpected.push('a wrong PIN was accepted'),
          (e: unknown) => expectCode(e, 'PIN_INCORRECT'),
        )
        loggedIn = false
      } else {
        if (!loggedIn) {
          await tokens.login(certId, pin)
          counts.logins++
          loggedIn = true
        }
        const data = Buffer.from(`документ ${i}`)
        const { signature } = await tokens.sign(certId, data)
        counts.signs++
        if (verify('sha256', data, publicKey, Buffer.from(signature))) counts.verified++
        else unexpected.push(`signature ${i} does not verify`)
      }
    }
    // Control for the leak probe: while logged in, the login session must be visible to it.
    if (!loggedIn) await tokens.login(certId, pin)
    openWhileLoggedIn = softhsmSessions(fx.library, 20 * N_OPS + 1000)
    await tokens.logout()
  } catch (e) {
    crashes++
    unexpected.push(`soak stopped: ${e instanceof Error ? e.message : String(e)}`)
  }
  const soakSeconds = (performance.now() - t0) / 1000
  const leaked = softhsmSessions(fx.library, 20 * N_OPS + 1000)
  await tokens.close()

  // Throughput on the same key, through the module and directly, in alternating rounds so that
  // load from elsewhere on the machine falls on both alike; medians are reported.
  faults.set({})
  const measure = async (viaModule: boolean): Promise<number> => {
    const svc = viaModule
      ? createTokenService({ libraries: [{ name: 'pkcs11-faults', path: faults.library, source: 'configured' }], env: faults.env(), workerEntry: workerEntry() })
      : createTokenService({ libraries: [{ name: 'SoftHSM2', path: fx.library, source: 'configured' }], env: { SOFTHSM2_CONF: fx.conf }, workerEntry: workerEntry() })
    try {
      await svc.refresh()
      const id = (await svc.state()).certificates.find((c) => c.tokenLabel === label && c.ckaId === doctor.cert.ckaId)!.id
      await throughput(svc, id, pin, 100)
      return await throughput(svc, id, pin, N_THROUGHPUT)
    } finally {
      await svc.close()
    }
  }
  const viaModuleRates: number[] = []
  const directRates: number[] = []
  for (let round = 0; round < 5; round++) {
    viaModuleRates.push(await measure(true))
    directRates.push(await measure(false))
  }
  const rateModule = pct(viaModuleRates, 50)
  const rateDirect = pct(directRates, 50)
  fx.cleanup()

  const ms = (x: number): string => `${x.toFixed(0)} ms`
  out(`Soak: ${N_OPS} operations in ${soakSeconds.toFixed(1)} s (seed ${args.seed}), token service → pkcs11-faults → SoftHSM2, RSA-2048`)
  out(`  signatures made            ${counts.signs} (${counts.verified} verified with node:crypto), logins ${counts.logins}`)
  out(`  faults injected            ${counts.removals + counts.wrongPins}: removals ${counts.removals} (${counts.removedMidOp} mid-signature, ${counts.slotMoves} re-inserted into another slot), wrong PINs ${counts.wrongPins}`)
  out(`  crashes                    ${crashes}   (must be 0)`)
  out(`  unexpected errors          ${unexpected.length}${unexpected.length ? `: ${[...new Set(unexpected)].slice(0, 5).join('; ')}` : ''}   (must be 0)`)
  out(`  sessions left in SoftHSM   ${leaked}   (must be 0; the same probe saw ${openWhileLoggedIn} while logged in)`)
  out(`  removal → list updated     p50 ${ms(pct(removalMs, 50))}, p95 ${ms(pct(removalMs, 95))}, max ${ms(Math.max(...removalMs))}   (target ≤1 s)`)
  out(`  insertion → list updated   p50 ${ms(pct(insertionMs, 50))}, p95 ${ms(pct(insertionMs, 95))}, max ${ms(Math.max(...insertionMs))}   (target ≤1 s)`)
  out(`Signing throughput, ${N_THROUGHPUT} signatures, 4 in flight, same key, median of 5 alternating rounds:`)
  out(`  SoftHSM2 directly ${rateDirect.toFixed(0)}/s, through pkcs11-faults ${rateModule.toFixed(0)}/s = ${(rateModule / rateDirect).toFixed(2)}×   (target ≥0.9×)`)
  out(`  rounds: direct ${directRates.map((r) => r.toFixed(0)).join('/')}, module ${viaModuleRates.map((r) => r.toFixed(0)).join('/')}`)


  if (crashes || unexpected.length || leaked) process.exitCode = 1
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exit(1)
})
