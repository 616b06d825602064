import { describe, expect, it } from 'vitest'
import type { AppErrorData } from '../../../shared/errors'
import type { LibraryStatus, PinState, TokenInfo, TokenState } from '../../../shared/model'
import {
  canRetry,
  certificateView,
  greetingName,
  libraryProblems,
  pinPrompt,
  sortCertificates,
  stageIndex,
  tokenCaption,
  tokenPanelKind,
} from './model'

const lib = (state: LibraryStatus['state'], source: LibraryStatus['source'] = 'default', path = `/lib/${state}.so`): LibraryStatus => ({
  name: 'Рутокен ЭЦП',
  path,
  source,
  state,
  error: state === 'error' ? { code: 'TOKEN_LIBRARY_LOAD_FAILED', params: { path } } : null,
  description: null,
  version: null,
})

const pin = (p: Partial<PinState> = {}): PinState => ({
  loginRequired: true,
  protectedAuthPath: false,
  countLow: false,
  finalTry: false,
  locked: false,
  triesLeft: null,
  ...p,
})

const tokenWith = (p: Partial<PinState> = {}): TokenInfo => ({
  id: 't',
  libraryPath: '/lib/x.so',
  libraryName: 'x',
  slotId: '0',
  label: 'Токен',
  manufacturer: '',
  model: '',
  serial: '1',
  pin: pin(p),
})

const person = {
  commonName: 'Петрова Анна Сергеевна',
  surname: 'Петрова',
  givenName: 'Анна Сергеевна',
  fullName: 'Петрова Анна Сергеевна',
  snils: '11223344595',
  inn: null,
  innLe: null,
  ogrn: null,
  ogrnip: null,
  organization: 'ГБУЗ «ГП № 1»',
  organizationalUnit: 'Терапевтическое отделение',
  title: 'Врач-терапевт',
  email: null,
  locality: null,
  region: null,
  street: null,
  country: 'RU',
}

const cert = (id: string, over: Partial<TokenState['certificates'][number]> = {}): TokenState['certificates'][number] => ({
  id,
  tokenId: 't',
  tokenLabel: 'Токен',
  ckaId: id,
  label: id,
  hasPrivateKey: true,
  validity: 'valid',
  subject: person,
  issuer: { ...person, fullName: null, commonName: 'Демо УЦ', organization: null },
  serialNumber: '01',
  notBefore: '2025-01-15T00:00:00.000Z',
  notAfter: '2026-04-15T23:59:59.000Z',
  keyAlgorithm: 'RSA',
  keyDescription: 'RSA 2048',
  signatureAlgorithm: 'sha256WithRSAEncryption',
  keyUsage: [],
  extendedKeyUsage: [],
  fingerprintSha256: '',
  ...over,
})

const state = (over: Partial<TokenState>): TokenState => ({
  libraries: [lib('loaded')],
  tokens: [],
  certificates: [],
  errors: [],
  scannedAt: '2025-06-01T00:00:00.000Z',
  ...over,
})

describe('tokenPanelKind', () => {
  it('tells the four states apart', () => {
    expect(tokenPanelKind(state({ libraries: [] }))).toBe('noLibraries')
    expect(tokenPanelKind(state({ libraries: [lib('missing'), lib('error')] }))).toBe('noLibraries')
    expect(tokenPanelKind(state({}))).toBe('noToken')
    expect(tokenPanelKind(state({ tokens: [tokenWith()] }))).toBe('noCertificates')
    expect(tokenPanelKind(state({ tokens: [tokenWith()], certificates: [cert('a')] }))).toBe('certificates')
  })
})

describe('libraryProblems', () => {
  it('reports failures and missing admin-set paths, not uninstalled defaults', () => {
    const s = state({ libraries: [lib('loaded'), lib('missing'), lib('missing', 'configured', '/opt/x.so'), lib('error')] })
    expect(libraryProblems(s).map((l) => l.path)).toEqual(['/opt/x.so', '/lib/error.so'])
  })
})

describe('pinPrompt', () => {
  it('asks for the PIN, with the exact tries when the token reports them', () => {
    expect(pinPrompt(tokenWith())).toEqual({ kind: 'pin', warning: null, triesLeft: null })
    expect(pinPrompt(tokenWith({ triesLeft: 9 }))).toEqual({ kind: 'pin', warning: null, triesLeft: 9 })
  })

  it('warns when tries run low, and loudly before the last one', () => {
    expect(pinPrompt(tokenWith({ countLow: true }))).toMatchObject({ warning: 'countLow' })
    expect(pinPrompt(tokenWith({ countLow: true, finalTry: true }))).toMatchObject({ warning: 'finalTry' })
    expect(pinPrompt(tokenWith({ triesLeft: 1 }))).toMatchObject({ warning: 'finalTry', triesLeft: 1 })
  })

  it('takes tries left from a PIN_INCORRECT answer over older token flags', () => {
    const err: AppErrorData = { code: 'PIN_INCORRECT', params: { triesLeft: 2 } }
    expect(pinPrompt(tokenWith({ triesLeft: 3 }), err)).toEqual({ kind: 'pin', warning: null, triesLeft: 2 })
    expect(pinPrompt(tokenWith(), { code: 'PIN_INCORRECT', params: { triesLeft: 1 } })).toMatchObject({ warning: 'finalTry' })
    expect(pinPrompt(tokenWith(), { code: 'PIN_INCORRECT', params: { triesLeft: 'x' } })).toMatchObject({ triesLeft: null })
    // The core sends the token's flags after the attempt with the error.
    const flags = (countLow: boolean, finalTry: boolean): AppErrorData => ({ code: 'PIN_INCORRECT', params: { triesLeft: null, countLow, finalTry } })
    expect(pinPrompt(tokenWith(), flags(true, false))).toEqual({ kind: 'pin', warning: 'countLow', triesLeft: null })
    expect(pinPrompt(tokenWith(), flags(true, true))).toEqual({ kind: 'pin', warning: 'finalTry', triesLeft: null })
  })

  it('asks nothing of a locked token, a PIN-pad token, or one without login', () => {
    expect(pinPrompt(tokenWith({ locked: true }))).toEqual({ kind: 'locked' })
    expect(pinPrompt(tokenWith(), { code: 'PIN_LOCKED', params: {} })).toEqual({ kind: 'locked' })
    expect(pinPrompt(tokenWith({ protectedAuthPath: true }))).toEqual({ kind: 'pinpad' })
    expect(pinPrompt(tokenWith({ loginRequired: false }))).toEqual({ kind: 'none' })
  })
})

describe('canRetry', () => {
  it('offers the PIN again only where it can help', () => {
    expect(canRetry({ code: 'PIN_INCORRECT', params: {} })).toBe(true)
    expect(canRetry({ code: 'PORTAL_UNREACHABLE', params: {} })).toBe(true)
    expect(canRetry({ code: 'CLOCK_SKEW', params: {} })).toBe(true)
    expect(canRetry({ code: 'PIN_LOCKED', params: {} })).toBe(false)
    expect(canRetry({ code: 'CERT_REVOKED', params: {} })).toBe(false)
    expect(canRetry({ code: 'WORKER_NOT_REGISTERED', params: {} })).toBe(false)
  })
})

describe('stageIndex', () => {
  it('maps login stages onto the four steps', () => {
    expect(stageIndex(null)).toBe(0)
    expect(stageIndex('challenge')).toBe(0)
    expect(stageIndex('pin')).toBe(1)
    expect(stageIndex('signing')).toBe(2)
    expect(stageIndex('verifying')).toBe(3)
    expect(stageIndex('done')).toBe(4)
  })
})

describe('certificateView', () => {
  it('formats СНИЛС and dates the Russian way', () => {
    const v = certificateView(cert('a'))
    expect(v).toEqual({
      name: 'Петрова Анна Сергеевна',
      position: 'Врач-терапевт',
      organisation: 'ГБУЗ «ГП № 1», Терапевтическое отделение',
      snils: '112-233-445 95',
      issuer: 'Демо УЦ',
      validFrom: '15.01.2025',
      validTo: '15.04.2026',
    })
  })

  it('falls back to CN and the label when names are missing', () => {
    const v = certificateView(cert('lbl', { subject: { ...person, fullName: null, commonName: null, snils: null, title: null, organization: null, organizationalUnit: null } }))
    expect(v).toMatchObject({ name: 'lbl', snils: null, position: null, organisation: null })
  })
})

describe('sortCertificates', () => {
  it('puts usable certificates first', () => {
    const sorted = sortCertificates([
      cert('nokey', { hasPrivateKey: false }),
      cert('expired', { validity: 'expired' }),
      cert('ok'),
    ])
    expect(sorted.map((c) => c.id)).toEqual(['ok', 'expired', 'nokey'])
  })
})

describe('greetingName', () => {
  it('greets by given name and patronymic', () => {
    expect(greetingName('Иванов Иван Иванович')).toBe('Иван Иванович')
    expect(greetingName('Иванов')).toBe('Иванов')
  })
})

describe('tokenCaption', () => {
  const state = (tokens: TokenInfo[]): TokenState => ({ libraries: [], tokens, certificates: [], errors: [], scannedAt: '' })
  const cert = { tokenLabel: 'Рутокен' } as Parameters<typeof tokenCaption>[0]
  it('names the token by label and serial, and the driver only when several drivers show tokens', () => {
    const a = { ...tokenWith(), id: 'a', serial: '01', libraryPath: '/lib/a.so', libraryName: 'Рутокен ЭЦП' }
    const b = { ...tokenWith(), id: 'b', serial: '02', libraryPath: '/lib/b.so', libraryName: 'OpenSC' }
    expect(tokenCaption(cert, a, state([a]))).toEqual({ label: 'Рутокен', serial: '01', library: null })
    expect(tokenCaption(cert, a, state([a, b]))).toEqual({ label: 'Рутокен', serial: '01', library: 'Рутокен ЭЦП' })
    expect(tokenCaption(cert, { ...a, serial: '' }, state([a]))).toEqual({ label: 'Рутокен', serial: null, library: null })
    expect(tokenCaption(cert, undefined, undefined)).toEqual({ label: 'Рутокен', serial: null, library: null })
  })
})
