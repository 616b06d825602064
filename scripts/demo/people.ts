// Who the demo certificates belong to: the worker register and the certificate of each login
// outcome. Every СНИЛС, ИНН and ОГРН carries a valid checksum.
import type { DemoCertKind, DemoOrganisation, DemoWorker } from './manifest'
import { innWithChecksum, ogrnWithChecksum, snilsWithChecksum } from '../../src/shared/validators'

export const DEMO_ORG = {
  name: 'ГБУЗ «Городская поликлиника № 1»',
  unit: 'Терапевтическое отделение',
  ogrn: ogrnWithChecksum('102770012345'),
  innLe: innWithChecksum('770123456'),
  locality: 'Москва',
  region: '77 г. Москва',
  street: 'ул. Тверская, д. 1',
}

export interface DemoPerson {
  kind: DemoCertKind
  surname: string
  givenName: string
  title: string
  /** null: the certificate carries no СНИЛС. */
  snils: string | null
  inn: string
  keyType: 'RSA' | 'EC'
  /** The register entry, or null when the person is not in it. */
  register: Pick<DemoWorker, 'roles' | 'employment'> | null
  /** Which CA issues it. */
  issuer: 'demo' | 'untrusted'
  validity: 'valid' | 'expired' | 'notYetValid'
  /** Whether the private key is on the token. */
  keyOnToken: boolean
  revoked: boolean
}

const active = (roles: DemoWorker['roles']) => ({ roles, employment: 'active' as const })
const base = { issuer: 'demo' as const, validity: 'valid' as const, keyOnToken: true, revoked: false, keyType: 'EC' as const }

/** The valid certificates, one per token. */
export const DOCTOR: DemoPerson = {
  ...base, kind: 'doctor', surname: 'Иванов', givenName: 'Иван Иванович', title: 'Врач-терапевт участковый',
  snils: snilsWithChecksum('112233445'), inn: innWithChecksum('7701234567'), keyType: 'RSA', register: active(['doctor']),
}

export const NURSE: DemoPerson = {
  ...base, kind: 'nurse', surname: 'Соколова', givenName: 'Наталья Владимировна', title: 'Медицинская сестра участковая',
  snils: snilsWithChecksum('123456789'), inn: innWithChecksum('7701234568'), register: active(['nurse']),
}

/** One certificate per failing login outcome; only the intended check fails for each. */
export const PROBLEMS: DemoPerson[] = [
  { ...base, kind: 'expired', surname: 'Петров', givenName: 'Пётр Петрович', title: 'Врач-хирург',
    snils: snilsWithChecksum('234567891'), inn: innWithChecksum('7701234569'), validity: 'expired', register: active(['doctor']) },
  { ...base, kind: 'notYetValid', surname: 'Сидорова', givenName: 'Анна Сергеевна', title: 'Врач-педиатр',
    snils: snilsWithChecksum('345678912'), inn: innWithChecksum('7701234570'), validity: 'notYetValid', register: active(['doctor']) },
  { ...base, kind: 'revoked', surname: 'Кузнецов', givenName: 'Алексей Николаевич', title: 'Врач-невролог',
    snils: snilsWithChecksum('456789123'), inn: innWithChecksum('7701234571'), revoked: true, register: active(['doctor']) },
  { ...base, kind: 'noSnils', surname: 'Смирнова', givenName: 'Елена Викторовна', title: 'Медицинский регистратор',
    snils: null, inn: innWithChecksum('7701234572'), register: null },
  { ...base, kind: 'unregistered', surname: 'Волков', givenName: 'Дмитрий Андреевич', title: 'Врач-кардиолог',
    snils: snilsWithChecksum('567891234'), inn: innWithChecksum('7701234573'), register: null },
  { ...base, kind: 'employmentEnded', surname: 'Морозова', givenName: 'Ольга Павловна', title: 'Врач-офтальмолог',
    snils: snilsWithChecksum('678912345'), inn: innWithChecksum('7701234574'), register: { roles: ['doctor'], employment: 'ended' } },
  { ...base, kind: 'untrusted', surname: 'Новиков', givenName: 'Сергей Игоревич', title: 'Врач-терапевт',
    snils: snilsWithChecksum('789123456'), inn: innWithChecksum('7701234575'), issuer: 'untrusted', register: active(['doctor']) },
  { ...base, kind: 'noPrivateKey', surname: 'Фёдорова', givenName: 'Мария Александровна', title: 'Врач-эндокринолог',
    snils: snilsWithChecksum('891234567'), inn: innWithChecksum('7701234576'), keyOnToken: false, register: active(['doctor']) },
]

/**
 * A registrar with no token (no certificate): logs in with a password and a one-time code. The
 * portal's demo seed gives her the account (portal/src/demo-seed.ts: DEMO_PASSWORD_ACCOUNT).
 */
export const REGISTRAR: DemoWorker = {
  snils: snilsWithChecksum('912345678'),
  fullName: 'Белова Светлана Игоревна',
  position: 'Медицинский регистратор',
  organisation: DEMO_ORG.name,
  organisationOgrn: DEMO_ORG.ogrn,
  roles: ['registrar'],
  employment: 'active',
}

export function fullNameOf(p: DemoPerson): string {
  return `${p.surname} ${p.givenName}`
}

/** The demo organisation as the register knows it; the demo certificates' OU is its first department. */
export const DEMO_ORGANISATIONS: DemoOrganisation[] = [
  {
    ogrn: DEMO_ORG.ogrn,
    inn: DEMO_ORG.innLe,
    name: DEMO_ORG.name,
    shortName: 'ГП № 1',
    address: `г. ${DEMO_ORG.locality}, ${DEMO_ORG.street}`,
    departments: [DEMO_ORG.unit, 'Хирургическое отделение', 'Педиатрическое отделение', 'Регистратура'],
  },
]

/** Specialty (номенклатура специальностей) of each demo position. */
const SPECIALTY_BY_TITLE: Readonly<Record<string, string>> = {
  'Врач-терапевт участковый': 'Терапия',
  'Врач-терапевт': 'Терапия',
  'Медицинская сестра участковая': 'Сестринское дело',
  'Врач-хирург': 'Хирургия',
  'Врач-педиатр': 'Педиатрия',
  'Врач-невролог': 'Неврология',
  'Врач-кардиолог': 'Кардиология',
  'Врач-офтальмолог': 'Офтальмология',
  'Врач-эндокринолог': 'Эндокринология',
}

export function registerEntry(p: DemoPerson): DemoWorker | null {
  if (!p.register || !p.snils) return null
  return {
    snils: p.snils,
    fullName: fullNameOf(p),
    position: p.title,
    organisation: DEMO_ORG.name,
    organisationOgrn: DEMO_ORG.ogrn,
    roles: p.register.roles,
    employment: p.register.employment,
    department: DEMO_ORG.unit,
    specialties: SPECIALTY_BY_TITLE[p.title] ? [SPECIALTY_BY_TITLE[p.title]!] : [],
  }
}
