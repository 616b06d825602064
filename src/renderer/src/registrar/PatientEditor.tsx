// Registering or editing a patient. Each field says what is wrong with it (validatePatientForm,
// the same rules the core applies) once it was left or a save was tried, and keeps saying it
// live while it is corrected. A field the core refuses (FIELD_INVALID) shows the core's reason
// at that field. Whatever happens, what was typed stays in the form.
import { Alert, Button, Input, Radio } from 'antd'
import { useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import { ADDRESS_MAX_LENGTH, PATIENT_FIELD_LABELS, validatePatientForm, type PatientFormDraft } from '../../../shared/patient-form'
import type { PatientForm, PatientRecord } from '../../../shared/registrar'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { FormField } from '../components/FormField'
import { RuDateInput } from '../components/RuDateInput'
import { useApi } from '../context'
import {
  draftFromForm,
  emptyDraft,
  errorForDisplay,
  followRecord,
  formToSave,
  sameDraft,
  serverProblem,
  visibleProblems,
  type PatientField,
  type ServerFieldProblem,
} from './patient-model'

export interface PatientEditorProps {
  /** null: a new patient (the core gives it an id). */
  id: string | null
  initial: PatientForm | null
  onSaved: (record: PatientRecord, created: boolean) => void
}

type TextField = Exclude<PatientField, 'gender' | 'birthDate' | 'address'>

const NAME_FIELDS: readonly TextField[] = ['family', 'given', 'patronymic']

const NUMBER_FIELDS: readonly { field: TextField; maxLength: number; inputMode: 'numeric' | 'tel' }[] = [
  { field: 'snils', maxLength: 20, inputMode: 'numeric' },
  { field: 'oms', maxLength: 30, inputMode: 'numeric' },
  { field: 'phone', maxLength: 30, inputMode: 'tel' },
]

export function PatientEditor({ id, initial, onSaved }: PatientEditorProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const [draft, setDraft] = useState<PatientFormDraft>(() => (initial ? draftFromForm(initial) : emptyDraft()))
  const [touched, setTouched] = useState<ReadonlySet<PatientField>>(new Set())
  const [submitted, setSubmitted] = useState(false)
  const [saving, setSaving] = useState(false)
  const [error, setError] = useState<AppErrorData | null>(null)
  const [server, setServer] = useState<ServerFieldProblem | null>(null)
  const [saved, setSaved] = useState<'created' | 'updated' | null>(null)
  // The record the form was filled from. When a newer one arrives (the card opened on a cached
  // copy that is then re-read, a sync, a dropped change), an unedited form follows it.
  const [base, setBase] = useState<PatientForm | null>(initial)
  if (initial !== null && initial !== base && (base === null || !sameDraft(draftFromForm(initial), draftFromForm(base)))) {
    setBase(initial)
    const next = followRecord(draft, base, initial)
    if (next !== draft) {
      setDraft(next)
      setTouched(new Set())
      setSubmitted(false)
      setServer(null)
    }
  }

  const problems = useMemo(() => validatePatientForm(draft), [draft])
  const shown = visibleProblems(problems, draft, touched, submitted, server)

  const set = <F extends PatientField>(field: F, value: PatientFormDraft[F]): void => {
    setDraft((d) => ({ ...d, [field]: value }))
    setSaved(null)
  }
  const leave = (field: PatientField) => (): void => setTouched((s) => (s.has(field) ? s : new Set(s).add(field)))

  const save = async (): Promise<void> => {
    if (saving) return
    setSubmitted(true)
    setSaved(null)
    const form = formToSave(draft)
    if (problems.length > 0 || form === null) {
      const first = problems[0]?.field
      if (first) document.getElementById(`patient-${first}`)?.focus()
      return
    }
    setSaving(true)
    setError(null)
    setServer(null)
    try {
      const record = await api.call('patients.save', { id, form })
      setBase(record.form)
      setDraft(draftFromForm(record.form))
      setTouched(new Set())
      setSubmitted(false)
      setSaved(id === null ? 'created' : 'updated')
      onSaved(record, id === null)
    } catch (e) {
      const err = errorData(e)
      setError(errorForDisplay(err))
      setServer(serverProblem(err, draft))
    } finally {
      setSaving(false)
    }
  }

  const field = (name: PatientField, input: ReactNode, hint?: string): ReactNode => (
    <FormField id={`patient-${name}`} label={PATIENT_FIELD_LABELS[name]} hint={hint} problem={shown[name] ?? null} problemTestId={`field-error-${name}`}>
      {input}
    </FormField>
  )

  const textInput = (name: TextField, maxLength: number, inputMode?: 'numeric' | 'tel'): ReactNode => (
    <Input
      id={`patient-${name}`}
      data-testid={`field-${name}`}
      value={draft[name]}
      maxLength={maxLength}
      inputMode={inputMode}
      autoComplete="off"
      placeholder={t(`registrar.form.placeholder.${name}`)}
      status={shown[name] ? 'error' : undefined}
      aria-invalid={shown[name] ? true : undefined}
      aria-describedby={shown[name] ? `patient-${name}-problem` : undefined}
      onChange={(e) => set(name, e.target.value)}
      onBlur={leave(name)}
    />
  )

  return (
    <form
      className="patient-form"
      data-testid="patient-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault()
        void save()
      }}
    >
      {error ? <ErrorAlert error={error} testId="patient-save-error" /> : null}
      {saved ? (
        <div data-testid="patient-saved" data-saved={saved}>
          <Alert type="success" showIcon title={t(`registrar.form.saved.${saved}`)} description={t('registrar.form.savedHint')} />
        </div>
      ) : null}
      <div className="patient-form__grid">
        {NAME_FIELDS.map((name) => (
          <div key={name}>{field(name, textInput(name, 100))}</div>
        ))}
        <div>
          {field(
            'birthDate',
            <RuDateInput
              id="patient-birthDate"
              testId="field-birthDate"
              value={draft.birthDate}
              invalid={Boolean(shown.birthDate)}
              onChange={(v) => set('birthDate', v)}
              onBlur={leave('birthDate')}
            />,
          )}
        </div>
        <div>
          <FormField id="patient-gender" label={PATIENT_FIELD_LABELS.gender} problem={shown.gender ?? null} problemTestId="field-error-gender">
            <div data-testid="field-gender" data-value={draft.gender ?? ''}>
              <Radio.Group
                id="patient-gender"
                value={draft.gender}
                onChange={(e) => {
                  set('gender', e.target.value === 'male' ? 'male' : 'female')
                  leave('gender')()
                }}
              >
                <Radio value="female">
                  <span data-testid="gender-female">{t('registrar.gender.female')}</span>
                </Radio>
                <Radio value="male">
                  <span data-testid="gender-male">{t('registrar.gender.male')}</span>
                </Radio>
              </Radio.Group>
            </div>
          </FormField>
        </div>
        {NUMBER_FIELDS.map((f) => (
          <div key={f.field}>{field(f.field, textInput(f.field, f.maxLength, f.inputMode), t(`registrar.form.hint.${f.field}`))}</div>
        ))}
        <div className="patient-form__wide">
          {field(
            'address',
            <Input.TextArea
              id="patient-address"
              data-testid="field-address"
              value={draft.address}
              autoSize={{ minRows: 2, maxRows: 4 }}
              showCount={{ formatter: ({ count }) => `${count} / ${ADDRESS_MAX_LENGTH}` }}
              placeholder={t('registrar.form.placeholder.address')}
              status={shown.address ? 'error' : undefined}
              aria-invalid={shown.address ? true : undefined}
              onChange={(e) => set('address', e.target.value)}
              onBlur={leave('address')}
            />,
          )}
        </div>
      </div>
      <div className="pw-form__actions">
        <Button type="primary" size="large" htmlType="submit" loading={saving} data-testid="patient-save">
          {id === null ? t('registrar.form.register') : t('registrar.form.save')}
        </Button>
        {submitted && problems.length > 0 ? (
          <span className="field__problem" data-testid="patient-form-problems" data-count={problems.length}>
            {t('registrar.form.fix', { count: problems.length })}
          </span>
        ) : null}
      </div>
    </form>
  )
}
