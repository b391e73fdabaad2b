/**
 * --live's batch choice: the share arithmetic is judged against the real SDK's load balancing
 * (`listAvailablePartitions` of `@azure/event-hubs`, loaded from its file), and batches never make processors steal
 * where another choice would not.
 */
import {createRequire} from 'node:module'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {expect} from 'chai'
import fc from 'fast-check'

import {type Candidate, type Claims, nextBatch, stealsIn, wantedBy} from '../../src/change/live-batches.js'

type ListAvailable = (
  ownerId: string,
  claimed: Map<string, {partitionId: string; ownerId: string; lastModifiedTimeInMs: number}>,
  partitionIds: string[],
  expirationMs: number,
) => string[]

/** The SDK's own function (internal: not in its package exports, so loaded by path). */
async function sdkListAvailable(): Promise<ListAvailable> {
  const entry = createRequire(import.meta.url).resolve('@azure/event-hubs')
  const root = entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`))
  const file = path.join(root, 'dist', 'esm', 'loadBalancerStrategies', 'loadBalancingStrategy.js')
  return ((await import(pathToFileURL(file).href)) as {listAvailablePartitions: ListAvailable}).listAvailablePartitions
}

/** A claims map for the SDK: owner i holds counts[i] partitions, then `unclaimed` partitions nobody holds. */
function sdkState(counts: number[], unclaimed: number) {
  const claimed = new Map<string, {partitionId: string; ownerId: string; lastModifiedTimeInMs: number}>()
  let p = 0
  counts.forEach((n, i) => {
    for (let k = 0; k < n; k++, p++) claimed.set(String(p), {partitionId: String(p), ownerId: `o${i}`, lastModifiedTimeInMs: Date.now()})
  })
  const ids = Array.from({length: p + unclaimed}, (_, i) => String(i))
  return {claimed, ids}
}

const claimsOf = (counts: number[], unclaimed: number): Claims => ({
  owners: new Map(counts.flatMap((n, i) => (n > 0 ? [[`o${i}`, n] as const] : []))),
  unclaimed,
})

const candidates = (owner: string | null, n: number, from = 0): Array<Candidate<string>> =>
  Array.from({length: n}, (_, i) => ({item: `${owner ?? 'free'}-${from + i}`, owner}))

describe('live batches: the share arithmetic of the processors’ load balancing', () => {
  it('wants what the SDK would claim, for every owner of random claims (judged by @azure/event-hubs itself)', async () => {
    const listAvailable = await sdkListAvailable()
    let judged = 0
    fc.assert(
      fc.property(
        fc.array(fc.integer({min: 1, max: 12}), {minLength: 1, maxLength: 6}),
        fc.integer({min: 0, max: 40}),
        (counts, unclaimed) => {
          const {claimed, ids} = sdkState(counts, unclaimed)
          const claims = claimsOf(counts, unclaimed)
          for (let i = 0; i < counts.length; i++) {
            const sdk = listAvailable(`o${i}`, claimed, ids, 60_000).length
            const want = wantedBy(`o${i}`, claims)
            // The SDK claims what it wants from the unclaimed, and steals the rest where owners are above their share.
            if (want <= unclaimed) expect(sdk, JSON.stringify({counts, unclaimed, owner: i})).to.equal(want)
            else expect(sdk, JSON.stringify({counts, unclaimed, owner: i})).to.be.at.most(want)
            judged++
          }
          // A processor that owns nothing yet wants its share too.
          const newcomer = listAvailable('new', claimed, ids, 60_000).length
          const withNewcomer: Claims = {owners: new Map([...claims.owners, ['new', 0]]), unclaimed}
          if (wantedBy('new', withNewcomer) <= unclaimed) expect(newcomer).to.equal(wantedBy('new', withNewcomer))
        },
      ),
      {numRuns: 300},
    )
    expect(judged).to.be.greaterThan(300)
  })

  it('counts no steal when released partitions cover what every processor wants, claimed in turn', () => {
    // 32 partitions, 3 processors just given back 4: their independent wants add up to 5, but in turn they need 4.
    expect(stealsIn(claimsOf([9, 10, 9], 4), 'ehcp')).to.equal(0)
    expect(stealsIn(claimsOf([11, 11, 10], 0), 'ehcp')).to.equal(0)
  })

  it('counts the steals of a processor left below its share with nothing unclaimed', () => {
    // ehcp holds 4, all taken from o0: o0 has 7 of 32 with 4 owners (share 8) and must steal one.
    const claims: Claims = {
      owners: new Map([
        ['o0', 7],
        ['o1', 11],
        ['o2', 10],
        ['ehcp', 4],
      ]),
      unclaimed: 0,
    }
    expect(stealsIn(claims, 'ehcp')).to.equal(1)
  })
})

describe('live batches: which partitions a batch takes', () => {
  it('takes no more from one processor than it can give without falling below its share', () => {
    // Every remaining target belongs to o0 (11 of 32, three processors): with ehcp a fourth owner, the share is 8.
    const batch = nextBatch(candidates('o0', 6), claimsOf([11, 11, 10], 0), 'ehcp', 4)
    expect(batch).to.deep.equal(['o0-0', 'o0-1', 'o0-2'])
  })

  it('takes from the owner holding the most first, and unclaimed partitions before any', () => {
    const remaining = [...candidates('o0', 3), ...candidates('o1', 3), ...candidates(null, 1)]
    const batch = nextBatch(remaining, claimsOf([10, 12, 10], 1), 'ehcp', 3)
    expect(batch).to.deep.equal(['free-0', 'o1-0', 'o1-1'])
  })

  it('takes a whole batch from a single processor up to half the partitions', () => {
    expect(nextBatch(candidates('o0', 32), claimsOf([32], 0), 'ehcp', 8)).to.have.length(8)
    // With ehcp as a second owner of 32, the processor's share is 16: a batch of 20 stops at 16.
    expect(nextBatch(candidates('o0', 32), claimsOf([32], 0), 'ehcp', 20)).to.have.length(16)
  })

  it('takes a whole batch when no processor runs', () => {
    expect(nextBatch(candidates(null, 10), {owners: new Map(), unclaimed: 10}, 'ehcp', 4)).to.have.length(4)
  })

  it('always takes at least one, and never makes processors steal where the state alone would not (random fleets)', () => {
    let batches = 0
    fc.assert(
      fc.property(
        fc.array(fc.integer({min: 1, max: 16}), {minLength: 1, maxLength: 5}),
        fc.integer({min: 0, max: 8}),
        fc.integer({min: 1, max: 8}),
        (counts, unclaimed, size) => {
          const claims = claimsOf(counts, unclaimed)
          const remaining = [...counts.flatMap((n, i) => candidates(`o${i}`, n)), ...candidates(null, unclaimed)]
          const batch = nextBatch(remaining, claims, 'ehcp', size)
          expect(batch.length).to.be.within(1, size)
          // Apply the batch and compare the steals with those of the state as it was.
          const after: Claims = {owners: new Map(claims.owners), unclaimed: claims.unclaimed}
          for (const item of batch) {
            const owner = remaining.find((c) => c.item === item)!.owner
            if (owner === null) after.unclaimed--
            else after.owners.set(owner, after.owners.get(owner)! - 1)
          }
          for (const [o, n] of [...after.owners]) if (n === 0) after.owners.delete(o)
          after.owners.set('ehcp', batch.length)
          const before = stealsIn(claims, 'ehcp')
          if (batch.length > 1) expect(stealsIn(after, 'ehcp'), JSON.stringify({counts, unclaimed, size, batch})).to.be.at.most(before)
          batches++
        },
      ),
      {numRuns: 500},
    )
    expect(batches).to.equal(500)
  })
})
