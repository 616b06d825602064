// A labelled form field: the label, the input, then either its problem (red, announced) or a hint.
// Used by the password forms and the registrar's forms alike.
import type { ReactNode } from 'react'

export interface FormFieldProps {
  /** The input's id (the label points at it). */
  id: string
  label: string
  hint?: string
  problem?: string | null
  /** data-testid of the problem line; `${id}-problem` unless given. */
  problemTestId?: string
  children: ReactNode
}

export function FormField({ id, label, hint, problem, problemTestId, children }: FormFieldProps): ReactNode {
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      {children}
      {problem ? (
        <div className="field__problem" id={`${id}-problem`} data-testid={problemTestId ?? `${id}-problem`} role="alert">
          {problem}
        </div>
      ) : hint ? (
        <div className="field__hint">{hint}</div>
      ) : null}
    </div>
  )
}
