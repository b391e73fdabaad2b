/**
 * `ehcp migrate` end to end: legacy lease blobs (written byte for byte as the retired SDKs write them) become
 * modern checkpoints that the official JS processor (EventHubConsumerClient with the official blob store,
 * against the Event Hubs stand-in) resumes from at exactly the event after each legacy checkpoint. A second
 * run changes nothing; a leased source refuses and writes nothing; the printed undo leaves the container
 * as it was.
 */
import {execFile} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {EventHubConsumerClient, latestEventPosition, type ReceivedEventData} from '@azure/event-hubs'
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin, offsetOf} from '../../local/eventhubs-standin.js'
import type {ChangeResult} from '../../src/change/execute.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {writeLegacy} from '../support/legacy-corpus.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {snapshot} from '../support/snapshot.js'
import {sleep} from '../support/wait.js'

/** The sequence number a change side carries (positions only), or null. */
const seqOf = (side: unknown) => (side && typeof side === 'object' && 'sequenceNumber' in side ? side.sequenceNumber : null)

const PYTHON_JUDGE = fileURLToPath(new URL('../../../test/support/python-judge.py', import.meta.url))

/** The checkpoints as the Python SDK's BlobCheckpointStore lists them (Debian's python3-azure, for Debian's own /usr/bin/python3: .ci/run installs it). */
async function pythonReads(c: TestContainer, namespace: string, hub: string, group: string): Promise<unknown> {
  const {stdout} = await promisify(execFile)('/usr/bin/python3', [
    PYTHON_JUDGE,
    c.azurite.connectionString(),
    c.name,
    namespace,
    hub,
    group,
  ])
  return JSON.parse(stdout)
}

const NS = '127.0.0.1' // a processor names the namespace after its connection's host
const HUB = 'orders'

const dotnet = (pid: string, seq: number | null) =>
  seq === null
    ? `{"Offset":null,"SequenceNumber":0,"PartitionId":"${pid}","Owner":"","Token":"","Epoch":0}`
    : `{"Offset":"${offsetOf(seq)}","SequenceNumber":${seq},"PartitionId":"${pid}","Owner":"host-a","Token":"","Epoch":7}`

describe('migrate: legacy checkpoints to the modern layout', function () {
  this.timeout(180_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-migrate-'))

  before(async () => {
    hubs = await EventHubsStandin.start()
    hubs.createHubWithEvents(HUB, 3, 30, (p, i) => ({body: {p: String(p), i}}))
  })
  after(() => hubs.stop())
  beforeEach(async () => {
    c = await freshContainer()
  })
  afterEach(() => c.dispose())

  const ehcp = (args: string[]) => runEhcp([...args, ...c.args], {cwd, env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()}})
  const migrateEph = (...extra: string[]) =>
    ehcp(['migrate', '--layout', 'eph', '--consumer-group', '$Default', '--namespace', NS, '--eventhub', HUB, ...extra])

  /** The first sequence number the official processor receives per partition, starting from the stored checkpoints. */
  async function firstReceived(partitions: string[]): Promise<Record<string, number>> {
    const client = new EventHubConsumerClient('$Default', hubs.connectionString(HUB), new BlobCheckpointStore(c.client), {
      loadBalancingOptions: {strategy: 'greedy', updateIntervalInMs: 500},
      retryOptions: {maxRetries: 1, timeoutInMs: 5000},
    })
    const first: Record<string, number> = {}
    const subscription = client.subscribe(
      {
        processEvents: async (events: ReceivedEventData[], context) => {
          if (events.length && first[context.partitionId] === undefined) first[context.partitionId] = events[0]!.sequenceNumber
        },
        processError: async () => {},
      },
      // A partition without a checkpoint would start here (the end): nothing arrives from it.
      {maxBatchSize: 10, maxWaitTimeInSeconds: 1, startPosition: latestEventPosition},
    )
    const deadline = Date.now() + 30_000
    while (partitions.some((p) => first[p] === undefined) && Date.now() < deadline) await sleep(100)
    await subscription.close()
    await client.close()
    return first
  }

  it('the official processor resumes every partition at exactly the event after the legacy checkpoint; a second run changes nothing', async () => {
    await writeLegacy(c.client, [
      {name: '$Default/0', body: dotnet('0', 9)},
      {name: '$Default/1', body: dotnet('1', 21)},
      {name: '$Default/2', body: dotnet('2', null)},
    ])
    const before = await snapshot(c.client)
    const r = await migrateEph('--yes', '--json')
    expect(r.code, describeRun(r)).to.equal(0)
    const result = r.json<ChangeResult>()
    expect(result.partitions.map((p) => [p.partitionId, p.status, p.after])).to.deep.equal([
      ['0', 'updated', {sequenceNumber: 9, offset: offsetOf(9)}],
      ['1', 'updated', {sequenceNumber: 21, offset: offsetOf(21)}],
      ['2', 'unchanged', null],
    ])
    expect(result.partitions[2]!.warnings.join(' ')).to.match(/never checkpointed/)
    // The legacy blobs are kept exactly as they were.
    const after = await snapshot(c.client)
    expect(before.size).to.equal(3)
    for (const [name, blob] of before) expect(after.get(name), name).to.deep.equal(blob)
    expect([...after.keys()].filter((n) => !before.has(n)).sort()).to.deep.equal([
      `${NS}/${HUB}/$default/checkpoint/0`,
      `${NS}/${HUB}/$default/checkpoint/1`,
    ])

    expect(await firstReceived(['0', '1'])).to.deep.include({'0': 10, '1': 22})
    // The Python SDK's store reads the same positions.
    expect(await pythonReads(c, NS, HUB, '$Default')).to.deep.equal([
      {partitionId: '0', sequenceNumber: 9, offset: offsetOf(9)},
      {partitionId: '1', sequenceNumber: 21, offset: offsetOf(21)},
    ])

    const again = await migrateEph('--yes', '--json')
    expect(again.code, describeRun(again)).to.equal(0)
    const statuses = again.json<ChangeResult>().partitions.map((p) => [p.partitionId, p.status])
    expect(statuses).to.deep.equal([
      ['0', 'unchanged'],
      ['1', 'unchanged'],
      ['2', 'unchanged'],
    ])
    expect(again.json<ChangeResult>().partitions[0]!.warnings.join(' ')).to.match(/a modern checkpoint exists/)
  })

  it('a leased source refuses (exit 5, owners named) and writes nothing; --force migrates and says the old hosts still run', async () => {
    await writeLegacy(c.client, [
      {name: '$Default/0', body: dotnet('0', 9), metadata: {OWNINGHOST: 'old-host'}, leaseId: '33333333-3333-3333-3333-333333333333'},
      {name: '$Default/1', body: dotnet('1', 21)},
    ])
    const before = await snapshot(c.client)
    const refused = await migrateEph('--yes')
    expect(refused.code, describeRun(refused)).to.equal(5)
    expect(refused.stderr)
      .to.match(/old-host/)
      .and.to.match(/partition\(s\) 0/)
    expect(await snapshot(c.client)).to.deep.equal(before)
    const forced = await migrateEph('--yes', '--force', '--json')
    expect(forced.code, describeRun(forced)).to.equal(0)
    expect(forced.json<ChangeResult>().notes.join(' ')).to.match(/still hold leases/)
  })

  it('leaves an existing modern checkpoint alone unless --overwrite; the undo deletes what migrate created', async () => {
    await writeLegacy(c.client, [
      {name: '$Default/0', body: dotnet('0', 9)},
      {name: '$Default/1', body: dotnet('1', 21)},
    ])
    await putBlob(c.client, `${NS}/${HUB}/$default/checkpoint/0`, {sequencenumber: '25', offset: offsetOf(25)})
    const before = await snapshot(c.client)
    const r = await migrateEph('--yes', '--json')
    expect(r.code, describeRun(r)).to.equal(0)
    const result = r.json<ChangeResult>()
    expect(result.partitions.map((p) => [p.partitionId, p.status])).to.deep.equal([
      ['0', 'unchanged'],
      ['1', 'updated'],
    ])
    const undo = await runEhcp(['reset', '--from-file', result.backupFile!, ...c.args, '--yes'], {
      cwd,
      env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
    })
    expect(undo.code, describeRun(undo)).to.equal(0)
    expect(await snapshot(c.client)).to.deep.equal(before)
    const overwrite = await migrateEph('--yes', '--overwrite', '--json')
    expect(overwrite.json<ChangeResult>().partitions.map((p) => [p.partitionId, p.status, seqOf(p.after)])).to.deep.equal([
      ['0', 'updated', 9],
      ['1', 'updated', 21],
    ])
  })

  it('Go sentinels are never copied: skipped and said, or resolved as earliest or latest on request', async () => {
    const go = (pid: string, cp: string) => `{"partitionID":"${pid}","epoch":1,"owner":"g","checkpoint":${cp},"state":"","token":""}`
    await writeLegacy(c.client, [
      {name: '0', body: go('0', `{"offset":"${offsetOf(4)}","sequenceNumber":4,"enqueueTime":"2024-01-01T00:00:00Z"}`)},
      {name: '1', body: go('1', '{"offset":"-1","sequenceNumber":0,"enqueueTime":"0001-01-01T00:00:00Z"}')},
      {name: '2', body: go('2', '{"offset":"@latest","sequenceNumber":0,"enqueueTime":"0001-01-01T00:00:00Z"}')},
    ])
    const args = ['migrate', '--layout', 'go', '--namespace', NS, '--eventhub', HUB, '--consumer-group', '$Default']
    const skipped = await ehcp([...args, '--dry-run', '--json'])
    expect(skipped.code, describeRun(skipped)).to.equal(0)
    const plan = skipped.json<ChangeResult>().partitions
    expect(plan.map((p) => [p.partitionId, seqOf(p.after)])).to.deep.equal([
      ['0', 4],
      ['1', null],
      ['2', null],
    ])
    expect(plan[1]!.warnings.join(' ')).to.match(/sentinel start-of-stream/)
    const earliest = await ehcp([...args, '--sentinels', 'earliest', '--dry-run', '--json'])
    expect(earliest.code, describeRun(earliest)).to.equal(0)
    const byId = Object.fromEntries(earliest.json<ChangeResult>().partitions.map((p) => [p.partitionId, p.after]))
    expect(byId['1']).to.deep.equal({sequenceNumber: -1, offset: '-1'})
    expect(byId['2']).to.deep.equal({sequenceNumber: -1, offset: '-1'})
  })

  it('names what is missing: the modern group in full, the source scope, a source with no blobs', async () => {
    const partial = await ehcp(['migrate', '--layout', 'eph', '--eventhub', HUB, '--consumer-group', '$Default'])
    expect(partial.code, describeRun(partial)).to.equal(2)
    expect(partial.stderr).to.match(/--namespace, --eventhub and --consumer-group/)
    const none = await migrateEph('--dry-run')
    expect(none.code, describeRun(none)).to.equal(3)
    const noLayout = await ehcp(['migrate', '--namespace', NS, '--eventhub', HUB, '--consumer-group', '$Default'])
    expect(noLayout.code, describeRun(noLayout)).to.equal(2)
  })
})
