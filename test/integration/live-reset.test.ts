/**
 * `reset --live` end to end: fleets of real processors (`@azure/event-hubs` with the official blob checkpoint
 * store, local/live-processors.ts) on 32 partitions of the Event Hubs stand-in, with events arriving throughout.
 * For one balanced processor, three balanced ones and three greedy ones, two live rewinds in a row of most (not all)
 * partitions: every targeted partition is closed once (OwnershipLost) and read on from exactly the first event
 * enqueued at or after the time asked for; no other partition is disturbed, no processor reports an error but the
 * detach itself, and nothing stays held by ehcp.
 */
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {Fleet, startProducer} from '../../local/live-processors.js'
import type {ChangeResult} from '../../src/change/execute.js'
import {LIVE_OWNER_LEVEL} from '../../src/change/live.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {liveResetArgs} from '../support/live-args.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {sleep, waitFor} from '../support/wait.js'

const PARTITIONS = 32
const IDS = Array.from({length: PARTITIONS}, (_, p) => String(p))
/** Left out of the scope: they must not notice the run. */
const OUTSIDE = new Set(['3', '12', '21', '30'])
const SCOPE = IDS.filter((p) => !OUTSIDE.has(p))
/** The load-balancing cycles after a run in which the processors could still react to it (stealing, say). */
const AFTERMATH_MS = 3000
/** How long no partition must have moved before a run: several load-balancing cycles. */
const QUIET_MS = 5000

const FLEETS = [
  {count: 1, strategy: 'balanced'},
  {count: 3, strategy: 'balanced'},
  {count: 3, strategy: 'greedy'},
] as const

describe('reset --live end to end: 32 partitions, real processors, events arriving', function () {
  this.timeout(240_000)
  let hubs: EventHubsStandin

  before(async () => {
    hubs = await EventHubsStandin.start()
  })
  after(async () => {
    await hubs?.stop()
  })

  for (const config of FLEETS) {
    describe(`${config.count} ${config.strategy} processor(s)`, () => {
      const hub = `live-${config.count}-${config.strategy}`
      let c: TestContainer
      let producer: {stop(): void} | undefined
      let fleet: Fleet | undefined

      const ehcp = (args: string[]) =>
        runEhcp([...args, '--emulator', '--container', c.name], {
          env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${c.azurite.host}/devstoreaccount1`, EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
          timeoutMs: 150_000,
        })

      before(async () => {
        c = await freshContainer()
        hubs.createHub(hub, PARTITIONS, ['ehcp'])
        producer = startProducer(hubs, hub, PARTITIONS)
        fleet = new Fleet(config.count, {hubs, hub, consumerGroup: '$Default', container: c.client, strategy: config.strategy})
        await fleet.steady(PARTITIONS, 30, 90_000)
      })
      after(async () => {
        producer?.stop()
        await fleet?.stop()
        await c?.dispose()
      })

      /**
       * A time `agoMs` in the past that every partition has been processed well past (half a second): the enqueued
       * time of an event of partition 0 (the producer appends to every partition at once, so most partitions have an
       * event enqueued at exactly that time: the "at or after" edge).
       */
      async function processedTime(agoMs: number): Promise<number> {
        const from = Date.now() - agoMs
        const T = hubs
          .events(hub, '0')
          .find((e) => e.enqueuedTimeUtc.getTime() >= from)!
          .enqueuedTimeUtc.getTime()
        await waitFor(
          'every partition processed past the time',
          () => IDS.every((p) => fleet!.processedOf(p).some((e) => e.enqueuedTimeUtc > T + 500)),
          30_000,
          100,
        )
        return T
      }

      /**
       * Waits until no partition has changed hands (no claim, open or close) for QUIET_MS (after a run, the processors claim back what ehcp
       * released, and greedy ones may still even out), so that whatever moves during the next run is the run's doing.
       */
      async function quiet(): Promise<Map<string, string>> {
        const f = fleet!
        const lastMove = () => Math.max(0, ...fleet!.processors.flatMap((x) => [...x.opens, ...x.closes].map((m) => m.at)))
        const deadline = Date.now() + 90_000
        for (;;) {
          // The claims too: a claim written is seen as a move only once the claiming processor opens the partition.
          const before = JSON.stringify([...(await ownership())].sort())
          await waitFor(`no partition moved for ${QUIET_MS}ms`, () => Date.now() - lastMove() > QUIET_MS, 60_000, 100)
          const owners = await ownership()
          // And consistent: each partition read by exactly the processor its blob names. The SDK does not stop a pump
          // whose ownership another processor took until that one's receiver detaches it, and a processor renews
          // only partitions it reads: a fleet can sit quiet with a partition read by one and owned by another, and
          // settle it later (a detach in the middle of a run that is not the run's doing).
          const pumps = f.pumping()
          const consistent = [...owners].every(([p, owner]) => JSON.stringify(pumps.get(p) ?? []) === JSON.stringify([owner]))
          if (consistent && JSON.stringify([...owners].sort()) === before && Date.now() - lastMove() > QUIET_MS) return owners
          if (Date.now() > deadline)
            throw new Error(`the fleet kept moving partitions, or reading what others own: ${JSON.stringify([...pumps])}`)
          await sleep(500)
        }
      }

      /** The owner id of each partition's ownership blob, by partition id. */
      async function ownership(): Promise<Map<string, string>> {
        const owners = new Map<string, string>()
        for await (const blob of c.client.listBlobsFlat({includeMetadata: true}))
          if (/\/ownership\/\d+$/.test(blob.name)) owners.set(blob.name.split('/').at(-1)!, blob.metadata?.ownerid ?? '')
        return owners
      }

      /** One live rewind of SCOPE to `T`, and everything the processors saw of it. */
      async function liveResetTo(T: number): Promise<void> {
        const f = fleet!
        const firstAtOrAfter = new Map(
          SCOPE.map((p) => [p, hubs.events(hub, p).find((e) => e.enqueuedTimeUtc.getTime() >= T)!.sequenceNumber]),
        )
        const processedBefore = new Map(SCOPE.map((p) => [p, f.processedOf(p).at(-1)!.sequenceNumber]))
        // How the fleet shared the partitions before the run (for the failure messages).
        const shares = new Map<string, string[]>()
        for (const [p, owner] of await quiet()) shares.set(owner.slice(0, 8), [...(shares.get(owner.slice(0, 8)) ?? []), p])
        const start = Date.now()
        const r = await ehcp(
          liveResetArgs(hub, ['--partition', SCOPE.join(','), '--to-datetime', new Date(T).toISOString()], {wait: '60s'}),
        )
        const end = Date.now()
        await sleep(AFTERMATH_MS)
        const during = <T extends {at: number}>(list: T[]) => list.filter((x) => x.at >= start && x.at <= end + AFTERMATH_MS)
        const closes = during(f.closes())
        const errors = during(f.errors())
        // What happened to partition p during the run, by processor, in ms from the run's start.
        const timeline = (p: string) =>
          JSON.stringify(
            [
              ...f.processors.flatMap((x) =>
                x.opens.filter((o) => o.partitionId === p).map((o) => ({owner: x.ownerId, at: o.at, what: 'open'})),
              ),
              ...closes.filter((x) => x.partitionId === p).map((x) => ({owner: x.ownerId, at: x.at, what: `close ${x.reason}`})),
              ...errors
                .filter((x) => x.partitionId === p)
                .map((x) => ({owner: x.ownerId, at: x.at, what: `${(x.error as {code?: string}).code}: ${x.error.message.slice(0, 140)}`})),
            ]
              .filter((x) => x.at >= start)
              .sort((a, b) => a.at - b.at)
              .map((x) => ({...x, at: x.at - start})),
          )
        const evidence = () =>
          `run ${end - start}ms; owners before: ${JSON.stringify(Object.fromEntries(shares))}; closes: ${JSON.stringify(
            closes.map((x) => `${x.partitionId} by ${x.ownerId.slice(0, 8)}: ${x.reason} @${x.at - start}`),
          )}`
        expect(r.code, describeRun(r)).to.equal(0)
        const report = r.json<ChangeResult>()
        expect(report.partitions.map((row) => row.partitionId).sort(), 'the rows are the scope').to.deep.equal([...SCOPE].sort())

        // Only the targeted partitions were closed, each once, by the detach (from whoever held it).
        const outside = closes.filter((x) => OUTSIDE.has(x.partitionId))
        expect(
          outside.map((x) => `${x.partitionId}: ${timeline(x.partitionId)}`),
          `partitions outside the scope were closed; ${evidence()}`,
        ).to.deep.equal([])
        for (const p of SCOPE) {
          const mine = closes.filter((x) => x.partitionId === p)
          expect(
            mine.map((x) => x.reason),
            `partition ${p} was closed otherwise than once by the detach: ${timeline(p)}; ${evidence()}`,
          ).to.deep.equal(['OwnershipLost'])
        }
        expect(closes, evidence()).to.have.length(SCOPE.length)
        // The SDK reports a detach to processError before it closes the partition (as the receiver's detach, or as
        // its reconnect refused): that one error per targeted partition, naming ehcp's owner level, and no other.
        const detach = (x: {partitionId: string; error: Error}) =>
          SCOPE.includes(x.partitionId) &&
          (x.error as {code?: string}).code === 'ReceiverDisconnectedError' &&
          x.error.message.includes(`higher epoch of '${LIVE_OWNER_LEVEL}'`)
        const others = errors.filter((x) => !detach(x))
        expect(
          others.map((x) => `partition '${x.partitionId}': ${x.error.message}; ${x.partitionId ? timeline(x.partitionId) : ''}`),
          'errors other than the detach',
        ).to.deep.equal([])
        expect(errors.map((x) => x.partitionId).sort(), 'one detach reported per targeted partition').to.deep.equal([...SCOPE].sort())

        for (const row of report.partitions) {
          const p = row.partitionId
          const expected = firstAtOrAfter.get(p)!
          expect(row.status, JSON.stringify(row)).to.equal('updated')
          expect(row.live?.verdict, JSON.stringify(row)).to.equal('resumed')
          expect((row.after as {sequenceNumber: number}).sequenceNumber, JSON.stringify(row)).to.equal(expected - 1)
          // A real rewind: the processors had already read past the event they must read again.
          expect(processedBefore.get(p), `partition ${p}`).to.be.above(expected)
          const close = closes.find((x) => x.partitionId === p)!
          const first = f.processedOf(p).find((e) => e.at > close.at)
          expect(
            first?.sequenceNumber,
            `partition ${p}: the first event processed after the detach: ${JSON.stringify({row, first: first && {...first, at: first.at - start}})}; ${timeline(p)}`,
          ).to.equal(expected)
        }

        // Nothing is left held by ehcp: every ownership blob names one of the fleet's processors.
        const owners = await ownership()
        expect([...owners.keys()].sort(), 'an ownership blob per partition').to.deep.equal([...IDS].sort())
        const fleetIds = new Set(f.processors.map((x) => x.ownerId))
        for (const [p, owner] of owners) expect(fleetIds.has(owner), `partition ${p} is owned by '${owner}'`).to.equal(true)
      }

      it('rewinds most partitions to a time a few seconds back: each resumes at the first event enqueued then', async () => {
        await liveResetTo(await processedTime(4000))
      })

      it('and again right after, to a later time', async () => {
        await liveResetTo(await processedTime(2000))
      })
    })
  }
})
