// Token state from the core, kept live by 'token.changed' events (a token pulled out and put
// back shows up without a restart). The newest scan wins, whichever way it arrived.
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { useEffect } from 'react'
import type { TokenState } from '../../../shared/model'
import type { Api } from '../api'
import { useApi } from '../context'

export const TOKEN_STATE_KEY = ['token.state'] as const

function newer(a: TokenState | undefined, b: TokenState): TokenState {
  return a && a.scannedAt > b.scannedAt ? a : b
}

export function storeTokenState(qc: QueryClient, state: TokenState): void {
  qc.setQueryData<TokenState>(TOKEN_STATE_KEY, (old) => newer(old, state))
}

/** One definition of the token-state query, for the screen and for the start-up prefetch. */
export function tokenStateQuery(api: Api, qc: QueryClient) {
  return {
    queryKey: TOKEN_STATE_KEY,
    queryFn: async () => newer(qc.getQueryData<TokenState>(TOKEN_STATE_KEY), await api.call('token.state', {})),
    staleTime: Infinity,
    retry: false,
  } as const
}

export function useTokenState() {
  const api = useApi()
  const qc = useQueryClient()
  const query = useQuery(tokenStateQuery(api, qc))
  useEffect(() => api.on('token.changed', (state) => storeTokenState(qc, state)), [api, qc])
  const refresh = useMutation({
    mutationFn: () => api.call('token.refresh', {}),
    onSuccess: (state) => storeTokenState(qc, state),
  })
  return { query, refresh }
}
