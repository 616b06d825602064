// Search: parses FHIR search parameters into one SQL query over the index tables. Repeated
// parameters are AND, comma-separated values OR. Results are ordered by id and paged by keyset
// (`_after`), so a page never shifts when resources are added meanwhile.
import type { FhirResourceType } from '../../../src/shared/fhir/systems'
import { FHIR_ID } from '../../../src/shared/fhir/systems'
import type { Queryable, SqlParam } from '../db'
import { invalid, notSupported } from './outcome'
import { SEARCH_PARAMS, dateRange, normalizeReference, normalizeTokenValue, sqlInstant } from './search-params'
import { normalizeSearchText } from '../../../src/shared/text'

export const DEFAULT_COUNT = 50
export const MAX_COUNT = 500

export interface SearchControl {
  count: number
  after: string | null
  total: 'none' | 'accurate'
  summaryCount: boolean
}

export interface ParsedSearch {
  control: SearchControl
  /** SQL conditions on r (fhir_resources) with their parameters appended to `params`. */
  conditions: string[]
  params: SqlParam[]
  /** The parameters as understood, for the self link. */
  echo: Array<[string, string]>
}

/** Parameters with no effect on the result: the format is always JSON here. */
const IGNORED = new Set(['_format', '_pretty'])
const DATE_PREFIXES = ['eq', 'lt', 'le', 'gt', 'ge', 'sa', 'eb'] as const
type DatePrefix = (typeof DATE_PREFIXES)[number]

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`)
}

export function parseCount(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!/^\d{1,6}$/.test(text) || n < 0) throw invalid('_count: целое число от 0', '_count', 'value')
  return Math.min(n, max)
}

/**
 * `params` starts with the parameters the caller's base query already uses (type at $1, …):
 * condition placeholders continue from there.
 */
export function parseSearch(type: FhirResourceType, query: URLSearchParams, params: SqlParam[]): ParsedSearch {
  const defs = SEARCH_PARAMS[type]
  const conditions: string[] = []
  const echo: Array<[string, string]> = []
  const control: SearchControl = { count: DEFAULT_COUNT, after: null, total: 'none', summaryCount: false }
  const add = (v: SqlParam) => {
    params.push(v)
    return `$${params.length}`
  }

  for (const [rawName, rawValue] of query) {
    if (IGNORED.has(rawName)) continue
    const [name, modifier] = rawName.split(':', 2) as [string, string | undefined]
    switch (name) {
      case '_count':
        control.count = parseCount(rawValue, DEFAULT_COUNT, MAX_COUNT)
        continue
      case '_after':
        if (!FHIR_ID.test(rawValue)) throw invalid('Неверный параметр страницы _after', '_after', 'value')
        control.after = rawValue
        continue
      case '_total':
        if (rawValue !== 'none' && rawValue !== 'accurate' && rawValue !== 'estimate') throw invalid('_total: none, estimate или accurate', '_total', 'value')
        control.total = rawValue === 'none' ? 'none' : 'accurate'
        echo.push([rawName, rawValue])
        continue
      case '_summary':
        if (rawValue !== 'count') throw notSupported(`_summary=${rawValue} is not supported (only count)`)
        control.summaryCount = true
        echo.push([rawName, rawValue])
        continue
    }
    if (rawValue === '') throw invalid(`Пустое значение параметра ${rawName}`, rawName, 'value')
    const values = rawValue.split(/(?<!\\),/).map((v) => v.replace(/\\,/g, ','))
    echo.push([rawName, rawValue])

    if (name === '_id') {
      if (modifier) throw notSupported(`modifier :${modifier} is not supported on _id`)
      conditions.push(`r.id = ANY(${add(values)}::text[])`)
      continue
    }
    if (name === '_lastUpdated') {
      if (modifier) throw notSupported(`modifier :${modifier} is not supported on _lastUpdated`)
      conditions.push(`(${values.map((v) => dateCondition(v, 'r.last_updated', 'r.last_updated', add, rawName)).join(' OR ')})`)
      continue
    }
    if (name.startsWith('_')) throw notSupported(`search parameter ${name} is not supported`)
    const def = defs[name]
    if (!def) throw notSupported(`${type} has no search parameter ${name}; supported: _id, _lastUpdated, ${Object.keys(defs).join(', ')}`)
    const p = add(name)

    switch (def.kind) {
      case 'string': {
        if (modifier && modifier !== 'exact' && modifier !== 'contains') throw notSupported(`modifier :${modifier} is not supported on string parameters`)
        const ors = values.map((v) => {
          const n = normalizeSearchText(v)
          if (modifier === 'exact') return `i.value = ${add(n)}`
          return `i.value LIKE ${add(modifier === 'contains' ? `%${escapeLike(n)}%` : `${escapeLike(n)}%`)}`
        })
        conditions.push(`r.id IN (SELECT i.id FROM fhir_idx_string i WHERE i.type = $1 AND i.param = ${p} AND (${ors.join(' OR ')}))`)
        break
      }
      case 'token': {
        if (modifier) throw notSupported(`modifier :${modifier} is not supported on token parameters`)
        const ors = values.map((v) => {
          const bar = v.indexOf('|')
          if (bar < 0) return `i.value = ${add(v)}`
          const system = v.slice(0, bar)
          const code = v.slice(bar + 1)
          if (code === '') return `i.system = ${add(system)}`
          return `(i.value = ${add(normalizeTokenValue(system, code))} AND i.system = ${add(system)})`
        })
        conditions.push(`r.id IN (SELECT i.id FROM fhir_idx_token i WHERE i.type = $1 AND i.param = ${p} AND (${ors.join(' OR ')}))`)
        break
      }
      case 'reference': {
        const targets = def.target
        const refs = values.map((v) => {
          const normal = normalizeReference(v)
          if (normal) {
            if (modifier && !normal.startsWith(`${modifier}/`)) throw invalid(`Ссылка ${v} не на ${modifier}`, rawName, 'value')
            return normal
          }
          const target = modifier ?? (targets?.length === 1 ? targets[0] : undefined)
          if (!FHIR_ID.test(v) || !target) throw invalid(`Ссылка в ${rawName}: укажите Тип/id`, rawName, 'value')
          return `${target}/${v}`
        })
        conditions.push(`r.id IN (SELECT i.id FROM fhir_idx_token i WHERE i.type = $1 AND i.param = ${p} AND i.value = ANY(${add(refs)}::text[]))`)
        break
      }
      case 'date': {
        if (modifier) throw notSupported(`modifier :${modifier} is not supported on date parameters`)
        const ors = values.map((v) => dateCondition(v, 'i.lo', 'i.hi', add, rawName))
        conditions.push(`r.id IN (SELECT i.id FROM fhir_idx_date i WHERE i.type = $1 AND i.param = ${p} AND (${ors.join(' OR ')}))`)
        break
      }
    }
  }
  return { control, conditions, params, echo }
}

/** FHIR date comparison of a stored range [lo, hi) against the range the query value denotes. */
function dateCondition(value: string, lo: string, hi: string, add: (v: SqlParam) => string, name: string): string {
  const prefix = (DATE_PREFIXES as readonly string[]).includes(value.slice(0, 2)) ? (value.slice(0, 2) as DatePrefix) : null
  const text = prefix ? value.slice(2) : value
  if (/^(ne|ap)/.test(value)) throw notSupported(`date prefix ${value.slice(0, 2)} is not supported`)
  const range = dateRange(text)
  if (!range) throw invalid(`Неверная дата в ${name}: ${value} (ожидается ГГГГ, ГГГГ-ММ, ГГГГ-ММ-ДД или дата и время)`, name, 'value')
  // Added only when used: an unused parameter has no type and PostgreSQL refuses the query.
  const qlo = () => add(sqlInstant(range.lo))
  const qhi = () => add(sqlInstant(range.hi))
  switch (prefix ?? 'eq') {
    case 'eq': {
      // `lo < qhi` follows from the other two; it bounds the index range scan on lo from above.
      const upper = qhi()
      return `(${lo} >= ${qlo()}::timestamptz AND ${lo} < ${upper}::timestamptz AND ${hi} <= ${upper}::timestamptz)`
    }
    case 'lt':
      return `${lo} < ${qlo()}::timestamptz`
    case 'le':
      return `${lo} < ${qhi()}::timestamptz`
    case 'gt':
      return `${hi} > ${qhi()}::timestamptz`
    case 'ge':
      return `${hi} > ${qlo()}::timestamptz`
    case 'sa':
      return `${lo} >= ${qhi()}::timestamptz`
    case 'eb':
      return `${hi} <= ${qlo()}::timestamptz`
  }
}

export interface SearchResult {
  rows: Array<{ id: string; body: string }>
  more: boolean
  total: number | null
}

/** Runs a search of `type` in the org scope (null = any). */
export async function runSearch(q: Queryable, type: FhirResourceType, query: URLSearchParams, scope: string | null): Promise<SearchResult & { parsed: ParsedSearch }> {
  const params: SqlParam[] = [type]
  const parsed = parseSearch(type, query, params)
  const where = ['r.type = $1', 'NOT r.deleted', ...parsed.conditions]
  if (scope !== null) {
    params.push(scope)
    where.push(`r.org = $${params.length}`)
  }
  const whereSql = where.join(' AND ')
  const { count, after, total, summaryCount } = parsed.control
  let totalCount: number | null = null
  if (total === 'accurate' || summaryCount) {
    const rows = await q.query<{ n: string }>(`SELECT count(*)::text AS n FROM fhir_resources r WHERE ${whereSql}`, params)
    totalCount = Number(rows[0]?.n ?? 0)
  }
  if (summaryCount || count === 0) return { rows: [], more: false, total: totalCount, parsed }
  const pageParams = [...params]
  let pageWhere = whereSql
  if (after) {
    pageParams.push(after)
    pageWhere += ` AND r.id > $${pageParams.length}`
  }
  pageParams.push(count + 1)
  const rows = await q.query<{ id: string; body: string }>(
    `SELECT r.id, r.body FROM fhir_resources r WHERE ${pageWhere} ORDER BY r.id LIMIT $${pageParams.length}`,
    pageParams,
  )
  const more = rows.length > count
  const page = more ? rows.slice(0, count) : rows
  // Without _total, the total is still known when everything fits on the first page.
  if (totalCount === null && !after && !more) totalCount = page.length
  return { rows: page, more, total: totalCount, parsed }
}
