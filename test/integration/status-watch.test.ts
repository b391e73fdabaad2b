/**
 * `status` and `watch` end to end: Azurite, the Event Hubs stand-in, and a real processor (the official
 * EventHubConsumerClient with BlobCheckpointStore) that runs, stops, or checkpoints the same event over and
 * over; an ehcp reset backwards. Burrow's verdicts OK, STOP, STALL and REWIND, and watch's NDJSON rounds.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {earliestEventPosition, EventHubConsumerClient, type ReceivedEventData} from '@azure/event-hubs'
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {StatusReport} from '../../src/watch/report.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {sleep, waitFor} from '../support/wait.js'

describe('status and watch against a running processor', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let producer: NodeJS.Timeout | undefined
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-watch-'))

  before(async () => {
    hubs = await EventHubsStandin.start()
  })
  after(() => hubs.stop())
  beforeEach(async () => {
    c = await freshContainer()
  })
  afterEach(async () => {
    clearInterval(producer)
    await c.dispose()
  })

  const ehcp = (args: string[]) => runEhcp([...args, ...c.args], {cwd, env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()}})

  let next = 0
  /** Appends an event to each partition every `everyMs`. */
  function produce(hub: string, partitions: number, everyMs: number): void {
    producer = setInterval(() => {
      for (let p = 0; p < partitions; p++) hubs.append(hub, String(p), [{body: {i: next}}])
      next++
    }, everyMs)
  }

  /**
   * A real processor. `follow`: checkpoints the last event of every batch. `stuck`: checkpoints the first
   * event it ever received, again and again, on every batch (empty ones included) while events arrive.
   */
  function processor(hub: string, mode: 'follow' | 'stuck') {
    const client = new EventHubConsumerClient('$Default', hubs.connectionString(hub), new BlobCheckpointStore(c.client), {
      loadBalancingOptions: {strategy: 'greedy', updateIntervalInMs: 500},
      retryOptions: {maxRetries: 1, timeoutInMs: 5000},
    })
    const first = new Map<string, ReceivedEventData>()
    const received = new Map<string, number>()
    const subscription = client.subscribe(
      {
        processEvents: async (events, context) => {
          received.set(context.partitionId, (received.get(context.partitionId) ?? 0) + events.length)
          if (events[0] && !first.has(context.partitionId)) first.set(context.partitionId, events[0])
          const target = mode === 'follow' ? events.at(-1) : first.get(context.partitionId)
          if (target) await context.updateCheckpoint(target)
        },
        processError: async () => {},
      },
      {maxBatchSize: 20, maxWaitTimeInSeconds: 0.3, startPosition: earliestEventPosition},
    )
    return {
      received: (p: string) => received.get(p) ?? 0,
      stop: async () => {
        await subscription.close()
        await client.close()
      },
    }
  }

  const status = async (hub: string, args: string[]) => {
    const r = await ehcp(['status', '--eventhub', hub, '--json', ...args])
    return {r, json: () => r.json<StatusReport>()}
  }

  it('a running processor is OK (exit 0); stopped while events arrive it becomes STOP (exit 12)', async () => {
    const HUB = 'running'
    hubs.createHub(HUB, 2)
    produce(HUB, 2, 100)
    const running = processor(HUB, 'follow')
    await waitFor('the processor to receive events', () => running.received('0') > 5 && running.received('1') > 5, 20_000)
    // Events arrive at 10/s per partition and the processor checkpoints after each batch, so its lag stays a few
    // events above 0; by Burrow's rules a lag that never decreases while above --allowed-lag is WARN, so the
    // allowed lag is what a keeping-up processor has in flight (2 s of traffic). Stopped, its lag grows past it.
    const ok = await status(HUB, ['--samples', '4', '--interval', '500ms', '--allowed-lag', '20'])
    expect(ok.r.code, describeRun(ok.r)).to.equal(0)
    const okReport = ok.json()
    expect(okReport.status).to.equal('OK')
    expect(okReport.groups).to.have.length(1)
    const group = okReport.groups[0]!
    expect(group).to.include({status: 'OK', rounds: 4, consumerGroup: '$default'})
    expect(group.partitions.map((p) => p.status)).to.deep.equal(['OK', 'OK'])
    // The processor moved while it was sampled: more than the first checkpoint was seen.
    expect(
      group.partitions.every((p) => p.commitsSeen >= 2),
      JSON.stringify(group.partitions),
    ).to.equal(true)
    expect(group.partitions[0]!.lags).to.have.length(4)

    await running.stop()
    await sleep(1000)
    const stopped = await status(HUB, ['--samples', '3', '--interval', '500ms'])
    expect(stopped.r.code, describeRun(stopped.r)).to.equal(12)
    const report = stopped.json()
    expect(report.groups[0]!.partitions.map((p) => p.status)).to.deep.equal(['STOP', 'STOP'])
    expect(report.groups[0]!.totalLag).to.be.greaterThan(0)
  })

  it('a processor that checkpoints the same position while events arrive is STALL', async () => {
    const HUB = 'stuck'
    hubs.createHub(HUB, 1)
    produce(HUB, 1, 100)
    const stuck = processor(HUB, 'stuck')
    await waitFor('the processor to receive events', () => stuck.received('0') > 5, 20_000)
    try {
      const r = await status(HUB, ['--samples', '4', '--interval', '500ms'])
      expect(r.r.code, describeRun(r.r)).to.equal(12)
      const p = r.json().groups[0]!.partitions[0]!
      expect(p.status).to.equal('STALL')
      expect(p.commitsSeen).to.be.greaterThan(1)
    } finally {
      await stuck.stop()
    }
  })

  it('an ehcp reset backwards while sampled is REWIND; watch --record rounds judged by status --history agree', async () => {
    const HUB = 'rewound'
    hubs.createHub(HUB, 1)
    produce(HUB, 1, 100)
    const running = processor(HUB, 'follow')
    await waitFor('the processor to receive events', () => running.received('0') > 20, 20_000)
    await running.stop()
    // The checkpoint rests a while (the window's span), then is moved back under the sampling.
    await sleep(3000)
    const record = path.join(cwd, `rounds-${Date.now()}.ndjson`)
    const sampling = ehcp(['status', '--eventhub', HUB, '--json', '--samples', '6', '--interval', '400ms'])
    const watching = ehcp(['watch', '--eventhub', HUB, '--count', '6', '--interval', '400ms', '--record', record])
    await sleep(900)
    const reset = await ehcp(['reset', '--eventhub', HUB, '--shift-by=-10', '--force', '--yes', '--json'])
    expect(reset.code, describeRun(reset)).to.equal(0)
    const sampled = await sampling
    expect(sampled.code, describeRun(sampled)).to.equal(12)
    expect(sampled.json<StatusReport>().groups[0]!.partitions[0]!.status).to.equal('REWIND')

    const watched = await watching
    expect(watched.code, describeRun(watched)).to.equal(0)
    // Piped: one NDJSON line per round, show --json's fields plus round and at.
    const lines = watched.stdout.trim().split('\n')
    expect(lines).to.have.length(6)
    const docs = lines.map(
      (l) => JSON.parse(l) as {round: number; at: string; consumerGroup: string; partitions: Array<{lag?: {events: number}}>},
    )
    expect(docs.map((d) => d.round)).to.deep.equal([1, 2, 3, 4, 5, 6])
    expect(
      docs.every((d) => d.consumerGroup === '$default' && !Number.isNaN(Date.parse(d.at)) && d.partitions[0]!.lag !== undefined),
    ).to.equal(true)
    expect(readFileSync(record, 'utf8').trim().split('\n')).to.deep.equal(lines)
    const judged = await ehcp(['status', '--history', record, '--json'])
    expect(judged.code, describeRun(judged)).to.equal(12)
    expect(judged.json<StatusReport>().groups[0]!.partitions[0]!.status).to.equal('REWIND')
  })

  it('bad flag values are usage errors (exit 2), each named', async () => {
    for (const [args, said] of [
      [['watch', '--interval', '50ms'], '--interval "50ms" is shorter than 100ms'],
      [['watch', '--interval', 'soon'], '--interval "soon" is not a duration'],
      [['watch', '--count', '0'], '--count'],
      [['status', '--samples', '1'], '--samples'],
      [['status', '--allowed-lag', '-1'], '--allowed-lag'],
    ] as const) {
      const r = await ehcp([...args, '--eventhub', 'orders'])
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr, describeRun(r)).to.include(said)
    }
  })

  it('status --history: a file that is not rounds is bad input (exit 2)', async () => {
    const file = path.join(cwd, 'not-rounds.ndjson')
    const {writeFileSync} = await import('node:fs')
    writeFileSync(file, '{"hello": 1}\n')
    const r = await runEhcp(['status', '--history', file, '--json'], {cwd})
    expect(r.code, describeRun(r)).to.equal(2)
    expect(r.stdout + r.stderr).to.include('line 1 is not a round')
  })
})
