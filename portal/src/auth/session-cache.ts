// A short-lived, per-process memory of authenticated access tokens, so a client making many
// requests (a sync pull) costs one session lookup every couple of seconds instead of one per
// request. Everything that ends or changes a session or a worker in this process forgets the
// entries at once; another portal process sharing the database sees it within CACHE_TTL_MS.
import type { Caller } from './guard'

export const CACHE_TTL_MS = 2000
const MAX_ENTRIES = 10_000

export interface CachedCaller {
  caller: Caller
  /** Access token expiry and the session's absolute end (ms). */
  expiresAt: number
  refreshExpiresAt: number
  /** last_seen_at as stored: the idle check and the last-seen write need it. */
  lastSeenAt: number
  cachedAt: number
}

const byTokenHash = new Map<string, CachedCaller>()

export function cachedCaller(tokenHash: string, now: number): CachedCaller | null {
  const hit = byTokenHash.get(tokenHash)
  if (!hit) return null
  if (now - hit.cachedAt > CACHE_TTL_MS || now < hit.cachedAt) {
    byTokenHash.delete(tokenHash)
    return null
  }
  return hit
}

export function rememberCaller(tokenHash: string, entry: CachedCaller): void {
  if (byTokenHash.size >= MAX_ENTRIES) byTokenHash.clear()
  byTokenHash.set(tokenHash, entry)
}

/** A session was revoked or its tokens rotated. */
export function forgetSession(sessionId: string): void {
  for (const [hash, e] of byTokenHash) if (e.caller.sessionId === sessionId) byTokenHash.delete(hash)
}

/** A worker's record changed (employment, organisation) or their sessions were revoked in bulk. */
export function forgetWorker(snils: string): void {
  for (const [hash, e] of byTokenHash) if (e.caller.snils === snils) byTokenHash.delete(hash)
}
