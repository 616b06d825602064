import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { buildCsp, devServerOrigin, isTrustedSender, windowPreferences, type RendererSource, defaultsFilePath } from './policy'

const INDEX = '/opt/АРМ медицинского работника/resources/app.asar/out/renderer/index.html'
const fileSource: RendererSource = { kind: 'file', indexPath: INDEX }
const devSource: RendererSource = { kind: 'dev', origin: 'http://localhost:5173' }

describe('isTrustedSender', () => {
  const ours = pathToFileURL(INDEX).href

  it('accepts the top frame of our own index.html (Cyrillic and spaces in the path)', () => {
    expect(ours).toContain('%D0%90') // Chromium-style percent-encoding of «А»
    expect(isTrustedSender(ours, true, fileSource)).toBe(true)
    expect(isTrustedSender(`${ours}#k=1`, true, fileSource)).toBe(true)
    expect(isTrustedSender(`${ours}?x=1`, true, fileSource)).toBe(true)
  })

  it('refuses subframes, even of our own page', () => {
    expect(isTrustedSender(ours, false, fileSource)).toBe(false)
  })

  it('refuses other files, other schemes, hosts and garbage', () => {
    expect(isTrustedSender('file:///tmp/evil.html', true, fileSource)).toBe(false)
    expect(isTrustedSender(ours.replace('index.html', 'other.html'), true, fileSource)).toBe(false)
    expect(isTrustedSender(ours.replace('file:///', 'file://server/'), true, fileSource)).toBe(false)
    expect(isTrustedSender('https://example.org/index.html', true, fileSource)).toBe(false)
    expect(isTrustedSender('http://localhost:5173/', true, fileSource)).toBe(false)
    expect(isTrustedSender('about:blank', true, fileSource)).toBe(false)
    expect(isTrustedSender('', true, fileSource)).toBe(false)
    expect(isTrustedSender(null, true, fileSource)).toBe(false)
    expect(isTrustedSender('not a url', true, fileSource)).toBe(false)
    expect(isTrustedSender('file:///%E0%A4%A', true, fileSource)).toBe(false)
  })

  it('compares paths case-insensitively on Windows only', () => {
    const upper = ours.replace('/out/renderer/', '/OUT/renderer/')
    expect(isTrustedSender(upper, true, fileSource, 'linux')).toBe(false)
    expect(isTrustedSender(upper, true, fileSource, 'win32')).toBe(true)
  })

  it('in development accepts exactly the dev server origin', () => {
    expect(isTrustedSender('http://localhost:5173/', true, devSource)).toBe(true)
    expect(isTrustedSender('http://localhost:5173/src/x', true, devSource)).toBe(true)
    expect(isTrustedSender('http://localhost:5174/', true, devSource)).toBe(false)
    expect(isTrustedSender('http://localhost.evil.org:5173/', true, devSource)).toBe(false)
    expect(isTrustedSender('https://localhost:5173/', true, devSource)).toBe(false)
    expect(isTrustedSender(pathToFileURL(INDEX).href, true, devSource)).toBe(false)
    expect(isTrustedSender('http://localhost:5173/', false, devSource)).toBe(false)
  })
})

describe('devServerOrigin', () => {
  it('takes loopback http(s) URLs only', () => {
    expect(devServerOrigin('http://localhost:5173/')).toBe('http://localhost:5173')
    expect(devServerOrigin('http://127.0.0.1:5173')).toBe('http://127.0.0.1:5173')
    expect(devServerOrigin('http://example.org:5173')).toBeNull()
    expect(devServerOrigin('file:///x')).toBeNull()
    expect(devServerOrigin(undefined)).toBeNull()
    expect(devServerOrigin('::')).toBeNull()
  })
})

describe('windowPreferences', () => {
  it('isolates and sandboxes the renderer', () => {
    const p = windowPreferences('/app/out/preload/index.cjs', false)
    expect(p).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      devTools: false,
    })
  })
})

describe('buildCsp', () => {
  const directives = (csp: string) => new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]))

  it('allows only our own scripts, no eval, no inline script, no frames', () => {
    const d = directives(buildCsp())
    expect(d.get('default-src')).toEqual(["'none'"])
    expect(d.get('script-src')).toEqual(["'self'"])
    expect(d.get('object-src')).toEqual(["'none'"])
    expect(d.get('base-uri')).toEqual(["'none'"])
    expect(d.get('frame-ancestors')).toEqual(["'none'"])
    expect(buildCsp()).not.toContain('unsafe-eval')
  })

  it('adds the Node host socket to connect-src', () => {
    expect(directives(buildCsp({ connect: ['ws://127.0.0.1:4321'] })).get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:4321'])
  })

  it('leaves frame-ancestors out of the <meta> variant, and relaxes scripts only for the dev server', () => {
    expect(buildCsp({ meta: true })).not.toContain('frame-ancestors')
    expect(directives(buildCsp({ dev: true })).get('script-src')).toContain("'unsafe-inline'")
  })

  it('is the policy written in src/renderer/index.html', () => {
    const html = readFileSync(resolve(import.meta.dirname, '../../renderer/index.html'), 'utf8')
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1]
    expect(meta).toBe(buildCsp({ meta: true }))
  })
})

describe('defaultsFilePath', () => {
  it('reads the shipped defaults from the installed resources folder when packaged', () => {
    expect(defaultsFilePath({ isPackaged: true, resourcesPath: '/opt/lkmr/resources', appPath: '/opt/lkmr/resources/app.asar' }))
      .toBe('/opt/lkmr/resources/resources/config/default.json')
    expect(defaultsFilePath({ isPackaged: true, resourcesPath: 'C:\\Program Files\\LKMR\\resources', appPath: 'x' }))
      .toBe('C:\\Program Files\\LKMR\\resources\\resources\\config\\default.json')
  })
  it('reads them from the project folder when run unpackaged', () => {
    expect(defaultsFilePath({ isPackaged: false, resourcesPath: '/usr/lib/electron/resources', appPath: '/work/app/' }))
      .toBe('/work/app/resources/config/default.json')
  })
})
