// Messages between the main process and the store worker.
import type { AppErrorData } from '../../../shared/errors'
import type { Store } from './store'

export interface StoreInit {
  file: string
  keyHex: string
}

/** The Store methods the main process may call. */
export const STORE_METHODS = [
  'getState',
  'setState',
  'get',
  'listByType',
  'searchPatients',
  'appointmentsOfPatient',
  'slotsOf',
  'appointmentsOfSlots',
  'commitChange',
  'nextChanges',
  'ackChange',
  'ackChanges',
  'rejectChange',
  'conflictChange',
  'counts',
  'problems',
  'change',
  'unsentChangeOf',
  'resolveKeep',
  'discard',
  'retry',
  'applyHistoryPages',
  'auditList',
  'getOfflineCredential',
  'putOfflineCredential',
] as const satisfies ReadonlyArray<keyof Store>

export type StoreMethod = (typeof STORE_METHODS)[number]

/** The store as the main process sees it: the same methods, answered asynchronously. */
export type AsyncStore = { [K in StoreMethod]: (...args: Parameters<Store[K]>) => Promise<ReturnType<Store[K]>> }

export interface StoreRequest {
  id: number
  method: StoreMethod | 'close'
  args: unknown[]
}

export type StoreReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: AppErrorData & { details: string | null } }
