/** Tables (cli-table3, borderless) and CSV (RFC 4180): the two row formats for people and for scripts. */
import {createRequire} from 'node:module'

import type TableType from 'cli-table3'

// Loaded on first use: JSON and CSV output never pay for it.
let Table: typeof TableType | undefined
const loadTable = () => (Table ??= createRequire(import.meta.url)('cli-table3') as typeof TableType)

export type Cell = string | number | null | undefined

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
}

export function renderTable(head: string[], rows: Cell[][], headStyle: (s: string) => string = (s) => s): string {
  const TableClass = loadTable()
  const table = new TableClass({
    head: head.map((h) => headStyle(h)),
    chars: BORDERLESS,
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
  })
  for (const row of rows) table.push(row.map((c) => (c === null || c === undefined ? '' : String(c))))
  return table.toString().split('\n').map((l) => l.trimEnd()).join('\n')
}

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
