// Chromium in app mode for the Node host (start:web) and the end-to-end tests.
//
// The secret must not appear on Chromium's command line (other users of a terminal server can
// read /proc/*/cmdline), so Chromium is pointed at a small launch page inside its own fresh,
// private profile folder, which forwards to http://127.0.0.1:PORT/#k=<secret>.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export const CHROMIUM = process.env.LKMR_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--no-default-browser-check',
  '--lang=ru',
]

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Launches Chromium in app mode on the URL; the profile folder is private and removed on exit. */
export function launchChromium(appUrl: string): { child: ChildProcess; profileDir: string } {
  const profileDir = mkdtempSync(join(tmpdir(), 'lkmr-chromium-'))
  const launchPage = join(profileDir, 'launch.html')
  writeFileSync(
    launchPage,
    `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
      `<meta http-equiv="refresh" content="0;url=${escapeHtml(appUrl)}"><title>АРМ медицинского работника</title>`,
    { mode: 0o600 },
  )
  const child = spawn(
    CHROMIUM,
    [...CHROMIUM_FLAGS, `--user-data-dir=${profileDir}`, '--window-size=1280,820', `--app=${pathToFileURL(launchPage).href}`],
    { stdio: process.env.LKMR_DEBUG ? 'inherit' : 'ignore' },
  )
  return { child, profileDir }
}
