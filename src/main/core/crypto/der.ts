// Minimal DER reader and writer for the CMS envelope. CMS needs byte-exact pieces — signed
// attributes as they were signed, certificates and issuer names as the CA encoded them — which
// object-model ASN.1 libraries re-encode; this walks and builds the bytes directly.

export interface Tlv {
  tag: number
  /** Offset of the tag byte in the buffer. */
  start: number
  /** Offset just past the value. */
  end: number
  /** The whole encoding (tag, length, value). */
  der: Uint8Array
  /** The value bytes. */
  value: Uint8Array
}

export class DerError extends Error {
  override name = 'DerError'
}

/** Reads one TLV at `offset`. Only low tag numbers (< 31) and definite lengths, as DER has. */
export function readTlv(buf: Uint8Array, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new DerError(`truncated TLV at ${offset}`)
  const tag = buf[offset]!
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number at ${offset}`)
  let length = buf[offset + 1]!
  let header = 2
  if (length & 0x80) {
    const n = length & 0x7f
    if (n === 0) throw new DerError(`indefinite length at ${offset}`)
    if (n > 4 || offset + 2 + n > buf.length) throw new DerError(`bad length at ${offset}`)
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i]!
    header = 2 + n
  }
  const end = offset + header + length
  if (end > buf.length) throw new DerError(`TLV at ${offset} runs past the end`)
  return { tag, start: offset, end, der: buf.subarray(offset, end), value: buf.subarray(offset + header, end) }
}

/** Reads a buffer that must hold exactly one TLV. */
export function readSingle(buf: Uint8Array, expectedTag?: number): Tlv {
  const t = readTlv(buf, 0)
  if (t.end !== buf.length) throw new DerError('trailing bytes after the TLV')
  if (expectedTag !== undefined && t.tag !== expectedTag) throw new DerError(`expected tag 0x${expectedTag.toString(16)}, got 0x${t.tag.toString(16)}`)
  return t
}

/** The TLVs inside a constructed value. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = []
  let offset = 0
  while (offset < t.value.length) {
    const c = readTlv(t.value, offset)
    out.push(c)
    offset = c.end
  }
  return out
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}${t ? `, got 0x${t.tag.toString(16)}` : ', missing'}`)
  return t
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** Bytes of a DER length field. */
function lengthSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5
}

function writeLength(out: Uint8Array, at: number, n: number): void {
  const size = lengthSize(n)
  if (size === 1) {
    out[at] = n
    return
  }
  out[at] = 0x80 | (size - 1)
  for (let i = size - 1, v = n; i >= 1; i--, v = Math.floor(v / 256)) out[at + i] = v & 0xff
}

export function encodeLength(n: number): Uint8Array {
  const out = new Uint8Array(lengthSize(n))
  writeLength(out, 0, n)
  return out
}

/** One TLV, written in a single allocation (signing builds dozens per signature). */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let length = 0
  for (const c of contents) length += c.length
  const header = 1 + lengthSize(length)
  const out = new Uint8Array(header + length)
  out[0] = tag
  writeLength(out, 1, length)
  let o = header
  for (const c of contents) {
    out.set(c, o)
    o += c.length
  }
  return out
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(0x30, ...items)

/** SET OF with its elements in DER order (sorted by encoding), as verifiers re-encode it. */
export function setOf(items: readonly Uint8Array[], tag = 0x31): Uint8Array {
  return tlv(tag, ...[...items].sort(compareBytes))
}

export const octetString = (b: Uint8Array): Uint8Array => tlv(0x04, b)
export const derNull = (): Uint8Array => Uint8Array.of(0x05, 0x00)

/** INTEGER from a non-negative small number. */
export function smallInteger(n: number): Uint8Array {
  return unsignedInteger(Uint8Array.of(...(n === 0 ? [0] : bigEndian(n))))
}

function bigEndian(n: number): number[] {
  const out: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff)
  return out
}

/** INTEGER from unsigned big-endian bytes (minimal, with a sign byte where needed). */
export function unsignedInteger(b: Uint8Array): Uint8Array {
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  const body = b.subarray(i)
  return tlv(0x02, ...(body[0]! & 0x80 ? [Uint8Array.of(0), body] : [body]))
}

/** Unsigned big-endian bytes of an INTEGER value, `size` long (left-padded). */
export function integerToUnsigned(value: Uint8Array, size: number): Uint8Array {
  let i = 0
  while (i < value.length - 1 && value[i] === 0) i++
  const body = value.subarray(i)
  if (body.length > size) throw new DerError('integer larger than expected')
  const out = new Uint8Array(size)
  out.set(body, size - body.length)
  return out
}

/** Encoded OIDs: a signature uses the same handful every time, and encoding costs BigInt math. */
const oidCache = new Map<string, Uint8Array>()

/** DER of an OBJECT IDENTIFIER. The result is shared: callers copy it (tlv/concat), never write it. */
export function oid(dotted: string): Uint8Array {
  let der = oidCache.get(dotted)
  if (!der) {
    der = encodeOid(dotted)
    oidCache.set(dotted, der)
  }
  return der
}

function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new DerError(`bad OID ${dotted}`)
    return BigInt(s)
  })
  if (arcs.length < 2) throw new DerError(`bad OID ${dotted}`)
  const out: number[] = []
  const first = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]
  for (const arc of first) {
    const groups: number[] = [Number(arc & 0x7fn)]
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80)
    out.push(...groups)
  }
  return tlv(0x06, Uint8Array.from(out))
}

export function decodeOid(t: Tlv): string {
  expectTag(t, 0x06, 'OBJECT IDENTIFIER')
  const arcs: bigint[] = []
  let v = 0n
  for (const b of t.value) {
    v = (v << 7n) | BigInt(b & 0x7f)
    if (!(b & 0x80)) {
      arcs.push(v)
      v = 0n
    }
  }
  if (arcs.length === 0) throw new DerError('empty OID')
  const first = arcs[0]!
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n]
  return [...head, ...arcs.slice(1)].join('.')
}

/** AlgorithmIdentifier with no parameters, or with NULL when `withNull`. */
export function algorithmIdentifier(algorithm: string, withNull = false): Uint8Array {
  return withNull ? sequence(oid(algorithm), derNull()) : sequence(oid(algorithm))
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 / 5652). Whole seconds. */
export function encodeTime(d: Date): Uint8Array {
  const y = d.getUTCFullYear()
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`
  if (y >= 1950 && y < 2050) return tlv(0x17, new TextEncoder().encode(pad(y % 100) + rest))
  return tlv(0x18, new TextEncoder().encode(pad(y, 4) + rest))
}

export function decodeTime(t: Tlv): Date {
  const s = new TextDecoder().decode(t.value)
  let m: RegExpMatchArray | null
  if (t.tag === 0x17 && (m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/))) {
    const yy = Number(m[1])
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)))
  }
  if (t.tag === 0x18 && (m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/))) {
    const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms))
  }
  throw new DerError(`bad time ${JSON.stringify(s)}`)
}
