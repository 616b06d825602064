// A date typed as ДД.ММ.ГГГГ: a text box whose dots appear as digits are typed (date-mask.ts).
// The value is the text as shown; parseRuDate turns it into an ISO date.
import { Input } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { maskRuDate } from './date-mask'

export interface RuDateInputProps {
  id?: string
  value: string
  onChange: (text: string) => void
  onBlur?: () => void
  testId: string
  invalid?: boolean
  autoFocus?: boolean
  size?: 'small' | 'middle' | 'large'
}

export function RuDateInput({ id, value, onChange, onBlur, testId, invalid, autoFocus, size }: RuDateInputProps): ReactNode {
  const { t } = useTranslation()
  return (
    <Input
      id={id}
      data-testid={testId}
      className="ru-date-input"
      inputMode="numeric"
      autoComplete="off"
      autoFocus={autoFocus}
      size={size}
      maxLength={12}
      placeholder={t('common.datePlaceholder')}
      status={invalid ? 'error' : undefined}
      aria-invalid={invalid || undefined}
      aria-describedby={invalid && id ? `${id}-problem` : undefined}
      value={value}
      onChange={(e) => onChange(maskRuDate(e.target.value))}
      onBlur={onBlur}
    />
  )
}
