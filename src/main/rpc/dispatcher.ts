// The one server side of the RPC contract, shared by both transports (Electron IPC and the Node
// host). Everything that arrives is untrusted: the method name is checked against the contract,
// input and output are parsed with the contract's zod schemas, and failures leave as
// AppErrorData only — details go to the log, never over the wire.
import { AppError, toAppError } from '../../shared/errors'
import {
  events,
  isEventName,
  isMethodName,
  methods,
  type EventName,
  type Handlers,
  type RpcResult,
} from '../../shared/rpc/contract'

export type Dispatch = (method: unknown, input: unknown) => Promise<RpcResult>

export interface DispatcherOptions {
  /** Where technical details of failures go (default: stderr). Never the PIN: inputs are not logged. */
  log?: (line: string) => void
}

const defaultLog = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

function describeMethod(method: unknown): string {
  return typeof method === 'string' ? JSON.stringify(method.slice(0, 80)) : typeof method
}

export function createDispatcher(handlers: Handlers, options: DispatcherOptions = {}): Dispatch {
  const log = options.log ?? defaultLog
  return async (method, input) => {
    if (!isMethodName(method)) {
      log(`rpc: unknown method ${describeMethod(method)}`)
      return { ok: false, error: new AppError('INVALID_INPUT').toData() }
    }
    const spec = methods[method]
    const parsed = spec.input.safeParse(input ?? {})
    if (!parsed.success) {
      // Paths and issue codes only: values (a PIN) must not reach the log.
      const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join('; ')
      log(`rpc: ${method}: invalid input (${where})`)
      return { ok: false, error: new AppError('INVALID_INPUT').toData() }
    }
    try {
      const handler = handlers[method] as (input: unknown) => Promise<unknown>
      const value = await handler(parsed.data)
      const output = spec.output.safeParse(value)
      if (!output.success) {
        const where = output.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
        throw new AppError('INTERNAL', {}, `${method}: output does not match the contract (${where})`)
      }
      return { ok: true, value: output.data }
    } catch (e) {
      const err = toAppError(e)
      log(`rpc: ${method} failed: ${err.code}${err.details ? ` (${err.details})` : ''}`)
      return { ok: false, error: err.toData() }
    }
  }
}

/**
 * Checks an event the core emits against the contract before a transport sends it. Returns the
 * parsed payload, or null (logged) when the name or payload is not what the contract says.
 */
export function checkEvent(
  event: unknown,
  payload: unknown,
  log: (line: string) => void = defaultLog,
): { event: EventName; payload: unknown } | null {
  if (!isEventName(event)) {
    log(`rpc: dropped unknown event ${describeMethod(event)}`)
    return null
  }
  const parsed = events[event].safeParse(payload)
  if (!parsed.success) {
    log(`rpc: dropped event ${event}: payload does not match the contract`)
    return null
  }
  return { event, payload: parsed.data }
}
