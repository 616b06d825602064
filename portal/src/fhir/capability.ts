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
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        resource: FHIR_RESOURCE_TYPES.map((type) => ({
          type,
          versioning: 'versioned-update',
          readHistory: true,
          updateCreate: true,
          conditionalCreate: true,
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
