/**
 * Lease blobs left by retired SDKs, written byte for byte as each writer writes them (real blob leases held
 * in Azurite): `list` reports each group with its layout in one listing, and what no legacy writer wrote
 * stays a foreign blob.
 */
import {BlobServiceClient} from '@azure/storage-blob'
import {expect} from 'chai'

import type {ContainerSummary} from '../../src/store/summary.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {DAPR, EPH_DOTNET, EPH_JAVA, EPH_JS, FUNCTIONS_V4, GO, NS, PYTHON_EPH, writeLegacy} from '../support/legacy-corpus.js'
import {freshContainer, putBlob, sharedAzurite, type TestContainer} from '../support/services.js'

type Row = ContainerSummary['groups'][number]

const pick = (g: Row) => ({
  layout: g.layout,
  namespace: g.namespace,
  eventHub: g.eventHub,
  consumerGroup: g.consumerGroup,
  partitions: g.partitions,
  ownedPartitions: g.ownedPartitions,
  activeOwners: g.activeOwners,
})

describe('legacy layouts: list', function () {
  let mixed: TestContainer
  let python: TestContainer

  before(async function () {
    mixed = await freshContainer()
    python = await freshContainer()
    await writeLegacy(mixed.client, [...EPH_DOTNET, ...EPH_JAVA, ...EPH_JS, ...GO, ...DAPR])
    await putBlob(mixed.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '5', offset: '500'})
    // Look like lease blobs by name, but no legacy writer wrote them.
    await mixed.client.getBlockBlobClient('7').upload('not json', 8)
    await mixed.client.getBlockBlobClient('stray/3').upload('{"hello":1}', 11)
    await writeLegacy(python.client, PYTHON_EPH)
  })

  after(async () => {
    await mixed?.dispose()
    await python?.dispose()
  })

  it('finds every layout in one listing, with owners from the real blob leases', async () => {
    const r = await runEhcp(['list', ...mixed.args, '--json'])
    expect(r.code, describeRun(r)).to.equal(0)
    const summary = r.json<ContainerSummary>()
    expect(summary.groups.map(pick)).to.deep.equal([
      {layout: 'modern', namespace: NS, eventHub: 'orders', consumerGroup: '$default', partitions: 1, ownedPartitions: 0, activeOwners: []},
      {layout: 'dapr', namespace: null, eventHub: 'orders', consumerGroup: '$Default', partitions: 2, ownedPartitions: 0, activeOwners: []},
      {
        layout: 'eph',
        namespace: null,
        eventHub: null,
        consumerGroup: '$Default',
        partitions: 3,
        ownedPartitions: 1,
        activeOwners: ['host-a'],
      },
      {layout: 'eph', namespace: null, eventHub: null, consumerGroup: 'billing', partitions: 2, ownedPartitions: 0, activeOwners: []},
      {layout: 'eph', namespace: null, eventHub: null, consumerGroup: 'jsgroup', partitions: 1, ownedPartitions: 0, activeOwners: []},
      {layout: 'go', namespace: null, eventHub: null, consumerGroup: null, partitions: 4, ownedPartitions: 0, activeOwners: []},
    ])
    const legacy = summary.groups.filter((g) => g.layout !== 'modern')
    expect(legacy.map((g) => g.blobPrefix)).to.deep.equal(['dapr-orders-$Default-', '', 'app1/', '', 'filebeat/'])
    expect(legacy.map((g) => g.checkpoints)).to.deep.equal([null, null, null, null, null])
    const foreign = summary.problems.filter((p) => p.code === 'foreign-blob').map((p) => p.blobName)
    expect(foreign.sort()).to.deep.equal(['7', 'stray/3'])
  })

  it('keeps one layout with --layout, and a scope flag only where the layout records that name', async () => {
    const eph = await runEhcp(['list', ...mixed.args, '--json', '--layout', 'eph'])
    expect(eph.code, describeRun(eph)).to.equal(0)
    expect(eph.json<ContainerSummary>().groups.map((g) => g.consumerGroup)).to.deep.equal(['$Default', 'billing', 'jsgroup'])
    const modern = await runEhcp(['list', ...mixed.args, '--json', '--layout', 'modern'])
    expect(modern.json<ContainerSummary>().groups.map((g) => g.layout)).to.deep.equal(['modern'])
    const byGroup = await runEhcp(['list', ...mixed.args, '--json', '--consumer-group', '$DEFAULT'])
    expect(byGroup.json<ContainerSummary>().groups.map((g) => g.layout)).to.deep.equal(['modern', 'dapr', 'eph'])
  })

  it('reads Python v1 blobs at the container root', async () => {
    const r = await runEhcp(['list', ...python.args, '--json'])
    expect(r.code, describeRun(r)).to.equal(0)
    expect(r.json<ContainerSummary>().groups.map(pick)).to.deep.equal([
      {layout: 'python-eph', namespace: null, eventHub: null, consumerGroup: null, partitions: 2, ownedPartitions: 0, activeOwners: []},
    ])
  })

  it('shows the layout column in the table, "-" where a layout records no name', async () => {
    const r = await runEhcp(['list', ...mixed.args])
    expect(r.code, describeRun(r)).to.equal(0)
    expect(r.stdout).to.match(/LAYOUT/)
    expect(r.stdout).to.match(/go \(filebeat\/\)\s+│?\s*-/)
  })

  it('reads Functions v4 leases in azure-webjobs-eventhub, matching the hub by either spelling', async () => {
    const az = await sharedAzurite()
    const service = BlobServiceClient.fromConnectionString(az.connectionString())
    const client = service.getContainerClient('azure-webjobs-eventhub')
    await client.createIfNotExists()
    try {
      await writeLegacy(client, FUNCTIONS_V4)
      const args = ['--connection-string', az.connectionString(), '--container', 'azure-webjobs-eventhub', '--json']
      const r = await runEhcp(['list', ...args, '--eventhub', 'Orders EU'])
      expect(r.code, describeRun(r)).to.equal(0)
      expect(r.json<ContainerSummary>().groups.map(pick)).to.deep.equal([
        {
          layout: 'functions-v4',
          namespace: NS,
          eventHub: 'orders:20eu',
          consumerGroup: '$Default',
          partitions: 2,
          ownedPartitions: 1,
          activeOwners: ['fn-host'],
        },
      ])
    } finally {
      await client.deleteIfExists()
    }
  })
})
