import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { readAhead } from './read-ahead'

/** A chain of pages "0" → "1" → … → String(last), fetched with a delay; records what was asked. */
function chain(last: number, o: { delayMs?: number; failAt?: number } = {}) {
  const asked: string[] = []
  const fetchPage = async (from: string) => {
    asked.push(from)
    await sleep(o.delayMs ?? 1)
    if (Number(from) === o.failAt) throw new Error(`page ${from} failed`)
    return { n: Number(from) }
  }
  const nextOf = (p: { n: number }) => (p.n < last ? String(p.n + 1) : null)
  return { asked, fetchPage, nextOf }
}

describe('readAhead', () => {
  it('yields every page of the chain once, in order', async () => {
    const c = chain(9)
    const got: number[] = []
    for await (const ps of readAhead(c.fetchPage, c.nextOf, '0', 2)) got.push(...ps.map((p) => p.n))
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(c.asked).toEqual(got.map(String))
  })

  it('hands over all the pages waiting at once, never more than depth, never none', async () => {
    const c = chain(30)
    const sizes: number[] = []
    const got: number[] = []
    for await (const ps of readAhead(c.fetchPage, c.nextOf, '0', 3)) {
      sizes.push(ps.length)
      got.push(...ps.map((p) => p.n))
      await sleep(20) // a slow store: pages pile up meanwhile
    }
    expect(got).toEqual(Array.from({ length: 31 }, (_, i) => i))
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1)
    expect(Math.max(...sizes)).toBe(3)
  })

  it('fetches while the consumer works, but never more than depth pages ahead of it', async () => {
    const c = chain(20)
    const ahead: number[] = []
    for await (const ps of readAhead(c.fetchPage, c.nextOf, '0', 2)) {
      await sleep(15) // a slow store: the fetcher fills the buffer, then waits
      // Asked so far, beyond the last page in hand: the waiting pages plus the one in flight.
      ahead.push(c.asked.length - 1 - ps.at(-1)!.n)
    }
    expect(Math.max(...ahead)).toBeLessThanOrEqual(3)
    // … and it did run ahead (a fetcher waiting for each take would show 0 here).
    expect(Math.max(...ahead.slice(0, -3))).toBeGreaterThanOrEqual(2)
  })

  it('throws a failed fetch after the pages fetched before it', async () => {
    const c = chain(9, { failAt: 4 })
    const got: number[] = []
    await expect(
      (async () => {
        for await (const ps of readAhead(c.fetchPage, c.nextOf, '0', 3)) got.push(...ps.map((p) => p.n))
      })(),
    ).rejects.toThrow('page 4 failed')
    expect(got).toEqual([0, 1, 2, 3])
    expect(c.asked).toEqual(['0', '1', '2', '3', '4'])
  })

  it('asks for nothing more once the consumer stops', async () => {
    const c = chain(50)
    await expect(
      (async () => {
        for await (const ps of readAhead(c.fetchPage, c.nextOf, '0', 2)) {
          if (ps.some((p) => p.n >= 3)) throw new Error('the store failed')
        }
      })(),
    ).rejects.toThrow('the store failed')
    const asked = c.asked.length
    await sleep(30)
    expect(c.asked.length).toBe(asked)
    expect(asked).toBeLessThanOrEqual(3 + 3)
  })
})
