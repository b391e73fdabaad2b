/**
 * `ehcp doctor` through the CLI with --json: on scripted containers (one per finding, blobs written as the SDKs
 * write them), and against the Event Hubs stand-in (a re-created hub, a partition past retention, a shrunk
 * partition count, a partition never checkpointed), where each finding's fix command is run and the finding goes away.
 */
import {BlobServiceClient} from '@azure/storage-blob'
import {expect} from 'chai'

import {EventHubsStandin, offsetOf} from '../../local/eventhubs-standin.js'
import type {DoctorReport} from '../../src/doctor/diagnose.js'
import type {Finding} from '../../src/doctor/findings.js'
import {FUNCTIONS_V4_CONTAINER} from '../../src/store/layouts.js'
import {type CliResult, describeRun, runEhcp} from '../support/cli.js'
import {EPH_DOTNET, FUNCTIONS_V4, PYTHON_EPH, writeLegacy} from '../support/legacy-corpus.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {sleep} from '../support/wait.js'

const NS = 'contoso.servicebus.windows.net'

/** The words of a fix command as a POSIX shell splits them (single quotes only: what ehcp's quoting produces). */
function shellSplit(line: string): string[] {
  const words: string[] = []
  const pattern = /'((?:[^']|'\\'')*)'|(\S+)/g
  for (const m of line.matchAll(pattern)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!)
  return words
}

describe('doctor', function () {
  this.timeout(120_000)
  let c: TestContainer
  const env = (extra: Record<string, string> = {}) => ({EHCP_EMULATOR_BLOB_ENDPOINT: `${c.azurite.host}/devstoreaccount1`, ...extra})
  const doctor = (args: string[] = [], extra: Record<string, string> = {}) =>
    runEhcp(['doctor', '--emulator', '--container', c.name, '--json', ...args], {env: env(extra)})
  const reportOf = (r: CliResult) => {
    expect([0, 13], describeRun(r)).to.include(r.code)
    return r.json<DoctorReport>()
  }
  const codes = (report: DoctorReport) => report.findings.map((f) => f.code)
  const find = (report: DoctorReport, code: string): Finding => {
    const f = report.findings.find((x) => x.code === code)
    expect(f, `${code} in ${JSON.stringify(codes(report))}`).to.not.equal(undefined)
    return f!
  }
  /** Runs a finding's fix as printed (the `ehcp` word is this checkout), confirmed with --yes. */
  const runFix = async (f: Finding, extra: Record<string, string> = {}) => {
    expect(f.fix, f.code).to.be.a('string')
    const [bin, ...words] = shellSplit(f.fix!)
    expect(bin).to.equal('ehcp')
    const r = await runEhcp([...words, '--yes', '--no-backup', '--json'], {env: env(extra)})
    expect(r.code, describeRun(r)).to.equal(0)
    return r
  }

  beforeEach(async () => {
    c = await freshContainer()
  })
  afterEach(() => c.dispose())

  describe('from the listing', () => {
    it('a healthy group: no errors, exit 0, its writer named, Event Hubs not checked said so', async () => {
      for (const p of ['0', '1']) {
        await putBlob(c.client, `${NS}/orders/$default/checkpoint/${p}`, {sequencenumber: '10', offset: offsetOf(10)})
        await putBlob(c.client, `${NS}/orders/$default/ownership/${p}`, {ownerid: 'host-a'})
      }
      const r = await doctor()
      expect(r.code, describeRun(r)).to.equal(0)
      const report = r.json<DoctorReport>()
      expect(report.counts.error).to.equal(0)
      expect(report.counts.warning, JSON.stringify(report.findings)).to.equal(0)
      const writers = find(report, 'writers')
      expect(writers.severity).to.equal('info')
      expect(writers.message).to.contain('JS, Python, Go, Java or Rust')
      expect(find(report, 'eventhub-not-checked').evidence).to.deep.include({eventHub: `${NS}/orders`})
    })

    it('mixed writers: Java spells the group as configured, JS lower-cases it; .NET adds its client identifier', async () => {
      await putBlob(c.client, `${NS}/orders/$Default/checkpoint/0`, {sequencenumber: '1', offset: '100'})
      await putBlob(c.client, `${NS}/orders/$default/checkpoint/1`, {sequencenumber: '1', offset: '100', clientidentifier: 'proc-1'})
      const report = reportOf(await doctor())
      const mixed = find(report, 'mixed-writers')
      expect(mixed.severity).to.equal('warning')
      expect((mixed.evidence.spellings as Array<{prefix: string}>).map((s) => s.prefix).sort()).to.deep.equal([
        `${NS}/orders/$Default/`,
        `${NS}/orders/$default/`,
      ])
      expect(find(report, 'writers').message).to.contain('.NET').and.contain('Java or Rust')
      expect(report.counts.error).to.equal(0)
    })

    it('a case-variant duplicate is an error (exit 13); PascalCase metadata keys are a warning naming the old Java store', async () => {
      await putBlob(c.client, `${NS}/orders/$Default/checkpoint/0`, {SequenceNumber: '1', Offset: '100'})
      await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '2', offset: '200'})
      const r = await doctor()
      expect(r.code, describeRun(r)).to.equal(13)
      const report = r.json<DoctorReport>()
      expect(find(report, 'case-variant-duplicate').severity).to.equal('error')
      expect(find(report, 'metadata-key-case').severity).to.equal('warning')
      expect(find(report, 'writers').message).to.contain('Java checkpoint store 1.0.x')
      expect(report.findings[0]!.severity, 'errors first').to.equal('error')
    })

    it('unreadable checkpoints are errors, with every blob as evidence', async () => {
      await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: 'twelve', offset: '100'})
      await putBlob(c.client, `${NS}/orders/$default/checkpoint/1`, {sequencenumber: 'x', offset: '100'})
      const r = await doctor()
      expect(r.code, describeRun(r)).to.equal(13)
      const bad = find(r.json<DoctorReport>(), 'invalid-sequence-number')
      expect(bad.evidence.count).to.equal(2)
      expect((bad.evidence.blobs as string[]).sort()).to.deep.equal([
        `${NS}/orders/$default/checkpoint/0`,
        `${NS}/orders/$default/checkpoint/1`,
      ])
    })

    it('other data in the container and under a group prefix is reported, never fatal', async () => {
      await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '1', offset: '100'})
      await c.client.getBlockBlobClient(`${NS}/orders/$default/notes.txt`).upload('hello', 5)
      await c.client.getBlockBlobClient('exports/report.csv').upload('a,b\n', 4)
      const report = reportOf(await doctor())
      const other = report.findings.filter((f) => f.code === 'other-data')
      expect(other.map((f) => (f.group ? 'group' : 'container')).sort()).to.deep.equal(['container', 'group'])
      expect(other.every((f) => f.severity === 'warning')).to.equal(true)
    })

    it('stale ownership and a stale group, with --stale-after; the release fix makes the stale ownership go away', async () => {
      await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '1', offset: '100'})
      await putBlob(c.client, `${NS}/orders/$default/ownership/0`, {ownerid: 'dead-host'})
      await putBlob(c.client, `${NS}/orders/$default/ownership/1`, {ownerid: ''})
      const fresh = reportOf(await doctor(['--stale-after', '1h']))
      expect(codes(fresh)).to.not.include('stale-ownership')
      expect(codes(fresh)).to.not.include('stale-group')
      await sleep(2500)
      const args = ['--stale-after', '1s', '--ownership-expiry', '1s']
      const report = reportOf(await doctor(args))
      const stale = find(report, 'stale-ownership')
      expect(stale.evidence.owners).to.deep.equal(['dead-host'])
      expect(stale.fix).to.match(
        /^ehcp release-ownership --emulator --container \S+ --namespace contoso.servicebus.windows.net --eventhub orders --consumer-group '\$default' --ownership-expiry 1s --partition 0$/,
      )
      expect(find(report, 'stale-group').severity).to.equal('warning')
      await runFix(stale)
      expect(codes(reportOf(await doctor(args)))).to.not.include('stale-ownership')
    })

    it('legacy groups: their layout and writer, Python v1 collisions', async () => {
      await writeLegacy(c.client, [...EPH_DOTNET, ...PYTHON_EPH.slice(0, 1)])
      const report = reportOf(await doctor())
      const legacy = report.findings.filter((f) => f.code === 'legacy-layout')
      expect(legacy.map((f) => f.group?.layout).sort()).to.deep.equal(['eph', 'python-eph'])
      expect(legacy.find((f) => f.group?.layout === 'eph')?.evidence).to.deep.include({leased: 1, owners: ['host-a']})
      find(report, 'python-eph-shared-root')
    })

    it('a Functions v4 group beside its modern twin: information, or an error while both run', async () => {
      const service = BlobServiceClient.fromConnectionString(c.azurite.connectionString())
      const container = service.getContainerClient(FUNCTIONS_V4_CONTAINER)
      await container.deleteIfExists()
      await container.create()
      try {
        await writeLegacy(container, FUNCTIONS_V4)
        // The v5 extension's modern group for the hub "orders eu" (v4 escaped its name as "orders:20eu").
        const twin = `${NS}/orders eu/$default`
        await putBlob(container, `${twin}/checkpoint/0`, {sequencenumber: '1', offset: '100'})
        const run = (extra: string[] = []) =>
          runEhcp(['doctor', '--emulator', '--container', FUNCTIONS_V4_CONTAINER, '--json', ...extra], {env: env()})
        const report = reportOf(await run())
        expect(report.findings.filter((f) => f.code === 'legacy-layout').map((f) => f.group?.layout)).to.include('functions-v4')
        const beside = find(report, 'legacy-beside-modern')
        expect(beside.group?.layout).to.equal('functions-v4')
        expect(beside.severity, 'no modern owner yet: a migration that kept its legacy blobs').to.equal('info')
        const leased = FUNCTIONS_V4.some((b) => b.leaseId !== undefined)
        // With a live modern owner too, old and new consumers run side by side.
        await putBlob(container, `${twin}/ownership/0`, {ownerid: 'new-host'})
        const both = reportOf(await run())
        expect(find(both, 'legacy-beside-modern').severity).to.equal(leased ? 'error' : 'info')
        expect(leased, 'the corpus holds a leased Functions v4 blob').to.equal(true)
      } finally {
        await container.deleteIfExists()
      }
    })

    it('store hygiene: blob soft delete turned on is a warning with its days; off again, gone', async () => {
      await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '1', offset: '100'})
      const service = BlobServiceClient.fromConnectionString(c.azurite.connectionString())
      expect(codes(reportOf(await doctor()))).to.not.include('store-soft-delete')
      await service.setProperties({deleteRetentionPolicy: {enabled: true, days: 7}})
      try {
        const soft = find(reportOf(await doctor()), 'store-soft-delete')
        expect(soft.severity).to.equal('warning')
        expect(soft.message).to.contain('7 days')
      } finally {
        await service.setProperties({deleteRetentionPolicy: {enabled: false}})
      }
      expect(codes(reportOf(await doctor()))).to.not.include('store-soft-delete')
    })

    it('an empty container is said so (exit 0); a scope that names no group is exit 3, not a clean bill', async () => {
      const empty = reportOf(await doctor())
      expect(codes(empty)).to.include('no-groups')
      await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '1', offset: '100'})
      const typo = await doctor(['--eventhub', 'ordres'])
      expect(typo.code, describeRun(typo)).to.equal(3)
      expect(typo.stdout).to.contain('--eventhub \\"ordres\\"')
      const right = await doctor(['--eventhub', 'ORDERS'])
      expect(right.code, describeRun(right)).to.equal(0)
      expect(codes(right.json<DoctorReport>())).to.not.include('no-groups')
    })

    it('bad flags are exit 2 and name the flag', async () => {
      for (const value of ['0s', 'soon', '-5m']) {
        const r = await doctor(['--stale-after', value])
        expect(r.code, describeRun(r)).to.equal(2)
        expect(r.stderr + r.stdout).to.contain('--stale-after')
      }
    })
  })

  describe('against the event hub', () => {
    let hubs: EventHubsStandin
    before(async () => {
      hubs = await EventHubsStandin.start()
    })
    after(() => hubs.stop())
    const withHubs = (): Record<string, string> => ({EVENTHUBS_CONNECTION_STRING: hubs.connectionString()})
    const fill = (hub: string, partitions: number, events: number) => {
      hubs.createHub(hub, partitions)
      for (let p = 0; p < partitions; p++)
        hubs.append(
          hub,
          String(p),
          Array.from({length: events}, (_, i) => ({body: i})),
        )
    }
    const checkpoint = (hub: string, p: number, seq: number) =>
      putBlob(c.client, `127.0.0.1/${hub}/$default/checkpoint/${p}`, {sequencenumber: String(seq), offset: offsetOf(seq)})
    const scope = (hub: string) => ['--eventhub', hub]

    it('a re-created hub: checkpoints ahead of the partition, fixed by the reset it prints', async () => {
      fill('recreated', 2, 60)
      for (const p of [0, 1]) await checkpoint('recreated', p, 50)
      expect(codes(reportOf(await doctor(scope('recreated'), withHubs())))).to.not.include('checkpoint-ahead-of-partition')
      hubs.deleteHub('recreated')
      fill('recreated', 2, 10)
      const r = await doctor(scope('recreated'), withHubs())
      expect(r.code, describeRun(r)).to.equal(13)
      const report = r.json<DoctorReport>()
      expect(report.eventHubs.read).to.deep.equal(['127.0.0.1/recreated'])
      const ahead = find(report, 'checkpoint-ahead-of-partition')
      expect(
        (ahead.evidence.partitions as Array<{partitionId: string; checkpoint: number}>).map((p) => [p.partitionId, p.checkpoint]),
      ).to.deep.equal([
        ['0', 50],
        ['1', 50],
      ])
      expect(ahead.fix).to.contain('--partition 0,1 --to-earliest')
      await runFix(ahead, withHubs())
      const after = await doctor(scope('recreated'), withHubs())
      expect(after.code, describeRun(after)).to.equal(0)
      expect(codes(after.json<DoctorReport>())).to.not.include('checkpoint-ahead-of-partition')
    })

    it('a partition past retention: found for that partition only, fixed by its reset', async () => {
      fill('retained', 2, 100)
      for (const p of [0, 1]) await checkpoint('retained', p, 10)
      hubs.retain('retained', '0', 50)
      const report = reportOf(await doctor(scope('retained'), withHubs()))
      const behind = find(report, 'checkpoint-behind-retention')
      expect(behind.evidence.partitions).to.deep.equal([
        {
          partitionId: '0',
          checkpoint: 10,
          beginningSequenceNumber: 50,
          lastEnqueuedSequenceNumber: 99,
          reason: 'events 11..49 expired unprocessed; the processor resumes at 50',
        },
      ])
      await runFix(behind, withHubs())
      const after = await doctor(scope('retained'), withHubs())
      expect(after.code, describeRun(after)).to.equal(0)
      expect(codes(after.json<DoctorReport>())).to.not.include('checkpoint-behind-retention')
    })

    it('a shrunk partition count: checkpoints for partitions the hub lacks, deleted by the fix', async () => {
      fill('shrunk', 2, 10)
      for (const p of [0, 1, 2, 3]) await checkpoint('shrunk', p, 5)
      await putBlob(c.client, `127.0.0.1/shrunk/$default/ownership/3`, {ownerid: ''})
      const report = reportOf(await doctor(scope('shrunk'), withHubs()))
      const missing = find(report, 'checkpoint-for-missing-partition')
      expect(missing.severity).to.equal('error')
      expect(missing.evidence.partitions).to.deep.equal(['2', '3'])
      expect(find(report, 'ownership-for-missing-partition').evidence.partitions).to.deep.equal(['3'])
      expect(missing.fix).to.contain('--partition 2,3 --delete')
      await runFix(missing, withHubs())
      const after = await doctor(scope('shrunk'), withHubs())
      expect(after.code, describeRun(after)).to.equal(0)
      expect(codes(after.json<DoctorReport>())).to.not.include('checkpoint-for-missing-partition')
    })

    it('a partition never checkpointed while others are: a warning, fixed by an explicit start', async () => {
      fill('partial', 3, 10)
      await checkpoint('partial', 0, 5)
      const report = reportOf(await doctor(scope('partial'), withHubs()))
      const never = find(report, 'partition-never-checkpointed')
      expect(never.severity).to.equal('warning')
      expect(never.evidence.partitions).to.deep.equal(['1', '2'])
      await runFix(never, withHubs())
      expect(codes(reportOf(await doctor(scope('partial'), withHubs())))).to.not.include('partition-never-checkpointed')
    })

    it('an unreachable event hub loses only its checks: the listing findings stand, exit 0', async () => {
      fill('gone-soon', 1, 1)
      await checkpoint('gone-soon', 0, 0)
      const r = await doctor(scope('gone-soon'), {EVENTHUBS_CONNECTION_STRING: hubs.connectionString().replace(/:\d+/, ':1')})
      expect(r.code, describeRun(r)).to.equal(0)
      const report = r.json<DoctorReport>()
      expect(report.eventHubs.notRead.map((n) => n.eventHub)).to.deep.equal(['127.0.0.1/gone-soon'])
      find(report, 'eventhub-not-checked')
      find(report, 'writers')
    })
  })
})
