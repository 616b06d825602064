// The typed client of the RPC contract for the UI: `api.call('token.state', {})` returns the
// method's output type (validated again here with the contract's schema) or throws an
// ApiError carrying AppErrorData; `api.on('token.changed', cb)` delivers validated payloads.
import { AppError, type AppErrorData } from '../../shared/errors'
import {
  events,
  methods,
  rpcResultSchema,
  type Bridge,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
} from '../../shared/rpc/contract'

/** A failed call as the UI sees it: a catalogue code and its parameters, nothing else. */
export class ApiError extends Error {
  readonly data: AppErrorData

  constructor(data: AppErrorData) {
    super(data.code)
    this.name = 'ApiError'
    this.data = data
  }

  get code(): AppErrorData['code'] {
    return this.data.code
  }
}

/** Anything caught around an API call → the AppErrorData to show. */
export function errorData(e: unknown): AppErrorData {
  if (e instanceof ApiError) return e.data
  return new AppError('INTERNAL').toData()
}

export interface Api {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void
}

export function createApi(bridge: Bridge): Api {
  return {
    async call(method, input) {
      let raw: unknown
      try {
        raw = await bridge.invoke(method, input)
      } catch {
        throw new ApiError(new AppError('INTERNAL').toData())
      }
      const result = rpcResultSchema.safeParse(raw)
      if (!result.success) throw new ApiError(new AppError('INTERNAL').toData())
      if (!result.data.ok) throw new ApiError(result.data.error)
      const output = methods[method].output.safeParse(result.data.value)
      if (!output.success) throw new ApiError(new AppError('INTERNAL').toData())
      return output.data as MethodOutput<typeof method>
    },
    on(event, listener) {
      return bridge.subscribe(event, (raw) => {
        const parsed = events[event].safeParse(raw)
        if (parsed.success) listener(parsed.data as EventPayload<typeof event>)
      })
    },
  }
}
