/**
 * Changing checkpoints safely, through the built binary: interop with the official JS checkpoint store in
 * both directions, byte-exact undo, races, the active-owner guard, confirmation, dry runs, Ctrl-C, bad input.
 */
import {execFile} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import type {BackupFile} from '../../src/change/plan-file.js'
import {BIN, type RunOptions, runEhcp} from '../support/cli.js'
import {type LoggedRequest, startRequestLog} from '../support/request-log.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {type Snapshot, snapshot} from '../support/snapshot.js'
import {sleep} from '../support/wait.js'

const execFileAsync = promisify(execFile)
const NS = 'change.servicebus.windows.net'
const HUB = 'orders'

const positionOf = (p: number, base: number) => ({sequenceNumber: base + p, offset: String((base + p) * 10)})

describe('changing checkpoints safely', function () {
  this.timeout(120_000)
  let c: TestContainer
  let store: BlobCheckpointStore
  let cwd: string

  const seed = async (group: string, partitions: number, base: number) => {
    for (let p = 0; p < partitions; p++) {
      await store.updateCheckpoint({
        fullyQualifiedNamespace: NS,
        eventHubName: HUB,
        consumerGroup: group,
        partitionId: String(p),
        ...positionOf(p, base),
      })
    }
  }
  const checkpoints = async (group: string) =>
    Object.fromEntries((await store.listCheckpoints(NS, HUB, group)).map((cp) => [cp.partitionId, [cp.sequenceNumber, String(cp.offset)]]))
  const expected = (partitions: number, base: number) =>
    Object.fromEntries(Array.from({length: partitions}, (_, p) => [String(p), [base + p, String((base + p) * 10)]]))
  const ehcp = (args: string[], options: RunOptions = {}) => runEhcp([...args, ...c.args], {cwd, ...options})
  const claim = (group: string, partitionIds: string[], ownerId: string) =>
    store.claimOwnership(
      partitionIds.map((partitionId) => ({fullyQualifiedNamespace: NS, eventHubName: HUB, consumerGroup: group, partitionId, ownerId})),
    )

  beforeEach(async () => {
    c = await freshContainer()
    store = new BlobCheckpointStore(c.client)
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-test-'))
  })
  afterEach(() => c.dispose())

  describe('what ehcp writes, the official store reads exactly', () => {
    it('set: one partition to an exact pair', async () => {
      await seed('$Default', 4, 100)
      const r = await ehcp(['set', '--partition', '2', '--sequence-number', '42', '--offset', '420', '--yes', '--json'])
      expect(r.code, r.stdout + r.stderr).to.equal(0)
      const result = r.json<ChangeResult>()
      expect(result.partitions).to.have.length(1)
      expect(result.partitions[0]).to.deep.include({
        partitionId: '2',
        before: {sequenceNumber: 102, offset: '1020'},
        after: {sequenceNumber: 42, offset: '420'},
        delta: 60,
        status: 'updated',
      })
      expect(await checkpoints('$Default')).to.deep.equal({...expected(4, 100), '2': [42, '420']})
    })

    it('set: --offset -1 with begin-1 creates a checkpoint for a partition that had none', async () => {
      await seed('$Default', 2, 100)
      const r = await ehcp(['set', '--partition', '2', '--sequence-number', '-1', '--offset', '-1', '--yes', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.json<ChangeResult>().partitions[0]!.warnings[0]).to.match(/new checkpoint blob will be created/)
      expect((await checkpoints('$Default'))['2']).to.deep.equal([-1, '-1'])
    })

    it('reset --from-file: the JSON and the CSV of show, applied to another group', async () => {
      await seed('source', 6, 500)
      await seed('$Default', 6, 100)
      await seed('other', 6, 900)
      const json = await ehcp(['show', '--consumer-group', 'source', '--json'])
      writeFileSync(path.join(cwd, 'positions.json'), json.stdout)
      const csv = await ehcp(['show', '--consumer-group', 'source', '--csv'])
      writeFileSync(path.join(cwd, 'positions.csv'), csv.stdout)

      const fromJson = await ehcp(['reset', '--consumer-group', '$Default', '--from-file', 'positions.json', '--yes', '--json'])
      expect(fromJson.code, fromJson.stderr).to.equal(0)
      expect(fromJson.json<ChangeResult>().partitions.map((p) => p.status)).to.deep.equal(Array(6).fill('updated'))
      expect(await checkpoints('$Default')).to.deep.equal(expected(6, 500))

      const fromCsv = await ehcp(['reset', '--consumer-group', 'other', '--from-file', 'positions.csv', '--yes', '--json'])
      expect(fromCsv.code, fromCsv.stderr).to.equal(0)
      expect(await checkpoints('other')).to.deep.equal(expected(6, 500))
    })

    it('reset --from-consumer-group: copies positions within the container', async () => {
      await seed('source', 4, 500)
      await seed('target', 4, 100)
      const r = await ehcp(['reset', '--consumer-group', 'target', '--from-consumer-group', 'SOURCE', '--yes', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const result = r.json<ChangeResult>()
      expect(result.scenario).to.equal('from-consumer-group source')
      expect(result.partitions.map((p) => p.delta)).to.deep.equal([-400, -400, -400, -400])
      expect(await checkpoints('target')).to.deep.equal(expected(4, 500))
      expect(await checkpoints('source')).to.deep.equal(expected(4, 500))
    })

    it('reset --delete: the checkpoints are gone and the plan says where each SDK then starts', async () => {
      await seed('$Default', 4, 100)
      const r = await ehcp(['reset', '--delete', '--partition', '1,3', '--yes', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const result = r.json<ChangeResult>()
      expect(result.notes.join(' ')).to.include('Earliest for .NET').and.include('Latest for JS, Java, Python, Go and Rust')
      const left = await checkpoints('$Default')
      expect(Object.keys(left)).to.deep.equal(['0', '2'])
    })

    it('release-ownership: ownerid "" for the official store, and another processor can claim at once', async () => {
      await seed('$Default', 3, 100)
      await claim('$Default', ['0', '1'], 'dead-host')
      await claim('$Default', ['2'], 'other-host')
      const r = await ehcp(['release-ownership', '--owner', 'dead-host', '--yes', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.json<ChangeResult>().partitions.map((p) => [p.partitionId, p.before, p.after, p.ownerState, p.status])).to.deep.equal([
        ['0', {ownerId: 'dead-host'}, {ownerId: ''}, 'active', 'updated'],
        ['1', {ownerId: 'dead-host'}, {ownerId: ''}, 'active', 'updated'],
      ])
      const listed = await store.listOwnership(NS, HUB, '$Default')
      expect(listed.map((o) => [o.partitionId, o.ownerId])).to.deep.equal([
        ['0', ''],
        ['1', ''],
        ['2', 'other-host'],
      ])
      const taken = await store.claimOwnership(listed.filter((o) => o.ownerId === '').map((o) => ({...o, ownerId: 'new-host'})))
      expect(taken.map((o) => o.partitionId)).to.deep.equal(['0', '1'])
    })

    it('creates new checkpoint blobs under the group\'s own spelling (a Java group keeps "$Default")', async () => {
      await putBlob(c.client, `${NS}/Orders/$Default/checkpoint/0`, {sequencenumber: '1', offset: '10'})
      const r = await ehcp(['set', '--partition', '1', '--sequence-number', '5', '--offset', '50', '--yes', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.json<ChangeResult>().partitions[0]!.blobName).to.equal(`${NS}/Orders/$Default/checkpoint/1`)
      expect([...(await snapshot(c.client)).keys()]).to.include(`${NS}/Orders/$Default/checkpoint/1`)
    })
  })

  it('backup, change, then the printed undo command restores every byte of metadata', async () => {
    await putBlob(c.client, `${NS}/${HUB}/$default/checkpoint/0`, {
      sequencenumber: '5',
      offset: '50',
      clientidentifier: 'dotnet-host-1',
      x_unknown: 'keep this',
    })
    await putBlob(c.client, `${NS}/${HUB}/$default/checkpoint/1`, {SequenceNumber: '6', Offset: '60'})
    await putBlob(c.client, `${NS}/${HUB}/$default/ownership/0`, {ownerid: ''})
    await seed('source', 3, 500)
    const before = await snapshot(c.client)

    const viaEmulator = {cwd, env: {EHCP_EMULATOR_BLOB_ENDPOINT: c.azurite.blobEndpoint()}}
    const r = await runEhcp(
      ['reset', '--from-consumer-group', 'source', '--emulator', '--container', c.name, '--yes', '--json'],
      viaEmulator,
    )
    expect(r.code, r.stderr).to.equal(0)
    const result = r.json<ChangeResult>()
    expect(result.backupFile).to.match(/^ehcp-backup-orders-\$default-\d{8}T\d{6}Z\.json$/)
    const changed = await snapshot(c.client)
    expect(changed.get(`${NS}/${HUB}/$default/checkpoint/0`)!.metadata).to.deep.equal({
      clientidentifier: 'dotnet-host-1',
      x_unknown: 'keep this',
      sequencenumber: '500',
      offset: '5000',
    })
    expect(changed.get(`${NS}/${HUB}/$default/checkpoint/1`)!.metadata).to.deep.equal({sequencenumber: '501', offset: '5010'})
    expect(changed.has(`${NS}/${HUB}/$default/checkpoint/2`)).to.equal(true)

    const backup = JSON.parse(readFileSync(path.join(cwd, result.backupFile!), 'utf8')) as BackupFile
    expect(backup).to.include({
      schemaVersion: 2,
      kind: 'ehcp-backup',
      container: c.name,
      namespace: NS,
      eventHub: HUB,
      consumerGroup: '$default',
    })
    expect(backup.partitions.map((p) => [p.partitionId, p.metadata])).to.deep.equal([
      ['0', {sequencenumber: '5', offset: '50', clientidentifier: 'dotnet-host-1', x_unknown: 'keep this'}],
      ['1', {SequenceNumber: '6', Offset: '60'}],
      ['2', null],
    ])
    expect(JSON.stringify(backup)).not.to.include('AccountKey')

    // Run the undo command exactly as printed (the emulator endpoint comes from the environment).
    expect(result.undoCommand).to.equal(`ehcp reset --from-file '${result.backupFile}' --emulator --container ${c.name} --yes`)
    // (Asynchronously: Azurite runs in this process and must keep answering.)
    const undo = await execFileAsync('bash', ['-c', result.undoCommand!.replace(/^ehcp /, `node ${BIN} `)], {
      cwd,
      env: {...process.env, EHCP_EMULATOR_BLOB_ENDPOINT: c.azurite.blobEndpoint()},
    })
    expect(undo.stdout).to.include('3 updated')
    const after = await snapshot(c.client)
    const metadataOnly = (s: Snapshot) => Object.fromEntries([...s].map(([name, b]) => [name, b.metadata]))
    expect(metadataOnly(after)).to.deep.equal(metadataOnly(before))
  })

  describe('races and guards', () => {
    it('a writer that changes a checkpoint between plan and write wins: conflict reported, the others applied, exit 6', async () => {
      await seed('$Default', 4, 100)
      await seed('source', 4, 500)
      let raced: Promise<void> | undefined
      const log = await startRequestLog(c.azurite.host, (req: LoggedRequest) => {
        if (req.method === 'PUT' && req.query.get('comp') === 'metadata') {
          // The first write triggers a processor checkpoint on partition 2; every write waits for it.
          raced ??= store.updateCheckpoint({
            fullyQualifiedNamespace: NS,
            eventHubName: HUB,
            consumerGroup: '$Default',
            partitionId: '2',
            sequenceNumber: 777,
            offset: '7770',
          })
          return raced
        }
      })
      try {
        const r = await runEhcp(
          ['reset', '--from-consumer-group', 'source', '--emulator', '--container', c.name, '--yes', '--json', '--no-backup'],
          {
            cwd,
            env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
          },
        )
        expect(r.code, r.stderr).to.equal(6)
        const rows = r.json<ChangeResult>().partitions.map((p) => [p.partitionId, p.status])
        expect(rows).to.deep.equal([
          ['0', 'updated'],
          ['1', 'updated'],
          ['2', 'conflict'],
          ['3', 'updated'],
        ])
        expect(r.json<ChangeResult>().partitions[2]!.reason).to.match(/changed since it was read/)
        expect(await checkpoints('$Default')).to.deep.equal({...expected(4, 500), '2': [777, '7770']})
      } finally {
        await log.close()
      }
    })

    it('when every targeted partition conflicts, nothing is written and the exit code is 5', async () => {
      await seed('$Default', 1, 100)
      const log = await startRequestLog(c.azurite.host, async (req) => {
        if (req.method === 'PUT')
          await store.updateCheckpoint({
            fullyQualifiedNamespace: NS,
            eventHubName: HUB,
            consumerGroup: '$Default',
            partitionId: '0',
            sequenceNumber: 150,
            offset: '1500',
          })
      })
      try {
        const r = await runEhcp(
          [
            'set',
            '--partition',
            '0',
            '--sequence-number',
            '1',
            '--offset',
            '10',
            '--emulator',
            '--container',
            c.name,
            '--yes',
            '--no-backup',
          ],
          {
            cwd,
            env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
          },
        )
        expect(r.code, r.stderr).to.equal(5)
        expect(r.stdout).to.match(/^0\s.*conflict/m)
        expect((await checkpoints('$Default'))['0']).to.deep.equal([150, '1500'])
      } finally {
        await log.close()
      }
    })

    it('an active owner blocks the change (exit 5, owners listed, nothing written); --force proceeds and says so', async () => {
      await seed('$Default', 3, 100)
      await seed('source', 3, 500)
      await claim('$Default', ['1'], 'live-host')
      const before = await snapshot(c.client)
      const refused = await ehcp(['reset', '--from-consumer-group', 'source', '--yes', '--json'])
      expect(refused.code).to.equal(5)
      const error = refused.json<{error: {code: string; message: string}}>().error
      expect(error.code).to.equal('active-owners')
      expect(error.message).to.include('live-host').and.include('partitions 1')
      expect(await snapshot(c.client)).to.deep.equal(before)
      expect(readdirSync(cwd)).to.deep.equal([])

      const forced = await ehcp(['reset', '--from-consumer-group', 'source', '--yes', '--force'])
      expect(forced.code, forced.stderr).to.equal(0)
      expect(forced.stderr).to.include('--force: writing although 1 partition(s) have an active owner (live-host)')
      expect(await checkpoints('$Default')).to.deep.equal(expected(3, 500))
    })

    it('release-ownership: a blanket release refuses active owners unless --force; --owner and --partition are not blocked', async () => {
      await seed('$Default', 2, 100)
      await claim('$Default', ['0'], 'live-host')
      await claim('$Default', ['1'], 'other-host')
      const before = await snapshot(c.client)
      for (const args of [['--yes'], ['--dry-run'], ['--yes', '--json']]) {
        const refused = await ehcp(['release-ownership', ...args])
        expect(refused.code, `${args.join(' ')}: ${refused.stdout}${refused.stderr}`).to.equal(2)
        const said = args.includes('--json')
          ? refused.json<{error: {message: string; hint: string}}>().error
          : {message: refused.stderr, hint: ''}
        const text = `${said.message} ${said.hint}`
        expect(text).to.include('live-host').and.to.include('other-host')
        expect(text).to.include('--owner').and.to.include('--partition').and.to.include('--force')
      }
      expect(await snapshot(c.client)).to.deep.equal(before)

      const one = await ehcp(['release-ownership', '--owner', 'live-host', '--yes'])
      expect(one.code, one.stderr).to.equal(0)
      const byPartition = await ehcp(['release-ownership', '--partition', '1', '--yes'])
      expect(byPartition.code, byPartition.stderr).to.equal(0)
      expect((await store.listOwnership(NS, HUB, '$Default')).map((o) => o.ownerId)).to.deep.equal(['', ''])

      // Claimed again by a live processor (with the released blobs' ETags, as a processor claims).
      const released = await store.listOwnership(NS, HUB, '$Default')
      expect(await store.claimOwnership(released.map((o) => ({...o, ownerId: 'live-host'})))).to.have.length(2)
      const forced = await ehcp(['release-ownership', '--force', '--yes'])
      expect(forced.code, forced.stderr).to.equal(0)
      expect((await store.listOwnership(NS, HUB, '$Default')).map((o) => o.ownerId)).to.deep.equal(['', ''])
    })
  })

  describe('confirmation and dry runs', () => {
    it('refuses without --yes when not on a terminal: exit 2, nothing written, no backup', async () => {
      await seed('$Default', 3, 100)
      await seed('source', 3, 500)
      const before = await snapshot(c.client)
      for (const args of [
        ['reset', '--from-consumer-group', 'source'],
        ['set', '--partition', '0', '--sequence-number', '1', '--offset', '1'],
        ['release-ownership'],
        ['reset', '--delete', '--json'],
      ]) {
        const r = await ehcp(args)
        if (args[0] === 'release-ownership') {
          expect(r.code, 'nothing to release').to.equal(0)
          continue
        }
        expect(r.code, args.join(' ')).to.equal(2)
        expect(r.stdout + r.stderr).to.include('--yes')
      }
      expect(await snapshot(c.client)).to.deep.equal(before)
      expect(readdirSync(cwd)).to.deep.equal([])
    })

    it('--dry-run writes nothing, and its JSON is exactly the plan that --yes then executes', async () => {
      await seed('$Default', 5, 100)
      await seed('source', 4, 500)
      await store.updateCheckpoint({
        fullyQualifiedNamespace: NS,
        eventHubName: HUB,
        consumerGroup: 'source',
        partitionId: '4',
        sequenceNumber: 104,
        offset: '1040',
      })
      const before = await snapshot(c.client)
      const dry = await ehcp(['reset', '--from-consumer-group', 'source', '--dry-run', '--json'])
      expect(dry.code, dry.stderr).to.equal(0)
      expect(await snapshot(c.client)).to.deep.equal(before)
      const plan = dry.json<ChangeResult>()
      expect(plan).to.include({dryRun: true, executed: false, backupFile: null})
      expect(plan.partitions.map((p) => p.status)).to.deep.equal(['planned', 'planned', 'planned', 'planned', 'unchanged'])

      const executed = await ehcp(['reset', '--from-consumer-group', 'source', '--yes', '--json'])
      expect(executed.code, executed.stdout).to.equal(0)
      const done = executed.json<ChangeResult>()
      expect([done.dryRun, done.executed], executed.stdout.slice(0, 400)).to.deep.equal([false, true])
      const withoutOutcome = (r: ChangeResult) => r.partitions.map(({status: _s, reason: _r, ...rest}) => rest)
      expect(withoutOutcome(done)).to.deep.equal(withoutOutcome(plan))
      expect(done.partitions.map((p) => p.status)).to.deep.equal(['updated', 'updated', 'updated', 'updated', 'unchanged'])
    })
  })

  it('Ctrl-C during a large reset: no new writes, every blob wholly old or new as reported, exit 130', async () => {
    const PARTITIONS = 300
    await seed('$Default', PARTITIONS, 1000)
    await seed('source', PARTITIONS, 5000)
    let writes = 0
    let interrupt: (() => void) | undefined
    const log = await startRequestLog(c.azurite.host, async (req) => {
      if (req.method !== 'PUT') return
      if (++writes === 40) interrupt?.()
      await sleep(20)
    })
    try {
      const r = await runEhcp(
        ['reset', '--from-consumer-group', 'source', '--emulator', '--container', c.name, '--yes', '--json', '--concurrency', '4'],
        {
          cwd,
          env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
          onSpawn: (child) => (interrupt = () => child.kill('SIGINT')),
        },
      )
      expect(r.code, r.stderr).to.equal(130)
      const result = r.json<ChangeResult>()
      const stored = await checkpoints('$Default')
      let updated = 0
      for (const p of result.partitions) {
        const id = Number(p.partitionId)
        if (p.status === 'updated') {
          updated++
          expect(stored[p.partitionId], p.partitionId).to.deep.equal([5000 + id, String((5000 + id) * 10)])
        } else {
          expect(p.status).to.equal('failed')
          expect(p.reason).to.equal('not attempted: Stopped by SIGINT')
          expect(stored[p.partitionId], p.partitionId).to.deep.equal([1000 + id, String((1000 + id) * 10)])
        }
      }
      expect(updated).to.be.within(36, PARTITIONS - 100)
      // The undo still works: the backup was taken before the first write.
      expect(result.backupFile).to.be.a('string')
    } finally {
      await log.close()
    }
  })

  describe('bad plan files: a clear error, exit 2, nothing written', () => {
    const files: Record<string, string> = {
      'truncated.json': '{"schemaVersion": 1, "partitions": [{"partitionId": "0", "checkpoint": {"sequenceNumber": 5',
      'wrong-type.json': JSON.stringify({partitions: [{partitionId: '0', checkpoint: {sequenceNumber: 'five', offset: '50'}}]}),
      'duplicate.json': JSON.stringify({
        partitions: [
          {partitionId: '0', checkpoint: {sequenceNumber: 5, offset: '50'}},
          {partitionId: '0', checkpoint: {sequenceNumber: 6, offset: '60'}},
        ],
      }),
      'out-of-range.json': JSON.stringify({partitions: [{partitionId: '0', checkpoint: {sequenceNumber: -7, offset: '50'}}]}),
      'empty-offset.csv': 'partitionId,sequenceNumber,offset\n0,5, \n',
      'no-offset-column.csv': 'partitionId,sequenceNumber\n0,5\n',
      'ragged.csv': 'partitionId,sequenceNumber,offset\n0,5,50,extra\n',
      'bad-partition.csv': 'partitionId,sequenceNumber,offset\n../0,5,50\n',
      'backup-bad-metadata.json': JSON.stringify({
        schemaVersion: 1,
        kind: 'ehcp-backup',
        namespace: NS,
        eventHub: HUB,
        consumerGroup: '$default',
        partitions: [{partitionId: '0', blobName: `${NS}/${HUB}/$default/checkpoint/0`, metadata: {offset: 5}}],
      }),
      'backup-wrong-blob.json': JSON.stringify({
        schemaVersion: 1,
        kind: 'ehcp-backup',
        namespace: NS,
        eventHub: HUB,
        consumerGroup: '$default',
        partitions: [{partitionId: '0', blobName: `${NS}/${HUB}/$default/checkpoint/1`, metadata: {}}],
      }),
      'empty.json': '',
    }
    it('for every kind of malformed file', async () => {
      await seed('$Default', 2, 100)
      const before = await snapshot(c.client)
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(cwd, name), text)
      for (const name of [...Object.keys(files), 'missing.json']) {
        const r = await ehcp(['reset', '--from-file', name, '--yes', '--json'])
        expect(r.code, `${name}: ${r.stdout}`).to.equal(2)
        const error = r.json<{error: {message: string}}>().error
        expect(error.message, name).to.include(name)
      }
      expect(await snapshot(c.client)).to.deep.equal(before)
    })

    it('a backup of another group, with scope flags that disagree', async () => {
      await seed('$Default', 2, 100)
      await seed('other', 2, 100)
      await seed('source', 2, 500)
      const r = await ehcp(['reset', '--from-consumer-group', 'source', '--yes', '--json'])
      const backupFile = r.json<ChangeResult>().backupFile!
      const before = await snapshot(c.client)
      const wrong = await ehcp(['reset', '--consumer-group', 'other', '--from-file', backupFile, '--yes'])
      expect(wrong.code).to.equal(2)
      expect(wrong.stderr).to.include('is a backup of')
      expect(await snapshot(c.client)).to.deep.equal(before)
    })
  })
})
