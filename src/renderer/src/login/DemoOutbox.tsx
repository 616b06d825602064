// Demo installations only (app.info.demoOutbox): the demo portal sends no SMS or e-mail, so the
// latest message it "sent" is shown here and a new user can finish the password login.
import { useQuery } from '@tanstack/react-query'
import { Button } from 'antd'
import dayjs from 'dayjs'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { useApi } from '../context'
import { codeInText, latestMessage } from './password-model'

const POLL_MS = 1500
/** After a failure (a portal without the demo channel) ask much less often. */
const POLL_AFTER_ERROR_MS = 15_000

export interface DemoOutboxProps {
  /** Poll only while the panel is on screen. */
  active: boolean
  /** Puts the message's code into the code field; absent when no code is being asked for. */
  onUseCode?: (code: string) => void
}

export function DemoOutbox({ active, onUseCode }: DemoOutboxProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const outbox = useQuery({
    queryKey: ['demo.outbox'],
    queryFn: () => api.call('demo.outbox', {}),
    enabled: active,
    retry: false,
    refetchInterval: (q) => (q.state.status === 'error' ? POLL_AFTER_ERROR_MS : POLL_MS),
  })
  const latest = outbox.data ? latestMessage(outbox.data.messages) : null
  const code = latest ? codeInText(latest.text) : null

  return (
    <aside className="demo-outbox" data-testid="demo-outbox" aria-live="polite">
      <div className="demo-outbox__title">{t('demo.title')}</div>
      <div className="demo-outbox__hint">{t('demo.hint')}</div>
      {latest ? (
        <div className="demo-outbox__message" data-testid="demo-message" data-sent-at={latest.sentAt}>
          <div className="demo-outbox__meta">
            {t('demo.to', { to: latest.to })} · {dayjs(latest.sentAt).format('HH:mm:ss')}
          </div>
          <div className="demo-outbox__text" data-testid="demo-message-text">
            {latest.text}
          </div>
          {code && onUseCode ? (
            <Button size="small" onClick={() => onUseCode(code)} data-testid="demo-use-code">
              {t('demo.useCode')}
            </Button>
          ) : null}
        </div>
      ) : (
        <div className="demo-outbox__empty">{outbox.isError ? t('demo.unavailable') : t('demo.empty')}</div>
      )}
    </aside>
  )
}
