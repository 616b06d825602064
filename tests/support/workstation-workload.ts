// The crash tests' workload, shared by the child (tests/support/workstation-child.ts) and the
// parent test: its configuration, the seeded PRNG and the deterministic patient data (unique
// СНИЛС with a valid checksum per registration, a unique phone per save).
import { snilsWithChecksum } from '../../src/shared/validators'
import type { PatientForm } from '../../src/shared/registrar'

export interface ChildConfig {
  storeDir: string
  portalUrl: string
  caFile: string
  /** Demo registrar's login and password. */
  login: string
  password: string
  /** online: password + one-time code from the parent; offline: the credential kept in the store. */
  loginMode: 'online' | 'offline'
  /** writes: patients.save only; sync: a few saves, then sync.now, again and again. */
  work: 'writes' | 'sync'
  seed: number
  /** This child's number in its phase: its new patients' СНИЛС and every phone it writes carry it. */
  gen: number
  /** Two digits: the test's СНИЛС range. */
  prefix: string
  /** One digit: the phase of the test (patients of different phases never share a СНИЛС). */
  phase: number
  /** At most this many saves (< 100), then `done`. */
  maxOps: number
  /** СНИЛС of patients this child may edit (if they are in its store). */
  candidates: string[]
  /** Share of saves that register a new patient (the rest edit a candidate). */
  createShare: number
  /** The shipped defaults (resources/config/default.json of the project; a bundle has no copy). */
  defaultsFile: string
  portalTimeoutMs?: number
  offlineLoginDays?: number
}

/** Deterministic PRNG: the fault proxy's (one mulberry32 for the tests). */
export { seededRandom as prng } from './fault-proxy'

const pad = (n: number, width: number): string => String(n).padStart(width, '0')

/** The СНИЛС of the i-th patient a child registers: prefix, phase, generation, index — unique. */
export function childSnils(prefix: string, phase: number, gen: number, i: number): string {
  return snilsWithChecksum(`${prefix}${phase}${pad(gen, 3)}${pad(i, 3)}`)
}

/** The phone of the i-th save of a child: unique per save, so the portal shows which save won. */
export function childPhone(phase: number, gen: number, i: number): string {
  return `+79${phase}${pad(gen, 4)}${pad(i, 3)}1`
}

const FAMILIES = ['Кравцова', 'Рябинина', 'Сомова', 'Ладыгина', 'Зотова'] as const
const GIVEN = ['Анна', 'Вера', 'Ольга', 'Нина', 'Мария'] as const

export function childForm(snils: string, phone: string, n: number): PatientForm {
  return {
    family: FAMILIES[n % FAMILIES.length]!,
    given: GIVEN[Math.floor(n / 5) % GIVEN.length]!,
    patronymic: 'Сергеевна',
    gender: 'female',
    birthDate: `19${pad(50 + (n % 50), 2)}-${pad(1 + (n % 12), 2)}-${pad(1 + (n % 28), 2)}`,
    snils,
    oms: '',
    phone,
    address: `г. Тверь, ул. Крашенинникова, д. ${n % 200}, тел. ${phone}`,
  }
}
