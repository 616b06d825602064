// The offline session (startOffline): no portal access, ends when the offline login's validity
// runs out, and the idle lock as for any session. The portal client is a real one aimed at a
// closed port: an offline session must not need it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AppError } from '../../../shared/errors'
import type { SessionEndReason, User } from '../../../shared/model'
import { PortalClient } from '../portal/portal-client'
import { SessionManager } from './session-manager'

const user: User = { snils: '11223344595', fullName: 'Смирнова Анна Ивановна', position: 'Медицинский регистратор', organisation: 'ГБУЗ ГП № 1', roles: ['registrar'] }
const START = Date.parse('2025-03-01T09:00:00.000Z')
const DAY = 86_400_000

let ended: SessionEndReason[]
let portal: PortalClient

beforeEach(() => {
  vi.useFakeTimers({ now: START })
  ended = []
  portal = new PortalClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000 })
})

afterEach(() => {
  vi.useRealTimers()
})

const manager = (idleTimeoutMs = 0) => new SessionManager(portal, (reason) => ended.push(reason), { idleTimeoutMs })

describe('SessionManager.startOffline', () => {
  it('opens a password session marked offline, without a certificate', () => {
    const sessions = manager()
    const validUntil = new Date(START + 7 * DAY)
    const info = { user, expiresAt: validUntil.toISOString(), certificateId: null, method: 'password', offline: true }
    expect(sessions.startOffline(user, validUntil)).toEqual(info)
    expect(sessions.info()).toEqual(info)
    expect(sessions.certificateId()).toBeNull()
  })

  it('refuses portal calls with OFFLINE_SESSION without making them', async () => {
    const sessions = manager()
    sessions.startOffline(user, new Date(START + DAY))
    const tokens: string[] = []
    const e = await sessions
      .authorized(async (token) => {
        tokens.push(token)
        return token
      })
      .catch((x: unknown) => x)
    expect(AppError.is(e, 'OFFLINE_SESSION')).toBe(true)
    expect(tokens).toEqual([])
  })

  it('ends as expired when the offline login stops being valid', () => {
    const sessions = manager()
    sessions.startOffline(user, new Date(START + 2 * 3_600_000))
    vi.advanceTimersByTime(2 * 3_600_000 - 1)
    expect(ended).toEqual([])
    expect(sessions.info()?.offline).toBe(true)
    vi.advanceTimersByTime(1)
    expect(ended).toEqual(['expired'])
    expect(sessions.info()).toBeNull()
  })

  it('ends a second after it starts when already past its validity', () => {
    const sessions = manager()
    sessions.startOffline(user, new Date(START - 1))
    vi.advanceTimersByTime(999)
    expect(ended).toEqual([])
    vi.advanceTimersByTime(1)
    expect(ended).toEqual(['expired'])
  })

  it('lasts the whole of a long validity (beyond the longest timer Node can set)', () => {
    const sessions = manager()
    sessions.startOffline(user, new Date(START + 30 * DAY))
    vi.advanceTimersByTime(25 * DAY)
    expect(ended).toEqual([])
    expect(sessions.info()?.offline).toBe(true)
    vi.advanceTimersByTime(5 * DAY - 1)
    expect(ended).toEqual([])
    vi.advanceTimersByTime(1)
    expect(ended).toEqual(['expired'])
  })

  it('locks after the idle timeout, counted from the last touch', () => {
    const sessions = manager(60_000)
    sessions.startOffline(user, new Date(START + DAY))
    vi.advanceTimersByTime(59_000)
    sessions.touch()
    vi.advanceTimersByTime(59_000)
    expect(ended).toEqual([])
    vi.advanceTimersByTime(1_000)
    expect(ended).toEqual(['idle'])
    // The expiry timer of the ended session does not fire a second end.
    vi.advanceTimersByTime(DAY)
    expect(ended).toEqual(['idle'])
  })

  it('ends on logout once; a new offline session replaces the old one and its timer', async () => {
    const sessions = manager()
    sessions.startOffline(user, new Date(START + 60_000))
    const other = { ...user, snils: '12345678964', fullName: 'Орлова Нина Петровна' }
    sessions.startOffline(other, new Date(START + 120_000))
    vi.advanceTimersByTime(60_000)
    expect(ended).toEqual([])
    expect(sessions.info()?.user).toEqual(other)
    await sessions.end('logout')
    await sessions.end('logout')
    expect(ended).toEqual(['logout'])
    vi.advanceTimersByTime(120_000)
    expect(ended).toEqual(['logout'])
  })
})
