import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCertificate } from '../../src/main/core/crypto/certificate'
import { EKU_OID } from '../../src/main/core/crypto/oids'
import { createCa, createCrl, exportSpki, generateKeyPair, issueCertificate, issueTlsServerCertificate, type DemoCa } from './pki'

let work: string
let ca: DemoCa
const now = Date.now()

function openssl(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { cwd: work, encoding: 'utf8' })
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` }
}
const file = (name: string, data: string | Uint8Array) => {
  writeFileSync(join(work, name), data)
  return name
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lkmr-pki-'))
  ca = await createCa()
  file('ca.pem', ca.certPem)
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('createCa', () => {
  it('makes a self-signed CA certificate with a Russian name', () => {
    expect(openssl('verify', '-CAfile', 'ca.pem', 'ca.pem').ok).toBe(true)
    const text = openssl('x509', '-in', 'ca.pem', '-noout', '-text').out
    expect(text).toMatch(/CA:TRUE/)
    expect(text).toMatch(/Certificate Sign, CRL Sign/)
    expect(parseCertificate(ca.der).subject.commonName).toBe('Демо УЦ ЛКМР')
  })
})

describe('issueCertificate', () => {
  it('issues a qualified-profile certificate for a given public key that chains to the CA', async () => {
    const keys = await generateKeyPair('EC')
    const spki = await exportSpki(keys.publicKey)
    const cert = await issueCertificate(ca, {
      subject: { surname: 'Соколова', givenName: 'Наталья Владимировна', title: 'Медицинская сестра', organization: 'ГБУЗ «ГП № 1»', snils: '11223344595', inn: '500100732259', ogrn: '1027700132195' },
      publicKey: spki,
      notBefore: new Date(now - 3600e3),
      notAfter: new Date(now + 86400e3),
    })
    expect(openssl('verify', '-CAfile', 'ca.pem', file('ee.pem', cert.pem)).ok).toBe(true)
    const d = parseCertificate(cert.der)
    expect(d.subject.fullName).toBe('Соколова Наталья Владимировна')
    expect(d.subject.snils).toBe('11223344595')
    expect(d.subject.country).toBe('RU')
    expect(d.keyUsage).toEqual(['digitalSignature', 'nonRepudiation'])
    expect(d.extendedKeyUsage).toEqual([EKU_OID.clientAuth, EKU_OID.emailProtection])
    expect(d.notBefore).toBe(new Date(Math.floor((now - 3600e3) / 1000) * 1000).toISOString())
    // The certificate carries exactly the key it was given.
    const pem = openssl('x509', '-in', 'ee.pem', '-noout', '-pubkey').out
    const certSpki = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    expect(certSpki.equals(Buffer.from(spki))).toBe(true)
  })

  it('leaves СНИЛС out when the subject has none', async () => {
    const cert = await issueCertificate(ca, {
      subject: { surname: 'Смирнова', givenName: 'Елена', snils: null },
      publicKey: (await generateKeyPair('EC')).publicKey,
      notBefore: new Date(now - 3600e3),
      notAfter: new Date(now + 86400e3),
    })
    expect(parseCertificate(cert.der).subject.snils).toBeNull()
    expect(openssl('x509', '-in', file('nosnils.pem', cert.pem), '-noout', '-subject').out).not.toContain('SNILS')
  })
})

describe('issueTlsServerCertificate', () => {
  it('is valid for localhost, 127.0.0.1 and ::1 only', async () => {
    const tls = await issueTlsServerCertificate(ca)
    file('tls.pem', tls.pem)
    const ok = (flag: string, value: string) => openssl('verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', flag, value, 'tls.pem').ok
    expect(ok('-verify_hostname', 'localhost')).toBe(true)
    expect(ok('-verify_ip', '127.0.0.1')).toBe(true)
    expect(ok('-verify_ip', '::1')).toBe(true)
    expect(ok('-verify_hostname', 'example.ru')).toBe(false)
  })

  it('serves HTTPS that a client trusting only the demo CA accepts', async () => {
    const tls = await issueTlsServerCertificate(ca)
    const server = createServer({ cert: tls.pem, key: tls.keyPem }, (_req, res) => res.end('ok'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    try {
      const get = (caPem: string) =>
        new Promise<string>((resolve, reject) => {
          request({ host: '127.0.0.1', port, ca: caPem, path: '/' }, (res) => {
            let body = ''
            res.on('data', (c: Buffer) => (body += c.toString()))
            res.on('end', () => resolve(body))
          })
            .on('error', reject)
            .end()
        })
      expect(await get(ca.certPem)).toBe('ok')
      const other = await createCa({ commonName: 'Чужой УЦ' })
      await expect(get(other.certPem)).rejects.toThrow()
    } finally {
      server.close()
    }
  })
})

describe('createCrl', () => {
  it('revokes the listed serials and nothing else', async () => {
    const issue = async () =>
      issueCertificate(ca, { subject: { surname: 'Кузнецов', givenName: 'Алексей', snils: '11223344595' }, publicKey: (await generateKeyPair('EC')).publicKey, notBefore: new Date(now - 3600e3), notAfter: new Date(now + 86400e3) })
    const revoked = await issue()
    const kept = await issue()
    const crl = await createCrl(ca, { revoked: [{ serialNumber: revoked.serialNumber }] })
    file('crl.pem', crl.pem)
    file('crl.der', crl.der)
    expect(openssl('crl', '-in', 'crl.der', '-inform', 'DER', '-CAfile', 'ca.pem', '-noout').out).toContain('verify OK')
    file('bundle.pem', ca.certPem + crl.pem)
    const rv = openssl('verify', '-crl_check', '-CAfile', 'bundle.pem', file('revoked.pem', revoked.pem))
    expect(rv.ok).toBe(false)
    expect(rv.out).toContain('certificate revoked')
    expect(openssl('verify', '-crl_check', '-CAfile', 'bundle.pem', file('kept.pem', kept.pem)).ok).toBe(true)
  })
})
