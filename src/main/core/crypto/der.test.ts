import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DerError, decodeOid, decodeTime, encodeTime, oid, readSingle, readTlv, setOf, tlv, unsignedInteger } from './der'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('DER helpers', () => {
  it('encodes OIDs as OpenSSL does and decodes them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lkmr-der-'))
    try {
      for (const o of ['1.2.840.113549.1.9.16.2.47', '1.2.643.100.3', '1.2.643.7.1.1.3.2', '2.5.4.42', '2.999.1']) {
        const ours = oid(o)
        execFileSync('openssl', ['asn1parse', '-genstr', `OID:${o}`, '-noout', '-out', join(dir, 'oid.der')])
        expect(hex(ours)).toBe(hex(readFileSync(join(dir, 'oid.der'))))
        expect(decodeOid(readSingle(ours))).toBe(o)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('uses UTCTime until 2049 and GeneralizedTime from 2050, both read back', () => {
    const t2026 = new Date('2026-03-04T05:06:07Z')
    const t2050 = new Date('2050-01-02T03:04:05Z')
    expect(new TextDecoder().decode(readSingle(encodeTime(t2026), 0x17).value)).toBe('260304050607Z')
    expect(new TextDecoder().decode(readSingle(encodeTime(t2050), 0x18).value)).toBe('20500102030405Z')
    expect(decodeTime(readSingle(encodeTime(t2026)))).toEqual(t2026)
    expect(decodeTime(readSingle(encodeTime(t2050)))).toEqual(t2050)
    expect(decodeTime(readSingle(tlv(0x17, new TextEncoder().encode('991231235959Z'))))).toEqual(new Date('1999-12-31T23:59:59Z'))
    expect(() => decodeTime(readSingle(tlv(0x17, new TextEncoder().encode('2026')))))
      .toThrow(DerError)
  })

  it('sorts SET OF by encoding and writes long lengths', () => {
    const a = Uint8Array.of(0x04, 0x01, 0x02)
    const b = Uint8Array.of(0x04, 0x01, 0x01)
    expect(hex(setOf([a, b]))).toBe('3106040101040102')
    const long = tlv(0x04, new Uint8Array(300))
    expect(hex(long.subarray(0, 4))).toBe('0482012c')
    expect(readSingle(long).value.length).toBe(300)
  })

  it('writes minimal positive INTEGERs', () => {
    expect(hex(unsignedInteger(Uint8Array.of(0, 0, 0x7f)))).toBe('02017f')
    expect(hex(unsignedInteger(Uint8Array.of(0x80)))).toBe('02020080')
    expect(hex(unsignedInteger(Uint8Array.of(0, 0)))).toBe('020100')
  })

  it('refuses truncated, indefinite and trailing input', () => {
    expect(() => readTlv(Uint8Array.of(0x30, 0x05, 0x01))).toThrow(DerError)
    expect(() => readTlv(Uint8Array.of(0x30, 0x80, 0, 0))).toThrow(DerError)
    expect(() => readSingle(Uint8Array.of(0x05, 0x00, 0x00))).toThrow(DerError)
  })
})
