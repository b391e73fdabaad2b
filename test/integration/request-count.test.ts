/** How many requests each read makes: one listing per scope, never one request per blob. */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {runEhcp} from '../support/cli.js'
import {type LoggedRequest, type RequestLog, startRequestLog} from '../support/request-log.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const NS = 'count.servicebus.windows.net'
const PARTITIONS = 32

const describeRequest = (r: LoggedRequest) =>
  `${r.method} ${r.query.get('comp') ?? ''} delimiter=${r.query.get('delimiter') ?? ''} prefix=${r.query.get('prefix') ?? ''} include=${r.query.get('include') ?? ''}`

describe('requests per command', function () {
  this.timeout(60_000)
  let c: TestContainer
  let log: RequestLog

  before(async () => {
    c = await freshContainer()
    const store = new BlobCheckpointStore(c.client)
    for (const hub of ['orders', 'payments']) {
      for (let p = 0; p < PARTITIONS; p++) {
        await store.updateCheckpoint({
          fullyQualifiedNamespace: NS,
          eventHubName: hub,
          consumerGroup: '$Default',
          partitionId: String(p),
          sequenceNumber: p,
          offset: String(p),
        })
      }
      await store.claimOwnership(
        Array.from({length: PARTITIONS}, (_, p) => ({
          fullyQualifiedNamespace: NS,
          eventHubName: hub,
          consumerGroup: '$Default',
          partitionId: String(p),
          ownerId: 'w',
        })),
      )
    }
    log = await startRequestLog(c.azurite.host)
  })
  after(async () => {
    await log.close()
    await c.dispose()
  })
  beforeEach(() => log.requests.splice(0))

  const run = (args: string[]) =>
    runEhcp([...args, '--emulator', '--container', c.name, '--json'], {env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`}})

  it(`show of one group of ${PARTITIONS} partitions: one flat listing with metadata, after three small directory listings`, async () => {
    const r = await run(['show', '--eventhub', 'orders'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json<{partitions: unknown[]}>().partitions).to.have.length(PARTITIONS)
    expect(log.requests.map(describeRequest)).to.deep.equal([
      'GET list delimiter=/ prefix= include=',
      `GET list delimiter=/ prefix=${NS}/ include=`,
      `GET list delimiter=/ prefix=${NS}/orders/ include=`,
      `GET list delimiter= prefix=${NS}/orders/$default/ include=metadata`,
    ])
  })

  it(`reset of ${PARTITIONS} partitions: the directory listings, one flat listing, then exactly one write per partition`, async () => {
    const positions = {
      partitions: Array.from({length: PARTITIONS}, (_, p) => ({
        partitionId: String(p),
        checkpoint: {sequenceNumber: 500 + p, offset: String(5000 + p)},
      })),
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'ehcp-count-'))
    writeFileSync(path.join(dir, 'positions.json'), JSON.stringify(positions))
    const r = await runEhcp(
      [
        'reset',
        '--eventhub',
        'payments',
        '--from-file',
        'positions.json',
        '--emulator',
        '--container',
        c.name,
        '--yes',
        '--force',
        '--json',
      ],
      {
        cwd: dir,
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
      },
    )
    expect(r.code, r.stderr).to.equal(0)
    const requests = log.requests.map(describeRequest)
    expect(requests.slice(0, 4)).to.deep.equal([
      'GET list delimiter=/ prefix= include=',
      `GET list delimiter=/ prefix=${NS}/ include=`,
      `GET list delimiter=/ prefix=${NS}/payments/ include=`,
      `GET list delimiter= prefix=${NS}/payments/$default/ include=metadata`,
    ])
    expect(requests.slice(4)).to.deep.equal(Array(PARTITIONS).fill('PUT metadata delimiter= prefix= include='))
    expect(new Set(log.requests.slice(4).map((q) => q.path)).size).to.equal(PARTITIONS)
  })

  it(`list of a container of ${4 * PARTITIONS} blobs: one listing`, async () => {
    const r = await run(['list'])
    expect(r.code, r.stderr).to.equal(0)
    expect(log.requests.map(describeRequest)).to.deep.equal(['GET list delimiter= prefix= include=metadata'])
  })
})
