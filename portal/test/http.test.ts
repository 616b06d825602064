// The portal as an HTTPS service: TLS, health, security headers, body limits, error bodies.
import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { healthResponseSchema, portalErrorBodySchema } from '../../src/shared/portal-api'
import { BODY_LIMIT_BYTES } from '../src/server'
import { apiClient, createTestPki, getChallenge, openTestDb, startTestPortal, type TestPortal } from './support'

let portal: TestPortal

beforeAll(async () => {
  portal = await startTestPortal(await createTestPki())
})
afterAll(async () => {
  await portal?.close()
})

function expectInvalid(r: { status: number; body: unknown }, status = 400): void {
  expect(r.status).toBe(status)
  expect(portalErrorBodySchema.parse(r.body).error.code).toBe('INVALID_INPUT')
}

describe('portal over HTTPS', () => {
  it('answers health with the server time', async () => {
    const r = await portal.api('GET', '/api/v1/health')
    expect(r.status).toBe(200)
    const body = healthResponseSchema.parse(r.body)
    expect(Math.abs(Date.parse(body.serverTime) - Date.now())).toBeLessThan(5000)
  })

  it('is reachable only with TLS the client trusts', async () => {
    const stranger = apiClient(portal.url, portal.pki.untrustedCa.certPem)
    await expect(stranger('GET', '/api/v1/health')).rejects.toThrow(/certificate/i)
  })

  it('sends security headers on every answer, errors included', async () => {
    for (const r of [await portal.api('GET', '/api/v1/health'), await portal.api('GET', '/nowhere')]) {
      expect(r.headers['strict-transport-security']).toMatch(/max-age=\d+/)
      expect(r.headers['x-content-type-options']).toBe('nosniff')
      expect(r.headers['x-frame-options']).toBe('DENY')
      expect(r.headers['content-security-policy']).toContain("default-src 'none'")
      expect(r.headers['cache-control']).toBe('no-store')
      expect(r.headers['x-powered-by']).toBeUndefined()
    }
  })

  it('answers unknown routes with 404 in the error body shape', async () => {
    expectInvalid(await portal.api('GET', '/api/v1/nothing-here'), 404)
  })

  it('refuses oversize bodies with 413 before reading them', async () => {
    const big = JSON.stringify({ challengeId: 'x', signature: 'A'.repeat(BODY_LIMIT_BYTES) })
    expectInvalid(await portal.api('POST', '/api/v1/auth/eds', { raw: big }), 413)
  })

  it('refuses a signature longer than the contract allows', async () => {
    const c = await getChallenge(portal.api)
    expectInvalid(await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: c.challengeId, signature: 'A'.repeat(64 * 1024 + 4) } }))
  })

  it('refuses malformed JSON, wrong types, missing fields and other content types as INVALID_INPUT', async () => {
    const malformed = await portal.api('POST', '/api/v1/auth/eds', { raw: '{"challengeId": "secret-value' })
    expectInvalid(malformed)
    expect(malformed.text).not.toContain('secret-value')
    expectInvalid(await portal.api('POST', '/api/v1/auth/eds', { json: { challengeId: 5, signature: [] } }))
    expectInvalid(await portal.api('POST', '/api/v1/auth/eds', { json: {} }))
    expectInvalid(await portal.api('POST', '/api/v1/auth/eds'))
    expectInvalid(await portal.api('POST', '/api/v1/auth/eds', { raw: 'challengeId=x', headers: { 'content-type': 'text/plain' } }))
    expectInvalid(await portal.api('POST', '/api/v1/auth/eds', { raw: '<x/>', headers: { 'content-type': 'application/xml' } }), 415)
  })

  it('answers INTERNAL without a stack or detail when something unexpected fails', async () => {
    const db = await openTestDb()
    const broken = await startTestPortal(portal.pki, { db })
    try {
      await db.close()
      const r = await broken.api('GET', '/api/v1/health')
      expect(r.status).toBe(500)
      expect(portalErrorBodySchema.parse(r.body)).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error', params: {} } })
      expect(r.text).not.toMatch(/at .*\.ts|Error:|PGlite/i)
    } finally {
      await broken.app.close()
    }
  })
})
