// PIN entry and login progress for one certificate. The PIN lives in this component's state only
// while it is typed: it is cleared the moment it is submitted, and the login call is made
// directly (not through a react-query mutation, whose `variables` would keep a copy).
import { useQueryClient } from '@tanstack/react-query'
import { Alert, Button, Input, Modal, type InputRef } from 'antd'
import { useEffect, useRef, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { CertificateInfo, LoginStage, SessionInfo, TokenInfo } from '../../../shared/model'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { useApi } from '../context'
import { LoginProgress } from './LoginProgress'
import { canRetry, certificateView, pinPrompt, type PinPrompt } from './model'
import { TOKEN_STATE_KEY } from './useTokenState'

export interface PinDialogProps {
  cert: CertificateInfo
  /** The certificate's token as currently seen, or undefined if it has been pulled out. */
  token: TokenInfo | undefined
  /** Whether the certificate is still on a present token. */
  present: boolean
  onClose: () => void
  onLoggedIn: (session: SessionInfo) => void
}

function PinWarning({ prompt, showTries }: { prompt: PinPrompt; showTries: boolean }): ReactNode {
  const { t } = useTranslation()
  if (prompt.kind !== 'pin') return null
  const tries = showTries && prompt.triesLeft !== null ? t('pin.triesLeft', { count: prompt.triesLeft }) : null
  if (prompt.warning === 'finalTry') {
    return (
      <div data-testid="pin-warning" data-level="finalTry">
        <Alert type="error" showIcon title={t('pin.finalTry')} description={t('pin.finalTryHint')} />
      </div>
    )
  }
  if (prompt.warning === 'countLow') {
    return (
      <div data-testid="pin-warning" data-level="countLow">
        <Alert type="warning" showIcon title={t('pin.countLow')} description={tries ? `${tries}. ${t('pin.countLowHint')}` : t('pin.countLowHint')} />
      </div>
    )
  }
  return tries ? (
    <div className="pin-tries" data-testid="pin-tries">
      {tries}
    </div>
  ) : null
}

export function PinDialog({ cert, token, present, onClose, onLoggedIn }: PinDialogProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const qc = useQueryClient()
  const [pin, setPin] = useState('')
  const [busy, setBusy] = useState(false)
  const [cancelling, setCancelling] = useState(false)
  const [stage, setStage] = useState<LoginStage | null>(null)
  const [error, setError] = useState<AppErrorData | null>(null)
  const inputRef = useRef<InputRef>(null)
  const view = certificateView(cert)

  const prompt = pinPrompt(token, error)
  const finalError = error !== null && !canRetry(error)
  // A token pulled out during this login already says so («Токен извлечён»): keep that message.
  const missing: AppErrorData | null =
    !present && !busy && error?.code !== 'TOKEN_REMOVED' ? { code: 'CERTIFICATE_NOT_FOUND', params: {} } : null
  const showForm = !busy && !finalError && !missing && present && prompt.kind !== 'locked'

  useEffect(() => {
    if (!busy) return
    return api.on('auth.progress', ({ stage: s }) => setStage(s))
  }, [api, busy])

  useEffect(() => {
    if (showForm && prompt.kind === 'pin') {
      const timer = setTimeout(() => inputRef.current?.focus(), 50)
      return () => clearTimeout(timer)
    }
    return undefined
  }, [showForm, prompt.kind, error])

  const submit = async (): Promise<void> => {
    if (busy || (prompt.kind === 'pin' && pin.length === 0)) return
    const value = prompt.kind === 'pin' ? pin : null
    setPin('')
    setError(null)
    setStage(null)
    setCancelling(false)
    setBusy(true)
    try {
      const session = await api.call('auth.loginWithCertificate', { certificateId: cert.id, pin: value })
      onLoggedIn(session)
    } catch (e) {
      setError(errorData(e))
      // The token's PIN flags (tries left, locked) change after a failed attempt.
      void qc.invalidateQueries({ queryKey: TOKEN_STATE_KEY })
    } finally {
      setBusy(false)
      setCancelling(false)
    }
  }

  // The login call itself rejects with CANCELLED as soon as the core has cancelled it.
  const cancel = async (): Promise<void> => {
    if (cancelling) return
    setCancelling(true)
    try {
      await api.call('auth.cancel', {})
    } catch {
      setCancelling(false)
    }
  }

  const triesAfterError = error?.code === 'PIN_INCORRECT' && prompt.kind === 'pin' ? prompt.triesLeft : null
  const footer = busy
    ? null
    : showForm
      ? [
          <Button key="cancel" onClick={onClose} data-testid="pin-cancel">
            {t('pin.cancel')}
          </Button>,
          <Button
            key="submit"
            type="primary"
            data-testid="pin-submit"
            disabled={prompt.kind === 'pin' && pin.length === 0}
            onClick={() => void submit()}
          >
            {error ? t('pin.retry') : t('pin.submit')}
          </Button>,
        ]
      : [
          <Button key="close" type="primary" onClick={onClose} data-testid="pin-close">
            {finalError || prompt.kind === 'locked' ? t('pin.chooseOther') : t('pin.close')}
          </Button>,
        ]

  return (
    <Modal
      open
      title={busy ? t('progress.title') : t('pin.title')}
      onCancel={busy ? undefined : onClose}
      closable={!busy}
      keyboard={!busy}
      mask={{ closable: !busy }}
      footer={footer}
      width={520}
      destroyOnHidden
    >
      <div className="pin-dialog" data-testid="pin-dialog-body">
        <div className="pin-dialog__cert">
          <div className="pin-dialog__name">{view.name}</div>
          <div className="pin-dialog__meta">
            {[view.position, view.organisation].filter(Boolean).join(' · ')}
            {view.position || view.organisation ? <br /> : null}
            {t('cert.token')}: {cert.tokenLabel}
          </div>
        </div>

        {busy ? <LoginProgress stage={stage} pinpad={prompt.kind === 'pinpad'} onCancel={() => void cancel()} cancelling={cancelling} /> : null}

        {!busy && missing ? <ErrorAlert error={missing} testId="login-error" /> : null}

        {!busy && !missing && error ? (
          <ErrorAlert
            error={error}
            type={error.code === 'CANCELLED' ? 'info' : 'error'}
            testId="login-error"
            extra={
              triesAfterError !== null
                ? t('pin.triesLeft', { count: triesAfterError })
                : error.code === 'PIN_INCORRECT' && prompt.kind === 'pin' && prompt.warning === 'countLow'
                  ? t('pin.countLow')
                  : undefined
            }
          />
        ) : null}

        {!busy && !missing && prompt.kind === 'locked' && error?.code !== 'PIN_LOCKED' ? (
          <ErrorAlert error={{ code: 'PIN_LOCKED', params: {} }} testId="login-error" />
        ) : null}

        {showForm && prompt.kind === 'pin' ? (
          <div className="pin-dialog__form">
            {/* After a wrong PIN the error already tells the tries; only the last-try warning is added. */}
            {error?.code !== 'PIN_INCORRECT' || (prompt.kind === 'pin' && prompt.warning === 'finalTry') ? (
              <PinWarning prompt={prompt} showTries={triesAfterError === null} />
            ) : null}
            <label className="pin-dialog__label" htmlFor="pin-input">
              {t('pin.label')}
            </label>
            <Input.Password
              id="pin-input"
              ref={inputRef}
              data-testid="pin-input"
              size="large"
              autoFocus
              autoComplete="off"
              maxLength={64}
              placeholder={t('pin.placeholder')}
              value={pin}
              onChange={(e) => setPin(e.target.value)}
              onPressEnter={() => void submit()}
            />
          </div>
        ) : null}

        {showForm && prompt.kind === 'pinpad' ? (
          <div data-testid="pinpad-info">
            <Alert type="info" showIcon title={t('pin.pinpad')} description={t('pin.pinpadHint')} />
          </div>
        ) : null}

        {showForm && prompt.kind === 'none' ? <div className="pin-tries">{t('pin.noPinNeeded')}</div> : null}
      </div>
    </Modal>
  )
}
