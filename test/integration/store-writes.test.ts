/**
 * The store's write primitives against Azurite, read back by the official JS checkpoint store:
 * conditional set (If-Match / If-None-Match), foreign keys preserved, release, delete.
 */
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {newBlobName} from '../../src/store/codec.js'
import {openContainer, resolveStorageTarget} from '../../src/store/connect.js'
import {type GroupView, readGroup} from '../../src/store/group.js'
import {resolveGroup} from '../../src/store/scope.js'
import {CheckpointStore} from '../../src/store/store.js'
import {startFaultProxy} from '../support/fault-proxy.js'
import {startRequestLog} from '../support/request-log.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {sleep} from '../support/wait.js'

const NS = 'writes.servicebus.windows.net'
const SCOPE = {namespace: NS, eventHub: 'orders', consumerGroup: '$Default'}

describe('store write primitives', function () {
  this.timeout(60_000)
  let c: TestContainer
  let store: CheckpointStore
  let official: BlobCheckpointStore

  const read = async (): Promise<GroupView> => readGroup(store, await resolveGroup(store, SCOPE))
  const partition = async (id: string) => (await read()).partitions.find((p) => p.partitionId === id)!

  beforeEach(async () => {
    c = await freshContainer()
    const opened = await openContainer(resolveStorageTarget({connectionString: c.azurite.connectionString(), container: c.name}, {}), {
      timeoutMs: 10_000,
      maxTries: 2,
    })
    store = new CheckpointStore(opened.name, opened.client, {ownershipExpiryMs: 120_000, timeoutMs: 10_000})
    official = new BlobCheckpointStore(c.client)
    await official.updateCheckpoint({
      fullyQualifiedNamespace: NS,
      eventHubName: 'orders',
      consumerGroup: '$Default',
      partitionId: '0',
      sequenceNumber: 10,
      offset: '1000',
    })
  })
  afterEach(() => c.dispose())

  it('rewrites a checkpoint under If-Match, keeping the .NET client id and unknown keys, own keys lower-case', async () => {
    const name = `${NS}/orders/$default/checkpoint/1`
    await putBlob(c.client, name, {Offset: '5', SequenceNumber: '5', clientidentifier: 'dotnet-host', x_custom: 'keep me'})
    const before = (await partition('1')).checkpoint!
    const outcome = await store.writeCheckpoint(before, {sequenceNumber: 42, offset: '4200'})
    expect(outcome.status).to.equal('written')
    const after = (await partition('1')).checkpoint!
    expect(after.metadata).to.deep.equal({clientidentifier: 'dotnet-host', x_custom: 'keep me', sequencenumber: '42', offset: '4200'})
    expect(after.etag).not.to.equal(before.etag)
    const seen = await official.listCheckpoints(NS, 'orders', '$Default')
    expect(seen.map((s) => [s.partitionId, s.sequenceNumber, s.offset])).to.deep.equal([
      ['0', 10, '1000'],
      ['1', 42, '4200'],
    ])
  })

  it('does not overwrite a checkpoint changed since it was read: conflict, the other writer wins', async () => {
    const before = (await partition('0')).checkpoint!
    await official.updateCheckpoint({
      fullyQualifiedNamespace: NS,
      eventHubName: 'orders',
      consumerGroup: '$Default',
      partitionId: '0',
      sequenceNumber: 11,
      offset: '1100',
    })
    const outcome = await store.writeCheckpoint(before, {sequenceNumber: 1, offset: '100'})
    expect(outcome).to.deep.equal({status: 'conflict', reason: 'changed since it was read (ETag no longer matches)'})
    expect((await partition('0')).checkpoint).to.include({sequenceNumber: 11, offset: '1100'})
  })

  it('creates a new checkpoint only if nobody else did (If-None-Match: *)', async () => {
    const target = {blobName: newBlobName(SCOPE, 'checkpoint', '5'), etag: null, metadata: {}}
    expect(target.blobName).to.equal(`${NS}/orders/$default/checkpoint/5`)
    expect((await store.writeCheckpoint(target, {sequenceNumber: -1, offset: '-1'})).status).to.equal('written')
    const again = await store.writeCheckpoint(target, {sequenceNumber: 3, offset: '300'})
    expect(again).to.deep.equal({status: 'conflict', reason: 'created by someone else since it was read'})
    expect((await partition('5')).checkpoint).to.include({sequenceNumber: -1, offset: '-1'})
    const seen = await official.listCheckpoints(NS, 'orders', '$Default')
    expect(seen.find((s) => s.partitionId === '5')).to.include({sequenceNumber: -1, offset: '-1'})
  })

  it('releases ownership: the official store sees ownerId "" and another processor can claim it', async () => {
    const [claimed] = await official.claimOwnership([
      {fullyQualifiedNamespace: NS, eventHubName: 'orders', consumerGroup: '$Default', partitionId: '0', ownerId: 'dead-host'},
    ])
    const ownership = (await partition('0')).ownership!
    expect(ownership).to.include({ownerId: 'dead-host', state: 'active'})
    const outcome = await store.releaseOwnership(ownership)
    expect(outcome.status).to.equal('written')
    const listed = await official.listOwnership(NS, 'orders', '$Default')
    expect(listed.map((o) => [o.partitionId, o.ownerId])).to.deep.equal([['0', '']])
    // The dead owner's next renewal fails (its ETag is stale); a new processor's claim succeeds.
    expect(await official.claimOwnership([claimed!])).to.deep.equal([])
    const taken = await official.claimOwnership([{...listed[0]!, ownerId: 'new-host'}])
    expect(taken.map((o) => o.ownerId)).to.deep.equal(['new-host'])
    expect((await partition('0')).ownership).to.include({ownerId: 'new-host', state: 'active'})
  })

  it('does not release an ownership renewed since it was read', async () => {
    const [claimed] = await official.claimOwnership([
      {fullyQualifiedNamespace: NS, eventHubName: 'orders', consumerGroup: '$Default', partitionId: '0', ownerId: 'live-host'},
    ])
    const stale = (await partition('0')).ownership!
    await official.claimOwnership([claimed!]) // heartbeat
    const outcome = await store.releaseOwnership(stale)
    expect(outcome.status).to.equal('conflict')
    expect((await partition('0')).ownership!.ownerId).to.equal('live-host')
  })

  it('deletes only the version it read', async () => {
    const before = (await partition('0')).checkpoint!
    await official.updateCheckpoint({
      fullyQualifiedNamespace: NS,
      eventHubName: 'orders',
      consumerGroup: '$Default',
      partitionId: '0',
      sequenceNumber: 12,
      offset: '1200',
    })
    expect((await store.deleteBlob(before.blobName, before.etag)).status).to.equal('conflict')
    const current = (await partition('0')).checkpoint!
    expect((await store.deleteBlob(current.blobName, current.etag)).status).to.equal('written')
    expect(await official.listCheckpoints(NS, 'orders', '$Default')).to.deep.equal([])
    // Deleting what is already gone, on a first try: no earlier try of this request can have deleted it, so
    // someone else did (a retried delete meeting its own deletion is in edge-errors.test.ts).
    expect(await store.deleteBlob(current.blobName, current.etag)).to.deep.equal({
      status: 'conflict',
      reason: 'another writer already deleted it; not deleted by ehcp',
    })
  })

  it('a 412 met by a retry it cannot check (the read-back fails) is not called a conflict: the write may have been applied', async () => {
    const before = (await partition('0')).checkpoint!
    // ehcp's first try lands but its answer is lost; another write lands before the retry, which meets a changed
    // ETag (412); then the blob cannot be read back (storage stalls past --timeout).
    let puts = 0
    const log = await startRequestLog(c.azurite.host, async (r) => {
      if (r.method === 'PUT' && ++puts === 2)
        await official.updateCheckpoint({
          fullyQualifiedNamespace: NS,
          eventHubName: 'orders',
          consumerGroup: '$Default',
          partitionId: '0',
          sequenceNumber: 13,
          offset: '1300',
        })
      // The read-back: a one-blob listing by the blob's own name.
      if (r.method === 'GET' && r.query.get('prefix') === before.blobName) await sleep(4000)
    })
    let answers = 0
    const logPort = Number(new URL(log.url).port)
    const proxy = await startFaultProxy({host: '127.0.0.1', port: logPort}, {loseWriteResponse: () => ++answers === 1})
    try {
      const endpoint = c.azurite
        .connectionString()
        .replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=http://127.0.0.1:${proxy.port}/devstoreaccount1`)
      const opened = await openContainer(resolveStorageTarget({connectionString: endpoint, container: c.name}, {}), {
        timeoutMs: 3000,
        maxTries: 2,
      })
      const impatient = new CheckpointStore(opened.name, opened.client, {ownershipExpiryMs: 120_000, timeoutMs: 3000})
      const failure = await impatient.writeCheckpoint(before, {sequenceNumber: 1, offset: '100'}).then(
        () => null,
        (error: Error & {exitCode?: number}) => error,
      )
      expect(failure?.message).to.match(
        /changed since it was read.*could not be read back.*may have been applied \(a retried write meets its own change\)/,
      )
      expect(failure?.exitCode).to.equal(7)
      expect(proxy.lostResponses).to.equal(1)
      expect(log.requests.map((r) => [r.method, r.status])).to.deep.equal([
        ['PUT', 200],
        ['PUT', 412],
        ['GET', undefined],
      ])
    } finally {
      await proxy.close()
      await log.close()
    }
    expect((await partition('0')).checkpoint).to.include({sequenceNumber: 13, offset: '1300'})
  })

  it("a 412 on the first try is another writer's: a conflict, even when the blob cannot be read back", async () => {
    const before = (await partition('0')).checkpoint!
    const log = await startRequestLog(c.azurite.host, async (r) => {
      if (r.method === 'PUT')
        await official.updateCheckpoint({
          fullyQualifiedNamespace: NS,
          eventHubName: 'orders',
          consumerGroup: '$Default',
          partitionId: '0',
          sequenceNumber: 13,
          offset: '1300',
        })
      if (r.method === 'GET' && r.query.get('prefix') === before.blobName) await sleep(1500)
    })
    try {
      const endpoint = c.azurite.connectionString().replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${log.url}/devstoreaccount1`)
      const opened = await openContainer(resolveStorageTarget({connectionString: endpoint, container: c.name}, {}), {
        timeoutMs: 1000,
        maxTries: 1,
      })
      const impatient = new CheckpointStore(opened.name, opened.client, {ownershipExpiryMs: 120_000, timeoutMs: 1000})
      expect(await impatient.writeCheckpoint(before, {sequenceNumber: 1, offset: '100'})).to.deep.equal({
        status: 'conflict',
        reason: 'changed since it was read (ETag no longer matches)',
      })
      expect(log.requests.map((r) => [r.method, r.query.get('prefix')])).to.deep.equal([
        ['PUT', null],
        ['GET', before.blobName],
      ])
    } finally {
      await log.close()
    }
    expect((await partition('0')).checkpoint).to.include({sequenceNumber: 13, offset: '1300'})
  })
})
