// The state of a record's unsent local change: «Не отправлено», «Отклонено порталом», «Конфликт».
// Nothing when the portal has it all.
import { Tag } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { ChangeState } from '../../../shared/registrar'

const COLORS: Record<ChangeState, string> = { pending: 'blue', rejected: 'red', conflict: 'volcano' }

export function ChangeTag({ change }: { change: ChangeState | null }): ReactNode {
  const { t } = useTranslation()
  if (change === null) return null
  return (
    <Tag color={COLORS[change]} className="change-tag" data-testid="change-tag" data-change={change}>
      {t(`registrar.change.${change}`)}
    </Tag>
  )
}
