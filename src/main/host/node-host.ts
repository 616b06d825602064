// The Node host transport: serves the built renderer on a loopback port and carries the RPC
// contract over one WebSocket (/rpc), through the same dispatcher as Electron IPC. This is how
// the real UI runs in `chromium --app` where Electron is not installed, and how end-to-end tests
// drive it against the real core.
//
// Who may talk to the core: only a page from this very server (Host and Origin must be exactly
// http://127.0.0.1:PORT — this also defeats DNS rebinding) that knows the per-launch secret. The
// secret travels in the URL fragment to the page and in the first socket message to the server,
// so it never appears in a request line, header, Referer or log.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve, sep } from 'node:path'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import {
  CLOSE,
  HELLO_TIMEOUT_MS,
  MAX_MESSAGE_BYTES,
  WS_PATH,
  decodeClientMessage,
  encodeMessage,
  type ServerMessage,
} from '../../shared/rpc/ws-protocol'
import type { AppCore } from '../core/app-core'
import { buildCsp, SECURITY_HEADERS } from '../electron/policy'
import { checkEvent, createDispatcher } from '../rpc/dispatcher'

export interface NodeHostOptions {
  core: AppCore
  /** The built renderer (out/renderer). */
  rendererDir: string
  /** Loopback only; the default is 127.0.0.1. */
  host?: string
  /** 0 (default) picks a free port. */
  port?: number
  log?: (line: string) => void
}

export interface NodeHost {
  /** http://127.0.0.1:PORT/ — append `#k=<secret>` for the page. */
  url: string
  secret: string
  close(): Promise<void>
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
}

const LOOPBACK = new Set(['127.0.0.1', '::1'])

function sameSecret(expected: Buffer, given: string): boolean {
  const got = Buffer.from(given, 'utf8')
  return got.length === expected.length && timingSafeEqual(got, expected)
}

export async function startNodeHost(options: NodeHostOptions): Promise<NodeHost> {
  const host = options.host ?? '127.0.0.1'
  if (!LOOPBACK.has(host)) throw new Error(`The Node host listens on loopback only, not on ${host}`)
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const rendererDir = resolve(options.rendererDir)
  const secret = randomBytes(32).toString('base64url')
  const secretBytes = Buffer.from(secret, 'utf8')
  const dispatch = createDispatcher(options.core.handlers, { log })

  // Filled in once listening: the only Host/Origin we answer to.
  let authority = ''
  let origin = ''
  let csp = ''

  const server = createServer((req, res) => {
    void serveFile(req, res).catch((e: unknown) => {
      log(`host: ${req.method ?? '?'} ${pathOf(req)} failed: ${e instanceof Error ? e.message : String(e)}`)
      if (!res.headersSent) res.writeHead(500).end()
      else res.destroy()
    })
  })

  function pathOf(req: IncomingMessage): string {
    // The request line carries no secret (it lives in the fragment), but keep logs to the path.
    return (req.url ?? '').split('?')[0] ?? ''
  }

  function refuse(res: ServerResponse, status: number): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end()
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.host !== authority) return refuse(res, 421)
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405)
    let path: string
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', origin).pathname)
    } catch {
      return refuse(res, 400)
    }
    if (path === '/' || path === '/index.html') path = '/index.html'
    const file = normalize(join(rendererDir, path))
    if (!file.startsWith(rendererDir + sep) || path.includes('\0')) return refuse(res, 404)
    const info = await stat(file).catch(() => null)
    if (!info?.isFile()) return refuse(res, 404)
    const isHtml = extname(file) === '.html'
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(info.size),
      // Hashed assets never change within a build; the page itself is always fresh.
      'Cache-Control': isHtml ? 'no-store' : 'private, max-age=31536000, immutable',
      ...(isHtml ? { 'Content-Security-Policy': csp } : {}),
    })
    if (req.method === 'HEAD') return void res.end()
    createReadStream(file).pipe(res)
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false })
  const clients = new Set<WebSocket>()

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ok = req.headers.host === authority && req.headers.origin === origin && pathOf(req) === WS_PATH
    if (!ok) {
      log(`host: refused a WebSocket upgrade (path ${pathOf(req)}, origin ${req.headers.origin ?? 'none'})`)
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws))
  })

  function send(ws: WebSocket, message: ServerMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(encodeMessage(message))
  }

  function accept(ws: WebSocket): void {
    let authenticated = false
    const helloTimer = setTimeout(() => ws.close(CLOSE.unauthorized, 'no hello'), HELLO_TIMEOUT_MS)
    ws.on('message', (data, isBinary) => {
      const message = isBinary ? null : decodeClientMessage(data.toString('utf8'))
      if (!message) return ws.close(CLOSE.protocol, 'bad message')
      if (!authenticated) {
        if (message.t !== 'hello' || !sameSecret(secretBytes, message.secret)) {
          log('host: refused a WebSocket client: wrong secret')
          return ws.close(CLOSE.unauthorized, 'unauthorized')
        }
        authenticated = true
        clearTimeout(helloTimer)
        clients.add(ws)
        return send(ws, { t: 'ready' })
      }
      if (message.t !== 'invoke') return ws.close(CLOSE.protocol, 'unexpected hello')
      void dispatch(message.method, message.input).then((result) => send(ws, { t: 'result', id: message.id, result }))
    })
    ws.on('close', () => {
      clearTimeout(helloTimer)
      clients.delete(ws)
    })
    ws.on('error', (e) => log(`host: socket error: ${e.message}`))
  }

  const unsubscribe = options.core.onEvent((event, payload) => {
    const checked = checkEvent(event, payload, log)
    if (!checked) return
    const raw = encodeMessage({ t: 'event', event: checked.event, payload: checked.payload })
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(raw)
  })

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolveListen()
    })
  })
  const { port } = server.address() as AddressInfo
  const hostPart = host.includes(':') ? `[${host}]` : host
  authority = `${hostPart}:${port}`
  origin = `http://${authority}`
  csp = buildCsp({ connect: [`ws://${authority}`] })

  let closing: Promise<void> | null = null
  return {
    url: `${origin}/`,
    secret,
    close() {
      closing ??= (async () => {
        unsubscribe()
        for (const ws of wss.clients) ws.close(CLOSE.shutdown, 'shutdown')
        // Give pages a moment to receive the close frame, then cut what is left.
        const deadline = Date.now() + 500
        while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
        for (const ws of wss.clients) ws.terminate()
        await new Promise<void>((r) => wss.close(() => r()))
        server.closeAllConnections()
        await new Promise<void>((r) => server.close(() => r()))
      })()
      return closing
    },
  }
}
