import { describe, expect, it } from 'vitest'
import { ERROR_CODE_SYSTEM, ERROR_PARAMS_EXTENSION, errorOfOutcome, errorParamsExtension } from './outcome'

const outcomeWith = (code: string, params: Parameters<typeof errorParamsExtension>[0]) => {
  const extension = errorParamsExtension(params)
  return {
    resourceType: 'OperationOutcome',
    issue: [{ ...(extension ? { extension: [extension] } : {}), severity: 'error', code: 'conflict', details: { coding: [{ system: ERROR_CODE_SYSTEM, code }], text: 'x' } }],
  }
}

describe('error params in an OperationOutcome', () => {
  it('round-trips integers, decimals, strings and booleans, and leaves nulls out', () => {
    const params = { currentVersion: 3, ratio: 0.5, field: 'Patient.id', locked: true, big: 2 ** 40, none: null }
    expect(errorParamsExtension(params)).toEqual({
      url: ERROR_PARAMS_EXTENSION,
      extension: [
        { url: 'currentVersion', valueInteger: 3 },
        { url: 'ratio', valueDecimal: 0.5 },
        { url: 'field', valueString: 'Patient.id' },
        { url: 'locked', valueBoolean: true },
        { url: 'big', valueDecimal: 2 ** 40 },
      ],
    })
    const { none: _none, ...kept } = params
    expect(errorOfOutcome(outcomeWith('VERSION_CONFLICT', params))).toEqual({ code: 'VERSION_CONFLICT', params: kept })
  })

  it('has no extension without params, and reads such an outcome with empty params', () => {
    expect(errorParamsExtension({ currentVersion: null })).toBeNull()
    expect(errorOfOutcome(outcomeWith('NOT_FOUND', {}))).toEqual({ code: 'NOT_FOUND', params: {} })
  })

  it('returns null for anything that is not an outcome with a code of ours', () => {
    expect(errorOfOutcome(null)).toBeNull()
    expect(errorOfOutcome({ resourceType: 'Patient' })).toBeNull()
    expect(errorOfOutcome(outcomeWith('NO_SUCH_CODE', { a: 1 }))).toBeNull()
    expect(errorOfOutcome({ resourceType: 'OperationOutcome', issue: [{ details: { coding: [{ system: 'http://other', code: 'VERSION_CONFLICT' }] } }] })).toBeNull()
  })
})
