/**
 * Races with a live processor: a real `EventHubConsumerClient` (official `BlobCheckpointStore`, greedy load
 * balancing) checkpoints continuously while ehcp runs `reset --force` and `release-ownership` over and over,
 * both at once. Every storage request from either side passes a recording proxy, so each ehcp write can be
 * traced to the exact state it replaced:
 *   - every ehcp write carries If-Match (or If-None-Match: * when creating);
 *   - every partition ehcp reports `updated` was written by ehcp, with the reported new value, over exactly
 *     the state it reported as `before` (the ETag it matched belongs to a write holding that value), so no
 *     processor checkpoint or heartbeat is ever replaced unseen;
 *   - every partition reported `conflict` met a 412 and was not written; the exit code agrees (0, 5 or 6);
 *   - the processor never fails to read or write the store, and keeps checkpointing to the end.
 * The CI run is short; `npm run soak` runs the long one (EHCP_SOAK_ROUNDS, EHCP_SOAK_PARTITIONS).
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {type CheckpointStore, EventHubConsumerClient, type Subscription, earliestEventPosition} from '@azure/event-hubs'
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {ContainerClient, StorageSharedKeyCredential} from '@azure/storage-blob'
import {expect} from 'chai'

import {EMULATOR_ACCOUNT, EMULATOR_KEY} from '../../local/azurite.js'
import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {ChangeResult, PartitionResult} from '../../src/change/execute.js'
import {runEhcp, type CliResult} from '../support/cli.js'
import {seededRandom} from '../support/fault-proxy.js'
import {type LoggedRequest, type RequestLog, startRequestLog} from '../support/request-log.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {sleep, waitFor} from '../support/wait.js'

const ROUNDS = Number(process.env.EHCP_SOAK_ROUNDS ?? 5)
const PARTITIONS = Number(process.env.EHCP_SOAK_PARTITIONS ?? 8)
const HUB = 'soak'
const NS = '127.0.0.1'
const RESETS = [['--to-earliest'], ['--to-latest'], ['--shift-by=-3'], ['--by-duration', '2s']]

/** A write as the proxy saw it: which blob, with what metadata and conditions, and how it was answered. */
interface Write {
  blobName: string
  metadata: Record<string, string>
  ifMatch?: string
  ifNoneMatch?: string
  status?: number
  etag?: string
}

/** Listings give ETags bare and responses quoted; the service accepts both in If-Match. */
const unquoted = (etag: string | undefined) => etag?.replace(/^"(.*)"$/, '$1')

function writesIn(requests: LoggedRequest[], container: string): Write[] {
  const prefix = `/${EMULATOR_ACCOUNT}/${container}/`
  return requests
    .filter((r) => r.method === 'PUT' && r.path.startsWith(prefix))
    .map((r) => ({
      blobName: decodeURIComponent(r.path.slice(prefix.length)),
      metadata: Object.fromEntries(
        Object.entries(r.headers).flatMap(([k, v]) => (k.startsWith('x-ms-meta-') ? [[k.slice(10), String(v)]] : [])),
      ),
      ifMatch: unquoted(r.headers['if-match'] as string | undefined),
      ifNoneMatch: r.headers['if-none-match'] as string | undefined,
      status: r.status,
      etag: unquoted(r.etag),
    }))
}

const ok = (w: Write) => w.status !== undefined && w.status >= 200 && w.status < 300

/** The value a change result names, as the metadata keys the official store writes. */
function asMetadata(side: PartitionResult['before']): Record<string, string> | null {
  if (!side) return null
  if ('ownerId' in side) return {ownerid: side.ownerId ?? ''}
  return {sequencenumber: String(side.sequenceNumber), offset: String(side.offset)}
}

const holds = (metadata: Record<string, string>, expected: Record<string, string>) =>
  Object.entries(expected).every(([k, v]) => metadata[k] === v)

describe('races with a live processor', function () {
  this.timeout(120_000 + ROUNDS * 30_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let processorLog: RequestLog
  let ehcpLog: RequestLog
  let official: BlobCheckpointStore
  let processor: EventHubConsumerClient
  let subscription: Subscription
  let appender: NodeJS.Timeout
  const partitionIds = Array.from({length: PARTITIONS}, (_, p) => String(p))
  const storeFailures: string[] = []
  const processErrors: string[] = []
  const checkpointed = new Map<string, number>()
  let checkpointWrites = 0
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-soak-'))

  /** ehcp against the container through its recording proxy; reads go to the group "ehcp" unless told otherwise. */
  const ehcp = (args: string[], readerGroup: string[] = ['--eventhubs-consumer-group', 'ehcp']) =>
    runEhcp([...args, '--emulator', '--container', c.name, '--eventhub', HUB, '--json', ...readerGroup], {
      cwd,
      env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${ehcpLog.url}/${EMULATOR_ACCOUNT}`, EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
    })

  before(async () => {
    hubs = await EventHubsStandin.start()
    c = await freshContainer()
    processorLog = await startRequestLog(c.azurite.host)
    ehcpLog = await startRequestLog(c.azurite.host)
    hubs.createHubWithEvents(HUB, PARTITIONS, 20, (p, i) => ({body: {p: String(p), i}}))
    hubs.addConsumerGroup(HUB, 'ehcp')

    // The processor's store goes through its own recording proxy; every failure of a store call is kept.
    official = new BlobCheckpointStore(
      new ContainerClient(
        `${processorLog.url}/${EMULATOR_ACCOUNT}/${c.name}`,
        new StorageSharedKeyCredential(EMULATOR_ACCOUNT, EMULATOR_KEY),
      ),
    )
    const watched = async <T>(call: string, work: Promise<T>): Promise<T> => {
      try {
        return await work
      } catch (error) {
        storeFailures.push(`${call}: ${(error as Error).message}`)
        throw error
      }
    }
    const store: CheckpointStore = {
      listOwnership: (...a) => watched('listOwnership', official.listOwnership(...a)),
      claimOwnership: (...a) => watched('claimOwnership', official.claimOwnership(...a)),
      listCheckpoints: (...a) => watched('listCheckpoints', official.listCheckpoints(...a)),
      updateCheckpoint: (...a) => watched('updateCheckpoint', official.updateCheckpoint(...a)),
    }
    processor = new EventHubConsumerClient('$Default', hubs.connectionString(HUB), store, {
      loadBalancingOptions: {strategy: 'greedy', updateIntervalInMs: 250, partitionOwnershipExpirationIntervalInMs: 60_000},
      retryOptions: {maxRetries: 2, timeoutInMs: 5000},
    })
    subscription = processor.subscribe(
      {
        processEvents: async (events, context) => {
          if (!events.length) return
          await context.updateCheckpoint(events.at(-1)!)
          checkpointWrites++
          checkpointed.set(context.partitionId, events.at(-1)!.sequenceNumber)
        },
        processError: async (error, context) => {
          processErrors.push(`[${context.partitionId}] ${error.name}: ${error.message}`)
        },
      },
      {startPosition: earliestEventPosition, maxBatchSize: 5, maxWaitTimeInSeconds: 0.1},
    )
    // Events keep arriving on every partition, so the processor keeps checkpointing throughout.
    let next = 0
    appender = setInterval(() => hubs.append(HUB, partitionIds[next++ % PARTITIONS]!, [{body: {next}}]), 10)
    await waitFor('the processor to own and checkpoint every partition', () => checkpointed.size === PARTITIONS, 30_000, 20)
  })
  after(async () => {
    clearInterval(appender)
    await subscription?.close()
    await processor?.close()
    await Promise.all([processorLog.close(), ehcpLog.close(), hubs.stop()])
    await c.dispose()
  })

  it("reading events in the processor's own consumer group is refused by Event Hubs: show --lag keeps the lag in events, a lookup exits 5 having written nothing", async () => {
    const from = ehcpLog.requests.length
    const lookup = await ehcp(['reset', '--shift-by=-3', '--force', '--yes'], [])
    expect(lookup.code, lookup.stdout + lookup.stderr).to.equal(5)
    const {error} = lookup.json<{error: {code: string; message: string; hint: string}}>()
    expect(error.code).to.equal('reader-refused')
    expect(error.message).to.match(/running processor holds the partition in consumer group "\$Default"/)
    expect(error.hint).to.match(/--eventhubs-consumer-group/)
    expect(writesIn(ehcpLog.requests.slice(from), c.name), 'nothing written').to.deep.equal([])

    type Lagged = {
      partitions: {partitionId: string; lag: {events: number | null; state: string; timeLagSeconds: number | null; reason?: string}}[]
    }
    const refused = await ehcp(['show', '--lag'], [])
    expect(refused.code, refused.stderr).to.equal(0)
    const behind = refused.json<Lagged>().partitions.filter((p) => p.lag.events !== 0)
    expect(behind.length, 'events keep arriving: most partitions are behind').to.be.greaterThan(0)
    for (const p of behind) {
      expect([p.partitionId, p.lag.state, typeof p.lag.events, p.lag.timeLagSeconds]).to.deep.equal([p.partitionId, 'ok', 'number', null])
      expect(p.lag.reason).to.match(/time lag unknown: .*--eventhubs-consumer-group/)
    }
    // With an idle consumer group to read from, the time lag is there too.
    const idle = await ehcp(['show', '--lag'])
    expect(idle.code, idle.stderr).to.equal(0)
    for (const p of idle.json<Lagged>().partitions.filter((q) => q.lag.events !== 0))
      expect(p.lag.timeLagSeconds, p.partitionId).to.be.a('number')
  })

  it(`${ROUNDS} rounds of reset --force and release-ownership against a processor checkpointing ${PARTITIONS} partitions`, async () => {
    const tally = {updated: 0, conflict: 0, unchanged: 0, alreadyHeld: 0, processorStatesReplaced: 0}

    /** Checks one ehcp run against the writes the proxies saw: applied or reported, never an unseen overwrite. */
    const check = (run: CliResult, ehcpWrites: Write[]) => {
      const result = run.json<ChangeResult>()
      expect(result.partitions, run.stdout + run.stderr).to.be.an('array')
      const statuses = result.partitions.map((p) => p.status)
      expect(
        statuses.filter((s) => !['updated', 'conflict', 'unchanged'].includes(s)),
        run.stdout,
      ).to.deep.equal([])
      const expectedCode = statuses.includes('conflict') ? (statuses.includes('updated') ? 6 : 5) : 0
      expect(run.code, `${result.operation}: ${statuses.join(' ')}\n${run.stderr}`).to.equal(expectedCode)
      for (const w of ehcpWrites) expect(w.ifMatch ?? w.ifNoneMatch, `ehcp wrote ${w.blobName} unconditionally`).to.be.a('string')
      const everyWrite = [...writesIn(processorLog.requests, c.name), ...writesIn(ehcpLog.requests, c.name)]
      for (const p of result.partitions) {
        const mine = ehcpWrites.filter((w) => w.blobName === p.blobName)
        const applied = mine.filter(ok)
        const what = `${result.operation} partition ${p.partitionId} (${p.status}${p.reason ? `: ${p.reason}` : ''})`
        if (p.status === 'unchanged') {
          expect(mine, what).to.deep.equal([])
        } else if (p.status === 'conflict') {
          expect(applied, what).to.deep.equal([])
          expect(
            mine.map((w) => w.status),
            what,
          ).to.include(412)
        } else if (applied.length === 0) {
          // Its conditional write met a 412, and reading the blob back found the new value already there.
          expect(p.reason, what).to.match(/^already held the new value/)
          expect(
            mine.map((w) => w.status),
            what,
          ).to.include(412)
          tally.alreadyHeld++
        } else {
          expect(applied, `${what}: one write`).to.have.length(1)
          const write = applied[0]!
          expect(holds(write.metadata, asMetadata(p.after)!), `${what} wrote the reported value`).to.equal(true)
          const before = asMetadata(p.before)
          if (write.ifNoneMatch === '*') {
            expect(before, `${what} created a blob it reported as existing`).to.equal(null)
            continue
          }
          // The state replaced is the one whose ETag the write matched: it must hold what ehcp reported.
          const replaced = everyWrite.find((w) => ok(w) && w.etag === write.ifMatch)
          expect(replaced, `${what}: the ETag it matched (${write.ifMatch}) came from a write the proxies saw`).to.not.equal(undefined)
          expect(replaced!.metadata, `${what}: replaced exactly the state it reported as before`).to.deep.include(before!)
          if (processorLog.requests.some((r) => unquoted(r.etag) === write.ifMatch)) tally.processorStatesReplaced++
        }
        tally[p.status as 'updated' | 'conflict']++
      }
    }

    const random = seededRandom(20261126)
    const last = new Map<string, number>()
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const scenario = RESETS[Math.floor(random() * RESETS.length)]!
        await sleep(Math.floor(random() * 300))
        const from = ehcpLog.requests.length
        // Both at once: a reset under a live owner (forced), and a release of every partition it holds (a blanket
        // release of a live owner: forced too).
        const [reset, release] = await Promise.all([
          ehcp(['reset', ...scenario, '--force', '--yes']),
          ehcp(['release-ownership', '--force', '--yes'], []),
        ])
        const runWrites = writesIn(ehcpLog.requests.slice(from), c.name)
        check(
          reset,
          runWrites.filter((w) => w.blobName.includes('/checkpoint/')),
        )
        check(
          release,
          runWrites.filter((w) => w.blobName.includes('/ownership/')),
        )
      }

      // The processor carries on: it still checkpoints the newest event of every partition.
      clearInterval(appender)
      for (const p of partitionIds) last.set(p, hubs.events(HUB, p).at(-1)!.sequenceNumber)
      await waitFor(
        'the processor to checkpoint the last events',
        () => partitionIds.every((p) => checkpointed.get(p) === last.get(p)),
        30_000,
        20,
      )
    } finally {
      clearInterval(appender)
    }
    expect(storeFailures, 'the processor never failed to read or write the store').to.deep.equal([])
    expect(processErrors, 'the processor reported no errors').to.deep.equal([])

    // Both readers agree on the final state: the official store and ehcp, without a problem reported.
    const checkpoints = await official.listCheckpoints(NS, HUB, '$Default')
    expect(checkpoints.map((cp) => [cp.partitionId, cp.sequenceNumber]).sort()).to.deep.equal(
      partitionIds.map((p) => [p, last.get(p)]).sort(),
    )
    const shown = await runEhcp(['show', '--eventhub', HUB, '--json', ...c.args])
    const view = shown.json<{partitions: {partitionId: string; checkpoint: {sequenceNumber: number}; problems: unknown[]}[]}>()
    expect(view.partitions.map((p) => [p.partitionId, p.checkpoint.sequenceNumber, p.problems.length])).to.deep.equal(
      partitionIds.map((p) => [p, last.get(p), 0]),
    )

    // The races really happened: writes applied over the processor's states, and conflicts met.
    const processorAttaches = hubs.receiverAttaches().filter((a) => a.ownerLevel !== undefined).length
    console.log(
      `      soak: ${ROUNDS} rounds, ${checkpointWrites} processor checkpoints, ${processorAttaches} processor receiver attaches, ehcp ${JSON.stringify(tally)}`,
    )
    expect(tally.conflict, 'some ehcp writes met a processor write').to.be.greaterThan(0)
    expect(tally.updated, 'some ehcp writes applied').to.be.greaterThan(0)
    expect(tally.processorStatesReplaced, 'some applied over a state the processor wrote').to.be.greaterThan(0)
    expect(checkpointWrites).to.be.greaterThan(ROUNDS * PARTITIONS)
  })
})
