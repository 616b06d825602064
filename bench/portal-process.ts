// The reference portal as its own process for the benchmarks: `portal/src/main.ts serve …`,
// resolved with the URL it prints once it listens.
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { openPostgres } from '../portal/src/db'

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

/**
 * A throwaway PostgreSQL cluster from the test script (scripts/postgres-for-tests.sh), with an
 * empty database `name` in it; the cluster is removed when stop() ends its shell.
 */
export async function startPostgres(name: string): Promise<{ url: string; stop(): void; cpuSeconds(): number }> {
  const shell = spawn('bash', ['-c', 'source scripts/postgres-for-tests.sh >&2 && echo "DIR=$pg_dir URL=$LKMR_TEST_POSTGRES_URL" && read -r _'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  const stop = () => shell.stdin.end('\n')
  try {
    const [dir, server] = await new Promise<[string, string]>((ok, fail) => {
      let text = ''
      shell.stdout.on('data', (c: Buffer) => {
        text += c.toString()
        const m = /DIR=(\S+) URL=(\S+)/.exec(text)
        if (m) ok([m[1]!, m[2]!])
      })
      shell.on('exit', (code) => fail(new Error(`postgres script exited with ${code}`)))
    })
    const admin = await openPostgres(server)
    await admin.exec(`CREATE DATABASE ${name}`)
    await admin.close()
    const url = new URL(server)
    url.pathname = `/${name}`
    const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
    return { url: url.toString(), stop, cpuSeconds: () => serverCpuSeconds(postmaster) }
  } catch (e) {
    stop()
    throw e
  }
}

/** A process's /proc stat fields after its command (state, ppid, …), or null when it has ended. */
function statFields(pid: number | string): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  } catch {
    return null
  }
}

/** utime + stime (+ cutime + cstime: fields 14–17 of stat) in clock ticks. */
const ticks = (f: string[], withChildren: boolean) => Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0)

/** CPU seconds a process has used (utime + stime). */
export function processCpuSeconds(pid: number): number {
  const f = statFields(pid)
  if (!f) throw new Error(`process ${pid} has ended`)
  return ticks(f, false) / 100
}

/** CPU seconds of a PostgreSQL server: the postmaster, its live backends and the ones it reaped. */
function serverCpuSeconds(postmaster: number): number {
  const own = statFields(postmaster)
  let total = own ? ticks(own, true) : 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const f = statFields(pid)
    if (f && Number(f[1]) === postmaster) total += ticks(f, false)
  }
  return total / 100
}
