// Test support: a private copy of the demo SoftHSM tokens (created by the global setup, or here
// when it was skipped), with its own softhsm2.conf, so a test can log in with wrong PINs and
// "pull out" tokens (move a token folder away) without disturbing other test files.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addDemoToken, createDemo } from '../../../../../scripts/demo/create-demo'
import { MANIFEST_FILE, readDemoManifest, type DemoCert, type DemoCertKind, type DemoManifest, type DemoToken } from '../../../../../scripts/demo/manifest'

export interface TokenFixture {
  dir: string
  /** SOFTHSM2_CONF of the private copy. */
  conf: string
  tokensDir: string
  library: string
  manifest: DemoManifest
  token(label: string): DemoToken
  cert(kind: DemoCertKind): { token: DemoToken; cert: DemoCert }
  /** Moves a token's folder out of the token directory (SoftHSM's "removal"). */
  pull(label: string): void
  /** Moves it back. */
  insert(label: string): void
  /**
   * Adds a token `label` to this copy with a new key and certificate for the same person as the
   * demo certificate of `kind` (e.g. a doctor's second token). Loads the PKCS#11 library in this
   * process: call it before anything here initialises SoftHSM.
   */
  addToken(label: string, kind: DemoCertKind): Promise<DemoToken>
  cleanup(): void
}

function tokendirOf(conf: string): string {
  const m = /^\s*directories\.tokendir\s*=\s*(.+?)\s*$/m.exec(readFileSync(conf, 'utf8'))
  if (!m?.[1]) throw new Error(`no directories.tokendir in ${conf}`)
  return m[1]
}

/** SoftHSM keeps a token's serial in plain text inside its token.object. */
function folderOfSerial(tokensDir: string, serial: string): string | null {
  for (const d of readdirSync(tokensDir)) {
    const obj = join(tokensDir, d, 'token.object')
    if (existsSync(obj) && readFileSync(obj).includes(Buffer.from(serial, 'ascii'))) return d
  }
  return null
}

export async function createTokenFixture(): Promise<TokenFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'lkmr-token-test-'))
  const demoDir = process.env.DEMO_DIR
  const manifest =
    demoDir && existsSync(join(demoDir, MANIFEST_FILE)) ? readDemoManifest(demoDir) : await createDemo({ dir: join(dir, 'demo') })
  const tokensDir = join(dir, 'tokens')
  cpSync(tokendirOf(manifest.softhsmConf), tokensDir, { recursive: true })
  const parked = join(dir, 'parked')
  mkdirSync(parked)
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${tokensDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`)
  const folders = new Map<string, string>()

  const token = (label: string): DemoToken => {
    const t = manifest.tokens.find((x) => x.label === label)
    if (!t) throw new Error(`no demo token ${label}`)
    return t
  }
  const folder = (label: string): string => {
    let f = folders.get(label)
    if (!f) {
      f = folderOfSerial(tokensDir, token(label).serial) ?? undefined
      if (!f) throw new Error(`token folder of ${label} not found in ${tokensDir}`)
      folders.set(label, f)
    }
    return f
  }
  return {
    dir,
    conf,
    tokensDir,
    library: manifest.library,
    manifest,
    token,
    cert(kind) {
      for (const t of manifest.tokens) {
        const c = t.certificates.find((x) => x.kind === kind)
        if (c) return { token: t, cert: c }
      }
      throw new Error(`no demo certificate of kind ${kind}`)
    },
    pull(label) {
      const f = folder(label)
      renameSync(join(tokensDir, f), join(parked, f))
    },
    insert(label) {
      const f = folder(label)
      renameSync(join(parked, f), join(tokensDir, f))
    },
    addToken(label, kind) {
      return addDemoToken(manifest, { softhsmConf: conf, label, kind })
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
