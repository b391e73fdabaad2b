/**
 * What `ehcp migrate` of N legacy partitions costs, request by request: on the storage side one listing of the
 * legacy group, one body read and one conditional create per partition, and the modern group's small listings;
 * on the Event Hubs side one connection, the hub's partition ids and one partition-properties read per partition,
 * and no receiver. The reads run side by side, yet a leased source still sends no write at all, and a second
 * migrate sends none either.
 */
import {expect} from 'chai'

import {EventHubsStandin, offsetOf} from '../../local/eventhubs-standin.js'
import type {ChangeResult} from '../../src/change/execute.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {writeLegacy} from '../support/legacy-corpus.js'
import {type LoggedRequest, type RequestLog, startRequestLog} from '../support/request-log.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const NS = '127.0.0.1'
const HUB = 'orders'
const PARTITIONS = 32
const GROUP = `${NS}/${HUB}/$default/`

const describeRequest = (r: LoggedRequest) =>
  `${r.method} ${r.query.get('comp') ?? ''} delimiter=${r.query.get('delimiter') ?? ''} prefix=${r.query.get('prefix') ?? ''}`

const dotnet = (pid: string, seq: number) =>
  `{"Offset":"${offsetOf(seq)}","SequenceNumber":${seq},"PartitionId":"${pid}","Owner":"","Token":"","Epoch":1}`

/** The requests of a kind, counted by their description. */
const tally = (requests: LoggedRequest[]) => {
  const counts = new Map<string, number>()
  for (const r of requests) counts.set(describeRequest(r), (counts.get(describeRequest(r)) ?? 0) + 1)
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)))
}

describe('requests per migrate', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let log: RequestLog

  before(async () => {
    hubs = await EventHubsStandin.start()
    hubs.createHubWithEvents(HUB, PARTITIONS, 40, (p, i) => ({body: {p, i}}))
  })
  after(() => hubs.stop())
  beforeEach(async () => {
    c = await freshContainer()
    log = await startRequestLog(c.azurite.host)
  })
  afterEach(async () => {
    await log.close()
    await c.dispose()
  })

  const migrate = (...extra: string[]) =>
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
        HUB,
        '--emulator',
        '--container',
        c.name,
        '--no-backup',
        '--json',
        ...extra,
      ],
      {env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`, EVENTHUBS_CONNECTION_STRING: hubs.connectionString()}},
    )

  it(`${PARTITIONS} partitions: one legacy listing (and its lease recheck), ${PARTITIONS} body reads, ${PARTITIONS} creates; partition properties once each over one connection`, async () => {
    await writeLegacy(
      c.client,
      Array.from({length: PARTITIONS}, (_, p) => ({name: `$Default/${p}`, body: dotnet(String(p), 10 + p)})),
    )
    const before = hubs.stats
    const r = await migrate('--yes')
    expect(r.code, describeRun(r)).to.equal(0)
    expect(r.json<ChangeResult>().partitions.filter((p) => p.status === 'updated')).to.have.length(PARTITIONS)

    const requests = log.requests
    const reads = requests.filter((q) => q.method === 'GET' && !q.query.has('comp'))
    const writes = requests.filter((q) => q.method === 'PUT')
    expect(tally(requests)).to.deep.equal({
      // The legacy group: one flat listing under its prefix, then each body once; its leases listed again right
      // before the first write (a host that took one since stops the migration).
      'GET list delimiter= prefix=$Default/': 2,
      [`GET  delimiter= prefix=`]: PARTITIONS,
      // The modern group, new here: the directory listings along its path, sent at once with its own listing (the
      // container root's holds only the legacy "$Default/": nothing is stored for it), and the owners' recheck
      // right before writing.
      'GET list delimiter=/ prefix=': 1,
      [`GET list delimiter=/ prefix=${NS}/`]: 1,
      [`GET list delimiter=/ prefix=${NS}/${HUB}/`]: 1,
      [`GET list delimiter= prefix=${GROUP}`]: 2,
      // One create per partition.
      'PUT  delimiter= prefix=': PARTITIONS,
    })
    expect(new Set(reads.map((q) => q.path)).size).to.equal(PARTITIONS)
    expect(reads.every((q) => /\/\$Default\/\d+$/.test(decodeURIComponent(q.path)))).to.equal(true)
    expect(new Set(writes.map((q) => q.path)).size).to.equal(PARTITIONS)
    for (const w of writes) {
      expect(decodeURIComponent(w.path)).to.match(/\/checkpoint\/\d+$/)
      expect(w.headers['if-none-match']).to.equal('*')
    }
    // No write starts before the last read is answered (the leases are judged on every body first).
    const firstWrite = requests.indexOf(writes[0]!)
    expect(firstWrite).to.be.greaterThan(requests.indexOf(reads.at(-1)!))

    const after = hubs.stats
    expect(after.connections - before.connections).to.equal(1)
    expect(after.managementRequests - before.managementRequests).to.equal(PARTITIONS + 1)
    expect(after.receiversOpened - before.receiversOpened).to.equal(0)

    // A second migrate reads the same and writes nothing.
    log.requests.splice(0)
    const again = await migrate('--yes')
    expect(again.code, describeRun(again)).to.equal(0)
    expect(again.json<ChangeResult>().partitions.every((p) => p.status === 'unchanged')).to.equal(true)
    expect(log.requests.filter((q) => q.method === 'GET' && !q.query.has('comp'))).to.have.length(PARTITIONS)
    expect(log.requests.filter((q) => q.method !== 'GET')).to.deep.equal([])
  })

  it('a leased source: refused (exit 5) with no write sent, though Event Hubs and the modern group are read meanwhile', async () => {
    await writeLegacy(c.client, [
      {name: '$Default/0', body: dotnet('0', 9), metadata: {OWNINGHOST: 'old-host'}, leaseId: '44444444-4444-4444-4444-444444444444'},
      ...Array.from({length: PARTITIONS - 1}, (_, i) => ({name: `$Default/${i + 1}`, body: dotnet(String(i + 1), 10)})),
    ])
    const r = await migrate('--yes')
    expect(r.code, describeRun(r)).to.equal(5)
    expect(`${r.stdout}${r.stderr}`).to.match(/old-host/)
    expect(log.requests.filter((q) => q.method === 'GET' && !q.query.has('comp'))).to.have.length(PARTITIONS)
    expect(log.requests.filter((q) => q.method !== 'GET')).to.deep.equal([])
  })
})
