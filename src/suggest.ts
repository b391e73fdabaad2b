/**
 * "Did you mean …?" for a mistyped command or flag: the nearest known name, or none when nothing is near
 * enough to be a typo (a suggestion for every stray word would mislead).
 */

/**
 * Edits from `a` to `b`: insertions, deletions, substitutions, and swaps of two neighbouring characters
 * (`shwo` is one edit from `show`), each costing 1; compared case-insensitively.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  // rows[i][j]: edits from the first i characters of s to the first j of t.
  const rows: number[][] = Array.from({length: s.length + 1}, (_, i) =>
    Array.from({length: t.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      rows[i]![j] = best
    }
  }
  return rows[s.length]![t.length]!
}

/**
 * The candidate `input` most likely meant, or undefined. Near enough: at most a third of the longer name's
 * letters differ (at least one edit allowed, so `lst` finds `list`), or `input` is the start of exactly one
 * candidate and at least 3 characters long (`release` finds `release-ownership`). Ties go to the first
 * candidate given.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const word = input.trim()
  if (word === '') return undefined
  let best: {name: string; distance: number} | undefined
  for (const name of candidates) {
    const distance = editDistance(word, name)
    const allowed = Math.max(1, Math.floor(Math.max(word.length, name.length) / 3))
    if (distance <= allowed && (!best || distance < best.distance)) best = {name, distance}
  }
  if (best) return best.name
  const extending = candidates.filter((name) => name.toLowerCase().startsWith(word.toLowerCase()))
  return word.length >= 3 && extending.length === 1 ? extending[0] : undefined
}
