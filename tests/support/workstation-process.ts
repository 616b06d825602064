// The parent's side of tests/support/workstation-child.ts: starts a workstation host process (from
// its bundle, or its source through `node --import tsx`), answers its one-time-code requests, collects its protocol lines and kills
// it with SIGKILL when the test says so.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ChildConfig } from './workstation-workload'

/** The child from its TypeScript source (through tsx); see child-bundle.ts for the fast start. */
export const CHILD_SOURCE = join(import.meta.dirname, 'workstation-child.ts')

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ChildRun {
  readonly pid: number
  /** Protocol lines (stdout) in order; a line cut by the kill is not among them. */
  readonly lines: string[]
  /** The child's log (stderr), for failure messages. */
  readonly log: string[]
  readonly exited: Promise<ChildExit>
  /**
   * Resolves with the first line from `lines[since]` on (seen so far or to come) matching `re`;
   * rejects when the child exits without one.
   */
  waitFor(re: RegExp, timeoutMs?: number, since?: number): Promise<string>
  /** Lets the child open the store and start (it waits for this after loading its modules). */
  go(): void
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<ChildExit>
}

/**
 * Starts a child from `entry` (CHILD_SOURCE, or the bundle of child-bundle.ts). `code` gives the
 * one-time code for an online login (the parent reads the portal's outbox); it is asked only after
 * the child has had the portal send one.
 */
export function startChild(entry: string, config: ChildConfig, code: () => string): ChildRun {
  const runner = entry.endsWith('.ts') ? ['--import', 'tsx'] : []
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [...runner, entry, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env },
  })
  const lines: string[] = []
  const log: string[] = []
  const watchers = new Set<{ re: RegExp; resolve: (line: string) => void }>()
  const exited = new Promise<ChildExit>((resolve) => child.on('exit', (c, signal) => resolve({ code: c, signal })))
  child.stdin.on('error', () => {}) // the child may be dead when we answer
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line)
    if (line.startsWith('code-needed ')) {
      let answer: string
      try {
        answer = `code ${code()}\n`
      } catch (e) {
        answer = `no-code ${(e as Error).message}\n`
      }
      if (child.stdin.writable) child.stdin.write(answer)
    }
    for (const w of watchers) {
      if (w.re.test(line)) {
        watchers.delete(w)
        w.resolve(line)
      }
    }
  })
  createInterface({ input: child.stderr }).on('line', (line) => {
    log.push(line)
    if (log.length > 200) log.shift()
  })
  // Lines are read asynchronously: after the exit, wait for stdout to be drained too.
  const drained = new Promise<void>((resolve) => child.stdout.on('close', () => resolve()))
  const ended = Promise.all([exited, drained]).then(([e]) => e)
  return {
    pid: child.pid!,
    lines,
    log,
    exited: ended,
    waitFor(re, timeoutMs = 60_000, since = 0) {
      const seen = lines.slice(since).find((l) => re.test(l))
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise<string>((resolve, reject) => {
        const w = { re, resolve: (line: string) => (clearTimeout(timer), resolve(line)) }
        const timer = setTimeout(() => {
          watchers.delete(w)
          reject(new Error(`child ${child.pid}: no line matching ${re} within ${timeoutMs} ms; last lines: ${lines.slice(-5).join(' | ')}; log: ${log.slice(-10).join(' | ')}`))
        }, timeoutMs)
        watchers.add(w)
        void ended.then((e) => {
          if (!watchers.has(w)) return
          watchers.delete(w)
          clearTimeout(timer)
          const again = lines.slice(since).find((l) => re.test(l))
          if (again !== undefined) resolve(again)
          else reject(new Error(`child ${child.pid} exited (${e.code ?? e.signal}) without a line matching ${re}; last lines: ${lines.slice(-5).join(' | ')}; log: ${log.slice(-10).join(' | ')}`))
        })
      })
    },
    go() {
      if (child.stdin.writable) child.stdin.write('go\n')
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      return ended
    },
  }
}
