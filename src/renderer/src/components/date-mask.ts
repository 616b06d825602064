// Typing a date as ДД.ММ.ГГГГ into a plain text box: the dots appear by themselves, a day or a
// month typed with one digit and a dot is padded («5.3.» → «05.03.»), a pasted ISO date or
// «25 11 2026» is rewritten. Pure; the input component is RuDateInput.

/** The text of a date box after an edit. Idempotent on its own output. */
export function maskRuDate(text: string): string {
  const t = text.trim()
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t)
  if (iso) return `${iso[3]}.${iso[2]}.${iso[1]}`
  const groups = t.split(/\D+/).filter((g) => g !== '')
  const trailing = /\d\D+$/.test(t)
  // Typed with separators: day and month may have one digit.
  if ((groups.length > 1 || trailing) && groups.length <= 3 && groups.slice(0, 2).every((g) => g.length <= 2)) {
    const parts = groups.map((g, i) => {
      const closed = i < groups.length - 1 || trailing
      if (i === 2) return g.slice(0, 4)
      return closed ? g.padStart(2, '0') : g
    })
    return parts.join('.') + (trailing && parts.length < 3 ? '.' : '')
  }
  const digits = t.replace(/\D/g, '').slice(0, 8)
  return [digits.slice(0, 2), digits.slice(2, 4), digits.slice(4)].filter((g) => g !== '').join('.')
}
