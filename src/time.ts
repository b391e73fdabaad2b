/** Durations as operators type them: "90s", "2m", "1h30m", "1500ms", "2d", or ISO-8601 "PT2H", "P1DT2H". */
import {usageError} from './errors.js'

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

export function parseDuration(text: string, flag: string): number {
  const input = text.trim()
  const iso = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(input)
  if (iso && input.length > 1 && !/T$/i.test(input)) {
    const [, d = '0', h = '0', m = '0', s = '0'] = iso
    return Math.round(Number(d) * UNIT_MS.d! + Number(h) * UNIT_MS.h! + Number(m) * UNIT_MS.m! + Number(s) * UNIT_MS.s!)
  }
  const parts = [...input.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/gi)]
  if (parts.length > 0 && parts.map((p) => p[0]).join('') === input) {
    return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!.toLowerCase()]!, 0))
  }
  throw usageError(`${flag} ${JSON.stringify(text)} is not a duration.`, 'Use e.g. 90s, 2m, 1h30m, 2d or ISO-8601 PT2H.')
}
