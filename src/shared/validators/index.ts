// Checks of Russian identifiers (СНИЛС, ИНН, ОГРН/ОГРНИП, полис ОМС). Pure, renderer-safe.
export * from './snils'
export * from './inn'
export * from './ogrn'
export * from './oms'
export { stripSeparators } from './digits'
