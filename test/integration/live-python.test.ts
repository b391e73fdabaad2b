/**
 * `reset --live` against a processor of the Python SDK (azure-eventhub's EventHubConsumerClient with its
 * BlobCheckpointStore, Debian's python3-azure) on the Event Hubs stand-in: the processor is never restarted, loses
 * each partition once (OWNERSHIP_LOST), and resumes at exactly the rewound event; nothing stays held by ehcp.
 * test/support/python-processor.ts says what the Python SDK needs of the services (TLS on port 5671, a loose Azurite).
 */
import {BlobServiceClient, type ContainerClient} from '@azure/storage-blob'
import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import type {GroupView} from '../../src/store/group.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {liveResetArgs} from '../support/live-args.js'
import {type PythonProcessor, type PythonServices, startPythonProcessor, startPythonServices} from '../support/python-processor.js'
import {waitFor} from '../support/wait.js'

const HUB = 'live'
const PARTITIONS = 4
const CONTAINER = `py-live-${Date.now().toString(36)}`

describe('reset --live: the mechanism, with a processor of the Python SDK', function () {
  this.timeout(180_000)
  let services: PythonServices
  let container: ContainerClient
  let producer: NodeJS.Timeout | undefined
  let processor: PythonProcessor | undefined
  const ehcp = (args: string[]) =>
    runEhcp([...args, '--emulator', '--container', CONTAINER], {
      env: {EHCP_EMULATOR_BLOB_ENDPOINT: services.azurite.blobEndpoint(), ...services.ehcpEnv},
      timeoutMs: 120_000,
    })

  before(async () => {
    services = await startPythonServices()
    container = BlobServiceClient.fromConnectionString(services.azurite.connectionString()).getContainerClient(CONTAINER)
    await container.create()
    services.hubs.createHub(HUB, PARTITIONS, ['ehcp'])
    let i = 0
    producer = setInterval(() => {
      for (let p = 0; p < PARTITIONS; p++) services.hubs.append(HUB, String(p), [{body: {i}}])
      i++
    }, 50)
  })
  after(async () => {
    clearInterval(producer)
    await processor?.stop()
    await services?.stop()
  })

  it('rewinds every partition by 30 events while the processor runs: it resumes there, losing each partition once', async () => {
    processor = await startPythonProcessor({services, hub: HUB, consumerGroup: '$Default', container: CONTAINER})
    const python = processor
    const ids = Array.from({length: PARTITIONS}, (_, p) => String(p))
    const state = () => JSON.stringify({claims: python.claims, closes: python.closes, errors: python.errors, stderr: python.stderr()})
    await waitFor(
      'every partition processed and checkpointed',
      () => ids.every((p) => (python.processed.get(p)?.length ?? 0) > 40),
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${state()}`)
    })
    const before = new Map(ids.map((p) => [p, python.processed.get(p)!.length]))
    const r = await ehcp(liveResetArgs(HUB, ['--shift-by', '-30'], {batch: 2, wait: '30s'}))
    expect(r.code, `${describeRun(r)}\n${state()}`).to.equal(0)
    const report = r.json<ChangeResult>()
    expect(report.partitions).to.have.length(PARTITIONS)
    for (const row of report.partitions) {
      expect(row.status, JSON.stringify(row)).to.equal('updated')
      expect(row.live?.verdict, JSON.stringify(row)).to.equal('resumed')
      const after = (row.after as {sequenceNumber: number}).sequenceNumber
      // What the processor read after the change began: on from where it was, then (once) back to the event after
      // the rewound checkpoint, and on from there.
      const seen = python.processed.get(row.partitionId)!.slice(before.get(row.partitionId)!)
      const backwards = seen.flatMap((n, i) => (i > 0 && n <= seen[i - 1]! ? [n] : []))
      expect(backwards, `partition ${row.partitionId} read ${JSON.stringify(seen)}: ${JSON.stringify(row)} ${state()}`).to.deep.equal([
        after + 1,
      ])
    }
    // Each partition was taken from the processor once, and given back: the same process claimed it again.
    expect(
      python.closes
        .filter((x) => x.reason === 'OWNERSHIP_LOST')
        .map((x) => x.partitionId)
        .sort(),
      state(),
    ).to.deep.equal(ids)
    for (const p of ids)
      expect(
        python.claims.filter((c) => c === p),
        state(),
      ).to.have.length(2)
    const shown = await ehcp(['show', '--eventhub', HUB, '--json'])
    expect(shown.code, describeRun(shown)).to.equal(0)
    const view = shown.json<GroupView>()
    expect(view.partitions).to.have.length(PARTITIONS)
    expect(python.ownerId).to.be.a('string')
    expect(
      view.partitions.map((p) => p.ownership?.ownerId),
      'every partition is the Python processor own again, none is left to ehcp-live-*',
    ).to.deep.equal(ids.map(() => python.ownerId))
  })
})
