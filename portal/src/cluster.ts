// `serve --workers N`: N portal processes share one listening socket (node:cluster), so a
// PostgreSQL-backed portal uses every core. The primary applies migrations once, forks the
// workers, prints one «Портал запущен» line when all listen, and on SIGINT/SIGTERM lets each
// worker close gracefully (finish requests in flight) before it exits. Per-process state stays
// per process: rate-limit counters and the session cache (a revocation reaches the other
// workers within the cache's TTL, 2 s).
import cluster, { type Worker } from 'node:cluster'

export interface WorkerReady {
  type: 'lkmr-portal-ready'
  url: string
}

export function isClusterWorker(): boolean {
  return cluster.isWorker
}

/** In a worker: tells the primary this worker listens. */
export function reportReady(url: string): void {
  process.send?.({ type: 'lkmr-portal-ready', url } satisfies WorkerReady)
}

/** In the primary: forks `count` workers and resolves with the URL once every one listens. */
export async function runPrimary(count: number, out: (line: string) => void): Promise<void> {
  const workers: Worker[] = []
  let stopping = false
  const ready = new Promise<string>((resolveReady, reject) => {
    let listening = 0
    for (let i = 0; i < count; i++) {
      const w = cluster.fork()
      workers.push(w)
      w.on('message', (m: WorkerReady) => {
        if (m?.type === 'lkmr-portal-ready' && ++listening === count) resolveReady(m.url)
      })
      w.on('exit', (code) => {
        if (!stopping) {
          reject(new Error(`Процесс портала ${w.process.pid} завершился с кодом ${code}`))
          stopping = true
          for (const other of workers) other.process.kill('SIGTERM')
          process.exitCode = 1
        }
      })
    }
  })
  const url = await ready
  out(`Портал запущен: ${url} (процессов: ${count})`)
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    let left = workers.length
    for (const w of workers) {
      w.once('exit', () => {
        if (--left === 0) {
          out(`Портал остановлен (${signal})`)
          process.exit(0)
        }
      })
      w.process.kill(signal)
    }
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
