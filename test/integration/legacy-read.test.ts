/**
 * Lease blobs left by retired SDKs, written byte for byte as each writer writes them (real blob leases held
 * in Azurite): `list` reports each group with its layout in one listing, and what no legacy writer wrote
 * stays a foreign blob.
 */
import {BlobServiceClient} from '@azure/storage-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {GroupViewWithLag} from '../../src/eventhubs/lag.js'
import type {LegacyGroupView} from '../../src/store/legacy-group.js'
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

describe('legacy layouts: show', function () {
  this.timeout(120_000)
  let mixed: TestContainer
  let python: TestContainer
  let legacyOnly: TestContainer
  let hubs: EventHubsStandin

  before(async function () {
    ;[mixed, python, legacyOnly] = await Promise.all([freshContainer(), freshContainer(), freshContainer()])
    await writeLegacy(mixed.client, [...EPH_DOTNET, ...EPH_JAVA, ...GO])
    await putBlob(mixed.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '5', offset: '500'})
    await writeLegacy(python.client, PYTHON_EPH)
    await writeLegacy(legacyOnly.client, [...EPH_JS, ...DAPR])
    hubs = await EventHubsStandin.start()
  })

  after(async () => {
    await Promise.all([mixed?.dispose(), python?.dispose(), legacyOnly?.dispose(), hubs?.stop()])
  })

  type Partition = LegacyGroupView['partitions'][number]
  const row = (p: Partition) => ({
    id: p.partitionId,
    seq: p.checkpoint?.sequenceNumber ?? null,
    offset: p.checkpoint?.offset ?? null,
    owner: p.ownership?.ownerId ?? null,
    state: p.ownership?.state ?? 'none',
    position: p.legacy.position,
    lease: p.legacy.leaseState,
  })

  it('shows an EPH group: positions from the bodies, the live owner from the real lease, a fresh lease as no checkpoint', async () => {
    const r = await runEhcp(['show', ...mixed.args, '--layout', 'eph', '--consumer-group', '$Default', '--json'])
    expect(r.code, describeRun(r)).to.equal(0)
    const view = r.json<LegacyGroupView>()
    expect(view).to.include({layout: 'eph', blobPrefix: '$Default/', consumerGroup: '$Default', namespace: null, eventHub: null})
    expect(view.partitions.map(row)).to.deep.equal([
      {id: '0', seq: 960180, offset: '8591964920', owner: 'host-a', state: 'active', position: 'checkpoint', lease: 'leased'},
      {id: '1', seq: 77, offset: '4096', owner: '', state: 'released', position: 'checkpoint', lease: 'available'},
      {id: '2', seq: null, offset: null, owner: '', state: 'released', position: 'none', lease: 'available'},
    ])
    expect(view.partitions[0]!.legacy).to.include({dialect: 'eph-dotnet', owningHost: 'host-a', epoch: 386, body: EPH_DOTNET[0]!.body})
  })

  it('shows Go sentinels as start-of-stream and end-of-stream, never as positions', async () => {
    const r = await runEhcp(['show', ...mixed.args, '--layout', 'go', '--blob-prefix', 'filebeat/', '--json'])
    expect(r.code, describeRun(r)).to.equal(0)
    expect(
      r.json<LegacyGroupView>().partitions.map((p) => [p.partitionId, p.checkpoint?.sequenceNumber ?? null, p.legacy.position]),
    ).to.deep.equal([
      ['0', 678, 'checkpoint'],
      ['1', null, 'none'],
      ['2', null, 'start-of-stream'],
      ['3', null, 'end-of-stream'],
    ])
    const table = await runEhcp(['show', ...mixed.args, '--layout', 'go', '--blob-prefix', 'filebeat/'])
    expect(table.stdout)
      .to.match(/start-of-stream/)
      .and.to.match(/end-of-stream/)
  })

  it('without --layout: the modern group first, else the one legacy group the scope names, else asks', async () => {
    const modern = await runEhcp(['show', ...mixed.args, '--namespace', NS, '--json'])
    expect(modern.code, describeRun(modern)).to.equal(0)
    expect(modern.json<{layout?: string; consumerGroup: string}>())
      .to.deep.include({consumerGroup: '$default'})
      .and.not.have.property('layout')
    const js = await runEhcp(['show', ...legacyOnly.args, '--consumer-group', 'jsgroup', '--json'])
    expect(js.code, describeRun(js)).to.equal(0)
    expect(js.json<LegacyGroupView>()).to.include({layout: 'eph', blobPrefix: 'jsgroup/', consumerGroup: 'jsgroup'})
    const py = await runEhcp(['show', ...python.args, '--json'])
    expect(py.code, describeRun(py)).to.equal(0)
    expect(py.json<LegacyGroupView>().partitions.map((p) => p.checkpoint?.sequenceNumber)).to.deep.equal([42, 7])
    const ambiguous = await runEhcp(['show', ...legacyOnly.args])
    expect(ambiguous.code, describeRun(ambiguous)).to.equal(2)
    expect(ambiguous.stderr)
      .to.match(/dapr dapr-orders-\$Default-/)
      .and.to.match(/eph jsgroup\//)
      .and.to.match(/--layout/)
  })

  it('reads lag exactly as for modern groups, with the namespace and hub the operator names', async () => {
    hubs.createHub('legacyhub', 4)
    hubs.append(
      'legacyhub',
      '0',
      Array.from({length: 700}, (_, i) => ({body: `e${i}`})),
    )
    for (const pid of ['1', '2', '3']) hubs.append('legacyhub', pid, [{body: 'a'}, {body: 'b'}, {body: 'c'}])
    const env = {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()}
    const noHub = await runEhcp(['show', ...mixed.args, '--layout', 'go', '--blob-prefix', 'filebeat/', '--lag'], {env})
    expect(noHub.code, describeRun(noHub)).to.equal(2)
    expect(noHub.stderr).to.match(/--namespace and --eventhub/)
    const r = await runEhcp(
      [
        'show',
        ...mixed.args,
        '--layout',
        'go',
        '--blob-prefix',
        'filebeat/',
        '--namespace',
        '127.0.0.1',
        '--eventhub',
        'legacyhub',
        '--lag',
        '--json',
      ],
      {env},
    )
    expect(r.code, describeRun(r)).to.equal(0)
    const lags = r.json<GroupViewWithLag>().partitions.map((p) => [p.partitionId, p.lag?.events ?? null, p.lag?.state])
    expect(lags).to.deep.equal([
      ['0', 21, 'ok'],
      ['1', null, 'no-checkpoint'],
      ['2', null, 'no-checkpoint'],
      ['3', null, 'no-checkpoint'],
    ])
  })

  it('malformed bodies are problems on their partitions, never a failure: truncated JSON, wrong types, 10 MB', async () => {
    const c = await freshContainer()
    try {
      await writeLegacy(c.client, [
        EPH_DOTNET[1]!,
        {name: '$Default/4', body: '{"Offset":"100","SequenceNum'},
        {name: '$Default/5', body: '{"Offset":5,"SequenceNumber":"x","PartitionId":"5","Owner":7,"Epoch":"e"}'},
        {name: '$Default/6', body: 'x'.repeat(10 * 1024 * 1024)},
      ])
      const r = await runEhcp(['show', ...c.args, '--layout', 'eph', '--json'])
      expect(r.code, describeRun(r)).to.equal(0)
      const view = r.json<LegacyGroupView>()
      expect(
        view.partitions.map((p) => [p.partitionId, p.checkpoint?.sequenceNumber ?? null, p.problems.map((q) => q.code).sort()]),
      ).to.deep.equal([
        ['1', 77, []],
        ['4', null, ['invalid-json']],
        ['5', null, ['invalid-field', 'invalid-field', 'invalid-field', 'invalid-sequence-number']],
        ['6', null, ['oversized-body']],
      ])
      const list = await runEhcp(['list', ...c.args, '--json'])
      expect(list.code, describeRun(list)).to.equal(0)
      expect(list.json<ContainerSummary>().groups.map((g) => [g.layout, g.partitions])).to.deep.equal([['eph', 3]])
      expect(list.json<ContainerSummary>().problems.map((p) => p.blobName)).to.deep.equal(['$Default/6'])
    } finally {
      await c.dispose()
    }
  })

  it('a scope that names no legacy lease blobs is not found (exit 3); a missing scope flag is a usage error (exit 2)', async () => {
    const none = await runEhcp(['show', ...mixed.args, '--layout', 'eph', '--consumer-group', 'nobody'])
    expect(none.code, describeRun(none)).to.equal(3)
    expect(none.stderr).to.match(/No eph lease blobs under "nobody\/"/)
    const dapr = await runEhcp(['show', ...mixed.args, '--layout', 'dapr'])
    expect(dapr.code, describeRun(dapr)).to.equal(2)
    expect(dapr.stderr).to.match(/--eventhub/)
  })
})

describe('show without --namespace, legacy lease folders beside the modern namespace', function () {
  this.timeout(60_000)
  let c: TestContainer

  before(async () => {
    c = await freshContainer()
    // EventProcessorHost ($Default/, app1/billing/), Go (filebeat/) and Functions v4 (under the namespace, its hub escaped).
    await writeLegacy(c.client, [...EPH_DOTNET, ...EPH_JAVA, ...GO, ...FUNCTIONS_V4])
    await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '5', offset: '500'})
  })
  after(() => c?.dispose())

  it('finds the modern group (exit 0); with a second real namespace, asks for --namespace (exit 2) naming only the two', async () => {
    const scope = ['--eventhub', 'orders', '--consumer-group', '$Default']
    const r = await runEhcp(['show', ...c.args, ...scope, '--json'])
    expect(r.code, describeRun(r)).to.equal(0)
    expect(r.json<{namespace: string; consumerGroup: string; layout?: string}>())
      .to.deep.include({namespace: NS, consumerGroup: '$default'})
      .and.not.have.property('layout')
    await putBlob(c.client, 'fabrikam.servicebus.windows.net/orders/$default/checkpoint/0', {sequencenumber: '1', offset: '10'})
    const two = await runEhcp(['show', ...c.args, ...scope])
    expect(two.code, describeRun(two)).to.equal(2)
    expect(two.stderr).to.include(`Several namespaces in this container: "${NS}", "fabrikam.servicebus.windows.net".`)
    expect(two.stderr).to.include('--namespace')
  })
})
