// As-you-type patient search: a name («иван петр»), СНИЛС, полис ОМС or a birth date ДД.ММ.ГГГГ.
// The query goes out 150 ms after the last key; the previous results stay on screen meanwhile.
// The line under the box tells what the query was taken for and how long the search took.
// Used on «Пациенты» (full table) and wherever a patient is picked (compact).
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { Input, Table, Tag } from 'antd'
import type { HTMLAttributes, KeyboardEvent, ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { formatPhone, formatRuDate } from '../../../shared/patient-form'
import type { PatientSummary } from '../../../shared/registrar'
import { formatSnils } from '../../../shared/validators/snils'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { ChangeTag } from './ChangeTag'
import { useDebounced } from './hooks'
import { KEYS } from './query-keys'

export const SEARCH_DEBOUNCE_MS = 150
const SEARCH_LIMIT = 50

export interface PatientSearchProps {
  text: string
  onText: (text: string) => void
  onPick: (patient: PatientSummary) => void
  /** Fewer columns, a short scrolling list: for picking a patient in a dialog. */
  compact?: boolean
  autoFocus?: boolean
}

const dash = (v: string | null | undefined) => (v ? v : '—')

export function PatientSearch({ text, onText, onPick, compact = false, autoFocus = false }: PatientSearchProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const query = useDebounced(text.trim(), SEARCH_DEBOUNCE_MS)
  const result = useQuery({
    queryKey: KEYS.search(query),
    queryFn: async () => ({ query, ...(await api.call('patients.search', { query, limit: SEARCH_LIMIT })) }),
    placeholderData: keepPreviousData,
    staleTime: 5_000,
    retry: false,
  })
  const data = result.data
  const state = result.isError ? 'error' : !data ? 'loading' : result.isPlaceholderData || data.query !== text.trim() ? 'typing' : 'ready'

  const rowProps = (p: PatientSummary) =>
    ({
      'data-testid': 'patient-row',
      'data-id': p.id,
      'data-change': p.change ?? undefined,
      tabIndex: 0,
      className: 'clickable-row',
      onClick: () => onPick(p),
      onKeyDown: (e: KeyboardEvent) => {
        if (e.key === 'Enter') onPick(p)
      },
    }) as HTMLAttributes<HTMLElement>

  const columns = [
    {
      key: 'name',
      title: t('registrar.patient.fullName'),
      render: (_: unknown, p: PatientSummary) => (
        <span className="patient-name">
          <span data-testid="patient-row-name">{p.fullName}</span> <ChangeTag change={p.change} />
        </span>
      ),
    },
    { key: 'birthDate', title: t('registrar.patient.birthDate'), render: (_: unknown, p: PatientSummary) => <span className="mono">{p.birthDate ? formatRuDate(p.birthDate) : '—'}</span> },
    { key: 'snils', title: t('registrar.patient.snils'), render: (_: unknown, p: PatientSummary) => <span className="mono">{p.snils ? formatSnils(p.snils) : '—'}</span> },
    ...(compact
      ? []
      : [
          { key: 'oms', title: t('registrar.patient.oms'), render: (_: unknown, p: PatientSummary) => <span className="mono">{dash(p.oms)}</span> },
          { key: 'phone', title: t('registrar.patient.phone'), render: (_: unknown, p: PatientSummary) => (p.phone ? formatPhone(p.phone) : '—') },
          {
            key: 'attached',
            title: t('registrar.patient.attached'),
            render: (_: unknown, p: PatientSummary) => (p.attached ? <Tag color="green">{t('registrar.patient.attachedYes')}</Tag> : <Tag>{t('registrar.patient.attachedNo')}</Tag>),
          },
        ]),
  ]

  return (
    <div className={`patient-search${compact ? ' patient-search--compact' : ''}`} data-testid="patient-search-box" data-state={state} data-query={data?.query ?? ''}>
      <Input
        data-testid="patient-search"
        size={compact ? 'middle' : 'large'}
        allowClear
        autoFocus={autoFocus}
        autoComplete="off"
        maxLength={200}
        aria-label={t('registrar.search.label')}
        placeholder={t('registrar.search.placeholder')}
        value={text}
        onChange={(e) => onText(e.target.value)}
      />
      <div className="patient-search__meta" aria-live="polite">
        {data && data.kind !== 'empty' ? (
          <span data-testid="search-kind" data-kind={data.kind}>
            {t(`registrar.search.kind.${data.kind}`)}
          </span>
        ) : (
          <span>{t('registrar.search.hint')}</span>
        )}
        {data ? (
          <small className="patient-search__took" data-testid="search-took">
            {t('registrar.search.took', { count: data.items.length, ms: Math.round(data.tookMs) })}
          </small>
        ) : null}
      </div>
      {result.isError ? (
        <ErrorAlert error={errorData(result.error)} testId="patient-search-error" />
      ) : (
        <div data-testid="patient-results">
          <Table<PatientSummary>
            size="small"
            rowKey="id"
            loading={!data && result.isFetching}
            dataSource={data?.items ?? []}
            columns={columns}
            pagination={false}
            scroll={compact ? { y: 280 } : undefined}
            locale={{ emptyText: query === '' ? t('registrar.search.emptyQuery') : t('registrar.search.nothing') }}
            onRow={rowProps}
          />
        </div>
      )}
    </div>
  )
}
