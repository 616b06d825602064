// Russian display formats shared by the UI and the core's error parameters.

/** ISO date or Date → ДД.ММ.ГГГГ (in UTC, so the same certificate date reads the same everywhere). */
export function formatDate(value: string | Date): string {
  const d = typeof value === 'string' ? new Date(value) : value
  if (Number.isNaN(d.getTime())) return ''
  const dd = String(d.getUTCDate()).padStart(2, '0')
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0')
  return `${dd}.${mm}.${d.getUTCFullYear()}`
}

/** Seconds → «2 ч 5 мин», «3 мин», «40 с», «2 сут.». */
export function formatDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds))
  if (s < 60) return `${s} с`
  const days = Math.floor(s / 86_400)
  if (days >= 1) return `${days} сут.`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h} ч${m ? ` ${m} мин` : ''}` : `${m} мин`
}

/**
 * ДД.ММ.ГГГГ ЧЧ:ММ in the given time zone, rounded up to the whole minute: for a moment the
 * user waits for (an account's unlock), the shown time must not come before it.
 */
export function formatDateTimeRu(date: Date, timeZone: string): string {
  const ceil = new Date(Math.ceil(date.getTime() / 60_000) * 60_000)
  const parts = new Intl.DateTimeFormat('ru-RU', {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(ceil)
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? ''
  return `${part('day')}.${part('month')}.${part('year')} ${part('hour')}:${part('minute')}`
}
