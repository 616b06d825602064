// Password + one-time code login (the Госуслуги account route, for staff without a token) and
// password reset by a code. The password and the code pass straight to the portal: nothing here
// keeps, logs or returns them. Portal refusals arrive as catalogue errors with the portal's
// params (ACCOUNT_LOCKED: unlockAt as people read it, unlockAtIso; OTP_INVALID: attemptsLeft;
// PASSWORD_WEAK: minLength). What this adds: how long a code is valid by the portal's own clock.
import { AppError } from '../../../shared/errors'
import type { OtpSentResponse, SessionResponse } from '../../../shared/portal-api'
import type { Dated, PortalClient } from '../portal/portal-client'

export interface PasswordLoginDeps {
  portal: Pick<PortalClient, 'passwordLogin' | 'passwordOtp' | 'passwordReset' | 'passwordResetConfirm'>
  /** Local clock, used when the portal's answer carries no Date header. */
  now?: () => Date
}

/** A code was sent: where to, until when, and for how many more seconds (by the portal's clock). */
export interface OtpChallenge extends OtpSentResponse {
  /**
   * Seconds the code stays valid, counted on the portal's clock (its Date header), so the
   * countdown of a workstation whose clock is off still ends when the portal's does.
   */
  validForSeconds: number
}

export function otpChallenge(sent: Dated<OtpSentResponse>, localNow: Date): OtpChallenge {
  const expires = Date.parse(sent.value.expiresAt)
  // A Date header has whole seconds (the portal's time is up to 1 s later): take the middle, and
  // round down, so the countdown never runs past the portal's expiry.
  const serverNow = sent.serverTime ? sent.serverTime.getTime() + 500 : localNow.getTime()
  const validForSeconds = Number.isNaN(expires) ? 0 : Math.max(0, Math.floor((expires - serverNow) / 1000))
  return { ...sent.value, validForSeconds }
}

const clock = (deps: PasswordLoginDeps): Date => (deps.now ? deps.now() : new Date())

/** A code as typed or pasted («123 456», «123-456») → six digits; anything else is refused here. */
export function normaliseCode(code: string): string {
  const digits = code.replace(/[\s-]/g, '')
  if (!/^\d{6}$/.test(digits)) throw new AppError('INVALID_INPUT', {}, 'a one-time code is six digits')
  return digits
}

/** Step 1: the portal checks the login and the password and sends a code. */
export async function startPasswordLogin(deps: PasswordLoginDeps, login: string, password: string): Promise<OtpChallenge> {
  return otpChallenge(await deps.portal.passwordLogin({ login: login.trim(), password }), clock(deps))
}

/** Step 2: the code → a portal session (the caller opens the app session with it). */
export async function confirmPasswordLogin(deps: PasswordLoginDeps, otpId: string, code: string): Promise<SessionResponse> {
  return deps.portal.passwordOtp({ otpId, code: normaliseCode(code) })
}

/** Reset, step 1: a code to the account's phone or e-mail (the portal answers alike for unknown logins). */
export async function startPasswordReset(deps: PasswordLoginDeps, login: string): Promise<OtpChallenge> {
  return otpChallenge(await deps.portal.passwordReset(login.trim()), clock(deps))
}

/** Reset, step 2: the code and the new password; the portal checks its policy (PASSWORD_WEAK). */
export async function confirmPasswordReset(deps: PasswordLoginDeps, otpId: string, code: string, newPassword: string): Promise<void> {
  await deps.portal.passwordResetConfirm({ otpId, code: normaliseCode(code), newPassword })
}
