/**
 * `ehcp doctor --keda STRATEGY` through the CLI with --json: every KEDA checkpointStrategy against the blobs of
 * every layout, written as their writers write them, with the names typed exactly and in another casing. A
 * strategy made for the layout finds and reads every partition (exit 0); any other is an error (exit 13) that
 * names what KEDA would miss. (test/unit/doctor-keda.test.ts checks each verdict's details.)
 */
import {BlobServiceClient, type ContainerClient} from '@azure/storage-blob'
import {expect} from 'chai'

import type {DoctorReport} from '../../src/doctor/diagnose.js'
import {FUNCTIONS_V4_CONTAINER} from '../../src/store/layouts.js'
import {describeRun, ehcpOn} from '../support/cli.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const NS = 'contoso.servicebus.windows.net'
const dotnet = (p: string, seq: number) =>
  `{"Offset":"${seq * 10}","SequenceNumber":${seq},"PartitionId":"${p}","Owner":"","Token":"","Epoch":1}`
const go = (p: string, seq: number) =>
  `{"partitionID":"${p}","epoch":1,"owner":"","checkpoint":{"offset":"${seq * 10}","sequenceNumber":${seq},"enqueueTime":"2026-12-01T10:00:00Z"},"state":"","token":""}`
const python = (p: string, seq: number) =>
  `{"partition_id": "${p}", "sequence_number": ${seq}, "owner": "", "token": "", "epoch": 1, "event_processor_context": null, "offset": "${seq * 10}"}`

interface Layout {
  name: string
  /** The strategy made for it (none for python-eph). */
  strategy: string | null
  functions?: boolean
  write: (c: ContainerClient, p: string) => Promise<unknown>
}

const body = (c: ContainerClient, name: string, text: string) => c.getBlockBlobClient(name).upload(text, Buffer.byteLength(text))

const LAYOUTS: Layout[] = [
  {
    name: 'modern (JS, .NET, Python, Go: lower-cased)',
    strategy: 'blobMetadata',
    write: (c, p) =>
      c.getBlockBlobClient(`${NS}/orders/$default/checkpoint/${p}`).upload('', 0, {metadata: {sequencenumber: '5', offset: '50'}}),
  },
  {name: 'functions-v4', strategy: 'azureFunction', functions: true, write: (c, p) => body(c, `${NS}/orders/$Default/${p}`, dotnet(p, 5))},
  {name: 'eph', strategy: 'default', write: (c, p) => body(c, `$Default/${p}`, dotnet(p, 5))},
  {name: 'go', strategy: 'goSdk', write: (c, p) => body(c, p, go(p, 5))},
  {name: 'dapr', strategy: 'dapr', write: (c, p) => body(c, `dapr-orders-$Default-${p}`, go(p, 5))},
  {name: 'python-eph', strategy: null, write: (c, p) => body(c, p, python(p, 5))},
]
const STRATEGIES = ['azureFunction', 'blobMetadata', 'goSdk', 'dapr', 'default']

describe('doctor --keda: every strategy against every layout, through the CLI', function () {
  this.timeout(300_000)
  let c: TestContainer
  let functions: ContainerClient

  before(async () => {
    c = await freshContainer()
    functions = BlobServiceClient.fromConnectionString(c.azurite.connectionString()).getContainerClient(FUNCTIONS_V4_CONTAINER)
  })
  after(() => c.dispose())

  const runs: string[] = []
  for (const layout of LAYOUTS) {
    it(`${layout.name}: its strategy reads it, every other one is an error`, async () => {
      const container = layout.functions ? functions : c.client
      await container.deleteIfExists()
      await container.create()
      try {
        for (const p of ['0', '1']) await layout.write(container, p)
        const ehcp = ehcpOn({name: layout.functions ? FUNCTIONS_V4_CONTAINER : c.name, azurite: c.azurite})
        for (const strategy of STRATEGIES) {
          const r = await ehcp([
            'doctor',
            '--keda',
            strategy,
            '--namespace',
            NS,
            '--eventhub',
            'orders',
            '--consumer-group',
            '$Default',
            '--json',
          ])
          runs.push(`${layout.name} x ${strategy}`)
          const report = r.json<DoctorReport>()
          const keda = report.findings.filter((f) => f.code.startsWith('keda-'))
          expect(keda.length, describeRun(r)).to.be.greaterThan(0)
          if (strategy === layout.strategy) {
            expect(r.code, `${strategy}: ${describeRun(r)}`).to.equal(0)
            expect(keda.map((f) => f.code)).to.include('keda-reads-checkpoints')
          } else {
            expect(r.code, `${strategy} on ${layout.name}: ${describeRun(r)}`).to.equal(13)
            expect(keda.some((f) => f.severity === 'error' && f.code !== 'keda-reads-checkpoints')).to.equal(true)
          }
        }
      } finally {
        if (layout.functions) await functions.deleteIfExists()
      }
    })
  }

  it('names typed in another casing than the blobs: KEDA misses them, and the finding says which spelling to use', async () => {
    const container = c.client
    await container.deleteIfExists()
    await container.create()
    for (const p of ['0', '1']) {
      await LAYOUTS[0]!.write(container, p)
      await LAYOUTS[2]!.write(container, p)
    }
    const ehcp = ehcpOn(c)
    const hub = await ehcp(['doctor', '--keda', 'blobMetadata', '--namespace', NS, '--eventhub', 'Orders', '--json'])
    expect(hub.code, describeRun(hub)).to.equal(13)
    const casing = hub.json<DoctorReport>().findings.find((f) => f.code === 'keda-checkpoint-name-casing')
    expect(casing?.message, describeRun(hub)).to.contain('orders')
    const group = await ehcp(['doctor', '--keda', 'default', '--consumer-group', '$default', '--json'])
    expect(group.code, describeRun(group)).to.equal(13)
    expect(group.json<DoctorReport>().findings.map((f) => f.code)).to.include('keda-checkpoint-name-casing')
    const alone = await ehcp(['doctor', '--namespace', NS, '--eventhub', 'orders', '--keda', '--json'])
    expect(alone.code, describeRun(alone)).to.equal(0)
    expect(alone.json<DoctorReport>().findings.map((f) => f.code)).to.include('keda-recommended-strategy')
  })

  it('ran every layout against every strategy', () => {
    expect(runs).to.have.length(LAYOUTS.length * STRATEGIES.length)
  })
})
