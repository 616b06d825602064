// The typed API for components.
import { createContext, useContext } from 'react'
import type { AppInfo } from '../../shared/rpc/contract'
import type { Api } from './api'

export const ApiContext = createContext<Api | null>(null)

export function useApi(): Api {
  const api = useContext(ApiContext)
  if (!api) throw new Error('ApiContext is not provided')
  return api
}

export const AppInfoContext = createContext<AppInfo | null>(null)
