// The sync engine: pulls the portal's system history from the stored cursor, then pushes the
// outbox in order. One run at a time; runs on a schedule, on demand and soon after a local change;
// backs off while the portal is unreachable. It never drops a change: a refused one is kept with
// the portal's message, a 412 is either our own earlier write (acknowledged) or a conflict kept
// with both versions. Status is published after every step.
import { AppError, toAppError, type AppErrorData } from '../../../shared/errors'
import type { SyncStatus } from '../../../shared/registrar'
import type { FhirAnswer, FhirOptions } from '../portal/portal-client'
import type { Json } from '../store/index-fields'
import type { OutboxChange, PushedEntry } from '../store/store'
import type { AsyncStore } from '../store/store-protocol'
import { readAhead } from './read-ahead'
import { outcomeText, readHistoryPage, readBundleResponse, sameContent, versionOfEtag, type EntryResponse } from './fhir-wire'

/** The store calls the engine makes, asynchronous (the store lives in a worker). */
export type SyncStore = Pick<AsyncStore, 'getState' | 'setState' | 'applyHistoryPages' | 'nextChanges' | 'ackChange' | 'ackChanges' | 'rejectChange' | 'conflictChange' | 'counts'>

export type FhirCall = (method: 'GET' | 'POST' | 'PUT', path: string, body: unknown, options?: FhirOptions) => Promise<FhirAnswer>

export interface SyncEngineOptions {
  store: SyncStore
  /** A FHIR call with the session's token; SESSION_EXPIRED when there is no usable session. */
  fhir: FhirCall
  /** Is the portal there at all (for telling "offline" from "log in again")? */
  probe: () => Promise<boolean>
  onStatus?: (status: SyncStatus) => void
  onDataChanged?: (types: string[]) => void
  log?: (line: string) => void
  pageSize?: number
  batchSize?: number
  intervalMs?: number
  backoffMinMs?: number
  backoffMaxMs?: number
  /** Wait after a local change before pushing (several quick edits go in one request). */
  nudgeDelayMs?: number
}

export const CURSOR_KEY = 'history.cursor'
const LAST_SYNC_KEY = 'history.lastSyncAt'
/**
 * History pages fetched and waiting while the store writes (1 000 resources, about 1.2 MB each);
 * those waiting are written together, in one transaction.
 */
export const PAGES_AHEAD = 4

class Transient extends Error {}

export class SyncEngine {
  private status: SyncStatus = {
    online: false,
    phase: 'idle',
    pending: 0,
    rejected: 0,
    conflicts: 0,
    lastSyncAt: null,
    lastError: null,
    progress: null,
    nextAttemptAt: null,
  }
  private running: Promise<void> | null = null
  private again = false
  private timer: NodeJS.Timeout | null = null
  private failures = 0
  private started = false
  private readonly o: Required<Omit<SyncEngineOptions, 'onStatus' | 'onDataChanged' | 'log'>> & Pick<SyncEngineOptions, 'onStatus' | 'onDataChanged' | 'log'>

  constructor(options: SyncEngineOptions) {
    this.o = {
      pageSize: 1000,
      batchSize: 500,
      intervalMs: 30_000,
      backoffMinMs: 2_000,
      backoffMaxMs: 60_000,
      nudgeDelayMs: 300,
      ...options,
    }
  }

  current(): SyncStatus {
    return { ...this.status }
  }

  /** Starts the schedule (after login). The first run starts now. */
  async start(): Promise<void> {
    this.started = true
    this.status.lastSyncAt = await this.o.store.getState(LAST_SYNC_KEY)
    await this.refreshCounts()
    this.schedule(0)
  }

  stop(): void {
    this.started = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.status.nextAttemptAt = null
  }

  /** A local change was committed: push soon. */
  nudge(): void {
    void this.refreshCounts().then(() => this.publish())
    if (this.started) this.schedule(this.o.nudgeDelayMs)
  }

  /**
   * Sync now and answer when that run has ended. A run already going may have read the outbox
   * before the latest change: run() then makes it go round once more.
   */
  async syncNow(): Promise<SyncStatus> {
    await this.run()
    return this.current()
  }

  private schedule(delayMs: number): void {
    if (!this.started) return
    if (this.timer) clearTimeout(this.timer)
    this.status.nextAttemptAt = new Date(Date.now() + delayMs).toISOString()
    this.timer = setTimeout(() => {
      this.timer = null
      void this.run()
    }, delayMs)
    this.timer.unref?.()
  }

  private run(): Promise<void> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      do {
        this.again = false
        await this.runOnce()
      } while (this.again)
    })().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async runOnce(): Promise<void> {
    try {
      await this.pull()
      await this.push()
      this.failures = 0
      const at = new Date().toISOString()
      await this.o.store.setState(LAST_SYNC_KEY, at)
      this.set({ online: true, phase: 'idle', lastSyncAt: at, lastError: null, progress: null })
      this.schedule(this.o.intervalMs)
    } catch (e) {
      await this.failed(e)
    } finally {
      await this.refreshCounts()
      this.publish()
    }
  }

  private async failed(e: unknown): Promise<void> {
    const err = e instanceof Transient ? new AppError('PORTAL_UNREACHABLE', {}, e.message) : toAppError(e)
    this.o.log?.(`sync failed: ${err.code}${err.details ? ` (${err.details})` : ''}`)
    const data: AppErrorData = err.toData()
    if (err.code === 'SESSION_EXPIRED' || err.code === 'OFFLINE_SESSION') {
      const reachable = await this.o.probe().catch(() => false)
      this.set({ online: reachable, phase: reachable ? 'needsLogin' : 'offline', lastError: data, progress: null })
    } else if (err.code === 'PORTAL_UNREACHABLE' || err.code === 'PORTAL_TLS_UNTRUSTED') {
      this.set({ online: false, phase: 'offline', lastError: data, progress: null })
    } else {
      this.set({ phase: 'error', lastError: data, progress: null })
    }
    this.failures++
    const delay = Math.min(this.o.backoffMaxMs, this.o.backoffMinMs * 2 ** Math.min(this.failures - 1, 10))
    this.schedule(delay)
  }

  // --- pull --------------------------------------------------------------------------------------

  private async pull(): Promise<void> {
    const cursor = (await this.o.store.getState(CURSOR_KEY)) ?? '0.0'
    this.set({ phase: 'pulling', progress: { done: 0, total: null } })
    const fetchPage = async (from: string) => {
      const answer = await this.o.fhir('GET', `/_history?_count=${this.o.pageSize}&_cursor=${encodeURIComponent(from)}`, undefined, { raw: true })
      this.expectOk(answer, 'history')
      if (!answer.bytes) throw new Transient('history page without a body')
      // Read here, but only where its resources lie: the page then goes to the store worker as it
      // came (moved, not copied), which stores each resource's bytes without parsing them.
      return { bytes: answer.bytes, ...readHistoryPage(answer.bytes) }
    }
    let done = 0
    let applied = 0
    const types = new Set<string>()
    // Pages are fetched (served, sent, read) ahead while the store writes the ones before; the
    // store takes all those waiting at once.
    for await (const pages of readAhead(fetchPage, (p) => (p.more ? p.cursor : null), cursor, PAGES_AHEAD)) {
      const result = await this.o.store.applyHistoryPages(pages.map((p) => p.bytes), pages.map((p) => p.entries), CURSOR_KEY, pages.at(-1)!.cursor)
      applied += result.applied
      for (const p of pages) {
        done += p.entries.length
        for (const e of p.entries) types.add(e.type)
      }
      this.set({ online: true, progress: { done, total: null } })
      this.publish()
    }
    // Lists refresh once per pull, and only when something new landed.
    if (applied > 0) this.o.onDataChanged?.([...types])
  }

  // --- push --------------------------------------------------------------------------------------

  private async push(): Promise<void> {
    const counts = await this.o.store.counts()
    const total = counts.pending
    if (total === 0) return
    this.set({ phase: 'pushing', progress: { done: 0, total } })
    this.publish()
    let done = 0
    const touched = new Set<string>()
    for (;;) {
      const changes = await this.o.store.nextChanges(this.o.batchSize)
      if (changes.length === 0) break
      // In order: runs of one-resource changes go as a batch, a multi-resource change (a booking:
      // the slot and the appointment) as a transaction of its own.
      let singles: OutboxChange[] = []
      const flush = async () => {
        if (singles.length > 0) await this.pushBatch(singles)
        singles = []
      }
      for (const c of changes) {
        for (const e of c.entries) touched.add(e.type)
        if (c.entries.length === 1) singles.push(c)
        else {
          await flush()
          await this.pushTransaction(c)
        }
      }
      await flush()
      done += changes.length
      this.set({ progress: { done: Math.min(done, total), total } })
      this.publish()
    }
    if (touched.size > 0) this.o.onDataChanged?.([...touched])
  }

  private entryRequest(change: OutboxChange, e: OutboxChange['entries'][number]): Json {
    return {
      // Tagged with the change it carries: a 412 later tells our own earlier write from another's.
      resource: { ...e.body, meta: { ...((e.body.meta as Json | undefined) ?? {}), source: changeSource(change.changeId) } },
      request: {
        method: 'PUT',
        url: `${e.type}/${e.id}`,
        ...(e.baseVersion === null ? { ifNoneMatch: '*' } : { ifMatch: `W/"${e.baseVersion}"` }),
      },
    }
  }

  private async pushBatch(changes: OutboxChange[]): Promise<void> {
    const bundle = { resourceType: 'Bundle', type: 'batch', entry: changes.map((c) => this.entryRequest(c, c.entries[0]!)) }
    const answer = await this.o.fhir('POST', '', bundle)
    this.expectOk(answer, 'batch')
    let responses: EntryResponse[]
    try {
      responses = readBundleResponse(answer.json, changes.length)
    } catch (e) {
      throw new Transient(`unreadable batch response: ${(e as Error).message}`)
    }
    // Settled in order; runs of accepted changes are acknowledged together (one store transaction,
    // one disk flush, instead of one per change), always before the next answer is looked at.
    let accepted: Array<[number, number, PushedEntry[]]> = []
    const flush = async () => {
      if (accepted.length > 0) await this.o.store.ackChanges(accepted)
      accepted = []
    }
    for (const [i, c] of changes.entries()) {
      const r = responses[i]!
      if (r.status === 200 || r.status === 201) {
        let entry: PushedEntry
        try {
          entry = pushed(c.entries[0]!, r)
        } catch (e) {
          await flush()
          throw e
        }
        accepted.push([c.seq, c.revision, [entry]])
        continue
      }
      await flush()
      await this.settle(c, r)
    }
    await flush()
  }

  private async pushTransaction(change: OutboxChange): Promise<void> {
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: change.entries.map((e) => this.entryRequest(change, e)) }
    const answer = await this.o.fhir('POST', '', bundle)
    if (answer.status === 200) {
      let responses: EntryResponse[]
      try {
        responses = readBundleResponse(answer.json, change.entries.length)
      } catch (e) {
        throw new Transient(`unreadable transaction response: ${(e as Error).message}`)
      }
      await this.o.store.ackChange(change.seq, change.revision, change.entries.map((e, i) => pushed(e, responses[i]!)))
      return
    }
    await this.settle(change, { status: answer.status, version: null, resource: null, outcome: answer.json })
  }

  /** One change's answer: taken, refused, a 412 to look into, or a failure to retry later. */
  private async settle(change: OutboxChange, r: EntryResponse): Promise<void> {
    if (r.status === 200 || r.status === 201) {
      await this.o.store.ackChange(change.seq, change.revision, [pushed(change.entries[0]!, r)])
      return
    }
    if (r.status === 412 || r.status === 409) return this.preconditionFailed(change)
    if (r.status === 401) throw new AppError('SESSION_EXPIRED', {}, 'portal refused the session during push')
    if (r.status === 429 || r.status >= 500 || r.status === 0) throw new Transient(`portal answered ${r.status} to a push`)
    await this.o.store.rejectChange(change.seq, change.revision, outcomeText(r.outcome))
  }

  /**
   * A version check failed. If the portal already holds exactly what we sent, an earlier push of
   * this change landed and only its answer was lost: acknowledge it. If it holds an earlier state
   * of this same change (sent, its answer lost, and a later edit folded in since), that version
   * is ours too: the change goes again over it. Otherwise someone else wrote first: keep both
   * sides for the user.
   */
  private async preconditionFailed(change: OutboxChange): Promise<void> {
    const remote: PushedEntry[] = []
    let earlierRevision = false
    for (const e of change.entries) {
      const answer = await this.o.fhir('GET', `/${e.type}/${e.id}`, undefined)
      if (answer.status === 401) throw new AppError('SESSION_EXPIRED', {}, 'portal refused the session during push')
      if (answer.status >= 500 || answer.status === 429) throw new Transient(`portal answered ${answer.status} to a read`)
      const body = answer.status === 200 ? (answer.json as Json) : null
      const version = body ? (versionOfEtag(answer.etag) ?? Number((body.meta as Json | undefined)?.versionId ?? NaN)) : null
      const same = body !== null && sameContent(body, e.body)
      const ours = same || (body !== null && (body.meta as Json | undefined)?.source === changeSource(change.changeId))
      if (!body || !ours) {
        const slotTaken = e.type === 'Slot' && (change.action === 'appointment.book' || change.action === 'appointment.move')
        const message = slotTaken
          ? 'Это время уже занято: другой регистратор записал на него пациента раньше.'
          : body
            ? 'Запись изменена на портале другим пользователем, пока ваши изменения ждали отправки.'
            : 'Запись удалена на портале, пока ваши изменения ждали отправки.'
        await this.o.store.conflictChange(change.seq, change.revision, { type: e.type, id: e.id, version: Number.isFinite(version) ? version : null, body }, message, slotTaken)
        return
      }
      if (!same) earlierRevision = true
      remote.push({ type: e.type, id: e.id, version: version!, body })
    }
    // An earlier revision acknowledged (revision 0 is none): the resources move to the versions it
    // made and the change stays queued with its latest state; the push loop sends it next.
    await this.o.store.ackChange(change.seq, earlierRevision ? 0 : change.revision, remote)
  }

  private expectOk(answer: FhirAnswer, what: string): void {
    if (answer.status === 200) return
    if (answer.status === 401) throw new AppError('SESSION_EXPIRED', {}, `portal refused the session (${what})`)
    if (answer.status === 403) throw new AppError('ACCESS_DENIED', {}, `${what}: ${outcomeText(answer.json)}`)
    throw new Transient(`portal answered ${answer.status} to ${what}`)
  }

  // --- status ------------------------------------------------------------------------------------

  private async refreshCounts(): Promise<void> {
    try {
      Object.assign(this.status, await this.o.store.counts())
    } catch {
      // The store closing during shutdown: the counts shown stay as they were.
    }
  }

  private set(patch: Partial<SyncStatus>): void {
    Object.assign(this.status, patch)
  }

  private publish(): void {
    this.o.onStatus?.(this.current())
  }
}

/** meta.source of what a change pushes (FHIR's "source#request" provenance): which change wrote it. */
function changeSource(changeId: string): string {
  return `urn:uuid:${changeId}`
}

function pushed(e: OutboxChange['entries'][number], r: EntryResponse): PushedEntry {
  const version = r.version ?? Number((r.resource?.meta as Json | undefined)?.versionId ?? NaN)
  if (!Number.isFinite(version)) throw new Transient(`answer for ${e.type}/${e.id} has no version`)
  return { type: e.type, id: e.id, version, body: r.resource }
}
