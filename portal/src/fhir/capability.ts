// The CapabilityStatement (GET metadata): what this server supports, generated from the same
// tables the handlers use so it cannot drift from them.
import { FHIR_CONTENT_TYPE, FHIR_RESOURCE_TYPES } from '../../../src/shared/fhir/systems'
import { SEARCH_PARAMS } from './search-params'

export function capabilityStatement(base: string, now: Date): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: now.toISOString(),
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: [FHIR_CONTENT_TYPE, 'application/json'],
    implementation: { description: 'Справочный портал ЛКМР: FHIR R4 API синхронизации', url: base },
    rest: [
      {
        mode: 'server',
        security: { cors: false, description: 'Bearer-токен сеанса портала (вход по ЭП или по паролю с кодом)' },
        documentation:
          'Условные записи: PUT с If-Match: W/"версия" обновляет только эту версию; PUT с If-None-Match: * ' +
          '(в пакетах request.ifNoneMatch: "*") только создаёт — если ресурс уже есть (удалённый не в счёт), 412 ' +
          'VERSION_CONFLICT с текущей версией (расширение urn:lkmr:error-params, currentVersion). Пакет batch: ' +
          'каждый элемент сам по себе, ответы по порядку; transaction: всё или ничего.',
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        resource: FHIR_RESOURCE_TYPES.map((type) => ({
          type,
          versioning: 'versioned-update',
          readHistory: true,
          updateCreate: true,
          conditionalCreate: true,
          // If-None-Match on reads: 304 when the version is current.
          conditionalRead: 'not-match',
          conditionalUpdate: false,
          conditionalDelete: 'not-supported',
          interaction: ['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'].map((code) => ({ code })),
          searchParam: [
            { name: '_id', type: 'token' },
            { name: '_lastUpdated', type: 'date' },
            ...Object.entries(SEARCH_PARAMS[type]).map(([name, def]) => ({ name, type: def.kind })),
          ],
        })),
      },
    ],
  }
}
