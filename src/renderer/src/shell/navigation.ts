// Where the user is in the app after login: a small stack of screens (no URL router: the app is
// one window), shared through context so any screen can open another or go back.
import { createContext, useContext } from 'react'
import type { Role } from '../../../shared/model'

/** A rejected change being fixed: its id and the portal's message, shown on the patient card. */
export interface FixNote {
  changeId: string
  message: string
}

export type Route =
  | { area: 'home' }
  | { area: 'patients'; query: string }
  | { area: 'patient'; id: string | null; fix: FixNote | null }
  | { area: 'schedule'; patient: { id: string; name: string } | null }
  | { area: 'sync' }
  | { area: 'audit' }

export type Area = Route['area']

/** The areas of the navigation bar, in order; a patient card belongs to «Пациенты». */
export const NAV_AREAS = ['home', 'patients', 'schedule', 'sync', 'audit'] as const
export type NavArea = (typeof NAV_AREAS)[number]

export function navAreaOf(route: Route): NavArea {
  return route.area === 'patient' ? 'patients' : route.area
}

/** The first screen of each area. */
export function areaRoute(area: NavArea): Route {
  switch (area) {
    case 'patients':
      return { area, query: '' }
    case 'schedule':
      return { area, patient: null }
    default:
      return { area }
  }
}

/** Staff who register patients and book appointments. */
export const REGISTRAR_ROLES: readonly Role[] = ['registrar', 'nurse', 'doctor', 'head']

export function canUseRegistrar(roles: readonly Role[]): boolean {
  return roles.some((r) => REGISTRAR_ROLES.includes(r))
}

/** The most screens kept to go back through. */
export const HISTORY_LIMIT = 20

export function pushRoute(stack: readonly Route[], route: Route): Route[] {
  return [...stack, route].slice(-HISTORY_LIMIT)
}

export function popRoute(stack: readonly Route[]): Route[] {
  return stack.length > 1 ? stack.slice(0, -1) : [{ area: 'home' }]
}

export function replaceRoute(stack: readonly Route[], route: Route): Route[] {
  return [...stack.slice(0, -1), route]
}

export interface Navigation {
  route: Route
  go: (route: Route) => void
  /** Replaces the current screen (e.g. the search text of «Пациенты»), nothing to go back to. */
  replace: (route: Route) => void
  back: () => void
}

export const NavContext = createContext<Navigation | null>(null)

export function useNav(): Navigation {
  const nav = useContext(NavContext)
  if (!nav) throw new Error('NavContext is not provided')
  return nav
}
