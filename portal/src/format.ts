// Values the portal puts into error params, formatted the way Russian users read them.

/** ДД.ММ.ГГГГ in the portal's time zone. */
export function formatDateRu(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('ru-RU', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(date)
}

/** A clock difference as a short Russian phrase: «45 с», «12 мин», «3 ч», «2 дн.». */
export function formatSkewRu(seconds: number): string {
  const s = Math.abs(Math.round(seconds))
  if (s < 120) return `${s} с`
  if (s < 2 * 3600) return `${Math.round(s / 60)} мин`
  if (s < 48 * 3600) return `${Math.round(s / 3600)} ч`
  return `${Math.round(s / 86400)} дн.`
}
