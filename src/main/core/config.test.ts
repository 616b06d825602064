import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config'

function withFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lkmr-config-'))
  const file = join(dir, 'config.json')
  writeFileSync(file, content)
  return file
}

describe('loadConfig', () => {
  it('reads the built-in defaults when no machine file exists', () => {
    const c = loadConfig({ env: { LKMR_CONFIG: '/nonexistent/config.json' } })
    expect(c.portalUrl).toBe('https://127.0.0.1:8443')
    expect(c.useDefaultLibraries).toBe(true)
    expect(c.tokenLibraries).toEqual([])
  })

  it('lets the machine file and then the environment override', () => {
    const file = withFile(JSON.stringify({ portalUrl: 'https://portal.clinic.local', tokenLibraries: ['/a.so'] }))
    expect(loadConfig({ env: { LKMR_CONFIG: file } }).portalUrl).toBe('https://portal.clinic.local')
    const c = loadConfig({ env: { LKMR_CONFIG: file, LKMR_TOKEN_LIBRARIES: '/x.so:/y.so', LKMR_DEFAULT_LIBRARIES: '0' } })
    expect(c.tokenLibraries).toEqual(['/x.so', '/y.so'])
    expect(c.useDefaultLibraries).toBe(false)
    expect(c.portalUrl).toBe('https://portal.clinic.local')
  })

  it('locks an idle session after 15 minutes by default; the machine file or LKMR_IDLE_TIMEOUT_MS change it, 0 turns it off', () => {
    expect(loadConfig({ env: { LKMR_CONFIG: '/nonexistent/config.json' } }).idleTimeoutMs).toBe(15 * 60_000)
    const file = withFile(JSON.stringify({ idleTimeoutMs: 0 }))
    expect(loadConfig({ env: { LKMR_CONFIG: file } }).idleTimeoutMs).toBe(0)
    expect(loadConfig({ env: { LKMR_CONFIG: file, LKMR_IDLE_TIMEOUT_MS: '300000' } }).idleTimeoutMs).toBe(300_000)
    expect(() => loadConfig({ env: { LKMR_CONFIG: withFile(JSON.stringify({ idleTimeoutMs: -1 })) } })).toThrow(/idleTimeoutMs/)
  })

  it('reports a broken file with its path and a Russian reason', () => {
    const file = withFile('{ not json')
    expect(() => loadConfig({ env: { LKMR_CONFIG: file } })).toThrow(ConfigError)
    expect(() => loadConfig({ env: { LKMR_CONFIG: file } })).toThrow(/Ошибка в файле настроек .*config\.json/)
  })

  it('rejects a portal address that is not http(s)', () => {
    const file = withFile(JSON.stringify({ portalUrl: 'ftp://portal' }))
    expect(() => loadConfig({ env: { LKMR_CONFIG: file } })).toThrow(/portalUrl/)
  })
})
