// Network and TLS failure mapping of the portal client. The HTTPS peer here is a bare node:https
// server with an OpenSSL-made certificate: what is under test is the client's trust decision,
// not the portal (the real portal is exercised in tests/integration).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer as createHttpsServer, type Server } from 'node:https'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../../shared/errors'
import { PortalClient } from './portal-client'

let dir: string
let server: Server
/** A body as a portal may lay it out: spaces, Cyrillic. */
const HISTORY = '{"resourceType": "Bundle", "type": "history", "entry": [{"resource": {"name": "Жуков"}}]}'
let url: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-tls-'))
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' })
  server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url === '/api/v1/health') res.end(JSON.stringify({ status: 'ok', serverTime: new Date().toISOString() }))
    else if (req.url === '/api/v1/fhir/_history') res.end(HISTORY)
    else {
      res.statusCode = 403
      res.end(JSON.stringify({ error: { code: 'WORKER_NOT_REGISTERED', message: 'snils not in register', params: {} } }))
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

async function freePort(): Promise<number> {
  const s = createNetServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'no error'
  } catch (e) {
    return e instanceof AppError ? e.code : `not AppError: ${String(e)}`
  }
}

describe('PortalClient', () => {
  it('reports a closed port as PORTAL_UNREACHABLE with the address', async () => {
    const client = new PortalClient({ baseUrl: `https://127.0.0.1:${await freePort()}`, timeoutMs: 2000 })
    const err = await client.challenge().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).code).toBe('PORTAL_UNREACHABLE')
    expect((err as AppError).params.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    client.close()
  })

  it('refuses a portal whose certificate is not trusted', async () => {
    const client = new PortalClient({ baseUrl: url })
    expect(await codeOf(client.health())).toBe('PORTAL_TLS_UNTRUSTED')
    const tls = await client.checkTls()
    expect(tls.authorized).toBe(false)
    client.close()
  })

  it('trusts the portal with the configured CA and maps its error body to the catalogue', async () => {
    const client = new PortalClient({ baseUrl: url, caFile: join(dir, 'cert.pem') })
    expect((await client.health()).status).toBe('ok')
    expect((await client.checkTls()).authorized).toBe(true)
    expect(await codeOf(client.challenge())).toBe('WORKER_NOT_REGISTERED')
    client.close()
  })

  it('gives a FHIR answer as bytes when asked (history pages), parsed otherwise; errors always parsed', async () => {
    const client = new PortalClient({ baseUrl: url, caFile: join(dir, 'cert.pem') })
    const raw = await client.fhir('GET', '/_history', undefined, 'token', { raw: true })
    expect(raw).toMatchObject({ status: 200, json: null })
    expect(raw.bytes?.equals(Buffer.from(HISTORY))).toBe(true)
    // Its own buffer, not a slice of a shared one: the sync engine moves it to the store worker.
    expect(raw.bytes!.byteOffset === 0 && raw.bytes!.byteLength === raw.bytes!.buffer.byteLength).toBe(true)
    const parsed = await client.fhir('GET', '/_history', undefined, 'token')
    expect(parsed).toMatchObject({ status: 200, bytes: null, json: JSON.parse(HISTORY) })
    const refused = await client.fhir('GET', '/Patient/x', undefined, 'token', { raw: true })
    expect(refused).toMatchObject({ status: 403, bytes: null, json: { error: { code: 'WORKER_NOT_REGISTERED' } } })
    client.close()
  })
})
