// i18next with the one Russian resource, initialised synchronously before the first render.
import i18next from 'i18next'
import { initReactI18next } from 'react-i18next'
import { ru } from './ru'

export function initI18n(): typeof i18next {
  void i18next.use(initReactI18next).init({
    lng: 'ru',
    fallbackLng: 'ru',
    resources: { ru: { translation: ru } },
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  })
  return i18next
}
