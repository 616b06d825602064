// Test support: the AppError a call must fail with (any code, or one catalogue code).
import { expect } from 'vitest'
import { AppError } from '../../src/shared/errors'

export async function rejection(p: Promise<unknown>, code: string): Promise<AppError> {
  const e = await p.then(
    () => {
      throw new Error(`expected ${code}, the call succeeded`)
    },
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(AppError)
  expect((e as AppError).code).toBe(code)
  return e as AppError
}

/** The AppError `fn` throws; anything else (or no throw) fails the test. */
export function thrownAppError(fn: () => unknown): AppError {
  try {
    fn()
  } catch (e) {
    if (e instanceof AppError) return e
    throw new Error(`expected an AppError, got ${String(e)}`)
  }
  throw new Error('expected a failure')
}

/** The AppError `p` rejects with; anything else (or success) fails the test. */
export async function rejectedAppError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p
  } catch (e) {
    if (e instanceof AppError) return e
    throw new Error(`expected an AppError, got ${String(e)}`)
  }
  throw new Error('expected a rejection')
}
