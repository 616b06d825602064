import { describe, expect, it } from 'vitest'
import { AppError } from '../../shared/errors'
import type { Handlers } from '../../shared/rpc/contract'
import { certificate, createTransportCore, token, tokenState } from '../../../tests/support/transport-core'
import { checkEvent, createDispatcher } from './dispatcher'

function setup(overrides: Partial<Handlers> = {}) {
  const core = createTransportCore(
    tokenState({
      tokens: [token('t1', 'Врач')],
      certificates: [certificate({ tokenId: 't1', tokenLabel: 'Врач', ckaId: '01', fullName: 'Иванов Иван Иванович' })],
    }),
  )
  const lines: string[] = []
  const dispatch = createDispatcher({ ...core.handlers, ...overrides }, { log: (l) => lines.push(l) })
  return { core, dispatch, lines }
}

describe('createDispatcher', () => {
  it('calls the handler and returns its output', async () => {
    const { dispatch, core } = setup()
    const result = await dispatch('token.state', {})
    expect(result.ok).toBe(true)
    expect(result.ok && (result.value as { tokens: unknown[] }).tokens).toHaveLength(1)
    expect(core.calls).toEqual(['token.state'])
  })

  it('treats a missing input of a no-argument method as {}', async () => {
    const { dispatch } = setup()
    expect((await dispatch('app.info', undefined)).ok).toBe(true)
  })

  it('refuses unknown and non-string methods with INVALID_INPUT, without calling anything', async () => {
    const { dispatch, core } = setup()
    for (const m of ['nope', '__proto__', 'constructor', 'toString', 42, null, { method: 'token.state' }]) {
      expect(await dispatch(m, {})).toEqual({ ok: false, error: { code: 'INVALID_INPUT', params: {} } })
    }
    expect(core.calls).toEqual([])
  })

  it('refuses input that does not match the schema, and never logs its values', async () => {
    const { dispatch, core, lines } = setup()
    const bad = [
      { certificateId: '', pin: '1234' },
      { certificateId: 't1/01' },
      { certificateId: 't1/01', pin: 'x'.repeat(65) },
      { certificateId: 't1/01', pin: 'secret-pin', extra: true },
      'string',
    ]
    for (const input of bad) {
      expect(await dispatch('auth.loginWithCertificate', input)).toEqual({ ok: false, error: { code: 'INVALID_INPUT', params: {} } })
    }
    expect(await dispatch('token.state', { unexpected: 1 })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } })
    expect(core.calls).toEqual([])
    expect(lines.join('\n')).not.toContain('secret-pin')
  })

  it('passes AppErrors on as data (code and params only)', async () => {
    const { dispatch, lines } = setup({
      'token.refresh': async () => {
        throw new AppError('PIN_INCORRECT', { triesLeft: 2 }, 'CKR_PIN_INCORRECT from C_Login')
      },
    })
    expect(await dispatch('token.refresh', {})).toEqual({ ok: false, error: { code: 'PIN_INCORRECT', params: { triesLeft: 2 } } })
    expect(lines.some((l) => l.includes('CKR_PIN_INCORRECT'))).toBe(true)
  })

  it('turns any other failure into INTERNAL, keeping the details for the log only', async () => {
    const { dispatch, lines } = setup({
      'app.info': async () => {
        throw new TypeError('Cannot read properties of undefined (reading "x") at /home/user/secret/path.ts:12')
      },
    })
    const result = await dispatch('app.info', {})
    expect(result).toEqual({ ok: false, error: { code: 'INTERNAL', params: {} } })
    expect(JSON.stringify(result)).not.toContain('secret')
    expect(lines.join('\n')).toContain('Cannot read properties')
  })

  it('refuses handler output that breaks the contract', async () => {
    const { dispatch, lines } = setup({
      'app.info': async () => ({ name: 'x' }) as never,
    })
    expect(await dispatch('app.info', {})).toEqual({ ok: false, error: { code: 'INTERNAL', params: {} } })
    expect(lines.join('\n')).toContain('output does not match the contract')
  })

  it('runs a whole login through the contract', async () => {
    const { dispatch } = setup()
    const result = await dispatch('auth.loginWithCertificate', { certificateId: 't1/01', pin: '12345678' })
    expect(result).toMatchObject({ ok: true, value: { method: 'eds', user: { fullName: 'Иванов Иван Иванович' } } })
  })
})

describe('checkEvent', () => {
  it('passes contract events and drops the rest', () => {
    const lines: string[] = []
    const log = (l: string) => lines.push(l)
    expect(checkEvent('auth.progress', { stage: 'pin' }, log)).toEqual({ event: 'auth.progress', payload: { stage: 'pin' } })
    expect(checkEvent('auth.progress', { stage: 'hacking' }, log)).toBeNull()
    expect(checkEvent('token.changed', { tokens: [] }, log)).toBeNull()
    expect(checkEvent('shell.exec', {}, log)).toBeNull()
    expect(lines).toHaveLength(3)
  })
})
