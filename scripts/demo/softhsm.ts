// SoftHSM2 set-up for the demo: a private config whose token folder lives in the demo folder,
// and token initialisation with softhsm2-util (as an administrator would do it).
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const SOFTHSM_LIBRARY = process.env.LKMR_SOFTHSM_LIBRARY ?? '/usr/lib/softhsm/libsofthsm2.so'
export const DEMO_USER_PIN = '12345678'
export const DEMO_SO_PIN = '87654321'

/** Writes `dir/softhsm2.conf` with its token folder `dir/tokens`; returns the config path. */
export function writeSofthsmConf(dir: string): string {
  const tokendir = join(dir, 'tokens')
  mkdirSync(tokendir, { recursive: true })
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(
    conf,
    [
      '# Demo tokens of the workstation (created by scripts/demo-tokens.ts). Point SOFTHSM2_CONF here.',
      `directories.tokendir = ${tokendir}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      '',
    ].join('\n'),
  )
  return conf
}

/** Initialises the first free SoftHSM slot as a token with `label` and the demo PINs. */
export async function initToken(softhsmConf: string, label: string, pins = { user: DEMO_USER_PIN, so: DEMO_SO_PIN }): Promise<void> {
  if (Buffer.byteLength(label, 'utf8') > 32) throw new RangeError(`token label longer than 32 bytes: ${label}`)
  try {
    await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pins.user, '--so-pin', pins.so], {
      env: { ...process.env, SOFTHSM2_CONF: softhsmConf },
    })
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string }
    if (err.code === 'ENOENT') throw new Error('softhsm2-util not found: install the Debian package softhsm2', { cause: e })
    throw new Error(`softhsm2-util --init-token ${label} failed: ${err.stderr?.trim() || err.message}`, { cause: e })
  }
}
