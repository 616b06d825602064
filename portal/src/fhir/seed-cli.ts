// `portal seed`: fills the FHIR store with demo patients (seed.ts) and reports in Russian how it
// went. main.ts loads this module only for this command: faker and its locales are heavy.
import { isValidOgrn } from '../../../src/shared/validators'
import type { FhirResourceType } from '../../../src/shared/fhir/systems'
import { DEMO_ORG } from '../../../scripts/demo/people'
import { UsageError } from '../cli-errors'
import type { Db } from '../db'
import { DEFAULT_SEED, MAX_SEED_PATIENTS } from './seed-options'
import { seedFhir, type SeedProgress, type SeedResult } from './seed'

export interface SeedCliValues {
  patients?: string
  ogrn?: string
  org?: string
  seed?: string
  batch?: string
  quiet?: boolean
}

const TYPE_LABELS: Readonly<Record<FhirResourceType, string>> = {
  Organization: 'организации',
  Practitioner: 'врачи',
  PractitionerRole: 'должности врачей',
  Schedule: 'расписания',
  Slot: 'окна записи',
  Patient: 'пациенты',
  Encounter: 'приёмы',
  Condition: 'диагнозы (МКБ-10)',
  Observation: 'измерения (АД, ЧСС, температура, рост, вес)',
  MedicationRequest: 'назначения лекарств',
  Appointment: 'записи на приём',
  DocumentReference: 'документы',
}

const number = new Intl.NumberFormat('ru-RU')
const fmt = (n: number) => number.format(Math.round(n))

/** «12,3 с», «4 мин 05 с», «1 ч 02 мин». */
export function formatDurationRu(ms: number): string {
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1).replace('.', ',')} с`
  const whole = Math.round(s)
  if (whole < 3600) return `${Math.floor(whole / 60)} мин ${String(whole % 60).padStart(2, '0')} с`
  return `${Math.floor(whole / 3600)} ч ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} мин`
}

function parseWhole(text: string | undefined, name: string, fallback: number | null, min: number, max: number): number {
  if (text === undefined) {
    if (fallback === null) throw new UsageError(`Не указан --${name}`)
    return fallback
  }
  const n = Number(text)
  if (!/^\d{1,10}$/.test(text) || n < min || n > max) throw new UsageError(`Неверный --${name}: ${text} (целое число от ${fmt(min)} до ${fmt(max)})`)
  return n
}

export function summaryLines(r: SeedResult, patients: number, ogrn: string): string[] {
  const seconds = Math.max(r.elapsedMs, 1) / 1000
  const width = Math.max(...Object.values(r.counts).map((n) => fmt(n).length))
  return [
    `Готово за ${formatDurationRu(r.elapsedMs)}. Записано ресурсов FHIR: ${fmt(r.resources)} (в секунду: ${fmt(r.resources / seconds)}; пациентов в секунду: ${fmt(patients / seconds)}).`,
    `Организация ОГРН ${ogrn}: Organization/${r.organizationId}${r.organizationCreated ? '' : ' (уже была в базе)'}.`,
    ...Object.entries(r.counts)
      .filter(([, n]) => n > 0)
      .map(([type, n]) => `  ${fmt(n).padStart(width)}  ${type} — ${TYPE_LABELS[type as FhirResourceType]}`),
  ]
}

/** Runs the command; progress goes to `write` at most about once a second. */
export async function runSeedCommand(values: SeedCliValues, withDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>, write: (line: string) => void): Promise<void> {
  const patients = parseWhole(values.patients, 'patients', null, 1, MAX_SEED_PATIENTS)
  const seed = parseWhole(values.seed, 'seed', DEFAULT_SEED, 0, 0x7fffffff)
  const batchSize = parseWhole(values.batch, 'batch', 1000, 1, 20_000)
  const ogrn = values.ogrn ?? values.org ?? DEMO_ORG.ogrn
  if (!isValidOgrn(ogrn) || ogrn.length !== 13) throw new UsageError(`Неверный ОГРН: ${ogrn} (13 цифр с верной контрольной цифрой)`)
  const quiet = values.quiet === true
  if (!quiet) write(`Создаю демо-данные FHIR. Пациентов: ${fmt(patients)}, ОГРН ${ogrn}, --seed ${seed}…`)
  let lastPrint = 0
  const progress = (p: SeedProgress) => {
    if (quiet || (p.patientsDone < p.patients && p.elapsedMs - lastPrint < 1000)) return
    lastPrint = p.elapsedMs
    const percent = p.patients > 0 ? Math.floor((p.patientsDone / p.patients) * 100) : 100
    write(`  пациенты: ${fmt(p.patientsDone)} из ${fmt(p.patients)} (${percent} %), ресурсов: ${fmt(p.resources)}, в секунду: ${fmt(p.resources / Math.max(p.elapsedMs / 1000, 0.001))}`)
  }
  const result = await withDb((db) => seedFhir(db, { patients, organisationOgrn: ogrn, seed, batchSize, onProgress: progress }))
  if (quiet) write(`Демо-данные FHIR: пациентов — ${fmt(patients)}, ресурсов — ${fmt(result.resources)}, за ${formatDurationRu(result.elapsedMs)} (ОГРН ${ogrn}).`)
  else for (const line of summaryLines(result, patients, ogrn)) write(line)
}
