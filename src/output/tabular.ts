/** Tables (cli-table3, borderless): rows for people. CSV, the rows for scripts, is in csv.ts. */
import {createRequire} from 'node:module'

import type TableType from 'cli-table3'

import type {Cell} from '../csv.js'

// Loaded on first use: JSON and CSV output never pay for it.
let Table: typeof TableType | undefined
const loadTable = () => (Table ??= createRequire(import.meta.url)('cli-table3') as typeof TableType)

const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
}

const text = (c: Cell) => (c === null || c === undefined ? '' : String(c))

/** Spaces between columns. */
const GAP = 2
/** A column is never abbreviated below this many characters (nor below its heading). */
const MIN_ABBREVIATED = 4

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g
/** Characters a cell takes on screen (colour codes take none). */
export const visibleLength = (s: string) => [...s.replace(ANSI, '')].length

/** How a table fits a terminal: its width, and which columns matter least (dropped first, by heading). */
export interface TableFit {
  width: number | undefined
  /** Headings of the columns to drop, least valuable first, before any column is abbreviated. */
  dropFirst?: string[]
}

export interface FittedColumns {
  /** Indices of the columns kept, in order. */
  columns: number[]
  /** Width of each kept column; a cell wider than its column is abbreviated with "…". */
  widths: number[]
}

/**
 * Which columns to show, and how wide, for a table to fit `width` characters: first drop the columns in
 * `dropFirst` (in that order) while the table is too wide, then shorten the widest columns, one character at a
 * time, never below their heading. Pure: the natural width of each column in, the plan out.
 */
export function fitColumns(head: string[], natural: number[], width: number, dropFirst: string[] = []): FittedColumns {
  let columns = head.map((_, i) => i)
  const total = (cols: number[], widths: (i: number) => number) => cols.reduce((n, i) => n + widths(i), 0) + GAP * (cols.length - 1)
  for (const name of dropFirst) {
    if (total(columns, (i) => natural[i]!) <= width) break
    const index = head.indexOf(name)
    if (columns.includes(index) && columns.length > 1) columns = columns.filter((i) => i !== index)
  }
  const widths = columns.map((i) => natural[i]!)
  const floor = columns.map((i) => Math.min(natural[i]!, Math.max(visibleLength(head[i]!), MIN_ABBREVIATED)))
  let excess = total(columns, (i) => natural[i]!) - width
  while (excess > 0) {
    let widest = -1
    widths.forEach((w, k) => {
      if (w > floor[k]! && (widest < 0 || w > widths[widest]!)) widest = k
    })
    if (widest < 0) break
    widths[widest]!--
    excess--
  }
  return {columns, widths}
}

/** The width a table takes with every column whole. */
export function naturalWidth(head: string[], rows: Cell[][]): number {
  const widths = head.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(text(r[i])))))
  return widths.reduce((a, b) => a + b, 0) + GAP * (head.length - 1)
}

/**
 * A table whose last column holds free text (warnings, reasons): on a terminal too narrow for it, that column
 * leaves the table and each non-empty cell is listed under it, whole, as "  <first cell>: <text>" — free text
 * is never abbreviated, since it is what a person must read before saying yes.
 */
export function renderTableWithNotes(head: string[], rows: Cell[][], headStyle: (s: string) => string, width: number | undefined): string {
  if (width === undefined || naturalWidth(head, rows) <= width) return renderTable(head, rows, headStyle, {width})
  const last = head.length - 1
  const notes = rows.filter((r) => text(r[last]) !== '').map((r) => `  ${text(r[0])}: ${text(r[last])}`)
  const table = renderTable(
    head.slice(0, last),
    rows.map((r) => r.slice(0, last)),
    headStyle,
    {width},
  )
  return notes.length ? [table, `${head[last]}:`, ...notes].join('\n') : table
}

/**
 * A borderless table. With `fit.width` (stdout is a terminal, no --wide), the table is made to fit that width
 * (fitColumns); without it every column is shown whole, as scripts reading piped output expect.
 */
export function renderTable(head: string[], rows: Cell[][], headStyle: (s: string) => string = (s) => s, fit?: TableFit): string {
  const TableClass = loadTable()
  const cells = rows.map((row) => row.map(text))
  let columns = head.map((_, i) => i)
  let colWidths: number[] | undefined
  if (fit?.width !== undefined) {
    const natural = head.map((h, i) => Math.max(visibleLength(h), ...cells.map((r) => visibleLength(r[i] ?? ''))))
    const fitted = fitColumns(head, natural, fit.width, fit.dropFirst)
    if (fitted.columns.length < head.length || fitted.widths.some((w, k) => w < natural[fitted.columns[k]!]!)) {
      columns = fitted.columns
      colWidths = fitted.widths
    }
  }
  const table = new TableClass({
    head: columns.map((i) => headStyle(head[i]!)),
    chars: BORDERLESS,
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
    ...(colWidths ? {colWidths} : {}),
  })
  for (const row of cells) table.push(columns.map((i) => row[i] ?? ''))
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
}
