// How the sync state reads (pure): offline or not and why, busy with what, how many problems
// wait for the user, and what can be done about each problem.
import type { AppErrorData } from '../../../shared/errors'
import type { SyncProblem, SyncStatus } from '../../../shared/registrar'

export interface SyncView {
  /** Why the workstation works without the portal: an offline login, or no answer from the portal. */
  offline: 'session' | 'network' | null
  /** Pulling or pushing right now. */
  busy: 'pulling' | 'pushing' | null
  /** Progress of the running phase in percent, when its total is known. */
  percent: number | null
  /** Rejected changes and conflicts together. */
  problems: number
  /** Nothing waits: no unsent change, none refused, no conflict («Всё отправлено»). */
  allSent: boolean
  needsLogin: boolean
  /**
   * The error to show in the header. An offline login with the portal out of reach is the normal
   * state of offline work, not an error: «Автономный режим» says it.
   */
  error: AppErrorData | null
}

export function syncView(status: SyncStatus | undefined, sessionOffline: boolean): SyncView {
  const offline = sessionOffline ? 'session' : status && (!status.online || status.phase === 'offline') ? 'network' : null
  const busy = status?.phase === 'pulling' || status?.phase === 'pushing' ? status.phase : null
  const p = busy ? status?.progress : null
  const percent = p && p.total !== null && p.total > 0 ? Math.min(100, Math.round((p.done / p.total) * 100)) : null
  const problems = (status?.rejected ?? 0) + (status?.conflicts ?? 0)
  const lastError = status?.lastError ?? null
  const expected = sessionOffline && lastError?.code === 'OFFLINE_SESSION' && status?.phase === 'offline'
  return {
    offline,
    busy,
    percent,
    problems,
    allSent: (status?.pending ?? 0) === 0 && problems === 0,
    needsLogin: status?.phase === 'needsLogin',
    error: expected ? null : lastError,
  }
}

/** A problem as the user meets it: refused by the portal, changed there meanwhile, or a booking lost to someone else. */
export type ProblemKind = 'rejected' | 'conflict' | 'slotTaken'

export function problemKind(problem: Pick<SyncProblem, 'kind' | 'slotTaken'>): ProblemKind {
  return problem.kind === 'rejected' ? 'rejected' : problem.slotTaken ? 'slotTaken' : 'conflict'
}

/**
 * What the problem card offers, in order. Rejected: «Исправить» (patients only: the card), «Отправить
 * снова», «Отменить изменение» (any change: the portal's version comes back). A lost booking:
 * «Выбрать другое время» (the appointment the change books) and «Отменить запись». A conflict:
 * keep ours (when we have a version), take the portal's, merge (when both exist).
 */
export type ProblemAction = 'fix' | 'retry' | 'discard' | 'move' | 'cancelBooking' | 'keepLocal' | 'takeRemote' | 'merge'

export function problemActions(problem: Pick<SyncProblem, 'kind' | 'slotTaken' | 'resourceType' | 'appointmentId' | 'local' | 'remote'>): ProblemAction[] {
  switch (problemKind(problem)) {
    case 'rejected':
      return [...(problem.resourceType === 'Patient' ? (['fix'] as const) : []), 'retry', 'discard']
    case 'slotTaken':
      return [...(problem.appointmentId !== null ? (['move'] as const) : []), 'cancelBooking']
    case 'conflict':
      return [
        ...(problem.local !== null ? (['keepLocal'] as const) : []),
        'takeRemote',
        ...(problem.local !== null && problem.remote !== null ? (['merge'] as const) : []),
      ]
  }
}

/** Dropping this change removes the record from this workstation: it was never on the portal. */
export function discardsNew(action: SyncProblem['action']): boolean {
  return action === 'patient.create' || action === 'appointment.book'
}
