// Reference portal CLI: `npx tsx portal/src/main.ts serve …` and the admin commands that manage
// the trust store and the worker register. DATABASE_URL selects a PostgreSQL server; otherwise
// the embedded engine keeps its data in --data (default .data/portal).
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ZodError } from 'zod'
import { openDb, type Db } from './db'
import { lockDataDir, type DataLock } from './data-lock'
import { migrate } from './migrate'
import { AppError } from '../../src/shared/errors'
import { UsageError } from './cli-errors'
import { REGISTER_CLI_OPTIONS, REGISTER_USAGE, runRegisterCommand } from './register-cli'
import type { RateLimitOptions } from './rate-limit'
import { startPortal } from './server'
import { isClusterWorker, reportReady, runPrimary } from './cluster'
import { seedFromDemo } from './demo-seed'
import { SEED_USAGE } from './fhir/seed-options'
import { readDemoManifest } from '../../scripts/demo/manifest'
import { importCrl, trustCa } from './trust'
import {
  describePasswordLogin,
  loginHistoryCommand,
  otpChannelFromSpec,
  readNewPassword,
  setPasswordCommand,
  unlockAccountCommand,
} from './accounts/cli'

export { startPortal, createPortalServer, type StartPortalOptions, type StartedPortal } from './server'

export const USAGE = `Справочный портал ЛКМР

Использование:
  portal serve [--host 127.0.0.1] [--port 8443] [--data .data/portal] [--demo .demo]
               [--tls-cert cert.pem --tls-key key.pem] [--rate-limit 30/60|off] [--quiet]
               [--workers N]   (несколько процессов; только с DATABASE_URL)
               [--otp-channel outbox|file:<путь>]   (куда слать коды входа по паролю; с --demo — outbox)
  portal trust-ca <ca.pem|ca.der>
  portal import-crl <crl.der|crl.pem>
${REGISTER_USAGE}
  portal seed-demo --demo .demo
${SEED_USAGE}
  portal set-password --snils … [--phone +79001234567] [--email name@clinic.ru]
                      (пароль — со стандартного ввода; создаёт учётную запись или меняет пароль)
  portal unlock-account --snils …
  portal login-history --snils …

Все команды принимают --data <папка>; DATABASE_URL=postgres://… — сервер PostgreSQL вместо папки.
При встроенной базе админ-команды выполняются при остановленном портале.`

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
  demo: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'rate-limit': { type: 'string' },
  workers: { type: 'string' },
  quiet: { type: 'boolean' },
  snils: { type: 'string' },
  name: { type: 'string' },
  position: { type: 'string' },
  org: { type: 'string' },
  ogrn: { type: 'string' },
  roles: { type: 'string' },
  ...REGISTER_CLI_OPTIONS,
  phone: { type: 'string' },
  email: { type: 'string' },
  'otp-channel': { type: 'string' },
  patients: { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']

function required(values: Values, name: 'snils' | 'name' | 'position' | 'org'): string {
  const v = values[name]
  if (!v) throw new UsageError(`Не указан --${name}`)
  return v
}

interface Storage {
  db: Db
  close(): Promise<void>
}

/** Opens the database the way the options say, locking an embedded data folder. */
async function openStorage(values: Values): Promise<Storage> {
  const databaseUrl = process.env.DATABASE_URL || null
  let lock: DataLock | null = null
  const dataDir = resolve(values.data ?? '.data/portal')
  if (!databaseUrl) lock = lockDataDir(dataDir)
  try {
    const db = await openDb({ databaseUrl, dataDir })
    await migrate(db)
    return {
      db,
      async close() {
        await db.close()
        lock?.release()
      },
    }
  } catch (e) {
    lock?.release()
    throw e
  }
}

async function withDb<T>(values: Values, fn: (db: Db) => Promise<T>): Promise<T> {
  const storage = await openStorage(values)
  try {
    return await fn(storage.db)
  } finally {
    await storage.close()
  }
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 8443
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`Неверный порт: ${text}`)
  return port
}

/** `--rate-limit N/S`: N requests per S seconds and address, for each auth route group; `off`. */
export function parseRateLimit(text: string | undefined): RateLimitOptions | false | undefined {
  if (text === undefined) return undefined
  if (text === 'off') return false
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text)
  const max = Number(m?.[1])
  const seconds = Number(m?.[2])
  if (!m || max < 1 || seconds < 1) throw new UsageError(`Неверный --rate-limit: ${text} (нужно N/секунды, например 30/60, или off)`)
  const rule = { max, windowMs: seconds * 1000 }
  return { login: rule, refresh: rule }
}

/** `--workers N` (1…64, default 1). */
function parseWorkers(text: string | undefined): number {
  if (text === undefined) return 1
  const n = Number(text)
  if (!/^\d{1,2}$/.test(text) || n < 1 || n > 64) throw new UsageError(`Неверный --workers: ${text} (число процессов от 1 до 64)`)
  return n
}

async function serve(values: Values): Promise<void> {
  const port = parsePort(values.port)
  const rateLimit = parseRateLimit(values['rate-limit'])
  const otpSpec = values['otp-channel'] ?? (values.demo ? 'outbox' : undefined)
  const otpChannel = otpSpec === undefined ? undefined : otpChannelFromSpec(otpSpec)
  if (otpChannel === null) throw new UsageError(`Неверный --otp-channel: ${otpSpec} (нужно outbox или file:<путь>)`)
  const certFile = values['tls-cert']
  const keyFile = values['tls-key']
  if (Boolean(certFile) !== Boolean(keyFile)) throw new UsageError('--tls-cert и --tls-key указываются вместе')
  if (!certFile && !values.demo) throw new UsageError('Нужен сертификат TLS: --tls-cert и --tls-key (или --demo)')
  const workers = parseWorkers(values.workers)
  if (workers > 1 && !isClusterWorker()) {
    if (!process.env.DATABASE_URL) throw new UsageError('--workers больше 1 — только с сервером PostgreSQL (DATABASE_URL): встроенную базу открывает один процесс')
    await (await openStorage(values)).close() // migrations, once, before the workers start
    return runPrimary(workers, (line) => process.stdout.write(`${line}\n`))
  }
  const storage = await openStorage(values)
  let portal: Awaited<ReturnType<typeof startPortal>>
  try {
    portal = await startPortal({
      db: storage.db,
      host: values.host ?? '127.0.0.1',
      port,
      demo: values.demo ? resolve(values.demo) : undefined,
      tls: certFile && keyFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : undefined,
      logger: !values.quiet,
      rateLimit,
      otpChannel,
    })
  } catch (e) {
    await storage.close()
    const code = (e as { code?: string }).code
    if (code === 'EADDRINUSE') {
      throw new Error(`Порт ${port} уже занят — возможно, портал уже запущен. Остановите его или укажите другой порт: --port N`)
    }
    if (code === 'EACCES') throw new Error(`Нет прав на порт ${port}: выберите порт выше 1024 (--port N)`)
    throw e
  }
  if (isClusterWorker()) reportReady(portal.url)
  else process.stdout.write(`Портал запущен: ${portal.url}\n`)
  if (!isClusterWorker()) for (const line of describePasswordLogin(otpChannel, portal.url, values.demo && resolve(values.demo))) process.stdout.write(`${line}\n`)
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    void (async () => {
      try {
        await portal.close()
        await storage.close()
        process.stdout.write(`Портал остановлен (${signal})\n`)
        process.exit(0)
      } catch (e) {
        process.stderr.write(`Ошибка при остановке: ${(e as Error).message}\n`)
        process.exit(1)
      }
    })()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

export async function runCli(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  const [command, ...rest] = positionals
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  switch (command) {
    case 'serve':
      return serve(values)
    case 'trust-ca': {
      const file = rest[0]
      if (!file) throw new UsageError('Укажите файл сертификата УЦ')
      const ca = await withDb(values, (db) => trustCa(db, readFileSync(file)))
      process.stdout.write(`${ca.added ? 'Добавлен доверенный УЦ' : 'УЦ уже в списке доверенных'}: ${ca.subject.replace(/\n/g, ', ')}\nSHA-256: ${ca.fingerprint}\n`)
      return
    }
    case 'import-crl': {
      const file = rest[0]
      if (!file) throw new UsageError('Укажите файл СОС (CRL)')
      const crl = await withDb(values, (db) => importCrl(db, new Uint8Array(readFileSync(file))))
      process.stdout.write(
        `${crl.replaced ? 'СОС загружен' : 'СОС не новее загруженного, оставлен прежний'}: ${crl.issuerSubject.replace(/\n/g, ', ')}\n` +
          `Отозвано сертификатов: ${crl.revokedCount}; выпущен ${crl.thisUpdate.toISOString()}; следующий ${crl.nextUpdate?.toISOString() ?? '—'}\n`,
      )
      return
    }
    case 'seed': {
      // Loaded on demand: faker and its locales would slow every other command's start.
      const { runSeedCommand } = await import('./fhir/seed-cli')
      return runSeedCommand(values, (fn) => withDb(values, fn), (line) => process.stdout.write(`${line}\n`))
    }
    case 'seed-demo': {
      if (!values.demo) throw new UsageError('Укажите --demo <папка демо>')
      const manifest = readDemoManifest(resolve(values.demo))
      const s = await withDb(values, (db) => seedFromDemo(db, manifest))
      process.stdout.write(`Демо загружено: доверенный УЦ ${s.caFingerprint.slice(0, 16)}…, отозвано ${s.crlRevokedCount}, организаций ${s.organisations}, сотрудников ${s.workers}\n`)
      return
    }
    case 'set-password': {
      const snils = required(values, 'snils')
      const password = await readNewPassword()
      process.stdout.write(`${await withDb(values, (db) => setPasswordCommand(db, { snils, phone: values.phone, email: values.email, password }))}\n`)
      return
    }
    case 'unlock-account': {
      const snils = required(values, 'snils')
      process.stdout.write(`${await withDb(values, (db) => unlockAccountCommand(db, snils))}\n`)
      return
    }
    case 'login-history': {
      const snils = required(values, 'snils')
      process.stdout.write(`${await withDb(values, (db) => loginHistoryCommand(db, snils))}\n`)
      return
    }
    default: {
      const output = await runRegisterCommand(command, values, rest, (fn) => withDb(values, fn))
      if (output === null) throw new UsageError(`Неизвестная команда: ${command}`)
      process.stdout.write(output)
      return
    }
  }
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href
if (isEntryPoint) {
  runCli(process.argv.slice(2)).catch((e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`)
      process.exit(2)
    }
    if (e instanceof AppError) {
      // Data errors of the register carry their Russian text in details.
      process.stderr.write(`Ошибка: ${e.details ?? e.code}\n`)
      process.exit(1)
    }
    if (e instanceof ZodError) {
      process.stderr.write(`Ошибка в данных: ${e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`)
      process.exit(1)
    }
    process.stderr.write(`Ошибка: ${(e as Error).message}\n`)
    process.exit(1)
  })
}
