// `npm run start:web`: the same app without the Electron binary — the real core behind the Node
// host, the built renderer (out/renderer) in `chromium --app`. With --no-browser it only prints
// the URL to open. It builds nothing: `npm run start:web` builds first and runs the bundle
// (out/main/start-web.js), as the installed app runs its bundle.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { hashForSecret } from '../../shared/rpc/ws-protocol'
import { createAppCore } from '../core/app-core'
import { findAppRoot } from '../core/app-root'
import { loadConfig } from '../core/config'
import { CHROMIUM, launchChromium } from './chromium'
import { startNodeHost } from './node-host'

const ROOT = findAppRoot()
const RENDERER_DIR = join(ROOT, 'out/renderer')

async function main(): Promise<void> {
  const noBrowser = process.argv.includes('--no-browser')
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    process.stderr.write(
      'Интерфейс не собран: выполните `npx electron-vite build` (или `npm run build`) и запустите снова. ' +
        '(The UI is not built: run `npx electron-vite build` first.)\n',
    )
    process.exit(1)
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string }
  const core = createAppCore(loadConfig(), { transport: 'web', version: pkg.version })
  const host = await startNodeHost({ core, rendererDir: RENDERER_DIR })
  const appUrl = `${host.url}${hashForSecret(host.secret)}`

  let browser: ReturnType<typeof launchChromium> | null = null
  let stopping = false
  const stop = async (code: number): Promise<void> => {
    if (stopping) return
    stopping = true
    if (browser && browser.child.exitCode === null) browser.child.kill('SIGTERM')
    await host.close()
    await core.close()
    if (browser) rmSync(browser.profileDir, { recursive: true, force: true })
    process.exit(code)
  }
  process.on('SIGINT', () => void stop(0))
  process.on('SIGTERM', () => void stop(0))

  if (noBrowser) {
    process.stdout.write(`АРМ медицинского работника: откройте ${appUrl}\n(Ctrl+C — остановить)\n`)
    return
  }
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`Chromium не найден (${CHROMIUM}). Откройте в браузере: ${appUrl}\n`)
    return
  }
  browser = launchChromium(appUrl)
  process.stdout.write(`АРМ медицинского работника открыт в Chromium (${host.url}). Закройте окно, чтобы завершить работу.\n`)
  browser.child.on('exit', () => void stop(0))
  browser.child.on('error', (e) => {
    process.stderr.write(`Не удалось запустить Chromium: ${e.message}\n`)
    void stop(1)
  })
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
