import { describe, expect, it } from 'vitest'
import { areaRoute, canUseRegistrar, HISTORY_LIMIT, navAreaOf, NAV_AREAS, popRoute, pushRoute, replaceRoute, type Route } from './navigation'

describe('navigation', () => {
  it('shows the registrar areas to registrars, nurses, doctors and heads, not to administrators alone', () => {
    expect(canUseRegistrar(['registrar'])).toBe(true)
    expect(canUseRegistrar(['nurse'])).toBe(true)
    expect(canUseRegistrar(['doctor'])).toBe(true)
    expect(canUseRegistrar(['head'])).toBe(true)
    expect(canUseRegistrar(['admin', 'doctor'])).toBe(true)
    expect(canUseRegistrar(['admin'])).toBe(false)
    expect(canUseRegistrar([])).toBe(false)
  })

  it('opens each area on its first screen, and counts a patient card as «Пациенты»', () => {
    for (const area of NAV_AREAS) expect(navAreaOf(areaRoute(area))).toBe(area)
    expect(areaRoute('patients')).toEqual({ area: 'patients', query: '' })
    expect(navAreaOf({ area: 'patient', id: 'p1', fix: null })).toBe('patients')
  })

  it('goes forward and back through a bounded stack, never below the home screen', () => {
    const home: Route[] = [{ area: 'home' }]
    const list = pushRoute(home, { area: 'patients', query: 'иван' })
    const card = pushRoute(list, { area: 'patient', id: 'p1', fix: null })
    expect(popRoute(card)).toEqual(list)
    expect(popRoute(home)).toEqual(home)
    expect(replaceRoute(list, { area: 'patients', query: 'иванов' })).toEqual([{ area: 'home' }, { area: 'patients', query: 'иванов' }])
    let long: Route[] = home
    for (let i = 0; i < HISTORY_LIMIT * 2; i++) long = pushRoute(long, { area: 'sync' })
    expect(long).toHaveLength(HISTORY_LIMIT)
  })
})
