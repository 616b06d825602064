// A loopback TCP proxy whose failure mode is switched at run time, for tests of network faults
// between the workstation and the portal. Plain node:net: TLS passes through byte for byte, so
// the client still verifies the portal's own certificate (point it at https://127.0.0.1:<port>;
// the test portal's certificate names 127.0.0.1).
//
// Modes (setMode; they apply to new connections and, from their next chunk, to open ones — a
// keep-alive client meets the fault too):
//   'pass'       forward both ways unchanged
//   'refuse'     accept and reset at once (the client sees ECONNRESET); open connections are reset
//                when the mode is set
//   'blackhole'  accept and never answer: nothing is forwarded either way, the client times out
//   { kind: 'delay', ms }   every chunk is forwarded ms later, in each direction, order kept
//   { kind: 'cut', side, afterBytes }   forward until `afterBytes` bytes have gone through on
//                `side` ('request': client → upstream, 'response': upstream → client), then reset
//                both sockets mid-stream. side 'random' and a [min, max] range are drawn per
//                connection from a PRNG seeded by `seed`, so a run can be repeated exactly
//                (stats.cutLog). A connection that ends before the count is reached is not cut.
import { connect, createServer, type Socket } from 'node:net'

export type CutSide = 'request' | 'response'

export type FaultMode =
  | 'pass'
  | 'refuse'
  | 'blackhole'
  | { kind: 'delay'; ms: number }
  | {
      kind: 'cut'
      /** Which stream is cut; 'random' (default) draws one per connection. */
      side?: CutSide | 'random'
      /** Bytes forwarded on that side before the cut; a range draws per connection. Default [1, 65536]. */
      afterBytes?: number | readonly [number, number]
    }

export interface FaultProxyOptions {
  target: { host: string; port: number }
  /** Seed of the PRNG behind 'cut' (default 1). */
  seed?: number
  /** Initial mode (default 'pass'). */
  mode?: FaultMode
}

export interface CutRecord {
  /** 1-based number of the connection (in order of acceptance). */
  connection: number
  side: CutSide
  afterBytes: number
}

export interface FaultProxyStats {
  /** Connections accepted (refused and black-holed ones included). */
  connections: number
  /** Connections open now. */
  open: number
  /** Bytes forwarded client → upstream and upstream → client. */
  bytesToUpstream: number
  bytesToClient: number
  /** Connections reset by 'refuse'. */
  refused: number
  /** Connections accepted in 'blackhole' mode. */
  blackholed: number
  /** Connections cut by 'cut'. */
  cuts: number
  /** Every cut, in order: with the same seed and the same traffic, the same list. */
  cutLog: CutRecord[]
}

export interface FaultProxy {
  readonly host: string
  readonly port: number
  /** `host:port` and ready-made base URLs. */
  readonly address: string
  readonly httpsUrl: string
  readonly httpUrl: string
  readonly stats: Readonly<FaultProxyStats>
  mode(): FaultMode
  setMode(mode: FaultMode): void
  /** Resets every open connection (a network flap) without changing the mode. */
  dropConnections(): void
  close(): Promise<void>
}

/** mulberry32: small, fast, good enough for test randomness, and seedable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const DEFAULT_CUT_RANGE: readonly [number, number] = [1, 65536]

/** An abrupt end, as a network failure looks: RST rather than an orderly FIN. */
function reset(socket: Socket): void {
  if (socket.destroyed) return
  if (typeof socket.resetAndDestroy === 'function' && !socket.connecting) socket.resetAndDestroy()
  else socket.destroy()
}

const newLane = (): Lane => ({ steps: [], last: 0, armed: false })

/** One direction's queue: each step runs at its due time, never before the steps queued before it. */
interface Lane {
  steps: Array<{ due: number; run: () => void }>
  /** Due time of the last step queued. */
  last: number
  armed: boolean
}

interface Connection {
  number: number
  client: Socket
  upstream: Socket | null
  /** The mode object this connection's cut plan was drawn for, and the plan. */
  cutFor: FaultMode | null
  cut: { side: CutSide; afterBytes: number; passed: number } | null
  /** Per direction, what waits for its time (chunks, an end, a reset), in order. */
  lanes: Record<CutSide, Lane>
  /** A cut is decided: nothing more is forwarded. */
  stopped: boolean
  closed: boolean
  /** Directions whose orderly end (FIN) was received and is passed on (perhaps later, after a delay). */
  ended: Set<CutSide>
}

export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  let mode: FaultMode = o.mode ?? 'pass'
  const random = seededRandom(o.seed ?? 1)
  const stats: FaultProxyStats = { connections: 0, open: 0, bytesToUpstream: 0, bytesToClient: 0, refused: 0, blackholed: 0, cuts: 0, cutLog: [] }
  const connections = new Set<Connection>()
  const timers = new Set<NodeJS.Timeout>()

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      fn()
    }, ms)
    timers.add(timer)
  }

  const finish = (c: Connection) => {
    if (c.closed) return
    c.closed = true
    connections.delete(c)
    stats.open--
  }

  /** Both sockets reset at once: a refusal, a cut, or one side failing. */
  const abort = (c: Connection) => {
    reset(c.client)
    if (c.upstream) reset(c.upstream)
    finish(c)
  }

  /**
   * After the data still on its way in this direction ('response': towards the client, when the
   * upstream went; 'request': towards the upstream, when the client did) — at once without a delay.
   * A reset or close reaches the other side after the bytes sent before it, as on a network.
   */
  const afterData = (c: Connection, side: CutSide, fn: () => void) => {
    const to = side === 'request' ? c.upstream : c.client
    // Also after the bytes handed to `to` before are in the kernel (a slow reader keeps them in
    // the socket's buffer, and a reset would drop them).
    inOrder(c, side, 0, () => (to && !to.destroyed && to.writable ? to.write(Buffer.alloc(0), () => fn()) : fn()))
  }

  /**
   * Runs `run` in `side`'s order, `delayMs` from now at the earliest. One timer per lane runs the
   * steps in turn: timers of their own could fire out of order (each is set against the event
   * loop's cached clock), and an end or a reset would then overtake the data before it.
   */
  const inOrder = (c: Connection, side: CutSide, delayMs: number, run: () => void) => {
    const lane = c.lanes[side]
    const now = Date.now()
    const due = Math.max(now + delayMs, lane.last)
    lane.last = due
    if (lane.steps.length === 0 && due <= now) {
      run()
      return
    }
    lane.steps.push({ due, run })
    if (!lane.armed) pump(lane)
  }

  const pump = (lane: Lane) => {
    lane.armed = true
    later(Math.max(0, lane.steps[0]!.due - Date.now()), () => {
      // The head's timer has fired: it runs, and every step due by now after it.
      do lane.steps.shift()!.run()
      while (lane.steps.length > 0 && lane.steps[0]!.due <= Date.now())
      if (lane.steps.length > 0) pump(lane)
      else lane.armed = false
    })
  }

  /** One socket closed: done when the other is too; if the other was still open, the close was abrupt — pass it on. */
  const onClose = (c: Connection, other: Socket | null, side: CutSide) =>
    afterData(c, side, () => {
      if (!other || other.destroyed) finish(c)
      else if (!other.writableEnded && !c.ended.has(side)) abort(c)
    })

  const planCut = (c: Connection, m: Extract<FaultMode, { kind: 'cut' }>) => {
    if (c.cutFor === m && c.cut) return c.cut
    const side: CutSide = m.side === 'request' || m.side === 'response' ? m.side : random() < 0.5 ? 'request' : 'response'
    const range = m.afterBytes ?? DEFAULT_CUT_RANGE
    const [lo, hi] = typeof range === 'number' ? [range, range] : range
    const afterBytes = lo + Math.floor(random() * (hi - lo + 1))
    c.cutFor = m
    c.cut = { side, afterBytes, passed: 0 }
    return c.cut
  }

  /** Forwards `chunk` from one side to the other as the current mode says. */
  const relay = (c: Connection, side: CutSide, chunk: Buffer) => {
    const [from, to] = side === 'request' ? [c.client, c.upstream] : [c.upstream, c.client]
    if (c.closed || c.stopped || !from || !to) return
    const m = mode
    if (m === 'blackhole') return
    if (m === 'refuse') {
      stats.refused++
      abort(c)
      return
    }
    let data = chunk
    let cutNow = false
    if (typeof m === 'object' && m.kind === 'cut') {
      const plan = planCut(c, m)
      if (plan.side === side) {
        const room = plan.afterBytes - plan.passed
        if (data.length >= room) {
          data = data.subarray(0, room)
          cutNow = true
          c.stopped = true
        }
        plan.passed += data.length
      }
    }
    const deliver = () => {
      if (c.closed) return
      if (data.length > 0) {
        // Backpressure: a slow reader slows the writer down instead of filling memory.
        if (!to.write(data) && !from.isPaused()) {
          from.pause()
          to.once('drain', () => from.resume())
        }
        if (side === 'request') stats.bytesToUpstream += data.length
        else stats.bytesToClient += data.length
      }
      if (cutNow) {
        stats.cuts++
        stats.cutLog.push({ connection: c.number, side, afterBytes: c.cut!.afterBytes })
        // Let the last bytes reach the kernel before the reset.
        to.write(Buffer.alloc(0), () => abort(c))
      }
    }
    inOrder(c, side, typeof m === 'object' && m.kind === 'delay' ? m.ms : 0, deliver)
  }

  /** An orderly end (FIN) from one side reaches the other after the data before it. */
  const relayEnd = (c: Connection, side: CutSide) => {
    const to = side === 'request' ? c.upstream : c.client
    if (c.closed || c.stopped || !to || mode === 'blackhole') return
    c.ended.add(side)
    inOrder(c, side, 0, () => {
      if (!c.closed && !to.destroyed) to.end()
    })
  }

  const server = createServer({ allowHalfOpen: true }, (client) => {
    stats.connections++
    const c: Connection = { number: stats.connections, client, upstream: null, cutFor: null, cut: null, lanes: { request: newLane(), response: newLane() }, stopped: false, closed: false, ended: new Set() }
    connections.add(c)
    stats.open++
    client.on('error', () => afterData(c, 'request', () => abort(c)))
    client.on('close', () => onClose(c, c.upstream, 'request'))
    if (mode === 'refuse') {
      stats.refused++
      abort(c)
      return
    }
    if (mode === 'blackhole') {
      stats.blackholed++
      // Read and drop whatever comes, answer nothing; the socket stays open until the client
      // gives up or the proxy closes.
      client.on('data', () => undefined)
      return
    }
    const upstream = connect({ host: o.target.host, port: o.target.port, allowHalfOpen: true })
    c.upstream = upstream
    upstream.on('error', () => afterData(c, 'response', () => abort(c)))
    upstream.on('close', () => onClose(c, client, 'response'))
    // Client bytes that arrive while the upstream connection is being made are buffered by it.
    client.on('data', (chunk: Buffer) => relay(c, 'request', chunk))
    upstream.on('data', (chunk: Buffer) => relay(c, 'response', chunk))
    client.on('end', () => relayEnd(c, 'request'))
    upstream.on('end', () => relayEnd(c, 'response'))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('fault proxy: no TCP address')
  const host = '127.0.0.1'
  const port = address.port

  return {
    host,
    port,
    address: `${host}:${port}`,
    httpsUrl: `https://${host}:${port}`,
    httpUrl: `http://${host}:${port}`,
    stats,
    mode: () => mode,
    setMode(next: FaultMode) {
      mode = next
      if (next === 'refuse') {
        for (const c of [...connections]) {
          stats.refused++
          abort(c)
        }
      }
    },
    dropConnections() {
      for (const c of [...connections]) abort(c)
    },
    async close() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const c of [...connections]) abort(c)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
