/**
 * Where output goes and how it looks: colour and human-friendly ages only on a terminal, decided once.
 * Every byte written passes through redact().
 */
import {Chalk, type ChalkInstance} from 'chalk'

import {redact} from '../redact.js'
import {formatAge} from '../time.js'

export interface OutputSettings {
  /** Colour on stdout tables. */
  color: boolean
  /** Ages ("3m ago") instead of ISO-8601 UTC times: stdout is a terminal. */
  humanTimes: boolean
  /** Progress is shown only when stderr is a terminal. */
  progress: boolean
  style: ChalkInstance
}

interface Stream {
  isTTY?: boolean
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
): OutputSettings {
  const color = colorWanted(colorFlag, env, stdout)
  return {
    color,
    humanTimes: Boolean(stdout.isTTY),
    progress: Boolean(stderr.isTTY) && env.TERM !== 'dumb',
    style: new Chalk({level: color ? 1 : 0}),
  }
}

export function writeStdout(text: string): void {
  process.stdout.write(redact(text.endsWith('\n') ? text : `${text}\n`))
}

export function writeStderr(text: string): void {
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
