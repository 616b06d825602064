// Builds the demo world into a fresh folder and checks it with independent tools: pkcs11-tool
// sees the tokens and objects, the token keys match their certificates, and OpenSSL agrees on
// which certificates chain to which CA, which are expired, not yet valid or revoked.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCertificate } from '../../src/main/core/crypto/certificate'
import * as x509 from '../../src/main/core/crypto/x509'
import { isValidSnils } from '../../src/shared/validators'
import { createDemo } from './create-demo'
import { readDemoManifest, type DemoCert, type DemoCertKind, type DemoManifest } from './manifest'

let dir: string
let m: DemoManifest
let elapsedMs: number
const MODULE = '/usr/lib/softhsm/libsofthsm2.so'

function run(cmd: string, args: string[], input?: Uint8Array): { ok: boolean; out: string; stdout: Buffer } {
  const r = spawnSync(cmd, args, { cwd: dir, env: { ...process.env, SOFTHSM2_CONF: m.softhsmConf }, input })
  return { ok: r.status === 0, out: `${r.stdout.toString()}${r.stderr.toString()}`, stdout: r.stdout }
}
const p11 = (...args: string[]) => run('pkcs11-tool', ['--module', MODULE, ...args])

interface P11Object {
  type: string
  id: string | null
  lines: string[]
}

function listObjects(tokenLabel: string): P11Object[] {
  const r = p11('--token-label', tokenLabel, '--login', '--pin', '12345678', '-O')
  expect(r.ok, r.out).toBe(true)
  const objects: P11Object[] = []
  for (const line of r.out.split('\n')) {
    const head = line.match(/^(Private Key|Public Key|Certificate|Data|Secret Key) Object/)
    if (head) objects.push({ type: head[1]!, id: null, lines: [line] })
    else if (objects.length && line.startsWith(' ')) {
      const o = objects[objects.length - 1]!
      o.lines.push(line)
      const id = line.match(/^\s+ID:\s+([0-9a-f]+)/)
      if (id) o.id = id[1]!
    }
  }
  return objects
}

function certOf(kind: DemoCertKind): DemoCert {
  const c = m.tokens.flatMap((t) => t.certificates).find((x) => x.kind === kind)
  if (!c) throw new Error(`no demo certificate of kind ${kind}`)
  return c
}

const opensslVerify = (...args: string[]) => run('openssl', ['verify', ...args])

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-create-demo-'))
  writeFileSync(join(dir, 'stale.txt'), 'left from an earlier run')
  const t0 = performance.now()
  m = await createDemo({ dir })
  elapsedMs = performance.now() - t0
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('createDemo', () => {
  it('starts from scratch, is quick and writes a manifest that validates', () => {
    expect(existsSync(join(dir, 'stale.txt'))).toBe(false)
    expect(elapsedMs).toBeLessThan(10_000)
    expect(readDemoManifest(dir)).toEqual(JSON.parse(JSON.stringify(m)))
    const conf = readFileSync(m.softhsmConf, 'utf8')
    expect(conf).toContain(`directories.tokendir = ${join(dir, 'tokens')}`)
    expect(conf).toMatch(/objectstore\.backend = file/)
    expect(conf).toMatch(/log\.level = ERROR/)
  })

  it('creates the four tokens that pkcs11-tool lists, with the serials in the manifest', () => {
    const r = p11('-L')
    expect(r.ok, r.out).toBe(true)
    expect(m.tokens.map((t) => t.label)).toEqual(['demo-doctor', 'demo-nurse', 'demo-problems', 'demo-empty'])
    const listed = r.out
      .split(/^Slot /m)
      .map((block) => ({ label: block.match(/token label\s*: (.*)/)?.[1]?.trim(), serial: block.match(/serial num\s*: (.*)/)?.[1]?.trim() }))
      .filter((t) => t.label)
    expect(listed.sort((a, b) => a.label!.localeCompare(b.label!))).toEqual(
      m.tokens.map((t) => ({ label: t.label, serial: t.serial })).sort((a, b) => a.label.localeCompare(b.label)),
    )
  })

  it('puts each certificate next to its private key (same CKA_ID), except noPrivateKey', () => {
    const expected: Record<string, DemoCertKind[]> = {
      'demo-doctor': ['doctor'],
      'demo-nurse': ['nurse'],
      'demo-problems': ['expired', 'notYetValid', 'revoked', 'noSnils', 'unregistered', 'employmentEnded', 'untrusted', 'noPrivateKey'],
      'demo-empty': [],
    }
    for (const t of m.tokens) {
      expect(t.certificates.map((c) => c.kind)).toEqual(expected[t.label])
      const objects = listObjects(t.label)
      const certs = objects.filter((o) => o.type === 'Certificate')
      const privs = objects.filter((o) => o.type === 'Private Key')
      expect(certs.map((o) => o.id).sort()).toEqual(t.certificates.map((c) => c.ckaId).sort())
      for (const c of t.certificates) {
        const priv = privs.filter((o) => o.id === c.ckaId)
        expect(priv, `${c.kind} private key`).toHaveLength(c.kind === 'noPrivateKey' ? 0 : 1)
        if (priv[0]) {
          expect(priv[0].lines[0]).toContain(c.keyType === 'RSA' ? 'RSA' : 'EC')
          expect(priv[0].lines.join('\n')).toMatch(/sensitive, always sensitive, never extractable, local/)
        }
      }
      expect(privs).toHaveLength(t.certificates.filter((c) => c.kind !== 'noPrivateKey').length)
    }
    expect(listObjects('demo-empty')).toEqual([])
  })

  it('has key pairs on the tokens that match the certificates (RSA and ECDSA signatures verify)', () => {
    const data = Buffer.from('проверка ключа на токене')
    writeFileSync(join(dir, 'data.bin'), data)
    writeFileSync(join(dir, 'digest.bin'), createHash('sha256').update(data).digest())
    for (const [label, kind, mech, input] of [
      ['demo-doctor', 'doctor', 'SHA256-RSA-PKCS', 'data.bin'],
      ['demo-nurse', 'nurse', 'ECDSA', 'digest.bin'],
    ] as const) {
      const c = certOf(kind)
      const sig = p11('--token-label', label, '--login', '--pin', '12345678', '--sign', '--id', c.ckaId, '-m', mech,
        '--signature-format', 'openssl', '-i', input, '-o', `${kind}.sig`)
      expect(sig.ok, sig.out).toBe(true)
      expect(run('openssl', ['x509', '-in', c.certPem, '-pubkey', '-noout', '-out', `${kind}.pub`]).ok).toBe(true)
      const ok = run('openssl', ['dgst', '-sha256', '-verify', `${kind}.pub`, '-signature', `${kind}.sig`, 'data.bin'])
      expect(ok.out).toContain('Verified OK')
      const bad = run('openssl', ['dgst', '-sha256', '-verify', `${kind}.pub`, '-signature', `${kind}.sig`, 'digest.bin'])
      expect(bad.ok).toBe(false)
    }
  })

  it('issues certificates that chain to the right CA, as OpenSSL sees it', () => {
    for (const kind of ['doctor', 'nurse', 'revoked', 'noSnils', 'unregistered', 'employmentEnded', 'noPrivateKey'] as const) {
      const r = opensslVerify('-CAfile', m.caCertPem, certOf(kind).certPem)
      expect(r.ok, `${kind}: ${r.out}`).toBe(true)
    }
    const expired = opensslVerify('-CAfile', m.caCertPem, certOf('expired').certPem)
    expect(expired.out).toContain('certificate has expired')
    const notYet = opensslVerify('-CAfile', m.caCertPem, certOf('notYetValid').certPem)
    expect(notYet.out).toContain('certificate is not yet valid')
    // Only the dates are wrong: at a moment inside their periods both chain fine.
    for (const kind of ['expired', 'notYetValid'] as const) {
      const d = parseCertificate(new Uint8Array(x509.PemConverter.decode(readFileSync(certOf(kind).certPem, 'utf8'))[0]!))
      const inside = Math.floor((Date.parse(d.notBefore) + 86400e3) / 1000)
      expect(opensslVerify('-attime', String(inside), '-CAfile', m.caCertPem, certOf(kind).certPem).ok).toBe(true)
    }
    expect(opensslVerify('-CAfile', m.caCertPem, certOf('untrusted').certPem).ok).toBe(false)
    expect(opensslVerify('-CAfile', m.untrustedCaCertPem, certOf('untrusted').certPem).ok).toBe(true)
    expect(opensslVerify('-CAfile', m.caCertPem, '-purpose', 'sslserver', '-verify_ip', '127.0.0.1', m.portalTls.certPem).ok).toBe(true)
  })

  it('revokes exactly the revoked certificate in the CRL', () => {
    const crlPem = run('openssl', ['crl', '-in', m.crlDer, '-inform', 'DER']).stdout.toString()
    writeFileSync(join(dir, 'bundle.pem'), readFileSync(m.caCertPem, 'utf8') + crlPem)
    const revoked = opensslVerify('-crl_check', '-CAfile', 'bundle.pem', certOf('revoked').certPem)
    expect(revoked.ok).toBe(false)
    expect(revoked.out).toContain('certificate revoked')
    expect(opensslVerify('-crl_check', '-CAfile', 'bundle.pem', certOf('doctor').certPem).ok).toBe(true)
    expect(opensslVerify('-crl_check', '-CAfile', 'bundle.pem', certOf('nurse').certPem).ok).toBe(true)
  })

  it('writes subjects with valid СНИЛС and a register where only the intended check fails', () => {
    const bySnils = new Map(m.workers.map((w) => [w.snils, w]))
    for (const c of m.tokens.flatMap((t) => t.certificates)) {
      const d = parseCertificate(new Uint8Array(x509.PemConverter.decode(readFileSync(c.certPem, 'utf8'))[0]!))
      expect(d.subject.snils).toBe(c.snils)
      expect(d.subject.fullName).toBe(c.fullName)
      expect(d.keyAlgorithm).toBe(c.keyType)
      expect(d.issuer.commonName).toBe(c.kind === 'untrusted' ? 'Недоверенный УЦ' : 'Демо УЦ ЛКМР')
      if (c.kind === 'noSnils') {
        expect(c.snils).toBeNull()
        continue
      }
      expect(isValidSnils(c.snils!)).toBe(true)
      const w = bySnils.get(c.snils!)
      if (c.kind === 'unregistered') expect(w).toBeUndefined()
      else {
        expect(w?.fullName).toBe(c.fullName)
        expect(w?.employment).toBe(c.kind === 'employmentEnded' ? 'ended' : 'active')
      }
    }
    expect(certOf('doctor').keyType).toBe('RSA')
    expect(certOf('nurse').keyType).toBe('EC')
    expect(bySnils.get(certOf('doctor').snils!)?.roles).toEqual(['doctor'])
    expect(bySnils.get(certOf('nurse').snils!)?.roles).toEqual(['nurse'])
    expect(new Set(m.workers.map((w) => w.snils)).size).toBe(m.workers.length)
  })
})
