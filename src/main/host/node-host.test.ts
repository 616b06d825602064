// The Node host over real sockets: static files with the CSP, the WebSocket's Origin/Host/secret
// checks, invoke/result and events — with a contract-level core (tests/support/transport-core.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { CLOSE, decodeServerMessage, encodeMessage, type ServerMessage } from '../../shared/rpc/ws-protocol'
import { createTransportCore, tokenState, type TransportCore } from '../../../tests/support/transport-core'
import { startNodeHost, type NodeHost } from './node-host'

let dir: string
let core: TransportCore
let host: NodeHost
let logs: string[]

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-host-'))
  mkdirSync(join(dir, 'assets'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>т</title>')
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(tmpdir(), 'lkmr-outside.txt'), 'outside')
  core = createTransportCore(tokenState())
  logs = []
  host = await startNodeHost({ core, rendererDir: dir, log: (l) => logs.push(l) })
})

afterEach(async () => {
  await host.close()
  rmSync(dir, { recursive: true, force: true })
})

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(host.url)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

function wsUrl(): string {
  return host.url.replace('http:', 'ws:') + 'rpc'
}

function origin(): string {
  return host.url.replace(/\/$/, '')
}

/** Opens a socket and collects what it receives until it closes. */
function connect(options: { origin?: string; path?: string; headers?: Record<string, string> } = {}) {
  const ws = new WebSocket(options.path ? wsUrl().replace('/rpc', options.path) : wsUrl(), {
    origin: options.origin ?? origin(),
    headers: options.headers,
  })
  const received: ServerMessage[] = []
  const waiters: (() => void)[] = []
  ws.on('message', (data) => {
    const m = decodeServerMessage(data.toString())
    if (m) received.push(m)
    for (const w of waiters.splice(0)) w()
  })
  const closed = new Promise<{ code: number }>((resolve) => {
    ws.on('close', (code) => resolve({ code }))
    ws.on('error', () => resolve({ code: -1 }))
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve())
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.on('error', reject)
  })
  const next = async (pred: (m: ServerMessage) => boolean): Promise<ServerMessage> => {
    for (;;) {
      const found = received.find(pred)
      if (found) return found
      await new Promise<void>((r) => waiters.push(r))
    }
  }
  return { ws, received, closed, opened, next }
}

async function authenticated() {
  const c = connect()
  await c.opened
  c.ws.send(encodeMessage({ t: 'hello', secret: host.secret }))
  await c.next((m) => m.t === 'ready')
  return c
}

describe('static files', () => {
  it('serves index.html with the CSP naming its own socket, and security headers', async () => {
    const res = await get('/')
    expect(res.status).toBe(200)
    expect(res.body).toContain('<title>т</title>')
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain(`connect-src 'self' ${wsUrl().replace('/rpc', '')}`)
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(res.headers['referrer-policy']).toBe('no-referrer')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['cache-control']).toBe('no-store')
  })

  it('serves assets with their types and 404s for anything outside the folder', async () => {
    const js = await get('/assets/app.js')
    expect(js.status).toBe(200)
    expect(js.headers['content-type']).toContain('text/javascript')
    expect((await get('/missing.js')).status).toBe(404)
    expect((await get('/../lkmr-outside.txt')).status).toBe(404)
    expect((await get('/%2e%2e/lkmr-outside.txt')).status).toBe(404)
    expect((await get('/assets/..%2f..%2flkmr-outside.txt')).status).toBe(404)
    expect((await get('/assets')).status).toBe(404)
  })

  it('answers only to its own Host (no DNS rebinding)', async () => {
    const port = new URL(host.url).port
    expect((await get('/', { Host: `evil.example:${port}` })).status).toBe(421)
    expect((await get('/', { Host: `localhost:${port}` })).status).toBe(421)
  })

  it('refuses to listen anywhere but loopback', async () => {
    await expect(startNodeHost({ core, rendererDir: dir, host: '0.0.0.0' })).rejects.toThrow(/loopback/)
  })
})

describe('WebSocket /rpc', () => {
  it('gives the secret 32 random bytes and never logs it', async () => {
    expect(Buffer.from(host.secret, 'base64url')).toHaveLength(32)
    const c = await authenticated()
    c.ws.close()
    const bad = connect()
    await bad.opened
    bad.ws.send(encodeMessage({ t: 'hello', secret: 'wrong-secret-wrong-secret' }))
    await bad.closed
    expect(logs.join('\n')).not.toContain(host.secret)
    expect(logs.join('\n')).not.toContain('wrong-secret')
  })

  it('refuses upgrades from another origin or path', async () => {
    await expect(connect({ origin: 'http://evil.example' }).opened).rejects.toThrow(/403/)
    await expect(connect({ origin: 'null' }).opened).rejects.toThrow(/403/)
    await expect(connect({ path: '/other' }).opened).rejects.toThrow(/403/)
    const port = new URL(host.url).port
    await expect(connect({ origin: `http://localhost:${port}` }).opened).rejects.toThrow(/403/)
  })

  it('closes sockets with a wrong secret, or that call before saying hello', async () => {
    const wrong = connect()
    await wrong.opened
    wrong.ws.send(encodeMessage({ t: 'hello', secret: host.secret.slice(0, -1) + (host.secret.endsWith('A') ? 'B' : 'A') }))
    expect((await wrong.closed).code).toBe(CLOSE.unauthorized)

    const early = connect()
    await early.opened
    early.ws.send(encodeMessage({ t: 'invoke', id: 1, method: 'token.state', input: {} }))
    expect((await early.closed).code).toBe(CLOSE.unauthorized)
    expect(early.received).toEqual([])
    expect(core.calls).toEqual([])
  })

  it('closes sockets that send something that is not the protocol', async () => {
    const c = await authenticated()
    c.ws.send('{"t":"invoke"}')
    expect((await c.closed).code).toBe(CLOSE.protocol)
  })

  it('carries invoke → result through the dispatcher, errors as data', async () => {
    const c = await authenticated()
    c.ws.send(encodeMessage({ t: 'invoke', id: 1, method: 'app.info', input: {} }))
    c.ws.send(encodeMessage({ t: 'invoke', id: 2, method: 'no.such', input: {} }))
    c.ws.send(encodeMessage({ t: 'invoke', id: 3, method: 'auth.loginWithCertificate', input: { certificateId: 'x/1', pin: '1' } }))
    const r1 = await c.next((m) => m.t === 'result' && m.id === 1)
    const r2 = await c.next((m) => m.t === 'result' && m.id === 2)
    const r3 = await c.next((m) => m.t === 'result' && m.id === 3)
    expect(r1).toMatchObject({ result: { ok: true, value: { name: 'АРМ медицинского работника' } } })
    expect(r2).toEqual({ t: 'result', id: 2, result: { ok: false, error: { code: 'INVALID_INPUT', params: {} } } })
    expect(r3).toEqual({ t: 'result', id: 3, result: { ok: false, error: { code: 'TOKEN_NOT_PRESENT', params: {} } } })
    c.ws.close()
  })

  it('pushes contract events to authenticated sockets only, and drops malformed ones', async () => {
    const c = await authenticated()
    const stranger = connect()
    await stranger.opened
    core.emit('auth.progress', { stage: 'hacking' } as never)
    core.emit('auth.progress', { stage: 'signing' })
    const e = await c.next((m) => m.t === 'event')
    expect(e).toEqual({ t: 'event', event: 'auth.progress', payload: { stage: 'signing' } })
    expect(c.received.filter((m) => m.t === 'event')).toHaveLength(1)
    expect(stranger.received).toEqual([])
    c.ws.close()
    stranger.ws.close()
  })

  it('closes sockets with the shutdown code when the host closes', async () => {
    const c = await authenticated()
    await host.close()
    expect((await c.closed).code).toBe(CLOSE.shutdown)
  })
})
