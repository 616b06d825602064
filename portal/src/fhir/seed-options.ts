// Defaults and usage text of `portal seed`, apart from seed.ts so main.ts can print the usage
// without loading faker.
import { DEMO_ORG } from '../../../scripts/demo/people'

export const DEFAULT_SEED = 42
/** Identifiers stay unique up to this many patients in one run (seed.ts: patientSnils). */
export const MAX_SEED_PATIENTS = 10_000_000

export const SEED_USAGE = `  portal seed --patients N [--ogrn ОГРН] [--seed ${DEFAULT_SEED}] [--batch 1000] [--quiet]
               (демо-данные FHIR: пациенты с историей приёмов; ОГРН по умолчанию — демо-поликлиники
               ${DEMO_ORG.ogrn}; --org — то же, что --ogrn)`
