// Workstation diagnostics for IT staff, without the UI. Uses the same core services as the app.
//   npm run diag                      libraries tried, tokens, certificates
//   npm run diag -- pin  --cert N     check a PIN (tries left), never echoing it
//   npm run diag -- sign FILE --cert N [--out FILE.p7s]   detached CAdES-BES signature
//   npm run diag -- verify FILE.p7s FILE [--ca CA.pem]    verify a detached signature
//   npm run diag -- portal            portal answers? its TLS certificate trusted?
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { describeError, toAppError, type ErrorParams } from '../../shared/errors'
import { formatDate } from '../../shared/format'
import type { CertificateInfo, TokenState } from '../../shared/model'
import { formatSnils } from '../../shared/validators/snils'
import { ConfigError, loadConfig, type AppConfig } from '../core/config'
import { parseCertificate } from '../core/crypto/certificate'
import { signDetachedCades, verifyDetachedCades } from '../core/crypto/cms'
import { PortalClient } from '../core/portal/portal-client'
import { resolveLibraries } from '../core/token/libraries'
import { createTokenService, type TokenService } from '../core/token/token-service'
import { readSecret } from './read-secret'
import { verifyChain } from './verify-chain'

class UsageError extends Error {}

/** What the token says about the tries left after a wrong PIN. */
function pinTriesLine(p: ErrorParams): string {
  if (typeof p.triesLeft === 'number') return `Осталось попыток ввода PIN-кода: ${p.triesLeft}.`
  if (p.finalTry) return 'Осталась последняя попытка ввода PIN-кода: при ошибке токен заблокируется.'
  if (p.countLow) return 'Осталось мало попыток ввода PIN-кода.'
  return 'Токен не сообщает число оставшихся попыток.'
}

const out = (line = ''): void => void process.stdout.write(`${line}\n`)

function printState(state: TokenState): void {
  out('Библиотеки PKCS#11:')
  for (const lib of state.libraries) {
    const why = lib.error ? ` — ${describeError(lib.error).title}: ${describeError(lib.error).message}` : ''
    const mark = lib.state === 'loaded' ? '✔' : lib.state === 'missing' ? '·' : '✘'
    out(`  ${mark} ${lib.name} (${lib.path}) [${lib.source === 'configured' ? 'настройка' : 'по умолчанию'}] ${lib.state}${lib.description ? `, ${lib.description} ${lib.version ?? ''}` : ''}${why}`)
  }
  out()
  if (state.tokens.length === 0) out('Токены: не найдены (Смарт-карта не найдена)')
  else out('Токены:')
  for (const t of state.tokens) {
    const pin = t.pin.locked ? 'PIN заблокирован' : t.pin.finalTry ? 'последняя попытка' : t.pin.countLow ? 'мало попыток' : 'PIN в порядке'
    out(`  ${t.label} — ${t.manufacturer} ${t.model}, серийный № ${t.serial}, слот ${t.slotId}, ${pin}${t.pin.protectedAuthPath ? ', PIN-пад' : ''}`)
  }
  for (const e of state.errors) out(`  ✘ ${e.tokenId}: ${describeError(e.error).title}`)
  out()
  out(state.certificates.length ? 'Сертификаты:' : 'Сертификаты: нет')
  state.certificates.forEach((c, i) => {
    out(`  [${i + 1}] ${c.subject.fullName ?? c.subject.commonName ?? '—'}${c.subject.title ? `, ${c.subject.title}` : ''}`)
    out(`      СНИЛС ${c.subject.snils ? formatSnils(c.subject.snils) : 'нет'}; ${c.subject.organization ?? ''}`)
    out(`      издатель: ${c.issuer.commonName ?? c.issuer.organization ?? '—'}; № ${c.serialNumber}; ${c.keyDescription}`)
    out(`      действует ${formatDate(c.notBefore)}–${formatDate(c.notAfter)} (${c.validity === 'valid' ? 'действителен' : c.validity === 'expired' ? 'истёк' : 'ещё не действует'}); токен ${c.tokenLabel}; ${c.hasPrivateKey ? 'ключ есть' : 'НЕТ закрытого ключа'}`)
    out(`      id: ${c.id}`)
  })
}

function pickCertificate(state: TokenState, selector: string | undefined): CertificateInfo {
  if (!selector) throw new UsageError('Укажите сертификат: --cert <номер из списка, id или часть ФИО>')
  const n = Number(selector)
  const byIndex = Number.isInteger(n) ? state.certificates[n - 1] : undefined
  const found =
    byIndex ??
    state.certificates.find((c) => c.id === selector) ??
    state.certificates.find((c) => (c.subject.fullName ?? '').toLowerCase().includes(selector.toLowerCase()) || c.label === selector)
  if (!found) throw new UsageError(`Сертификат «${selector}» не найден. Список: npm run diag`)
  return found
}

async function askPin(cert: CertificateInfo, state: TokenState): Promise<string | null> {
  const token = state.tokens.find((t) => t.id === cert.tokenId)
  if (token?.pin.protectedAuthPath) {
    out('Введите PIN-код на устройстве (PIN-пад)…')
    return null
  }
  if (token?.pin.finalTry) out('ВНИМАНИЕ: последняя попытка ввода PIN-кода перед блокировкой.')
  else if (token?.pin.countLow) out('Внимание: осталось мало попыток ввода PIN-кода.')
  return readSecret(`PIN-код токена «${cert.tokenLabel}»: `)
}

async function withTokens<T>(config: AppConfig, fn: (tokens: TokenService, state: TokenState) => Promise<T>): Promise<T> {
  const tokens = createTokenService({
    libraries: resolveLibraries({ configured: config.tokenLibraries, useDefaults: config.useDefaultLibraries }),
    pollIntervalMs: 60_000,
  })
  try {
    return await fn(tokens, await tokens.refresh())
  } finally {
    await tokens.close()
  }
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { cert: { type: 'string' }, out: { type: 'string' }, ca: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  })
  const [command = 'list', ...rest] = positionals
  if (values.help) {
    out('Диагностика рабочего места: npm run diag -- [list | pin --cert N | sign FILE --cert N [--out F.p7s] | verify F.p7s FILE [--ca CA.pem] | portal]')
    return 0
  }
  const config = loadConfig()

  switch (command) {
    case 'list':
      return withTokens(config, async (_t, state) => {
        printState(state)
        return state.certificates.length > 0 ? 0 : 1
      })
    case 'pin':
      return withTokens(config, async (tokens, state) => {
        const cert = pickCertificate(state, values.cert)
        const pin = await askPin(cert, state)
        await tokens.login(cert.id, pin)
        out('PIN-код верный.')
        await tokens.logout()
        return 0
      })
    case 'sign':
      return withTokens(config, async (tokens, state) => {
        const file = rest[0]
        if (!file) throw new UsageError('Укажите файл для подписи: npm run diag -- sign FILE --cert N')
        const content = readFileSync(file)
        const cert = pickCertificate(state, values.cert)
        await tokens.login(cert.id, await askPin(cert, state))
        const der = await tokens.certificate(cert.id)
        const p7s = await signDetachedCades(content, der, (attrs) => tokens.sign(cert.id, attrs))
        const target = values.out ?? `${file}.p7s`
        writeFileSync(target, p7s)
        await tokens.logout()
        out(`Подпись сохранена: ${target} (${p7s.length} байт, CAdES-BES, открепленная)`)
        return 0
      })
    case 'verify': {
      const [sigFile, contentFile] = rest
      if (!sigFile || !contentFile) throw new UsageError('Укажите подпись и файл: npm run diag -- verify FILE.p7s FILE [--ca CA.pem]')
      const result = await verifyDetachedCades(readFileSync(sigFile), readFileSync(contentFile))
      const signer = parseCertificate(result.signerCertificate)
      out(`Подпись верна. Подписант: ${signer.subject.fullName ?? signer.subject.commonName ?? '—'}, СНИЛС ${signer.subject.snils ? formatSnils(signer.subject.snils) : 'нет'}`)
      out(`Время подписи: ${result.signingTime?.toISOString() ?? 'не указано'}; сертификат действует ${formatDate(signer.notBefore)}–${formatDate(signer.notAfter)}`)
      if (values.ca) {
        const chain = await verifyChain(result.signerCertificate, readFileSync(values.ca, 'utf8'))
        out(chain ? 'Цепочка сертификатов до указанного УЦ: верна.' : 'Цепочка сертификатов до указанного УЦ: НЕ подтверждена.')
        return chain ? 0 : 1
      }
      return 0
    }
    case 'portal': {
      const portal = new PortalClient({ baseUrl: config.portalUrl, caFile: config.portalCaFile, timeoutMs: config.portalTimeoutMs })
      try {
        const tls = portal.baseUrl.protocol === 'https:' ? await portal.checkTls() : null
        if (tls) {
          out(`TLS-сертификат портала: ${tls.subject ?? '—'}; издатель: ${tls.issuer ?? '—'}; до ${tls.validTo ?? '—'}`)
          out(tls.authorized ? 'Сертификат портала доверенный.' : `Сертификат портала НЕ доверенный (${tls.error}). Укажите корневой сертификат в настройке portalCaFile.`)
          if (!tls.authorized) return 1
        }
        const health = await portal.health()
        out(`Портал ${config.portalUrl} отвечает. Время портала: ${health.serverTime}`)
        return 0
      } finally {
        portal.close()
      }
    }
    default:
      throw new UsageError(`Неизвестная команда «${command}». Справка: npm run diag -- --help`)
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Our own usage and configuration messages are already Russian and actionable.
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`Ошибка: ${e.message}\n`)
      process.exit(2)
    }
    const err = toAppError(e)
    const text = describeError(err.toData())
    process.stderr.write(`Ошибка: ${text.title}. ${text.message} ${text.action}\n`)
    if (err.code === 'PIN_INCORRECT') process.stderr.write(`${pinTriesLine(err.params)}\n`)
    if (process.env.LKMR_DEBUG && err.details) process.stderr.write(`${err.details}\n`)
    process.exit(2)
  },
)
