// The loopback fault proxy (tests/support/fault-proxy.ts) against real servers: an HTTPS server
// with a certificate from a test CA (the client verifies it through the proxy, so TLS is
// end to end) and a plain TCP echo server. Each mode must do exactly what it says; the sync
// engine's network-fault tests build on it.
import 'reflect-metadata'
import { createHash, randomBytes, X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https'
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCa, issueTlsServerCertificate } from '../../scripts/demo/pki'
import { startFaultProxy, type CutRecord, type FaultMode, type FaultProxy } from '../support/fault-proxy'

let caPem: string
let serverCertFingerprint: string
let https: HttpsServer
let httpsPort: number
let echo: TcpServer
let echoPort: number
/** Connections the HTTPS server accepted (so a test can tell that nothing reached it). */
let upstreamConnections = 0
/** What the HTTPS server's /sink saw of each request body. */
const sinks: Array<{ bytes: number; complete: boolean }> = []
const proxies: FaultProxy[] = []

/** Deterministic content for /big, so a received prefix can be checked byte for byte. */
const bigBody = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251))

beforeAll(async () => {
  const ca = await createCa({ commonName: 'УЦ теста прокси' })
  const tls = await issueTlsServerCertificate(ca, { hosts: ['127.0.0.1', 'localhost'] })
  caPem = ca.certPem
  serverCertFingerprint = new X509Certificate(tls.pem).fingerprint256
  https = createHttpsServer({ cert: tls.pem, key: tls.keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1')
    if (url.pathname === '/echo') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        res.writeHead(200, { 'content-length': body.length, 'x-sha256': createHash('sha256').update(body).digest('hex') })
        res.end(body)
      })
    } else if (url.pathname === '/big') {
      const body = bigBody(Number(url.searchParams.get('n')))
      res.writeHead(200, { 'content-length': body.length })
      res.end(body)
    } else if (url.pathname === '/sink') {
      const seen = { bytes: 0, complete: false }
      sinks.push(seen)
      req.on('data', (c: Buffer) => (seen.bytes += c.length))
      req.on('end', () => {
        seen.complete = true
        res.end(String(seen.bytes))
      })
      req.on('error', () => undefined)
    } else {
      res.end('ok')
    }
  })
  https.on('connection', () => upstreamConnections++)
  https.listen(0, '127.0.0.1')
  await once(https, 'listening')
  httpsPort = (https.address() as { port: number }).port
  echo = createTcpServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d: Buffer) => s.write(d))
    s.on('end', () => s.end())
    s.on('error', () => undefined)
  })
  echo.listen(0, '127.0.0.1')
  await once(echo, 'listening')
  echoPort = (echo.address() as { port: number }).port
})

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()))
})

afterAll(async () => {
  https?.closeAllConnections()
  await new Promise((r) => https?.close(r))
  await new Promise((r) => echo?.close(r))
})

async function proxyTo(port: number, o: { mode?: FaultMode; seed?: number } = {}): Promise<FaultProxy> {
  const p = await startFaultProxy({ target: { host: '127.0.0.1', port }, ...o })
  proxies.push(p)
  return p
}

interface HttpsResult {
  status: number
  headers: IncomingMessage['headers']
  body: Buffer
  peerFingerprint: string
}
/** The failure of a request, with what arrived before it. */
interface HttpsFailure {
  error: NodeJS.ErrnoException
  status: number | null
  received: Buffer
}

/** One HTTPS request through `base`, trusting only the test CA; never retried. */
function call(base: string, path: string, o: { method?: string; body?: Buffer; timeoutMs?: number } = {}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = []
    let status: number | null = null
    const fail = (error: NodeJS.ErrnoException) => reject({ error, status, received: Buffer.concat(received) } satisfies HttpsFailure)
    const req = httpsRequest(new URL(path, base), { method: o.method ?? 'GET', ca: caPem, agent: false, headers: o.body ? { 'content-length': o.body.length } : {} }, (res) => {
      status = res.statusCode ?? 0
      const peerFingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256
      res.on('data', (c: Buffer) => received.push(c))
      res.on('end', () => (res.complete ? resolve({ status: status!, headers: res.headers, body: Buffer.concat(received), peerFingerprint }) : fail(new Error('aborted'))))
      res.on('error', fail)
    })
    req.on('error', fail)
    if (o.timeoutMs) {
      req.setTimeout(o.timeoutMs, () => {
        const e: NodeJS.ErrnoException = new Error('timeout')
        e.code = 'TIMEOUT'
        req.destroy(e)
      })
    }
    req.end(o.body)
  })
}

async function failure(p: Promise<unknown>): Promise<HttpsFailure> {
  try {
    await p
  } catch (e) {
    return e as HttpsFailure
  }
  throw new Error('the request was expected to fail')
}

/** Sends `payload` through a TCP connection and half-closes; collects what comes back until the socket closes. */
function exchange(port: number, payload: Buffer): Promise<{ received: Buffer; error: NodeJS.ErrnoException | null }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let error: NodeJS.ErrnoException | null = null
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
    s.on('data', (c: Buffer) => chunks.push(c))
    s.on('error', (e) => (error = e))
    s.on('end', () => s.end())
    s.on('close', () => resolve({ received: Buffer.concat(chunks), error }))
    s.end(payload)
  })
}

/** One byte there and back over an open socket; resolves with the milliseconds it took. */
async function roundTrip(s: Socket): Promise<number> {
  const t0 = performance.now()
  s.write('x')
  await once(s, 'data')
  return performance.now() - t0
}

/** Resolves when `s` has closed, however (events.once would reject on the reset's error). */
const closed = (s: Socket) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())))

/** Whether anything comes back on `s` within ms. */
async function answersWithin(s: Socket, ms: number): Promise<boolean> {
  s.write('y')
  return Promise.race([once(s, 'data').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])
}

describe('pass', () => {
  it('forwards a 1 MB TLS exchange byte for byte, with the server\'s own certificate verified end to end', async () => {
    const proxy = await proxyTo(httpsPort)
    const body = randomBytes(1 << 20)
    const r = await call(proxy.httpsUrl, '/echo', { method: 'POST', body })
    expect(r.status).toBe(200)
    expect(r.headers['x-sha256']).toBe(createHash('sha256').update(body).digest('hex'))
    expect(Buffer.compare(r.body, body)).toBe(0)
    expect(r.peerFingerprint).toBe(serverCertFingerprint)
    expect(proxy.stats.connections).toBe(1)
    expect(proxy.stats.bytesToUpstream).toBeGreaterThan(body.length)
    expect(proxy.stats.bytesToClient).toBeGreaterThan(body.length)
    expect(proxy.stats.cuts).toBe(0)
    await expect.poll(() => proxy.stats.open).toBe(0)
  })
})

describe('delay', () => {
  it('adds at least the latency in each direction, and can be switched on an open connection', async () => {
    const proxy = await proxyTo(echoPort)
    const s = connect({ host: '127.0.0.1', port: proxy.port })
    await once(s, 'connect')
    try {
      await roundTrip(s)
      proxy.setMode({ kind: 'delay', ms: 120 })
      const delayed = await roundTrip(s)
      expect(delayed).toBeGreaterThanOrEqual(2 * 120 - 2)
      proxy.setMode('pass')
      expect(await roundTrip(s)).toBeLessThan(delayed)
    } finally {
      s.destroy()
    }
  })

  it('delays an HTTPS request by at least two round trips (TLS handshake, then the request) and keeps the bytes in order', async () => {
    const proxy = await proxyTo(httpsPort, { mode: { kind: 'delay', ms: 80 } })
    const body = randomBytes(200_000)
    const t0 = performance.now()
    const r = await call(proxy.httpsUrl, '/echo', { method: 'POST', body })
    expect(performance.now() - t0).toBeGreaterThanOrEqual(4 * 80 - 2)
    expect(Buffer.compare(r.body, body)).toBe(0)
  })
})

describe('refuse', () => {
  it('resets new connections before anything reaches the server; pass lets them through again', async () => {
    const proxy = await proxyTo(httpsPort, { mode: 'refuse' })
    const before = upstreamConnections
    const f = await failure(call(proxy.httpsUrl, '/small'))
    expect(f.error.code).toMatch(/^(ECONNRESET|EPIPE)$/)
    expect(f.status).toBeNull()
    expect(proxy.stats.refused).toBe(1)
    expect(upstreamConnections).toBe(before)
    proxy.setMode('pass')
    expect((await call(proxy.httpsUrl, '/small')).body.toString()).toBe('ok')
  })

  it('resets open connections when it is switched on', async () => {
    const proxy = await proxyTo(echoPort)
    const s = connect({ host: '127.0.0.1', port: proxy.port })
    s.on('error', () => undefined)
    await once(s, 'connect')
    await roundTrip(s)
    proxy.setMode('refuse')
    await closed(s)
    expect(proxy.stats.refused).toBe(1)
    expect(proxy.stats.open).toBe(0)
  })
})

describe('blackhole', () => {
  it('accepts and never answers, so the client times out; nothing reaches the server', async () => {
    const proxy = await proxyTo(httpsPort, { mode: 'blackhole' })
    const before = upstreamConnections
    const t0 = performance.now()
    const f = await failure(call(proxy.httpsUrl, '/small', { timeoutMs: 400 }))
    expect(f.error.code).toBe('TIMEOUT')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390)
    expect(proxy.stats.blackholed).toBe(1)
    expect(proxy.stats.bytesToUpstream + proxy.stats.bytesToClient).toBe(0)
    expect(upstreamConnections).toBe(before)
  })

  it('swallows the traffic of an open connection from its next chunk, until the mode changes back', async () => {
    const proxy = await proxyTo(echoPort)
    const s = connect({ host: '127.0.0.1', port: proxy.port })
    s.on('error', () => undefined)
    await once(s, 'connect')
    try {
      expect(await answersWithin(s, 2000)).toBe(true)
      proxy.setMode('blackhole')
      expect(await answersWithin(s, 300)).toBe(false)
      proxy.setMode('pass')
      expect(await answersWithin(s, 2000)).toBe(true)
      proxy.dropConnections()
      await closed(s)
    } finally {
      s.destroy()
    }
  })
})

describe('cut', () => {
  it('cuts an HTTPS response after exactly K bytes: the client has part of the body, then a socket error', async () => {
    const proxy = await proxyTo(httpsPort, { mode: { kind: 'cut', side: 'response', afterBytes: 65_536 } })
    const n = 262_144
    const f = await failure(call(proxy.httpsUrl, `/big?n=${n}`))
    expect(f.error.code ?? f.error.message).toMatch(/^(ECONNRESET|aborted)$/)
    expect(f.status).toBe(200)
    expect(f.received.length).toBeGreaterThan(0)
    expect(f.received.length).toBeLessThan(n)
    expect(Buffer.compare(f.received, bigBody(n).subarray(0, f.received.length))).toBe(0)
    expect(proxy.stats.bytesToClient).toBe(65_536)
    expect(proxy.stats.cuts).toBe(1)
    expect(proxy.stats.cutLog).toEqual([{ connection: 1, side: 'response', afterBytes: 65_536 }])
  })

  it('cuts a request mid-body: the server gets part of it, the client a socket error', async () => {
    const proxy = await proxyTo(httpsPort, { mode: { kind: 'cut', side: 'request', afterBytes: 100_000 } })
    sinks.length = 0
    const f = await failure(call(proxy.httpsUrl, '/sink', { method: 'POST', body: randomBytes(1 << 20) }))
    expect(f.error.code).toMatch(/^(ECONNRESET|EPIPE)$/)
    expect(f.status).toBeNull()
    expect(proxy.stats.bytesToUpstream).toBe(100_000)
    expect(proxy.stats.bytesToClient).toBeGreaterThan(0) // the server's TLS handshake came through
    await expect.poll(() => sinks.length).toBe(1)
    expect(sinks[0]!.complete).toBe(false)
    expect(sinks[0]!.bytes).toBeLessThan(100_000)
  })

  it('draws the side and the byte count from the seed: the same seed cuts the same way twice', async () => {
    const run = async (seed: number): Promise<CutRecord[]> => {
      const proxy = await proxyTo(echoPort, { seed, mode: { kind: 'cut', side: 'random', afterBytes: [1, 3000] } })
      for (let i = 0; i < 12; i++) {
        const r = await exchange(proxy.port, Buffer.alloc(4000, i))
        expect(r.received.length).toBeLessThan(4000)
      }
      expect(proxy.stats.cuts).toBe(12)
      return proxy.stats.cutLog
    }
    const first = await run(42)
    expect(await run(42)).toEqual(first)
    expect(new Set(first.map((c) => c.side))).toEqual(new Set(['request', 'response']))
    for (const c of first) {
      expect(c.afterBytes).toBeGreaterThanOrEqual(1)
      expect(c.afterBytes).toBeLessThanOrEqual(3000)
    }
    expect(first.map((c) => c.connection)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    expect(await run(43)).not.toEqual(first)
  })
})
