// Turns an X.500 Name (subject or issuer) into the PersonName the app shows, reading the
// Russian qualified-certificate attributes (СНИЛС, ИНН, ОГРН, …) whatever string type the CA used.
import type { PersonName } from '../../../shared/model'
import { children, decodeOid, expectTag, type Tlv } from './der'
import { normalizeSnils } from '../../../shared/validators'
import { NAME_OID } from './oids'

type NameField = Exclude<keyof PersonName, 'fullName'>

const FIELD_BY_OID: ReadonlyMap<string, NameField> = new Map(
  Object.entries(NAME_OID)
    .filter(([field]) => field !== 'serialNumber')
    .map(([field, oid]) => [oid, field as NameField]),
)

/** Decodes a DER-encoded string value (TLV) of any of the X.520 string types. */
export function decodeDerString(der: Uint8Array): string | null {
  if (der.length < 2) return null
  const tag = der[0]!
  let len = der[1]!
  let offset = 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || der.length < 2 + n) return null
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!
    offset = 2 + n
  }
  const body = der.subarray(offset, offset + len)
  if (body.length !== len) return null
  switch (tag) {
    case 0x0c: // UTF8String
      return new TextDecoder('utf-8').decode(body)
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      return String.fromCharCode(...body)
    case 0x14: // TeletexString: some CAs put UTF-8 in it; fall back to Latin-1
      return decodeUtf8OrLatin1(body)
    case 0x1e: // BMPString (UTF-16BE)
      return new TextDecoder('utf-16be').decode(body)
    case 0x1c: { // UniversalString (UTF-32BE)
      const cps: number[] = []
      for (let i = 0; i + 3 < body.length; i += 4) {
        cps.push(((body[i]! << 24) | (body[i + 1]! << 16) | (body[i + 2]! << 8) | body[i + 3]!) >>> 0)
      }
      return String.fromCodePoint(...cps)
    }
    default:
      return null
  }
}

function decodeUtf8OrLatin1(body: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    return String.fromCharCode(...body)
  }
}

/** All attribute values of a DER Name by OID, in order (RDNs may repeat, e.g. several OU). */
export function nameAttributes(name: Tlv): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const rdn of children(expectTag(name, 0x30, 'Name'))) {
    for (const atv of children(expectTag(rdn, 0x31, 'RelativeDistinguishedName'))) {
      const [type, value] = children(expectTag(atv, 0x30, 'AttributeTypeAndValue'))
      if (!type || !value) continue
      const text = decodeDerString(value.der)?.trim()
      if (!text) continue
      const oid = decodeOid(type)
      const list = out.get(oid) ?? []
      list.push(text)
      out.set(oid, list)
    }
  }
  return out
}

export function emptyPersonName(): PersonName {
  return {
    commonName: null, surname: null, givenName: null, fullName: null, snils: null, inn: null,
    innLe: null, ogrn: null, ogrnip: null, organization: null, organizationalUnit: null,
    title: null, email: null, locality: null, region: null, street: null, country: null,
  }
}

export function personNameFromName(name: Tlv): PersonName {
  const result = emptyPersonName()
  for (const [oid, values] of nameAttributes(name)) {
    const field = FIELD_BY_OID.get(oid)
    if (field) result[field] = values.join(', ')
  }
  if (result.snils !== null) result.snils = normalizeSnils(result.snils) ?? result.snils
  const sngn = [result.surname, result.givenName].filter((s): s is string => !!s).join(' ')
  result.fullName = sngn || result.commonName
  return result
}
