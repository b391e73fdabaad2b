/** How many requests each read makes: one listing per scope, never one request per blob. */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {BlobServiceClient, type ContainerClient} from '@azure/storage-blob'
import {expect} from 'chai'

import {FUNCTIONS_V4_CONTAINER} from '../../src/store/layouts.js'

import {runEhcp} from '../support/cli.js'
import {type LoggedRequest, type RequestLog, startRequestLog} from '../support/request-log.js'
import {EPH_DOTNET, EPH_JS, writeLegacy} from '../support/legacy-corpus.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'

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

  it(`show of one group of ${PARTITIONS} partitions named in full: its flat listing with metadata and the three small directory listings, all at once`, async () => {
    const r = await run(['show', '--namespace', NS, '--eventhub', 'orders', '--consumer-group', '$Default'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json<{partitions: unknown[]}>().partitions).to.have.length(PARTITIONS)
    // Sent together (scope.ts): they arrive in any order.
    expect(log.requests.map(describeRequest).sort()).to.deep.equal(
      [
        'GET list delimiter=/ prefix= include=',
        `GET list delimiter=/ prefix=${NS}/ include=`,
        `GET list delimiter=/ prefix=${NS}/orders/ include=`,
        `GET list delimiter= prefix=${NS}/orders/$default/ include=metadata`,
      ].sort(),
    )
  })

  it(`show of one group of ${PARTITIONS} partitions by its event hub: the container's namespaces, then the rest of the path at once`, async () => {
    const r = await run(['show', '--eventhub', 'orders'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json<{partitions: unknown[]}>().partitions).to.have.length(PARTITIONS)
    const requests = log.requests.map(describeRequest)
    expect(requests[0]).to.equal('GET list delimiter=/ prefix= include=')
    expect(requests.slice(1).sort()).to.deep.equal(
      [
        `GET list delimiter=/ prefix=${NS}/ include=`,
        `GET list delimiter=/ prefix=${NS}/orders/ include=`,
        `GET list delimiter= prefix=${NS}/orders/$default/ include=metadata`,
      ].sort(),
    )
  })

  it(`reset of ${PARTITIONS} partitions: the directory listings and one flat listing (the last three at once), then exactly one write per partition`, async () => {
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
    expect(requests[0]).to.equal('GET list delimiter=/ prefix= include=')
    expect(requests.slice(1, 4).sort()).to.deep.equal(
      [
        `GET list delimiter=/ prefix=${NS}/ include=`,
        `GET list delimiter=/ prefix=${NS}/payments/ include=`,
        `GET list delimiter= prefix=${NS}/payments/$default/ include=metadata`,
      ].sort(),
    )
    expect(requests.slice(4)).to.deep.equal(Array(PARTITIONS).fill('PUT metadata delimiter= prefix= include='))
    expect(new Set(log.requests.slice(4).map((q) => q.path)).size).to.equal(PARTITIONS)
  })

  it(`list of a container of ${4 * PARTITIONS} blobs: one listing`, async () => {
    const r = await run(['list'])
    expect(r.code, r.stderr).to.equal(0)
    expect(log.requests.map(describeRequest)).to.deep.equal(['GET list delimiter= prefix= include=metadata'])
  })
})

describe('requests of show falling back to a legacy group', function () {
  this.timeout(60_000)
  const FUNCTIONS_NS = 'count-fallback.servicebus.windows.net'
  let c: TestContainer
  let functions: ContainerClient
  let log: RequestLog

  before(async () => {
    c = await freshContainer()
    await putBlob(c.client, `${NS}/orders/$default/checkpoint/0`, {sequencenumber: '1', offset: '10'})
    await writeLegacy(c.client, [...EPH_DOTNET, ...EPH_JS])
    // The Functions v4 extension's container, beside its modern (v5) successor's blobs, with a hub it escapes.
    functions = BlobServiceClient.fromConnectionString(c.azurite.connectionString()).getContainerClient(FUNCTIONS_V4_CONTAINER)
    await functions.createIfNotExists()
    await putBlob(functions, `${FUNCTIONS_NS}/orders/$default/checkpoint/0`, {sequencenumber: '1', offset: '10'})
    const v4 = (pid: string) => `{"Offset":"${pid}00","SequenceNumber":${pid},"PartitionId":"${pid}","Owner":"","Token":"","Epoch":1}`
    await writeLegacy(functions, [
      {name: `${FUNCTIONS_NS}/orders:20eu/$Default/0`, body: v4('0')},
      {name: `${FUNCTIONS_NS}/orders:20eu/$Default/1`, body: v4('1')},
    ])
    log = await startRequestLog(c.azurite.host)
  })
  after(async () => {
    await log.close()
    await c.dispose()
    for await (const blob of functions.listBlobsFlat({prefix: `${FUNCTIONS_NS}/`})) await functions.deleteBlob(blob.name)
  })
  beforeEach(() => log.requests.splice(0))

  const show = (container: string, ...scope: string[]) =>
    runEhcp(['show', ...scope, '--emulator', '--container', container, '--json'], {
      env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
    })
  /** Listings as `describeRequest` puts them; a body read by the blob it reads. */
  const requests = () =>
    log.requests.map((r) =>
      r.query.get('comp') === 'list' ? describeRequest(r) : `${r.method} ${decodeURIComponent(r.path.split('/').slice(3).join('/'))}`,
    )

  it('a scope named in full, in a container no layout recording all three names writes to: no listing after the modern lookup', async () => {
    const r = await show(c.name, '--namespace', NS, '--eventhub', 'orders', '--consumer-group', 'billing')
    expect(r.code, r.stderr).to.equal(3)
    expect(r.stdout + r.stderr).to.match(/No consumer group \\?"billing\\?"/)
    // The modern lookup, sent at once: the group's listing (empty) with the directory listings that find no "billing".
    expect(requests().sort()).to.deep.equal(
      [
        'GET list delimiter=/ prefix= include=',
        `GET list delimiter=/ prefix=${NS}/ include=`,
        `GET list delimiter=/ prefix=${NS}/orders/ include=`,
        `GET list delimiter= prefix=${NS}/orders/billing/ include=metadata`,
      ].sort(),
    )
  })

  it("a scope named in full, in Functions v4's container: its group's folders under the escaped namespace and hub, any case of the group", async () => {
    const r = await show(FUNCTIONS_V4_CONTAINER, '--namespace', FUNCTIONS_NS, '--eventhub', 'Orders EU', '--consumer-group', '$DEFAULT')
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json<{layout: string; partitions: unknown[]}>()).to.deep.include({layout: 'functions-v4'})
    const group = `${FUNCTIONS_NS}/orders:20eu/$Default/`
    const made = requests()
    // The modern lookup, sent at once: no hub "Orders EU" under the namespace (nor anything under its lower-cased
    // path). The fallback starts once the namespace's listing has answered, so the others may arrive after it starts.
    const modern = [
      'GET list delimiter=/ prefix= include=',
      `GET list delimiter=/ prefix=${FUNCTIONS_NS}/ include=`,
      `GET list delimiter=/ prefix=${FUNCTIONS_NS}/orders eu/ include=`,
      `GET list delimiter= prefix=${FUNCTIONS_NS}/orders eu/$default/ include=metadata`,
    ]
    expect(made.filter((m) => modern.includes(m)).sort()).to.deep.equal([...modern].sort())
    const fallback = made.filter((m) => !modern.includes(m))
    expect(fallback.slice(0, 3)).to.deep.equal([
      // The fallback: the consumer-group folders of the escaped hub, the matching one listed, one body read to confirm it.
      `GET list delimiter=/ prefix=${FUNCTIONS_NS}/orders:20eu/ include=`,
      `GET list delimiter= prefix=${group} include=metadata`,
      `GET ${group}0`,
    ])
    // Then the group read as `show --layout functions-v4` reads it: its listing and every body.
    expect(fallback[3]).to.equal(`GET list delimiter= prefix=${group} include=metadata`)
    expect(fallback.slice(4).sort()).to.deep.equal([`GET ${group}0`, `GET ${group}1`])
  })

  it('a partial scope may name a group of any layout under any prefix: one listing of the container', async () => {
    const r = await show(c.name, '--consumer-group', 'jsgroup')
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json<{layout: string; blobPrefix: string}>()).to.deep.include({layout: 'eph', blobPrefix: 'jsgroup/'})
    const made = requests()
    expect(made.slice(0, 2)).to.deep.equal([
      // The modern lookup: the legacy folders ($Default/, jsgroup/) are no namespaces beside the one there is.
      'GET list delimiter=/ prefix= include=',
      `GET list delimiter=/ prefix=${NS}/ include=`,
    ])
    // Below the one event hub, its group folders and the named group's listing at once (it has no "jsgroup"); the
    // fallback starts once the folders have answered, so the group's (empty) listing may arrive after it starts.
    const early = `GET list delimiter= prefix=${NS}/orders/jsgroup/ include=metadata`
    expect(made.filter((m) => m === early)).to.have.length(1)
    const rest = made.filter((m) => m !== early)
    expect(rest.slice(2, 4)).to.deep.equal([
      `GET list delimiter=/ prefix=${NS}/orders/ include=`,
      'GET list delimiter= prefix= include=metadata',
    ])
    expect(made.filter((m) => m.startsWith('GET list'))).to.have.length(6)
    expect(made[made.length - 2]).to.equal('GET list delimiter= prefix=jsgroup/ include=metadata')
  })
})
