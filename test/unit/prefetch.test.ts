/**
 * The store's early flat listings (scope resolution starts the group's listing with its directory listings):
 * taken once by the next listing of that prefix, never after a write or once dropped, and a failure surfaces
 * where the listing is taken.
 */
import {expect} from 'chai'

import type {BlobRestClient, ListPage, StoredBlob} from '../../src/store/blob-rest.js'
import {CheckpointStore, type StoredRecord} from '../../src/store/store.js'

const GROUP = 'ns.servicebus.windows.net/orders/$default/'
const DATE = new Date('2026-01-02T03:04:05Z')

/** A client whose every listing answers one checkpoint blob (or fails), counting the listings sent. */
function clientOf(fail = false): {client: BlobRestClient; listed: string[]} {
  const listed: string[] = []
  const fake = {
    async page(request: {prefix: string}, sink?: (blobs: StoredBlob[], date: Date | undefined) => void): Promise<ListPage> {
      listed.push(request.prefix)
      if (fail) throw new Error('listing refused')
      const blob: StoredBlob = {
        name: `${request.prefix}checkpoint/0`,
        etag: `"${listed.length}"`,
        lastModified: DATE,
        contentLength: 0,
        metadata: {sequencenumber: '1', offset: '1'},
      }
      sink?.([blob], DATE)
      return {blobs: [], prefixes: [], nextMarker: undefined, date: DATE}
    },
    async writeMetadata() {
      return {etag: '"w"', lastModified: DATE}
    },
  }
  return {client: fake as unknown as BlobRestClient, listed}
}

const storeOf = (client: BlobRestClient) => new CheckpointStore('c', client, {ownershipExpiryMs: 120_000, timeoutMs: 5_000})

async function records(store: CheckpointStore, prefix: string): Promise<Array<{record: StoredRecord; serverTimeMs: number}>> {
  const got: Array<{record: StoredRecord; serverTimeMs: number}> = []
  await store.listRecords(prefix, (batch, serverTimeMs) => got.push(...batch.map((record) => ({record, serverTimeMs}))))
  return got
}

describe('early listings (prefetchRecords)', () => {
  it('the next listing of the prefix takes the early one, as listed; the one after lists anew', async () => {
    const {client, listed} = clientOf()
    const store = storeOf(client)
    store.prefetchRecords(GROUP)
    expect(listed).to.deep.equal([GROUP])
    const first = await records(store, GROUP)
    expect(first.map((r) => [r.record.kind, r.record.blob.etag, r.serverTimeMs])).to.deep.equal([['checkpoint', '"1"', DATE.getTime()]])
    expect(listed).to.deep.equal([GROUP])
    const second = await records(store, GROUP)
    expect(second.map((r) => r.record.blob.etag)).to.deep.equal(['"2"'])
    expect(listed).to.deep.equal([GROUP, GROUP])
  })

  it("started again (another resolution's), the earlier one is never served: the latest is taken", async () => {
    const {client, listed} = clientOf()
    const store = storeOf(client)
    store.prefetchRecords(GROUP)
    store.prefetchRecords(GROUP)
    expect(listed).to.deep.equal([GROUP, GROUP])
    const taken = await records(store, GROUP)
    expect(taken.map((r) => r.record.blob.etag)).to.deep.equal(['"2"'])
  })

  it('another prefix is not served by it', async () => {
    const {client, listed} = clientOf()
    const store = storeOf(client)
    store.prefetchRecords(GROUP)
    await records(store, 'other/')
    expect(listed).to.deep.equal([GROUP, 'other/'])
  })

  it('a write drops it: what is listed after a write is listed after it', async () => {
    const {client, listed} = clientOf()
    const store = storeOf(client)
    store.prefetchRecords(GROUP)
    await store.writeMetadata(`${GROUP}checkpoint/0`, {sequencenumber: '2', offset: '2'}, {ifMatch: '"1"'})
    const after = await records(store, GROUP)
    expect(after.map((r) => r.record.blob.etag)).to.deep.equal(['"2"'])
    expect(listed).to.deep.equal([GROUP, GROUP])
  })

  it('a dropped one is not taken', async () => {
    const {client, listed} = clientOf()
    const store = storeOf(client)
    store.prefetchRecords(GROUP)
    store.dropPrefetched([GROUP])
    await records(store, GROUP)
    expect(listed).to.deep.equal([GROUP, GROUP])
  })

  it('a failure surfaces where it is taken, and an early listing never taken fails nobody', async () => {
    const {client} = clientOf(true)
    const store = storeOf(client)
    store.prefetchRecords(GROUP)
    store.prefetchRecords('never-taken/')
    let caught: unknown
    try {
      await records(store, GROUP)
    } catch (error) {
      caught = error
    }
    expect(caught).to.be.instanceOf(Error)
    // (An unhandled rejection of 'never-taken/' would fail the run: mocha reports them.)
    await new Promise((resolve) => setImmediate(resolve))
  })
})
