// The embedded engine (PGlite) must have one process at a time on a data folder: a lock file
// beside the folder holds the owner's pid. A lock left by a process that is gone is taken over.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

export interface DataLock {
  release(): void
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function lockDataDir(dataDir: string): DataLock {
  const file = `${resolve(dataDir)}.lock`
  mkdirSync(dirname(file), { recursive: true })
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' })
      let released = false
      return {
        release() {
          if (released) return
          released = true
          rmSync(file, { force: true })
        },
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const pid = Number(readFileSync(file, 'utf8').trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(
          `Папка данных ${dataDir} занята процессом ${pid} (запущен портал?). Остановите его или используйте DATABASE_URL.`,
        )
      }
      rmSync(file, { force: true })
    }
  }
  throw new Error(`Не удалось занять папку данных ${dataDir}`)
}
