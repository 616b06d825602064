// What `npm run demo:tokens` leaves in the demo folder (default `.demo/`), read by the portal's
// demo seeding, the tests, the benchmarks and the README's demo. Paths are absolute.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'

/** Why a demo certificate exists: the login outcome it is there to produce. */
export const demoCertKindSchema = z.enum([
  'doctor', // valid, RSA-2048, registered, active → logs in
  'nurse', // valid, ECDSA P-256, registered, active → logs in
  'expired',
  'notYetValid',
  'revoked',
  'noSnils',
  'unregistered', // СНИЛС not in the worker register
  'employmentEnded', // registered, but employment ended
  'untrusted', // issued by a CA the portal does not trust
  'noPrivateKey', // certificate object without its private key
])
export type DemoCertKind = z.infer<typeof demoCertKindSchema>

export const demoWorkerSchema = z.object({
  snils: z.string(), // 11 digits, no separators
  fullName: z.string(),
  position: z.string(),
  organisation: z.string(),
  organisationOgrn: z.string(),
  roles: z.array(z.enum(['doctor', 'nurse', 'registrar', 'head', 'admin'])),
  employment: z.enum(['active', 'ended']),
  /** Name of one of the organisation's departments (demoOrganisationSchema). */
  department: z.string().optional(),
  specialties: z.array(z.string()).optional(),
  /** ГГГГ-ММ-ДД */
  birthDate: z.string().optional(),
})
export type DemoWorker = z.infer<typeof demoWorkerSchema>

/** An organisation of the register with its departments (ОГРН and ИНН with valid checksums). */
export const demoOrganisationSchema = z.object({
  ogrn: z.string(),
  inn: z.string(),
  name: z.string(),
  shortName: z.string().optional(),
  address: z.string().optional(),
  departments: z.array(z.string()),
})
export type DemoOrganisation = z.infer<typeof demoOrganisationSchema>

export const demoCertSchema = z.object({
  kind: demoCertKindSchema,
  /** CKA_ID in hex, shared by the certificate and its key pair on the token. */
  ckaId: z.string(),
  label: z.string(),
  keyType: z.enum(['RSA', 'EC']),
  snils: z.string().nullable(),
  fullName: z.string(),
  certPem: z.string(), // path to the PEM file
})
export type DemoCert = z.infer<typeof demoCertSchema>

export const demoTokenSchema = z.object({
  label: z.string(),
  serial: z.string(),
  userPin: z.string(),
  soPin: z.string(),
  certificates: z.array(demoCertSchema),
})
export type DemoToken = z.infer<typeof demoTokenSchema>

export const demoManifestSchema = z.object({
  createdAt: z.string(),
  dir: z.string(),
  /** PKCS#11 module and the SoftHSM2 config to set as SOFTHSM2_CONF. */
  library: z.string(),
  softhsmConf: z.string(),
  /** Demo CA that the portal trusts (also issued the portal's TLS certificate). */
  caCertPem: z.string(),
  caKeyPem: z.string(),
  crlDer: z.string(),
  /** A second CA the portal does not trust. */
  untrustedCaCertPem: z.string(),
  portalTls: z.object({ certPem: z.string(), keyPem: z.string(), hosts: z.array(z.string()) }),
  /** Absent in demo folders made before organisations were part of the register. */
  organisations: z.array(demoOrganisationSchema).optional(),
  workers: z.array(demoWorkerSchema),
  tokens: z.array(demoTokenSchema),
})
export type DemoManifest = z.infer<typeof demoManifestSchema>

export const DEFAULT_DEMO_DIR = resolve(import.meta.dirname, '../../.demo')
export const MANIFEST_FILE = 'demo.json'

export function readDemoManifest(dir: string = process.env.DEMO_DIR ?? DEFAULT_DEMO_DIR): DemoManifest {
  return demoManifestSchema.parse(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')))
}
