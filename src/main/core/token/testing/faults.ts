// Test support: the fault-injecting PKCS#11 module (native/pkcs11-faults, built by
// native/build.sh) in front of a private token copy, with a configuration file the test
// rewrites while the module is loaded (atomically: write, then rename).
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { TokenFixture } from './token-fixture'

const ROOT = resolve(import.meta.dirname, '../../../../..')
const SOURCES = join(ROOT, 'native', 'pkcs11-faults')
const BUILD_SCRIPT = join(ROOT, 'native', 'build.sh')
export const FAULTS_LIBRARY = join(ROOT, 'native', 'build', 'libpkcs11-faults.so')

/** Builds the module when it is missing or older than any of its sources; returns its path. */
export function buildFaultsLibrary(): string {
  const sources = [BUILD_SCRIPT, ...readdirSync(SOURCES).filter((f) => /\.[ch]$/.test(f)).map((f) => join(SOURCES, f))]
  const built = existsSync(FAULTS_LIBRARY) ? statSync(FAULTS_LIBRARY).mtimeMs : 0
  if (sources.some((f) => statSync(f).mtimeMs > built)) execFileSync('bash', [BUILD_SCRIPT], { stdio: 'pipe' })
  return FAULTS_LIBRARY
}

/** One `[token LABEL]` section: pin_retries, present, slot, latency.C_X, fail.C_X(.count|.after). */
export type FaultSection = Record<string, string | number | boolean>

export interface FaultsConfig {
  /** LKMR_FAULTS_CONF. */
  path: string
  /** The PIN counters' state file. */
  statePath: string
  library: string
  /** Rewrites the whole file: one section per token label (the same call replaces earlier ones). */
  set(tokens: Record<string, FaultSection>, global?: FaultSection): void
  /** The environment a process loading the module needs (SoftHSM's config and this file). */
  env(): Record<string, string>
}

/** Writes an empty configuration (pure forwarding) next to the fixture and sets LKMR_FAULTS_CONF. */
export function createFaultsConfig(fx: TokenFixture): FaultsConfig {
  const library = buildFaultsLibrary()
  const path = join(fx.dir, 'faults.conf')
  const statePath = join(fx.dir, 'faults.state')
  const config: FaultsConfig = {
    path,
    statePath,
    library,
    set(tokens, global = {}) {
      const lines = [`module = ${fx.library}`, `state = ${statePath}`]
      for (const [k, v] of Object.entries(global)) lines.push(`${k} = ${v}`)
      for (const [label, section] of Object.entries(tokens)) {
        lines.push(`[token ${label}]`)
        for (const [k, v] of Object.entries(section)) lines.push(`${k} = ${v}`)
      }
      writeFileSync(`${path}.tmp`, lines.join('\n') + '\n')
      renameSync(`${path}.tmp`, path)
    },
    env() {
      return { SOFTHSM2_CONF: fx.conf, LKMR_FAULTS_CONF: path }
    },
  }
  config.set({})
  process.env.LKMR_FAULTS_CONF = path
  return config
}

/**
 * What an administrator does to unblock a locked user PIN, from another process with the
 * ordinary tool: log in as SO and set a new user PIN (C_InitPIN), through the same module.
 */
export function unblockPin(faults: FaultsConfig, label: string, soPin: string, newUserPin: string): void {
  execFileSync(
    'pkcs11-tool',
    ['--module', faults.library, '--token-label', label, '--login', '--login-type', 'so', '--so-pin', soPin, '--init-pin', '--new-pin', newUserPin],
    { env: { ...process.env, ...faults.env() }, stdio: 'pipe' },
  )
}
