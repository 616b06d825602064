// A chain of pages (each one says where the next one is) fetched ahead of the one consuming
// them: while the store writes a page, the next ones are already being served, sent and parsed,
// so neither the portal nor the store waits for the other.

/**
 * Yields the pages from `start` on, in order, keeping up to `depth` fetched and waiting; each
 * yield hands over all the pages waiting (at least one). A failed fetch is thrown after the pages
 * fetched before it have been yielded; when the consumer stops (break, return, a throw), no
 * further page is requested.
 */
export async function* readAhead<T>(
  fetchPage: (from: string) => Promise<T>,
  nextOf: (page: T) => string | null,
  start: string,
  depth: number,
): AsyncGenerator<T[], void, undefined> {
  const ready: T[] = []
  let finished = false
  let failure: { error: unknown } | null = null
  let stopped = false
  // Wakes the fetcher when a page is taken, and the consumer when a page or the end arrives.
  let roomFreed: (() => void) | null = null
  let pageArrived: (() => void) | null = null
  const wake = (which: 'room' | 'page') => {
    const f = which === 'room' ? roomFreed : pageArrived
    if (which === 'room') roomFreed = null
    else pageArrived = null
    f?.()
  }

  void (async () => {
    let from: string | null = start
    while (from !== null && !stopped) {
      while (ready.length >= depth && !stopped) await new Promise<void>((resolve) => (roomFreed = resolve))
      if (stopped) break
      const page = await fetchPage(from)
      ready.push(page)
      from = nextOf(page)
      wake('page')
    }
  })().then(
    () => {
      finished = true
      wake('page')
    },
    (error: unknown) => {
      failure = { error }
      wake('page')
    },
  )

  try {
    for (;;) {
      if (ready.length > 0) {
        const pages = ready.splice(0)
        wake('room')
        yield pages
        continue
      }
      if (failure) throw (failure as { error: unknown }).error
      if (finished) return
      await new Promise<void>((resolve) => (pageArrived = resolve))
    }
  } finally {
    stopped = true
    wake('room')
  }
}
