// Phase timings of token work, in milliseconds. Every worker response carries the phases it went
// through, so the benchmark and the log can split a login into library load, C_Initialize,
// discovery, C_Login and C_Sign.

export type Phase =
  /** dlopen + C_GetFunctionList */
  | 'libraryLoad'
  /** C_Initialize (and C_Finalize + C_Initialize on re-initialisation) */
  | 'initialize'
  /** slots, token info, certificates and key objects */
  | 'discovery'
  /** C_OpenSession for the login session */
  | 'session'
  | 'login'
  /** key lookup + C_SignInit + C_Sign (+ software hash) */
  | 'sign'
  | 'logout'
  | 'finalize'

export type Timings = Partial<Record<Phase, number>>

/** Runs `fn`, adding its wall time to `timings[phase]` (also when it throws). */
export function timePhase<T>(timings: Timings, phase: Phase, fn: () => T): T {
  const t0 = performance.now()
  try {
    return fn()
  } finally {
    timings[phase] = (timings[phase] ?? 0) + (performance.now() - t0)
  }
}

/** «libraryLoad 3.1 ms, initialize 0.4 ms, …» for logs and the benchmark. */
export function formatTimings(t: Timings): string {
  return (Object.entries(t) as [Phase, number][]).map(([k, v]) => `${k} ${v.toFixed(2)} ms`).join(', ')
}
