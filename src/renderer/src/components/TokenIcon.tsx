// A USB token drawn inline (no icon font, nothing fetched): used on empty states.
import type { ReactNode } from 'react'

export function TokenIcon({ size = 72, muted = false }: { size?: number; muted?: boolean }): ReactNode {
  const body = muted ? '#b8c2d3' : '#0d4cd3'
  return (
    <svg width={size} height={size} viewBox="0 0 72 72" aria-hidden="true" focusable="false">
      <rect x="14" y="24" width="38" height="24" rx="6" fill={body} />
      <rect x="52" y="29" width="10" height="14" rx="2" fill="#d5dbe6" />
      <rect x="55" y="32" width="3" height="3" fill="#8d98ab" />
      <rect x="55" y="37" width="3" height="3" fill="#8d98ab" />
      <circle cx="24" cy="36" r="4" fill="#ffffff" opacity="0.9" />
      <rect x="32" y="33" width="14" height="2.5" rx="1.25" fill="#ffffff" opacity="0.6" />
      <rect x="32" y="38" width="9" height="2.5" rx="1.25" fill="#ffffff" opacity="0.6" />
    </svg>
  )
}
