// The reference portal as its own process for the benchmarks: `portal/src/main.ts serve …`,
// resolved with the URL it prints once it listens.
import { spawn, type ChildProcess } from 'node:child_process'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')

export async function startPortalProcess(
  serveArgs: string[],
  o: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), '--import', 'tsx', join(ROOT, 'portal/src/main.ts'), 'serve', ...serveArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...o.env },
  })
  const url = await new Promise<string>((resolveUrl, reject) => {
    let text = ''
    proc.stdout?.on('data', (c: Buffer) => {
      text += c.toString()
      const m = /Портал запущен: (\S+)/.exec(text)
      if (m?.[1]) resolveUrl(m[1])
    })
    proc.on('exit', (code) => reject(new Error(`portal exited with ${code}`)))
  })
  return { url, proc }
}
