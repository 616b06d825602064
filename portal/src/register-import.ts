// Bulk loading of workers from a CSV file (HR's spreadsheet). Every row is checked — the same
// checks as a single add, including the organisation and department existing — before anything
// is kept: one transaction, each row in a savepoint, rolled back as a whole when any row is bad
// (unless bad rows are to be skipped). Re-importing the same file changes nothing.
import { AppError } from '../../src/shared/errors'
import type { Role } from '../../src/shared/model'
import { CsvError, parseCsv } from './csv'
import type { Db, Queryable } from './db'
import { findWorker, saveWorker, workerInputSchema, type WorkerInput } from './register'
import { dateOn, formatDate, parseInput } from './register-input'

export const CSV_COLUMNS = ['snils', 'full_name', 'birth_date', 'position', 'organisation_ogrn', 'department', 'roles', 'specialties'] as const
type Column = (typeof CSV_COLUMNS)[number]
const REQUIRED_COLUMNS: readonly Column[] = ['snils', 'full_name', 'position', 'organisation_ogrn']

export interface RowProblem {
  /** Line of the file (the header is line 1). */
  line: number
  message: string
}

export interface ImportResult {
  /** Data rows in the file. */
  rows: number
  created: number
  updated: number
  unchanged: number
  /** Bad rows left out (with skipInvalid). */
  skipped: number
  problems: RowProblem[]
  /** false: nothing was written. */
  imported: boolean
}

/** Role names HR writes in Russian, besides the codes. */
const ROLE_ALIASES: Readonly<Record<string, Role>> = {
  врач: 'doctor',
  медсестра: 'nurse',
  медбрат: 'nurse',
  'медицинская сестра': 'nurse',
  'медицинский брат': 'nurse',
  регистратор: 'registrar',
  заведующий: 'head',
  заведующая: 'head',
  руководитель: 'head',
  администратор: 'admin',
}

/** A list cell: values separated by commas or semicolons. */
export function parseList(text: string): string[] {
  return text
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean)
}

/** Role codes from codes or Russian names; anything else is passed on for validation to refuse. */
export function parseRoles(text: string): Role[] {
  return parseList(text).map((r) => ROLE_ALIASES[r.toLocaleLowerCase('ru')] ?? (r.toLowerCase() as Role))
}

class Rollback extends Error {}

export async function importWorkersCsv(
  db: Db,
  text: string,
  options: { skipInvalid?: boolean; now?: Date } = {},
): Promise<ImportResult> {
  const result: ImportResult = { rows: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, problems: [], imported: false }
  let records
  try {
    records = parseCsv(text).records
  } catch (e) {
    if (e instanceof CsvError) return { ...result, problems: [{ line: e.line, message: e.message.replace(/^строка \d+: /, '') }] }
    throw e
  }
  const [header, ...rows] = records
  if (!header) return { ...result, problems: [{ line: 1, message: 'файл пуст: нужна строка заголовка и строки с сотрудниками' }] }

  // The header decides which columns there are; a file that misspells one is refused whole.
  const names = header.cells.map((c) => c.trim().toLowerCase())
  const headerProblems: string[] = []
  const unknown = names.filter((n) => !(CSV_COLUMNS as readonly string[]).includes(n))
  if (unknown.length) headerProblems.push(`неизвестные столбцы: ${unknown.map((n) => `«${n}»`).join(', ')}`)
  const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c))
  if (missing.length) headerProblems.push(`нет обязательных столбцов: ${missing.join(', ')}`)
  const repeated = names.filter((n, i) => names.indexOf(n) !== i)
  if (repeated.length) headerProblems.push(`столбцы повторяются: ${[...new Set(repeated)].join(', ')}`)
  if (headerProblems.length) {
    const expected = `ожидаются столбцы ${CSV_COLUMNS.join(', ')} (разделитель «;» или «,»)`
    return { ...result, problems: [{ line: header.line, message: `заголовок: ${headerProblems.join('; ')}; ${expected}` }] }
  }
  if (rows.length === 0) return { ...result, problems: [{ line: header.line, message: 'в файле нет строк с сотрудниками, только заголовок' }] }
  result.rows = rows.length

  const problems: RowProblem[] = []
  const valid: { line: number; input: WorkerInput; snils: string }[] = []
  const firstLineOf = new Map<string, number>()
  for (const row of rows) {
    if (row.cells.length !== names.length) {
      problems.push({
        line: row.line,
        message: `${row.cells.length} ${cellsWord(row.cells.length)} вместо ${names.length} — проверьте разделитель и кавычки`,
      })
      continue
    }
    const cell = (c: Column): string | undefined => {
      const i = names.indexOf(c)
      return i < 0 ? undefined : row.cells[i]!.trim()
    }
    // A column left out keeps what the register has; an empty cell in a present column clears it.
    const optional = (c: Column) => {
      const v = cell(c)
      return v === undefined ? undefined : v === '' ? null : v
    }
    const roles = cell('roles')
    const specialties = cell('specialties')
    const input: WorkerInput = {
      snils: cell('snils') ?? '',
      fullName: cell('full_name') ?? '',
      birthDate: optional('birth_date'),
      position: cell('position') ?? '',
      organisationOgrn: cell('organisation_ogrn') || null,
      department: optional('department'),
      roles: roles === undefined ? undefined : parseRoles(roles),
      specialties: specialties === undefined ? undefined : parseList(specialties),
      employment: 'active',
    }
    try {
      const { snils } = parseInput(workerInputSchema, input)
      const earlier = firstLineOf.get(snils)
      if (earlier !== undefined) {
        problems.push({ line: row.line, message: `СНИЛС: этот сотрудник уже есть в строке ${earlier}` })
        continue
      }
      firstLineOf.set(snils, row.line)
      valid.push({ line: row.line, input, snils })
    } catch (e) {
      if (!AppError.is(e, 'INVALID_INPUT')) throw e
      problems.push({ line: row.line, message: e.details ?? e.code })
    }
  }

  try {
    await db.transaction(async (tx) => {
      for (const row of valid) {
        const outcome = await importRow(tx, row.input, row.snils, options.now)
        if (typeof outcome === 'string') result[outcome]++
        else problems.push({ line: row.line, message: outcome.problem })
      }
      // Every bad row is reported (checks above ran for all of them) before deciding.
      if (problems.length > 0 && !options.skipInvalid) throw new Rollback()
    })
    result.imported = true
    result.skipped = problems.length
  } catch (e) {
    if (!(e instanceof Rollback)) throw e
    Object.assign(result, { created: 0, updated: 0, unchanged: 0 })
  }
  result.problems = problems.sort((a, b) => a.line - b.line)
  return result
}

/** One row in its own savepoint: a refused row leaves the transaction usable for the others. */
async function importRow(tx: Queryable, input: WorkerInput, snils: string, now?: Date): Promise<'created' | 'updated' | 'unchanged' | { problem: string }> {
  await tx.query('SAVEPOINT import_row')
  try {
    const existing = await findWorker(tx, snils)
    if (existing?.employment === 'ended') {
      // A staff list re-imported after someone left must not quietly give them access again.
      await tx.query('RELEASE SAVEPOINT import_row')
      const ended = existing.endedAt ? ` ${formatDate(dateOn(existing.endedAt))}` : ''
      return { problem: `СНИЛС: ${existing.fullName} уволен(а)${ended}; повторный приём — командой add-worker, импорт уволенных не восстанавливает` }
    }
    const { outcome } = await saveWorker(tx, input, now)
    await tx.query('RELEASE SAVEPOINT import_row')
    return outcome
  } catch (e) {
    if (!AppError.is(e, 'INVALID_INPUT') && !AppError.is(e, 'NOT_FOUND')) throw e
    await tx.query('ROLLBACK TO SAVEPOINT import_row')
    return { problem: e.details ?? e.code }
  }
}

function cellsWord(n: number): string {
  const mod10 = n % 10
  const mod100 = n % 100
  if (mod10 === 1 && mod100 !== 11) return 'ячейка'
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return 'ячейки'
  return 'ячеек'
}
