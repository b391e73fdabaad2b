/**
 * ehcp against Event Hubs (the project's AMQP stand-in, driven by the real @azure/event-hubs client):
 * exact lag for what a real processor checkpointed, every lag edge case, the --fail-on-lag gate, and resets
 * by time, shift, earliest and latest after which a restarted processor receives exactly the right events.
 */
import {mkdtempSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {earliestEventPosition, EventHubConsumerClient, type ReceivedEventData} from '@azure/event-hubs'
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {ChangeResult} from '../../src/change/execute.js'
import type {GroupViewWithLag} from '../../src/eventhubs/lag.js'
import type {ContainerSummary} from '../../src/store/summary.js'
import {runEhcp} from '../support/cli.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {sleep} from '../support/wait.js'

const NS = '127.0.0.1' // a processor names the namespace after its connection's host

describe('Event Hubs: lag and positions', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  // The working directory of every run: the changes here save their backups under default names.
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-eventhubs-'))

  before(async () => {
    hubs = await EventHubsStandin.start()
  })
  after(() => hubs.stop())
  beforeEach(async () => {
    c = await freshContainer()
  })
  afterEach(() => c.dispose())

  const ehcp = (args: string[], env: Record<string, string> = {}) =>
    runEhcp([...args, ...c.args], {cwd, env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString(), ...env}})

  /**
   * Runs a real processor (official BlobCheckpointStore, greedy load balancing) until every partition has
   * received `expected[partition]` events, then a little longer to catch extras; checkpoints every event.
   */
  async function consume(hub: string, expected: Record<string, number>): Promise<Record<string, number[]>> {
    const client = new EventHubConsumerClient('$Default', hubs.connectionString(hub), new BlobCheckpointStore(c.client), {
      loadBalancingOptions: {strategy: 'greedy', updateIntervalInMs: 500},
      retryOptions: {maxRetries: 1, timeoutInMs: 5000},
    })
    const received: Record<string, number[]> = Object.fromEntries(Object.keys(expected).map((p) => [p, []]))
    const errors: Error[] = []
    const subscription = client.subscribe(
      {
        processEvents: async (events: ReceivedEventData[], context) => {
          received[context.partitionId]!.push(...events.map((e) => e.sequenceNumber))
          if (events.length) await context.updateCheckpoint(events.at(-1)!)
        },
        processError: async (error) => {
          errors.push(error)
        },
      },
      // Without a checkpoint the JS processor would start at the end: begin at the start instead.
      {maxBatchSize: 50, maxWaitTimeInSeconds: 1, startPosition: earliestEventPosition},
    )
    const deadline = Date.now() + 30_000
    while (Object.entries(expected).some(([p, n]) => received[p]!.length < n) && Date.now() < deadline) await sleep(100)
    await sleep(1500)
    await subscription.close()
    await client.close()
    expect(
      errors.filter((e) => !/ownership|ReceiverDisconnected/i.test(e.message)),
      String(errors),
    ).to.deep.equal([])
    return received
  }

  const range = (from: number, to: number) => Array.from({length: to - from + 1}, (_, i) => from + i)

  it('a real processor checkpoints; lag is exact; resets by time, shift, earliest and latest replay exactly the right events', async () => {
    const HUB = 'telemetry'
    hubs.createHub(HUB, 2)
    const t0 = Date.now() - 3_600_000
    // Partition 0: an event every 10 s. Partition 1: the same, 5 s later.
    const appended = (partition: string, shiftMs: number, from: number, count: number) =>
      hubs.append(
        HUB,
        partition,
        range(from, from + count - 1).map((i) => ({body: {i}, enqueuedTimeUtc: new Date(t0 + shiftMs + i * 10_000)})),
      )
    appended('0', 0, 0, 20)
    appended('1', 5000, 0, 20)

    expect(await consume(HUB, {'0': 20, '1': 20})).to.deep.equal({'0': range(0, 19), '1': range(0, 19)})
    const [more0, more1] = [appended('0', 0, 20, 7), appended('1', 5000, 20, 3)]

    const lag = await ehcp(['show', '--eventhub', HUB, '--lag', '--json'])
    expect(lag.code, lag.stderr).to.equal(0)
    const view = lag.json<GroupViewWithLag>()
    expect(
      view.partitions.map((p) => [
        p.partitionId,
        p.checkpoint!.sequenceNumber,
        p.lag!.events,
        p.lag!.state,
        p.lag!.lastEnqueuedSequenceNumber,
      ]),
    ).to.deep.equal([
      ['0', 19, 7, 'ok', 26],
      ['1', 19, 3, 'ok', 22],
    ])
    expect(view.partitions[0]!.lag!.nextEventTime).to.equal(more0[0]!.enqueuedTimeUtc.toISOString())
    expect(view.partitions[1]!.lag!.nextEventTime).to.equal(more1[0]!.enqueuedTimeUtc.toISOString())
    const expectedAge = Math.round((Date.now() - more0[0]!.enqueuedTimeUtc.getTime()) / 1000)
    expect(view.partitions[0]!.lag!.timeLagSeconds).to.be.within(expectedAge - 5, expectedAge + 1)

    // --to-datetime: exactly at event 6's time on partition 0; between events 5 and 6 on partition 1.
    const at = new Date(t0 + 6 * 10_000)
    const byTime = await ehcp(['reset', '--eventhub', HUB, '--to-datetime', at.toISOString(), '--yes', '--json'])
    expect(byTime.code, byTime.stdout + byTime.stderr).to.equal(0)
    const plan = byTime.json<ChangeResult>()
    expect(plan.partitions.map((p) => [p.partitionId, p.after, p.delta])).to.deep.equal([
      ['0', {sequenceNumber: 5, offset: hubs.events(HUB, '0')[5]!.offset}, 14],
      ['1', {sequenceNumber: 5, offset: hubs.events(HUB, '1')[5]!.offset}, 14],
    ])
    expect(await consume(HUB, {'0': 21, '1': 17})).to.deep.equal({'0': range(6, 26), '1': range(6, 22)})

    // --shift-by -4: replay the last four events of each partition.
    const shifted = await ehcp(['reset', '--eventhub', HUB, '--shift-by=-4', '--yes'])
    expect(shifted.code, shifted.stderr).to.equal(0)
    expect(await consume(HUB, {'0': 4, '1': 4})).to.deep.equal({'0': range(23, 26), '1': range(19, 22)})

    // --shift-by past the start is clamped, with a warning; --to-earliest replays everything retained.
    const clamped = await ehcp(['reset', '--eventhub', HUB, '--shift-by=-1000', '--dry-run', '--json'])
    expect(clamped.json<ChangeResult>().partitions[0]!.warnings[0]).to.match(/clamped to the start/)
    expect((await ehcp(['reset', '--eventhub', HUB, '--to-earliest', '--yes'])).code).to.equal(0)
    expect(await consume(HUB, {'0': 27, '1': 23})).to.deep.equal({'0': range(0, 26), '1': range(0, 22)})

    // --to-latest: nothing old is replayed; only what arrives afterwards.
    await ehcp(['reset', '--eventhub', HUB, '--to-earliest', '--yes'])
    expect((await ehcp(['reset', '--eventhub', HUB, '--to-latest', '--yes'])).code).to.equal(0)
    appended('0', 0, 27, 2)
    expect(await consume(HUB, {'0': 2, '1': 0})).to.deep.equal({'0': [27, 28], '1': []})
  })

  it('lag edge cases: empty, no checkpoint, behind retention, ahead of the partition, offset-only checkpoint', async () => {
    const HUB = 'edges'
    hubs.createHub(HUB, 5)
    const events = (p: string, n: number) =>
      hubs.append(
        HUB,
        p,
        range(0, n - 1).map((i) => ({body: i})),
      )
    events('1', 10)
    events('2', 20)
    hubs.retain(HUB, '2', 10)
    events('3', 5)
    const p4 = events('4', 10)
    const checkpoint = (p: string, metadata: Record<string, string>) => putBlob(c.client, `${NS}/${HUB}/$default/checkpoint/${p}`, metadata)
    await checkpoint('2', {sequencenumber: '5', offset: '1320'})
    await checkpoint('3', {sequencenumber: '50', offset: '4200'})
    await checkpoint('4', {offset: p4[6]!.offset})

    const r = await ehcp(['show', '--eventhub', HUB, '--lag', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const rows = r.json<GroupViewWithLag>().partitions.map((p) => [p.partitionId, p.lag!.state, p.lag!.events])
    expect(rows).to.deep.equal([
      ['0', 'empty', 0],
      ['1', 'no-checkpoint', null],
      ['2', 'behind-retention', 10],
      ['3', 'ahead-of-partition', null],
      ['4', 'ok', 3],
    ])
    const table = await ehcp(['show', '--eventhub', HUB, '--lag'])
    expect(table.stdout).to.match(/^\s*PARTITION .*LAST-ENQUEUED\s+LAG\s+LAG-TIME\s+STATE/m)
    expect(table.stdout).to.include('expired unprocessed').and.include('The supplied sequence number is invalid')
  })

  it('--fail-on-lag exits 10 above the threshold and 0 at or below it (show and list)', async () => {
    const HUB = 'gate'
    const [p0, p1] = hubs.createHubWithEvents(HUB, 2, 10)
    await putBlob(c.client, `${NS}/${HUB}/$default/checkpoint/0`, {sequencenumber: '4', offset: p0[4]!.offset})
    await putBlob(c.client, `${NS}/${HUB}/$default/checkpoint/1`, {sequencenumber: '8', offset: p1[8]!.offset})
    for (const [threshold, code] of [
      ['5', 0],
      ['6', 0],
      ['4', 10],
      ['0', 10],
    ] as const) {
      const show = await ehcp(['show', '--eventhub', HUB, '--fail-on-lag', threshold, '--json'])
      expect(show.code, `show --fail-on-lag ${threshold}`).to.equal(code)
      expect(show.json<GroupViewWithLag>().partitions.map((p) => p.lag!.events)).to.deep.equal([5, 1])
      const list = await ehcp(['list', '--eventhub', HUB, '--fail-on-lag', threshold, '--json'])
      expect(list.code, `list --fail-on-lag ${threshold}`).to.equal(code)
      expect(list.json<ContainerSummary>().groups[0]!.lag).to.deep.include({total: 6, max: 5})
    }
  })

  it('set without --offset looks up the offset of event N', async () => {
    const HUB = 'lookup'
    const [events] = hubs.createHubWithEvents(HUB, 1, 10)
    await putBlob(c.client, `${NS}/${HUB}/$default/checkpoint/0`, {sequencenumber: '9', offset: events[9]!.offset})
    const r = await ehcp(['set', '--eventhub', HUB, '--partition', '0', '--sequence-number', '3', '--yes', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json<ChangeResult>().partitions[0]!.after).to.deep.equal({sequenceNumber: 3, offset: events[3]!.offset})
    const official = await new BlobCheckpointStore(c.client).listCheckpoints(NS, HUB, '$Default')
    expect(official.map((cp) => [cp.sequenceNumber, cp.offset])).to.deep.equal([[3, events[3]!.offset]])
    const outside = await ehcp(['set', '--eventhub', HUB, '--partition', '0', '--sequence-number', '99', '--yes'])
    expect(outside.code).to.equal(2)
    expect(outside.stderr).to.include('outside partition 0')
  })

  it('without Event Hubs access: exit 2 naming the flag and the env var; nothing written', async () => {
    await putBlob(c.client, 'not-a-namespace.example/orders/$default/checkpoint/0', {sequencenumber: '1', offset: '10'})
    for (const args of [
      ['show', '--lag'],
      ['list', '--lag'],
      ['reset', '--to-latest', '--yes'],
      ['set', '--partition', '0', '--sequence-number', '0', '--yes'],
    ]) {
      const r = await runEhcp([...args, ...c.args], {cwd})
      expect(r.code, args.join(' ')).to.equal(2)
      expect(r.stderr).to.include('--eventhubs-connection-string').and.include('EVENTHUBS_CONNECTION_STRING')
    }
    const official = await new BlobCheckpointStore(c.client).listCheckpoints('not-a-namespace.example', 'orders', '$Default')
    expect(official.map((cp) => cp.sequenceNumber)).to.deep.equal([1])
  })

  it('an unreachable or silent Event Hubs endpoint: exit 7 within the timeout', async () => {
    await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '1', offset: '10'})
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const closedPort = (closed.address() as net.AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const sockets: net.Socket[] = []
    const silent = net.createServer((s) => sockets.push(s))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const silentPort = (silent.address() as net.AddressInfo).port
    try {
      for (const port of [closedPort, silentPort]) {
        const cs = `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`
        const started = Date.now()
        const r = await runEhcp(['show', '--eventhub', 'orders', '--lag', '--timeout', '3', ...c.args], {
          env: {EVENTHUBS_CONNECTION_STRING: cs},
        })
        expect(r.code, r.stdout + r.stderr).to.equal(7)
        expect(Date.now() - started).to.be.below(20_000)
      }
    } finally {
      for (const s of sockets) s.destroy()
      silent.close()
    }
  })
})
