/**
 * Time as operators type it and as ehcp shows it, pure: durations ("90s", "2m", "1h30m", "1500ms", "2d", or
 * ISO-8601 "PT2H", "P1DT2H") and ISO-8601 times read; ages, durations and file-name stamps written.
 * (Whether a time is shown as an age depends on the terminal: output/terminal.ts formatTime.)
 */
import {usageError} from './errors.js'

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** A duration in milliseconds; `flag` names the input in the usage error. */
export function parseDuration(text: string, flag: string): number {
  const input = text.trim()
  const iso = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(input)
  if (iso && input.length > 1 && !/T$/i.test(input)) {
    const [, d = '0', h = '0', m = '0', s = '0'] = iso
    const ms = Math.round(Number(d) * UNIT_MS.d! + Number(h) * UNIT_MS.h! + Number(m) * UNIT_MS.m! + Number(s) * UNIT_MS.s!)
    if (Number.isSafeInteger(ms)) return ms
  }
  const parts = [...input.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/gi)]
  if (parts.length > 0 && parts.map((p) => p[0]).join('') === input) {
    const ms = Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!.toLowerCase()]!, 0))
    // A number of digits no double holds is no duration (it would become Infinity).
    if (Number.isSafeInteger(ms)) return ms
  }
  throw usageError(`${flag} ${JSON.stringify(text)} is not a duration.`, 'Use e.g. 90s, 2m, 1h30m, 2d or ISO-8601 PT2H.')
}

/** The time `text` (a duration) before `nowMs`: --by-duration. */
export function durationAgo(text: string, flag: string, nowMs: number): Date {
  const at = new Date(nowMs - parseDuration(text, flag))
  if (Number.isNaN(at.getTime()))
    throw usageError(`${flag} ${JSON.stringify(text)} reaches before any time there is.`, 'Use e.g. 90s, 2m, 1h30m, 2d or ISO-8601 PT2H.')
  return at
}

/**
 * ISO-8601 with a zone ("Z" or "+01:00"): a time without one means different things on different machines.
 * A day the month does not have (Date.parse reads 2026-02-30 as March 2) is refused.
 */
export function parseDateTime(text: string, flag: string): Date {
  const date = /^(\d{4})-(\d\d)-(\d\d)T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.exec(text.trim())
  const lastDay = new Date(0)
  if (date) lastDay.setUTCFullYear(Number(date[1]), Number(date[2]), 0)
  const realDay = date !== null && Number(date[3]) <= lastDay.getUTCDate()
  const ms = realDay ? Date.parse(text.trim()) : NaN
  if (Number.isNaN(ms))
    throw usageError(
      `${flag} ${JSON.stringify(text)} is not an ISO-8601 time with a zone.`,
      'e.g. 2026-11-26T09:40:00Z or 2026-11-26T10:40:00+01:00',
    )
  return new Date(ms)
}

/** "12s ago", "3m ago", "5h ago", "2d ago" (or "in 4s" for a clock ahead of ours). */
export function formatAge(timeMs: number, nowMs: number): string {
  const diff = nowMs - timeMs
  const abs = Math.abs(diff)
  const [value, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.floor(abs / 60_000), 'm']
        : abs < 86_400_000
          ? [Math.floor(abs / 3_600_000), 'h']
          : [Math.floor(abs / 86_400_000), 'd']
  return diff >= 0 ? `${value}${unit} ago` : `in ${value}${unit}`
}

/** "45s", "3m 20s", "5h 02m", "2d 4h". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`
}

/** A UTC time as a file name can carry it: 20261126T094000Z. */
export function fileStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
