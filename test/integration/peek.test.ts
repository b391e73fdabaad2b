/**
 * `ehcp peek` against the Event Hubs stand-in while a real processor (`@azure/event-hubs`, the official blob
 * checkpoint store, greedy load balancing) runs on the application's group: the events after the checkpoint
 * with every field, bodies of text, JSON, binary and oversize as specified, the start positions, the refusal to
 * read through the application's own group; and the processor keeps every partition and reports nothing.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {earliestEventPosition, EventHubConsumerClient, type Subscription} from '@azure/event-hubs'
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {PeekResult} from '../../src/eventhubs/peek.js'
import {runEhcp} from '../support/cli.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {sleep} from '../support/wait.js'

const NS = '127.0.0.1' // a processor names the namespace after its connection's host
const HUB = 'orders'
/** Events 0..2 of partition 0 (and 0..1 of partition 1) are processed; the processor never gets past event 3. */
const PROCESSED = {'0': 2, '1': 1} as Record<string, number>

describe('peek: the events after a checkpoint, read beside a live processor', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let official: BlobCheckpointStore
  let processor: EventHubConsumerClient
  let subscription: Subscription
  const processErrors: string[] = []
  const processCloses: string[] = []
  const t0 = new Date(Date.now() - 3_600_000)
  const at = (i: number) => new Date(t0.getTime() + i * 10_000)
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-peek-'))

  const peek = (args: string[], readerGroup: string[] = ['--eventhubs-consumer-group', 'ehcp']) =>
    runEhcp(['peek', '--eventhub', HUB, ...readerGroup, ...args, ...c.args], {
      cwd,
      env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
    })

  const owners = async () =>
    (await official.listOwnership(NS, HUB, '$Default')).map((o) => [o.partitionId, o.ownerId, o.lastModifiedTimeInMs])

  before(async () => {
    hubs = await EventHubsStandin.start()
    c = await freshContainer()
    official = new BlobCheckpointStore(c.client)
    hubs.createHub(HUB, 2, ['ehcp'])
    hubs.append(HUB, '0', [
      {body: {i: 0}, enqueuedTimeUtc: at(0)},
      {body: {i: 1}, enqueuedTimeUtc: at(1)},
      {body: {i: 2}, enqueuedTimeUtc: at(2)},
      {
        body: Buffer.from('hello poison ✓', 'utf8'),
        enqueuedTimeUtc: at(3),
        properties: {kind: 'text', n: 7, ok: true},
        partitionKey: 'order-42',
      },
      {body: {order: 42, items: ['a', 'b']}, enqueuedTimeUtc: at(4), properties: {kind: 'json'}},
      {body: Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe]), enqueuedTimeUtc: at(5)},
      {body: Buffer.from('é'.repeat(2500), 'utf8'), enqueuedTimeUtc: at(6)},
    ])
    hubs.append(HUB, '1', [{body: {i: 0}}, {body: {i: 1}}])
    processor = new EventHubConsumerClient('$Default', hubs.connectionString(HUB), official, {
      loadBalancingOptions: {strategy: 'greedy', updateIntervalInMs: 500},
      retryOptions: {maxRetries: 2, timeoutInMs: 5000},
    })
    subscription = processor.subscribe(
      {
        // A processor stuck on a poison event: it checkpoints what it processed, and never event 3 or later.
        processEvents: async (events, context) => {
          const done = events.filter((e) => e.sequenceNumber <= PROCESSED[context.partitionId]!)
          if (done.length) await context.updateCheckpoint(done.at(-1)!)
        },
        processError: async (error, context) => {
          processErrors.push(`[${context.partitionId}] ${error.name}: ${error.message}`)
        },
        processClose: async (reason, context) => {
          processCloses.push(`[${context.partitionId}] ${reason}`)
        },
      },
      {startPosition: earliestEventPosition, maxBatchSize: 10, maxWaitTimeInSeconds: 1},
    )
    const checkpointed = async () =>
      (await official.listCheckpoints(NS, HUB, '$Default')).map((cp) => [cp.partitionId, cp.sequenceNumber]).sort()
    const deadline = Date.now() + 30_000
    while (
      JSON.stringify(await checkpointed()) !==
        JSON.stringify([
          ['0', 2],
          ['1', 1],
        ]) &&
      Date.now() < deadline
    )
      await sleep(100)
    expect(await checkpointed()).to.deep.equal([
      ['0', 2],
      ['1', 1],
    ])
  })
  after(async () => {
    await subscription?.close()
    await processor?.close()
    await hubs.stop()
    await c.dispose()
  })

  it('shows exactly the events after the checkpoint with every field; the processor keeps both partitions and reports nothing', async () => {
    const ownedBefore = await owners()
    expect(ownedBefore.map(([p]) => p).sort()).to.deep.equal(['0', '1'])
    const ownerId = ownedBefore[0]![1]
    expect(ownerId).to.be.a('string').and.not.equal('')
    const attachesBefore = hubs.receiverAttaches().length

    const run = await peek(['--partition', '0', '--count', '10', '--json'])
    expect(run.code, run.stdout + run.stderr).to.equal(0)
    const result = run.json<PeekResult>()
    const finished = Date.now()
    expect(result).to.deep.include({
      namespace: NS,
      eventHub: HUB,
      consumerGroup: '$default',
      partitionId: '0',
      readerConsumerGroup: 'ehcp',
      checkpoint: {sequenceNumber: 2, offset: hubs.events(HUB, '0')[2]!.offset},
      from: {kind: 'checkpoint', sequenceNumber: 3, datetime: null},
      stoppedAt: 'end',
      maxBytes: 4096,
    })
    const stored = hubs.events(HUB, '0')
    expect(result.events.map((e) => [e.sequenceNumber, e.offset, e.enqueuedTime])).to.deep.equal(
      [3, 4, 5, 6].map((i) => [i, stored[i]!.offset, at(i).toISOString()]),
    )
    const [text, json, binary, oversize] = result.events
    expect(text).to.deep.include({partitionKey: 'order-42', properties: {kind: 'text', n: 7, ok: true}})
    expect(text!.body).to.deep.equal({kind: 'text', encoding: 'text', size: 16, truncated: false, data: 'hello poison ✓'})
    expect(json).to.deep.include({partitionKey: null, properties: {kind: 'json'}})
    expect(json!.body).to.deep.equal({kind: 'json', encoding: 'json', size: 30, truncated: false, data: {order: 42, items: ['a', 'b']}})
    expect(binary!.body).to.deep.equal({kind: 'binary', encoding: 'base64', size: 5, truncated: false, data: 'AAEC//4='})
    // 2,500 two-byte characters: cut at 4,096 bytes, on a character's boundary.
    expect(oversize!.body).to.deep.equal({kind: 'text', encoding: 'text', size: 5000, truncated: true, data: 'é'.repeat(2048)})

    // ehcp's receivers were in its own consumer group, none with an owner level.
    const mine = hubs
      .receiverAttaches()
      .slice(attachesBefore)
      .filter((a) => /\/ConsumerGroups\/ehcp\//i.test(a.address))
    expect(mine.length, 'ehcp attached a receiver').to.be.greaterThan(0)
    expect(mine.map((a) => a.ownerLevel)).to.deep.equal(mine.map(() => undefined))

    // The processor renewed its claims after the peek, on both partitions, as the same owner.
    await sleep(1500)
    const ownedAfter = await owners()
    expect(ownedAfter.map(([p, owner]) => [p, owner]).sort()).to.deep.equal([
      ['0', ownerId],
      ['1', ownerId],
    ])
    for (const [, , renewed] of ownedAfter) expect(renewed as number).to.be.greaterThan(finished - 1000)
    expect(processErrors, 'the processor reported no errors').to.deep.equal([])
    expect(processCloses, 'the processor closed no partition').to.deep.equal([])
  })

  it('by default one event, for people: the fields, the text body and where it started; binary by size, in hex with --raw', async () => {
    const one = await peek(['--partition', '0'])
    expect(one.code, one.stderr).to.equal(0)
    expect(one.stdout).to.match(/^Event 3\n/)
    expect(one.stdout).to.include('partition key  order-42')
    expect(one.stdout).to.include('    n: 7')
    expect(one.stdout).to.include('body           text, 16 bytes\n    hello poison ✓')
    expect(one.stdout).to.not.include('Event 4')
    expect(one.stdout.trim().split('\n').at(-1)).to.equal(
      "1 event of partition 0 after $default's checkpoint (2), read through consumer group ehcp.",
    )

    const summarised = await peek(['--partition', '0', '--from-sequence', '5'])
    expect(summarised.stdout).to.include('body           binary, 5 bytes (--raw shows it in hex)')
    expect(summarised.stdout).to.not.include('00 01 02')
    const raw = await peek(['--partition', '0', '--from-sequence', '5', '--raw'])
    expect(raw.stdout).to.include('body           binary, 5 bytes\n    00000000  00 01 02 ff fe')

    const cut = await peek(['--partition', '0', '--from-sequence', '4', '--count', '3', '--max-bytes', '10'])
    expect(cut.stdout).to.include('body           JSON, 30 bytes, cut: first 10 bytes shown\n    {"order":4 [...]')
    expect(cut.stdout).to.include('body           text, 5000 bytes, cut: first 10 bytes shown\n    ééééé [...]')
    expect(cut.stdout).to.include('body           binary, 5 bytes (--raw shows it in hex)')
  })

  it('--from-sequence and --from-datetime select the first event; a partition with nothing after its checkpoint shows none', async () => {
    const bySequence = (await peek(['--partition', '0', '--from-sequence', '1', '--count', '2', '--json'])).json<PeekResult>()
    expect(bySequence.events.map((e) => e.sequenceNumber)).to.deep.equal([1, 2])
    expect(bySequence.stoppedAt).to.equal('count')
    expect(bySequence.events[0]!.body).to.deep.equal({kind: 'json', encoding: 'json', size: 7, truncated: false, data: {i: 1}})

    const exactly = (await peek(['--partition', '0', '--from-datetime', at(4).toISOString(), '--json'])).json<PeekResult>()
    expect(exactly.events.map((e) => e.sequenceNumber)).to.deep.equal([4])
    expect(exactly.from).to.deep.equal({kind: 'datetime', sequenceNumber: null, datetime: at(4).toISOString()})
    const between = new Date(at(4).getTime() + 1).toISOString()
    const next = (await peek(['--partition', '0', '--from-datetime', between, '--json'])).json<PeekResult>()
    expect(next.events.map((e) => e.sequenceNumber)).to.deep.equal([5])

    const none = await peek(['--partition', '1', '--json'])
    expect(none.code, none.stderr).to.equal(0)
    expect(none.json<PeekResult>()).to.deep.include({
      events: [],
      stoppedAt: 'end',
      checkpoint: {sequenceNumber: 1, offset: hubs.events(HUB, '1')[1]!.offset},
    })
    const told = await peek(['--partition', '1'])
    expect(told.stdout.trim()).to.equal(
      "No events in partition 1 after $default's checkpoint (1), read through consumer group ehcp: the partition's last event is 1.",
    )
    expect(processErrors).to.deep.equal([])
    expect(processCloses).to.deep.equal([])
  })

  it('--verbose logs the SDK requests without a secret: neither the Event Hubs key nor the storage key', async () => {
    const hubKey = 'EHCP-PEEK-KEY-never-print-me-0123456789'
    const hubsCs = hubs.connectionString().replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${hubKey}`)
    const storageKey = /AccountKey=([^;]+)/.exec(c.args.join(' '))![1]!
    const run = await runEhcp(
      ['peek', '--eventhub', HUB, '--partition', '0', '--eventhubs-consumer-group', 'ehcp', '--verbose', ...c.args],
      {cwd, env: {EVENTHUBS_CONNECTION_STRING: hubsCs, AZURE_LOG_LEVEL: 'verbose', DEBUG: '*'}},
    )
    expect(run.code, run.stderr.slice(-2000)).to.equal(0)
    expect(run.stdout).to.match(/^Event 3\n/)
    expect(run.stderr.length, 'the SDKs logged').to.be.greaterThan(0)
    for (const secret of [hubKey, storageKey]) expect((run.stdout + run.stderr).includes(secret), secret.slice(0, 6)).to.equal(false)
  })

  it("refuses to read through the application's own consumer group (exit 5), attaching nothing", async () => {
    const attachesBefore = hubs.receiverAttaches().length
    for (const readerGroup of [[], ['--eventhubs-consumer-group', '$DEFAULT']]) {
      const run = await peek(['--partition', '0', '--json'], readerGroup)
      expect(run.code, run.stdout + run.stderr).to.equal(5)
      const {error} = run.json<{error: {code: string; message: string; hint: string}}>()
      expect(error.code).to.equal('reader-refused')
      expect(error.message).to.match(/other than the application's/)
      expect(error.hint).to.match(/--eventhubs-consumer-group/)
    }
    expect(hubs.receiverAttaches().slice(attachesBefore)).to.deep.equal([])
  })

  it('bad flags exit 2, a group or partition that is not there exits 3, and no receiver is attached', async () => {
    const attachesBefore = hubs.receiverAttaches().length
    for (const args of [
      ['--from-sequence', '1', '--from-datetime', at(1).toISOString()],
      ['--from-datetime', 'yesterday'],
      ['--count', '0'],
      ['--max-bytes', '0'],
    ]) {
      const run = await peek(['--partition', '0', ...args])
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(2)
    }
    const missing = await peek([])
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.include('Missing required flag --partition')
    const noGroup = await peek(['--partition', '0', '--consumer-group', 'billing'])
    expect(noGroup.code, noGroup.stderr).to.equal(3)
    const noPartition = await peek(['--partition', '7'])
    expect(noPartition.code, noPartition.stderr).to.equal(3)
    expect(noPartition.stderr).to.include('Event hub "orders" has no partition 7.')
    expect(hubs.receiverAttaches().slice(attachesBefore)).to.deep.equal([])
  })
})
