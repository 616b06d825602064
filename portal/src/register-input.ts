// Field types of the register (СНИЛС, ОГРН, ИНН, dates, names) checked with the shared checksum
// validators, and the one place that turns a failed check into INVALID_INPUT with a Russian
// message naming the field: the HTTP error body, the CLI and the CSV import all show that text.
import { z } from 'zod'
import { AppError } from '../../src/shared/errors'
import { isValidInn, normalizeInn } from '../../src/shared/validators/inn'
import { isValidOgrn, isValidOgrnip } from '../../src/shared/validators/ogrn'
import { isValidSnils, normalizeSnils } from '../../src/shared/validators/snils'
import { stripSeparators } from '../../src/shared/validators/digits'

/** Russian names of the input fields, by the last key of the issue's path. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  snils: 'СНИЛС',
  fullName: 'ФИО',
  birthDate: 'Дата рождения',
  position: 'Должность',
  organisation: 'Организация',
  organisationOgrn: 'ОГРН организации',
  department: 'Отделение',
  roles: 'Роли',
  specialties: 'Специальности',
  employment: 'Статус работы',
  startedOn: 'Дата приёма',
  since: 'Дата изменения',
  endedOn: 'Дата увольнения',
  qualifications: 'Документы о квалификации',
  kind: 'Вид документа',
  specialty: 'Специальность',
  documentNumber: 'Номер документа',
  issuedOn: 'Дата выдачи',
  validUntil: 'Действителен до',
  ogrn: 'ОГРН',
  inn: 'ИНН',
  name: 'Наименование',
  shortName: 'Краткое наименование',
  address: 'Адрес',
  id: 'Номер отделения',
  active: 'Только работающие',
}

function labelOf(path: readonly PropertyKey[]): string {
  const parts: string[] = []
  for (let i = 0; i < path.length; i++) {
    const key = path[i]
    if (typeof key === 'number') continue
    const label = FIELD_LABELS[String(key)] ?? String(key)
    const index = path[i + 1]
    parts.push(typeof index === 'number' ? `${label} (№ ${index + 1})` : label)
  }
  return parts.join(', ') || 'Запрос'
}

/** The Russian reason for a zod issue that has no message of its own. */
function reasonOf(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined || issue.input === null ? 'не указано' : 'неверный тип значения'
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'не заполнено' : `не короче ${issue.minimum} символов`
      if (issue.origin === 'array') return `нужно хотя бы ${issue.minimum}`
      return 'слишком маленькое значение'
    case 'too_big':
      if (issue.origin === 'string') return `не длиннее ${issue.maximum} символов`
      if (issue.origin === 'array') return `не больше ${issue.maximum} значений`
      return 'слишком большое значение'
    case 'invalid_value':
      return `допустимые значения: ${issue.values.map(String).join(', ')}`
    case 'invalid_format':
      return 'неверный формат'
    case 'unrecognized_keys':
      return `неизвестные поля: ${issue.keys.join(', ')}`
    default:
      return 'неверное значение'
  }
}

/** INVALID_INPUT naming the field (`params.field`) with the Russian text as the detail. */
export function invalidInput(field: string, message: string): AppError {
  return new AppError('INVALID_INPUT', { field }, message)
}

export function notFound(what: string, message: string): AppError {
  return new AppError('NOT_FOUND', { what }, message)
}

/** Parses `value` or throws INVALID_INPUT: «Поле: причина; …», params.field = the first field's path. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value, { error: (issue) => reasonOf(issue) })
  if (parsed.success) return parsed.data
  const issues = parsed.error.issues
  const text = issues.map((i) => `${labelOf(i.path)}: ${i.message}`).join('; ')
  const fields = [...new Set(issues.map((i) => i.path.map(String).join('.') || '(body)'))]
  throw new AppError('INVALID_INPUT', { field: fields[0]!, fields: fields.join(',') }, text)
}

// --- field types ---

/** Trimmed text, required, at most `max` characters. */
export const text = (max: number) => z.string().trim().min(1).max(max)

/** Optional text where an empty string means "none". */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((s) => (s === '' ? null : s))
    .nullable()

/** СНИЛС in any usual spelling → 11 digits. */
export const snilsField = z.string().transform((s, ctx) => {
  const n = normalizeSnils(s)
  if (n === null) {
    ctx.addIssue({ code: 'custom', message: 'нужно 11 цифр, например 112-233-445 95' })
    return z.NEVER
  }
  if (!isValidSnils(n)) {
    ctx.addIssue({ code: 'custom', message: 'неверная контрольная сумма — проверьте цифры' })
    return z.NEVER
  }
  return n
})

/** ОГРН (13 digits) or ОГРНИП (15 digits) with a valid check digit → digits. */
export const ogrnField = z.string().transform((s, ctx) => {
  const n = stripSeparators(s)
  if (!/^(\d{13}|\d{15})$/.test(n)) {
    ctx.addIssue({ code: 'custom', message: 'нужно 13 цифр (ОГРН) или 15 цифр (ОГРНИП)' })
    return z.NEVER
  }
  if (!(n.length === 13 ? isValidOgrn(n) : isValidOgrnip(n))) {
    ctx.addIssue({ code: 'custom', message: `неверная контрольная сумма ${n.length === 13 ? 'ОГРН' : 'ОГРНИП'} — проверьте цифры` })
    return z.NEVER
  }
  return n
})

/** ИНН of an organisation (10 digits) or a person / sole trader (12) with valid check digits. */
export const innField = z.string().transform((s, ctx) => {
  const n = normalizeInn(s)
  if (n === null) {
    ctx.addIssue({ code: 'custom', message: 'нужно 10 цифр (организация) или 12 цифр (ИП)' })
    return z.NEVER
  }
  if (!isValidInn(n)) {
    ctx.addIssue({ code: 'custom', message: 'неверная контрольная сумма — проверьте цифры' })
    return z.NEVER
  }
  return n
})

/** A calendar date as ГГГГ-ММ-ДД or ДД.ММ.ГГГГ → ГГГГ-ММ-ДД (how the register stores dates). */
export const dateField = z.string().transform((s, ctx) => {
  const iso = toIsoDate(s.trim())
  if (iso === null) {
    ctx.addIssue({ code: 'custom', message: `нужна дата в виде ДД.ММ.ГГГГ или ГГГГ-ММ-ДД, получено «${s.slice(0, 40)}»` })
    return z.NEVER
  }
  return iso
})

/** ГГГГ-ММ-ДД from either spelling, or null when it is not a real date between 1900 and 2100. */
export function toIsoDate(s: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s) ?? /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(s)
  if (!m) return null
  const [year, month, day] = s.includes('-') ? [m[1], m[2], m[3]] : [m[3], m[2], m[1]]
  const y = Number(year)
  const d = new Date(Date.UTC(y, Number(month) - 1, Number(day)))
  if (y < 1900 || y > 2100 || d.getUTCMonth() !== Number(month) - 1 || d.getUTCDate() !== Number(day)) return null
  return `${year}-${month}-${day}`
}

/** ДД.ММ.ГГГГ for people; the register keeps ГГГГ-ММ-ДД. */
export function formatDate(iso: string | null): string {
  if (!iso) return '—'
  const [y, m, d] = iso.split('-')
  return `${d}.${m}.${y}`
}

/** The register's dates are calendar days in the clinic's time zone. */
export const REGISTER_TIME_ZONE = 'Europe/Moscow'

/** Today (ГГГГ-ММ-ДД) at `now` in `timeZone`. */
export function dateOn(now: Date, timeZone: string = REGISTER_TIME_ZONE): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

/** The day before an ISO date. */
export function dayBefore(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() - 1)
  return d.toISOString().slice(0, 10)
}
