// The password + one-time code route (staff without a token) and the password reset by a code.
// Calls go straight to the API, not through react-query mutations (whose `variables` would keep
// a copy of the password). The password stays in this component's state only while the code step
// may need it again («Отправить код ещё раз» repeats step 1); it is gone when the route unmounts
// after login, and cleared after a reset. On a failure nothing typed is lost except the code.
// When the portal cannot be reached, «Войти без сети» offers the offline login with the same
// login and password (auth.offlineLogin: checked against this workstation's copy).
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, Button, Input, type GetRef, type InputRef } from 'antd'
import { useEffect, useRef, useState, type FormEvent, type ReactNode, type Ref } from 'react'
import { useTranslation } from 'react-i18next'
import type { AppErrorData } from '../../../shared/errors'
import type { SessionInfo } from '../../../shared/model'
import type { OtpChallenge } from '../../../shared/rpc/contract'
import { errorData } from '../api'
import { ErrorAlert } from '../components/ErrorAlert'
import { FormField } from '../components/FormField'
import { useApi } from '../context'
import { DemoOutbox } from './DemoOutbox'
import {
  afterError,
  codeComplete,
  codeDeadline,
  codeDigits,
  formatCountdown,
  lockMinutesLeft,
  loginProblem,
  newPasswordProblems,
  policyMinLength,
  resendWait,
  secondsLeft,
  type PasswordStep,
} from './password-model'
import { useNow } from './useNow'

export interface PasswordLoginProps {
  /** The tab is on screen (the demo outbox polls only then). */
  active: boolean
  onLoggedIn: (session: SessionInfo) => void
  /** Switches to the token route (offered on the lock screen). */
  onUseToken: () => void
}

/** A code that was sent, with when it arrived and until when it works (local clock). */
interface SentCode {
  otp: OtpChallenge
  sentAt: number
  deadline: number
  /** Sent again on request: the previous code no longer works. */
  resent: boolean
}

function sentCode(otp: OtpChallenge, resent: boolean): SentCode {
  const now = Date.now()
  return { otp, sentAt: now, deadline: codeDeadline(otp.validForSeconds, now), resent }
}

/** The login box of the sign-in and the reset forms: телефон, e-mail или СНИЛС. */
function LoginField(p: {
  id: string
  testId: string
  issue: ReturnType<typeof loginProblem>
  value: string
  onChange: (value: string) => void
  inputRef?: Ref<InputRef>
  autoFocus?: boolean
}): ReactNode {
  const { t } = useTranslation()
  return (
    <FormField id={p.id} label={t('password.login')} hint={t('password.loginHint')} problem={p.issue ? t(`password.loginProblems.${p.issue}`) : null}>
      <Input
        id={p.id}
        ref={p.inputRef}
        data-testid={p.testId}
        size="large"
        autoComplete="username"
        autoFocus={p.autoFocus}
        maxLength={254}
        placeholder={t('password.loginPlaceholder')}
        status={p.issue ? 'error' : undefined}
        value={p.value}
        onChange={(e) => p.onChange(e.target.value)}
      />
    </FormField>
  )
}

interface CodeEntryProps {
  sent: SentCode
  code: string
  onCode: (code: string) => void
  /** All digits typed: submit at once (the login); absent: the form's button submits (the reset). */
  onComplete?: (code: string) => void
  /** The code can no longer succeed (used up, expired on the portal). */
  dead: boolean
  busy: boolean
  onResend: () => void
}

function CodeEntry({ sent, code, onCode, onComplete, dead, busy, onResend }: CodeEntryProps): ReactNode {
  const { t } = useTranslation()
  const now = useNow(1000)
  const left = secondsLeft(sent.deadline, now)
  const expired = left === 0
  const wait = resendWait(sent.sentAt, now, !expired && !dead)
  const otpRef = useRef<GetRef<typeof Input.OTP>>(null)
  const usable = !busy && !expired && !dead
  useEffect(() => {
    if (code === '' && usable) otpRef.current?.focus()
  }, [code, usable, sent])

  return (
    <div className="code-entry" data-testid="code-entry" data-state={dead ? 'dead' : expired ? 'expired' : 'live'}>
      <div className="code-entry__sent" data-testid="code-destination">
        {t(`code.sentTo.${sent.otp.channel}`, { destination: sent.otp.destination })}
      </div>
      {sent.resent ? (
        <div className="code-entry__note" data-testid="code-resent">
          {t('code.resent')}
        </div>
      ) : null}
      <div className="field">
        <span className="field__label" id="otp-label">
          {t('code.label')}
        </span>
        <Input.OTP
          ref={otpRef}
          data-testid="otp-input"
          aria-labelledby="otp-label"
          length={sent.otp.codeLength}
          size="large"
          value={code}
          formatter={codeDigits}
          inputMode="numeric"
          autoComplete="one-time-code"
          disabled={!usable}
          onInput={(cells) => onCode(codeDigits(cells.join('')))}
          onChange={(value) => onComplete?.(value)}
        />
      </div>
      <div className={`code-entry__timer${expired || dead ? ' code-entry__timer--over' : ''}`} data-testid="code-timer">
        {dead ? t('code.dead') : expired ? t('code.expired') : t('code.validFor', { time: formatCountdown(left) })}
      </div>
      <div>
        <Button type="link" className="link-button" data-testid="code-resend" disabled={busy || wait > 0} onClick={onResend}>
          {wait > 0 ? t('code.resendIn', { time: formatCountdown(wait) }) : t('code.resend')}
        </Button>
      </div>
    </div>
  )
}

export function PasswordLogin({ active, onLoggedIn, onUseToken }: PasswordLoginProps): ReactNode {
  const { t } = useTranslation()
  const api = useApi()
  const qc = useQueryClient()
  const info = useQuery({ queryKey: ['app.info'], queryFn: () => api.call('app.info', {}), staleTime: Infinity, retry: false })

  const [step, setStep] = useState<PasswordStep>('credentials')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<AppErrorData | null>(null)
  const [lock, setLock] = useState<AppErrorData | null>(null)
  // Login
  const [login, setLogin] = useState('')
  const [password, setPassword] = useState('')
  const [triedCredentials, setTriedCredentials] = useState(false)
  // Code (login or reset: one at a time)
  const [sent, setSent] = useState<SentCode | null>(null)
  const [code, setCode] = useState('')
  const [codeDead, setCodeDead] = useState(false)
  // Reset
  const [resetLogin, setResetLogin] = useState('')
  const [triedReset, setTriedReset] = useState(false)
  const [newPassword, setNewPassword] = useState('')
  const [repeat, setRepeat] = useState('')
  const [triedNewPassword, setTriedNewPassword] = useState(false)
  const [weak, setWeak] = useState<AppErrorData | null>(null)

  const loginInputRef = useRef<InputRef>(null)
  const now = useNow(30_000, step === 'locked')

  const go = (next: PasswordStep): void => {
    setError(null)
    setStep(next)
  }

  /**
   * A failure on `from`: the code field is emptied (a weak new password excepted: the portal
   * checks the policy before the code, which stays valid), everything else stays.
   */
  const fail = (from: PasswordStep, e: unknown): void => {
    const err = errorData(e)
    const outcome = afterError(from, err)
    if (err.code !== 'PASSWORD_WEAK') setCode('')
    if (from === 'code' || from === 'resetCode') setCodeDead(outcome.codeDead)
    if (err.code === 'PASSWORD_WEAK') setWeak(err)
    if (outcome.step === 'locked') {
      setLock(err)
      setError(null)
    } else {
      setError(err)
    }
    setStep(outcome.step)
  }

  const codeSent = (otp: OtpChallenge, next: 'code' | 'resetCode', resent: boolean): void => {
    setSent(sentCode(otp, resent))
    setCode('')
    setCodeDead(false)
    go(next)
    // The demo panel shows the new message at once rather than at its next poll.
    if (info.data?.demoOutbox) void qc.invalidateQueries({ queryKey: ['demo.outbox'] })
  }

  // --- login ---
  const loginIssue = loginProblem(login)
  const sendPassword = async (from: 'credentials' | 'code'): Promise<void> => {
    if (busy) return
    setTriedCredentials(true)
    if (loginIssue !== null || password === '') {
      if (from === 'code') go('credentials')
      return
    }
    setBusy(true)
    setError(null)
    try {
      codeSent(await api.call('auth.passwordStart', { login, password }), 'code', from === 'code')
    } catch (e) {
      fail(from, e)
    } finally {
      setBusy(false)
    }
  }

  /**
   * The portal cannot be reached: a worker who logged in online here before may work offline,
   * checked against the credential kept on this workstation. Changes wait for an online login.
   */
  const loginOffline = async (): Promise<void> => {
    if (busy || loginIssue !== null || password === '') return
    setBusy(true)
    setError(null)
    try {
      const session = await api.call('auth.offlineLogin', { login, password })
      setPassword('')
      onLoggedIn(session)
    } catch (e) {
      fail('credentials', e)
    } finally {
      setBusy(false)
    }
  }

  const confirmCode = async (value: string): Promise<void> => {
    if (busy || !sent || !codeComplete(value, sent.otp.codeLength)) return
    setBusy(true)
    setError(null)
    try {
      const session = await api.call('auth.passwordConfirm', { otpId: sent.otp.otpId, code: value })
      setPassword('')
      setCode('')
      onLoggedIn(session)
    } catch (e) {
      fail('code', e)
    } finally {
      setBusy(false)
    }
  }

  // --- reset ---
  const resetIssue = loginProblem(resetLogin)
  const startReset = (): void => {
    setResetLogin(login)
    setTriedReset(false)
    go('resetLogin')
  }
  const sendReset = async (from: 'resetLogin' | 'resetCode'): Promise<void> => {
    if (busy) return
    setTriedReset(true)
    if (resetIssue !== null) {
      if (from === 'resetCode') go('resetLogin')
      return
    }
    setBusy(true)
    setError(null)
    try {
      codeSent(await api.call('auth.passwordResetStart', { login: resetLogin }), 'resetCode', from === 'resetCode')
    } catch (e) {
      fail(from, e)
    } finally {
      setBusy(false)
    }
  }

  const minLength = policyMinLength(weak)
  const passwordIssues = newPasswordProblems(newPassword, repeat, minLength)
  const saveNewPassword = async (): Promise<void> => {
    if (busy || !sent) return
    setTriedNewPassword(true)
    if (passwordIssues.length > 0 || !codeComplete(code, sent.otp.codeLength)) return
    setBusy(true)
    setError(null)
    try {
      await api.call('auth.passwordResetConfirm', { otpId: sent.otp.otpId, code, newPassword })
      setNewPassword('')
      setRepeat('')
      setCode('')
      setPassword('')
      setLogin(resetLogin)
      setTriedNewPassword(false)
      go('resetDone')
    } catch (e) {
      fail('resetCode', e)
    } finally {
      setBusy(false)
    }
  }

  const submitted =
    (handler: () => Promise<void>) =>
    (e: FormEvent): void => {
      e.preventDefault()
      void handler()
    }

  useEffect(() => {
    if (active && step === 'credentials') loginInputRef.current?.focus()
  }, [active, step])

  const codeStep = step === 'code' || step === 'resetCode'
  let content: ReactNode
  if (step === 'credentials') {
    content = (
      <form className="pw-form" data-testid="password-form" onSubmit={submitted(() => sendPassword('credentials'))} noValidate>
        {error ? (
          <ErrorAlert
            error={error}
            testId="password-error"
            extra={error.code === 'PORTAL_UNREACHABLE' ? t('password.offline.hint') : undefined}
            action={
              error.code === 'PORTAL_UNREACHABLE' ? (
                <Button loading={busy} onClick={() => void loginOffline()} data-testid="offline-login">
                  {t('password.offline.action')}
                </Button>
              ) : undefined
            }
          />
        ) : null}
        <LoginField
          id="pw-login"
          testId="login-input"
          inputRef={loginInputRef}
          issue={triedCredentials ? loginIssue : null}
          value={login}
          onChange={setLogin}
        />
        <FormField id="pw-password" label={t('password.password')} problem={triedCredentials && password === '' ? t('password.passwordEmpty') : null}>
          <Input.Password
            id="pw-password"
            data-testid="password-input"
            size="large"
            autoComplete="current-password"
            maxLength={1024}
            placeholder={t('password.passwordPlaceholder')}
            status={triedCredentials && password === '' ? 'error' : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </FormField>
        <div className="pw-form__actions">
          <Button type="primary" htmlType="submit" size="large" loading={busy} data-testid="password-submit">
            {t('password.submit')}
          </Button>
          <Button type="link" className="link-button" onClick={startReset} data-testid="forgot-password">
            {t('password.forgot')}
          </Button>
        </div>
      </form>
    )
  } else if (step === 'code' && sent) {
    content = (
      <form className="pw-form" data-testid="code-form" onSubmit={submitted(() => confirmCode(code))} noValidate>
        {error ? <ErrorAlert error={error} testId="password-error" /> : null}
        <CodeEntry
          sent={sent}
          code={code}
          onCode={setCode}
          onComplete={(value) => void confirmCode(value)}
          dead={codeDead}
          busy={busy}
          onResend={() => void sendPassword('code')}
        />
        <div className="pw-form__actions">
          <Button
            type="primary"
            htmlType="submit"
            size="large"
            loading={busy}
            disabled={codeDead || !codeComplete(code, sent.otp.codeLength)}
            data-testid="code-submit"
          >
            {t('code.submit')}
          </Button>
          <Button size="large" onClick={() => go('credentials')} disabled={busy} data-testid="code-back">
            {t('code.back')}
          </Button>
        </div>
      </form>
    )
  } else if (step === 'locked' && lock) {
    const minutes = lockMinutesLeft(lock, now)
    content = (
      <div className="pw-form" data-testid="password-locked">
        <ErrorAlert
          error={lock}
          testId="password-error"
          extra={minutes === null ? undefined : minutes > 1 ? t('locked.left', { minutes }) : t('locked.soon')}
        />
        <div className="pw-form__actions">
          <Button type="primary" onClick={startReset} data-testid="locked-reset">
            {t('locked.reset')}
          </Button>
          <Button onClick={onUseToken} data-testid="locked-use-token">
            {t('password.useToken')}
          </Button>
          <Button type="link" className="link-button" onClick={() => go('credentials')} data-testid="locked-back">
            {t('locked.back')}
          </Button>
        </div>
      </div>
    )
  } else if (step === 'resetLogin') {
    content = (
      <form className="pw-form" data-testid="reset-form" onSubmit={submitted(() => sendReset('resetLogin'))} noValidate>
        <p className="pw-form__lead">{t('reset.lead')}</p>
        {error ? <ErrorAlert error={error} testId="password-error" /> : null}
        <LoginField
          id="reset-login"
          testId="reset-login-input"
          autoFocus
          issue={triedReset ? resetIssue : null}
          value={resetLogin}
          onChange={setResetLogin}
        />
        <div className="pw-form__actions">
          <Button type="primary" htmlType="submit" size="large" loading={busy} data-testid="reset-send">
            {t('reset.sendCode')}
          </Button>
          <Button size="large" onClick={() => go('credentials')} disabled={busy} data-testid="reset-back">
            {t('reset.back')}
          </Button>
        </div>
      </form>
    )
  } else if (step === 'resetCode' && sent) {
    const showIssues = triedNewPassword || newPassword !== ''
    const visibleIssues = passwordIssues.filter((p) => (p === 'mismatch' ? triedNewPassword || repeat !== '' : showIssues))
    content = (
      <form className="pw-form" data-testid="reset-confirm-form" onSubmit={submitted(saveNewPassword)} noValidate>
        <p className="pw-form__lead">{t('reset.codeLead')}</p>
        {error ? <ErrorAlert error={error} testId="password-error" /> : null}
        <CodeEntry sent={sent} code={code} onCode={setCode} dead={codeDead} busy={busy} onResend={() => void sendReset('resetCode')} />
        <FormField id="new-password" label={t('reset.newPassword')} hint={t('reset.policy', { minLength })}>
          <Input.Password
            id="new-password"
            data-testid="new-password-input"
            size="large"
            autoComplete="new-password"
            maxLength={1024}
            value={newPassword}
            onChange={(e) => setNewPassword(e.target.value)}
          />
        </FormField>
        <FormField id="new-password-repeat" label={t('reset.repeat')}>
          <Input.Password
            id="new-password-repeat"
            data-testid="new-password-repeat"
            size="large"
            autoComplete="new-password"
            maxLength={1024}
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </FormField>
        {visibleIssues.length > 0 ? (
          <ul className="field__problems" data-testid="new-password-problems">
            {visibleIssues.map((p) => (
              <li key={p} data-problem={p}>
                {t(`reset.problems.${p}`, { minLength })}
              </li>
            ))}
          </ul>
        ) : null}
        <div className="pw-form__actions">
          <Button type="primary" htmlType="submit" size="large" loading={busy} disabled={codeDead} data-testid="reset-save">
            {t('reset.save')}
          </Button>
          <Button size="large" onClick={() => go('resetLogin')} disabled={busy} data-testid="reset-code-back">
            {t('code.back')}
          </Button>
        </div>
      </form>
    )
  } else {
    content = (
      <div className="pw-form" data-testid="reset-done">
        <Alert type="success" showIcon title={t('reset.done.title')} description={t('reset.done.message')} />
        <div className="pw-form__actions">
          <Button type="primary" size="large" onClick={() => go('credentials')} data-testid="reset-done-login">
            {t('reset.done.action')}
          </Button>
        </div>
      </div>
    )
  }

  return (
    <div className={`pw-layout${info.data?.demoOutbox ? ' pw-layout--demo' : ''}`} data-testid="password-route" data-step={step}>
      <section className="panel pw-panel" aria-labelledby="pw-panel-title">
        <div className="panel__head">
          <h2 className="panel__title" id="pw-panel-title">
            {step === 'code' ? t('code.title') : step.startsWith('reset') ? t('reset.title') : t('password.panelTitle')}
          </h2>
        </div>
        <div className="panel__body">{content}</div>
      </section>
      {info.data?.demoOutbox ? <DemoOutbox active={active} onUseCode={codeStep && !codeDead ? setCode : undefined} /> : null}
    </div>
  )
}
