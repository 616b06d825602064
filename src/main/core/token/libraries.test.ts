// The library list (per-OS defaults, admin paths, dedupe) and the binary header check.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { architectureMismatch, defaultLibraries, inspectBinary, libraryNameForPath, resolveLibraries } from './libraries'

const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so'
let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lkmr-libs-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('default libraries', () => {
  it('covers the tokens used in Russian clinics on Linux, Windows and macOS', () => {
    const vendors = ['Рутокен ЭЦП', 'JaCarta', 'SafeNet eToken', 'ESMART', 'OpenSC', 'КриптоПро PKCS#11', 'SoftHSM2']
    for (const platform of ['linux', 'win32', 'darwin']) {
      const list = defaultLibraries({ platform, arch: 'x64', env: {} })
      expect([...new Set(list.map((l) => l.name))]).toEqual(vendors)
      expect(list.every((l) => l.source === 'default')).toBe(true)
    }
    const linux = defaultLibraries({ platform: 'linux', arch: 'x64', env: {} }).map((l) => l.path)
    for (const p of ['/usr/lib/librtpkcs11ecp.so', '/usr/local/lib/librtpkcs11ecp.so', '/usr/lib/libjcPKCS11-2.so', '/usr/lib/libeTPkcs11.so', '/opt/cprocsp/lib/amd64/libcppkcs11.so', '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', SOFTHSM]) {
      expect(linux).toContain(p)
    }
    const win = defaultLibraries({ platform: 'win32', arch: 'x64', env: { SystemRoot: 'D:\\Win' } }).map((l) => l.path)
    for (const p of ['D:\\Win\\System32\\rtPKCS11ECP.dll', 'D:\\Win\\System32\\jcPKCS11-2.dll', 'D:\\Win\\System32\\eTPKCS11.dll', 'D:\\Win\\System32\\isbc_pkcs11_main.dll', 'D:\\Win\\System32\\opensc-pkcs11.dll']) {
      expect(win).toContain(p)
    }
    expect(defaultLibraries({ platform: 'linux', arch: 'arm64', env: {} }).map((l) => l.path)).toContain('/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so')
  })

  it('names a library by its file', () => {
    expect(libraryNameForPath('/opt/x/librtpkcs11ecp.so')).toBe('Рутокен ЭЦП')
    expect(libraryNameForPath('C:\\Windows\\System32\\jcPKCS11-2.dll')).toBe('JaCarta')
    expect(libraryNameForPath('/opt/vendor/libfoo-pkcs11.so')).toBe('libfoo-pkcs11.so')
  })
})

describe('resolveLibraries', () => {
  it('puts admin paths first (even missing ones), keeps only installed defaults, and drops a symlinked duplicate', () => {
    const list = resolveLibraries({ configured: [join(dir, 'nowhere.so'), ''], platform: 'linux', arch: 'x64', env: {} })
    expect(list[0]).toEqual({ name: 'nowhere.so', path: join(dir, 'nowhere.so'), source: 'configured' })
    // /usr/lib/softhsm/libsofthsm2.so links to the multiarch file: one library, listed once.
    const softhsm = list.filter((l) => l.name === 'SoftHSM2')
    expect(softhsm).toEqual([{ name: 'SoftHSM2', path: SOFTHSM, source: 'default' }])
    expect(list.some((l) => l.path.includes('rtpkcs11ecp'))).toBe(false)
    const everything = resolveLibraries({ platform: 'linux', arch: 'x64', env: {}, onlyExistingDefaults: false })
    expect(everything.some((l) => l.path === '/usr/lib/librtpkcs11ecp.so')).toBe(true)
  })

  it('an admin path for a known vendor replaces that vendor\'s defaults; a duplicate via symlink is dropped', () => {
    const link = join(dir, 'libsofthsm2.so')
    symlinkSync(SOFTHSM, link)
    const list = resolveLibraries({ configured: [{ path: link }, { name: 'Мой SoftHSM', path: SOFTHSM }], platform: 'linux', arch: 'x64', env: {} })
    expect(list.filter((l) => /softhsm/i.test(l.path))).toEqual([{ name: 'SoftHSM2', path: link, source: 'configured' }])
    const rutoken = resolveLibraries({ configured: ['/opt/aktiv/librtpkcs11ecp.so'], platform: 'linux', arch: 'x64', env: {}, onlyExistingDefaults: false })
    expect(rutoken.filter((l) => l.name === 'Рутокен ЭЦП')).toEqual([{ name: 'Рутокен ЭЦП', path: '/opt/aktiv/librtpkcs11ecp.so', source: 'configured' }])
  })

  it('compares Windows paths without case', () => {
    const list = resolveLibraries({
      configured: ['C:\\Windows\\System32\\RTPKCS11ECP.DLL'],
      platform: 'win32',
      env: { SystemRoot: 'C:\\Windows' },
      onlyExistingDefaults: false,
      exists: () => false,
    })
    expect(list.filter((l) => /rtpkcs11ecp/i.test(l.path))).toHaveLength(1)
    const same = resolveLibraries({ configured: ['C:\\x\\a.dll', 'c:\\X\\A.DLL'], platform: 'win32', useDefaults: false, exists: () => false })
    expect(same).toHaveLength(1)
  })

  it('can leave out the defaults', () => {
    expect(resolveLibraries({ configured: [SOFTHSM], useDefaults: false })).toEqual([{ name: 'SoftHSM2', path: SOFTHSM, source: 'configured' }])
  })
})

describe('binary header', () => {
  it('reads a real 64-bit ELF library as matching this process', () => {
    const info = inspectBinary(SOFTHSM)
    expect(info).toEqual({ format: 'elf', bits: 64, arch: process.arch })
    expect(architectureMismatch(info)).toBeNull()
  })

  it('flags an ELF whose class is 32-bit', () => {
    const f = join(dir, 'lib32.so')
    const elf = readFileSync(SOFTHSM)
    elf[4] = 1 // EI_CLASS = ELFCLASS32
    writeFileSync(f, elf)
    const info = inspectBinary(f)
    expect(info.bits).toBe(32)
    expect(architectureMismatch(info, 'linux', 'x64')).toMatch(/32-bit/)
  })

  it('flags another CPU, a Windows DLL on Linux and a Linux library on Windows', () => {
    const arm = readFileSync(SOFTHSM)
    arm.writeUInt16LE(0xb7, 18) // EM_AARCH64
    const fArm = join(dir, 'libarm.so')
    writeFileSync(fArm, arm)
    expect(inspectBinary(fArm)).toEqual({ format: 'elf', bits: 64, arch: 'arm64' })
    expect(architectureMismatch(inspectBinary(fArm), 'linux', 'x64')).toMatch(/arm64/)

    // A minimal PE header: "MZ", e_lfanew at 0x3c → "PE\0\0" + Machine (IMAGE_FILE_MACHINE_I386).
    const pe = Buffer.alloc(0x100)
    pe.write('MZ', 0, 'latin1')
    pe.writeUInt32LE(0x80, 0x3c)
    pe.write('PE\0\0', 0x80, 'latin1')
    pe.writeUInt16LE(0x14c, 0x84)
    const fPe = join(dir, 'rtPKCS11ECP.dll')
    writeFileSync(fPe, pe)
    expect(inspectBinary(fPe)).toEqual({ format: 'pe', bits: 32, arch: 'ia32' })
    expect(architectureMismatch(inspectBinary(fPe), 'linux', 'x64')).toMatch(/PE binary on linux/)
    expect(architectureMismatch(inspectBinary(fPe), 'win32', 'x64')).toMatch(/ia32/)
    pe.writeUInt16LE(0x8664, 0x84)
    writeFileSync(fPe, pe)
    expect(architectureMismatch(inspectBinary(fPe), 'win32', 'x64')).toBeNull()
    expect(architectureMismatch(inspectBinary(SOFTHSM), 'win32', 'x64')).toMatch(/ELF binary on win32/)
  })

  it('leaves files it does not recognise to dlopen', () => {
    const f = join(dir, 'text.so')
    writeFileSync(f, 'not a library')
    expect(inspectBinary(f)).toEqual({ format: 'unknown', bits: null, arch: null })
    expect(architectureMismatch(inspectBinary(f))).toBeNull()
  })
})
