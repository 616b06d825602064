// Text folding for search, one rule for the portal's index and the workstation's: case, accents
// and ё/е do not matter («Пётр» = «петр»), runs of spaces are one.

export function normalizeSearchText(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ').trim()
}
