import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AsnConvert } from '@peculiar/asn1-schema'
import { AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName, SubjectPublicKeyInfo } from '@peculiar/asn1-x509'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../../shared/errors'
import { certificateDetailsSchema } from '../../../shared/model'
import { createCa, exportSpki, generateKeyPair, issueCertificate, type DemoCa } from '../../../../scripts/demo/pki'
import { parseCertificate, validityAt } from './certificate'
import * as x509 from './x509'
import { CURVE_OID, EKU_OID, KEY_OID, NAME_OID } from './oids'

let ca: DemoCa
let work: string
const now = Date.now()
const period = { notBefore: new Date(now - 86400e3), notAfter: new Date(now + 86400e3 * 30) }

beforeAll(async () => {
  ca = await createCa({ commonName: 'Тестовый УЦ' })
  work = mkdtempSync(join(tmpdir(), 'lkmr-cert-'))
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** A string attribute encoded with the given universal tag, bytes written by hand. */
function raw(tag: number, body: Uint8Array): AttributeValue {
  const len = body.length < 128 ? [body.length] : [0x81, body.length]
  return new AttributeValue({ anyValue: Uint8Array.from([tag, ...len, ...body]).buffer })
}
const utf16be = (s: string) => Uint8Array.from(Buffer.from(s, 'utf16le').swap16())
const utf32be = (s: string) => {
  const cps = Array.from(s, (c) => c.codePointAt(0)!)
  const out = new Uint8Array(cps.length * 4)
  cps.forEach((cp, i) => new DataView(out.buffer).setUint32(i * 4, cp))
  return out
}
function nameOf(attrs: Array<[string, AttributeValue]>): x509.Name {
  const rdns = attrs.map(([type, value]) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value })]))
  return new x509.Name(AsnConvert.serialize(new Name(rdns)))
}

async function ecSpki(): Promise<Uint8Array> {
  return exportSpki((await generateKeyPair('EC')).publicKey)
}

describe('parseCertificate', () => {
  it('reads the Russian qualified-certificate profile (NumericString СНИЛС/ИНН/ОГРН)', async () => {
    const keys = await generateKeyPair('RSA')
    const cert = await issueCertificate(ca, {
      subject: {
        surname: 'Иванов', givenName: 'Иван Иванович', title: 'Врач-терапевт участковый',
        organization: 'ГБУЗ «Городская поликлиника № 1»', organizationalUnit: 'Терапия',
        snils: '11223344595', inn: '500100732259', innLe: '7707083893', ogrn: '1027700132195',
        locality: 'Москва', region: '77 г. Москва', street: 'ул. Тверская, д. 1', email: 'ivanov@example.ru',
      },
      publicKey: await exportSpki(keys.publicKey),
      ...period,
    })
    const d = parseCertificate(cert.der)
    expect(certificateDetailsSchema.parse(d)).toEqual(d)
    expect(d.subject).toEqual({
      commonName: 'Иванов Иван Иванович', surname: 'Иванов', givenName: 'Иван Иванович', fullName: 'Иванов Иван Иванович',
      snils: '11223344595', inn: '500100732259', innLe: '7707083893', ogrn: '1027700132195', ogrnip: null,
      organization: 'ГБУЗ «Городская поликлиника № 1»', organizationalUnit: 'Терапия', title: 'Врач-терапевт участковый',
      email: 'ivanov@example.ru', locality: 'Москва', region: '77 г. Москва', street: 'ул. Тверская, д. 1', country: 'RU',
    })
    expect(d.issuer.commonName).toBe('Тестовый УЦ')
    expect(d.issuer.fullName).toBe('Тестовый УЦ')
    expect(d.issuer.snils).toBeNull()
    expect(d.keyAlgorithm).toBe('RSA')
    expect(d.keyDescription).toBe('RSA 2048 бит')
    expect(d.signatureAlgorithm).toBe('ecdsa-with-SHA256')
    expect(d.keyUsage).toEqual(['digitalSignature', 'nonRepudiation'])
    expect(d.extendedKeyUsage).toEqual([EKU_OID.clientAuth, EKU_OID.emailProtection])
    expect(d.serialNumber).toBe(cert.serialNumber)
  })

  it('agrees with OpenSSL on serial, fingerprint and dates of a certificate OpenSSL made', () => {
    const key = join(work, 'k.pem')
    const crt = join(work, 'c.pem')
    execFileSync('openssl', [
      'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt,
      '-days', '10', '-utf8', '-set_serial', '0x00ff00112233',
      '-subj', '/C=RU/CN=Петров Пётр/SN=Петров/GN=Пётр Петрович/1.2.643.100.3=11223344595/1.2.643.100.5=304500116000157',
      '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
    ], { stdio: 'pipe' })
    const der = new Uint8Array(x509.PemConverter.decode(readFileSync(crt, 'utf8'))[0]!)
    const d = parseCertificate(der)
    const fp = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-fingerprint', '-sha256']).toString()
    expect(d.fingerprintSha256).toBe(fp.split('=')[1]!.trim().replace(/:/g, '').toLowerCase())
    const serial = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-serial']).toString()
    expect(d.serialNumber).toBe(serial.split('=')[1]!.trim().toLowerCase())
    expect(d.serialNumber).toBe('ff00112233')
    const end = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-enddate']).toString().split('=')[1]!.trim()
    expect(d.notAfter).toBe(new Date(end).toISOString())
    expect(d.subject.fullName).toBe('Петров Пётр Петрович')
    expect(d.subject.snils).toBe('11223344595') // OpenSSL encodes it as NumericString itself
    expect(d.subject.ogrnip).toBe('304500116000157')
    expect(d.keyDescription).toBe('ECDSA P-256')
    expect(d.keyUsage).toEqual(['digitalSignature', 'keyCertSign'])
    expect(d.extendedKeyUsage).toEqual([])
  })

  it('reads Cyrillic in BMPString, UniversalString, TeletexString and PrintableString', async () => {
    const subject = nameOf([
      [NAME_OID.country, new AttributeValue({ printableString: 'RU' })],
      [NAME_OID.surname, raw(0x1e, utf16be('Сидорова'))],
      [NAME_OID.givenName, raw(0x1c, utf32be('Анна Сергеевна'))],
      [NAME_OID.organization, raw(0x14, Buffer.from('ООО «Ромашка»', 'utf8'))],
      [NAME_OID.organizationalUnit, new AttributeValue({ printableString: 'IT' })],
      [NAME_OID.organizationalUnit, new AttributeValue({ bmpString: 'Бухгалтерия' })],
      [NAME_OID.snils, new AttributeValue({ utf8String: '112 233 445 95' })],
      [NAME_OID.commonName, new AttributeValue({ utf8String: 'Сидорова А.С.' })],
    ])
    const cert = await issueCertificate(ca, { subject, publicKey: await ecSpki(), ...period })
    const d = parseCertificate(cert.der)
    expect(d.subject.surname).toBe('Сидорова')
    expect(d.subject.givenName).toBe('Анна Сергеевна')
    expect(d.subject.fullName).toBe('Сидорова Анна Сергеевна')
    expect(d.subject.organization).toBe('ООО «Ромашка»')
    expect(d.subject.organizationalUnit).toBe('IT, Бухгалтерия')
    expect(d.subject.snils).toBe('11223344595')
    expect(d.subject.commonName).toBe('Сидорова А.С.')
  })

  it('uses CN as the full name when SN and GN are absent, and keeps an odd СНИЛС as written', async () => {
    const subject = nameOf([
      [NAME_OID.commonName, new AttributeValue({ utf8String: 'Регистратура' })],
      [NAME_OID.snils, new AttributeValue({ utf8String: '12345' })],
    ])
    const d = parseCertificate((await issueCertificate(ca, { subject, publicKey: await ecSpki(), ...period })).der)
    expect(d.subject.fullName).toBe('Регистратура')
    expect(d.subject.surname).toBeNull()
    expect(d.subject.snils).toBe('12345')
  })

  it('describes GOST R 34.10-2012 keys it cannot use', async () => {
    for (const [keyOid, paramOid, size, alg] of [
      [KEY_OID.gost2012_256, CURVE_OID.gostTc26_256_A, 64, 'GOST256'],
      [KEY_OID.gost2012_512, CURVE_OID.gostTc26_512_A, 128, 'GOST512'],
    ] as const) {
      const params = new Uint8Array(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: paramOid }))) // SEQUENCE { OID }
      const point = Uint8Array.from([0x04, size === 64 ? 0x40 : 0x81, ...(size === 64 ? [] : [0x80]), ...new Uint8Array(size).fill(7)])
      const spki = new SubjectPublicKeyInfo({
        algorithm: new AlgorithmIdentifier({ algorithm: keyOid, parameters: params.buffer }),
        subjectPublicKey: point.buffer,
      })
      const cert = await issueCertificate(ca, {
        subject: { surname: 'Гостев', givenName: 'Георгий', snils: '11223344595' },
        publicKey: new Uint8Array(AsnConvert.serialize(spki)),
        ...period,
      })
      const d = parseCertificate(cert.der)
      expect(d.keyAlgorithm).toBe(alg)
      expect(d.keyDescription).toBe(`ГОСТ Р 34.10-2012 ${size === 64 ? 256 : 512} бит`)
      expect(d.subject.fullName).toBe('Гостев Георгий')
    }
  })

  it('rejects bytes that are not a certificate with INVALID_INPUT', () => {
    const bad = [new Uint8Array(0), Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01]), new TextEncoder().encode('-----BEGIN CERTIFICATE-----')]
    for (const b of bad) {
      let err: unknown
      try {
        parseCertificate(b)
      } catch (e) {
        err = e
      }
      expect(AppError.is(err, 'INVALID_INPUT')).toBe(true)
    }
  })
})

describe('validityAt', () => {
  const d = { notBefore: '2025-01-01T00:00:00.000Z', notAfter: '2025-12-31T23:59:59.000Z' }
  it('classifies dates before, inside (bounds included) and after the period', () => {
    expect(validityAt(d, new Date('2024-12-31T23:59:59.999Z'))).toBe('notYetValid')
    expect(validityAt(d, new Date('2025-01-01T00:00:00.000Z'))).toBe('valid')
    expect(validityAt(d, new Date('2025-06-01T00:00:00.000Z'))).toBe('valid')
    expect(validityAt(d, new Date('2025-12-31T23:59:59.000Z'))).toBe('valid')
    expect(validityAt(d, new Date('2025-12-31T23:59:59.001Z'))).toBe('expired')
  })
})
