// In-memory rate limiting of the auth endpoints: a sliding-window log per key (the client address
// within one route group). At most `max` requests are allowed in any `windowMs`; a refused request
// does not count, so a client that keeps hammering still gets `max` per window and no more.
// Memory is bounded: a key holds at most `max` timestamps, keys idle for a whole window are swept
// (at most once per window, O(keys)), and beyond `maxKeys` the least recently seen key is dropped.
// Per process only: several portal processes behind one address each keep their own counts.

export interface RateLimitRule {
  windowMs: number
  /** Requests allowed per window and key. */
  max: number
}

/** Route groups with separate budgets. `login`: challenge, eds and the password, code and reset routes. */
export type RateLimitGroup = 'login' | 'refresh'

/** PortalServerOptions.rateLimit: a group set to false is not limited. */
export interface RateLimitOptions {
  login?: RateLimitRule | false
  refresh?: RateLimitRule | false
  /** Keys (addresses) remembered per group. Default 10 000. */
  maxKeys?: number
}

export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitGroup, RateLimitRule>> = {
  login: { windowMs: 60_000, max: 30 },
  refresh: { windowMs: 60_000, max: 30 },
}
export const DEFAULT_RATE_LIMIT_MAX_KEYS = 10_000

export type RateDecision =
  | { allowed: true; remaining: number }
  | {
      allowed: false
      /** Until the oldest counted request leaves the window (≥ 1 ms). */
      retryAfterMs: number
      /** The first refusal since this key was last allowed: worth one audit row, not one per request. */
      first: boolean
    }

interface Entry {
  /** Times (ms) of the allowed requests still in the window, oldest first. */
  hits: number[]
  limited: boolean
}

export class SlidingWindowLimiter {
  private readonly entries = new Map<string, Entry>()
  private lastSweep: number
  private readonly maxKeys: number

  constructor(
    readonly rule: RateLimitRule,
    private readonly now: () => number = Date.now,
    maxKeys = DEFAULT_RATE_LIMIT_MAX_KEYS,
  ) {
    if (!Number.isInteger(rule.max) || rule.max < 1) throw new RangeError(`rate limit max must be a positive integer: ${rule.max}`)
    if (!Number.isFinite(rule.windowMs) || rule.windowMs <= 0) throw new RangeError(`rate limit windowMs must be positive: ${rule.windowMs}`)
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`rate limit maxKeys must be a positive integer: ${maxKeys}`)
    this.maxKeys = maxKeys
    this.lastSweep = now()
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.entries.size
  }

  /** Counts one request for `key` if the window has room; else says how long to wait. */
  hit(key: string): RateDecision {
    const now = this.now()
    this.sweep(now)
    const entry = this.entries.get(key) ?? { hits: [], limited: false }
    // Least recently seen first in the map: move this key to the end.
    this.entries.delete(key)
    this.entries.set(key, entry)
    // Entries later than now are dropped too: a clock stepped back must not lock anyone out.
    entry.hits = entry.hits.filter((t) => t > now - this.rule.windowMs && t <= now)
    if (entry.hits.length >= this.rule.max) {
      const first = !entry.limited
      entry.limited = true
      return { allowed: false, retryAfterMs: Math.max(1, entry.hits[0]! + this.rule.windowMs - now), first }
    }
    entry.hits.push(now)
    entry.limited = false
    while (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!)
    return { allowed: true, remaining: this.rule.max - entry.hits.length }
  }

  /** Drops keys with no request inside the window; runs at most once per window. */
  sweep(now = this.now()): void {
    if (now - this.lastSweep < this.rule.windowMs && now >= this.lastSweep) return
    this.lastSweep = now
    for (const [key, entry] of this.entries) {
      const newest = entry.hits[entry.hits.length - 1]
      if (newest === undefined || newest <= now - this.rule.windowMs || newest > now) this.entries.delete(key)
    }
  }
}

/** One limiter per route group, or none for a group that is off (or with `rateLimit: false`). */
export function createRateLimiters(
  options: RateLimitOptions | false | undefined,
  now: () => number,
): Readonly<Record<RateLimitGroup, SlidingWindowLimiter | null>> {
  const make = (group: RateLimitGroup): SlidingWindowLimiter | null => {
    if (options === false) return null
    const rule = options?.[group] ?? DEFAULT_RATE_LIMITS[group]
    return rule === false ? null : new SlidingWindowLimiter(rule, now, options?.maxKeys)
  }
  return { login: make('login'), refresh: make('refresh') }
}

/** Seconds for the Retry-After header and the error params: whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}
