/**
 * Hostile-operator findings on the legacy-layout paths, second round: scope flags a layout does not take,
 * byte order marks, numbers too large to parse, signals mid-change, a host that starts while migrate writes.
 * Each test failed before its fix, or pins down a behaviour an attack found intact.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import {type CliResult, describeRun, type EmulatorRunner, ehcpOn, runEhcp, runPrinted} from '../support/cli.js'
import {FUNCTIONS_V4, PYTHON_EPH, writeLegacy} from '../support/legacy-corpus.js'
import {type LoggedRequest, startRequestLog} from '../support/request-log.js'
import {startStatusProxy, storageError} from '../support/status-proxy.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {sleep} from '../support/wait.js'

const NS = 'attack.servicebus.windows.net'
const HUB = 'orders'

const dotnet = (pid: string, offset: string, seq: string) =>
  `{"Offset":"${offset}","SequenceNumber":${seq},"PartitionId":"${pid}","Owner":"","Token":"","Epoch":1}`

/** Every blob of the container: its body (bytes as UTF-8 text) and lease state. */
async function bodies(c: TestContainer): Promise<Map<string, {body: string; lease: string}>> {
  const out = new Map<string, {body: string; lease: string}>()
  for await (const b of c.client.listBlobsFlat()) {
    const body = (await c.client.getBlockBlobClient(b.name).downloadToBuffer()).toString('utf8')
    out.set(b.name, {body, lease: b.properties.leaseState ?? ''})
  }
  return out
}

describe('attack-legacy2', function () {
  this.timeout(120_000)
  let c: TestContainer
  let cwd: string
  let ehcp: EmulatorRunner

  beforeEach(async () => {
    c = await freshContainer()
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-attack-legacy2-'))
    ehcp = ehcpOn(c, {cwd})
  })
  afterEach(async () => {
    await c.dispose()
  })

  describe('scope flags a layout does not take', () => {
    it('show refuses a flag its layout does not take with exit 2 naming it (it used to be ignored: exit 0, or 3) (every pair: unit legacy-scope-flags)', async () => {
      await writeLegacy(c.client, PYTHON_EPH)
      const cases = [
        ['python-eph', '--consumer-group', 'X'],
        ['eph', '--namespace', NS],
        ['functions-v4', '--blob-prefix', 'p/', '--namespace', NS, '--eventhub', HUB],
        ['go', '--eventhub', HUB],
      ]
      const runs = await Promise.all(cases.map(([layout, ...flags]) => ehcp(['show', '--layout', layout!, ...flags])))
      // Before connecting: the container it names need not exist.
      const elsewhere = ehcpOn({name: 'no-such-container', azurite: c.azurite})
      runs.push(await elsewhere(['show', '--layout', 'python-eph', '--consumer-group', 'X']))
      cases.push(['python-eph', '--consumer-group'])
      for (const [i, r] of runs.entries()) {
        expect(r.code, describeRun(r)).to.equal(2)
        expect(r.stderr).to.include(`${cases[i]![1]} does not apply to the ${cases[i]![0]} layout`)
      }
    })

    it('set, reset, release-ownership and migrate refuse them too, before anything is written', async () => {
      await writeLegacy(c.client, PYTHON_EPH)
      const before = await bodies(c)
      const runs = await Promise.all([
        ehcp([
          'set',
          '--layout',
          'python-eph',
          '--consumer-group',
          'X',
          '--partition',
          '0',
          '--sequence-number',
          '1',
          '--offset',
          '1',
          '--yes',
        ]),
        ehcp(['set', '--layout', 'eph', '--namespace', NS, '--partition', '0', '--sequence-number', '1', '--offset', '1', '--yes']),
        ehcp(['reset', '--layout', 'go', '--consumer-group', 'X', '--to-latest', '--yes']),
        ehcp(['reset', '--layout', 'python-eph', '--eventhub', HUB, '--from-file', 'x.json', '--yes']),
        ehcp(['release-ownership', '--layout', 'python-eph', '--eventhub', HUB, '--yes']),
        ehcp(['migrate', '--layout', 'python-eph', '--blob-prefix', 'p/', '--namespace', NS, '--eventhub', HUB, '--consumer-group', 'x']),
      ])
      const named = ['--consumer-group', '--namespace', '--consumer-group', '--eventhub', '--eventhub', '--blob-prefix']
      for (const [i, r] of runs.entries()) {
        expect(r.code, describeRun(r)).to.equal(2)
        expect(r.stderr).to.include(`${named[i]} does not apply`)
      }
      expect(await bodies(c)).to.deep.equal(before)
    })

    it('--namespace and --eventhub still name the hub for an Event Hubs lookup (reset --to-latest) on a layout that does not record them', async () => {
      await writeLegacy(c.client, PYTHON_EPH)
      // Past the scope check: the next thing missing is a credential for Event Hubs, not the flags.
      const r = await ehcp(['reset', '--layout', 'python-eph', '--namespace', NS, '--eventhub', HUB, '--to-latest', '--yes'])
      expect(r.stderr).to.not.include('does not apply')
      expect(r.stderr).to.match(/Event Hubs/)
    })

    it("a profile's consumer group does not refuse a layout that takes none (a profile's scope applies only where taken)", async () => {
      await writeLegacy(c.client, PYTHON_EPH)
      const configDir = path.join(cwd, 'config')
      const profileEnv = {EHCP_CONFIG_DIR: configDir}
      const saved = await runEhcp(['config', 'set', 'ops', '--consumer-group', 'billing', '--namespace', NS], {cwd, env: profileEnv})
      expect(saved.code, describeRun(saved)).to.equal(0)
      const r = await ehcp(['show', '--layout', 'python-eph', '--profile', 'ops', '--json'], {env: profileEnv})
      expect(r.code, describeRun(r)).to.equal(0)
      const shown = r.json<{consumerGroup: string | null; namespace: string | null; partitions: unknown[]}>()
      expect(shown.partitions).to.have.length(2)
      // Not the profile's group: python-eph names none. The namespace stays, for --lag.
      expect(shown.consumerGroup).to.equal(null)
      expect(shown.namespace).to.equal(NS)
    })

    it('--blob-prefix with --layout modern is refused (exit 2), not ignored', async () => {
      const r = await ehcp(['show', '--layout', 'modern', '--blob-prefix', 'p/', '--eventhub', HUB])
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.include('--blob-prefix does not apply to the modern layout')
    })
  })

  describe('bodies', () => {
    it('a body with a UTF-8 byte order mark (some .NET writers) is read; set keeps the BOM; the undo puts the bytes back', async () => {
      const body = `\uFEFF${dotnet('0', '100', '10')}`
      await writeLegacy(c.client, [{name: '$Default/0', body}])
      const shown = await ehcp(['show', '--layout', 'eph', '--json'])
      expect(shown.code, describeRun(shown)).to.equal(0)
      const [p] = shown.json<{partitions: Array<{checkpoint: {sequenceNumber: number; offset: string} | null; problems: unknown[]}>}>()
        .partitions
      expect(p!.checkpoint).to.deep.include({sequenceNumber: 10, offset: '100'})
      expect(p!.problems).to.deep.equal([])

      const set = await ehcp(['set', '--layout', 'eph', '--partition', '0', '--sequence-number', '5', '--offset', '50', '--yes', '--json'])
      expect(set.code, describeRun(set)).to.equal(0)
      const written = await c.client.getBlockBlobClient('$Default/0').downloadToBuffer()
      expect([...written.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf])
      expect(written.toString('utf8')).to.equal(`\uFEFF${dotnet('0', '50', '5')}`)

      const undo = await runPrinted(set.json<ChangeResult>().undoCommand!, {cwd, env: ehcp.env})
      expect(undo.code, describeRun(undo)).to.equal(0)
      expect((await bodies(c)).get('$Default/0')!.body).to.equal(body)
    })

    it('a sequence number too large to be one is shown as written, not rounded (1e+23, ...992)', async () => {
      await writeLegacy(c.client, [
        {name: '$Default/0', body: dotnet('0', '100', '99999999999999999999999')},
        {name: '$Default/1', body: dotnet('1', '100', '9007199254740993')},
        {
          name: 'gp/0',
          body: '{"partitionID":"0","epoch":3,"owner":"","checkpoint":{"offset":"1","sequenceNumber":1e400},"state":"","token":""}',
        },
      ])
      const r = await ehcp(['show', '--layout', 'eph'])
      expect(r.code, describeRun(r)).to.equal(0)
      expect(r.stdout).to.include('SequenceNumber 99999999999999999999999 is not a sequence number')
      expect(r.stdout).to.include('SequenceNumber 9007199254740993 is not a sequence number')
      expect(r.stdout).to.not.match(/1e\+23|9007199254740992/)
      const go = await ehcp(['show', '--layout', 'go', '--blob-prefix', 'gp/'])
      expect(go.code, describeRun(go)).to.equal(0)
      expect(go.stdout).to.include('checkpoint.sequenceNumber 1e400 is not a sequence number')
    })
  })

  describe('signals and races mid-change', () => {
    const PARTITIONS = 12
    const seedEph = () =>
      writeLegacy(
        c.client,
        Array.from({length: PARTITIONS}, (_, p) => ({name: `$Default/${p}`, body: dotnet(String(p), String(1000 + p), String(100 + p))})),
      )

    /** Runs ehcp through a proxy that holds each write back `delayMs` and sends `signal` when the `at`-th write arrives. */
    async function interrupted(args: string[], signal: NodeJS.Signals, at: number, delayMs = 150): Promise<CliResult & {puts: number}> {
      let kill: (() => void) | undefined
      let puts = 0
      const log = await startRequestLog(c.azurite.host, async (req: LoggedRequest) => {
        if (req.method !== 'PUT' && req.method !== 'DELETE') return
        if (++puts === at) kill?.()
        await sleep(delayMs)
      })
      try {
        const r = await ehcp(args, {
          env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
          onSpawn: (child) => (kill = () => child.kill(signal)),
        })
        return {...r, puts}
      } finally {
        await log.close()
      }
    }

    it('SIGINT mid legacy reset: exit 130, every body wholly old or new as reported, and the undo restores them all', async () => {
      await seedEph()
      const before = await bodies(c)
      const shown = await ehcp(['show', '--layout', 'eph', '--json'])
      expect(shown.code, describeRun(shown)).to.equal(0)
      const doc = shown.json<{partitions: Array<{checkpoint: {sequenceNumber: number; offset: string}}>}>()
      for (const p of doc.partitions) p.checkpoint = {...p.checkpoint, sequenceNumber: p.checkpoint.sequenceNumber - 50, offset: '7'}
      writeFileSync(path.join(cwd, 'positions.json'), JSON.stringify(doc))
      const r = await interrupted(
        ['reset', '--layout', 'eph', '--from-file', 'positions.json', '--concurrency', '2', '--yes', '--json'],
        'SIGINT',
        2,
      )
      expect(r.code, describeRun(r)).to.equal(130)
      const result = r.json<ChangeResult>()
      const updated = result.partitions.filter((p) => p.status === 'updated').map((p) => p.partitionId)
      const notAttempted = result.partitions.filter((p) => p.status === 'failed')
      expect(updated.length, 'some writes finished').to.be.greaterThan(0)
      expect(notAttempted.length, 'some writes never started').to.be.greaterThan(0)
      expect(notAttempted[0]!.reason).to.match(/not attempted: Stopped by SIGINT/)
      const after = await bodies(c)
      for (let p = 0; p < PARTITIONS; p++) {
        const name = `$Default/${p}`
        const expected = updated.includes(String(p)) ? dotnet(String(p), '7', String(50 + p)) : before.get(name)!.body
        expect(after.get(name)!.body, name).to.equal(expected)
      }
      const undo = await runPrinted(result.undoCommand!, {cwd, env: ehcp.env})
      expect(undo.code, describeRun(undo)).to.equal(0)
      expect(await bodies(c)).to.deep.equal(before)
    })

    it('SIGTERM mid migrate: exit 143, the modern checkpoints created are those reported, and the undo deletes exactly them', async () => {
      await seedEph()
      const legacy = await bodies(c)
      const r = await interrupted(
        [
          'migrate',
          '--layout',
          'eph',
          '--namespace',
          NS,
          '--eventhub',
          HUB,
          '--consumer-group',
          '$Default',
          '--concurrency',
          '2',
          '--yes',
          '--json',
        ],
        'SIGTERM',
        2,
      )
      expect(r.code, describeRun(r)).to.equal(143)
      const result = r.json<ChangeResult>()
      const updated = result.partitions.filter((p) => p.status === 'updated').map((p) => p.partitionId)
      expect(updated.length, 'some writes finished').to.be.greaterThan(0)
      expect(updated.length, 'some writes never started').to.be.lessThan(PARTITIONS)
      const stored = await bodies(c)
      const created = [...stored.keys()].filter((n) => n.startsWith(`${NS}/`)).sort()
      expect(created).to.deep.equal(updated.map((p) => `${NS}/${HUB}/$default/checkpoint/${p}`).sort())
      const undo = await runPrinted(result.undoCommand!, {cwd, env: ehcp.env})
      expect(undo.code, describeRun(undo)).to.equal(0)
      expect(await bodies(c)).to.deep.equal(legacy)
    })

    it('a host that takes a source lease after migrate read the group stops it before any write (exit 5)', async () => {
      await seedEph()
      let leased = false
      const log = await startRequestLog(c.azurite.host, async (req: LoggedRequest) => {
        // The first listing of the modern group comes after every legacy body was read: a host starts now.
        if (!leased && req.method === 'GET' && req.query.get('comp') === 'list' && (req.query.get('prefix') ?? '').startsWith(NS)) {
          leased = true
          await c.client.getBlockBlobClient('$Default/3').getBlobLeaseClient('44444444-4444-4444-4444-444444444444').acquireLease(60)
        }
      })
      try {
        const r = await ehcp(
          ['migrate', '--layout', 'eph', '--namespace', NS, '--eventhub', HUB, '--consumer-group', '$Default', '--yes', '--no-backup'],
          {
            env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
          },
        )
        expect(leased).to.equal(true)
        expect(r.code, describeRun(r)).to.equal(5)
        expect(r.stderr).to.match(/partition\(s\) 3/)
        expect(log.requests.filter((q) => q.method === 'PUT')).to.deep.equal([])
        expect([...(await bodies(c)).keys()].filter((n) => n.startsWith(NS))).to.deep.equal([])
      } finally {
        await log.close()
      }
    })
  })

  describe('names', () => {
    const go = (owner: string) => `{"partitionID":"0","epoch":3,"owner":"${owner}","checkpoint":null,"state":"leased","token":"t"}`

    it('a consumer group or hub given in another case than stored finds the stored group (it was "not found"); several spellings: exit 2', async () => {
      await writeLegacy(c.client, [
        {name: 'Grüße app/$Default/0', body: dotnet('0', '100', '10')},
        {name: 'dapr-Orders-$Default-0', body: go('h').replace('"checkpoint":null', '"checkpoint":{"offset":"5","sequenceNumber":5}')},
      ])
      const eph = await ehcp(['show', '--layout', 'eph', '--blob-prefix', 'GRÜßE APP/', '--consumer-group', '$DEFAULT', '--json'])
      expect(eph.code, describeRun(eph)).to.equal(0)
      expect(eph.json<{blobPrefix: string}>().blobPrefix).to.equal('Grüße app/$Default/')
      const ephScope = ['--layout', 'eph', '--blob-prefix', 'grüße app/', '--consumer-group', '$default']
      const set = await ehcp(['set', ...ephScope, '--partition', '0', '--sequence-number', '5', '--offset', '50', '--yes', '--no-backup'])
      expect(set.code, describeRun(set)).to.equal(0)
      expect((await bodies(c)).get('Grüße app/$Default/0')!.body).to.equal(dotnet('0', '50', '5'))
      const dapr = await ehcp(['show', '--layout', 'dapr', '--eventhub', 'orders', '--json'])
      expect(dapr.code, describeRun(dapr)).to.equal(0)
      expect(dapr.json<{eventHub: string; blobPrefix: string}>()).to.deep.include({eventHub: 'Orders', blobPrefix: 'dapr-Orders-$Default-'})

      // Functions v4: namespace and hub escaped (capitals lower-cased, the space as :20), the consumer group as stored.
      await writeLegacy(c.client, FUNCTIONS_V4)
      const fn = await ehcp([
        'show',
        '--layout',
        'functions-v4',
        '--namespace',
        'Contoso.ServiceBus.Windows.NET',
        '--eventhub',
        'Orders EU',
        '--consumer-group',
        '$default',
        '--json',
      ])
      expect(fn.code, describeRun(fn)).to.equal(0)
      expect(fn.json<{blobPrefix: string; partitions: unknown[]}>()).to.deep.include({
        blobPrefix: 'contoso.servicebus.windows.net/orders:20eu/$Default/',
      })

      await writeLegacy(c.client, [{name: 'Grüße app/$default/0', body: dotnet('0', '100', '10')}])
      const both = await ehcp(['show', '--layout', 'eph', '--blob-prefix', 'Grüße app/', '--consumer-group', '$DEFAULT'])
      expect(both.code, describeRun(both)).to.equal(2)
      expect(both.stderr).to.include('"Grüße app/$Default/", "Grüße app/$default/"')
      const none = await ehcp(['show', '--layout', 'eph', '--blob-prefix', 'Grüße app/', '--consumer-group', 'billing'])
      expect(none.code, describeRun(none)).to.equal(3)
    })

    it('list finds a legacy group whose first blob is corrupt (it was listed only as foreign blobs)', async () => {
      await writeLegacy(c.client, [
        {name: '$Default/0', body: '{"Offset":"100","SequenceNumber":10,"Parti'},
        {name: '$Default/1', body: dotnet('1', '200', '20')},
      ])
      const r = await ehcp(['list', '--json'])
      expect(r.code, describeRun(r)).to.equal(0)
      const {groups, problems} = r.json<{groups: Array<{layout: string; consumerGroup: string; partitions: number}>; problems: unknown[]}>()
      expect(groups).to.deep.equal([groups[0]])
      expect(groups[0]).to.deep.include({layout: 'eph', consumerGroup: '$Default', partitions: 2})
      expect(problems).to.deep.equal([])
      // show without --layout finds it the same way; the corrupt body is a problem on its partition.
      const shown = await ehcp(['show', '--json'])
      expect(shown.code, describeRun(shown)).to.equal(0)
      const parts = shown.json<{partitions: Array<{partitionId: string; problems: Array<{code: string}>}>}>().partitions
      expect(parts.map((p) => [p.partitionId, p.problems.map((q) => q.code)])).to.deep.equal([
        ['0', ['invalid-json']],
        ['1', []],
      ])
    })

    it('release-ownership breaks the leases of go, python-eph and dapr groups, bodies kept, the root group named as such', async () => {
      const lease = (n: number) => `55555555-5555-5555-5555-55555555555${n}`
      const py =
        '{"partition_id": "0", "sequence_number": 42, "owner": "py-host", "token": "t", "epoch": 3, "event_processor_context": null, "offset": "4096"}'
      await writeLegacy(c.client, [
        {name: 'fb/0', body: go('go-host'), leaseId: lease(1)},
        {name: '0', body: py, leaseId: lease(2)},
        {name: 'dapr-hub-cg-0', body: go('dapr-host'), leaseId: lease(3)},
      ])
      const before = await bodies(c)
      expect([...before.values()].map((b) => b.lease)).to.deep.equal(['leased', 'leased', 'leased'])
      const runs = await Promise.all([
        ehcp(['release-ownership', '--layout', 'go', '--blob-prefix', 'fb/', '--owner', 'go-host', '--yes', '--no-backup']),
        // Neither --owner nor --partition: a blanket release of held leases needs --force (cli-contract).
        ehcp(['release-ownership', '--layout', 'python-eph', '--force', '--yes', '--no-backup']),
        ehcp(['release-ownership', '--layout', 'dapr', '--eventhub', 'hub', '--consumer-group', 'cg', '--force', '--yes', '--no-backup']),
      ])
      for (const r of runs) expect(r.code, describeRun(r)).to.equal(0)
      expect(runs[1]!.stdout).to.include('python-eph lease blobs at the container root')
      expect(runs[1]!.stdout).to.not.include('under ""')
      const after = await bodies(c)
      for (const [name, b] of before) expect(after.get(name), name).to.deep.equal({body: b.body, lease: 'broken'})
    })
  })

  describe('storage failing on the legacy paths', () => {
    const two = [
      {name: '$Default/0', body: dotnet('0', '100', '10')},
      {name: '$Default/1', body: dotnet('1', '200', '20')},
    ]
    /** show --json of the group with every position moved back 5 events: a file `reset --from-file` takes. */
    async function movedBack(): Promise<string> {
      const shown = await ehcp(['show', '--layout', 'eph', '--json'])
      expect(shown.code, describeRun(shown)).to.equal(0)
      const doc = shown.json<{partitions: Array<{checkpoint: {sequenceNumber: number}}>}>()
      for (const p of doc.partitions) p.checkpoint.sequenceNumber -= 5
      const file = path.join(cwd, 'moved.json')
      writeFileSync(file, JSON.stringify(doc))
      return file
    }
    const commands = (file: string) => [
      ['list', '--layout', 'eph'],
      ['show', '--layout', 'eph'],
      ['reset', '--layout', 'eph', '--from-file', file, '--yes'],
      ['migrate', '--layout', 'eph', '--namespace', NS, '--eventhub', HUB, '--consumer-group', '$Default', '--yes'],
    ]

    it('a web server answering HTML 404, and storage answering 503 (Retry-After) or 500: exit 3 or 7, said plainly, nothing written', async () => {
      await writeLegacy(c.client, two)
      const file = await movedBack()
      const before = await bodies(c)
      const notStorage = await startStatusProxy(undefined, () => ({
        status: 404,
        headers: {'content-type': 'text/html'},
        body: '<html>Not Found</html>',
      }))
      let n = 0
      // Storage busy or failing once the container was found: on the legacy listing and body reads.
      const failing = await startStatusProxy(c.azurite.host, (req) =>
        req.url.includes('restype=container') && !req.url.includes('comp=list')
          ? undefined
          : n++ % 2
            ? {...storageError(503, 'ServerBusy'), headers: {...storageError(503, 'ServerBusy').headers, 'retry-after': '1'}}
            : storageError(500, 'InternalError'),
      )
      try {
        const at = (url: string) => ({env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${url}/devstoreaccount1`}})
        const runs = await Promise.all(
          commands(file).flatMap((args) => [
            ehcp([...args, '--timeout', '5'], at(notStorage.url)),
            ehcp([...args, '--timeout', '5'], at(failing.url)),
          ]),
        )
        expect(runs).to.have.length(8)
        for (const [i, r] of runs.entries()) {
          expect(r.code, describeRun(r)).to.equal(i % 2 ? 7 : 3)
          expect(r.stderr).to.match(i % 2 ? /Storage is unavailable: it answered 50[03]/ : /does not look like Azure Blob Storage/)
          expect(r.stderr).to.not.match(/\n\s+at /)
        }
      } finally {
        await notStorage.close()
        await failing.close()
      }
      expect(await bodies(c)).to.deep.equal(before)
    })

    it('503 asking for a wait longer than --timeout: exit 7 naming the 503, not "did not answer within"', async () => {
      await writeLegacy(c.client, two)
      const busy = await startStatusProxy(c.azurite.host, (req) =>
        req.url.includes('comp=list')
          ? {...storageError(503, 'ServerBusy'), headers: {...storageError(503, 'ServerBusy').headers, 'retry-after': '3600'}}
          : undefined,
      )
      try {
        const r = await ehcp(['show', '--layout', 'eph', '--timeout', '3'], {
          env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${busy.url}/devstoreaccount1`},
        })
        expect(r.code, describeRun(r)).to.equal(7)
        expect(r.stderr).to.include('it answered 503 ServerBusy, after 3 tries')
        expect(busy.requests.filter((q) => q.url.includes('comp=list'))).to.have.length(3)
      } finally {
        await busy.close()
      }
    })

    it('a write failing midway through a legacy reset: exit 6, the failed row says why, and the undo puts back what was written', async () => {
      await writeLegacy(c.client, two)
      const file = await movedBack()
      const before = await bodies(c)
      let puts = 0
      const proxy = await startStatusProxy(c.azurite.host, (req) =>
        req.method === 'PUT' && ++puts > 1 ? storageError(500, 'InternalError') : undefined,
      )
      try {
        const r = await ehcp(['reset', '--layout', 'eph', '--from-file', file, '--concurrency', '1', '--timeout', '5', '--yes', '--json'], {
          env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${proxy.url}/devstoreaccount1`},
        })
        expect(r.code, describeRun(r)).to.equal(6)
        const result = r.json<ChangeResult>()
        expect(result.partitions.map((p) => p.status)).to.deep.equal(['updated', 'failed'])
        expect(result.partitions[1]!.reason).to.match(/500 InternalError/)
        const undo = await runPrinted(result.undoCommand!, {cwd, env: ehcp.env})
        expect(undo.code, describeRun(undo)).to.equal(0)
        expect(await bodies(c)).to.deep.equal(before)
      } finally {
        await proxy.close()
      }
    })
  })
})
