// Both versions of a conflicting record side by side, a row per field, differing rows marked.
// While merging, each differing row offers which side to keep.
import { Radio, Table } from 'antd'
import type { HTMLAttributes, ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { CompareRow } from './conflict-model'

export interface ConflictCompareProps {
  resourceType: string
  rows: CompareRow[]
  merging: boolean
  /** Row keys kept from our version (the rest: the portal's). */
  keepLocal: ReadonlySet<string>
  onKeep: (key: string, side: 'local' | 'remote') => void
}

export function ConflictCompare({ resourceType, rows, merging, keepLocal, onKeep }: ConflictCompareProps): ReactNode {
  const { t } = useTranslation()
  const patient = resourceType === 'Patient'
  const show = (key: string, value: string | null): ReactNode => {
    if (value === null) return <span className="home__muted">—</span>
    if (patient && key === 'gender' && (value === 'male' || value === 'female')) return t(`registrar.gender.${value}`)
    return value
  }
  return (
    <div data-testid="conflict-table">
      <Table<CompareRow>
        size="small"
        rowKey="key"
        pagination={false}
        dataSource={rows}
        rowClassName={(r) => (r.differs ? 'conflict-row conflict-row--differs' : 'conflict-row')}
        onRow={(r) => ({ 'data-testid': 'conflict-row', 'data-key': r.key, 'data-differs': String(r.differs) }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            key: 'field',
            title: t('registrar.conflict.field'),
            render: (_, r) => (patient ? t(`registrar.conflict.fields.${r.key}`) : <span className="mono">{r.key}</span>),
          },
          { key: 'local', title: t('registrar.conflict.local'), render: (_, r) => <span data-testid="conflict-local">{show(r.key, r.local)}</span> },
          { key: 'remote', title: t('registrar.conflict.remote'), render: (_, r) => <span data-testid="conflict-remote">{show(r.key, r.remote)}</span> },
          ...(merging
            ? [
                {
                  key: 'keep',
                  title: t('registrar.conflict.keep'),
                  render: (_: unknown, r: CompareRow) =>
                    r.differs ? (
                      <Radio.Group size="small" value={keepLocal.has(r.key) ? 'local' : 'remote'} onChange={(e) => onKeep(r.key, e.target.value === 'local' ? 'local' : 'remote')}>
                        <Radio value="local">
                          <span data-testid={`merge-${r.key}-local`}>{t('registrar.conflict.keepLocal')}</span>
                        </Radio>
                        <Radio value="remote">
                          <span data-testid={`merge-${r.key}-remote`}>{t('registrar.conflict.keepRemote')}</span>
                        </Radio>
                      </Radio.Group>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
    </div>
  )
}
