/**
 * `reset --live` against one real processor (`@azure/event-hubs` with the official blob store) on the Event Hubs
 * stand-in, which enforces owner-level exclusivity as the service does: the processor is never restarted, loses
 * each partition once (OwnershipLost), and resumes at exactly the rewound event; nothing stays held by ehcp.
 */
import {earliestEventPosition, EventHubConsumerClient} from '@azure/event-hubs'
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {ChangeResult} from '../../src/change/execute.js'
import type {GroupView} from '../../src/store/group.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {liveResetArgs} from '../support/live-args.js'
import {startRequestLog} from '../support/request-log.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {waitFor} from '../support/wait.js'

const HUB = 'live'
const PARTITIONS = 4

describe('reset --live: the mechanism, with one real processor', function () {
  this.timeout(180_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let producer: NodeJS.Timeout | undefined
  const env = () => ({
    EHCP_EMULATOR_BLOB_ENDPOINT: `${c.azurite.host}/devstoreaccount1`,
    EVENTHUBS_CONNECTION_STRING: hubs.connectionString(),
  })
  const ehcp = (args: string[]) => runEhcp([...args, '--emulator', '--container', c.name], {env: env(), timeoutMs: 120_000})

  before(async () => {
    hubs = await EventHubsStandin.start()
    c = await freshContainer()
    hubs.createHub(HUB, PARTITIONS, ['ehcp'])
    let i = 0
    producer = setInterval(() => {
      for (let p = 0; p < PARTITIONS; p++) hubs.append(HUB, String(p), [{body: {i}}])
      i++
    }, 50)
  })
  after(async () => {
    clearInterval(producer)
    await hubs.stop()
    await c.dispose()
  })

  it('rewinds every partition by 30 events while the processor runs: it resumes there, losing each partition once', async () => {
    const processed = new Map<string, number[]>()
    const closes: Array<{partitionId: string; reason: string}> = []
    const errors: Error[] = []
    const client = new EventHubConsumerClient('$Default', hubs.connectionString(HUB), new BlobCheckpointStore(c.client), {
      loadBalancingOptions: {strategy: 'balanced', updateIntervalInMs: 500, partitionOwnershipExpirationIntervalInMs: 10_000},
      retryOptions: {maxRetries: 1, timeoutInMs: 5000},
    })
    const subscription = client.subscribe(
      {
        processEvents: async (events, context) => {
          const list = processed.get(context.partitionId) ?? []
          list.push(...events.map((e) => e.sequenceNumber))
          processed.set(context.partitionId, list)
          if (events.length) await context.updateCheckpoint(events.at(-1)!)
        },
        processError: async (error) => {
          errors.push(error)
        },
        processClose: async (reason, context) => {
          closes.push({partitionId: context.partitionId, reason})
        },
      },
      {maxBatchSize: 5, maxWaitTimeInSeconds: 0.3, startPosition: earliestEventPosition},
    )
    try {
      const ids = Array.from({length: PARTITIONS}, (_, p) => String(p))
      await waitFor('every partition processed and checkpointed', () => ids.every((p) => (processed.get(p)?.length ?? 0) > 40), 30_000)
      const before = new Map(ids.map((p) => [p, processed.get(p)!.length]))
      const r = await ehcp(liveResetArgs(HUB, ['--shift-by', '-30'], {batch: 2, wait: '30s'}))
      expect(r.code, describeRun(r)).to.equal(0)
      const report = r.json<ChangeResult>()
      expect(report.partitions).to.have.length(PARTITIONS)
      for (const row of report.partitions) {
        expect(row.status, JSON.stringify(row)).to.equal('updated')
        expect(row.live?.verdict, JSON.stringify(row)).to.equal('resumed')
        const after = (row.after as {sequenceNumber: number}).sequenceNumber
        // The processor read on from the rewound position: the first event after the change is after + 1.
        const seen = processed.get(row.partitionId)!.slice(before.get(row.partitionId)!)
        expect(
          seen,
          `partition ${row.partitionId} processed ${after + 1} again: ${JSON.stringify({row, closes, errors: errors.map((e) => e.message)})}`,
        ).to.include(after + 1)
      }
      // Each partition was taken from the processor once, and given back.
      expect(
        closes
          .filter((x) => x.reason === 'OwnershipLost')
          .map((x) => x.partitionId)
          .sort(),
      ).to.deep.equal(ids)
      const shown = await ehcp(['show', '--eventhub', HUB, '--json'])
      const view = shown.json<GroupView>()
      expect(
        view.partitions.every((p) => p.ownership?.ownerId && !p.ownership.ownerId.startsWith('ehcp-live-')),
        JSON.stringify(view.partitions.map((p) => p.ownership?.ownerId)),
      ).to.equal(true)
    } finally {
      await subscription.close()
      await client.close()
    }
  })
  it('writes each checkpoint once when nothing lands over it, and claims and releases each ownership (request log)', async () => {
    // The first test's processor has stopped: the partitions are unowned and nothing checkpoints over ehcp's writes.
    const log = await startRequestLog(c.azurite.host)
    try {
      const r = await runEhcp(liveResetArgs(HUB, ['--shift-by', '-5'], {wait: '1s', extra: ['--emulator', '--container', c.name]}), {
        env: {...env(), EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
        timeoutMs: 60_000,
      })
      expect(r.code, describeRun(r)).to.equal(0)
      const rows = r.json<ChangeResult>().partitions
      expect(rows).to.have.length(PARTITIONS)
      const writes = (kind: string) =>
        log.requests.filter((q) => q.method === 'PUT' && q.query.get('comp') === 'metadata' && q.path.includes(`/${kind}/`))
      for (const row of rows) {
        expect(row.status, JSON.stringify(row)).to.equal('updated')
        // Not "written again": ehcp recognises its own write in the listing (quoted and bare ETags alike).
        expect(row.reason ?? '', JSON.stringify(row)).not.to.match(/again/)
        expect(row.live?.verdict, JSON.stringify(row)).to.equal('not-yet')
        expect(writes('checkpoint').filter((q) => q.path.endsWith(`/checkpoint/${row.partitionId}`))).to.have.length(1)
        expect(writes('ownership').filter((q) => q.path.endsWith(`/ownership/${row.partitionId}`)).length).to.be.at.least(2)
      }
    } finally {
      await log.close()
    }
  })
})
