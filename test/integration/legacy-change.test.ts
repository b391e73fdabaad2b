/**
 * Changes to lease blobs retired SDKs left, through the change pipeline (issue 13, item 5), against Azurite
 * with the corpus's bodies byte for byte and real blob leases: `set`/`reset --layout` rewrite only the
 * position fields, a leased blob is an active owner (exit 5, or --force breaks the lease first), a writer
 * between plan and write is a conflict, the printed undo puts the whole body back byte for byte, and
 * `release-ownership --layout` breaks leases.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {ChangeResult} from '../../src/change/execute.js'
import type {BackupFile} from '../../src/change/plan-file.js'
import {describeRun, type EmulatorRunner, ehcpOn, runPrinted} from '../support/cli.js'
import {EPH_DOTNET, GO, type LegacyBlob, PYTHON_EPH, writeLegacy} from '../support/legacy-corpus.js'
import {type LoggedRequest, startRequestLog} from '../support/request-log.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const HOST_A_LEASE = EPH_DOTNET[0]!.leaseId!

/** Replaces exactly one occurrence of `from` (failing when there is none or several): the expected body. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from)
  expect(at, `"${from}" in ${text}`).to.be.at.least(0)
  expect(text.indexOf(from, at + 1), `"${from}" once in ${text}`).to.equal(-1)
  return text.slice(0, at) + to + text.slice(at + from.length)
}

const bodyOf = (blobs: LegacyBlob[], name: string) => blobs.find((b) => b.name === name)!.body

describe('legacy layouts: changes', function () {
  this.timeout(120_000)
  let c: TestContainer
  let cwd: string

  let ehcp: EmulatorRunner

  /** Every blob of the container: body, metadata as listed (names as stored), lease state and ETag. */
  async function snapshot(): Promise<Map<string, {body: string; metadata: Record<string, string>; lease: string; etag: string}>> {
    const out = new Map<string, {body: string; metadata: Record<string, string>; lease: string; etag: string}>()
    for await (const b of c.client.listBlobsFlat({includeMetadata: true})) {
      const body = (await c.client.getBlockBlobClient(b.name).downloadToBuffer()).toString('utf8')
      out.set(b.name, {body, metadata: b.metadata ?? {}, lease: b.properties.leaseState ?? '', etag: b.properties.etag ?? ''})
    }
    return out
  }

  beforeEach(async () => {
    c = await freshContainer()
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-legacy-change-'))
    ehcp = ehcpOn(c, {cwd})
  })
  afterEach(async () => {
    // Leases held by a test outlive it otherwise; deleting the container ends them.
    await c.dispose()
  })

  const ephSet = (partition: string, seq: number, offset: string, ...more: string[]) => [
    'set',
    '--layout',
    'eph',
    '--consumer-group',
    '$Default',
    '--partition',
    partition,
    '--sequence-number',
    String(seq),
    '--offset',
    offset,
    ...more,
  ]

  it('set on a free EPH blob rewrites only Offset and SequenceNumber; the printed undo puts the body back byte for byte', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const before = await snapshot()
    const r = await ehcp(ephSet('1', 99, '5000', '--yes', '--json'))
    expect(r.code, describeRun(r)).to.equal(0)
    const result = r.json<ChangeResult>()
    expect({
      layout: result.layout,
      blobPrefix: result.blobPrefix,
      namespace: result.namespace,
      consumerGroup: result.consumerGroup,
    }).to.deep.equal({
      layout: 'eph',
      blobPrefix: '$Default/',
      namespace: null,
      consumerGroup: '$Default',
    })
    expect(result.partitions.map((p) => [p.partitionId, p.action, p.before, p.after, p.delta, p.status])).to.deep.equal([
      ['1', 'write-body', {sequenceNumber: 77, offset: '4096'}, {sequenceNumber: 99, offset: '5000'}, -22, 'updated'],
    ])

    const after = await snapshot()
    const original = bodyOf(EPH_DOTNET, '$Default/1')
    const expected = replaceOnce(replaceOnce(original, '"Offset":"4096"', '"Offset":"5000"'), '"SequenceNumber":77', '"SequenceNumber":99')
    expect(after.get('$Default/1')!.body).to.equal(expected)
    expect(after.get('$Default/1')!.metadata).to.deep.equal(before.get('$Default/1')!.metadata)
    for (const name of ['$Default/0', '$Default/2']) expect(after.get(name), name).to.deep.equal(before.get(name))

    // The backup holds the whole body, before and after.
    const backup = JSON.parse(readFileSync(path.join(cwd, result.backupFile!), 'utf8')) as BackupFile
    expect(backup.layout).to.equal('eph')
    expect(backup.partitions.map((p) => [p.blobName, p.body, p.writtenBody, p.outcome])).to.deep.equal([
      ['$Default/1', original, expected, 'written'],
    ])

    expect(result.undoCommand).to.equal(`ehcp reset --from-file '${result.backupFile}' --emulator --container ${c.name} --yes`)
    const undo = await runPrinted(result.undoCommand!, {cwd, env: ehcp.env})
    expect(undo.code, describeRun(undo)).to.equal(0)
    expect(undo.stdout).to.include('1 updated')
    const restored = await snapshot()
    expect(restored.get('$Default/1')!.body).to.equal(original)
    expect(restored.get('$Default/1')!.metadata).to.deep.equal(before.get('$Default/1')!.metadata)
  })

  it('set on a leased EPH blob is refused (exit 5, the host named) and writes nothing', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const before = await snapshot()
    const r = await ehcp(ephSet('0', 5, '500', '--yes', '--no-backup'))
    expect(r.code, describeRun(r)).to.equal(5)
    expect(r.stderr).to.include('host-a')
    expect(r.stderr).to.match(/--force to break the leases/)
    expect(await snapshot()).to.deep.equal(before)
  })

  it('set --force breaks the lease first, writes only the position fields and keeps OWNINGHOST; its undo restores the body', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const before = await snapshot()
    expect(before.get('$Default/0')!.lease).to.equal('leased')
    const r = await ehcp(ephSet('0', 5, '500', '--yes', '--json', '--force'))
    expect(r.code, describeRun(r)).to.equal(0)
    const result = r.json<ChangeResult>()
    expect(result.partitions[0]!.status).to.equal('updated')
    expect(result.partitions[0]!.reason).to.match(/lease broken, then written/)
    expect(result.partitions[0]!.warnings.join(' ')).to.match(/held by host-a is broken before writing/)
    expect(result.notes.join(' ')).to.match(/re-reads the blob/)

    const after = await snapshot()
    const original = bodyOf(EPH_DOTNET, '$Default/0')
    expect(after.get('$Default/0')!.body).to.equal(
      replaceOnce(replaceOnce(original, '"Offset":"8591964920"', '"Offset":"500"'), '"SequenceNumber":960180', '"SequenceNumber":5'),
    )
    // Put Blob on a broken lease ends it: the blob is free until a host acquires it again.
    expect(after.get('$Default/0')!.lease).to.equal('available')
    expect(after.get('$Default/0')!.metadata).to.deep.equal({OWNINGHOST: 'host-a'})

    expect(result.undoCommand).to.match(/ --force --yes$/)
    const undo = await runPrinted(result.undoCommand!, {cwd, env: ehcp.env})
    expect(undo.code, describeRun(undo)).to.equal(0)
    const restored = await snapshot()
    expect(restored.get('$Default/0')!.body).to.equal(original)
    expect(restored.get('$Default/0')!.metadata).to.deep.equal({OWNINGHOST: 'host-a'})
  })

  it('--live on a legacy layout breaks the lease as --force does (the host re-reads its blob on re-acquire): set and reset', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const original = bodyOf(EPH_DOTNET, '$Default/0')
    const shown = await ehcp(['show', '--layout', 'eph', '--json'])
    expect(shown.code, describeRun(shown)).to.equal(0)
    const positions = path.join(cwd, 'live-positions.json')
    writeFileSync(positions, shown.stdout)
    // set --live: no Event Hubs connection is needed, and none is given; the lease is broken and the position written.
    const set = await ehcp(ephSet('0', 5, '500', '--live', '--yes', '--json', '--no-backup'))
    expect(set.code, describeRun(set)).to.equal(0)
    expect(set.json<ChangeResult>().partitions[0]!.reason).to.match(/lease broken, then written/)
    expect((await snapshot()).get('$Default/0')!.lease).to.equal('available')
    // A host takes the lease again (as EventProcessorHost does); reset --live puts the position back over it.
    await c.client.getBlobClient('$Default/0').getBlobLeaseClient(HOST_A_LEASE).acquireLease(-1)
    const reset = await ehcp(['reset', '--layout', 'eph', '--from-file', positions, '--live', '--yes', '--json'])
    expect(reset.code, describeRun(reset)).to.equal(0)
    const result = reset.json<ChangeResult>()
    expect(result.partitions.map((x) => [x.partitionId, x.status])).to.deep.equal([
      ['0', 'updated'],
      ['1', 'unchanged'],
    ])
    expect(result.partitions[0]!.reason).to.match(/lease broken, then written/)
    const after = (await snapshot()).get('$Default/0')!
    expect([after.body, after.lease]).to.deep.equal([original, 'available'])
    // Its undo breaks the lease again, as a forced change's does.
    expect(result.undoCommand).to.match(/ --force --yes$/)
  })

  it('the undo leaves alone a blob a host wrote since the change (exit 5)', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const r = await ehcp(ephSet('1', 99, '5000', '--yes', '--json'))
    expect(r.code, describeRun(r)).to.equal(0)
    const hostBody = bodyOf(EPH_DOTNET, '$Default/1').replace('"Epoch":12', '"Epoch":13')
    await c.client.getBlockBlobClient('$Default/1').upload(hostBody, Buffer.byteLength(hostBody))
    const undo = await runPrinted(r.json<ChangeResult>().undoCommand!, {cwd, env: ehcp.env})
    expect(undo.code, describeRun(undo)).to.equal(5)
    expect(undo.stdout).to.match(/left alone/)
    expect((await snapshot()).get('$Default/1')!.body).to.equal(hostBody)
  })

  it('set on a Go blob replaces a sentinel with a position, every other field kept', async () => {
    await writeLegacy(c.client, GO)
    const before = await snapshot()
    const r = await ehcp([
      'set',
      '--layout',
      'go',
      '--blob-prefix',
      'filebeat/',
      '--partition',
      '2',
      '--sequence-number',
      '41',
      '--offset',
      '4100',
      '--yes',
      '--json',
    ])
    expect(r.code, describeRun(r)).to.equal(0)
    const row = r.json<ChangeResult>().partitions[0]!
    expect([row.before, row.after, row.delta]).to.deep.equal([
      {sequenceNumber: null, offset: '-1'},
      {sequenceNumber: 41, offset: '4100'},
      null,
    ])
    expect(row.warnings.join(' ')).to.match(/start-of-stream sentinel/)
    const after = await snapshot()
    expect(after.get('filebeat/2')!.body).to.equal(
      '{"partitionID":"2","epoch":3,"owner":"name","checkpoint":{"offset":"4100","sequenceNumber":41,"enqueueTime":"0001-01-01T00:00:00Z"},"state":"leased","token":"t"}',
    )
    for (const name of ['filebeat/0', 'filebeat/1', 'filebeat/3']) expect(after.get(name), name).to.deep.equal(before.get(name))
  })

  it('set on a python-eph blob keeps its snake_case fields and its separators', async () => {
    await writeLegacy(c.client, PYTHON_EPH)
    const r = await ehcp([
      'set',
      '--layout',
      'python-eph',
      '--partition',
      '0',
      '--sequence-number',
      '50',
      '--offset',
      '5120',
      '--yes',
      '--json',
    ])
    expect(r.code, describeRun(r)).to.equal(0)
    const original = bodyOf(PYTHON_EPH, '0')
    expect((await snapshot()).get('0')!.body).to.equal(
      replaceOnce(replaceOnce(original, '"sequence_number": 42', '"sequence_number": 50'), '"offset": "4096"', '"offset": "5120"'),
    )
  })

  it('set on python-eph and Go bodies with \\u00f4, \\u0026 and \\/ changes only the position value bytes; the undo restores every byte', async () => {
    const python =
      '{"partition_id": "0", "sequence_number": 42, "owner": "h\\u00f4te\\/1", "token": "a\\u0026b", "epoch": 3.0, "event_processor_context": {"offset": "1"}, "offset": "4096"}'
    const go =
      '{"partitionID":"0","epoch":9007199254740993,"owner":"h\\u00f4te\\/1","checkpoint":{"offset":"12345","sequenceNumber":678,"enqueueTime":"2023-05-01T10:00:00.123Z"},"state":"leased","token":"a\\u0026b\\u003c"}'
    await writeLegacy(c.client, [
      {name: '0', body: python},
      {name: 'filebeat/0', body: go},
    ])
    const cases = [
      {
        blob: '0',
        args: ['--layout', 'python-eph'],
        original: python,
        expected: replaceOnce(
          replaceOnce(python, '"sequence_number": 42', '"sequence_number": 50'),
          '"offset": "4096"',
          '"offset": "5120"',
        ),
      },
      {
        blob: 'filebeat/0',
        args: ['--layout', 'go', '--blob-prefix', 'filebeat/'],
        original: go,
        expected: replaceOnce(go, '"offset":"12345","sequenceNumber":678', '"offset":"5120","sequenceNumber":50'),
      },
    ]
    for (const {blob, args, original, expected} of cases) {
      const r = await ehcp(['set', ...args, '--partition', '0', '--sequence-number', '50', '--offset', '5120', '--yes', '--json'])
      expect(r.code, describeRun(r)).to.equal(0)
      expect((await snapshot()).get(blob)!.body, blob).to.equal(expected)
      const undo = await runPrinted(r.json<ChangeResult>().undoCommand!, {cwd, env: ehcp.env})
      expect(undo.code, describeRun(undo)).to.equal(0)
      expect((await snapshot()).get(blob)!.body, blob).to.equal(original)
    }
  })

  it('a body holding a position key twice is reported and left as it is, never rewritten', async () => {
    const twice = '{"Offset":"1","SequenceNumber":1,"PartitionId":"0","Owner":"","Token":"","Epoch":0,"Offset":"2"}'
    await writeLegacy(c.client, [{name: '$Default/0', body: twice}])
    const before = await snapshot()
    const r = await ehcp(ephSet('0', 5, '500', '--yes', '--json', '--no-backup'))
    expect(r.code, describeRun(r)).to.equal(0)
    const row = r.json<ChangeResult>().partitions[0]!
    expect([row.action, row.status]).to.deep.equal(['none', 'unchanged'])
    expect(row.warnings.join(' ')).to.include('the body holds "Offset" 2 times')
    expect(await snapshot()).to.deep.equal(before)
  })

  it('reset --from-file of the JSON of `show --layout` puts positions back; --delete and --from-consumer-group are refused', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const shown = await ehcp(['show', '--layout', 'eph', '--json'])
    expect(shown.code, describeRun(shown)).to.equal(0)
    const positions = path.join(cwd, 'positions.json')
    writeFileSync(positions, shown.stdout)
    const moved = await ehcp(ephSet('1', 99, '5000', '--yes', '--no-backup'))
    expect(moved.code, describeRun(moved)).to.equal(0)
    // Partition 0 is leased but already there (nothing to write, so no guard), 2 has no checkpoint (skipped).
    const r = await ehcp(['reset', '--layout', 'eph', '--from-file', positions, '--yes', '--json', '--no-backup'])
    expect(r.code, describeRun(r)).to.equal(0)
    expect(r.json<ChangeResult>().partitions.map((p) => [p.partitionId, p.status])).to.deep.equal([
      ['0', 'unchanged'],
      ['1', 'updated'],
    ])
    expect(r.json<ChangeResult>().notes.join(' ')).to.include('no complete position for partition(s) 2')
    expect((await snapshot()).get('$Default/1')!.body).to.equal(bodyOf(EPH_DOTNET, '$Default/1'))
    for (const scenario of [['--delete'], ['--from-consumer-group', 'other']]) {
      const refused = await ehcp(['reset', '--layout', 'eph', ...scenario, '--yes'])
      expect(refused.code, describeRun(refused)).to.equal(2)
      expect(refused.stderr).to.include('does not apply to the eph layout')
    }
  })

  it('a host writing between plan and write is a conflict, never overwritten', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const hostBody = bodyOf(EPH_DOTNET, '$Default/1').replace('"Epoch":12', '"Epoch":13')
    let raced: Promise<unknown> | undefined
    const log = await startRequestLog(c.azurite.host, (req: LoggedRequest) => {
      if (req.method === 'PUT' && req.headers['x-ms-blob-type'] === 'BlockBlob') {
        raced ??= c.client.getBlockBlobClient('$Default/1').upload(hostBody, Buffer.byteLength(hostBody))
        return raced.then(() => undefined)
      }
    })
    try {
      const r = await ehcp(ephSet('1', 99, '5000', '--yes', '--json', '--no-backup'), {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
      })
      expect(r.code, describeRun(r)).to.equal(5)
      const row = r.json<ChangeResult>().partitions[0]!
      expect([row.status, row.reason]).to.deep.equal(['conflict', 'changed since it was read (ETag no longer matches); not overwritten'])
      const put = log.requests.filter((q) => q.method === 'PUT' && q.headers['x-ms-blob-type'] === 'BlockBlob')
      expect(put.map((q) => [q.headers['if-match'] !== undefined, q.status])).to.deep.equal([[true, 412]])
      expect((await snapshot()).get('$Default/1')!.body).to.equal(hostBody)
    } finally {
      await log.close()
    }
  })

  it('a host that acquires the lease after the plan was read stops the change before any write (exit 5)', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const before = await snapshot()
    let lists = 0
    const log = await startRequestLog(c.azurite.host, async (req: LoggedRequest) => {
      // The second listing is the check right before writing: a host acquires partition 1 just before it.
      if (req.method === 'GET' && req.query.get('comp') === 'list' && ++lists === 2)
        await c.client.getBlockBlobClient('$Default/1').getBlobLeaseClient('33333333-3333-3333-3333-333333333333').acquireLease(60)
    })
    try {
      const r = await ehcp(ephSet('1', 99, '5000', '--yes', '--no-backup'), {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
      })
      expect(r.code, describeRun(r)).to.equal(5)
      expect(r.stderr).to.match(/claimed since the plan was read/)
      expect(lists).to.equal(2)
      expect(log.requests.filter((q) => q.method === 'PUT')).to.deep.equal([])
      const after = await snapshot()
      expect({...after.get('$Default/1')!, lease: before.get('$Default/1')!.lease}).to.deep.equal(before.get('$Default/1'))
    } finally {
      await log.close()
    }
  })

  it('--force against a host that re-acquires its lease right after the break: a conflict, never a silent overwrite', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const hostBody = bodyOf(EPH_DOTNET, '$Default/0').replace('"Epoch":386', '"Epoch":387')
    let raced: Promise<unknown> | undefined
    const blob = c.client.getBlockBlobClient('$Default/0')
    const log = await startRequestLog(c.azurite.host, (req: LoggedRequest) => {
      if (req.method === 'PUT' && req.headers['x-ms-blob-type'] === 'BlockBlob') {
        // The host renews: it acquires the lease again and writes its body under it, as EventProcessorHost does.
        raced ??= blob
          .getBlobLeaseClient(HOST_A_LEASE)
          .acquireLease(60)
          .then(() => blob.upload(hostBody, Buffer.byteLength(hostBody), {conditions: {leaseId: HOST_A_LEASE}}))
        return raced.then(() => undefined)
      }
    })
    try {
      const r = await ehcp(ephSet('0', 5, '500', '--yes', '--json', '--force', '--no-backup'), {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
      })
      expect(r.code, describeRun(r)).to.equal(5)
      expect(r.json<ChangeResult>().partitions[0]!.status).to.equal('conflict')
      const after = (await snapshot()).get('$Default/0')!
      expect([after.body, after.lease]).to.deep.equal([hostBody, 'leased'])
    } finally {
      await log.close()
    }
  })

  it('reset --to-latest through Event Hubs writes every Go lease blob, with the namespace and hub the operator names', async () => {
    await writeLegacy(c.client, GO)
    const hubs = await EventHubsStandin.start()
    try {
      hubs.createHubWithEvents('gohub', 4, 10, (_, i) => ({body: `e${i}`}))
      const eh = {env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()}}
      const scope = ['reset', '--layout', 'go', '--blob-prefix', 'filebeat/', '--to-latest', '--yes', '--json']
      const noHub = await ehcp(scope, eh)
      expect(noHub.code, describeRun(noHub)).to.equal(2)
      expect(noHub.stdout + noHub.stderr).to.match(/--namespace and --eventhub/)
      const r = await ehcp([...scope, '--namespace', '127.0.0.1', '--eventhub', 'gohub'], eh)
      expect(r.code, describeRun(r)).to.equal(0)
      const rows = r.json<ChangeResult>().partitions
      expect(
        rows.map((p) => [p.partitionId, p.status, p.after && 'sequenceNumber' in p.after ? p.after.sequenceNumber : null]),
      ).to.deep.equal([
        ['0', 'updated', 9],
        ['1', 'updated', 9],
        ['2', 'updated', 9],
        ['3', 'updated', 9],
      ])
      const after = await snapshot()
      for (const p of rows) {
        const body = JSON.parse(after.get(`filebeat/${p.partitionId}`)!.body) as {
          checkpoint: {offset: string; sequenceNumber: number}
          owner: string
        }
        expect([body.checkpoint.sequenceNumber, body.checkpoint.offset, body.owner]).to.deep.equal([
          9,
          (p.after as {offset: string}).offset,
          'name',
        ])
      }
    } finally {
      await hubs.stop()
    }
  })

  it('a blanket release-ownership --layout refuses a held lease even when no owner is recorded (exit 2)', async () => {
    const body = '{"partitionID":"0","epoch":0,"owner":"","checkpoint":null,"state":"","token":""}'
    await writeLegacy(c.client, [{name: '0', body, leaseId: '44444444-4444-4444-4444-444444444444'}])
    const before = await snapshot()
    const r = await ehcp(['release-ownership', '--layout', 'go', '--yes'])
    expect(r.code, describeRun(r)).to.equal(2)
    expect(r.stderr).to.include('(unnamed host)')
    expect(r.stderr).to.include('--owner <id>')
    expect(await snapshot()).to.deep.equal(before)
  })

  it('release-ownership --layout breaks the lease of the owner named, and leaves the rest; a blanket release needs --force', async () => {
    await writeLegacy(c.client, EPH_DOTNET)
    const before = await snapshot()
    // Neither --owner nor --partition: the held lease is an active owner, refused without --force (exit 2).
    const blanket = await ehcp(['release-ownership', '--layout', 'eph', '--consumer-group', '$Default', '--yes'])
    expect(blanket.code, describeRun(blanket)).to.equal(2)
    expect(blanket.stderr).to.include('host-a')
    expect(await snapshot()).to.deep.equal(before)
    const missing = await ehcp(['release-ownership', '--layout', 'eph', '--owner', 'host-z', '--yes'])
    expect(missing.code, describeRun(missing)).to.equal(3)
    expect(missing.stderr).to.include('host-a')
    const r = await ehcp(['release-ownership', '--layout', 'eph', '--owner', 'host-a', '--yes', '--json'])
    expect(r.code, describeRun(r)).to.equal(0)
    const result = r.json<ChangeResult>()
    expect(result.partitions.map((p) => [p.partitionId, p.action, p.before, p.after, p.status])).to.deep.equal([
      ['0', 'break-lease', {ownerId: 'host-a'}, {ownerId: ''}, 'updated'],
    ])
    const after = await snapshot()
    expect(after.get('$Default/0')!.lease).to.equal('broken')
    // The body and metadata stay as they were: only the lease is gone.
    expect({...after.get('$Default/0')!, lease: 'leased'}).to.deep.equal(before.get('$Default/0'))
    for (const name of ['$Default/1', '$Default/2']) expect(after.get(name), name).to.deep.equal(before.get(name))
  })
})
