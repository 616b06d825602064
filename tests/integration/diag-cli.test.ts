// The diagnostics command as IT staff run it: a real process against the demo SoftHSM tokens
// and the reference portal over TLS.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startPortal, type StartedPortal } from '../../portal/src/server'
import { readDemoManifest, type DemoManifest } from '../../scripts/demo/manifest'

const ROOT = resolve(import.meta.dirname, '../..')
let manifest: DemoManifest
let portal: StartedPortal
let work: string

beforeAll(async () => {
  manifest = readDemoManifest(inject('demoDir'))
  portal = await startPortal({ demo: manifest, port: 0 })
  work = mkdtempSync(join(tmpdir(), 'lkmr-diag-'))
})
afterAll(async () => {
  await portal?.close()
})

/** Runs the CLI asynchronously: the portal it talks to lives in this test process. */
function diag(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main/cli/diag.ts'), ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      LKMR_CONFIG: join(work, 'no-config.json'),
      SOFTHSM2_CONF: manifest.softhsmConf,
      LKMR_TOKEN_LIBRARIES: manifest.library,
      LKMR_DEFAULT_LIBRARIES: '0',
      LKMR_PORTAL_URL: portal.url,
      LKMR_PORTAL_CA: manifest.caCertPem,
      ...options.env,
    },
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
  child.stdin.end(options.stdin ?? '')
  return new Promise((resolveRun) => child.on('close', (code) => resolveRun({ code: code ?? -1, out, err })))
}

describe('npm run diag', async () => {
  it('lists the libraries tried, the tokens and the certificates with owner and СНИЛС', async () => {
    const r = await diag(['list', '--'])
    expect(r.code).toBe(0)
    expect(r.out).toContain('SoftHSM2')
    for (const label of ['demo-doctor', 'demo-nurse', 'demo-problems', 'demo-empty']) expect(r.out).toContain(label)
    expect(r.out).toContain('Иванов Иван Иванович')
    expect(r.out).toMatch(/СНИЛС \d{3}-\d{3}-\d{3} \d{2}/)
    expect(r.out).toContain('НЕТ закрытого ключа')
    expect(r.out).toContain('истёк')
  })

  it('says why a configured library is missing', async () => {
    const r = await diag(['list'], { env: { LKMR_TOKEN_LIBRARIES: '/opt/nowhere/librtpkcs11ecp.so' } })
    expect(r.code).toBe(1)
    expect(r.out).toContain('Не найден драйвер токена')
    expect(r.out).toContain('/opt/nowhere/librtpkcs11ecp.so')
    expect(r.out).toContain('Токены: не найдены')
  })

  it('checks a PIN without echoing it and reports the tries left on a wrong one', async () => {
    const wrong = await diag(['pin', '--cert', 'Соколова'], { stdin: '9999\n' })
    expect(wrong.code).toBe(2)
    expect(wrong.err).toContain('Неверный PIN-код')
    expect(wrong.err).toMatch(/попыт/)
    expect(wrong.out + wrong.err).not.toContain('9999')
    const right = await diag(['pin', '--cert', 'Соколова'], { stdin: '12345678\n' })
    expect(right.code).toBe(0)
    expect(right.out).toContain('PIN-код верный')
    expect(right.out).not.toContain('12345678')
  })

  it('signs a file into a detached .p7s that it and OpenSSL verify, and rejects a changed file', async () => {
    const file = join(work, 'направление.txt')
    writeFileSync(file, 'Направление на консультацию к кардиологу\n')
    const signed = await diag(['sign', file, '--cert', 'Иванов'], { stdin: '12345678\n' })
    expect(signed.code, signed.err).toBe(0)
    const verified = await diag(['verify', `${file}.p7s`, file, '--ca', manifest.caCertPem])
    expect(verified.code, verified.err).toBe(0)
    expect(verified.out).toContain('Подпись верна')
    expect(verified.out).toContain('Иванов Иван Иванович')
    expect(verified.out).toContain('Цепочка сертификатов до указанного УЦ: верна')
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', `${file}.p7s`, '-content', file, '-CAfile', manifest.caCertPem, '-purpose', 'any', '-out', '/dev/null'], { stdio: 'pipe' })
    writeFileSync(file, 'Направление на консультацию к хирургу\n')
    const tampered = await diag(['verify', `${file}.p7s`, file])
    expect(tampered.code).toBe(2)
    expect(tampered.err).toContain('Подпись не прошла проверку')
    const otherCa = await diag(['verify', `${file}.p7s`, file, '--ca', manifest.untrustedCaCertPem])
    expect(otherCa.code).toBe(2)
  })

  it('refuses to sign with a certificate that has no private key', async () => {
    const file = join(work, 'x.txt')
    writeFileSync(file, 'x')
    const r = await diag(['sign', file, '--cert', 'Фёдорова'], { stdin: '12345678\n' })
    expect(r.code).toBe(2)
    expect(r.err).toContain('Нет закрытого ключа')
  })

  it('checks that the portal answers and that its TLS certificate is trusted', async () => {
    const ok = await diag(['portal'])
    expect(ok.code).toBe(0)
    expect(ok.out).toContain('Сертификат портала доверенный')
    expect(ok.out).toContain('отвечает')
    const untrusted = await diag(['portal'], { env: { LKMR_PORTAL_CA: '' } })
    expect(untrusted.code).toBe(1)
    expect(untrusted.out).toContain('НЕ доверенный')
    const down = await diag(['portal'], { env: { LKMR_PORTAL_URL: 'https://127.0.0.1:1' } })
    expect(down.code).toBe(2)
    expect(down.err).toContain('Портал недоступен')
  })
})
