/**
 * The safety promise at its edges, through the built binary (issue 10): the printed undo restores exactly
 * the blobs its change wrote and works whatever exists in the group; a change can create a new group; the
 * guard holds at write time; Event Hubs positions come from the checkpoints' own hub; SIGTERM, a second
 * Ctrl-C and SIGKILL leave a report or a usable backup; a full disk writes nothing; long names fit.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {ContainerSASPermissions} from '@azure/storage-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {ChangeResult} from '../../src/change/execute.js'
import type {BackupFile} from '../../src/change/plan-file.js'
import {type CliResult, type EmulatorRunner, ehcpOn, type RunOptions, runEhcp, runPrinted} from '../support/cli.js'
import {startRequestLog} from '../support/request-log.js'
import {processorOf} from '../support/processor.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {metadataSnapshot} from '../support/snapshot.js'
import {sleep} from '../support/wait.js'

const NS = 'undo.servicebus.windows.net'
const HUB = 'orders'

describe('the safety promise at its edges', function () {
  this.timeout(180_000)
  let c: TestContainer
  let store: BlobCheckpointStore
  let cwd: string
  let processor: ReturnType<typeof processorOf>
  const checkpoint = (group: string, p: number) => processor.checkpointName(group, p)
  const seed = (group: string, partitions: number, base: number) => processor.seed(group, partitions, base)
  const processorCheckpoint = (group: string, p: number, sequenceNumber: number) => processor.checkpoint(group, p, sequenceNumber)

  const connectionString = () => c.args[c.args.indexOf('--connection-string') + 1]!
  const ehcp = (args: string[], options: RunOptions = {}) => runEhcp([...args, ...c.args], {cwd, ...options})
  let viaEmulator: EmulatorRunner

  beforeEach(async () => {
    c = await freshContainer()
    store = new BlobCheckpointStore(c.client)
    processor = processorOf(store, NS, HUB)
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-undo-'))
    viaEmulator = ehcpOn(c, {cwd})
  })
  afterEach(() => c.dispose())

  describe('1. the undo and changes aimed at a group with no blobs', () => {
    it('undoes reset --delete of a group that has no ownership blobs (nothing left to find the group by)', async () => {
      await seed('$Default', 3, 100)
      const before = await metadataSnapshot(c.client)
      const r = await viaEmulator(['reset', '--namespace', NS, '--eventhub', HUB, '--delete', '--yes', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      expect((await metadataSnapshot(c.client)).size).to.equal(0)
      const undo = await runPrinted(r.json<ChangeResult>().undoCommand!, {cwd, env: viaEmulator.env})
      expect(undo.code, undo.stderr).to.equal(0)
      expect(undo.stdout).to.include('3 updated')
      expect(await metadataSnapshot(c.client)).to.deep.equal(before)
    })

    it('set creates the first checkpoint of a new consumer group, naming the groups that exist', async () => {
      await seed('billing', 2, 100)
      const r = await ehcp([
        'set',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--consumer-group',
        'Fresh',
        '--partition',
        '0',
        '--sequence-number',
        '5',
        '--offset',
        '50',
        '--yes',
        '--json',
      ])
      expect(r.code, r.stderr).to.equal(0)
      const result = r.json<ChangeResult>()
      expect(result.notes.join(' ')).to.match(/Nothing is stored yet for consumer group "Fresh".*Existing consumer groups there: "billing"/)
      expect((await metadataSnapshot(c.client)).get(checkpoint('fresh', 0))).to.deep.equal({sequencenumber: '5', offset: '50'})
      // And its undo deletes exactly that blob again.
      const undo = await runPrinted(result.undoCommand!.replace('--yes', '--yes --json'), {
        cwd,
        env: {},
        connectionString: connectionString(),
      })
      expect(undo.code, undo.stderr).to.equal(0)
      expect((await metadataSnapshot(c.client)).has(checkpoint('fresh', 0))).to.equal(false)
    })

    it('--from-consumer-group and --from-file (show JSON) fill a new consumer group', async () => {
      await seed('source', 3, 500)
      const copy = await ehcp([
        'reset',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--consumer-group',
        'copy',
        '--from-consumer-group',
        'source',
        '--yes',
        '--json',
      ])
      expect(copy.code, copy.stderr).to.equal(0)
      const shown = await ehcp(['show', '--namespace', NS, '--eventhub', HUB, '--consumer-group', 'source', '--json'])
      writeFileSync(path.join(cwd, 'positions.json'), shown.stdout)
      const fromFile = await ehcp([
        'reset',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--consumer-group',
        'second',
        '--from-file',
        'positions.json',
        '--yes',
        '--json',
      ])
      expect(fromFile.code, fromFile.stderr).to.equal(0)
      const stored = await metadataSnapshot(c.client)
      for (let p = 0; p < 3; p++) {
        const want = {sequencenumber: String(500 + p), offset: String((500 + p) * 10)}
        expect(stored.get(checkpoint('copy', p)), `copy ${p}`).to.deep.equal(want)
        expect(stored.get(checkpoint('second', p)), `second ${p}`).to.deep.equal(want)
      }
    })

    it('a scenario that needs existing checkpoints still says the group is not found (exit 3)', async () => {
      await seed('billing', 2, 100)
      const r = await ehcp(['reset', '--namespace', NS, '--eventhub', HUB, '--consumer-group', 'biling', '--shift-by', '1', '--yes'])
      expect(r.code, r.stderr).to.equal(3)
      expect(r.stderr).to.match(/No consumer group "biling".*\n.*"billing"/)
    })
  })

  describe('2. the undo restores exactly what its change wrote', () => {
    it('leaves alone a partition that met a conflict: the processor wrote it, the change did not', async () => {
      await seed('$Default', 4, 100)
      await seed('source', 4, 500)
      let raced: Promise<void> | undefined
      const log = await startRequestLog(c.azurite.host, (req) => {
        if (req.method === 'PUT' && req.query.get('comp') === 'metadata') {
          raced ??= processorCheckpoint('$Default', 2, 777)
          return raced
        }
      })
      let result: ChangeResult
      try {
        const r = await runEhcp(
          [
            'reset',
            '--namespace',
            NS,
            '--eventhub',
            HUB,
            '--from-consumer-group',
            'source',
            '--emulator',
            '--container',
            c.name,
            '--yes',
            '--json',
          ],
          {
            cwd,
            env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
          },
        )
        expect(r.code, r.stderr).to.equal(6)
        result = r.json<ChangeResult>()
      } finally {
        await log.close()
      }
      expect(result.partitions.find((p) => p.partitionId === '2')!.status).to.equal('conflict')
      const backup = JSON.parse(readFileSync(path.join(cwd, result.backupFile!), 'utf8')) as BackupFile
      expect(backup.partitions.map((p) => [p.partitionId, p.outcome])).to.deep.equal([
        ['0', 'written'],
        ['1', 'written'],
        ['2', 'not-written'],
        ['3', 'written'],
      ])

      const undo = await runPrinted(result.undoCommand!.replace('--yes', '--yes --json'), {cwd, env: viaEmulator.env})
      expect(undo.code, undo.stderr).to.equal(0)
      const rows = undo.json<ChangeResult>().partitions
      expect(rows.map((p) => [p.partitionId, p.status])).to.deep.equal([
        ['0', 'updated'],
        ['1', 'updated'],
        ['2', 'unchanged'],
        ['3', 'updated'],
      ])
      expect(rows[2]!.reason).to.match(/did not write/)
      const stored = await metadataSnapshot(c.client)
      expect(stored.get(checkpoint('$Default', 2))).to.deep.include({sequencenumber: '777'})
      for (const p of [0, 1, 3]) expect(stored.get(checkpoint('$Default', p))).to.deep.include({sequencenumber: String(100 + p)})
    })

    it('after Ctrl-C: restores what was written, leaves the unattempted and the since-changed alone (exit 5/6 as reported)', async () => {
      const PARTITIONS = 120
      await seed('$Default', PARTITIONS, 1000)
      await seed('source', PARTITIONS, 5000)
      let writes = 0
      let interrupt: (() => void) | undefined
      const log = await startRequestLog(c.azurite.host, async (req) => {
        if (req.method !== 'PUT') return
        if (++writes === 30) interrupt?.()
        await sleep(10)
      })
      let result: ChangeResult
      try {
        const r = await runEhcp(
          [
            'reset',
            '--namespace',
            NS,
            '--eventhub',
            HUB,
            '--from-consumer-group',
            'source',
            '--emulator',
            '--container',
            c.name,
            '--yes',
            '--json',
            '--concurrency',
            '4',
          ],
          {
            cwd,
            env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
            onSpawn: (child) => (interrupt = () => child.kill('SIGINT')),
          },
        )
        expect(r.code, r.stderr).to.equal(130)
        result = r.json<ChangeResult>()
      } finally {
        await log.close()
      }
      const written = result.partitions.filter((p) => p.status === 'updated').map((p) => Number(p.partitionId))
      const skipped = result.partitions.filter((p) => p.status === 'failed').map((p) => Number(p.partitionId))
      expect(written.length).to.be.greaterThan(5)
      expect(skipped.length).to.be.greaterThan(5)
      // The processor moves one written and one unattempted partition after the change.
      const [movedWritten, movedSkipped] = [written[0]!, skipped[0]!]
      await processorCheckpoint('$Default', movedWritten, 9001)
      await processorCheckpoint('$Default', movedSkipped, 9002)

      const undo = await runPrinted(result.undoCommand!.replace('--yes', '--yes --json'), {cwd, env: viaEmulator.env})
      expect(undo.code, undo.stderr).to.equal(6)
      const rows = new Map(undo.json<ChangeResult>().partitions.map((p) => [Number(p.partitionId), p]))
      expect(rows.get(movedWritten)).to.deep.include({status: 'conflict'})
      expect(rows.get(movedWritten)!.reason).to.match(/changed since the change wrote it/)
      expect(rows.get(movedSkipped)).to.deep.include({status: 'unchanged'})
      const stored = await metadataSnapshot(c.client)
      for (let p = 0; p < PARTITIONS; p++) {
        const want = p === movedWritten ? 9001 : p === movedSkipped ? 9002 : 1000 + p
        expect(stored.get(checkpoint('$Default', p)), String(p)).to.deep.include({sequencenumber: String(want)})
      }
    })

    it('after SIGKILL mid-change: the backup was whole before the first write, and its undo restores exactly the written blobs', async () => {
      const PARTITIONS = 150
      await seed('$Default', PARTITIONS, 1000)
      await seed('source', PARTITIONS, 5000)
      const before = await metadataSnapshot(c.client)
      let writes = 0
      let kill: (() => void) | undefined
      const log = await startRequestLog(c.azurite.host, async (req) => {
        if (req.method !== 'PUT') return
        if (++writes === 40) kill?.()
        await sleep(10)
      })
      let r: CliResult
      try {
        r = await runEhcp(
          [
            'reset',
            '--namespace',
            NS,
            '--eventhub',
            HUB,
            '--from-consumer-group',
            'source',
            '--emulator',
            '--container',
            c.name,
            '--yes',
            '--concurrency',
            '2',
          ],
          {
            cwd,
            env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
            onSpawn: (child) => (kill = () => child.kill('SIGKILL')),
          },
        )
      } finally {
        await log.close()
      }
      expect(r.code).to.equal(null)
      const undoCommand = /^Undo:\s+(.*)$/m.exec(r.stderr)?.[1]
      expect(undoCommand, r.stderr).to.be.a('string')
      const killed = await metadataSnapshot(c.client)
      const changed = [...killed].filter(([name, m]) => JSON.stringify(m) !== JSON.stringify(before.get(name))).map(([name]) => name)
      expect(changed.length).to.be.within(30, PARTITIONS - 50)
      // A processor then checkpoints a partition the killed change never reached: the undo must leave it.
      const untouched = Array.from({length: PARTITIONS}, (_, p) => p).find((p) => !changed.includes(checkpoint('$Default', p)))!
      await processorCheckpoint('$Default', untouched, 9003)
      const undo = await runPrinted(undoCommand!.replace('--yes', '--yes --json'), {cwd, env: viaEmulator.env})
      // The killed run could not say what it wrote: a blob holding neither the old nor the new value is left
      // alone and reported (exit 6), since the undo cannot tell whose it is.
      expect(undo.code, undo.stderr).to.equal(6)
      const rows = undo.json<ChangeResult>().partitions
      expect(rows.filter((p) => p.status === 'updated')).to.have.length(changed.length)
      expect(rows.filter((p) => p.status === 'conflict').map((p) => [p.partitionId, p.reason])).to.deep.equal([
        [String(untouched), 'does not hold what the change would have written (changed since, or never written): left alone'],
      ])
      const restored = await metadataSnapshot(c.client)
      expect(restored.get(checkpoint('$Default', untouched))).to.deep.include({sequencenumber: '9003'})
      restored.set(checkpoint('$Default', untouched), before.get(checkpoint('$Default', untouched))!)
      expect(restored).to.deep.equal(before)
    })

    it('two identical concurrent resets: the undo of each restores only what that one wrote', async () => {
      await seed('$Default', 8, 100)
      await seed('source', 8, 500)
      const run = () =>
        ehcp(['reset', '--namespace', NS, '--eventhub', HUB, '--from-consumer-group', 'source', '--yes', '--json', '--concurrency', '1'])
      const [a, b] = await Promise.all([run(), run()])
      const results = [a, b].map((r) => r.json<ChangeResult>())
      const wrote = results.map((r) => r.partitions.filter((p) => p.status === 'updated').length)
      expect(wrote[0]! + wrote[1]!, `${a.stdout}\n${b.stdout}`).to.equal(8)
      // Undo both, one after the other: every partition is back exactly once, none is touched twice. (A run
      // that planned after the other had finished found nothing to change and has no undo.)
      expect(results.filter((r) => r.undoCommand !== null)).not.to.have.length(0)
      for (const r of results) {
        if (r.undoCommand === null) {
          expect(r.partitions.map((p) => p.status)).to.deep.equal(Array(8).fill('unchanged'))
          continue
        }
        const undo = await runPrinted(r.undoCommand!.replace('--yes', '--yes --json'), {cwd, env: {}, connectionString: connectionString()})
        expect([0, 5], undo.stderr).to.include(undo.code)
      }
      const stored = await metadataSnapshot(c.client)
      for (let p = 0; p < 8; p++)
        expect(stored.get(checkpoint('$Default', p)), String(p)).to.deep.include({sequencenumber: String(100 + p)})
    })
  })

  describe("5. positions come from the checkpoints' own namespace and event hub", () => {
    let hubs: EventHubsStandin
    before(async () => {
      hubs = await EventHubsStandin.start()
      for (const hub of [HUB, 'payments']) hubs.createHubWithEvents(hub, 2, 10)
    })
    after(() => hubs.stop())

    it('a connection to another namespace is exit 2 naming both, nothing written; --ignore-namespace-mismatch reads it on purpose', async () => {
      await seed('$Default', 2, 3)
      const before = await metadataSnapshot(c.client)
      const r = await ehcp(['reset', '--namespace', NS, '--eventhub', HUB, '--to-latest', '--yes'], {
        env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
      })
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stderr).to.include('namespace 127.0.0.1').and.to.include(`namespace ${NS}`)
      expect(await metadataSnapshot(c.client)).to.deep.equal(before)
      const lag = await ehcp(['show', '--namespace', NS, '--eventhub', HUB, '--lag'], {
        env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
      })
      expect(lag.code, lag.stderr).to.equal(2)

      const meant = await ehcp(
        ['reset', '--namespace', NS, '--eventhub', HUB, '--to-latest', '--yes', '--json', '--ignore-namespace-mismatch'],
        {env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()}},
      )
      expect(meant.code, meant.stderr).to.equal(0)
      expect(meant.stderr).to.match(/--ignore-namespace-mismatch/)
      expect((await metadataSnapshot(c.client)).get(checkpoint('$Default', 0))).to.deep.include({sequencenumber: '9'})
    })

    it('a connection string limited to another event hub (EntityPath) is exit 2 as well', async () => {
      await putBlob(c.client, `127.0.0.1/${HUB}/$default/checkpoint/0`, {sequencenumber: '3', offset: '30'})
      const r = await ehcp(['reset', '--eventhub', HUB, '--to-latest', '--yes'], {
        env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString('payments')},
      })
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stderr).to.include('event hub "payments"').and.to.include(`event hub "${HUB}"`)
      expect((await metadataSnapshot(c.client)).get(`127.0.0.1/${HUB}/$default/checkpoint/0`)).to.deep.equal({
        sequencenumber: '3',
        offset: '30',
      })
    })
  })

  describe('6. the guard holds at write time', () => {
    it('an owner that claims a partition after the plan was read stops the change: exit 5, nothing written', async () => {
      await seed('$Default', 4, 100)
      await seed('source', 4, 500)
      const before = await metadataSnapshot(c.client)
      let listings = 0
      const log = await startRequestLog(c.azurite.host, async (req) => {
        const prefix = req.query.get('prefix') ?? ''
        // The third flat listing of $Default is the guard's re-read (the first two: the plan, and the source group).
        if (req.method === 'GET' && req.query.get('comp') === 'list' && !req.query.get('delimiter') && prefix.includes('/')) {
          if (++listings === 3)
            await store.claimOwnership([
              {fullyQualifiedNamespace: NS, eventHubName: HUB, consumerGroup: '$Default', partitionId: '1', ownerId: 'late-processor'},
            ])
        }
      })
      try {
        const r = await runEhcp(
          ['reset', '--namespace', NS, '--eventhub', HUB, '--from-consumer-group', 'source', '--emulator', '--container', c.name, '--yes'],
          {
            cwd,
            env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
          },
        )
        expect(listings).to.equal(3)
        expect(r.code, r.stderr).to.equal(5)
        expect(r.stderr).to.match(/claimed since the plan was read.*late-processor/)
      } finally {
        await log.close()
      }
      const after = await metadataSnapshot(c.client)
      for (const [name, metadata] of before) expect(after.get(name), name).to.deep.equal(metadata)
      expect(readdirSync(cwd)).to.deep.equal([])
    })

    it('--ownership-expiry 0s is refused, and under 10s a guarded change is refused unless --force or --dry-run', async () => {
      await seed('$Default', 2, 100)
      await seed('source', 2, 500)
      const zero = await ehcp(['reset', '--eventhub', HUB, '--from-consumer-group', 'source', '--ownership-expiry', '0s', '--yes'])
      expect(zero.code, zero.stderr).to.equal(2)
      const short = await ehcp(['reset', '--eventhub', HUB, '--from-consumer-group', 'source', '--ownership-expiry', '5s', '--yes'])
      expect(short.code, short.stderr).to.equal(2)
      expect(short.stderr).to.match(/shorter than 10s/)
      expect((await metadataSnapshot(c.client)).get(checkpoint('$Default', 0))).to.deep.include({sequencenumber: '100'})
      expect(
        (await ehcp(['reset', '--eventhub', HUB, '--from-consumer-group', 'source', '--ownership-expiry', '5s', '--dry-run'])).code,
      ).to.equal(0)
      const forced = await ehcp([
        'reset',
        '--eventhub',
        HUB,
        '--from-consumer-group',
        'source',
        '--ownership-expiry',
        '5s',
        '--force',
        '--yes',
      ])
      expect(forced.code, forced.stderr).to.equal(0)
      expect((await metadataSnapshot(c.client)).get(checkpoint('$Default', 0))).to.deep.include({sequencenumber: '500'})
    })
  })

  describe('7. the undo command is complete and safe', () => {
    it('keeps --ownership-expiry, names a container that came from the environment, and runs', async () => {
      await seed('$Default', 2, 100)
      await seed('source', 2, 500)
      const r = await runEhcp(
        ['reset', '--eventhub', HUB, '--from-consumer-group', 'source', '--ownership-expiry', '30s', '--emulator', '--yes', '--json'],
        {cwd, env: {...viaEmulator.env, EHCP_CONTAINER: c.name}},
      )
      expect(r.code, r.stderr).to.equal(0)
      const undo = r.json<ChangeResult>().undoCommand!
      expect(undo).to.include(`--container ${c.name}`).and.to.include('--ownership-expiry 30s')
      const ran = await runPrinted(undo, {cwd, env: viaEmulator.env})
      expect(ran.code, ran.stderr).to.equal(0)
      expect((await metadataSnapshot(c.client)).get(checkpoint('$Default', 1))).to.deep.include({sequencenumber: '101'})
    })

    it('a backup is refused in another container (exit 2, nothing written)', async () => {
      await seed('$Default', 2, 100)
      await seed('source', 2, 500)
      const r = await ehcp(['reset', '--eventhub', HUB, '--from-consumer-group', 'source', '--yes', '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const other = await freshContainer()
      try {
        await putBlob(other.client, checkpoint('$Default', 0), {sequencenumber: '99', offset: '990'})
        const restore = await runEhcp(['reset', '--from-file', r.json<ChangeResult>().backupFile!, '--yes', ...other.args], {cwd})
        expect(restore.code, restore.stderr).to.equal(2)
        expect(restore.stderr).to.include(`backup of container "${c.name}"`)
        const stored = other.client.getBlobClient(checkpoint('$Default', 0))
        expect((await stored.getProperties()).metadata).to.deep.equal({sequencenumber: '99', offset: '990'})
      } finally {
        await other.dispose()
      }
    })

    it("never prints a container URL's password, and marks its SAS as <SAS>", async () => {
      await seed('$Default', 1, 100)
      const url = new URL(
        await c.client.generateSasUrl({permissions: ContainerSASPermissions.parse('rwdl'), expiresOn: new Date(Date.now() + 3_600_000)}),
      )
      url.username = 'alice'
      url.password = 'pa55word-secret'
      const r = await runEhcp(
        [
          'set',
          '--eventhub',
          HUB,
          '--partition',
          '0',
          '--sequence-number',
          '1',
          '--offset',
          '10',
          '--container-url',
          url.toString(),
          '--yes',
          '--json',
        ],
        {cwd},
      )
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout + r.stderr).not.to.include('pa55word')
      const undo = r.json<ChangeResult>().undoCommand!
      expect(undo, undo).to.include(`--container-url '${c.azurite.blobEndpoint()}/${c.name}?<SAS>'`)
      expect(undo).not.to.include('alice')
    })
  })

  describe('8. signals and a full disk', () => {
    const largeReset = async (signal: NodeJS.Signals, times: number) => {
      await seed('$Default', 150, 1000)
      await seed('source', 150, 5000)
      let writes = 0
      let send: (() => void) | undefined
      const log = await startRequestLog(c.azurite.host, async (req) => {
        if (req.method !== 'PUT') return
        if (++writes === 30) send?.()
        // The writes in flight when the signals come take a while, so that the later signals find them there.
        await sleep(writes >= 30 ? 400 : 10)
      })
      try {
        return await runEhcp(
          [
            'reset',
            '--namespace',
            NS,
            '--eventhub',
            HUB,
            '--from-consumer-group',
            'source',
            '--emulator',
            '--container',
            c.name,
            '--yes',
            '--json',
            '--concurrency',
            '4',
          ],
          {
            cwd,
            env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
            onSpawn: (child) =>
              (send = () => {
                for (let i = 0; i < times; i++) setTimeout(() => child.kill(signal), i * 30)
              }),
          },
        )
      } finally {
        await log.close()
      }
    }

    const reportMatchesStorage = async (r: CliResult, reason: string) => {
      const result = r.json<ChangeResult>()
      const stored = await metadataSnapshot(c.client)
      let updated = 0
      for (const p of result.partitions) {
        const id = Number(p.partitionId)
        const seq = stored.get(checkpoint('$Default', id))!.sequencenumber
        if (p.status === 'updated') {
          updated++
          expect(seq, p.partitionId).to.equal(String(5000 + id))
        } else {
          expect(p.reason).to.equal(reason)
          expect(seq, p.partitionId).to.equal(String(1000 + id))
        }
      }
      expect(updated).to.be.within(20, 140)
    }

    it('SIGTERM: stops issuing writes, reports, exit 143', async () => {
      const r = await largeReset('SIGTERM', 1)
      expect(r.code, r.stderr).to.equal(143)
      await reportMatchesStorage(r, 'not attempted: Stopped by SIGTERM')
    })

    it('a second and third Ctrl-C while writing: still the report, exit 130', async () => {
      const r = await largeReset('SIGINT', 3)
      expect(r.code, r.stderr).to.equal(130)
      expect(r.stderr).to.match(/still stopping/)
      await reportMatchesStorage(r, 'not attempted: Stopped by SIGINT')
    })

    it('a full disk for the backup: exit 2, nothing written, no partial backup file left', async function () {
      const mount = path.join(cwd, 'full')
      mkdirSync(mount)
      // A 16 KiB file system: the backup of 300 partitions (about 100 KiB) cannot fit. Needs root, as CI runs.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mount])
      try {
        await seed('$Default', 300, 1000)
        await seed('source', 300, 5000)
        const before = await metadataSnapshot(c.client)
        const r = await ehcp([
          'reset',
          '--eventhub',
          HUB,
          '--from-consumer-group',
          'source',
          '--yes',
          '--backup-file',
          path.join(mount, 'backup.json'),
        ])
        expect(r.code, r.stderr).to.equal(2)
        expect(r.stderr).to.match(/ENOSPC.*Nothing was written to storage/)
        expect(readdirSync(mount)).to.deep.equal([])
        expect(await metadataSnapshot(c.client)).to.deep.equal(before)
      } finally {
        execFileSync('umount', [mount])
      }
    })
  })

  it('11. legal hub and group names of any length get a default backup file name that fits', async () => {
    const hub = `h${'x'.repeat(255)}`
    const group = `g${'y'.repeat(49)}`
    await store.updateCheckpoint({
      fullyQualifiedNamespace: NS,
      eventHubName: hub,
      consumerGroup: group,
      partitionId: '0',
      sequenceNumber: 5,
      offset: '50',
    })
    const r = await ehcp([
      'set',
      '--namespace',
      NS,
      '--eventhub',
      hub,
      '--consumer-group',
      group,
      '--partition',
      '0',
      '--sequence-number',
      '4',
      '--offset',
      '40',
      '--yes',
      '--json',
    ])
    expect(r.code, r.stderr).to.equal(0)
    const file = r.json<ChangeResult>().backupFile!
    expect(Buffer.byteLength(file)).to.be.at.most(255)
    expect(existsSync(path.join(cwd, file))).to.equal(true)
    rmSync(path.join(cwd, file))
  })
})
