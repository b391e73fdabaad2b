/**
 * Where output goes and how it looks: colour and human-friendly ages only on a terminal, decided once.
 * Every byte written passes through redact().
 */
import {Chalk, type ChalkInstance} from 'chalk'

import {redact} from '../redact.js'
import {formatAge} from '../time.js'
import {clearProgressLine} from './progress.js'

export interface OutputSettings {
  /** Colour on stdout tables. */
  color: boolean
  /** Ages ("3m ago") instead of ISO-8601 UTC times: stdout is a terminal. */
  humanTimes: boolean
  /** Progress is shown only when stderr is a terminal (and not under --json with stdout piped). */
  progress: boolean
  /**
   * The width tables must fit: the terminal's columns (COLUMNS wins) when stdout is a terminal and --wide was
   * not given; undefined otherwise (piped output keeps every column, whole, for scripts).
   */
  width: number | undefined
  style: ChalkInstance
}

interface Stream {
  isTTY?: boolean
  columns?: number
}

/** The terminal's width for tables: COLUMNS when it is a positive number, else the stream's own columns. */
export function terminalWidth(env: NodeJS.ProcessEnv, stdout: Stream): number | undefined {
  const fromEnv = /^\d+$/.test(env.COLUMNS ?? '') ? Number(env.COLUMNS) : 0
  const width = fromEnv > 0 ? fromEnv : (stdout.columns ?? 0)
  return width > 0 ? width : undefined
}

/** --color/--no-color, then NO_COLOR, FORCE_COLOR, TERM=dumb, then whether stdout is a terminal. */
export function colorWanted(flag: boolean | undefined, env: NodeJS.ProcessEnv, stdout: Stream): boolean {
  if (flag !== undefined) return flag
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined) return !['0', 'false'].includes(env.FORCE_COLOR.toLowerCase())
  if (env.TERM === 'dumb') return false
  return Boolean(stdout.isTTY)
}

export function outputSettings(
  colorFlag: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
  stdout: Stream = process.stdout,
  stderr: Stream = process.stderr,
  options: {wide?: boolean; json?: boolean} = {},
): OutputSettings {
  const color = colorWanted(colorFlag, env, stdout)
  return {
    color,
    humanTimes: Boolean(stdout.isTTY),
    progress: Boolean(stderr.isTTY) && env.TERM !== 'dumb' && !(options.json && !stdout.isTTY),
    width: stdout.isTTY && !options.wide ? terminalWidth(env, stdout) : undefined,
    style: new Chalk({level: color ? 1 : 0}),
  }
}

export function writeStdout(text: string): void {
  clearProgressLine()
  process.stdout.write(redact(text.endsWith('\n') ? text : `${text}\n`))
}

export function writeStderr(text: string): void {
  clearProgressLine()
  process.stderr.write(redact(text.endsWith('\n') ? text : `${text}\n`))
}

export function writeJson(value: unknown): void {
  writeStdout(JSON.stringify(value, null, 2))
}

/** An age on a terminal, ISO-8601 UTC otherwise. */
export function formatTime(iso: string | null | undefined, settings: Pick<OutputSettings, 'humanTimes'>, nowMs: number): string {
  if (!iso) return ''
  return settings.humanTimes ? formatAge(Date.parse(iso), nowMs) : iso
}
