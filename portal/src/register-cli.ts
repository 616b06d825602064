// The register's admin commands behind `portal add-worker | end-employment | list-workers |
// add-org | add-department | list-orgs | import-workers | issue-demo-cert` (portal/src/main.ts).
// Each returns the Russian text to print; mistakes in the data come back as AppError
// INVALID_INPUT / NOT_FOUND with a Russian message, mistakes in the command line as UsageError.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import * as x509 from '../../src/main/core/crypto/x509'
import { NAME_OID } from '../../src/main/core/crypto/oids'
import { formatSnils } from '../../src/shared/validators/snils'
import { readDemoManifest, type DemoManifest } from '../../scripts/demo/manifest'
import { buildName, exportKeyPem, generateKeyPair, importPrivateKeyPem, issueCertificate, type DemoCa, type KeyKind } from '../../scripts/demo/pki'
import { UsageError } from './cli-errors'
import type { Db } from './db'
import { addDepartment, findOrganisation, listOrganisations, upsertOrganisation } from './organisations'
import { endEmployment, findWorker, listWorkers, saveWorker, type SaveOutcome, type Worker } from './register'
import { importWorkersCsv, parseList, parseRoles } from './register-import'
import { dateOn, formatDate, notFound, ogrnField, parseInput, snilsField } from './register-input'

export const REGISTER_USAGE = `  portal add-worker --snils 112-233-445 95 --name "Иванов Иван Иванович" --position "Врач-терапевт"
                    (--ogrn 1027700132195 | --org "ГБУЗ «Городская поликлиника № 1»" [--ogrn …])
                    [--department "Терапевтическое отделение"] [--roles doctor,head]
                    [--birth-date ДД.ММ.ГГГГ] [--specialties "Терапия,Кардиология"]
  portal end-employment --snils … [--ended-on ДД.ММ.ГГГГ]
  portal list-workers [--org ОГРН] [--active]
  portal add-org --ogrn 1027700132195 --inn 7707083893 --name "ГБУЗ «…»" [--short-name …] [--address "…"]
  portal add-department --ogrn … --name "Терапевтическое отделение"
  portal list-orgs
  portal import-workers workers.csv [--skip-invalid]
                    (UTF-8, разделитель «;» или «,»; столбцы snils, full_name, birth_date, position,
                     organisation_ogrn, department, roles, specialties)
  portal issue-demo-cert --snils … --demo .demo --out папка [--kind RSA|EC]`

/** Options of these commands, merged into the CLI's own. */
export const REGISTER_CLI_OPTIONS = {
  'birth-date': { type: 'string' },
  specialties: { type: 'string' },
  department: { type: 'string' },
  active: { type: 'boolean' },
  inn: { type: 'string' },
  address: { type: 'string' },
  'short-name': { type: 'string' },
  'ended-on': { type: 'string' },
  'skip-invalid': { type: 'boolean' },
  out: { type: 'string' },
  kind: { type: 'string' },
} as const

export interface RegisterCliValues {
  snils?: string
  name?: string
  position?: string
  org?: string
  ogrn?: string
  roles?: string
  demo?: string
  'birth-date'?: string
  specialties?: string
  department?: string
  active?: boolean
  inn?: string
  address?: string
  'short-name'?: string
  'ended-on'?: string
  'skip-invalid'?: boolean
  out?: string
  kind?: string
}

export type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>

export const REGISTER_COMMANDS = [
  'add-worker',
  'end-employment',
  'list-workers',
  'add-org',
  'add-department',
  'list-orgs',
  'import-workers',
  'issue-demo-cert',
] as const

function need(values: RegisterCliValues, name: 'snils' | 'name' | 'position' | 'ogrn' | 'inn' | 'demo' | 'out'): string {
  const v = values[name]
  if (!v) throw new UsageError(`Не указан --${name}`)
  return v
}

const snilsArg = (text: string) => parseInput(z.object({ snils: snilsField }), { snils: text }).snils

/** Runs one of REGISTER_COMMANDS and returns its output; null for a command that is not one. */
export async function runRegisterCommand(command: string, values: RegisterCliValues, args: string[], withDb: WithDb): Promise<string | null> {
  switch (command) {
    case 'add-worker':
      return addWorkerCommand(values, withDb)
    case 'end-employment': {
      const snils = snilsArg(need(values, 'snils'))
      const w = await withDb((db) => endEmployment(db, snils, new Date(), { endedOn: values['ended-on'] }))
      if (!w) throw notFound('worker', `Сотрудник со СНИЛС ${formatSnils(snils)} не найден в регистре`)
      return `Работа завершена: ${formatSnils(w.snils)} ${w.fullName}; его сеансы закрыты\n`
    }
    case 'list-workers': {
      const organisationOgrn = values.org === undefined ? undefined : parseInput(z.object({ organisationOgrn: ogrnField }), { organisationOgrn: values.org }).organisationOgrn
      return formatWorkers(await withDb((db) => listWorkers(db, { organisationOgrn, active: values.active ? true : undefined })))
    }
    case 'add-org':
      return addOrgCommand(values, withDb)
    case 'add-department': {
      const ogrn = parseInput(z.object({ ogrn: ogrnField }), { ogrn: need(values, 'ogrn') }).ogrn
      const name = need(values, 'name')
      return withDb(async (db) => {
        const org = await findOrganisation(db, ogrn)
        if (!org) throw notFound('organisation', `Организация с ОГРН ${ogrn} не найдена в регистре — сначала добавьте её: add-org --ogrn ${ogrn} --inn … --name …`)
        const { department, created } = await addDepartment(db, ogrn, name)
        return `${created ? 'Отделение добавлено' : 'Отделение уже есть'}: «${department.name}» (№ ${department.id}), ${org.name}\n`
      })
    }
    case 'list-orgs':
      return listOrgsCommand(withDb)
    case 'import-workers':
      return importCommand(values, args, withDb)
    case 'issue-demo-cert':
      return issueDemoCertCommand(values, withDb)
    default:
      return null
  }
}

const OUTCOME_TEXT: Readonly<Record<SaveOutcome, string>> = {
  created: 'Сотрудник внесён в регистр',
  updated: 'Запись сотрудника обновлена',
  unchanged: 'Запись сотрудника не изменилась',
}

function describeWorker(w: Worker): string {
  const dept = w.department ? `, ${w.department}` : ''
  return `${formatSnils(w.snils)} ${w.fullName}, ${w.position}, ${w.organisation}${dept}`
}

async function addWorkerCommand(values: RegisterCliValues, withDb: WithDb): Promise<string> {
  const snils = need(values, 'snils')
  const fullName = need(values, 'name')
  const position = need(values, 'position')
  if (!values.org && !values.ogrn) throw new UsageError('Укажите организацию: --ogrn <ОГРН из регистра> или --org "Название"')
  return withDb(async (db) => {
    // New workers get the doctor role unless told otherwise; a repeated add keeps the roles they have.
    const existing = await findWorker(db, snilsArg(snils))
    const roles = values.roles !== undefined ? parseRoles(values.roles) : existing ? undefined : (['doctor'] as const)
    const { worker, outcome } = await saveWorker(db, {
      snils,
      fullName,
      position,
      organisation: values.org,
      organisationOgrn: values.ogrn ?? null,
      department: values.department,
      roles: roles ? [...roles] : undefined,
      birthDate: values['birth-date'],
      specialties: values.specialties === undefined ? undefined : parseList(values.specialties),
    })
    return `${OUTCOME_TEXT[outcome]}: ${describeWorker(worker)}\n`
  })
}

export function formatWorkers(workers: Worker[]): string {
  if (workers.length === 0) return 'Регистр пуст\n'
  return workers
    .map((w) => {
      const state = w.employment === 'active' ? 'работает' : `уволен${w.endedAt ? ` ${w.endedAt.toISOString().slice(0, 10)}` : ''}`
      const org = w.department ? `${w.organisation} / ${w.department}` : w.organisation
      return `${formatSnils(w.snils)}  ${w.fullName}  ${w.position}  ${org}  [${w.roles.join(',')}]  ${state}\n`
    })
    .join('')
}

async function addOrgCommand(values: RegisterCliValues, withDb: WithDb): Promise<string> {
  const input = {
    ogrn: need(values, 'ogrn'),
    inn: need(values, 'inn'),
    name: need(values, 'name'),
    shortName: values['short-name'],
    address: values.address,
  }
  const { organisation: o, outcome } = await withDb((db) => upsertOrganisation(db, input))
  const head = { created: 'Организация добавлена в регистр', updated: 'Данные организации обновлены', unchanged: 'Организация уже в регистре, данные не изменились' }[outcome]
  return `${head}: ${o.name}, ОГРН ${o.ogrn}, ИНН ${o.inn}${o.address ? `, ${o.address}` : ''}\n`
}

async function listOrgsCommand(withDb: WithDb): Promise<string> {
  const { orgs, workers } = await withDb(async (db) => ({ orgs: await listOrganisations(db), workers: await listWorkers(db) }))
  if (orgs.length === 0) return 'Организаций в регистре нет (добавьте: add-org)\n'
  return orgs
    .map((o) => {
      const staff = workers.filter((w) => w.organisationOgrn === o.ogrn)
      const active = staff.filter((w) => w.employment === 'active').length
      const lines = [
        `${o.ogrn}  ИНН ${o.inn}  ${o.name}${o.shortName ? ` (${o.shortName})` : ''}`,
        `    адрес: ${o.address ?? '—'}`,
        `    отделения: ${o.departments.length ? o.departments.map((d) => d.name).join('; ') : '—'}`,
        `    сотрудники: работают ${active}, уволены ${staff.length - active}`,
      ]
      return `${lines.join('\n')}\n`
    })
    .join('')
}

async function importCommand(values: RegisterCliValues, args: string[], withDb: WithDb): Promise<string> {
  const file = args[0]
  if (!file) throw new UsageError('Укажите CSV-файл: import-workers workers.csv')
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new Error(`Не удалось прочитать ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'файл не найден' : (e as Error).message}`, { cause: e })
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (e) {
    throw new Error(`${file} не в кодировке UTF-8: сохраните таблицу как «CSV UTF-8 (разделитель — запятая)» или «CSV UTF-8» и повторите`, { cause: e })
  }
  const r = await withDb((db) => importWorkersCsv(db, text, { skipInvalid: values['skip-invalid'] === true }))
  const problems = r.problems.map((p) => `  строка ${p.line}: ${p.message}\n`).join('')
  if (!r.imported) {
    throw new Error(
      `файл ${file} не импортирован, ничего не изменено. Строки с ошибками (${r.problems.length}):\n${problems}` +
        (r.rows > 0 ? 'Исправьте их или запустите с --skip-invalid, чтобы загрузить остальные строки.' : 'Исправьте файл и повторите.'),
    )
  }
  const skipped = r.skipped ? `Пропущены строки с ошибками (${r.skipped}):\n${problems}` : ''
  return (
    `${skipped}Импорт из ${file}: строк ${r.rows}; добавлено ${r.created}, обновлено ${r.updated}, без изменений ${r.unchanged}` +
    `${r.skipped ? `, пропущено ${r.skipped}` : ''}\n`
  )
}

const DAY_MS = 24 * 3600e3

/** The demo CA from its manifest files; its key type follows its certificate. */
async function loadDemoCa(manifest: DemoManifest): Promise<DemoCa> {
  const certPem = readFileSync(manifest.caCertPem, 'utf8')
  const keyPem = readFileSync(manifest.caKeyPem, 'utf8')
  const certificate = new x509.X509Certificate(certPem)
  const kind: KeyKind = certificate.publicKey.algorithm.name === 'ECDSA' ? 'EC' : 'RSA'
  return {
    certificate,
    keys: { publicKey: await certificate.publicKey.export(), privateKey: await importPrivateKeyPem(keyPem, kind) },
    der: new Uint8Array(certificate.rawData),
    certPem,
    keyPem,
  }
}

async function issueDemoCertCommand(values: RegisterCliValues, withDb: WithDb): Promise<string> {
  const snils = snilsArg(need(values, 'snils'))
  const demoDir = resolve(need(values, 'demo'))
  const outDir = resolve(need(values, 'out'))
  const kind = (values.kind ?? 'EC').toUpperCase()
  if (kind !== 'RSA' && kind !== 'EC') throw new UsageError(`Неверный --kind: ${values.kind} (RSA или EC)`)
  let manifest: DemoManifest
  try {
    manifest = readDemoManifest(demoDir)
  } catch (e) {
    throw new Error(`В папке ${demoDir} нет демо-УЦ (demo.json): создайте демо командой npm run demo:tokens -- --dir ${demoDir}`, { cause: e })
  }
  const { worker, org } = await withDb(async (db) => {
    const w = await findWorker(db, snils)
    return { worker: w, org: w?.organisationOgrn ? await findOrganisation(db, w.organisationOgrn) : null }
  })
  if (!worker) throw notFound('worker', `Сотрудник со СНИЛС ${formatSnils(snils)} не найден в регистре — сначала внесите его: add-worker`)
  if (worker.employment !== 'active') {
    throw new Error(`${worker.fullName} (СНИЛС ${formatSnils(snils)}) уволен(а): сертификат для входа не выпускается`)
  }

  const ca = await loadDemoCa(manifest)
  const keys = await generateKeyPair(kind)
  const [surname = worker.fullName, ...given] = worker.fullName.split(/\s+/)
  const ogrn = worker.organisationOgrn
  // The order and string types of the qualified-certificate profile (see pki.ts qualifiedSubjectName).
  const subject = buildName([
    [NAME_OID.country, 'RU', 'printable'],
    [NAME_OID.street, org?.address],
    [NAME_OID.organization, worker.organisation],
    [NAME_OID.organizationalUnit, worker.department],
    [NAME_OID.title, worker.position],
    [NAME_OID.commonName, worker.fullName],
    [NAME_OID.surname, surname],
    [NAME_OID.givenName, given.join(' ')],
    [NAME_OID.snils, worker.snils, 'numeric'],
    [org?.inn.length === 12 ? NAME_OID.inn : NAME_OID.innLe, org?.inn, 'numeric'],
    [ogrn?.length === 15 ? NAME_OID.ogrnip : NAME_OID.ogrn, ogrn, 'numeric'],
  ])
  const now = Date.now()
  const notBefore = new Date(now - DAY_MS)
  const notAfter = new Date(now + 365 * DAY_MS)
  const issued = await issueCertificate(ca, { subject, publicKey: keys.publicKey, notBefore, notAfter })

  mkdirSync(outDir, { recursive: true })
  const certFile = join(outDir, `${snils}.pem`)
  const keyFile = join(outDir, `${snils}.key.pem`)
  writeFileSync(certFile, issued.pem)
  writeFileSync(keyFile, await exportKeyPem(keys.privateKey), { mode: 0o600 })
  chmodSync(keyFile, 0o600) // also when the file existed with wider rights
  return [
    `Сертификат выпущен демо-УЦ (${ca.certificate.subject}):`,
    `  владелец: ${worker.fullName}, СНИЛС ${formatSnils(snils)}`,
    `  должность: ${worker.position}; организация: ${worker.organisation}${ogrn ? `, ОГРН ${ogrn}` : ''}${worker.department ? `; ${worker.department}` : ''}`,
    `  ключ ${kind === 'RSA' ? 'RSA-2048' : 'ECDSA P-256'}; действует с ${formatDate(dateOn(notBefore))} по ${formatDate(dateOn(notAfter))}; серийный номер ${issued.serialNumber}`,
    `  сертификат: ${certFile}`,
    `  закрытый ключ: ${keyFile} (доступ только владельцу файла)`,
    'Внимание: ключ создан программно и хранится в файле — так допустимо только для демонстрации и тестов.',
    'Для работы нужен квалифицированный сертификат аккредитованного УЦ с ключом, созданным на токене',
    'или смарт-карте (Рутокен, JaCarta и т. п.), откуда ключ не извлекается.',
    '',
  ].join('\n')
}
