// The span scanner against JSON.parse: for any JSON, however laid out, the spans it finds hold
// exactly the values JSON.parse sees there; a document cut short never yields a span.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { elementSpans, expectEnd, memberSpans, parseSpan, parseSpanWithout, valueEnd } from './json-spans'

const json = fc.jsonValue({ maxDepth: 4 })
/** Any layout JSON.stringify makes: compact, indented by spaces or by tabs. */
const layout = fc.constantFrom<undefined | number | string>(undefined, 1, 2, '\t')
const bytesOf = (v: unknown, space?: number | string) => Buffer.from(JSON.stringify(v, null, space))
/** What JSON.parse gives back for a value (-0 comes back as 0). */
const seen = (v: unknown): unknown => JSON.parse(JSON.stringify(v))
const objectOf = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), json, { maxKeys: 6 })

describe('valueEnd', () => {
  it('finds where any value ends, whatever its strings hold', () => {
    fc.assert(
      fc.property(json, layout, fc.constantFrom('', ' ', '\n\t '), (v, space, tail) => {
        const b = Buffer.concat([bytesOf(v, space), Buffer.from(`${tail},`)])
        const end = valueEnd(b, 0)
        expect(JSON.parse(b.toString('utf8', 0, end))).toEqual(seen(v))
        expect(b.toString('utf8', end).trim()).toBe(',')
      }),
    )
  })

  it('throws for an object, array or string cut short', () => {
    const composite = fc.oneof(fc.array(json, { minLength: 1 }), objectOf, fc.string({ unit: 'grapheme' }))
    fc.assert(
      fc.property(composite, layout, fc.nat(), (v, space, n) => {
        const whole = bytesOf(v, space)
        const cut = whole.subarray(0, n % whole.length)
        expect(() => valueEnd(cut, 0)).toThrow(/JSON: /)
      }),
    )
  })

  it('refuses brackets that do not pair up, and nesting deeper than SQLite reads', () => {
    for (const bad of ['{"a":[1}', '[{]}', '{"a":{"b":1]}']) expect(() => valueEnd(Buffer.from(bad), 0)).toThrow(/mismatched bracket/)
    expect(valueEnd(Buffer.from(`${'['.repeat(1000)}${']'.repeat(1000)}`), 0)).toBe(2000)
    expect(() => valueEnd(Buffer.from(`${'['.repeat(1001)}${']'.repeat(1001)}`), 0)).toThrow(/nested too deeply/)
  })

  it('does not end a string at an escaped quote, and does at one after an escaped backslash', () => {
    const b = Buffer.from(String.raw`["a\"b\\", "c\\\"", 1]`)
    expect(elementSpans(b, 0).items.map((s) => parseSpan(b, s))).toEqual(['a"b\\', 'c\\"', 1])
  })
})

describe('memberSpans', () => {
  it('gives the values of the members asked for, and where the object ends', () => {
    fc.assert(
      fc.property(objectOf, layout, (o, space) => {
        const b = bytesOf(o, space)
        const names = Object.keys(o)
        const { members, end } = memberSpans(b, 0, names)
        expect(end).toBe(b.length)
        for (const k of names) expect(parseSpan(b, members[k]!)).toEqual(seen(o[k]))
      }),
    )
  })

  it('reads escaped and non-ASCII member names as JSON.parse does; the last of a name wins', () => {
    const b = Buffer.from(String.raw`{"f\u0075llUrl": 1, "имя": 2, "x": 3, "x": 4}`)
    const { members } = memberSpans(b, 0, ['fullUrl', 'имя', 'x'])
    expect([members.fullUrl, members['имя'], members.x].map((s) => parseSpan(b, s!))).toEqual([1, 2, 4])
  })

  it("checks the object's own punctuation", () => {
    for (const bad of ['{"a" 1}', '{"a":1 "b":2}', '{a:1}', '[1]', '{"a":1,}', '{"a":1']) expect(() => memberSpans(Buffer.from(bad), 0, ['a'])).toThrow(/JSON: /)
  })
})

describe('elementSpans and the rest', () => {
  it('gives each element of an array', () => {
    fc.assert(
      fc.property(fc.array(json, { maxLength: 8 }), layout, (a, space) => {
        const b = bytesOf(a, space)
        const { items, end } = elementSpans(b, 0)
        expectEnd(b, end)
        expect(items.map((s) => parseSpan(b, s))).toEqual(seen(a))
      }),
    )
  })

  it('reads a value with a part of it left out as null', () => {
    const b = Buffer.from('{"fullUrl":"P/1","resource":{"a":[1,2]},"n":5}')
    const { members } = memberSpans(b, 0, ['resource'])
    expect(parseSpanWithout(b, { start: 0, end: b.length }, members.resource!)).toEqual({ fullUrl: 'P/1', resource: null, n: 5 })
  })

  it('refuses text after the value', () => {
    expect(() => expectEnd(Buffer.from('{} \n'), 2)).not.toThrow()
    expect(() => expectEnd(Buffer.from('{} x'), 2)).toThrow(/text after the value/)
  })
})
