// Creates the demo world from scratch in one folder: a trusted demo CA and an untrusted one,
// a CRL, the portal's TLS certificate, and SoftHSM tokens whose key pairs are generated on the
// token — a valid doctor (RSA-2048), a valid nurse (ECDSA P-256), one certificate per failing
// login outcome, and an empty token. Writes `demo.json` (see manifest.ts) for everyone else.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { demoManifestSchema, MANIFEST_FILE, type DemoCert, type DemoManifest, type DemoToken } from './manifest'
import {
  createCa, createCrl, exportSpki, generateKeyPair, importPrivateKeyPem, issueCertificate, issueTlsServerCertificate,
  type DemoCa, type IssuedCertificate,
} from './pki'
import * as x509 from '../../src/main/core/crypto/x509'
import { DEMO_ORG, DEMO_ORGANISATIONS, DOCTOR, NURSE, PROBLEMS, REGISTRAR, fullNameOf, registerEntry, type DemoPerson } from './people'
import { DEMO_SO_PIN, DEMO_USER_PIN, SOFTHSM_LIBRARY, initToken, writeSofthsmConf } from './softhsm'
import { keyIdOf, withTokens, type DemoTokenSession } from './token-writer'

export const DEMO_TOKEN_LABELS = {
  doctor: 'demo-doctor',
  nurse: 'demo-nurse',
  problems: 'demo-problems',
  empty: 'demo-empty',
} as const

const DAY = 24 * 3600e3
const PORTAL_HOSTS = ['localhost', '127.0.0.1', '::1']

function validityPeriod(p: DemoPerson, now: number): { notBefore: Date; notAfter: Date } {
  switch (p.validity) {
    case 'expired':
      return { notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - 30 * DAY) }
    case 'notYetValid':
      return { notBefore: new Date(now + 30 * DAY), notAfter: new Date(now + 395 * DAY) }
    case 'valid':
      return { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now + 365 * DAY) }
  }
}

function subjectOf(p: DemoPerson) {
  return {
    surname: p.surname,
    givenName: p.givenName,
    title: p.title,
    organization: DEMO_ORG.name,
    organizationalUnit: DEMO_ORG.unit,
    snils: p.snils,
    inn: p.inn,
    innLe: DEMO_ORG.innLe,
    ogrn: DEMO_ORG.ogrn,
    locality: DEMO_ORG.locality,
    region: DEMO_ORG.region,
    street: DEMO_ORG.street,
  }
}

interface Issued {
  person: DemoPerson
  ckaId: string
  cert: IssuedCertificate
}

/** Puts one person's key pair (or, for noPrivateKey, only the certificate) on `token`. */
async function provision(token: DemoTokenSession, p: DemoPerson, ca: DemoCa, now: number): Promise<Issued> {
  const label = fullNameOf(p)
  let spki: Uint8Array
  let ckaId: Uint8Array
  if (p.keyOnToken) {
    ;({ spki, ckaId } = token.generateKeyPair(p.keyType, label))
  } else {
    // The key exists only in software: the token gets the certificate and nothing else.
    const keys = await generateKeyPair(p.keyType)
    spki = await exportSpki(keys.publicKey)
    ckaId = keyIdOf(spki)
  }
  const cert = await issueCertificate(ca, { subject: subjectOf(p), publicKey: spki, ...validityPeriod(p, now) })
  token.writeCertificate(cert.der, ckaId, label)
  return { person: p, ckaId: Buffer.from(ckaId).toString('hex'), cert }
}

export interface CreateDemoOptions {
  dir: string
  /** PKCS#11 module to write through; SoftHSM2 by default. */
  library?: string
}

export async function createDemo(opts: CreateDemoOptions): Promise<DemoManifest> {
  const dir = resolve(opts.dir)
  const library = opts.library ?? SOFTHSM_LIBRARY
  rmSync(dir, { recursive: true, force: true })
  for (const sub of ['ca', 'certs', 'portal']) mkdirSync(join(dir, sub), { recursive: true })
  const softhsmConf = writeSofthsmConf(dir)
  const now = Date.now()

  const pkiReady = Promise.all([
    createCa({ commonName: 'Демо УЦ ЛКМР' }),
    createCa({ commonName: 'Недоверенный УЦ', organization: 'ООО «Посторонний Удостоверяющий Центр»' }),
  ])
  // softhsm2-util --free takes the first free slot, so tokens are initialised one after another.
  for (const label of Object.values(DEMO_TOKEN_LABELS)) await initToken(softhsmConf, label)
  const [ca, untrustedCa] = await pkiReady

  const { issued, serials } = await withTokens(library, softhsmConf, DEMO_USER_PIN, async (tokens) => {
    const get = (label: string) => {
      const t = tokens.get(label)
      if (!t) throw new Error(`demo token ${label} not found after initialisation`)
      return t
    }
    const result = new Map<string, Issued[]>()
    result.set(DEMO_TOKEN_LABELS.doctor, [await provision(get(DEMO_TOKEN_LABELS.doctor), DOCTOR, ca, now)])
    result.set(DEMO_TOKEN_LABELS.nurse, [await provision(get(DEMO_TOKEN_LABELS.nurse), NURSE, ca, now)])
    const problems: Issued[] = []
    for (const p of PROBLEMS) {
      problems.push(await provision(get(DEMO_TOKEN_LABELS.problems), p, p.issuer === 'untrusted' ? untrustedCa : ca, now))
    }
    result.set(DEMO_TOKEN_LABELS.problems, problems)
    result.set(DEMO_TOKEN_LABELS.empty, [])
    const serials = new Map([...tokens.values()].map((t) => [t.label, t.serial]))
    return { issued: result, serials }
  })

  const revoked = [...issued.values()].flat().filter((i) => i.person.revoked)
  const crl = await createCrl(ca, { revoked: revoked.map((i) => ({ serialNumber: i.cert.serialNumber, revocationDate: new Date(now - DAY) })) })
  const tls = await issueTlsServerCertificate(ca, { hosts: PORTAL_HOSTS })

  const write = (rel: string, data: string | Uint8Array) => {
    const path = join(dir, rel)
    writeFileSync(path, data)
    return path
  }
  const tokens: DemoToken[] = [...issued.entries()].map(([label, list]) => ({
    label,
    serial: serials.get(label) ?? '',
    userPin: DEMO_USER_PIN,
    soPin: DEMO_SO_PIN,
    certificates: list.map(
      (i): DemoCert => ({
        kind: i.person.kind,
        ckaId: i.ckaId,
        label: fullNameOf(i.person),
        keyType: i.person.keyType,
        snils: i.person.snils,
        fullName: fullNameOf(i.person),
        certPem: write(`certs/${i.person.kind}.pem`, i.cert.pem),
      }),
    ),
  }))
  const manifest: DemoManifest = {
    createdAt: new Date(now).toISOString(),
    dir,
    library,
    softhsmConf,
    caCertPem: write('ca/ca.pem', ca.certPem),
    caKeyPem: write('ca/ca.key.pem', ca.keyPem),
    crlDer: write('ca/ca.crl', crl.der),
    untrustedCaCertPem: write('ca/untrusted-ca.pem', untrustedCa.certPem),
    portalTls: { certPem: write('portal/tls.pem', tls.pem), keyPem: write('portal/tls.key.pem', tls.keyPem), hosts: PORTAL_HOSTS },
    organisations: DEMO_ORGANISATIONS,
    // The registrar has no token: password + one-time code (the portal's demo seed makes her account).
    workers: [...[DOCTOR, NURSE, ...PROBLEMS].map(registerEntry).filter((w) => w !== null), REGISTRAR],
    tokens,
  }
  write('ca/ca.crl.pem', crl.pem)
  write(MANIFEST_FILE, JSON.stringify(demoManifestSchema.parse(manifest), null, 2) + '\n')
  return manifest
}

/**
 * Puts one more token into an existing demo token folder (`softhsmConf`): initialised with the
 * demo PINs, holding a fresh key pair and a certificate from the demo CA for the same person as
 * the demo certificate of `kind` — e.g. a doctor's second token. Loads the PKCS#11 library in
 * this process, so it must run before anything else here initialises it. Adds the token to
 * `manifest.tokens` and returns it.
 */
export async function addDemoToken(
  manifest: DemoManifest,
  opts: { softhsmConf: string; label: string; kind: DemoCert['kind'] },
): Promise<DemoToken> {
  const person = [DOCTOR, NURSE, ...PROBLEMS].find((p) => p.kind === opts.kind)
  if (!person?.keyOnToken) throw new Error(`no demo person with a key on the token for ${opts.kind}`)
  const caCert = new x509.X509Certificate(readFileSync(manifest.caCertPem, 'utf8'))
  const ca: DemoCa = {
    certificate: caCert,
    keys: { publicKey: await caCert.publicKey.export(), privateKey: await importPrivateKeyPem(readFileSync(manifest.caKeyPem, 'utf8'), 'EC') },
    der: new Uint8Array(caCert.rawData),
    certPem: readFileSync(manifest.caCertPem, 'utf8'),
    keyPem: readFileSync(manifest.caKeyPem, 'utf8'),
  }
  await initToken(opts.softhsmConf, opts.label)
  const { issued, serial } = await withTokens(manifest.library, opts.softhsmConf, DEMO_USER_PIN, async (tokens) => {
    const t = tokens.get(opts.label)
    if (!t) throw new Error(`token ${opts.label} not found after initialisation`)
    return { issued: await provision(t, person, ca, Date.now()), serial: t.serial }
  })
  const token: DemoToken = {
    label: opts.label,
    serial,
    userPin: DEMO_USER_PIN,
    soPin: DEMO_SO_PIN,
    certificates: [
      {
        kind: person.kind,
        ckaId: issued.ckaId,
        label: fullNameOf(person),
        keyType: person.keyType,
        snils: person.snils,
        fullName: fullNameOf(person),
        certPem: join(dirname(opts.softhsmConf), `${opts.label}.pem`),
      },
    ],
  }
  writeFileSync(token.certificates[0]!.certPem, issued.cert.pem)
  manifest.tokens.push(token)
  return token
}
