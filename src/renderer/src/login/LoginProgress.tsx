// The steps of an EDS login, driven by 'auth.progress' events.
import { Alert, Steps } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { LoginStage } from '../../../shared/model'
import { LOGIN_STAGES, stageIndex } from './model'

export function LoginProgress({ stage, pinpad }: { stage: LoginStage | null; pinpad: boolean }): ReactNode {
  const { t } = useTranslation()
  const current = stageIndex(stage)
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
    </div>
  )
}
