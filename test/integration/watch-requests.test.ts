/**
 * What a `watch` round costs: ONE flat listing of the group per round on the storage side (the first sent with
 * the scope's directory listings); on the Event Hubs side one partition-properties read per partition plus the
 * hub's partition ids, and no receiver (no event is read in a round).
 */
import {spawn} from 'node:child_process'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {BIN, describeRun, runEhcp} from '../support/cli.js'
import {processorOf} from '../support/processor.js'
import {type LoggedRequest, type RequestLog, startRequestLog} from '../support/request-log.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const NS = '127.0.0.1'
const PARTITIONS = 8
const ROUNDS = 3

const describeRequest = (r: LoggedRequest) =>
  `${r.method} ${r.query.get('comp') ?? ''} delimiter=${r.query.get('delimiter') ?? ''} prefix=${r.query.get('prefix') ?? ''} include=${r.query.get('include') ?? ''}`

describe('requests per watch round', function () {
  this.timeout(60_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  let log: RequestLog

  before(async () => {
    hubs = await EventHubsStandin.start()
    hubs.createHubWithEvents('orders', PARTITIONS, 20, (_, i) => ({body: {i}}))
    c = await freshContainer()
    const processor = processorOf(new BlobCheckpointStore(c.client), NS, 'orders')
    await processor.seed('$Default', PARTITIONS, 5)
    await processor.seed('billing', PARTITIONS, 7)
    log = await startRequestLog(c.azurite.host)
  })
  after(async () => {
    await log.close()
    await c.dispose()
    await hubs.stop()
  })

  it(`${ROUNDS} rounds of a group of ${PARTITIONS} partitions: one listing each, partition properties once per partition each`, async () => {
    const before = hubs.stats
    const r = await runEhcp(
      ['watch', '--eventhub', 'orders', '--count', String(ROUNDS), '--interval', '200ms', '--emulator', '--container', c.name],
      {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`, EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
      },
    )
    expect(r.code, describeRun(r)).to.equal(0)
    expect(r.stdout.trim().split('\n')).to.have.length(ROUNDS)
    const listing = `GET list delimiter= prefix=${NS}/orders/$default/ include=metadata`
    const requests = log.requests.map(describeRequest)
    // The container's namespaces; then the rest of the path and the first round's listing, sent at once (scope.ts).
    expect(requests[0]).to.equal('GET list delimiter=/ prefix= include=')
    expect(requests.slice(1, 4).sort()).to.deep.equal(
      [`GET list delimiter=/ prefix=${NS}/ include=`, `GET list delimiter=/ prefix=${NS}/orders/ include=`, listing].sort(),
    )
    expect(requests.slice(4)).to.deep.equal(Array(ROUNDS - 1).fill(listing))
    const after = hubs.stats
    expect(after.managementRequests - before.managementRequests).to.equal(ROUNDS * (PARTITIONS + 1))
    expect(after.receiversOpened - before.receiversOpened).to.equal(0)
  })
  it(`--all over the hub's two groups: one listing per round, the hub's partition properties read once per round for both`, async () => {
    log.requests.splice(0)
    const before = hubs.stats
    const r = await runEhcp(
      ['watch', '--eventhub', 'orders', '--all', '--count', '2', '--interval', '200ms', '--emulator', '--container', c.name],
      {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`, EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
      },
    )
    expect(r.code, describeRun(r)).to.equal(0)
    const docs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {round: number; consumerGroup: string; partitions: Array<{lag?: {events: number}}>})
    expect(docs.map((d) => [d.round, d.consumerGroup])).to.deep.equal([
      [1, '$default'],
      [1, 'billing'],
      [2, '$default'],
      [2, 'billing'],
    ])
    // Lag from the same properties: 19 - (5 + p) and 19 - (7 + p).
    expect(docs[0]!.partitions[0]!.lag!.events).to.equal(14)
    expect(docs[1]!.partitions[0]!.lag!.events).to.equal(12)
    expect(log.requests.map(describeRequest)).to.deep.equal(Array(2).fill('GET list delimiter= prefix= include=metadata'))
    expect(hubs.stats.managementRequests - before.managementRequests).to.equal(2 * (PARTITIONS + 1))
  })

  it('piped: Ctrl-C (SIGINT) between rounds ends it with exit 0 and whole lines only', async () => {
    let lines = 0
    const r = await runEhcp(['watch', '--eventhub', 'orders', '--interval', '300ms', '--emulator', '--container', c.name], {
      env: {EHCP_EMULATOR_BLOB_ENDPOINT: c.azurite.blobEndpoint(), EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
      onSpawn: (child) => {
        child.stdout!.on('data', (d: Buffer) => {
          lines += d.toString().split('\n').length - 1
          if (lines >= 2) child.kill('SIGINT')
        })
      },
    })
    expect(r.code, describeRun(r)).to.equal(0)
    const out = r.stdout.trim().split('\n')
    expect(out.length).to.be.at.least(2)
    expect(out.map((l) => (JSON.parse(l) as {round: number}).round).slice(0, 2)).to.deep.equal([1, 2])
  })

  it('piped into `head -1`: the reader leaving ends the watch, ehcp exits 0 (pipefail) after one line', async () => {
    const words = [process.execPath, BIN, 'watch', '--eventhub', 'orders', '--interval', '200ms', '--emulator', '--container', c.name]
    const child = spawn('bash', ['-c', `set -o pipefail; ${words.map((w) => `'${w}'`).join(' ')} | head -1; echo "ehcp exit $?"`], {
      env: {...process.env, EHCP_EMULATOR_BLOB_ENDPOINT: c.azurite.blobEndpoint(), EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).to.equal(0)
    const [first, last] = out.trim().split('\n')
    expect((JSON.parse(first!) as {round: number}).round).to.equal(1)
    expect(last).to.equal('ehcp exit 0')
  })
})
