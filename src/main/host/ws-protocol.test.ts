// The Node host's message codec (src/shared/rpc/ws-protocol.ts), used by the host and the
// renderer's WebSocket bridge alike.
import { describe, expect, it } from 'vitest'
import {
  MAX_MESSAGE_BYTES,
  decodeClientMessage,
  decodeServerMessage,
  encodeMessage,
  hashForSecret,
  secretFromHash,
} from '../../shared/rpc/ws-protocol'

describe('client messages', () => {
  it('round-trips hello and invoke', () => {
    const hello = { t: 'hello', secret: 'abc' } as const
    const invoke = { t: 'invoke', id: 7, method: 'token.state', input: {} } as const
    expect(decodeClientMessage(encodeMessage(hello))).toEqual(hello)
    expect(decodeClientMessage(encodeMessage(invoke))).toEqual(invoke)
  })

  it('rejects anything else', () => {
    for (const raw of [
      'not json',
      '{}',
      '[]',
      'null',
      JSON.stringify({ t: 'hello' }),
      JSON.stringify({ t: 'hello', secret: '' }),
      JSON.stringify({ t: 'hello', secret: 'a', extra: 1 }),
      JSON.stringify({ t: 'invoke', id: -1, method: 'x', input: {} }),
      JSON.stringify({ t: 'invoke', id: 1.5, method: 'x', input: {} }),
      JSON.stringify({ t: 'invoke', id: 1, method: 5, input: {} }),
      JSON.stringify({ t: 'result', id: 1, result: { ok: true, value: 1 } }),
      JSON.stringify({ t: 'invoke', id: 1, method: 'x', input: 'y'.repeat(MAX_MESSAGE_BYTES) }),
      Buffer.from('{"t":"hello","secret":"a"}'),
      42,
    ]) {
      expect(decodeClientMessage(raw)).toBeNull()
    }
  })
})

describe('server messages', () => {
  it('round-trips ready, results and events', () => {
    const messages = [
      { t: 'ready' },
      { t: 'result', id: 1, result: { ok: true, value: { a: 1 } } },
      { t: 'result', id: 2, result: { ok: false, error: { code: 'PIN_INCORRECT', params: { triesLeft: 2 } } } },
      { t: 'event', event: 'auth.progress', payload: { stage: 'pin' } },
    ] as const
    for (const m of messages) expect(decodeServerMessage(encodeMessage(m))).toEqual(m)
  })

  it('fills in missing error params and rejects unknown error codes', () => {
    expect(decodeServerMessage(JSON.stringify({ t: 'result', id: 1, result: { ok: false, error: { code: 'BUSY' } } }))).toEqual({
      t: 'result',
      id: 1,
      result: { ok: false, error: { code: 'BUSY', params: {} } },
    })
    expect(decodeServerMessage(JSON.stringify({ t: 'result', id: 1, result: { ok: false, error: { code: 'CKR_PIN_INCORRECT' } } }))).toBeNull()
    expect(decodeServerMessage(JSON.stringify({ t: 'hello', secret: 'x' }))).toBeNull()
  })
})

describe('secret in the URL fragment', () => {
  it('round-trips a base64url secret', () => {
    const secret = 'q3-_Zx'.repeat(7)
    expect(secretFromHash(hashForSecret(secret))).toBe(secret)
    expect(secretFromHash(`#a=1&k=${secret}`)).toBe(secret)
  })

  it('ignores absent, short or malformed secrets', () => {
    expect(secretFromHash('')).toBeNull()
    expect(secretFromHash('#')).toBeNull()
    expect(secretFromHash('#k=short')).toBeNull()
    expect(secretFromHash(`#k=${'a'.repeat(20)}<script>`)).toBeNull()
    expect(secretFromHash(`#x=${'a'.repeat(40)}`)).toBeNull()
  })
})
