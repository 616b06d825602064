// Reference portal CLI: `npx tsx portal/src/main.ts serve …` and the admin commands that manage
// the trust store and the worker register. DATABASE_URL selects a PostgreSQL server; otherwise
// the embedded engine keeps its data in --data (default .data/portal).
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ZodError } from 'zod'
import { formatSnils } from '../../src/shared/validators/snils'
import { openDb, type Db } from './db'
import { lockDataDir, type DataLock } from './data-lock'
import { migrate } from './migrate'
import { endEmployment, listWorkers, upsertWorker } from './register'
import type { RateLimitOptions } from './rate-limit'
import { startPortal } from './server'
import { seedFromDemo } from './demo-seed'
import { readDemoManifest } from '../../scripts/demo/manifest'
import { importCrl, trustCa } from './trust'

export { startPortal, createPortalServer, type StartPortalOptions, type StartedPortal } from './server'

export const USAGE = `Справочный портал ЛКМР

Использование:
  portal serve [--host 127.0.0.1] [--port 8443] [--data .data/portal] [--demo .demo]
               [--tls-cert cert.pem --tls-key key.pem] [--rate-limit 30/60|off] [--quiet]
  portal trust-ca <ca.pem|ca.der>
  portal import-crl <crl.der|crl.pem>
  portal add-worker --snils 112-233-445 95 --name "Иванов Иван Иванович" --position "Врач-терапевт"
                    --org "ГБУЗ «Городская поликлиника № 1»" [--ogrn 1027700132195] [--roles doctor,head]
  portal end-employment --snils …
  portal list-workers
  portal seed-demo --demo .demo

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
  quiet: { type: 'boolean' },
  snils: { type: 'string' },
  name: { type: 'string' },
  position: { type: 'string' },
  org: { type: 'string' },
  ogrn: { type: 'string' },
  roles: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']

class UsageError extends Error {}

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

async function serve(values: Values): Promise<void> {
  const port = parsePort(values.port)
  const rateLimit = parseRateLimit(values['rate-limit'])
  const certFile = values['tls-cert']
  const keyFile = values['tls-key']
  if (Boolean(certFile) !== Boolean(keyFile)) throw new UsageError('--tls-cert и --tls-key указываются вместе')
  if (!certFile && !values.demo) throw new UsageError('Нужен сертификат TLS: --tls-cert и --tls-key (или --demo)')
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
  process.stdout.write(`Портал запущен: ${portal.url}\n`)
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

function printWorkers(workers: Awaited<ReturnType<typeof listWorkers>>): void {
  if (workers.length === 0) {
    process.stdout.write('Регистр пуст\n')
    return
  }
  for (const w of workers) {
    const state = w.employment === 'active' ? 'работает' : `уволен${w.endedAt ? ` ${w.endedAt.toISOString().slice(0, 10)}` : ''}`
    process.stdout.write(`${formatSnils(w.snils)}  ${w.fullName}  ${w.position}  ${w.organisation}  [${w.roles.join(',')}]  ${state}\n`)
  }
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
    case 'add-worker': {
      const input = {
        snils: required(values, 'snils'),
        fullName: required(values, 'name'),
        position: required(values, 'position'),
        organisation: required(values, 'org'),
        organisationOgrn: values.ogrn ?? null,
        roles: (values.roles ?? 'doctor').split(',').map((r) => r.trim()).filter(Boolean),
      }
      const w = await withDb(values, (db) => upsertWorker(db, input as Parameters<typeof upsertWorker>[1]))
      process.stdout.write(`Сотрудник внесён в регистр: ${formatSnils(w.snils)} ${w.fullName}\n`)
      return
    }
    case 'end-employment': {
      const snils = required(values, 'snils').replace(/\D/g, '')
      const w = await withDb(values, (db) => endEmployment(db, snils))
      if (!w) throw new Error(`Сотрудник со СНИЛС ${formatSnils(snils)} не найден в регистре`)
      process.stdout.write(`Работа завершена: ${formatSnils(w.snils)} ${w.fullName}; его сеансы закрыты\n`)
      return
    }
    case 'list-workers':
      printWorkers(await withDb(values, (db) => listWorkers(db)))
      return
    case 'seed-demo': {
      if (!values.demo) throw new UsageError('Укажите --demo <папка демо>')
      const manifest = readDemoManifest(resolve(values.demo))
      const s = await withDb(values, (db) => seedFromDemo(db, manifest))
      process.stdout.write(`Демо загружено: доверенный УЦ ${s.caFingerprint.slice(0, 16)}…, отозвано ${s.crlRevokedCount}, сотрудников ${s.workers}\n`)
      return
    }
    default:
      throw new UsageError(`Неизвестная команда: ${command}`)
  }
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href
if (isEntryPoint) {
  runCli(process.argv.slice(2)).catch((e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`)
      process.exit(2)
    }
    if (e instanceof ZodError) {
      process.stderr.write(`Ошибка в данных: ${e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`)
      process.exit(1)
    }
    process.stderr.write(`Ошибка: ${(e as Error).message}\n`)
    process.exit(1)
  })
}
