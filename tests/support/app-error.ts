// Test support: awaits a promise that must fail with one catalogue code, and returns the error.
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
