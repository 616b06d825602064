// The administrator's account commands behind `portal set-password | unlock-account |
// login-history` (portal/src/main.ts): Russian output, Russian errors (AccountSetupError).
import { AppError } from '../../../src/shared/errors'
import { formatSnils, isValidSnils, normalizeSnils } from '../../../src/shared/validators/snils'
import { readSecret } from '../../../src/main/cli/read-secret'
import { portalPaths } from '../../../src/shared/portal-api'
import type { Db } from '../db'
import { readDemoManifest } from '../../../scripts/demo/manifest'
import { DEMO_PASSWORD_ACCOUNT } from '../demo-seed'
import { FileChannel, OutboxChannel, parseOtpChannelSpec, type OtpChannel } from './channels'
import { maskEmail, maskPhone, normalizeEmail, normalizePhone } from './login'
import { checkPasswordPolicy, hashPassword, PASSWORD_MIN_LENGTH } from './password'
import { AccountSetupError, setAccount, unlockAccount } from './store'

export { AccountSetupError } from './store'

const TIME_ZONE = 'Europe/Moscow'

export function snilsArg(text: string): string {
  const snils = normalizeSnils(text)
  if (snils === null || !isValidSnils(snils)) throw new AccountSetupError(`Неверный СНИЛС: ${text} (11 цифр с верной контрольной суммой)`)
  return snils
}

/** `--otp-channel outbox | file:<path>` → the channel; null when the text is neither. */
export function otpChannelFromSpec(spec: string): OtpChannel | null {
  const parsed = parseOtpChannelSpec(spec)
  if (!parsed) return null
  return parsed.kind === 'outbox' ? new OutboxChannel() : new FileChannel(parsed.path)
}

/** What `serve` says about password login once the portal is up. */
export function describePasswordLogin(channel: OtpChannel | undefined, portalUrl: string, demoDir: string | undefined): string[] {
  if (!channel) return ['Вход по паролю выключен: коды подтверждения некуда отправлять (--otp-channel outbox|file:<путь>)']
  const lines =
    channel instanceof OutboxChannel
      ? [`Коды подтверждения: демо-ящик портала, ${portalUrl}${portalPaths.demoOutbox} (только для демонстрации)`]
      : channel instanceof FileChannel
        ? [`Коды подтверждения: файл ${channel.path} (по строке JSON на сообщение)`]
        : []
  if (demoDir) {
    const a = DEMO_PASSWORD_ACCOUNT
    const registrar = readDemoManifest(demoDir).workers.some((w) => w.roles.includes('registrar') && w.employment === 'active')
    lines.push(
      registrar
        ? `Демо-вход по паролю (регистратор): ${formatPhone(a.phone)} или ${a.email}, пароль ${a.password}`
        : 'В этом демо нет регистратора для входа по паролю: пересоздайте демо (npm run demo:tokens)',
    )
  }
  return lines
}

/** +79001234567 → «+7 900 123-45-67». */
function formatPhone(phone: string): string {
  return `+7 ${phone.slice(2, 5)} ${phone.slice(5, 8)}-${phone.slice(8, 10)}-${phone.slice(10)}`
}

/**
 * The new password: typed twice without echo on a terminal, one line from a pipe (scripts).
 * Never printed, logged or kept beyond hashing.
 */
export async function readNewPassword(): Promise<string> {
  const interrupted = () => {
    throw new AccountSetupError('Ввод пароля прерван')
  }
  const password = await readSecret('Новый пароль: ').catch(interrupted)
  if (process.stdin.isTTY) {
    const repeat = await readSecret('Повторите пароль: ').catch(interrupted)
    if (repeat !== password) throw new AccountSetupError('Пароли не совпадают')
  }
  return password
}

export async function setPasswordCommand(
  db: Db,
  p: { snils: string; phone?: string; email?: string; password: string; now?: Date },
): Promise<string> {
  const snils = snilsArg(p.snils)
  const phone = p.phone === undefined ? null : normalizePhone(p.phone)
  if (p.phone !== undefined && phone === null) throw new AccountSetupError(`Неверный номер телефона: ${p.phone} (например +7 900 123-45-67)`)
  const email = p.email === undefined ? null : normalizeEmail(p.email)
  if (p.email !== undefined && email === null) throw new AccountSetupError(`Неверный адрес электронной почты: ${p.email}`)
  try {
    checkPasswordPolicy(p.password)
  } catch (e) {
    if (AppError.is(e, 'PASSWORD_WEAK')) throw new AccountSetupError(`Пароль слишком простой: нужно не меньше ${PASSWORD_MIN_LENGTH} символов, буквы и цифры`)
    throw e
  }
  const r = await setAccount(db, { snils, passwordHash: await hashPassword(p.password), phone, email, now: p.now ?? new Date() })
  const contacts = [r.account.phone && `телефон ${maskPhone(r.account.phone)}`, r.account.email && `почта ${maskEmail(r.account.email)}`]
    .filter(Boolean)
    .join(', ')
  return r.created
    ? `Учётная запись создана: ${formatSnils(snils)}; коды подтверждения: ${contacts}`
    : `Пароль изменён: ${formatSnils(snils)}; блокировка снята; коды подтверждения: ${contacts}; завершено сеансов по паролю: ${r.revokedSessions}`
}

export async function unlockAccountCommand(db: Db, snilsText: string, now: Date = new Date()): Promise<string> {
  const snils = snilsArg(snilsText)
  if (!(await unlockAccount(db, snils, now))) throw new AccountSetupError(`Учётной записи со СНИЛС ${formatSnils(snils)} нет`)
  return `Учётная запись разблокирована: ${formatSnils(snils)}`
}

const METHOD_NAMES: Readonly<Record<string, string>> = {
  eds: 'ЭП',
  password: 'пароль',
  otp: 'код',
  refresh: 'продление',
  reset: 'восстановление',
}

function formatTime(at: Date): string {
  const parts = new Intl.DateTimeFormat('ru-RU', {
    timeZone: TIME_ZONE,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at)
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((x) => x.type === type)?.value ?? ''
  return `${part('day')}.${part('month')}.${part('year')} ${part('hour')}:${part('minute')}:${part('second')}`
}

/** The worker's attempts of every method, newest first, with the technical detail (never secrets). */
export async function loginHistoryCommand(db: Db, snilsText: string, limit = 50): Promise<string> {
  const snils = snilsArg(snilsText)
  const rows = await db.query<{ at: Date; address: string | null; method: string; result: string; detail: string | null }>(
    'SELECT at, address, method, result, detail FROM login_attempts WHERE snils = $1 ORDER BY at DESC, id DESC LIMIT $2',
    [snils, limit],
  )
  if (rows.length === 0) return `Попыток входа для ${formatSnils(snils)} нет`
  const lines = rows.map((r) =>
    [formatTime(r.at), (r.address ?? '—').padEnd(15), (METHOD_NAMES[r.method] ?? r.method).padEnd(14), r.result, r.detail ? `(${r.detail})` : '']
      .join('  ')
      .trimEnd(),
  )
  return [`Попытки входа ${formatSnils(snils)} (время московское, новые сверху):`, ...lines].join('\n')
}
