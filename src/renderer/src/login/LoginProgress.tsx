// The steps of an EDS login, driven by 'auth.progress' events, with a way out: «Отменить» ends
// the login at once (the core lets a running token call finish and logs the token out).
import { Alert, Button, Steps } from 'antd'
import { useEffect, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { LoginStage } from '../../../shared/model'
import { LOGIN_STAGES, SLOW_STAGE_MS, stageIndex } from './model'

export interface LoginProgressProps {
  stage: LoginStage | null
  pinpad: boolean
  /** Cancels the login; absent: no cancel button. */
  onCancel?: () => void
  cancelling?: boolean
}

export function LoginProgress({ stage, pinpad, onCancel, cancelling = false }: LoginProgressProps): ReactNode {
  const { t } = useTranslation()
  const current = stageIndex(stage)
  // A token that takes seconds per step (slow card, busy reader) gets a word of explanation.
  const [slow, setSlow] = useState(false)
  useEffect(() => {
    setSlow(false)
    const timer = setTimeout(() => setSlow(true), SLOW_STAGE_MS)
    return () => clearTimeout(timer)
  }, [stage])
  return (
    <div className="login-progress" data-testid="login-progress" data-stage={stage ?? 'starting'}>
      <Steps
        orientation="vertical"
        size="small"
        current={current}
        status="process"
        items={LOGIN_STAGES.map((s, i) => ({
          title: t(`progress.${s}`),
          status: i < current ? 'finish' : i === current ? 'process' : 'wait',
        }))}
      />
      {pinpad && stage === 'pin' ? (
        <Alert type="info" showIcon title={t('pin.pinpad')} data-testid="pinpad-prompt" />
      ) : (
        <div className="login-progress__note">{t('progress.wait')}</div>
      )}
      {slow && !cancelling ? (
        <div className="login-progress__slow" data-testid="login-slow">
          {t('progress.slow')}
        </div>
      ) : null}
      {onCancel ? (
        <div className="login-progress__actions">
          <Button data-testid="login-cancel" onClick={onCancel} loading={cancelling} disabled={cancelling || stage === 'done'}>
            {cancelling ? t('progress.cancelling') : t('progress.cancel')}
          </Button>
        </div>
      ) : null}
    </div>
  )
}
