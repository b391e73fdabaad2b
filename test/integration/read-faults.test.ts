/**
 * Faults while ehcp reads (and while it writes, after reading): a List Blobs response cut midway, and storage
 * that goes silent (black-holed) after the first requests were answered. A listing is printed complete or
 * not at all (exit 7, nothing on stdout but the JSON error); silence ends in exit 7 within a bound derived
 * from --timeout; a change whose writes meet silence reports every partition whose write may have landed,
 * and every blob stays wholly old or wholly new.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import type {GroupView} from '../../src/store/group.js'
import type {ContainerSummary} from '../../src/store/summary.js'
import {type CliResult, runEhcp} from '../support/cli.js'
import {type FaultPlan, type FaultProxy, type ProxiedRequest, startFaultProxy} from '../support/fault-proxy.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const NS = 'readfaults.servicebus.windows.net'
const HUB = 'orders'
/** 600 checkpoints + 600 ownerships: one List Blobs page of ~1,200 blobs with metadata, several hundred KB. */
const PARTITIONS = 600
/** Where a cut response stops: well inside the first page's body. */
const CUT_AT = 64 * 1024

const isFlatListing = (r: ProxiedRequest) =>
  r.method === 'GET' && r.firstLine.includes('comp=list') && r.firstLine.includes('include=metadata')
const sequenceOf = (p: number) => 1000 + p
const ownerOf = (p: number) => `host-${p % 4}`

interface ErrorDocument {
  error: {code: string; message: string; exitCode: number; hint: string | null}
}

/** Exit 7 with nothing on stdout but the JSON error: no partial listing. */
function expectUnreachableOnly(r: CliResult) {
  expect(r.code, r.stdout.slice(0, 2000) + r.stderr).to.equal(7)
  const doc = r.json<ErrorDocument>()
  expect(Object.keys(doc)).to.deep.equal(['error'])
  expect(doc.error).to.include({exitCode: 7, code: 'unreachable'})
  expect(r.stdout).not.to.include('partitionId')
  expect(r.stdout).not.to.include(NS)
  return doc.error
}

describe('read faults: responses cut midway, storage black-holed', function () {
  this.timeout(60_000)
  let c: TestContainer
  let proxy: FaultProxy | undefined

  /** ehcp through a fault proxy in front of the shared Azurite. */
  const viaProxy = async (plan: FaultPlan) => {
    const host = new URL(c.azurite.host)
    proxy = await startFaultProxy({host: host.hostname, port: Number(host.port)}, plan)
    const env = {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${proxy.port}/devstoreaccount1`}
    return (args: string[], cwd?: string) => runEhcp([...args, '--emulator', '--container', c.name], {env, cwd})
  }
  const timed = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now()
    const result = await run()
    return [result, Date.now() - started]
  }

  before(async function () {
    this.timeout(120_000)
    c = await freshContainer()
    const store = new BlobCheckpointStore(c.client)
    const ids = Array.from({length: PARTITIONS}, (_, p) => p)
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((p) =>
          store.updateCheckpoint({
            fullyQualifiedNamespace: NS,
            eventHubName: HUB,
            consumerGroup: '$Default',
            partitionId: String(p),
            sequenceNumber: sequenceOf(p),
            offset: String(sequenceOf(p) * 10),
          }),
        ),
      )
    }
    await store.claimOwnership(
      ids.map((p) => ({
        fullyQualifiedNamespace: NS,
        eventHubName: HUB,
        consumerGroup: '$Default',
        partitionId: String(p),
        ownerId: ownerOf(p),
      })),
    )
  })
  after(() => c.dispose())
  afterEach(async () => {
    await proxy?.close()
    proxy = undefined
  })

  /** Every partition present, each with its own checkpoint and owner. */
  function expectCompleteView(view: GroupView) {
    expect(view.partitions.map((p) => p.partitionId)).to.deep.equal(Array.from({length: PARTITIONS}, (_, p) => String(p)))
    for (const p of view.partitions) {
      const id = Number(p.partitionId)
      expect(p.checkpoint, `partition ${id}`).to.deep.include({sequenceNumber: sequenceOf(id), offset: String(sequenceOf(id) * 10)})
      expect(p.ownership, `partition ${id}`).to.deep.include({ownerId: ownerOf(id), state: 'active'})
      // A blob delivered twice (before the cut and again by the retry) would show up as a duplicate here.
      expect(p.problems, `partition ${id}`).to.deep.equal([])
    }
    expect(view.problems).to.deep.equal([])
  }

  describe('a List Blobs response cut midway', () => {
    it('cut once, then fine: show --json and list --json retry and print the complete listing (exit 0)', async () => {
      let cuts = 0
      const ehcp = await viaProxy({cutResponse: (r) => (isFlatListing(r) && cuts++ < 1 ? CUT_AT : undefined)})
      const show = await ehcp(['show', '--namespace', NS, '--eventhub', HUB, '--json', '--timeout', '10'])
      expect(show.code, show.stdout.slice(0, 2000) + show.stderr).to.equal(0)
      expect(proxy!.cutResponses, 'the first listing was cut').to.equal(1)
      expectCompleteView(show.json<GroupView>())

      cuts = 0
      const list = await ehcp(['list', '--json', '--timeout', '10'])
      expect(list.code, list.stdout.slice(0, 2000) + list.stderr).to.equal(0)
      expect(proxy!.cutResponses, 'the second listing was cut').to.equal(2)
      const groups = list.json<ContainerSummary>().groups
      expect(groups).to.have.length(1)
      expect(groups[0]).to.deep.include({
        namespace: NS,
        eventHub: HUB,
        consumerGroup: '$default',
        partitions: PARTITIONS,
        checkpoints: PARTITIONS,
        ownedPartitions: PARTITIONS,
      })
      expect(groups[0]!.activeOwners).to.deep.equal(['host-0', 'host-1', 'host-2', 'host-3'])
      expect(groups[0]!.problems).to.deep.equal([])
    })

    it('cut every time: exit 7 within a bounded time, no partial listing on stdout', async () => {
      const ehcp = await viaProxy({cutResponse: (r) => (isFlatListing(r) ? CUT_AT : undefined)})
      for (const args of [
        ['show', '--namespace', NS, '--eventhub', HUB, '--json'],
        ['list', '--json'],
      ]) {
        const before = proxy!.cutResponses
        const [r, elapsed] = await timed(() => ehcp([...args, '--timeout', '10']))
        expectUnreachableOnly(r)
        expect(proxy!.cutResponses - before, `${args[0]}: every try was cut`).to.be.at.least(2)
        // A cut is a prompt failure: retries with short back-off, nowhere near the 10 s --timeout.
        expect(elapsed, args[0]).to.be.below(10_000)
      }
      // Tables and CSV: stdout stays empty, the reason goes to stderr.
      for (const mode of [[], ['--csv']]) {
        const r = await ehcp(['show', '--namespace', NS, '--eventhub', HUB, ...mode])
        expect(r.code, r.stderr).to.equal(7)
        expect(r.stdout).to.equal('')
        expect(r.stderr).to.match(/could not be reached|did not answer|cut|incomplete/i)
      }
    })
  })

  describe('storage black-holed after the first requests were answered', () => {
    // --timeout T bounds each request to storage, retries included (README, src/store/store.ts `bounded`):
    // `show` resolves the group with three small directory listings (answered here), then lists the group,
    // which meets the silence: exit 7 after about T. Allowed: 2T + 10 s (process start, the answered requests).
    const T = 2
    const bound = (2 * T + 10) * 1000

    it('show: the group listing meets silence, exit 7 within 2 x --timeout + 10 s, naming the timeout', async () => {
      const ehcp = await viaProxy({blackHole: isFlatListing})
      for (const json of [false, true]) {
        const [r, elapsed] = await timed(() =>
          ehcp(['show', '--namespace', NS, '--eventhub', HUB, '--timeout', String(T), ...(json ? ['--json'] : [])]),
        )
        const message = json ? expectUnreachableOnly(r).message : r.stderr
        if (!json) {
          expect(r.code, r.stderr).to.equal(7)
          expect(r.stdout).to.equal('')
        }
        expect(message).to.include(`did not answer within ${T}s`)
        expect(elapsed).to.be.below(bound)
      }
      expect(proxy!.blackHoled).to.equal(2)
    })

    it('list: the response starts, then stalls mid-body: exit 7 within 2 x --timeout + 10 s, nothing printed', async () => {
      const ehcp = await viaProxy({stallResponse: (r) => (isFlatListing(r) ? CUT_AT : undefined)})
      const [r, elapsed] = await timed(() => ehcp(['list', '--json', '--timeout', String(T)]))
      expect(expectUnreachableOnly(r).message).to.include(`did not answer within ${T}s`)
      expect(elapsed).to.be.below(bound)
      expect(proxy!.blackHoled).to.equal(1)
    })
  })
})

describe('write faults: a reset meets silence once its writes start', function () {
  this.timeout(60_000)
  const PARTS = 100
  const T = 2
  const SOURCE = 5000
  const OLD = 1000
  let c: TestContainer
  let store: BlobCheckpointStore
  let proxy: FaultProxy | undefined

  beforeEach(async () => {
    c = await freshContainer()
    store = new BlobCheckpointStore(c.client)
    const groups = [['$Default', OLD] as const, ['source', SOURCE] as const]
    await Promise.all(
      groups.flatMap(([consumerGroup, base]) =>
        Array.from({length: PARTS}, (_, p) =>
          store.updateCheckpoint({
            fullyQualifiedNamespace: NS,
            eventHubName: HUB,
            consumerGroup,
            partitionId: String(p),
            sequenceNumber: base + p,
            offset: String((base + p) * 10),
          }),
        ),
      ),
    )
  })
  afterEach(async () => {
    await proxy?.close()
    proxy = undefined
    await c.dispose()
  })

  /** `reset --from-consumer-group source` through a proxy whose plan gets `started`: true from the first write on. */
  async function runReset(faults: (started: (r: ProxiedRequest) => boolean) => FaultPlan) {
    const host = new URL(c.azurite.host)
    let silenced = false
    const started = (r: ProxiedRequest) => (silenced ||= r.method === 'PUT' || r.method === 'DELETE')
    proxy = await startFaultProxy({host: host.hostname, port: Number(host.port)}, faults(started))
    const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-read-faults-'))
    const startedAt = Date.now()
    const r = await runEhcp(
      [
        'reset',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--from-consumer-group',
        'source',
        '--yes',
        '--json',
        '--timeout',
        String(T),
        '--emulator',
        '--container',
        c.name,
      ],
      {
        cwd,
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${proxy.port}/devstoreaccount1`},
      },
    )
    return {r, elapsed: Date.now() - startedAt}
  }

  /** The report matches the store: updated -> new, failed without "may have" -> old, "may have" -> either; never anything else. */
  async function expectReportMatchesStore(result: ChangeResult) {
    const stored = Object.fromEntries(
      (await store.listCheckpoints(NS, HUB, '$Default')).map((cp) => [
        cp.partitionId,
        JSON.stringify([cp.sequenceNumber, String(cp.offset)]),
      ]),
    )
    expect(Object.keys(stored)).to.have.length(PARTS)
    expect(result.partitions).to.have.length(PARTS)
    const landed: string[] = []
    for (const p of result.partitions) {
      const id = Number(p.partitionId)
      const fresh = JSON.stringify([SOURCE + id, String((SOURCE + id) * 10)])
      const old = JSON.stringify([OLD + id, String((OLD + id) * 10)])
      const now = stored[p.partitionId]
      expect(now, `partition ${id} is wholly old or wholly new`).to.be.oneOf([old, fresh])
      if (now === fresh) landed.push(p.partitionId)
      if (p.status === 'updated') expect(now, `partition ${id} reported updated`).to.equal(fresh)
      else if (!/may have/.test(p.reason ?? ''))
        expect(now, `partition ${id} reported ${p.status} (${p.reason}) but its blob changed`).to.equal(old)
    }
    return landed
  }

  // Each write is one request under --timeout T, then (its answer lost) one read-back under T. Once storage
  // stops answering, no further writes are issued: only the first 32 in flight wait, so the bound is one
  // round of 2T, plus 10 s for start-up and the reads, whatever the number of partitions.
  const bound = (2 * T + 10) * 1000
  const attempted = (result: ChangeResult) =>
    result.partitions.filter((p) => !p.reason?.startsWith('not attempted')).map((p) => p.partitionId)

  it('writes swallowed before they reach storage: exit 7, every partition failed and still old, within the bound', async () => {
    const {r, elapsed} = await runReset((started) => ({blackHole: started}))
    expect(r.code, r.stdout.slice(0, 2000) + r.stderr).to.equal(7)
    expect(elapsed).to.be.below(bound)
    const result = r.json<ChangeResult>()
    expect(result.executed).to.equal(true)
    expect(result.backupFile).to.be.a('string')
    expect(result.undoCommand).to.include('reset --from-file')
    expect(result.partitions.map((p) => p.status)).to.deep.equal(Array(PARTS).fill('failed'))
    // ehcp cannot tell a swallowed write from a landed one whose answer was lost: it says so. The rest
    // were never sent.
    expect(attempted(result)).to.have.length(32)
    for (const p of result.partitions) {
      if (attempted(result).includes(p.partitionId))
        expect(p.reason)
          .to.include(`did not answer within ${T}s`)
          .and.match(/may have been applied/)
      else expect(p.reason).to.equal('not attempted: storage stopped answering an earlier write')
    }
    expect(await expectReportMatchesStore(result)).to.deep.equal([])
    expect(proxy!.blackHoled).to.be.at.least(32)
  })

  it('writes applied but their answers never come: every partition whose write landed is reported as possibly changed', async () => {
    const {r, elapsed} = await runReset((started) => ({
      // Writes reach storage and are applied; their responses, and everything after them, vanish.
      stallResponse: (req) => (started(req) && (req.method === 'PUT' || req.method === 'DELETE') ? 0 : undefined),
      blackHole: (req) => started(req) && req.method !== 'PUT' && req.method !== 'DELETE',
    }))
    expect(r.code, r.stdout.slice(0, 2000) + r.stderr).to.be.oneOf([6, 7])
    expect(elapsed).to.be.below(bound)
    const result = r.json<ChangeResult>()
    expect(result.executed).to.equal(true)
    const landed = await expectReportMatchesStore(result)
    expect(landed.sort(), 'the writes sent reached storage, no others').to.deep.equal(attempted(result).sort()).and.have.length(32)
    expect(result.partitions.filter((p) => p.status === 'updated')).to.deep.equal([])
    for (const id of landed) expect(result.partitions.find((p) => p.partitionId === id)!.reason, `partition ${id}`).to.match(/may have/)
    // Re-running without faults converges.
    const again = await runEhcp([
      'reset',
      '--namespace',
      NS,
      '--eventhub',
      HUB,
      '--from-consumer-group',
      'source',
      '--yes',
      '--json',
      '--no-backup',
      ...c.args,
    ])
    expect(again.code, again.stdout.slice(0, 2000)).to.equal(0)
  })
})
