// CSV as spreadsheets save it (RFC 4180): `;` (Russian Excel) or `,` separators, fields in double
// quotes with "" for a quote and line breaks allowed inside, CRLF or LF, an optional UTF-8 BOM.
// Each record keeps the line it starts on, so errors can point at the line people see.

export interface CsvRecord {
  /** 1-based line of the file where the record begins. */
  line: number
  cells: string[]
}

export interface ParsedCsv {
  separator: ';' | ','
  /** Blank lines left out. */
  records: CsvRecord[]
}

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message)
    this.name = 'CsvError'
  }
}

/** `;` when the header line has one outside quotes, else `,`. */
function detectSeparator(text: string): ';' | ',' {
  let inQuotes = false
  let semicolons = 0
  let commas = 0
  for (const c of text) {
    if (c === '"') inQuotes = !inQuotes
    else if (!inQuotes && (c === '\n' || c === '\r')) break
    else if (!inQuotes && c === ';') semicolons++
    else if (!inQuotes && c === ',') commas++
  }
  return semicolons > 0 && semicolons >= commas ? ';' : ','
}

export function parseCsv(input: string): ParsedCsv {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  const separator = detectSeparator(text)
  const records: CsvRecord[] = []
  let cells: string[] = []
  let field = ''
  let inQuotes = false
  let line = 1
  let recordLine = 1
  let quoteLine = 1

  const endRecord = () => {
    cells.push(field)
    if (cells.some((c) => c.trim() !== '')) records.push({ line: recordLine, cells })
    cells = []
    field = ''
  }

  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else inQuotes = false
      } else if (c === '\r') {
        // CRLF inside a quoted field becomes one line break.
        if (text[i + 1] === '\n') i++
        field += '\n'
        line++
      } else {
        if (c === '\n') line++
        field += c
      }
      continue
    }
    if (c === '"' && field.trim() === '') {
      field = ''
      inQuotes = true
      quoteLine = line
    } else if (c === separator) {
      cells.push(field)
      field = ''
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++
      endRecord()
      line++
      recordLine = line
    } else field += c
  }
  if (inQuotes) throw new CsvError(quoteLine, `строка ${quoteLine}: кавычка не закрыта до конца файла`)
  endRecord()
  return { separator, records }
}
