// Shared data hooks of the registrar screens: the sync status (fetched once, then kept current
// by 'sync.status' events), the doctors, «Синхронизировать», refreshing after a write, and the
// subscriptions that keep lists fresh ('data.changed').
import { useMutation, useMutationState, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import type { AppErrorData } from '../../../shared/errors'
import type { SyncStatus } from '../../../shared/registrar'
import { errorData } from '../api'
import { useApi } from '../context'
import { KEYS, keysForTypes } from './query-keys'

export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

export function useSyncStatus() {
  const api = useApi()
  return useQuery({ queryKey: KEYS.syncStatus, queryFn: () => api.call('sync.status', {}), staleTime: Infinity, retry: false })
}

/** A new status from the core; the problems list is re-read when its counts change. */
export function storeSyncStatus(qc: QueryClient, status: SyncStatus): void {
  const before = qc.getQueryData<SyncStatus>(KEYS.syncStatus)
  qc.setQueryData(KEYS.syncStatus, status)
  if (!before || before.rejected !== status.rejected || before.conflicts !== status.conflicts) {
    void qc.invalidateQueries({ queryKey: KEYS.problems })
  }
}

/** Marks the lists showing these FHIR types stale (after a write here, or a 'data.changed' event). */
export function refreshTypes(qc: QueryClient, types: readonly string[]): void {
  for (const queryKey of keysForTypes(types)) void qc.invalidateQueries({ queryKey })
}

/** The shell's subscriptions: sync status and changed data. Mounted once, for the whole session. */
export function useRegistrarEvents(): void {
  const api = useApi()
  const qc = useQueryClient()
  useEffect(() => api.on('sync.status', (status) => storeSyncStatus(qc, status)), [api, qc])
  useEffect(() => api.on('data.changed', ({ types }) => refreshTypes(qc, types)), [api, qc])
}

export function useDoctors() {
  const api = useApi()
  return useQuery({ queryKey: KEYS.doctors, queryFn: () => api.call('schedule.doctors', {}), staleTime: 60_000, retry: false })
}

const SYNC_NOW = ['sync.now'] as const

export function useSyncNow() {
  const api = useApi()
  const qc = useQueryClient()
  return useMutation({
    mutationKey: SYNC_NOW,
    mutationFn: () => api.call('sync.now', {}),
    onSuccess: (status) => storeSyncStatus(qc, status),
  })
}

/** The last «Синхронизировать» press, wherever it was pressed: its failure (null when it did not fail) and when. */
export function useLastSyncNowFailure(): { error: AppErrorData; at: number } | null {
  const runs = useMutationState({
    filters: { mutationKey: SYNC_NOW },
    select: (m) => ({ status: m.state.status, error: m.state.error, at: m.state.submittedAt }),
  })
  const last = runs[runs.length - 1]
  return last?.status === 'error' ? { error: errorData(last.error), at: last.at } : null
}
