/**
 * Every storage request of every command, per scope form: named in full, partial (only --eventhub), and named
 * in full in the wrong case. Exact request lists, grouped in round trips: a request belongs to round trip N+1
 * when it was sent after an answer of round trip N arrived (the proxy holds each request a moment, so requests
 * sent together are seen together). Storage requests only: Event Hubs has its own counts (watch-requests).
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {config, expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {processorOf} from '../support/processor.js'
import {type LoggedRequest, type RequestLog, startRequestLog} from '../support/request-log.js'
import {writeLegacy} from '../support/legacy-corpus.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'

config.truncateThreshold = 0

const NS = '127.0.0.1'
const HUB = 'orders'
const PARTITIONS = 4
/** How long the proxy holds each request: far longer than a client takes to send requests it sends together. */
const HOLD_MS = 100

const ROOT = 'LIST / '
const NS_DIR = `LIST / ${NS}/`
const HUB_DIR = `LIST / ${NS}/${HUB}/`
const GROUP = `${NS}/${HUB}/$default/`
const GROUP_LIST = `LIST ${GROUP}`

/** A request in a few words: a listing by kind (`LIST /` a directory listing) and prefix, else method and blob or query. */
function describeRequest(r: LoggedRequest): string {
  if (r.query.get('comp') === 'list' && r.query.get('include') === 'versions') return 'LIST versions'
  if (r.query.get('comp') === 'list') return `LIST ${r.query.get('delimiter') ? '/ ' : ''}${r.query.get('prefix') ?? ''}`
  const blob = decodeURIComponent(r.path.split('/').slice(3).join('/'))
  if (blob) return `${r.method} ${blob}`
  return `${r.method} ${r.query.get('restype') ?? ''} ${r.query.get('comp') ?? ''}`
}

/** The requests by round trip, each round trip's sorted (requests sent together arrive in any order). */
function roundTrips(requests: LoggedRequest[]): string[][] {
  const depth: number[] = []
  for (const r of requests) {
    let d = 1
    requests.forEach((q, j) => {
      if (j < depth.length && q.answeredAt !== undefined && q.answeredAt <= r.arrivedAt) d = Math.max(d, depth[j]! + 1)
    })
    depth.push(d)
  }
  const trips: string[][] = Array.from({length: Math.max(0, ...depth)}, () => [])
  requests.forEach((r, i) => trips[depth[i]! - 1]!.push(describeRequest(r)))
  return trips.map((t) => t.sort())
}

const SCOPES = {
  full: ['--namespace', NS, '--eventhub', HUB, '--consumer-group', '$Default'],
  partial: ['--eventhub', HUB],
  'wrong case': ['--namespace', NS, '--eventhub', 'ORDERS', '--consumer-group', '$DEFAULT'],
} as const
type ScopeForm = keyof typeof SCOPES

/** A group's resolution: the whole path's listings at once when named in full; after the namespace's when not. */
const RESOLVE: Record<ScopeForm, string[][]> = {
  full: [[ROOT, NS_DIR, HUB_DIR, GROUP_LIST].sort()],
  partial: [[ROOT], [NS_DIR, HUB_DIR, GROUP_LIST].sort()],
  'wrong case': [[ROOT, NS_DIR, HUB_DIR, GROUP_LIST].sort()],
}
/** `list`'s (and doctor's) scope: walked only while named from the top; below, one flat listing. */
const LIST_SCOPE: Record<ScopeForm, string[][]> = {
  full: RESOLVE.full,
  partial: [['LIST ']],
  'wrong case': RESOLVE['wrong case'],
}

describe('requests per command and scope form', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let log: RequestLog
  let sdk: BlobCheckpointStore
  let cwd: string

  before(async () => {
    hubs = await EventHubsStandin.start()
    hubs.createHubWithEvents(HUB, PARTITIONS, 20, (_, i) => ({body: {i}}))
    hubs.addConsumerGroup(HUB, 'ehcp')
    c = await freshContainer()
    sdk = new BlobCheckpointStore(c.client)
    await processorOf(sdk, NS, HUB).seed('$Default', PARTITIONS, 5)
    log = await startRequestLog(c.azurite.host, () => sleep(HOLD_MS))
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-scopes-'))
  })
  after(async () => {
    await log.close()
    await c.dispose()
    await hubs.stop()
  })
  beforeEach(() => log.requests.splice(0))

  const run = (args: string[]) =>
    runEhcp([...args, '--emulator', '--container', c.name], {
      cwd,
      env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`, EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
    })
  const ok = async (args: string[]) => {
    const r = await run(args)
    expect(r.code, describeRun(r)).to.equal(0)
    return r
  }
  const checkpoint = (p: number) => `PUT ${GROUP}checkpoint/${p}`
  const ownership = (p: number) => `PUT ${GROUP}ownership/${p}`
  /** Positions no earlier test wrote: each change has something to write. */
  let value = 1000

  for (const form of Object.keys(SCOPES) as ScopeForm[]) {
    const scope = [...SCOPES[form]]

    it(`show, ${form} scope`, async () => {
      await ok(['show', ...scope, '--json'])
      expect(roundTrips(log.requests)).to.deep.equal(RESOLVE[form])
    })

    it(`list, ${form} scope`, async () => {
      await ok(['list', ...scope, '--json'])
      expect(roundTrips(log.requests)).to.deep.equal(LIST_SCOPE[form])
    })

    it(`watch of one round, ${form} scope`, async () => {
      await ok(['watch', ...scope, '--count', '1'])
      expect(roundTrips(log.requests)).to.deep.equal(RESOLVE[form])
    })

    it(`status of two samples, ${form} scope: the second a listing of its own`, async () => {
      const r = await run(['status', ...scope, '--samples', '2', '--interval', '100ms', '--json'])
      // STOP: no checkpoint moved between the samples.
      expect(r.code, describeRun(r)).to.equal(12)
      expect(roundTrips(log.requests)).to.deep.equal([...RESOLVE[form], [GROUP_LIST]])
    })

    it(`exporter --once, ${form} scope`, async () => {
      await ok(['exporter', ...scope, '--once', '--port', '0'])
      expect(roundTrips(log.requests)).to.deep.equal(RESOLVE[form])
    })

    it(`peek, ${form} scope: storage's part`, async () => {
      await ok(['peek', ...scope, '--partition', '0', '--eventhubs-consumer-group', 'ehcp', '--count', '1', '--json'])
      expect(roundTrips(log.requests)).to.deep.equal(RESOLVE[form])
    })

    it(`doctor, ${form} scope`, async () => {
      await ok(['doctor', ...scope, '--json'])
      const [first, ...rest] = LIST_SCOPE[form]
      expect(roundTrips(log.requests)).to.deep.equal([
        // The account's settings read while the scope is listed: account information, soft delete, versioning.
        [...first!, 'GET account properties', 'GET service properties', 'LIST versions'].sort(),
        ...rest,
        // Account information asked again of the account's root: Azurite leaves the namespace flag out on a container.
        ['GET account properties'],
      ])
    })
  }

  // The changes after every read: the positions they write would change what status and doctor judge.
  for (const form of Object.keys(SCOPES) as ScopeForm[]) {
    const scope = [...SCOPES[form]]

    it(`set of one partition, ${form} scope: the group read, its owners read again right before writing, then the one write`, async () => {
      value += 10
      await ok(['set', ...scope, '--partition', '1', '--sequence-number', String(value), '--offset', String(value), '--yes', '--json'])
      // The second listing is the owners' recheck (execute.ts: a processor may have claimed a partition since the plan).
      expect(roundTrips(log.requests)).to.deep.equal([...RESOLVE[form], [GROUP_LIST], [checkpoint(1)]])
    })

    it(`reset of ${PARTITIONS} partitions from a file, ${form} scope: the group read, its owners again, then one write per partition`, async () => {
      value += 10
      const file = `positions-${form.replace(' ', '-')}.json`
      const partitions = Array.from({length: PARTITIONS}, (_, p) => ({
        partitionId: String(p),
        checkpoint: {sequenceNumber: value + p, offset: String(value + p)},
      }))
      writeFileSync(path.join(cwd, file), JSON.stringify({partitions}))
      await ok(['reset', ...scope, '--from-file', file, '--yes', '--json'])
      expect(roundTrips(log.requests)).to.deep.equal([
        ...RESOLVE[form],
        [GROUP_LIST],
        Array.from({length: PARTITIONS}, (_, p) => checkpoint(p)).sort(),
      ])
    })

    it(`release-ownership --force of a dead owner's partition, ${form} scope: the group read once, then the one write`, async () => {
      await sdk.claimOwnership([
        {fullyQualifiedNamespace: NS, eventHubName: HUB, consumerGroup: '$Default', partitionId: '2', ownerId: 'dead'},
      ])
      log.requests.splice(0)
      await ok(['release-ownership', ...scope, '--owner', 'dead', '--force', '--yes', '--json'])
      expect(roundTrips(log.requests)).to.deep.equal([...RESOLVE[form], [ownership(2)]])
    })
  }

  it('writes reuse the connections the reads opened (keep-alive): a set of one partition opens one per request sent at once', async () => {
    const before = log.connections
    value += 10
    await ok(['set', ...SCOPES.full, '--partition', '1', '--sequence-number', String(value), '--offset', String(value), '--yes', '--json'])
    expect(roundTrips(log.requests)).to.deep.equal([...RESOLVE.full, [GROUP_LIST], [checkpoint(1)]])
    // Four listings at once need four connections; the recheck and the write after them take one of them.
    expect(log.connections - before).to.equal(4)
  })

  it(`writes reuse the connections the reads opened (keep-alive): a reset of ${PARTITIONS} partitions writes on them too`, async () => {
    const before = log.connections
    value += 10
    const partitions = Array.from({length: PARTITIONS}, (_, p) => ({
      partitionId: String(p),
      checkpoint: {sequenceNumber: value + p, offset: String(value + p)},
    }))
    writeFileSync(path.join(cwd, 'keep-alive.json'), JSON.stringify({partitions}))
    await ok(['reset', ...SCOPES.full, '--from-file', 'keep-alive.json', '--yes', '--json'])
    expect(log.requests).to.have.length(4 + 1 + PARTITIONS)
    // Four listings at once open four connections; the four writes sent at once take the four, idle by then.
    expect(log.connections - before).to.equal(4)
  })
})

describe('requests of show for a group stored as Java spells it (Orders/$Default)', function () {
  this.timeout(60_000)
  let c: TestContainer
  let log: RequestLog
  const JAVA = `${NS}/Orders/$Default/`

  before(async () => {
    c = await freshContainer()
    // As Java's SDK writes them: the names as configured (the JS SDK would lower-case them).
    for (const p of ['0', '1']) await putBlob(c.client, `${JAVA}checkpoint/${p}`, {sequencenumber: '5', offset: '5'})
    log = await startRequestLog(c.azurite.host, () => sleep(HOLD_MS))
  })
  after(async () => {
    await log.close()
    await c.dispose()
  })
  beforeEach(() => log.requests.splice(0))

  const show = (...scope: string[]) =>
    runEhcp(['show', ...scope, '--emulator', '--container', c.name, '--json'], {
      env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
    })

  it('named in full as configured: the lower-cased guess misses; below "Orders" the rest as given, at once', async () => {
    const r = await show('--namespace', NS, '--eventhub', 'Orders', '--consumer-group', '$Default')
    expect(r.code, describeRun(r)).to.equal(0)
    expect(r.json<{eventHub: string; partitions: unknown[]}>()).to.deep.include({eventHub: 'Orders'})
    expect(roundTrips(log.requests)).to.deep.equal([[ROOT, NS_DIR, HUB_DIR, GROUP_LIST].sort(), [`LIST / ${NS}/Orders/`, `LIST ${JAVA}`]])
  })

  it('named in full in lower case: the same requests (the group not named is $Default, as Java spells it)', async () => {
    const r = await show('--namespace', NS, '--eventhub', 'orders')
    expect(r.code, describeRun(r)).to.equal(0)
    expect(roundTrips(log.requests)).to.deep.equal([[ROOT, NS_DIR, HUB_DIR, GROUP_LIST].sort(), [`LIST / ${NS}/Orders/`, `LIST ${JAVA}`]])
  })
})

describe('requests of migrate per scope form', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let log: RequestLog

  before(async () => {
    hubs = await EventHubsStandin.start()
    hubs.createHubWithEvents(HUB, PARTITIONS, 20, (_, i) => ({body: {i}}))
  })
  after(() => hubs.stop())
  beforeEach(async () => {
    c = await freshContainer()
    await writeLegacy(c.client, [
      {name: '$Default/0', body: '{"PartitionId":"0","Owner":"","Token":"","Epoch":1,"Offset":"10","SequenceNumber":1}'},
    ])
    log = await startRequestLog(c.azurite.host, () => sleep(HOLD_MS))
  })
  afterEach(async () => {
    await log.close()
    await c.dispose()
  })

  const migrate = (hub: string) =>
    runEhcp(
      [
        'migrate',
        '--layout',
        'eph',
        '--consumer-group',
        '$Default',
        '--namespace',
        NS,
        '--eventhub',
        hub,
        '--emulator',
        '--container',
        c.name,
        '--no-backup',
        '--yes',
        '--json',
      ],
      {env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`, EVENTHUBS_CONNECTION_STRING: hubs.connectionString()}},
    )

  for (const hub of [HUB, 'ORDERS']) {
    it(`eph to a new modern group, --eventhub ${hub}`, async () => {
      const r = await migrate(hub)
      expect(r.code, describeRun(r)).to.equal(0)
      const group = `${NS}/${HUB}/$default/`
      expect(roundTrips(log.requests)).to.deep.equal([
        // The legacy group's listing, and the modern group's resolution with its listing, at once: the namespace
        // is not there (only "$Default/"), so the new group's prefix is the lower-cased one listed.
        ['LIST $Default/', ROOT, NS_DIR, HUB_DIR, `LIST ${group}`].sort(),
        ['GET $Default/0'],
        // Right before writing: the modern group's owners, then the legacy leases.
        [`LIST ${group}`],
        ['LIST $Default/'],
        [`PUT ${group}checkpoint/0`],
      ])
    })
  }
})
