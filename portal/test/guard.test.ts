// Every endpoint but the public few refuses a request without a live session, and a route
// registered without the guard stops the portal from starting at all.
import 'reflect-metadata'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { portalErrorBodySchema } from '../../src/shared/portal-api'
import { installGuard, requireGuardOnEveryRoute } from '../src/auth/guard'
import { PUBLIC_PATHS } from '../src/server'
import { createTestPki, startTestPortal, type TestPortal } from './support'

let portal: TestPortal

beforeAll(async () => {
  portal = await startTestPortal(await createTestPki(), { rateLimit: false })
})
afterAll(async () => {
  await portal?.close()
})

const concrete = (url: string) => url.replace(':type', 'Patient').replace(':vid', '1').replace(/:[a-zA-Z]+/g, '11223344595')

describe('session guard', () => {
  it('guards every route that is not explicitly public', async () => {
    const guarded = portal.app.routeTable.filter((r) => !r.public && r.method !== 'HEAD')
    expect(guarded.length).toBeGreaterThan(15)
    for (const route of guarded) {
      const r = await portal.api(route.method as 'GET', concrete(route.url), route.method === 'GET' || route.method === 'DELETE' ? {} : { json: {} })
      expect({ route: `${route.method} ${route.url}`, status: r.status }).toEqual({ route: `${route.method} ${route.url}`, status: 401 })
      const body = r.body as { error?: unknown; resourceType?: string; issue?: Array<{ details: { coding: Array<{ code: string }> } }> }
      const code = body.resourceType === 'OperationOutcome' ? body.issue![0]!.details.coding[0]!.code : portalErrorBodySchema.parse(body).error.code
      expect(code).toBe('SESSION_EXPIRED')
    }
    const open = new Set(portal.app.routeTable.filter((r) => r.public).map((r) => r.url))
    expect(open).toContain('/api/v1/health')
    expect(open).toContain('/api/v1/fhir/metadata')
    for (const url of open) expect(PUBLIC_PATHS.has(url)).toBe(true)
  })

  it('refuses to register a route without the guard', async () => {
    const app = Fastify()
    requireGuardOnEveryRoute(app, new Set(['/open']))
    const guard = installGuard(app, { db: portal.db, now: () => new Date(), idleTimeoutSeconds: 60 })
    app.get('/open', async () => 'ok')
    app.get('/guarded', { preHandler: guard.require(['doctor']) }, async () => 'ok')
    expect(() => app.get('/forgotten', async () => 'oops')).toThrow(/GET \/forgotten has no session guard/)
    await app.close()
  })
})
