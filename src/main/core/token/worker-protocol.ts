// Messages between the token service (main thread) and the token worker. Plain structured-clone
// data: errors travel as AppErrorData plus a technical `details` string for the log.
import type { AppErrorData } from '../../../shared/errors'
import type { TokenState } from '../../../shared/model'
import type { LibraryEntry } from './libraries'
import type { SignResult } from './pkcs11-module'
import type { Timings } from './timings'

export interface WorkerInit {
  libraries: LibraryEntry[]
  pollIntervalMs: number
  reinitOnPoll: 'auto' | 'always' | 'never'
}

export interface WorkerOps {
  state: { args: []; value: TokenState }
  refresh: { args: []; value: TokenState }
  login: { args: [certificateId: string, pin: string | null]; value: null }
  sign: { args: [certificateId: string, data: Uint8Array]; value: SignResult }
  /** Several signatures in one request (a chunk of a batch): one round trip, not one each. */
  signMany: { args: [certificateId: string, items: Uint8Array[]]; value: SignResult[] }
  certificate: { args: [certificateId: string]; value: Uint8Array }
  /** Logs out the token of one certificate, or every token (null). */
  logout: { args: [certificateId: string | null]; value: null }
  /** Token ids with a kept, logged-in session. */
  loggedIn: { args: []; value: string[] }
  close: { args: []; value: null }
}
export type WorkerOp = keyof WorkerOps

export interface WorkerRequest<O extends WorkerOp = WorkerOp> {
  id: number
  op: O
  args: WorkerOps[O]['args']
}

/** Where the time of one request went: PKCS#11 phases, and the whole request inside the worker. */
export interface OpTimings {
  phases: Timings
  workerMs: number
}

export type WorkerResponse =
  | { type: 'response'; id: number; ok: true; value: unknown; timings: OpTimings }
  | { type: 'response'; id: number; ok: false; error: AppErrorData; details: string | null; timings: OpTimings }

export type WorkerEvent =
  /** Libraries loaded and first scan done. */
  | { type: 'ready'; state: TokenState; timings: OpTimings }
  /** Tokens appeared, disappeared or changed their PIN flags: a full fresh state. */
  | { type: 'change'; state: TokenState }
  /** A problem outside any request (polling), for the log. */
  | { type: 'log'; message: string }
  /** Logged-in sessions ended because their tokens were pulled out (token ids). */
  | { type: 'sessionLost'; tokenIds: string[] }

export type WorkerMessage = WorkerResponse | WorkerEvent
