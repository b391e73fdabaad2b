/**
 * Which partitions `--live` takes next, so that the processors' load balancing does not move other partitions
 * while ehcp holds a batch. Processors count every owner with a fresh claim, ehcp's owner id included, and each
 * aims at its share of the partitions: one that ehcp leaves below its share claims the difference, first from
 * unclaimed partitions, then by stealing from owners above their share, which closes a partition ehcp was never
 * asked to touch (or a targeted one twice). The model below is the share arithmetic of the current SDKs' load
 * balancing (JavaScript's listAvailablePartitions; .NET, Java and Python compute the same minimum and the same
 * count of owners allowed one extra); a batch is grown one partition at a time while the partitions the processors
 * would want to claim stay within those left unclaimed.
 */

/** Partitions each owner holds now, by owner id; `unclaimed` counts partitions with no live claim. */
export interface Claims {
  owners: Map<string, number>
  unclaimed: number
}

/** How many partitions `owner` would claim in its next load-balancing cycle (0 when it would claim none). */
export function wantedBy(owner: string, claims: Claims): number {
  const counts = [...claims.owners.values()]
  const partitions = counts.reduce((a, b) => a + b, 0) + claims.unclaimed
  if (partitions === 0 || claims.owners.size === 0) return 0
  const min = Math.floor(partitions / claims.owners.size)
  const extra = partitions % claims.owners.size
  const withExtra = counts.filter((n) => n === min + 1).length
  const withMore = counts.filter((n) => n > min + 1).length
  const exact = counts.filter((n) => n === min).length
  // Balanced: every owner at its share, and as many with one extra as the division leaves over.
  if (withExtra === extra && exact + withExtra === claims.owners.size) return 0
  const target = extra > 0 && withExtra + withMore < extra ? min + 1 : min
  return Math.max(0, target - (claims.owners.get(owner) ?? 0))
}

/**
 * Partitions the processors (every owner but `self`) would steal from one another, or from `self`, before they are
 * balanced again: each in turn claims what it wants, from the unclaimed partitions while there are any, and takes
 * the rest from the owner holding the most, as their load balancing does cycle after cycle.
 */
export function stealsIn(claims: Claims, self: string): number {
  const owners = new Map(claims.owners)
  let unclaimed = claims.unclaimed
  let steals = 0
  const processors = [...owners.keys()].filter((o) => o !== self).sort()
  for (let round = 0; round < 2 * processors.length + 2; round++) {
    let moved = false
    for (const owner of processors) {
      const want = wantedBy(owner, {owners, unclaimed})
      if (want === 0) continue
      moved = true
      const free = Math.min(want, unclaimed)
      unclaimed -= free
      owners.set(owner, owners.get(owner)! + free)
      for (let n = want - free; n > 0; n--) {
        const victim = [...owners.entries()].filter(([o]) => o !== owner).sort((a, b) => b[1] - a[1])[0]
        if (!victim || victim[1] === 0) break
        if (victim[1] === 1) owners.delete(victim[0])
        else owners.set(victim[0], victim[1] - 1)
        owners.set(owner, owners.get(owner)! + 1)
        steals++
      }
    }
    if (!moved) break
  }
  return steals
}

export interface Candidate<T> {
  item: T
  /** Its live owner now (null: unclaimed or expired). */
  owner: string | null
}

/**
 * Up to `size` of `remaining` for the next batch, held under `self`: taken one at a time from the owner holding the
 * most (unclaimed partitions first), each only if the processors would not then have to steal more than they would
 * without it. At least one is taken (a batch that can take none without a steal takes the least harmful one).
 */
export function nextBatch<T>(remaining: Array<Candidate<T>>, claims: Claims, self: string, size: number): T[] {
  const state: Claims = {owners: new Map(claims.owners), unclaimed: claims.unclaimed}
  state.owners.delete(self)
  const baseline = stealsIn(state, self)
  const left = [...remaining]
  const batch: T[] = []
  const take = (c: Candidate<T>, into: Claims): Claims => {
    const next: Claims = {owners: new Map(into.owners), unclaimed: into.unclaimed}
    if (c.owner !== null && next.owners.has(c.owner)) {
      const n = next.owners.get(c.owner)! - 1
      if (n > 0) next.owners.set(c.owner, n)
      else next.owners.delete(c.owner)
    } else next.unclaimed--
    next.owners.set(self, (next.owners.get(self) ?? 0) + 1)
    return next
  }
  const load = (c: Candidate<T>) => (c.owner === null || !state.owners.has(c.owner) ? Infinity : state.owners.get(c.owner)!)
  while (batch.length < size && left.length > 0) {
    // The owner holding the most gives first; unclaimed partitions cost no processor anything.
    const order = left.map((c, i) => ({c, i})).sort((a, b) => load(b.c) - load(a.c) || a.i - b.i)
    const fit = order.find(({c}) => stealsIn(take(c, state), self) <= baseline)
    const chosen =
      fit ??
      (batch.length === 0
        ? order.reduce((best, x) => (stealsIn(take(x.c, state), self) < stealsIn(take(best.c, state), self) ? x : best))
        : undefined)
    if (!chosen) break
    Object.assign(state, take(chosen.c, state))
    batch.push(chosen.c.item)
    left.splice(left.indexOf(chosen.c), 1)
  }
  return batch
}
