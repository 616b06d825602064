// The portal CLI as IT staff and the end-to-end tests run it: admin commands on a data folder,
// and `serve` on port 0 with a demo folder, stopped by a signal. Each command is a real process
// (tsx + the embedded engine on disk), hence the longer timeouts.
import 'reflect-metadata'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCrl, randomSerial } from '../../scripts/demo/pki'
import { formatSnils } from '../../src/shared/validators/snils'
import { portalErrorBodySchema, sessionResponseSchema } from '../../src/shared/portal-api'
import { seedFromDemo } from '../src/demo-seed'
import { migrate } from '../src/migrate'
import { listWorkers } from '../src/register'
import { listTrustedCas, sha256Hex } from '../src/trust'
import { apiClient, createTestPki, issueUser, login, nextSnils, openTestDb, worker, writeSyntheticDemo, type TestPki } from './support'
import * as x509 from '../../src/main/core/crypto/x509'
import { importPrivateKeyPem } from '../../scripts/demo/pki'
import { innWithChecksum } from '../../src/shared/validators/inn'
import { ogrnWithChecksum } from '../../src/shared/validators/ogrn'
import { addWorker, PORTAL_MAIN as MAIN, runPortalCli, startTestPortal, TSX } from './support'


let tmp: string
let pki: TestPki

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'portal-cli-'))
  pki = await createTestPki()
})
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true })
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

const run = (args: string[], env: Record<string, string> = {}): Promise<Run> => runPortalCli(args, { env })

/** Starts `serve` and resolves with the URL it prints. */
function serve(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, [MAIN, 'serve', ...args], { env: { ...process.env, DATABASE_URL: '' } })
    let out = ''
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /Портал запущен: (https:\/\/127\.0\.0\.1:(\d+))/.exec(out)
      if (m) resolvePromise({ child, url: m[1]!, output: () => out, exited })
    })
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    void exited.then((code) => reject(new Error(`serve exited (${code}): ${out}`)))
  })
}

describe('admin commands', () => {
  it('manage the trust store, the CRL and the worker register in a data folder', async () => {
    const data = join(tmp, 'admin-data')
    const dataArgs = ['--data', data]
    const demo = await writeSyntheticDemo(join(tmp, 'admin-files'), pki, [])
    const snils = nextSnils()

    const trust = await run(['trust-ca', demo.caCertPem, ...dataArgs])
    expect(trust.stderr).toBe('')
    expect(trust).toMatchObject({ code: 0 })
    expect(trust.stdout).toContain(`Добавлен доверенный УЦ`)
    expect(trust.stdout).toContain(sha256Hex(pki.ca.der))

    const crlFile = join(tmp, 'admin-files', 'revoking.crl')
    writeFileSync(crlFile, (await createCrl(pki.ca, { revoked: [{ serialNumber: randomSerial() }, { serialNumber: randomSerial() }] })).pem)
    const crl = await run(['import-crl', crlFile, ...dataArgs])
    expect(crl).toMatchObject({ code: 0 })
    expect(crl.stdout).toContain('Отозвано сертификатов: 2')

    const foreignCrl = join(tmp, 'admin-files', 'foreign.crl')
    writeFileSync(foreignCrl, (await createCrl(pki.untrustedCa, { revoked: [] })).der)
    const refused = await run(['import-crl', foreignCrl, ...dataArgs])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('not signed by a trusted CA')

    const add = await run(['add-worker', '--snils', formatSnils(snils), '--name', 'Петров Пётр Петрович', '--position', 'Врач-хирург', '--org', 'ГБУЗ «Больница № 2»', '--roles', 'doctor,head', ...dataArgs])
    expect(add).toMatchObject({ code: 0 })
    const bad = await run(['add-worker', '--snils', '112-233-445 96', '--name', 'Х', '--position', 'Врач', '--org', 'П', ...dataArgs])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('СНИЛС')

    const list = await run(['list-workers', ...dataArgs])
    expect(list.stdout).toContain(`${formatSnils(snils)}  Петров Пётр Петрович  Врач-хирург  ГБУЗ «Больница № 2»  [doctor,head]  работает`)

    const end = await run(['end-employment', '--snils', snils, ...dataArgs])
    expect(end).toMatchObject({ code: 0 })
    expect((await run(['list-workers', ...dataArgs])).stdout).toMatch(/Петров Пётр Петрович .* уволен \d{4}-\d{2}-\d{2}/)

    const unknown = await run(['end-employment', '--snils', nextSnils(), ...dataArgs])
    expect(unknown.code).toBe(1)
    expect((await run(['no-such-command', ...dataArgs])).code).toBe(2)
    expect((await run(['add-worker', '--snils', snils, ...dataArgs])).code).toBe(2)
  }, 180_000)
})

describe('serve', () => {
  it('starts on port 0 with a demo folder, logs the demo workers in over HTTPS and stops on SIGTERM', async () => {
    const snils = nextSnils()
    const endedSnils = nextSnils()
    const demo = await writeSyntheticDemo(join(tmp, 'demo'), pki, [worker(snils), worker(endedSnils, { employment: 'ended' })])
    const data = join(tmp, 'serve-data')
    const portal = await serve(['--port', '0', '--demo', demo.dir, '--data', data, '--quiet'])
    try {
      const api = apiClient(portal.url, pki.tlsCaPem)
      expect((await api('GET', '/api/v1/health')).status).toBe(200)
      const ok = await login(api, await issueUser(pki.ca, { snils }))
      expect(ok.status).toBe(200)
      expect(sessionResponseSchema.parse(ok.body).user.snils).toBe(snils)
      const ended = await login(api, await issueUser(pki.ca, { snils: endedSnils }))
      expect(portalErrorBodySchema.parse(ended.body).error.code).toBe('WORKER_EMPLOYMENT_ENDED')
      const untrusted = await login(api, await issueUser(pki.untrustedCa, { snils }))
      expect(portalErrorBodySchema.parse(untrusted.body).error.code).toBe('CERT_UNTRUSTED')

      // The embedded data folder is held by the running portal.
      const busy = await run(['list-workers', '--data', data])
      expect(busy.code).toBe(1)
      expect(busy.stderr).toContain('занята')
    } finally {
      portal.child.kill('SIGTERM')
    }
    expect(await portal.exited).toBe(0)
    expect(portal.output()).toContain('Портал остановлен (SIGTERM)')
    expect(existsSync(`${data}.lock`)).toBe(false)
    // The data survived the restart-free stop.
    expect((await run(['list-workers', '--data', data])).stdout).toContain(formatSnils(snils))
  }, 120_000)

  it('refuses to start without a TLS certificate', async () => {
    const r = await run(['serve', '--port', '0', '--data', join(tmp, 'no-tls')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('TLS')
  })
})

describe('demo seeding', () => {
  it('trusts the demo CA (not the untrusted one), imports its CRL and registers the workers, idempotently', async () => {
    const demo = await writeSyntheticDemo(join(tmp, 'seed'), pki, [worker(nextSnils()), worker(nextSnils(), { employment: 'ended' })])
    const db = await openTestDb()
    try {
      await migrate(db)
      const first = await seedFromDemo(db, demo)
      const second = await seedFromDemo(db, demo)
      expect(second).toEqual(first)
      const cas = await listTrustedCas(db)
      expect(cas.map((c) => c.fingerprint)).toEqual([sha256Hex(pki.ca.der)])
      expect(cas.map((c) => c.fingerprint)).not.toContain(sha256Hex(pki.untrustedCa.der))
      expect((await db.query('SELECT 1 FROM crls')).length).toBe(1)
      const workers = await listWorkers(db)
      expect(workers.map((w) => [w.snils, w.employment]).sort()).toEqual(demo.workers.map((w) => [w.snils, w.employment]).sort())
    } finally {
      await db.close()
    }
  })
})

describe('register commands', () => {
  const ogrn = ogrnWithChecksum('102770099001')
  const inn = innWithChecksum('770990001')
  const orgName = 'ГБУЗ «Поликлиника № 7»'

  it('add and list organisations, departments and workers with the new fields', async () => {
    const d = ['--data', join(tmp, 'register-data')]
    const addOrg = await run(['add-org', '--ogrn', ogrn, '--inn', inn, '--name', orgName, '--address', 'г. Москва, ул. Лесная, д. 7', ...d])
    expect(addOrg.stderr).toBe('')
    expect(addOrg.stdout).toBe(`Организация добавлена в регистр: ${orgName}, ОГРН ${ogrn}, ИНН ${inn}, г. Москва, ул. Лесная, д. 7\n`)
    expect((await run(['add-org', '--ogrn', ogrn, '--inn', inn, '--name', orgName, ...d])).stdout).toContain('данные не изменились')
    const badInn = await run(['add-org', '--ogrn', ogrnWithChecksum('102770099002'), '--inn', '7707083894', '--name', 'Х', ...d])
    expect(badInn).toMatchObject({ code: 1, stderr: 'Ошибка: ИНН: неверная контрольная сумма — проверьте цифры\n' })
    const badOgrn = await run(['add-org', '--ogrn', '1027700132194', '--inn', inn, '--name', 'Х', ...d])
    expect(badOgrn).toMatchObject({ code: 1, stderr: 'Ошибка: ОГРН: неверная контрольная сумма ОГРН — проверьте цифры\n' })
    const noInn = await run(['add-org', '--ogrn', ogrn, '--name', orgName, ...d])
    expect(noInn.code).toBe(2)
    expect(noInn.stderr).toContain('Не указан --inn')

    expect((await run(['add-department', '--ogrn', ogrn, '--name', 'Терапевтическое отделение', ...d])).stdout).toMatch(/^Отделение добавлено: «Терапевтическое отделение»/)
    expect((await run(['add-department', '--ogrn', ogrn, '--name', 'Хирургическое отделение', ...d])).code).toBe(0)
    const noOrg = await run(['add-department', '--ogrn', ogrnWithChecksum('102770099003'), '--name', 'Отделение', ...d])
    expect(noOrg.code).toBe(1)
    expect(noOrg.stderr).toContain('не найдена в регистре — сначала добавьте её: add-org')

    const snils = nextSnils()
    const add = await run([
      'add-worker', '--snils', formatSnils(snils), '--name', 'Лесная Анна Петровна', '--position', 'Врач-терапевт', '--ogrn', ogrn,
      '--department', 'терапевтическое отделение', '--birth-date', '03.07.1984', '--specialties', 'Терапия, Кардиология', ...d,
    ])
    expect(add.stderr).toBe('')
    expect(add.stdout).toBe(`Сотрудник внесён в регистр: ${formatSnils(snils)} Лесная Анна Петровна, Врач-терапевт, ${orgName}, Терапевтическое отделение\n`)
    const noDept = await run(['add-worker', '--snils', formatSnils(nextSnils()), '--name', 'Х Х', '--position', 'Врач', '--ogrn', ogrn, '--department', 'Кардиология', ...d])
    expect(noDept.code).toBe(1)
    expect(noDept.stderr).toContain('нет отделения «Кардиология»; есть: «Терапевтическое отделение», «Хирургическое отделение»')
    const noOrgWorker = await run(['add-worker', '--snils', formatSnils(nextSnils()), '--name', 'Х Х', '--position', 'Врач', ...d])
    expect(noOrgWorker.code).toBe(2)
    expect(noOrgWorker.stderr).toContain('--ogrn')

    const other = nextSnils()
    await run(['add-worker', '--snils', other, '--name', 'Другая Ольга', '--position', 'Медсестра', '--org', 'Частная клиника', '--roles', 'медсестра', ...d])
    const ended = nextSnils()
    await run(['add-worker', '--snils', ended, '--name', 'Ушедший Иван', '--position', 'Врач-хирург', '--ogrn', ogrn, ...d])
    const end = await run(['end-employment', '--snils', formatSnils(ended), ...d])
    expect(end.stdout).toContain(`Работа завершена: ${formatSnils(ended)} Ушедший Иван`)

    const list = await run(['list-workers', '--org', ogrn, ...d])
    expect(list.stdout).toContain(`${formatSnils(snils)}  Лесная Анна Петровна  Врач-терапевт  ${orgName} / Терапевтическое отделение  [doctor]  работает`)
    expect(list.stdout).toMatch(/Ушедший Иван .* уволен \d{4}-\d{2}-\d{2}/)
    expect(list.stdout).not.toContain('Другая Ольга')
    const active = await run(['list-workers', '--org', ogrn, '--active', ...d])
    expect(active.stdout).toContain('Лесная Анна Петровна')
    expect(active.stdout).not.toContain('Ушедший Иван')
    expect((await run(['list-workers', '--active', ...d])).stdout).toContain('Другая Ольга  Медсестра  Частная клиника  [nurse]  работает')
    const badFilter = await run(['list-workers', '--org', '12345', ...d])
    expect(badFilter).toMatchObject({ code: 1, stderr: 'Ошибка: ОГРН организации: нужно 13 цифр (ОГРН) или 15 цифр (ОГРНИП)\n' })

    const orgs = await run(['list-orgs', ...d])
    expect(orgs.stdout).toBe(
      `${ogrn}  ИНН ${inn}  ${orgName}\n` +
        '    адрес: г. Москва, ул. Лесная, д. 7\n' +
        '    отделения: Терапевтическое отделение; Хирургическое отделение\n' +
        '    сотрудники: работают 1, уволены 1\n',
    )
  }, 240_000)

  it('import workers from CSV: every bad row reported by line and nothing kept, --skip-invalid, BOM, both separators, idempotent', async () => {
    const d = ['--data', join(tmp, 'import-data')]
    await run(['add-org', '--ogrn', ogrn, '--inn', inn, '--name', orgName, ...d])
    await run(['add-department', '--ogrn', ogrn, '--name', 'Терапевтическое отделение', ...d])
    const [a, b, c] = [nextSnils(), nextSnils(), nextSnils()]
    const file = (name: string, text: string | Buffer) => {
      const path = join(tmp, name)
      writeFileSync(path, text)
      return path
    }

    // Russian Excel: BOM, «;», CRLF, dates as ДД.ММ.ГГГГ, Russian role names.
    const good = file(
      'good.csv',
      '\ufeffsnils;full_name;birth_date;position;organisation_ogrn;department;roles;specialties\r\n' +
        `${formatSnils(a)};Алексеева Алла Андреевна;01.02.1980;Врач-терапевт;${ogrn};Терапевтическое отделение;врач;Терапия\r\n` +
        `${formatSnils(b)};Борисов Борис Борисович;;Медбрат;${ogrn};;медсестра;\r\n` +
        '\r\n' +
        `${c};Васильева Вера Викторовна;1975-12-31;Заведующая отделением;${ogrn};терапевтическое отделение;врач,заведующая;Терапия,Кардиология\r\n`,
    )
    const first = await run(['import-workers', good, ...d])
    expect(first.stderr).toBe('')
    expect(first.stdout).toBe(`Импорт из ${good}: строк 3; добавлено 3, обновлено 0, без изменений 0\n`)
    const again = await run(['import-workers', good, ...d])
    expect(again.stdout).toBe(`Импорт из ${good}: строк 3; добавлено 0, обновлено 0, без изменений 3\n`)
    const listed = (await run(['list-workers', '--org', ogrn, ...d])).stdout
    expect(listed).toContain(`${formatSnils(c)}  Васильева Вера Викторовна  Заведующая отделением  ${orgName} / Терапевтическое отделение  [doctor,head]  работает`)
    expect(listed).toContain(`${formatSnils(b)}  Борисов Борис Борисович  Медбрат  ${orgName}  [nurse]  работает`)

    // «,» with quoted cells (a list, a quote, a comma in a name), LF, no BOM; one change.
    const commas = file(
      'commas.csv',
      'snils,full_name,position,organisation_ogrn,roles\n' +
        `${a},Алексеева Алла Андреевна,"Врач-терапевт, участковый",${ogrn},doctor\n` +
        `${c},Васильева Вера Викторовна,Заведующая отделением,${ogrn},"doctor,head"\n`,
    )
    expect((await run(['import-workers', commas, ...d])).stdout).toBe(`Импорт из ${commas}: строк 2; добавлено 0, обновлено 1, без изменений 1\n`)
    expect((await run(['list-workers', '--org', ogrn, ...d])).stdout).toContain('Алексеева Алла Андреевна  Врач-терапевт, участковый')

    const fresh = nextSnils()
    const badLines = [
      'snils;full_name;birth_date;position;organisation_ogrn;department;roles;specialties',
      `${fresh};Годная Галина;;Врач;${ogrn};;doctor;`,
      `112-233-445 96;Плохой СНИЛС;;Врач;${ogrn};;doctor;`,
      `${nextSnils()};Чужая Организация;;Врач;${ogrnWithChecksum('102770099004')};;doctor;`,
      `${nextSnils()};Нет Отделения;;Врач;${ogrn};Кардиология;doctor;`,
      `${nextSnils()};Плохая Дата;31.02.1990;Врач;${ogrn};;doctor;`,
      `${nextSnils()};Плохая Роль;;Врач;${ogrn};;хирург;`,
      `${fresh};Повтор СНИЛС;;Врач;${ogrn};;doctor;`,
      `${nextSnils()};Мало Ячеек;;Врач`,
    ]
    const bad = file('bad.csv', badLines.join('\n') + '\n')
    const refused = await run(['import-workers', bad, ...d])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toBe(
      `Ошибка: файл ${bad} не импортирован, ничего не изменено. Строки с ошибками (7):\n` +
        '  строка 3: СНИЛС: неверная контрольная сумма — проверьте цифры\n' +
        `  строка 4: ОГРН организации: организация ${ogrnWithChecksum('102770099004')} не найдена в регистре — сначала добавьте её (add-org) или укажите её название\n` +
        `  строка 5: Отделение: в организации «${orgName}» нет отделения «Кардиология»; есть: «Терапевтическое отделение»\n` +
        '  строка 6: Дата рождения: нужна дата в виде ДД.ММ.ГГГГ или ГГГГ-ММ-ДД, получено «31.02.1990»\n' +
        '  строка 7: Роли (№ 1): допустимые значения: doctor, nurse, registrar, head, admin\n' +
        '  строка 8: СНИЛС: этот сотрудник уже есть в строке 2\n' +
        '  строка 9: 4 ячейки вместо 8 — проверьте разделитель и кавычки\n' +
        'Исправьте их или запустите с --skip-invalid, чтобы загрузить остальные строки.\n',
    )
    expect((await run(['list-workers', ...d])).stdout).not.toContain('Годная Галина')

    const skipped = await run(['import-workers', bad, '--skip-invalid', ...d])
    expect(skipped.code).toBe(0)
    expect(skipped.stdout).toMatch(/^Пропущены строки с ошибками \(7\):\n {2}строка 3: СНИЛС/)
    expect(skipped.stdout).toContain(`Импорт из ${bad}: строк 8; добавлено 1, обновлено 0, без изменений 0, пропущено 7\n`)
    expect((await run(['list-workers', ...d])).stdout).toContain('Годная Галина')

    const header = await run(['import-workers', file('header.csv', 'snils;fullname;position\n1;2;3\n'), ...d])
    expect(header.code).toBe(1)
    expect(header.stderr).toContain('строка 1: заголовок: неизвестные столбцы: «fullname»; нет обязательных столбцов: full_name, organisation_ogrn')
    // The same file saved in Windows-1251: «Иванов» is not UTF-8.
    const cp1251 = file('cp1251.csv', Buffer.concat([Buffer.from('snils;full_name\n1;'), Buffer.from([0xc8, 0xe2, 0xe0, 0xed, 0xee, 0xe2]), Buffer.from('\n')]))
    const wrongEncoding = await run(['import-workers', cp1251, ...d])
    expect(wrongEncoding.code).toBe(1)
    expect(wrongEncoding.stderr).toContain('не в кодировке UTF-8')
    const missing = await run(['import-workers', join(tmp, 'no-such.csv'), ...d])
    expect(missing).toMatchObject({ code: 1 })
    expect(missing.stderr).toContain('файл не найден')
  }, 240_000)

  it('issue-demo-cert: a certificate from the demo CA with the register\'s СНИЛС, ОГРН and title that logs in', async () => {
    const d = ['--data', join(tmp, 'cert-data')]
    const demo = await writeSyntheticDemo(join(tmp, 'cert-demo'), pki, [])
    const out = join(tmp, 'issued')
    const snils = nextSnils()
    await run(['add-org', '--ogrn', ogrn, '--inn', inn, '--name', orgName, ...d])
    await run(['add-department', '--ogrn', ogrn, '--name', 'Хирургическое отделение', ...d])
    await run(['add-worker', '--snils', snils, '--name', 'Сертификатова Ирина Львовна', '--position', 'Врач-хирург', '--ogrn', ogrn, '--department', 'Хирургическое отделение', ...d])

    const issued = await run(['issue-demo-cert', '--snils', formatSnils(snils), '--demo', demo.dir, '--out', out, '--kind', 'RSA', ...d])
    expect(issued.stderr).toBe('')
    expect(issued.code).toBe(0)
    expect(issued.stdout).toContain(`владелец: Сертификатова Ирина Львовна, СНИЛС ${formatSnils(snils)}`)
    expect(issued.stdout).toContain('ключ RSA-2048')
    expect(issued.stdout).toContain('только для демонстрации')
    expect(issued.stdout).toContain('на токене')
    const certFile = join(out, `${snils}.pem`)
    const keyFile = join(out, `${snils}.key.pem`)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)

    const subject = spawnSync('openssl', ['x509', '-in', certFile, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus'], { encoding: 'utf8' })
    expect(subject.status, subject.stderr).toBe(0)
    expect(subject.stdout).toContain(`SNILS=${snils}`)
    expect(subject.stdout).toContain(`OGRN=${ogrn}`)
    expect(subject.stdout).toContain('title=Врач-хирург')
    expect(subject.stdout).toContain(`O=${orgName}`)
    expect(subject.stdout).toContain('OU=Хирургическое отделение')
    expect(subject.stdout).toContain('CN=Сертификатова Ирина Львовна')
    const verify = spawnSync('openssl', ['verify', '-CAfile', demo.caCertPem, certFile], { encoding: 'utf8' })
    expect(verify.stdout.trim()).toBe(`${certFile}: OK`)

    // The certificate and key log in to a portal that trusts the demo CA and knows the worker.
    const portal = await startTestPortal(pki, { rateLimit: false })
    try {
      await addWorker(portal.db, worker(snils))
      const certificate = new x509.X509Certificate(readFileSync(certFile, 'utf8'))
      const privateKey = await importPrivateKeyPem(readFileSync(keyFile, 'utf8'), 'RSA')
      const publicKey = await certificate.publicKey.export()
      const r = await login(portal.api, { der: new Uint8Array(certificate.rawData), keys: { privateKey, publicKey }, kind: 'RSA', serialNumber: certificate.serialNumber })
      expect(r.status, r.text).toBe(200)
      expect(sessionResponseSchema.parse(r.body).user.snils).toBe(snils)
    } finally {
      await portal.close()
    }

    const unknown = await run(['issue-demo-cert', '--snils', nextSnils(), '--demo', demo.dir, '--out', out, ...d])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('не найден в регистре — сначала внесите его: add-worker')
    await run(['end-employment', '--snils', snils, ...d])
    const ended = await run(['issue-demo-cert', '--snils', snils, '--demo', demo.dir, '--out', out, ...d])
    expect(ended.code).toBe(1)
    expect(ended.stderr).toContain('уволен(а): сертификат для входа не выпускается')
    const noDemo = await run(['issue-demo-cert', '--snils', snils, '--demo', join(tmp, 'no-demo'), '--out', out, ...d])
    expect(noDemo.code).toBe(1)
    expect(noDemo.stderr).toContain('npm run demo:tokens')
    const badKind = await run(['issue-demo-cert', '--snils', snils, '--demo', demo.dir, '--out', out, '--kind', 'GOST', ...d])
    expect(badKind.code).toBe(2)
    expect(badKind.stderr).toContain('Неверный --kind: GOST (RSA или EC)')
  }, 240_000)
})

