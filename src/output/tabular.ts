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

export function renderTable(head: string[], rows: Cell[][], headStyle: (s: string) => string = (s) => s): string {
  const TableClass = loadTable()
  const table = new TableClass({
    head: head.map((h) => headStyle(h)),
    chars: BORDERLESS,
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
  })
  for (const row of rows) table.push(row.map((c) => (c === null || c === undefined ? '' : String(c))))
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
}
