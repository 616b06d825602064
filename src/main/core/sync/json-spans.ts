// Where JSON values lie in UTF-8 bytes, found without building them. A history page (about
// 1.2 MB, 1 000 resources) is cut into its resources' texts in one pass, so the sync stores the
// bytes the portal sent instead of parsing each resource and writing it out again.
//
// The scan follows only strings and brackets (which must pair up), at memchr speed through
// strings: it does not check the rest of the grammar inside the values it skips. Callers check
// what they keep: the parts they read go through JSON.parse, the resources they store through
// SQLite's json_valid (RFC 8259), so a span of a malformed document never reaches the store.

class JsonSyntaxError extends Error {
  constructor(what: string, at: number) {
    super(`JSON: ${what} at byte ${at}`)
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/** A value's bytes: where it starts and ends (exclusive). */
export interface Span {
  start: number
  end: number
}

/** The first non-whitespace byte at or after `i`. */
function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++
  return i
}

/** The end (exclusive) of the string whose opening quote is at `i`. */
function stringEnd(b: Buffer, i: number): number {
  for (;;) {
    const q = b.indexOf(QUOTE, i + 1)
    if (q === -1) throw new JsonSyntaxError('unterminated string', i)
    // Escaped if preceded by an odd run of backslashes.
    let k = q - 1
    while (b[k] === BACKSLASH) k--
    if ((q - 1 - k) % 2 === 0) return q + 1
    i = q
  }
}

/** Deeper nesting is refused (SQLite's json_valid stops at 1 000 levels; FHIR nests a dozen). */
const MAX_DEPTH = 1000
/** The closing bracket each open one needs, by depth (one stack for all scans: no allocation). */
const closers = new Uint8Array(MAX_DEPTH)

/** The end (exclusive) of the value starting exactly at `i`; brackets must pair up. */
export function valueEnd(b: Buffer, i: number): number {
  const start = i
  let depth = 0
  for (;;) {
    const c = b[i]
    if (c === undefined) throw new JsonSyntaxError('unexpected end', i)
    if (c === QUOTE) {
      i = stringEnd(b, i)
      if (depth === 0) return i
      continue
    }
    if (c === 0x7b || c === 0x5b) {
      if (depth === MAX_DEPTH) throw new JsonSyntaxError('nested too deeply', i)
      closers[depth++] = c + 2 // { → }, [ → ]
    } else if (c === 0x7d || c === 0x5d || c === 0x2c || c === 0x3a || isSpace(c)) {
      if (depth === 0) {
        // The end of a number or a literal.
        if (i === start) throw new JsonSyntaxError('value expected', i)
        return i
      }
      if (c === 0x7d || c === 0x5d) {
        if (closers[--depth] !== c) throw new JsonSyntaxError('mismatched bracket', i)
        if (depth === 0) return i + 1
      }
    }
    i++
  }
}

/** A member name's text: short ASCII names straight from the bytes, others through JSON.parse. */
function nameAt(b: Buffer, start: number, end: number): string {
  for (let k = start + 1; k < end - 1; k++) if (b[k]! >= 0x80 || b[k] === BACKSLASH) return JSON.parse(b.toString('utf8', start, end)) as string
  return b.toString('latin1', start + 1, end - 1)
}

/**
 * The named members' values of the object starting at `i` (after whitespace), the last one of a
 * name winning as in JSON.parse, and where the object ends. The object's own punctuation is checked.
 */
export function memberSpans<N extends string>(b: Buffer, i: number, names: readonly N[]): { members: Partial<Record<N, Span>>; end: number } {
  const members: Partial<Record<N, Span>> = {}
  i = skipSpace(b, i)
  if (b[i] !== 0x7b) throw new JsonSyntaxError('object expected', i)
  i = skipSpace(b, i + 1)
  if (b[i] === 0x7d) return { members, end: i + 1 }
  for (;;) {
    if (b[i] !== QUOTE) throw new JsonSyntaxError('member name expected', i)
    const nameEnd = stringEnd(b, i)
    const name = nameAt(b, i, nameEnd) as N
    i = skipSpace(b, nameEnd)
    if (b[i] !== 0x3a) throw new JsonSyntaxError("':' expected", i)
    const start = skipSpace(b, i + 1)
    const end = valueEnd(b, start)
    if (names.includes(name)) members[name] = { start, end }
    i = skipSpace(b, end)
    if (b[i] === 0x7d) return { members, end: i + 1 }
    if (b[i] !== 0x2c) throw new JsonSyntaxError("',' or '}' expected", i)
    i = skipSpace(b, i + 1)
  }
}

/** The elements of the array starting at `i` (after whitespace), and where it ends. */
export function elementSpans(b: Buffer, i: number): { items: Span[]; end: number } {
  const items: Span[] = []
  i = skipSpace(b, i)
  if (b[i] !== 0x5b) throw new JsonSyntaxError('array expected', i)
  i = skipSpace(b, i + 1)
  if (b[i] === 0x5d) return { items, end: i + 1 }
  for (;;) {
    const end = valueEnd(b, i)
    items.push({ start: i, end })
    i = skipSpace(b, end)
    if (b[i] === 0x5d) return { items, end: i + 1 }
    if (b[i] !== 0x2c) throw new JsonSyntaxError("',' or ']' expected", i)
    i = skipSpace(b, i + 1)
  }
}

/** Nothing but whitespace after `i`: the document is one value. */
export function expectEnd(b: Buffer, i: number): void {
  const j = skipSpace(b, i)
  if (j !== b.length) throw new JsonSyntaxError('text after the value', j)
}

/** The value in a span, built and checked by JSON.parse (the small parts of a document that are read). */
export function parseSpan(b: Buffer, span: Span): unknown {
  return JSON.parse(b.toString('utf8', span.start, span.end))
}

/** The value in a span with one of its parts (a span inside it) read as null: the rest, checked. */
export function parseSpanWithout(b: Buffer, span: Span, hole: Span): unknown {
  return JSON.parse(`${b.toString('utf8', span.start, hole.start)}null${b.toString('utf8', hole.end, span.end)}`)
}
