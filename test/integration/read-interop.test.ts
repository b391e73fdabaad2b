/**
 * The official @azure/eventhubs-checkpointstore-blob writes checkpoints and ownership for several hubs and
 * groups; the built `ehcp` binary, run as a subprocess, reports exactly those values, states and counts.
 */
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import type {GroupView} from '../../src/store/group.js'
import type {ContainerSummary} from '../../src/store/summary.js'
import {runEhcp} from '../support/cli.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {sleep} from '../support/wait.js'

const NS = 'interop-ns.servicebus.windows.net'
/** Short, so a stopped owner expires within the test; live owners heartbeat before each test. */
const EXPIRY_SECONDS = 8
const EXPIRY = `${EXPIRY_SECONDS}s`

describe('reading what the official JS checkpoint store writes', function () {
  this.timeout(120_000)
  let c: TestContainer
  let store: BlobCheckpointStore
  // What the official store was told to write: hub -> group -> partition -> [sequence, offset]
  const written: Record<string, Record<string, Record<string, [number, string]>>> = {
    orders: {
      $Default: {'0': [100, '10240'], '1': [250, '25600'], '2': [7, '700'], '3': [0, '0']},
      analytics: {'0': [5, '500'], '1': [6, '600']},
    },
    Payments: {$Default: {'0': [12345678901, '98765432109'], '1': [-1, '-1']}},
  }

  before(async () => {
    c = await freshContainer()
    store = new BlobCheckpointStore(c.client)
    for (const [hub, groups] of Object.entries(written)) {
      for (const [group, partitions] of Object.entries(groups)) {
        for (const [partitionId, [sequenceNumber, offset]] of Object.entries(partitions)) {
          await store.updateCheckpoint({
            fullyQualifiedNamespace: NS,
            eventHubName: hub,
            consumerGroup: group,
            partitionId,
            sequenceNumber,
            offset,
          })
        }
      }
    }
    const claim = (hub: string, group: string, partitionId: string, ownerId: string) =>
      store.claimOwnership([{fullyQualifiedNamespace: NS, eventHubName: hub, consumerGroup: group, partitionId, ownerId}])
    // orders/$Default: "dead-host" stops heartbeating; partition 2 is given up (ownerid ""), as a closing processor does.
    await claim('orders', '$Default', '0', 'dead-host')
    await claim('orders', '$Default', '2', 'gone-host')
    const p2 = (await store.listOwnership(NS, 'orders', '$Default')).find((o) => o.partitionId === '2')!
    await store.claimOwnership([{...p2, ownerId: ''}])
    // Older than EXPIRY by the time any test runs (Last-Modified has one-second resolution).
    await sleep(EXPIRY_SECONDS * 1000 + 600)
    await claim('orders', '$Default', '1', 'live-host')
    await claim('orders', '$Default', '3', 'live-host')
    await claim('Payments', '$Default', '0', 'pay-host')
  })

  /** The live owners renew their claims, as a running processor's load balancer does each cycle. */
  async function heartbeat() {
    for (const [hub, owner] of [
      ['orders', 'live-host'],
      ['Payments', 'pay-host'],
    ] as const) {
      const mine = (await store.listOwnership(NS, hub, '$Default')).filter((o) => o.ownerId === owner)
      expect(await store.claimOwnership(mine)).to.have.length(mine.length)
    }
  }
  beforeEach(heartbeat)
  after(() => c.dispose())

  it('list --json reports every group with exact counts, owners and newest checkpoint time', async () => {
    const r = await runEhcp(['list', ...c.args, '--ownership-expiry', EXPIRY, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const out = r.json<ContainerSummary>()
    expect(out.schemaVersion).to.equal(1)
    expect(out.problems).to.deep.equal([])
    const rows = out.groups.map((g) => [
      g.namespace,
      g.eventHub,
      g.consumerGroup,
      g.partitions,
      g.checkpoints,
      g.ownedPartitions,
      g.activeOwners,
    ])
    // The JS store lower-cases namespace, hub and group in blob names: names are reported as stored.
    expect(rows).to.deep.equal([
      [NS, 'orders', '$default', 4, 4, 2, ['live-host']],
      [NS, 'orders', 'analytics', 2, 2, 0, []],
      [NS, 'payments', '$default', 2, 2, 1, ['pay-host']],
    ])
    for (const g of out.groups) expect(g.problems).to.deep.equal([])

    // lastCheckpointAt is the newest Last-Modified of the group's checkpoint blobs, as the service reports it.
    const newest = new Map<string, number>()
    for await (const b of c.client.listBlobsFlat({prefix: `${NS}/orders/$default/checkpoint/`})) {
      newest.set('orders', Math.max(newest.get('orders') ?? 0, b.properties.lastModified.getTime()))
    }
    expect(Date.parse(out.groups[0]!.lastCheckpointAt!)).to.equal(newest.get('orders'))
  })

  it('show --json reports exactly the positions, owners and owner states written', async () => {
    const r = await runEhcp(['show', ...c.args, '--namespace', NS, '--eventhub', 'ORDERS', '--ownership-expiry', EXPIRY, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const view = r.json<GroupView>()
    expect(view).to.include({schemaVersion: 1, namespace: NS, eventHub: 'orders', consumerGroup: '$default'})
    const got = view.partitions.map((p) => ({
      id: p.partitionId,
      seq: p.checkpoint!.sequenceNumber,
      offset: p.checkpoint!.offset,
      owner: p.ownership?.ownerId ?? null,
      state: p.ownership?.state ?? 'none',
      problems: p.problems.length,
    }))
    expect(got).to.deep.equal([
      {id: '0', seq: 100, offset: '10240', owner: 'dead-host', state: 'expired', problems: 0},
      {id: '1', seq: 250, offset: '25600', owner: 'live-host', state: 'active', problems: 0},
      {id: '2', seq: 7, offset: '700', owner: '', state: 'released', problems: 0},
      {id: '3', seq: 0, offset: '0', owner: 'live-host', state: 'active', problems: 0},
    ])
    // Offsets are strings, sequence numbers are numbers, times ISO-8601 UTC.
    const p0 = view.partitions[0]!
    expect(p0.checkpoint!.offset).to.be.a('string')
    expect(p0.checkpoint!.sequenceNumber).to.be.a('number')
    expect(p0.checkpoint!.lastModified).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(p0.checkpoint!.metadata).to.deep.equal({sequencenumber: '100', offset: '10240'})
    expect(p0.checkpoint!.blobName).to.equal(`${NS}/orders/$default/checkpoint/0`)
  })

  it('agrees with the official store reading the same group', async () => {
    const r = await runEhcp(['show', ...c.args, '--namespace', NS, '--eventhub', 'Payments', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const view = r.json<GroupView>()
    const official = await store.listCheckpoints(NS, 'Payments', '$Default')
    const ownership = await store.listOwnership(NS, 'Payments', '$Default')
    expect(view.partitions.map((p) => [p.partitionId, p.checkpoint!.sequenceNumber, p.checkpoint!.offset])).to.deep.equal(
      official.map((o) => [o.partitionId, o.sequenceNumber, String(o.offset)]),
    )
    const p0 = view.partitions.find((p) => p.partitionId === '0')!
    expect(p0.ownership).to.include({ownerId: ownership[0]!.ownerId, etag: ownership[0]!.etag, state: 'active'})
    expect(Date.parse(p0.ownership!.lastModified)).to.equal(ownership[0]!.lastModifiedTimeInMs)
  })

  it('infers the namespace when the container holds one, and defaults the group to $Default', async () => {
    const r = await runEhcp(['show', ...c.args, '--eventhub', 'payments', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json<GroupView>().partitions.map((p) => p.partitionId)).to.deep.equal(['0', '1'])
  })

  it('refuses to guess between several event hubs (exit 2, both named)', async () => {
    const r = await runEhcp(['show', ...c.args])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.include('"orders"').and.include('"payments"').and.include('--eventhub')
  })

  it('show --partition gives one partition in full', async () => {
    const r = await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--partition', '1', '--ownership-expiry', EXPIRY])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.include(`${NS}/orders/$default/checkpoint/1`)
    expect(r.stdout).to.include(`${NS}/orders/$default/ownership/1`)
    expect(r.stdout).to.include('sequencenumber = "250"')
    expect(r.stdout).to.include('live-host')
    expect(r.stdout).to.match(/etag\s+0x/i)
    const json = (await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--partition', '1,3', '--json'])).json<GroupView>()
    expect(json.partitions.map((p) => p.partitionId)).to.deep.equal(['1', '3'])
  })

  it('a table for people and CSV for scripts carry the same values', async () => {
    const table = await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--ownership-expiry', EXPIRY])
    expect(table.code).to.equal(0)
    expect(table.stdout).to.match(/^PARTITION\s+SEQUENCE\s+OFFSET\s+CHECKPOINTED\s+OWNER\s+OWNER-STATE\s+HEARTBEAT/m)
    expect(table.stdout).to.match(/^1\s+250\s+25600\s+\S+\s+live-host\s+active/m)
    // Not a terminal: times are ISO-8601 UTC, not ages; no colour codes.
    expect(table.stdout).to.match(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/)
    expect(table.stdout).not.to.include('\u001b[')
    const csv = await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--csv'])
    const lines = csv.stdout.trim().split('\n')
    expect(lines[0]).to.equal(
      'partitionId,sequenceNumber,offset,checkpointedAt,ownerId,ownerState,heartbeatAt,checkpointBlob,checkpointEtag,problems',
    )
    expect(lines).to.have.length(5)
    expect(lines[2]!.split(',').slice(0, 3)).to.deep.equal(['1', '250', '25600'])
    const list = await runEhcp(['list', ...c.args, '--csv'])
    expect(list.stdout.trim().split('\n')).to.have.length(4)
  })

  it('colour follows --color / NO_COLOR', async () => {
    const colored = await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--color'])
    expect(colored.stdout).to.include('\u001b[')
    const plain = await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--color'], {env: {}})
    expect(plain.stdout).to.include('\u001b[')
    const noColor = await runEhcp(['show', ...c.args, '--eventhub', 'orders'], {env: {FORCE_COLOR: '1', NO_COLOR: '1'}})
    expect(noColor.stdout).not.to.include('\u001b[')
  })
})
