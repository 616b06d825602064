// The patient form's rules, shared by the UI (inline errors as the registrar types) and the core
// (the same check before a save: FIELD_INVALID names the field). Pure and renderer-safe: no Node,
// no zod at run time. Dates are shown and typed as ДД.ММ.ГГГГ and kept as ISO YYYY-MM-DD.
import type { PatientForm } from './registrar'
import { isValidOms } from './validators/oms'
import { isValidSnils } from './validators/snils'

/** One thing wrong with one field: which, its name as the form shows it, and what to do. */
export interface FieldProblem {
  field: keyof PatientForm
  label: string
  reason: string
}

/** The form before a gender has been chosen (a new patient); everything else as in PatientForm. */
export type PatientFormDraft = Omit<PatientForm, 'gender'> & { gender: PatientForm['gender'] | null }

/** The fields' names as the form shows them (labels of inputs, of FieldProblem, of FIELD_INVALID). */
export const PATIENT_FIELD_LABELS: Readonly<Record<keyof PatientForm, string>> = {
  family: 'Фамилия',
  given: 'Имя',
  patronymic: 'Отчество',
  gender: 'Пол',
  birthDate: 'Дата рождения',
  snils: 'СНИЛС',
  oms: 'Полис ОМС',
  phone: 'Телефон',
  address: 'Адрес',
}

/** The fields in the order the form shows them (problems are listed in this order). */
export const PATIENT_FIELDS = Object.keys(PATIENT_FIELD_LABELS) as (keyof PatientForm)[]

export function isPatientField(name: unknown): name is keyof PatientForm {
  return typeof name === 'string' && Object.hasOwn(PATIENT_FIELD_LABELS, name)
}

export const ADDRESS_MAX_LENGTH = 500
/** The earliest birth date the form takes. */
export const EARLIEST_BIRTH_DATE = '1900-01-01'

// --- dates ---

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const RU_DATE = /^(\d{2})\.(\d{2})\.(\d{4})$/

function isRealDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false
  const d = new Date(Date.UTC(2000, month - 1, day))
  d.setUTCFullYear(year)
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day
}

function iso(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

/** A real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value)
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))
}

/** 'ДД.ММ.ГГГГ' → 'YYYY-MM-DD'; null unless it is exactly that shape and a real calendar date. */
export function parseRuDate(text: string): string | null {
  const m = RU_DATE.exec(text)
  if (!m) return null
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])]
  return isRealDate(year, month, day) ? iso(year, month, day) : null
}

/** 'YYYY-MM-DD' → 'ДД.ММ.ГГГГ'; anything else is returned as given. */
export function formatRuDate(isoDate: string): string {
  const m = ISO_DATE.exec(isoDate)
  return m ? `${m[3]}.${m[2]}.${m[1]}` : isoDate
}

/** The local calendar date of an instant, YYYY-MM-DD (the clinic's day, not UTC's). */
export function localIsoDate(at: Date): string {
  return iso(at.getFullYear(), at.getMonth() + 1, at.getDate())
}

// --- phone ---

/** '+79001234567' → '+7 900 123-45-67'; anything else is returned as given. */
export function formatPhone(phone: string): string {
  const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(phone)
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : phone
}

/** A Russian number as people type it (8 900 …, +7 (900) …, 900 …) → '+7XXXXXXXXXX'; otherwise null. */
export function normalizePhone(text: string): string | null {
  const compact = text.replace(/[\s\u00a0\-().]/g, '')
  if (/^\+7\d{10}$/.test(compact)) return compact
  if (/^[78]\d{10}$/.test(compact)) return `+7${compact.slice(1)}`
  if (/^\d{10}$/.test(compact)) return `+7${compact}`
  return null
}

// --- normalisation ---

/** Trims and turns every run of white space into one space. */
function tidy(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

/** A name: tidied, no spaces around hyphens (Римский - Корсаков → Римский-Корсаков); case as typed. */
function tidyName(text: string): string {
  return tidy(text).replace(/ ?- ?/g, '-')
}

function tidyDate(text: string): string {
  const t = tidy(text)
  return parseRuDate(t) ?? t
}

/**
 * The form as it is stored: trimmed, inner spaces collapsed, СНИЛС and полис as digits, the phone
 * as '+7XXXXXXXXXX' (when it is a Russian number; otherwise as typed, for the check to report),
 * a birth date typed ДД.ММ.ГГГГ as ISO. Names keep their hyphens and capitals. Idempotent.
 */
export function normalizePatientForm(form: PatientForm): PatientForm
export function normalizePatientForm(form: PatientFormDraft): PatientFormDraft
export function normalizePatientForm(form: PatientFormDraft): PatientFormDraft {
  const phone = tidy(form.phone)
  return {
    family: tidyName(form.family),
    given: tidyName(form.given),
    patronymic: tidyName(form.patronymic),
    gender: form.gender,
    birthDate: tidyDate(form.birthDate),
    snils: form.snils.replace(/\D/g, ''),
    oms: form.oms.replace(/\D/g, ''),
    phone: phone === '' ? '' : (normalizePhone(phone) ?? phone),
    address: tidy(form.address),
  }
}

// --- checks ---

const CYRILLIC_NAME = /^[А-ЯЁа-яё]+(?:[- '’][А-ЯЁа-яё]+)*$/
const NAME_CHARS = /^[А-ЯЁа-яё\-' ’]*$/

type NameField = 'family' | 'given' | 'patronymic'

const NAME_MISSING: Record<NameField, string> = {
  family: 'Введите фамилию пациента.',
  given: 'Введите имя пациента.',
  patronymic: '',
}

const NAME_GENITIVE: Record<NameField, string> = { family: 'фамилии', given: 'имени', patronymic: 'отчестве' }

function nameProblem(field: NameField, value: string): string | null {
  if (value === '') return field === 'patronymic' ? null : NAME_MISSING[field]
  if (CYRILLIC_NAME.test(value)) return null
  if (/[A-Za-z]/.test(value)) {
    const where = field === 'patronymic' ? 'В отчестве' : field === 'family' ? 'В фамилии' : 'В имени'
    return `${where} латинские буквы. Переключите раскладку на русскую и введите заново.`
  }
  if (NAME_CHARS.test(value)) {
    return `Дефис, пробел и апостроф могут стоять только между буквами ${NAME_GENITIVE[field]}. Уберите лишние знаки.`
  }
  return 'Можно вводить только русские буквы, дефис, пробел и апостроф. Уберите цифры и другие знаки.'
}

function birthDateProblem(value: string, today: string): string | null {
  if (value === '') return 'Укажите дату рождения в формате ДД.ММ.ГГГГ.'
  const shaped = ISO_DATE.test(value) || RU_DATE.test(value)
  if (!shaped) return 'Введите дату рождения полностью в формате ДД.ММ.ГГГГ, например 25.11.1980.'
  if (!isIsoDate(value)) return 'Такой даты нет в календаре. Проверьте день и месяц.'
  if (value > today) return 'Дата рождения не может быть позже сегодняшнего дня. Проверьте год.'
  if (value < EARLIEST_BIRTH_DATE) return 'Дата рождения не может быть раньше 01.01.1900. Проверьте год.'
  return null
}

function snilsProblem(value: string): string | null {
  if (value === '') return null
  if (value.length !== 11) return `СНИЛС состоит из 11 цифр, а введено ${value.length}. Проверьте номер по документу или оставьте поле пустым.`
  if (!isValidSnils(value)) return 'В номере СНИЛС ошибка: не сходится контрольное число. Сверьте цифры с документом.'
  return null
}

function omsProblem(value: string): string | null {
  if (value === '') return null
  if (value.length !== 16) return `Номер полиса ОМС состоит из 16 цифр, а введено ${value.length}. Проверьте номер по полису или оставьте поле пустым.`
  if (!isValidOms(value)) return 'В номере полиса ОМС ошибка: не сходится контрольная цифра. Сверьте цифры с полисом.'
  return null
}

function phoneProblem(value: string): string | null {
  if (value === '' || /^\+7\d{10}$/.test(value)) return null
  return 'Введите российский номер из 11 цифр, например +7 900 123-45-67 или 8 900 123-45-67.'
}

function addressProblem(value: string): string | null {
  if (value.length <= ADDRESS_MAX_LENGTH) return null
  return `Адрес длиннее ${ADDRESS_MAX_LENGTH} символов (сейчас ${value.length}). Сократите его.`
}

/**
 * What is wrong with the form (after normalizePatientForm), in the form's order; empty when it can
 * be saved. `today` is the day a birth date may not be after (the local calendar day).
 */
export function validatePatientForm(form: PatientForm | PatientFormDraft, today: Date = new Date()): FieldProblem[] {
  const f = normalizePatientForm(form)
  const reasons: Record<keyof PatientForm, string | null> = {
    family: nameProblem('family', f.family),
    given: nameProblem('given', f.given),
    patronymic: nameProblem('patronymic', f.patronymic),
    gender: f.gender === 'male' || f.gender === 'female' ? null : 'Выберите пол пациента.',
    birthDate: birthDateProblem(f.birthDate, localIsoDate(today)),
    snils: snilsProblem(f.snils),
    oms: omsProblem(f.oms),
    phone: phoneProblem(f.phone),
    address: addressProblem(f.address),
  }
  const problems: FieldProblem[] = []
  for (const field of PATIENT_FIELDS) {
    const reason = reasons[field]
    if (reason !== null) problems.push({ field, label: PATIENT_FIELD_LABELS[field], reason })
  }
  return problems
}
