// `npm start`: runs the built app in Electron where the Electron binary is installed. Where it is
// not (like build servers and this development machine), says so in one line and exits 1.
//
// The binary is located the way the `electron` package does it (path.txt + dist/), but without
// `require('electron')`, which tries to download the binary when it is missing.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')

function electronBinary(): string | null {
  let pkgDir: string
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'))
  } catch {
    return null
  }
  const pathFile = join(pkgDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const relative = readFileSync(pathFile, 'utf8').trim()
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkgDir, 'dist')
  const binary = join(dist, relative)
  return existsSync(binary) ? binary : null
}

const binary = electronBinary()
if (!binary) {
  process.stderr.write(
    'Electron не установлен на этом компьютере — запустите приложение командой `npm run start:web` ' +
      '(Electron is not installed here; use `npm run start:web`).\n',
  )
  process.exit(1)
}
if (!existsSync(join(ROOT, 'out/main/index.js'))) {
  process.stderr.write('Приложение не собрано: выполните `npm run build` (the app is not built: run `npm run build`).\n')
  process.exit(1)
}
const child = spawn(binary, [ROOT, ...process.argv.slice(2)], { stdio: 'inherit' })
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
