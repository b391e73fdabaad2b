/** CSV (RFC 4180), written and read: `show --csv` and `list --csv` write it, `reset --from-file` reads it back. */

/** How rows are printed: a table for people, or CSV for tools. */
export type RowFormat = 'table' | 'csv'

/** One value of a row; null and undefined are empty fields. */
export type Cell = string | number | null | undefined

function csvCell(cell: Cell): string {
  const s = cell === null || cell === undefined ? '' : String(cell)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function renderCsv(head: string[], rows: Cell[][]): string {
  return [head, ...rows].map((row) => row.map(csvCell).join(',')).join('\n')
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"' && field === '') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field !== '' || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows
}
