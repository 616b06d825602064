// The folder of the app's package.json, found by walking up from this module: the same answer
// whether the code runs from its TypeScript source (src/main/...) or from the bundle (out/main).
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

export function findAppRoot(from: string = import.meta.dirname): string {
  let dir = from
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const up = dirname(dir)
    if (up === dir) throw new Error(`package.json not found above ${from}`)
    dir = up
  }
}
