// Which PKCS#11 libraries to try: admin-configured paths first, then the per-OS defaults for the
// tokens Russian clinics use. Also reads a library's binary header to tell a wrong architecture
// (32-bit driver on a 64-bit system, another CPU or OS) from a file that is not a library at all.
import { closeSync, existsSync, openSync, readSync, realpathSync } from 'node:fs'
import { basename, win32 } from 'node:path'

export type LibrarySource = 'configured' | 'default'

export interface LibraryEntry {
  /** Vendor name shown to IT staff. */
  name: string
  path: string
  source: LibrarySource
}

type Os = 'linux' | 'win32' | 'darwin'

interface Vendor {
  name: string
  /** Recognises the vendor from a library file name (configured paths get a proper name). */
  match: RegExp
  paths: Record<Os, (ctx: PathContext) => string[]>
}

interface PathContext {
  env: Record<string, string | undefined>
  arch: string
}

function linuxMultiarch(arch: string): string {
  return arch === 'arm64' ? 'aarch64-linux-gnu' : arch === 'ia32' ? 'i386-linux-gnu' : 'x86_64-linux-gnu'
}

/** /usr/lib, /usr/local/lib, the Debian multiarch dir and lib64 (RPM-based: ALT, RED OS, Astra). */
function linuxDirs(file: string, arch: string): string[] {
  return ['/usr/lib', '/usr/local/lib', `/usr/lib/${linuxMultiarch(arch)}`, '/usr/lib64'].map((d) => `${d}/${file}`)
}

function winDirs(ctx: PathContext, file: string, ...extra: string[]): string[] {
  const system32 = win32.join(ctx.env.SystemRoot ?? ctx.env.SYSTEMROOT ?? 'C:\\Windows', 'System32')
  return [win32.join(system32, file), ...extra]
}

function programFiles(ctx: PathContext, ...parts: string[]): string {
  return win32.join(ctx.env.ProgramFiles ?? ctx.env.PROGRAMFILES ?? 'C:\\Program Files', ...parts)
}

// Paths: shared/domain.md (Rutoken, JaCarta, SafeNet, ESMART, CryptoPro, OpenSC, SoftHSM2) and the
// vendors' installers' usual locations. A missing default costs nothing: it is listed as «missing».
const VENDORS: readonly Vendor[] = [
  {
    name: 'Рутокен ЭЦП',
    match: /rtpkcs11ecp/i,
    paths: {
      linux: (c) => [...linuxDirs('librtpkcs11ecp.so', c.arch), '/opt/aktivco/rutokenecp/x86_64/librtpkcs11ecp.so'],
      win32: (c) => winDirs(c, 'rtPKCS11ECP.dll'),
      darwin: () => ['/Library/Frameworks/rtPKCS11ECP.framework/rtPKCS11ECP', '/usr/local/lib/librtpkcs11ecp.dylib'],
    },
  },
  {
    name: 'JaCarta',
    match: /jcpkcs11/i,
    paths: {
      linux: (c) => linuxDirs('libjcPKCS11-2.so', c.arch),
      win32: (c) => winDirs(c, 'jcPKCS11-2.dll'),
      darwin: () => ['/Library/Frameworks/jcPKCS11.framework/jcPKCS11', '/usr/local/lib/libjcPKCS11-2.dylib'],
    },
  },
  {
    name: 'SafeNet eToken',
    match: /etpkcs11/i,
    paths: {
      linux: (c) => linuxDirs('libeTPkcs11.so', c.arch),
      win32: (c) => winDirs(c, 'eTPKCS11.dll'),
      darwin: () => ['/usr/local/lib/libeTPkcs11.dylib'],
    },
  },
  {
    name: 'ESMART',
    match: /isbc_pkcs11/i,
    paths: {
      linux: (c) => linuxDirs('libisbc_pkcs11_main.so', c.arch),
      win32: (c) => winDirs(c, 'isbc_pkcs11_main.dll'),
      darwin: () => ['/usr/local/lib/libisbc_pkcs11_main.dylib'],
    },
  },
  {
    name: 'OpenSC',
    match: /opensc-pkcs11/i,
    paths: {
      linux: (c) => [`/usr/lib/${linuxMultiarch(c.arch)}/opensc-pkcs11.so`, `/usr/lib/${linuxMultiarch(c.arch)}/pkcs11/opensc-pkcs11.so`, '/usr/lib64/opensc-pkcs11.so', '/usr/lib/opensc-pkcs11.so'],
      win32: (c) => winDirs(c, 'opensc-pkcs11.dll', programFiles(c, 'OpenSC Project', 'OpenSC', 'pkcs11', 'opensc-pkcs11.dll')),
      darwin: () => ['/Library/OpenSC/lib/opensc-pkcs11.so'],
    },
  },
  {
    name: 'КриптоПро PKCS#11',
    match: /cppkcs11/i,
    paths: {
      linux: (c) => [c.arch === 'arm64' ? '/opt/cprocsp/lib/aarch64/libcppkcs11.so' : '/opt/cprocsp/lib/amd64/libcppkcs11.so'],
      win32: (c) => [programFiles(c, 'Crypto Pro', 'CSP', 'cppkcs11.dll')],
      darwin: () => ['/opt/cprocsp/lib/libcppkcs11.dylib'],
    },
  },
  {
    name: 'SoftHSM2',
    match: /softhsm/i,
    paths: {
      linux: (c) => ['/usr/lib/softhsm/libsofthsm2.so', `/usr/lib/${linuxMultiarch(c.arch)}/softhsm/libsofthsm2.so`, '/usr/local/lib/softhsm/libsofthsm2.so', '/usr/lib64/softhsm/libsofthsm2.so'],
      win32: () => ['C:\\SoftHSM2\\lib\\softhsm2-x64.dll'],
      darwin: () => ['/opt/homebrew/lib/softhsm/libsofthsm2.so', '/usr/local/lib/softhsm/libsofthsm2.so'],
    },
  },
]

function asOs(platform: string): Os {
  return platform === 'win32' || platform === 'darwin' ? platform : 'linux'
}

function vendorOf(path: string): Vendor | undefined {
  const file = basename(path.replace(/\\/g, '/'))
  return VENDORS.find((v) => v.match.test(file))
}

/** Vendor name for a library path: «Рутокен ЭЦП» for …/librtpkcs11ecp.so, else the file name. */
export function libraryNameForPath(path: string): string {
  return vendorOf(path)?.name ?? basename(path.replace(/\\/g, '/'))
}

export interface DefaultLibrariesOptions {
  platform?: string
  arch?: string
  env?: Record<string, string | undefined>
}

/** The built-in list for an OS, in order of preference; nothing is checked on disk. */
export function defaultLibraries(options: DefaultLibrariesOptions = {}): LibraryEntry[] {
  const os = asOs(options.platform ?? process.platform)
  const ctx: PathContext = { env: options.env ?? process.env, arch: options.arch ?? process.arch }
  return VENDORS.flatMap((v) => v.paths[os](ctx).map((path) => ({ name: v.name, path, source: 'default' as const })))
}

export interface ResolveLibrariesOptions extends DefaultLibrariesOptions {
  /** Admin-set paths (or entries with a display name); tried first and reported even when missing. */
  configured?: readonly (string | { name?: string; path: string })[]
  /** Append the built-in per-OS list (default true). */
  useDefaults?: boolean
  /**
   * Only the defaults whose file exists (default true): a clinic PC has one or two drivers, and IT
   * staff want to see those, not thirty absent paths. Configured paths are always kept.
   */
  onlyExistingDefaults?: boolean
  /** For tests; defaults to node:fs. */
  exists?: (path: string) => boolean
  realpath?: (path: string) => string
}

function defaultRealpath(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/**
 * Configured entries first, then the defaults, deduplicated by the real file (a symlink and its
 * target are one library, and one library must have one owner in the process: two dlopen()s of
 * the same file share its state). On Windows paths compare case-insensitively.
 */
export function resolveLibraries(options: ResolveLibrariesOptions = {}): LibraryEntry[] {
  const exists = options.exists ?? existsSync
  const realpath = options.realpath ?? defaultRealpath
  const caseInsensitive = asOs(options.platform ?? process.platform) !== 'linux'
  const configured: LibraryEntry[] = (options.configured ?? [])
    .map((c) => (typeof c === 'string' ? { path: c } : c))
    .filter((c) => c.path.trim() !== '')
    .map((c) => ({ name: c.name?.trim() || libraryNameForPath(c.path), path: c.path.trim(), source: 'configured' as const }))
  // An admin path for a known vendor overrides that vendor's defaults (two builds of one driver in
  // one process would show each token twice and fight over the reader).
  const overridden = new Set(configured.map((c) => vendorOf(c.path)).filter((v): v is Vendor => v !== undefined))
  const defaults = options.useDefaults === false ? [] : defaultLibraries(options).filter((d) => !overridden.has(vendorOf(d.path)!))
  const onlyExisting = options.onlyExistingDefaults ?? true

  const seen = new Set<string>()
  const out: LibraryEntry[] = []
  for (const entry of [...configured, ...defaults]) {
    const present = exists(entry.path)
    if (entry.source === 'default' && onlyExisting && !present) continue
    let key = present ? realpath(entry.path) : entry.path
    if (caseInsensitive) key = key.toLowerCase()
    if (seen.has(key)) continue
    seen.add(key)
    out.push(entry)
  }
  return out
}

// --- binary header ----------------------------------------------------------------------------

export interface BinaryInfo {
  format: 'elf' | 'pe' | 'macho' | 'unknown'
  /** 32 or 64 where the header says so. */
  bits: 32 | 64 | null
  /** Node-style arch name of the machine the file is built for ('x64', 'ia32', 'arm64', 'arm', …). */
  arch: string | null
}

const ELF_MACHINES: Readonly<Record<number, string>> = { 0x03: 'ia32', 0x28: 'arm', 0x3e: 'x64', 0xb7: 'arm64', 0xf3: 'riscv64', 0x08: 'mips', 0x15: 'ppc64', 0x16: 's390x', 0x102: 'loong64' }
const PE_MACHINES: Readonly<Record<number, string>> = { 0x14c: 'ia32', 0x8664: 'x64', 0xaa64: 'arm64', 0x1c4: 'arm' }
const MACHO_CPUS: Readonly<Record<number, string>> = { 7: 'ia32', 0x01000007: 'x64', 12: 'arm', 0x0100000c: 'arm64' }

function readHead(path: string, length: number, position = 0): Buffer {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(length)
    const n = readSync(fd, buf, 0, length, position)
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}

/** Reads the ELF / PE / Mach-O header of a file. Never throws for a readable file. */
export function inspectBinary(path: string): BinaryInfo {
  const head = readHead(path, 64)
  if (head.length >= 20 && head.readUInt32BE(0) === 0x7f454c46) {
    const bits = head[4] === 1 ? 32 : head[4] === 2 ? 64 : null
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18)
    return { format: 'elf', bits, arch: ELF_MACHINES[machine] ?? `elf-machine-0x${machine.toString(16)}` }
  }
  if (head.length >= 0x40 && head[0] === 0x4d && head[1] === 0x5a) {
    const peOffset = head.readUInt32LE(0x3c)
    const pe = readHead(path, 6, peOffset)
    if (pe.length === 6 && pe.readUInt32BE(0) === 0x50450000) {
      const machine = pe.readUInt16LE(4)
      const arch = PE_MACHINES[machine] ?? `pe-machine-0x${machine.toString(16)}`
      return { format: 'pe', bits: arch === 'x64' || arch === 'arm64' ? 64 : 32, arch }
    }
    return { format: 'unknown', bits: null, arch: null }
  }
  if (head.length >= 8) {
    const magicLE = head.readUInt32LE(0)
    if (magicLE === 0xfeedface || magicLE === 0xfeedfacf) {
      const cpu = head.readUInt32LE(4)
      return { format: 'macho', bits: magicLE === 0xfeedfacf ? 64 : 32, arch: MACHO_CPUS[cpu] ?? `macho-cpu-0x${cpu.toString(16)}` }
    }
    if (head.readUInt32BE(0) === 0xcafebabe) return { format: 'macho', bits: null, arch: 'universal' }
  }
  return { format: 'unknown', bits: null, arch: null }
}

const ARCH_BITS: Readonly<Record<string, 32 | 64>> = { x64: 64, arm64: 64, ppc64: 64, s390x: 64, riscv64: 64, loong64: 64, ia32: 32, arm: 32 }

const NATIVE_FORMAT: Record<Os, BinaryInfo['format']> = { linux: 'elf', win32: 'pe', darwin: 'macho' }

/**
 * Why a library cannot run in this process, judged from its header: null when it looks right or
 * the header is not one we know (then dlopen decides and its message is mapped).
 */
export function architectureMismatch(info: BinaryInfo, platform: string = process.platform, arch: string = process.arch): string | null {
  if (info.format === 'unknown') return null
  const expected = NATIVE_FORMAT[asOs(platform)]
  if (info.format !== expected) return `${info.format.toUpperCase()} binary on ${platform}`
  if (info.arch === 'universal') return null
  const processBits = ARCH_BITS[arch]
  if (info.arch !== arch || (info.bits !== null && processBits !== undefined && info.bits !== processBits)) {
    return `built for ${info.arch ?? '?'}${info.bits ? ` (${info.bits}-bit)` : ''}, this process is ${arch}${processBits ? ` (${processBits}-bit)` : ''}`
  }
  return null
}
