/**
 * Blobs as each SDK family writes them (the layout document's table), plus malformed and foreign blobs:
 * `show` lists every valid partition with its values, flags every problem, and exits 0; `list` survives all of it.
 */
import {expect} from 'chai'

import type {GroupView} from '../../src/store/group.js'
import type {ContainerSummary} from '../../src/store/summary.js'
import {runEhcp} from '../support/cli.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'

const NS = 'corpus.servicebus.windows.net'

/** blob name -> metadata, exactly as stored. */
const CORPUS: Record<string, Record<string, string>> = {
  // .NET: lower-cased names, a client id key, sequencenumber may be "", offset may be "" or "no offset".
  [`${NS}/orders/dotnet/checkpoint/0`]: {offset: '4096', sequencenumber: '', clientidentifier: 'dotnet-host-a'},
  [`${NS}/orders/dotnet/checkpoint/1`]: {offset: 'no offset', sequencenumber: '12', clientidentifier: 'dotnet-host-a'},
  [`${NS}/orders/dotnet/checkpoint/2`]: {offset: '8192', sequencenumber: '15', clientidentifier: 'dotnet-host-a'},
  [`${NS}/orders/dotnet/ownership/0`]: {ownerid: 'dotnet-host-a'},
  // Java: names as configured ($Default, Orders); very old 1.0.x wrote mixed-case keys; 5.21.x wrote no offset.
  [`${NS}/Orders/$Default/checkpoint/0`]: {sequencenumber: '300', offset: '30000'},
  [`${NS}/Orders/$Default/checkpoint/1`]: {SequenceNumber: '301', Offset: '30100'},
  [`${NS}/Orders/$Default/checkpoint/2`]: {sequencenumber: '302'},
  [`${NS}/Orders/$Default/ownership/1`]: {OwnerId: 'java-host'},
  // Python: the whole name lower-cased, partition ids too.
  [`${NS}/orders/python/checkpoint/a1`]: {offset: '777', sequencenumber: '7'},
  // Rust (the seed): as configured, only keys that have values, ownerid omitted when nobody owns it.
  [`${NS}/Orders/RustGroup/checkpoint/0`]: {offset: '55'},
  [`${NS}/Orders/RustGroup/checkpoint/1`]: {sequencenumber: '60', offset: '6000'},
  [`${NS}/Orders/RustGroup/ownership/0`]: {},
  // Go: an old mixed-case spelling next to the new lower-cased one.
  [`${NS}/orders/GoGroup/checkpoint/0`]: {sequencenumber: '1', offset: '100'},
  [`${NS}/orders/gogroup/checkpoint/0`]: {sequencenumber: '2', offset: '200'},
  [`${NS}/orders/gogroup/checkpoint/1`]: {sequencenumber: '3', offset: '300'},
  // Malformed, and foreign blobs under and outside the prefixes.
  [`${NS}/orders/broken/checkpoint/0`]: {sequencenumber: 'abc', offset: '1'},
  [`${NS}/orders/broken/checkpoint/1`]: {},
  [`${NS}/orders/broken/checkpoint/2`]: {sequencenumber: '5', offset: '500'},
  [`${NS}/orders/broken/checkpoint/2/backup.json`]: {},
  [`${NS}/orders/broken/notes.txt`]: {},
  [`${NS}/orders/broken/checkpoint/backup.json`]: {},
  'README.txt': {},
}

/** Blobs with content: checkpoint-store blobs are empty, so these are foreign whatever their names. */
const WITH_CONTENT: Record<string, string> = {
  [`${NS}/orders/broken/checkpoint/3`]: '{"Offset":"100","SequenceNumber":1,"PartitionId":"3","Owner":"eph-host"}',
}

interface PartitionSummary {
  seq: number | null
  offset: string | null
  owner?: string | null
  problems: string[]
}

async function show(
  c: TestContainer,
  group: string,
  hub = 'orders',
): Promise<{code: number | null; partitions: Record<string, PartitionSummary>; problems: string[]}> {
  const r = await runEhcp(['show', ...c.args, '--eventhub', hub, '--consumer-group', group, '--json'])
  const view = r.json<GroupView>()
  const partitions: Record<string, PartitionSummary> = {}
  for (const p of view.partitions) {
    partitions[p.partitionId] = {
      seq: p.checkpoint?.sequenceNumber ?? null,
      offset: p.checkpoint?.offset ?? null,
      ...(p.ownership ? {owner: p.ownership.ownerId} : {}),
      problems: p.problems.map((q) => q.code).sort(),
    }
  }
  return {code: r.code, partitions, problems: view.problems.map((q) => q.code)}
}

describe('reading blobs as every SDK family writes them', function () {
  this.timeout(120_000)
  let c: TestContainer
  before(async () => {
    c = await freshContainer()
    await Promise.all(Object.entries(CORPUS).map(([name, metadata]) => putBlob(c.client, name, metadata)))
    await Promise.all(Object.entries(WITH_CONTENT).map(([name, body]) => c.client.getBlockBlobClient(name).upload(body, body.length)))
  })
  after(() => c.dispose())

  it('stores metadata keys as given (the corpus really has mixed-case keys)', async () => {
    // (A listing returns keys as stored; Get Properties returns them as lower-cased HTTP headers.)
    for await (const b of c.client.listBlobsFlat({prefix: `${NS}/Orders/$Default/checkpoint/1`, includeMetadata: true})) {
      expect(Object.keys(b.metadata ?? {})).to.have.members(['SequenceNumber', 'Offset'])
    }
  })

  it('.NET: client id key kept, empty sequencenumber and "no offset" read as absent and flagged', async () => {
    const r = await show(c, 'dotnet')
    expect(r.code).to.equal(0)
    expect(r.partitions).to.deep.equal({
      '0': {seq: null, offset: '4096', owner: 'dotnet-host-a', problems: ['missing-sequence-number']},
      '1': {seq: 12, offset: null, problems: ['missing-offset']},
      '2': {seq: 15, offset: '8192', problems: []},
    })
    const raw = (await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--consumer-group', 'dotnet', '--json'])).json<GroupView>()
    expect(raw.partitions[0]!.checkpoint!.metadata).to.deep.include({clientidentifier: 'dotnet-host-a', sequencenumber: ''})
  })

  it('Java: as-configured casing found case-insensitively; mixed-case keys read and flagged; missing offset flagged', async () => {
    const r = await show(c, '$default', 'ORDERS')
    expect(r.code).to.equal(0)
    expect(r.partitions).to.deep.equal({
      '0': {seq: 300, offset: '30000', problems: []},
      '1': {seq: 301, offset: '30100', owner: 'java-host', problems: ['metadata-key-case', 'metadata-key-case', 'metadata-key-case']},
      '2': {seq: 302, offset: null, problems: ['missing-offset']},
    })
  })

  it('Python: lower-cased partition ids', async () => {
    const r = await show(c, 'Python')
    expect(r.partitions).to.deep.equal({a1: {seq: 7, offset: '777', problems: []}})
  })

  it('Rust: omitted keys and an ownership blob without ownerid', async () => {
    const r = await show(c, 'rustgroup')
    expect(r.code).to.equal(0)
    expect(r.partitions).to.deep.equal({
      '0': {seq: null, offset: '55', owner: null, problems: ['missing-owner-id', 'missing-sequence-number']},
      '1': {seq: 60, offset: '6000', problems: []},
    })
    const raw = (
      await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--consumer-group', 'rustgroup', '--partition', '0', '--json'])
    ).json<GroupView>()
    expect(raw.partitions[0]!.ownership!.state).to.equal('released')
  })

  it('Go: mixed-case duplicates are one partition, reported with which SDKs read which blob', async () => {
    const r = await show(c, 'gogroup')
    expect(r.code).to.equal(0)
    expect(Object.keys(r.partitions)).to.deep.equal(['0', '1'])
    expect(r.partitions['0']!.problems).to.deep.equal(['case-variant-duplicate'])
    expect(r.partitions['1']).to.deep.equal({seq: 3, offset: '300', problems: []})
    const table = await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--consumer-group', 'gogroup'])
    expect(table.stdout).to.include(`${NS}/orders/GoGroup/checkpoint/0`).and.include(`${NS}/orders/gogroup/checkpoint/0`)
  })

  it('malformed and foreign blobs: every valid partition listed, every problem flagged, exit 0', async () => {
    const r = await show(c, 'broken')
    expect(r.code).to.equal(0)
    expect(r.partitions).to.deep.equal({
      '0': {seq: null, offset: '1', problems: ['invalid-sequence-number']},
      '1': {seq: null, offset: null, problems: ['missing-offset', 'missing-sequence-number', 'unusable-checkpoint']},
      '2': {seq: 5, offset: '500', problems: []},
    })
    expect(r.problems).to.deep.equal(['foreign-blob', 'foreign-blob', 'foreign-blob', 'foreign-blob'])
  })

  it('list: one row per group (case variants merged), problems counted, foreign blobs reported, exit 0', async () => {
    const r = await runEhcp(['list', ...c.args, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const out = r.json<ContainerSummary>()
    const rows = Object.fromEntries(
      out.groups.map((g) => [`${g.eventHub}/${g.consumerGroup}`, [g.partitions, g.checkpoints, g.problems.length]]),
    )
    expect(rows).to.deep.equal({
      'Orders/$Default': [3, 3, 4],
      'orders/broken': [3, 3, 8],
      'orders/dotnet': [3, 3, 2],
      'orders/GoGroup': [2, 2, 1],
      'orders/python': [1, 1, 0],
      'Orders/RustGroup': [2, 2, 2],
    })
    expect(out.problems.map((p) => p.blobName)).to.deep.equal(['README.txt'])
    const filtered = (await runEhcp(['list', ...c.args, '--consumer-group', 'GOGROUP', '--json'])).json<ContainerSummary>()
    expect(filtered.groups).to.have.length(1)
    expect(filtered.problems).to.deep.equal([])
  })

  it('human output names the problems', async () => {
    const r = await runEhcp(['show', ...c.args, '--eventhub', 'orders', '--consumer-group', 'broken'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/8 problems:/)
    expect(r.stdout).to.include('"abc" is not a decimal integer')
    expect(r.stdout).to.include('checkpoint/backup.json" is not a checkpoint')
    expect(r.stdout).to.include('checkpoint/3" has content (')
  })
})
