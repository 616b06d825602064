// A sync conflict side by side (pure, no React): our version and the portal's as rows of fields,
// and the merged resource the user puts together from them. A Patient reads as the fields a
// registrar knows (ФИО, дата рождения, СНИЛС, …); any other resource as flattened key/value paths.
// A merge always starts from the portal's version (its meta.versionId is what the push is based
// on) and copies in the fields the user chose to keep from ours.
import { FHIR_EXTENSIONS, FHIR_SYSTEMS } from '../../../shared/fhir/systems'
import { formatPhone, formatRuDate } from '../../../shared/patient-form'
import { formatSnils } from '../../../shared/validators/snils'

export type Json = Record<string, unknown>

export interface CompareRow {
  /** A Patient field ('name', 'snils', …) or a flattened path ('participant[0].status'). */
  key: string
  local: string | null
  remote: string | null
  differs: boolean
}

function isRecord(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

const asArray = (x: unknown): unknown[] => (Array.isArray(x) ? x : [])
const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null)

/** JSON with object keys sorted: equal values give equal text whatever the key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

// --- Patient: the registrar's fields ---

/**
 * One human field of a FHIR Patient: which parts of the resource hold it (compared, and copied
 * by a merge) and how it reads. `top` fields are whole top-level elements; `pick` fields are the
 * matching entries of a list shared with other fields (СНИЛС and полис both live in identifier).
 */
type PatientField =
  | { key: string; top: string; show: (value: unknown, words: Vocabulary) => string | null }
  | { key: string; list: string; pick: (entry: unknown) => boolean; show: (entries: unknown[], words: Vocabulary) => string | null }

const hasSystem = (system: string) => (entry: unknown) => isRecord(entry) && entry.system === system
const isAttachmentExtension = (entry: unknown) => isRecord(entry) && entry.url === FHIR_EXTENSIONS.attachment

function nameText(name: unknown): string | null {
  if (!isRecord(name)) return null
  const text = str(name.text)
  if (text) return text
  const parts = [str(name.family), ...asArray(name.given).map(str)].filter((p): p is string => p !== null)
  return parts.length > 0 ? parts.join(' ') : null
}

function addressText(address: unknown): string | null {
  if (!isRecord(address)) return null
  const text = str(address.text)
  if (text) return text
  const parts = [str(address.postalCode), str(address.city), ...asArray(address.line).map(str)].filter((p): p is string => p !== null)
  return parts.length > 0 ? parts.join(', ') : null
}

/** Words a value may need: the UI's text for an attachment basis code. */
export interface Vocabulary {
  basis: (code: string) => string
}

const PLAIN: Vocabulary = { basis: (code) => code }

/** A sub-extension of a complex extension by its url. */
function part(entry: Json, url: string): Json | null {
  const found = asArray(entry.extension).find((x) => isRecord(x) && x.url === url)
  return isRecord(found) ? found : null
}

/**
 * An прикрепление extension (the core's shape: area, basis, period sub-extensions) as
 * «5 · по заявлению · 10.01.2026 – 20.11.2026» («… – …» while in force); anything else by its values.
 */
function attachmentText(entry: unknown, words: Vocabulary): string | null {
  if (!isRecord(entry)) return null
  const area = str(part(entry, 'area')?.valueString)
  const basis = str(part(entry, 'basis')?.valueCode)
  const period = part(entry, 'period')?.valuePeriod
  if (area === null || !isRecord(period)) return leafText(entry).join(', ') || null
  const from = typeof period.start === 'string' ? formatRuDate(period.start) : '…'
  const to = typeof period.end === 'string' ? formatRuDate(period.end) : '…'
  return [area, basis ? words.basis(basis) : null, `${from} – ${to}`].filter((p): p is string => p !== null).join(' · ')
}

/** The leaf values of a JSON fragment in order, ISO dates as ДД.ММ.ГГГГ («5, 01.02.2026, по заявлению»). */
function leafText(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(leafText)
  if (isRecord(value)) return Object.entries(value).flatMap(([k, v]) => (k === 'url' || k === 'reference' || k === 'system' ? [] : leafText(v)))
  if (typeof value === 'string') return [/^\d{4}-\d{2}-\d{2}$/.test(value) ? formatRuDate(value) : value]
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)]
  return []
}

const joined = (items: (string | null)[]): string | null => {
  const present = items.filter((s): s is string => s !== null && s !== '')
  return present.length > 0 ? present.join('; ') : null
}

const identifierValues = (format: (v: string) => string) => (entries: unknown[]) =>
  joined(entries.map((e) => (isRecord(e) && typeof e.value === 'string' ? format(e.value) : null)))

export const PATIENT_FIELDS: readonly PatientField[] = [
  { key: 'name', top: 'name', show: (v: unknown) => joined(asArray(v).slice(0, 1).map(nameText)) },
  { key: 'gender', top: 'gender', show: (v: unknown) => str(v) },
  { key: 'birthDate', top: 'birthDate', show: (v: unknown) => (typeof v === 'string' ? formatRuDate(v) : null) },
  { key: 'snils', list: 'identifier', pick: hasSystem(FHIR_SYSTEMS.snils), show: identifierValues(formatSnils) },
  { key: 'oms', list: 'identifier', pick: hasSystem(FHIR_SYSTEMS.oms), show: identifierValues((v) => v) },
  { key: 'phone', list: 'telecom', pick: hasSystem('phone'), show: identifierValues(formatPhone) },
  { key: 'address', top: 'address', show: (v: unknown) => joined(asArray(v).map(addressText)) },
  { key: 'attachment', list: 'extension', pick: isAttachmentExtension, show: (entries: unknown[], words: Vocabulary) => joined(entries.map((e) => attachmentText(e, words))) },
]

export const PATIENT_FIELD_KEYS = PATIENT_FIELDS.map((f) => f.key)

/** The FHIR parts behind one field (undefined: absent). */
function partsOf(field: PatientField, json: Json | null): unknown {
  if (!json) return undefined
  if ('top' in field) return json[field.top]
  const entries = asArray(json[field.list]).filter(field.pick)
  return entries.length > 0 ? entries : undefined
}

function showParts(field: PatientField, parts: unknown, words: Vocabulary): string | null {
  if (parts === undefined) return null
  return 'top' in field ? field.show(parts, words) : field.show(asArray(parts), words)
}

function patientRows(local: Json | null, remote: Json | null, words: Vocabulary): CompareRow[] {
  return PATIENT_FIELDS.map((field) => {
    const l = partsOf(field, local)
    const r = partsOf(field, remote)
    return { key: field.key, local: showParts(field, l, words), remote: showParts(field, r, words), differs: canonical(l) !== canonical(r) }
  })
}

// --- any other resource: flattened paths ---

/** Elements that are not the user's data: never compared, never merged (meta carries the version). */
const SKIPPED_TOP = new Set(['resourceType', 'id', 'meta'])

/** `{a: {b: [1, {c: 2}]}}` → a.b[0] = 1, a.b[1].c = 2; leaves as text (strings as they are). */
export function flatten(json: Json): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      if (value.length === 0) out.set(path, '[]')
      value.forEach((v, i) => walk(v, `${path}[${i}]`))
    } else if (isRecord(value)) {
      const keys = Object.keys(value).filter((k) => value[k] !== undefined)
      if (keys.length === 0 && path !== '') out.set(path, '{}')
      for (const k of keys) {
        if (path === '' && SKIPPED_TOP.has(k)) continue
        walk(value[k], path === '' ? k : `${path}.${k}`)
      }
    } else {
      out.set(path, typeof value === 'string' ? value : JSON.stringify(value ?? null))
    }
  }
  walk(json, '')
  return out
}

function genericRows(local: Json | null, remote: Json | null): CompareRow[] {
  const l = local ? flatten(local) : new Map<string, string>()
  const r = remote ? flatten(remote) : new Map<string, string>()
  const keys = [...new Set([...l.keys(), ...r.keys()])]
  return keys.map((key) => {
    const lv = l.get(key) ?? null
    const rv = r.get(key) ?? null
    return { key, local: lv, remote: rv, differs: lv !== rv }
  })
}

/** The side-by-side rows of a conflict; `words` turns codes into the UI's text. */
export function compareRows(resourceType: string, local: Json | null, remote: Json | null, words: Vocabulary = PLAIN): CompareRow[] {
  return resourceType === 'Patient' ? patientRows(local, remote, words) : genericRows(local, remote)
}

// --- the merge ---

type Segment = string | number

function parsePath(path: string): Segment[] {
  const segments: Segment[] = []
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segments.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? ''))
  return segments
}

function getPath(json: unknown, path: Segment[]): unknown {
  let node: unknown = json
  for (const s of path) {
    if (typeof s === 'number' ? !Array.isArray(node) : !isRecord(node)) return undefined
    node = (node as Record<Segment, unknown>)[s]
  }
  return node
}

function setPath(json: Json, path: Segment[], value: unknown): void {
  let node: Record<Segment, unknown> = json
  path.forEach((s, i) => {
    if (i === path.length - 1) {
      node[s] = structuredClone(value)
      return
    }
    const next = path[i + 1]
    const child = node[s]
    const fits = typeof next === 'number' ? Array.isArray(child) : isRecord(child)
    if (!fits) node[s] = typeof next === 'number' ? [] : {}
    node = node[s] as Record<Segment, unknown>
  })
}

/** Array entries removed by a merge are marked first and dropped at the end, so indexes stay put. */
const REMOVED = Symbol('removed')

function formatPath(path: readonly Segment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('')
}

const isEmptied = (x: unknown): boolean =>
  Array.isArray(x) ? x.every((v) => v === REMOVED) : isRecord(x) && Object.keys(x).length === 0

/**
 * Removes the value at `path`, then each container left empty by that, unless ours has that
 * container empty too (then it is a value of ours: '{}' or '[]').
 */
function markRemoved(json: Json, path: Segment[], ours: ReadonlyMap<string, string>): void {
  const last = path[path.length - 1]
  if (last === undefined) return
  const parentPath = path.slice(0, -1)
  const parent = getPath(json, parentPath)
  if (typeof last === 'number' && Array.isArray(parent) && last < parent.length) parent[last] = REMOVED
  else if (typeof last === 'string' && isRecord(parent)) delete parent[last]
  else return
  if (parentPath.length > 0 && isEmptied(parent) && !ours.has(formatPath(parentPath))) markRemoved(json, parentPath, ours)
}

function dropRemoved(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== REMOVED).map(dropRemoved)
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, dropRemoved(v)]))
  return value
}

function mergePatient(local: Json, merged: Json, keepLocal: ReadonlySet<string>): void {
  for (const field of PATIENT_FIELDS) {
    if (!keepLocal.has(field.key)) continue
    if ('top' in field) {
      if (local[field.top] === undefined) delete merged[field.top]
      else merged[field.top] = structuredClone(local[field.top])
      continue
    }
    // Replace the portal's matching entries with ours, keep its other entries (and their order).
    const others = asArray(merged[field.list]).filter((e) => !field.pick(e))
    const ours = asArray(local[field.list]).filter(field.pick).map((e) => structuredClone(e))
    const list = [...others, ...ours]
    if (list.length > 0) merged[field.list] = list
    else delete merged[field.list]
  }
}

function mergeGeneric(local: Json, merged: Json, keepLocal: ReadonlySet<string>): Json {
  const ours = flatten(local)
  const paths = [...keepLocal].map((key) => ({ key, path: parsePath(key) })).filter((p) => p.path.length > 0)
  // Removals first: a value of ours may sit below a path the portal had as a plain value
  // (ours: priority.code, theirs: priority), and must not be removed with it.
  for (const { key, path } of paths) if (!ours.has(key)) markRemoved(merged, path, ours)
  for (const { key, path } of paths) if (ours.has(key)) setPath(merged, path, getPath(local, path))
  return dropRemoved(merged) as Json
}

/**
 * The merged resource: the portal's version with the fields in `keepLocal` (row keys) taken from
 * ours. resourceType, id and meta are always the portal's.
 */
export function buildMerged(resourceType: string, local: Json | null, remote: Json | null, keepLocal: ReadonlySet<string>): Json {
  const base: Json = structuredClone(remote ?? local ?? {})
  if (!local || !remote) return base
  if (resourceType === 'Patient') {
    mergePatient(local, base, keepLocal)
    return base
  }
  return mergeGeneric(local, base, keepLocal)
}
