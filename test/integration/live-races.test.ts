/**
 * `reset --live` racing what a running fleet and its infrastructure do to it: a processor taking a partition while
 * ehcp holds it, a processor killed without releasing its claims, storage failing mid-way, Event Hubs dropping
 * ehcp's connection or refusing its hold, and Ctrl-C / SIGTERM mid-way through a run of several batches. Each race
 * ends with every partition owned by a real processor again (none by ehcp-live-*), each targeted partition either
 * rewound (its processor read the rewound event again after ehcp began) or reported (conflict / failed, or
 * lost / not-yet, with a reason), and an exit code of docs/cli-contract.md (never 1).
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {EventHubConsumerClient} from '@azure/event-hubs'
import type {ContainerClient} from '@azure/storage-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {startLatencyProxy} from '../../local/latency-proxy.js'
import type {ChangeResult, PartitionResult} from '../../src/change/execute.js'
import {describeRun, runEhcp, type CliResult, type RunOptions} from '../support/cli.js'
import {liveResetArgs} from '../support/live-args.js'
import {startFaultProxy} from '../support/fault-proxy.js'
import {Fleet, startProducer} from '../../local/live-processors.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {startStatusProxy, storageError} from '../support/status-proxy.js'
import {sleep} from '../support/wait.js'

const PARTITIONS = 4
const IDS = Array.from({length: PARTITIONS}, (_, p) => String(p))
/** The processors' claim expiry: a killed processor's claims (and a killed ehcp's) lapse after it. */
const EXPIRY_MS = 6000
const CHILD = fileURLToPath(new URL('../support/live-processor-child.js', import.meta.url))

interface Owned {
  ownerId: string
  etag: string
  name: string
  metadata: Record<string, string>
}

/** The ownership blobs of the container's one group, by partition. */
async function ownerships(container: ContainerClient): Promise<Map<string, Owned>> {
  const out = new Map<string, Owned>()
  for await (const b of container.listBlobsFlat({includeMetadata: true})) {
    const m = /\/ownership\/(\d+)$/.exec(b.name)
    if (m) out.set(m[1]!, {ownerId: b.metadata?.ownerid ?? '', etag: b.properties.etag!, name: b.name, metadata: b.metadata ?? {}})
  }
  return out
}

const describeOwners = (owned: Map<string, Owned>) => JSON.stringify(Object.fromEntries([...owned].map(([p, o]) => [p, o.ownerId])))

/** Waits until every partition is owned by one of `owners` (never ehcp); throws with who owns what. */
async function untilProcessorsOwnAll(container: ContainerClient, owners: string[], timeoutMs = 30_000): Promise<Map<string, Owned>> {
  const deadline = Date.now() + timeoutMs
  let owned = new Map<string, Owned>()
  while (Date.now() < deadline) {
    owned = await ownerships(container)
    if (IDS.every((p) => owners.includes(owned.get(p)?.ownerId ?? ''))) return owned
    await sleep(250)
  }
  throw new Error(`processors (${owners.join(', ')}) did not own every partition within ${timeoutMs / 1000}s: ${describeOwners(owned)}`)
}

/**
 * Polls the ownership blobs every few ms while ehcp runs, calling `onLive` for each partition seen held by
 * ehcp-live-* (every poll it is seen in); `seen` keeps when each partition was first seen so.
 */
function watchLive(container: ContainerClient, onLive: (partitionId: string, owned: Owned) => Promise<void> | void = () => undefined) {
  const seen = new Map<string, number>()
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const owned = await ownerships(container).catch(() => new Map<string, Owned>())
      for (const [p, o] of owned) {
        if (!o.ownerId.startsWith('ehcp-live-')) continue
        if (!seen.has(p)) seen.set(p, Date.now())
        await onLive(p, o)
      }
      await sleep(20)
    }
  })()
  return {
    seen,
    stop: async () => {
      stopped = true
      await loop
    },
  }
}

/**
 * Each targeted row is rewound or reported: `resumed` only if a processor of `fleet` processed the rewound event
 * again after ehcp was first seen holding the partition (`held`: before that, it was the first reading of that
 * event); otherwise a reason. Returns the partitions of each kind.
 */
function checkRows(report: ChangeResult, fleet: Fleet, held: Map<string, number>, run: CliResult) {
  const kinds = {resumed: [] as string[], reported: [] as string[]}
  const readAgain = (row: PartitionResult) => {
    const after = (row.after as {sequenceNumber: number}).sequenceNumber
    return fleet.processedOf(row.partitionId).some((e) => e.at > held.get(row.partitionId)! && e.sequenceNumber === after + 1)
  }
  expect(report.partitions, describeRun(run)).to.have.length(PARTITIONS)
  for (const row of report.partitions) {
    const text = `${JSON.stringify(row)}\n${describeRun(run)}`
    // Every failure is one the contract names, none taken for a bug of ehcp's.
    expect(`${row.reason ?? ''} ${row.live?.detail ?? ''}`, text).to.not.match(/Unexpected failure|bug in ehcp/i)
    // Processors only move forward: what ehcp replaced is at least 30 past the new position.
    if (row.status === 'updated') expect(row.delta, `the report says nothing was rewound: ${text}`).to.be.at.least(30)
    // ehcp wrote only partitions it held, and the watcher saw it hold them.
    if (row.status === 'updated') expect(held.has(row.partitionId), `written, but never seen held by ehcp: ${text}`).to.equal(true)
    if (row.status === 'updated' && row.live?.verdict === 'resumed') {
      expect(readAgain(row), `reported resumed, but no processor read the event after the new position again: ${text}`).to.equal(true)
      kinds.resumed.push(row.partitionId)
    } else {
      expect(['updated', 'conflict', 'failed'], text).to.include(row.status)
      if (row.status === 'updated') expect(row.live?.detail, text).to.be.a('string').and.not.be.empty
      else expect(row.reason, text).to.be.a('string').and.not.be.empty
      kinds.reported.push(row.partitionId)
    }
  }
  return kinds
}

describe('reset --live: races with a running fleet', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let fleet: Fleet
  let producer: {stop(): void}
  let hub: string
  let hubCount = 0
  const children: ChildProcess[] = []

  before(async () => {
    hubs = await EventHubsStandin.start()
  })
  after(async () => {
    await hubs.stop()
  })

  /** A hub of its own, a producer, and `count` balanced processors settled on it. */
  async function scene(count: number, intervalMs = 500): Promise<void> {
    c = await freshContainer()
    hub = `races${hubCount++}`
    hubs.createHub(hub, PARTITIONS, ['ehcp'])
    producer = startProducer(hubs, hub, PARTITIONS, 50)
    fleet = new Fleet(count, {
      hubs,
      hub,
      consumerGroup: '$Default',
      container: c.client,
      strategy: 'balanced',
      intervalMs,
      expiryMs: EXPIRY_MS,
    })
  }

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    producer?.stop()
    await fleet?.stop()
    await c?.dispose()
  })

  const liveReset = (extra: string[], options: RunOptions = {}) =>
    runEhcp(liveResetArgs(hub, ['--shift-by', '-30'], {wait: '15s', extra: ['--emulator', '--container', c.name, ...extra]}), {
      timeoutMs: 100_000,
      ...options,
      env: {
        EHCP_EMULATOR_BLOB_ENDPOINT: c.azurite.blobEndpoint(),
        EVENTHUBS_CONNECTION_STRING: hubs.connectionString(),
        ...options.env,
      },
    })

  it('a processor taking a partition while ehcp holds it: never reported resumed unless it read the rewound event', async () => {
    await scene(2)
    await fleet.steady(PARTITIONS, 30)
    const ids = fleet.processors.map((x) => x.ownerId)
    // As a processor does when it takes a partition: its claim over ehcp's, under the ETag it read (once per
    // partition), at once or a while after ehcp claimed it (during the hold, around its write, around its release).
    const delays = [0, 300, 900, 1500]
    const stolen = new Set<string>()
    const firstSeen = new Map<string, number>()
    const watcher = watchLive(c.client, async (p, o) => {
      if (stolen.has(p)) return
      if (!firstSeen.has(p)) firstSeen.set(p, Date.now())
      if (Date.now() - firstSeen.get(p)! < delays[Number(p) % delays.length]!) return
      stolen.add(p)
      const thief = ids[Number(p) % ids.length]!
      await c.client
        .getBlockBlobClient(o.name)
        .setMetadata({...o.metadata, ownerid: thief}, {conditions: {ifMatch: o.etag}})
        .catch(() => stolen.delete(p))
    })
    const r = await liveReset(['--live-batch', '2']).finally(() => watcher.stop())
    expect(stolen.size, `the test took no partition from ehcp\n${describeRun(r)}`).to.be.greaterThan(0)
    expect([0, 5, 6], describeRun(r)).to.include(r.code)
    const kinds = checkRows(r.json<ChangeResult>(), fleet, watcher.seen, r)
    await untilProcessorsOwnAll(c.client, ids)
    // Exit 0 only if every partition was rewound and resumed.
    if (r.code === 0) expect(kinds.resumed, describeRun(r)).to.have.length(PARTITIONS)
  })

  it('a processor killed without releasing (SIGKILL) while ehcp holds its partition: the other takes over, rewound or reported', async () => {
    await scene(1)
    const child = spawn(process.execPath, [CHILD], {
      env: {
        ...process.env,
        EHCP_CHILD_EVENTHUBS: hubs.connectionString(),
        EHCP_CHILD_STORAGE: c.azurite.connectionString(),
        EHCP_CHILD_CONTAINER: c.name,
        EHCP_CHILD_HUB: hub,
        EHCP_CHILD_EXPIRY_MS: String(EXPIRY_MS),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    children.push(child)
    const childId = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d
        const m = /owner (\S+)/.exec(out)
        if (m) resolve(m[1]!)
      })
      child.on('exit', (code) => reject(new Error(`the processor's process ended (${code})`)))
    })
    // Settled: both own partitions, and no claim has moved for 3 s.
    let before = new Map<string, Owned>()
    let last = ''
    const deadline = Date.now() + 60_000
    for (;;) {
      expect(Date.now(), `the two processors never settled: ${describeOwners(before)}`).to.be.below(deadline)
      before = await ownerships(c.client)
      const owners = IDS.map((p) => before.get(p)?.ownerId ?? '')
      const now = owners.join(',')
      if (now === last && owners.includes(childId) && owners.includes(fleet.processors[0]!.ownerId)) break
      last = now
      await sleep(3000)
    }
    const childOwned = IDS.filter((p) => before.get(p)?.ownerId === childId)
    expect(childOwned, `the child processor owns nothing: ${describeOwners(before)}`).to.not.be.empty
    const watcher = watchLive(c.client, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    const r = await liveReset(['--live-batch', '1']).finally(() => watcher.stop())
    expect(child.signalCode, 'the child processor was not killed').to.equal('SIGKILL')
    expect([0, 5, 6], describeRun(r)).to.include(r.code)
    const kinds = checkRows(r.json<ChangeResult>(), fleet, watcher.seen, r)
    // The survivor owns everything, the dead processor's claims having lapsed.
    await untilProcessorsOwnAll(c.client, [fleet.processors[0]!.ownerId], 30_000)
    if (r.code === 0) expect(kinds.resumed, describeRun(r)).to.have.length(PARTITIONS)
  })

  it("storage 250 ms away, so that ehcp's heartbeats overlap its own writes: nothing of its own taken for a processor's, nothing left held", async () => {
    // Processors renewing more slowly than ehcp's round trips (else they win every claim: reported as conflicts).
    await scene(2, 3000)
    await fleet.steady(PARTITIONS, 30)
    const ids = fleet.processors.map((x) => x.ownerId)
    const proxy = await startLatencyProxy({host: '127.0.0.1', port: Number(new URL(c.azurite.host).port)}, 250)
    const watcher = watchLive(c.client)
    try {
      const r = await liveReset(['--live-batch', '1'], {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${proxy.port}/devstoreaccount1`},
      }).finally(() => watcher.stop())
      const owned = await ownerships(c.client)
      expect(
        IDS.filter((p) => owned.get(p)?.ownerId.startsWith('ehcp-live-')),
        `left held by ehcp: ${describeOwners(owned)}\n${describeRun(r)}`,
      ).to.be.empty
      expect(r.code, describeRun(r)).to.equal(0)
      checkRows(r.json<ChangeResult>(), fleet, watcher.seen, r)
      await untilProcessorsOwnAll(c.client, ids)
    } finally {
      await proxy.close()
    }
  })

  it('storage failing (503) for every checkpoint write mid-way: exit 7, nothing written, every claim released at once', async () => {
    await scene(2)
    await fleet.steady(PARTITIONS, 30)
    const ids = fleet.processors.map((x) => x.ownerId)
    const isCheckpointWrite = (method: string, url: string) => method === 'PUT' && /\/checkpoint\/\d+\?/.test(url)
    const proxy = await startStatusProxy(c.azurite.host, (req) =>
      isCheckpointWrite(req.method, req.url) ? storageError(503, 'ServerBusy') : undefined,
    )
    try {
      const watcher = watchLive(c.client)
      const r = await liveReset(['--live-batch', '2', '--timeout', '5'], {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${proxy.url}/devstoreaccount1`},
      }).finally(() => watcher.stop())
      expect(r.code, describeRun(r)).to.equal(7)
      const writes = proxy.requests.filter((x) => isCheckpointWrite(x.method, x.url))
      expect(writes, 'ehcp tried no checkpoint write').to.not.be.empty
      expect(writes.every((x) => x.status === 503)).to.equal(true)
      const kinds = checkRows(r.json<ChangeResult>(), fleet, watcher.seen, r)
      expect(kinds.resumed, describeRun(r)).to.be.empty
      // Released by ehcp before it exited, not left to expire.
      const owned = await ownerships(c.client)
      expect(
        IDS.filter((p) => owned.get(p)?.ownerId.startsWith('ehcp-live-')),
        describeOwners(owned),
      ).to.be.empty
      await untilProcessorsOwnAll(c.client, ids)
    } finally {
      await proxy.close()
    }
  })

  it('storage dropping every connection once ehcp holds a batch: exit 7, its claims lapse, processors own everything', async () => {
    await scene(2)
    await fleet.steady(PARTITIONS, 30)
    const ids = fleet.processors.map((x) => x.ownerId)
    let cut = false
    const proxy = await startFaultProxy({host: '127.0.0.1', port: Number(new URL(c.azurite.host).port)}, {resetBeforeRequest: () => cut})
    const watcher = watchLive(c.client, () => {
      cut = true
    })
    try {
      const r = await liveReset(['--live-batch', '2', '--timeout', '5'], {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${proxy.port}/devstoreaccount1`},
      }).finally(() => watcher.stop())
      expect(cut, `ehcp was never seen holding a partition\n${describeRun(r)}`).to.equal(true)
      expect(r.code, describeRun(r)).to.equal(7)
      const kinds = checkRows(r.json<ChangeResult>(), fleet, watcher.seen, r)
      expect(kinds.resumed, describeRun(r)).to.be.empty
      // ehcp could not release what it held, and says so on each row it still holds: the claims lapse after the
      // expiry, and processors take them.
      const owned = await ownerships(c.client)
      const stillHeld = IDS.filter((p) => owned.get(p)?.ownerId.startsWith('ehcp-live-'))
      expect(stillHeld, `ehcp held nothing when it exited: ${describeOwners(owned)}`).to.not.be.empty
      for (const p of stillHeld) {
        const row = r.json<ChangeResult>().partitions.find((x) => x.partitionId === p)!
        expect(row.reason, JSON.stringify(row)).to.match(/could not be released.*release-ownership --owner ehcp-live-/)
      }
      await untilProcessorsOwnAll(c.client, ids, 30_000)
    } finally {
      await proxy.close()
    }
  })

  it('Event Hubs dropping every connection while ehcp holds a batch: reported, released', async () => {
    await scene(2)
    await fleet.steady(PARTITIONS, 30)
    const ids = fleet.processors.map((x) => x.ownerId)
    let dropped = 0
    const watcher = watchLive(c.client, () => {
      if (dropped++ === 0) hubs.dropConnections()
    })
    const r = await liveReset(['--live-batch', '2']).finally(() => watcher.stop())
    expect(dropped, describeRun(r)).to.be.greaterThan(0)
    expect([0, 6, 7], describeRun(r)).to.include(r.code)
    const kinds = checkRows(r.json<ChangeResult>(), fleet, watcher.seen, r)
    // The processors lost their own connections too: they recover through their retries (3 tries of up to 5 s each).
    await untilProcessorsOwnAll(c.client, ids, 60_000)
    if (r.code === 0) expect(kinds.resumed, describeRun(r)).to.have.length(PARTITIONS)
  })

  it("Event Hubs refusing ehcp's hold on one partition (a still higher owner level): reported, the rest rewound, nothing left held", async () => {
    await scene(2)
    await fleet.steady(PARTITIONS, 30)
    const ids = fleet.processors.map((x) => x.ownerId)
    // Another reader with a still higher owner level on partition 1, held until ehcp is done.
    const blocker = new EventHubConsumerClient('$Default', hubs.connectionString(hub))
    let attached = false
    const subscription = blocker.subscribe(
      '1',
      {
        processEvents: async () => {
          attached = true
        },
        processError: async () => undefined,
      },
      {ownerLevel: 2 ** 51, startPosition: {offset: '@latest'}, maxWaitTimeInSeconds: 1},
    )
    try {
      const deadline = Date.now() + 15_000
      while (!attached && Date.now() < deadline) await sleep(50)
      expect(attached, 'the blocking receiver never attached').to.equal(true)
      const startedAt = Date.now()
      const watcher = watchLive(c.client)
      const r = await liveReset(['--live-batch', '2']).finally(() => watcher.stop())
      const endedAt = Date.now()
      expect(r.code, describeRun(r)).to.equal(6)
      const report = r.json<ChangeResult>()
      const kinds = checkRows(report, fleet, watcher.seen, r)
      // Only the refused partition fails: the one held with it and the later batch are written.
      const failed = report.partitions.filter((x) => x.status === 'failed').map((x) => x.partitionId)
      expect(failed, describeRun(r)).to.deep.equal(['1'])
      // Said as what it is: no processor (they use owner level 0) but a reader above ehcp's owner level.
      expect(report.partitions.find((x) => x.partitionId === '1')?.reason).to.match(/still higher owner level/)
      expect(kinds.reported).to.include('1')
      // Nothing of ehcp's stayed on any other partition while it ran on (later batches, then --live-wait): each was
      // read by a processor again after it last lost it, before ehcp ended.
      const closes = fleet.closes()
      for (const p of IDS.filter((x) => x !== '1')) {
        const lastLoss = Math.max(startedAt, ...closes.filter((x) => x.partitionId === p).map((x) => x.at))
        const read = fleet.processedOf(p).filter((e) => e.at > lastLoss && e.at < endedAt)
        expect(read, `partition ${p} was read by no processor after ${new Date(lastLoss).toISOString()} while ehcp ran\n${describeRun(r)}`)
          .to.not.be.empty
      }
    } finally {
      // Bounded: the client can wait for ever on closing a link the service already detached.
      await Promise.race([subscription.close().then(() => blocker.close()), sleep(3000)])
    }
    await untilProcessorsOwnAll(c.client, ids)
  })

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} during the second of four batches: exit ${code}, the rest not attempted, nothing left held`, async () => {
      await scene(2)
      await fleet.steady(PARTITIONS, 30)
      const ids = fleet.processors.map((x) => x.ownerId)
      let child: ChildProcess | undefined
      let sent = false
      const watcher = watchLive(c.client, (_p) => {
        if (!sent && watcher.seen.size >= 2) {
          sent = true
          child!.kill(signal)
        }
      })
      const r = await liveReset(['--live-batch', '1'], {onSpawn: (x) => (child = x)}).finally(() => watcher.stop())
      expect(sent, `the signal was never sent\n${describeRun(r)}`).to.equal(true)
      expect(r.code, describeRun(r)).to.equal(code)
      // Nothing held by ehcp the moment it exits.
      const owned = await ownerships(c.client)
      expect(
        IDS.filter((p) => owned.get(p)?.ownerId.startsWith('ehcp-live-')),
        describeOwners(owned),
      ).to.be.empty
      const report = r.json<ChangeResult>()
      const kinds = checkRows(report, fleet, watcher.seen, r)
      const notAttempted = report.partitions.filter((x: PartitionResult) => x.status === 'failed' && /not attempted/i.test(x.reason ?? ''))
      expect(notAttempted.length, describeRun(r)).to.be.at.least(PARTITIONS - 2)
      expect(kinds.reported.length).to.be.at.least(PARTITIONS - 2)
      // What was written is not verified, and the row says why (not that --live-wait passed).
      for (const row of report.partitions.filter((x) => x.status === 'updated'))
        expect(row.live?.detail, JSON.stringify(row)).to.match(new RegExp(`stopped.*${signal}`))
      await untilProcessorsOwnAll(c.client, ids)
    })
  }
})
