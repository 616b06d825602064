// A centred icon, headline and explanation for the token panel's empty and problem states
// (a light replacement for antd's Result, which bundles large illustrations).
import type { ReactNode } from 'react'

export function WarningIcon({ size = 64 }: { size?: number }): ReactNode {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" focusable="false">
      <circle cx="32" cy="32" r="30" fill="#fff4e5" />
      <path d="M32 14 52 48H12z" fill="#e8890c" />
      <rect x="30" y="25" width="4" height="13" rx="2" fill="#ffffff" />
      <circle cx="32" cy="42.5" r="2.3" fill="#ffffff" />
    </svg>
  )
}

export interface EmptyStateProps {
  icon: ReactNode
  title: ReactNode
  children?: ReactNode
  testId?: string
}

export function EmptyState({ icon, title, children, testId }: EmptyStateProps): ReactNode {
  return (
    <div className="empty-state" data-testid={testId}>
      <div className="empty-state__icon">{icon}</div>
      <div className="empty-state__title" data-testid="panel-title">
        {title}
      </div>
      {children ? <div className="empty-state__text">{children}</div> : null}
    </div>
  )
}
