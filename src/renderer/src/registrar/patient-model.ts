// Pure decisions of the patient card (no React): the form's text as the registrar sees it, what
// to send, which problems to show, and where the core's FIELD_INVALID belongs.
import type { AppErrorData } from '../../../shared/errors'
import {
  formatPhone,
  formatRuDate,
  isPatientField,
  normalizePatientForm,
  PATIENT_FIELD_LABELS,
  PATIENT_FIELDS,
  type FieldProblem,
  type PatientFormDraft,
} from '../../../shared/patient-form'
import type { PatientForm } from '../../../shared/registrar'
import { formatSnils } from '../../../shared/validators/snils'

export type PatientField = keyof PatientForm

export function emptyDraft(): PatientFormDraft {
  return { family: '', given: '', patronymic: '', gender: null, birthDate: '', snils: '', oms: '', phone: '', address: '' }
}

/** A stored form as the inputs show it: ДД.ММ.ГГГГ, СНИЛС with its dashes, the phone spaced. */
export function draftFromForm(form: PatientForm): PatientFormDraft {
  return {
    ...form,
    birthDate: formatRuDate(form.birthDate),
    snils: form.snils === '' ? '' : formatSnils(form.snils),
    phone: formatPhone(form.phone),
  }
}


export function sameDraft(a: PatientFormDraft, b: PatientFormDraft): boolean {
  return PATIENT_FIELDS.every((f) => a[f] === b[f])
}

/**
 * The form to show when the record changed under an open card (a sync brought a newer version, a
 * refused change was dropped, the cached copy was refreshed): the new record, unless the
 * registrar has edited the form since it was filled from `base` — what she typed is never lost.
 */
export function followRecord(draft: PatientFormDraft, base: PatientForm | null, next: PatientForm): PatientFormDraft {
  const untouched = sameDraft(draft, base === null ? emptyDraft() : draftFromForm(base))
  return untouched ? draftFromForm(next) : draft
}

/** What patients.save gets: the normalized form, or null while no gender is chosen. */
export function formToSave(draft: PatientFormDraft): PatientForm | null {
  const f = normalizePatientForm(draft)
  return f.gender === null ? null : { ...f, gender: f.gender }
}

/** A problem the core found in one field (FIELD_INVALID), placed at that field. */
export interface ServerFieldProblem {
  field: PatientField
  reason: string
  /** The value the core refused: the message goes once the field is edited. */
  value: string
}

/**
 * The field a FIELD_INVALID error names: the core sends the form's key as `fieldName` ('snils')
 * and the label as `field` ('СНИЛС'); either is understood. Null for any other error, or a field
 * the form does not have.
 */
export function fieldOfError(error: AppErrorData): PatientField | null {
  if (error.code !== 'FIELD_INVALID') return null
  const { fieldName, field } = error.params
  if (isPatientField(fieldName)) return fieldName
  if (isPatientField(field)) return field
  const byLabel = PATIENT_FIELDS.find((k) => PATIENT_FIELD_LABELS[k] === field)
  return byLabel ?? null
}

/** The error as the catalogue should show it: the field by its label, never by its key. */
export function errorForDisplay(error: AppErrorData): AppErrorData {
  const field = fieldOfError(error)
  return field === null ? error : { ...error, params: { ...error.params, field: PATIENT_FIELD_LABELS[field] } }
}

export function serverProblem(error: AppErrorData, draft: PatientFormDraft): ServerFieldProblem | null {
  const field = fieldOfError(error)
  if (field === null) return null
  const reason = typeof error.params.reason === 'string' ? error.params.reason : ''
  return { field, reason, value: String(draft[field] ?? '') }
}

/**
 * The message to show under each field: the form's own check once the field was left (or a save
 * was tried), else the core's while the field still holds the value it refused.
 */
export function visibleProblems(
  problems: readonly FieldProblem[],
  draft: PatientFormDraft,
  touched: ReadonlySet<PatientField>,
  submitted: boolean,
  server: ServerFieldProblem | null,
): Partial<Record<PatientField, string>> {
  const shown: Partial<Record<PatientField, string>> = {}
  for (const p of problems) if (submitted || touched.has(p.field)) shown[p.field] = p.reason
  if (server && server.reason !== '' && shown[server.field] === undefined && String(draft[server.field] ?? '') === server.value) {
    shown[server.field] = server.reason
  }
  return shown
}
