// Creates the demo CA, CRL and SoftHSM tokens from scratch and prints what it made.
//   npx tsx scripts/demo-tokens.ts [--dir .demo]
import { relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createDemo } from './demo/create-demo'
import { DEFAULT_DEMO_DIR } from './demo/manifest'

const { values } = parseArgs({ options: { dir: { type: 'string' } } })
const dir = resolve(values.dir ?? DEFAULT_DEMO_DIR)
const started = performance.now()
const m = await createDemo({ dir })
const ms = Math.round(performance.now() - started)
const rel = (p: string) => {
  const r = relative(process.cwd(), p)
  return r === '' ? '.' : r.startsWith('..') ? p : r
}

const lines = [
  `Демо-токены созданы за ${ms} мс / demo tokens created in ${ms} ms: ${rel(m.dir)}`,
  `  SOFTHSM2_CONF=${m.softhsmConf}`,
  `  Корневой сертификат УЦ / CA: ${rel(m.caCertPem)}   СОС / CRL: ${rel(m.crlDer)}`,
  `  TLS портала / portal TLS: ${rel(m.portalTls.certPem)} (${m.portalTls.hosts.join(', ')})`,
  `  PIN-код пользователя / user PIN: ${m.tokens[0]?.userPin ?? ''}   PIN-код администратора / SO PIN: ${m.tokens[0]?.soPin ?? ''}`,
  ...m.tokens.flatMap((t) => [
    `  Токен / token «${t.label}», серийный номер / serial ${t.serial}: ${t.certificates.length ? `${t.certificates.length} серт. / certs` : 'нет сертификатов / no certificates'}`,
    ...t.certificates.map((c) => `    - ${c.kind.padEnd(15)} ${c.keyType.padEnd(3)} ${c.fullName}${c.snils ? `, СНИЛС ${c.snils}` : ', без СНИЛС'}`),
  ]),
  `  Регистр медработников / worker register: ${m.workers.length} записей / entries`,
]
process.stdout.write(lines.join('\n') + '\n')
