import { describe, expect, it } from 'vitest'
import type { AppErrorData } from '../../../shared/errors'
import type { SyncProblem, SyncStatus } from '../../../shared/registrar'
import { discardsNew, problemActions, problemKind, syncView } from './sync-model'

const status = (patch: Partial<SyncStatus> = {}): SyncStatus => ({
  online: true,
  phase: 'idle',
  pending: 0,
  rejected: 0,
  conflicts: 0,
  lastSyncAt: null,
  lastError: null,
  progress: null,
  nextAttemptAt: null,
  ...patch,
})

describe('syncView', () => {
  it('is quiet when all is sent', () => {
    expect(syncView(status(), false)).toEqual({ offline: null, busy: null, percent: null, problems: 0, allSent: true, needsLogin: false, error: null })
  })

  it('does not call it all sent while changes wait, are refused or in conflict', () => {
    expect(syncView(status({ pending: 1 }), false).allSent).toBe(false)
    expect(syncView(status({ conflicts: 1 }), false).allSent).toBe(false)
    expect(syncView(status({ rejected: 1 }), false).allSent).toBe(false)
  })

  it('shows errors, except an offline login that simply has no portal to talk to', () => {
    const offlineSession: AppErrorData = { code: 'OFFLINE_SESSION', params: {} }
    const unreachable: AppErrorData = { code: 'PORTAL_UNREACHABLE', params: {} }
    expect(syncView(status({ online: false, phase: 'offline', lastError: offlineSession }), true).error).toBeNull()
    // The portal answers again: a new login is needed, and that is said.
    expect(syncView(status({ online: true, phase: 'needsLogin', lastError: offlineSession }), true).error).toEqual(offlineSession)
    expect(syncView(status({ online: false, phase: 'offline', lastError: unreachable }), false).error).toEqual(unreachable)
    expect(syncView(status({ online: false, phase: 'offline', lastError: unreachable }), true).error).toEqual(unreachable)
  })

  it('says why the work is offline: the login, or the portal not answering', () => {
    expect(syncView(status(), true).offline).toBe('session')
    expect(syncView(status({ online: false }), true).offline).toBe('session')
    expect(syncView(status({ online: false, phase: 'error' }), false).offline).toBe('network')
    expect(syncView(status({ phase: 'offline' }), false).offline).toBe('network')
    // Before the first answer nothing is claimed, except an offline login.
    expect(syncView(undefined, false).offline).toBeNull()
    expect(syncView(undefined, true).offline).toBe('session')
  })

  it('tells the running phase and its progress when the total is known', () => {
    expect(syncView(status({ phase: 'pulling', progress: { done: 40, total: 120 } }), false)).toMatchObject({ busy: 'pulling', percent: 33 })
    expect(syncView(status({ phase: 'pushing', progress: { done: 3, total: null } }), false)).toMatchObject({ busy: 'pushing', percent: null })
    expect(syncView(status({ phase: 'pushing', progress: { done: 0, total: 0 } }), false).percent).toBeNull()
    expect(syncView(status({ phase: 'idle', progress: { done: 1, total: 2 } }), false).percent).toBeNull()
  })

  it('adds up the problems and asks for a login when the core needs one', () => {
    expect(syncView(status({ rejected: 2, conflicts: 3 }), false).problems).toBe(5)
    expect(syncView(status({ phase: 'needsLogin' }), false).needsLogin).toBe(true)
  })
})

const problem = (patch: Partial<SyncProblem> = {}): SyncProblem => ({
  changeId: 'c1',
  kind: 'rejected',
  action: 'patient.update',
  resourceType: 'Patient',
  resourceId: 'p1',
  title: 'Иванова Мария Петровна',
  message: 'СНИЛС уже есть у другого пациента',
  local: { resourceType: 'Patient', id: 'p1' },
  remote: null,
  slotTaken: false,
  appointmentId: null,
  createdAt: '2026-11-22T09:00:00Z',
  by: 'Белова Светлана Игоревна',
  ...patch,
})

describe('what a problem offers', () => {
  it('tells a refused change, a conflict and a lost booking apart', () => {
    expect(problemKind(problem())).toBe('rejected')
    expect(problemKind(problem({ kind: 'conflict' }))).toBe('conflict')
    expect(problemKind(problem({ kind: 'conflict', slotTaken: true }))).toBe('slotTaken')
  })

  it('lets any refused change be sent again or dropped; a patient can also be fixed on the card', () => {
    expect(problemActions(problem())).toEqual(['fix', 'retry', 'discard'])
    for (const action of ['appointment.book', 'appointment.move', 'appointment.cancel'] as const) {
      expect(problemActions(problem({ action, resourceType: 'Appointment', appointmentId: 'a1' }))).toEqual(['retry', 'discard'])
    }
    expect(problemActions(problem({ action: 'appointment.book', resourceType: 'Slot', appointmentId: 'a1' }))).toEqual(['retry', 'discard'])
  })

  it('moves a lost booking by the appointment the change names, whatever resource the conflict is on', () => {
    // The conflict is on the Slot; the appointment comes with the problem (no digging in the Slot's extensions).
    const lost = problem({ kind: 'conflict', slotTaken: true, action: 'appointment.book', resourceType: 'Slot', resourceId: 's1', appointmentId: 'a3' })
    expect(problemActions(lost)).toEqual(['move', 'cancelBooking'])
    expect(problemActions({ ...lost, appointmentId: null })).toEqual(['cancelBooking'])
  })

  it('offers keeping ours only when we have a version, and a merge only when both sides exist', () => {
    const both = problem({ kind: 'conflict', remote: { resourceType: 'Patient', id: 'p1' } })
    expect(problemActions(both)).toEqual(['keepLocal', 'takeRemote', 'merge'])
    expect(problemActions({ ...both, remote: null })).toEqual(['keepLocal', 'takeRemote'])
    expect(problemActions({ ...both, local: null })).toEqual(['takeRemote'])
  })

  it('says when dropping a change removes a record the portal never had', () => {
    expect(discardsNew('patient.create')).toBe(true)
    expect(discardsNew('appointment.book')).toBe(true)
    expect(discardsNew('patient.update')).toBe(false)
    expect(discardsNew('appointment.cancel')).toBe(false)
  })
})
