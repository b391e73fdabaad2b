/**
 * Edge cases of storage errors and connection input, through the built binary: each gets the contract's exit
 * code and a message that says what happened — never exit 1 ("a bug in ehcp") for what is not one.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {ContainerSASPermissions} from '@azure/storage-blob'
import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import type {GroupView} from '../../src/store/group.js'
import type {ContainerSummary} from '../../src/store/summary.js'
import {type CliResult, describeRun, emulatorAt, runEhcp} from '../support/cli.js'
import {startFaultProxy} from '../support/fault-proxy.js'
import {startRequestLog} from '../support/request-log.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {snapshot} from '../support/snapshot.js'
import {startStatusProxy, storageError} from '../support/status-proxy.js'

const NS = 'edge.servicebus.windows.net'
const base = (hub: string, group: string) => `${NS}/${hub}/${group}`
const CHANGE = ['--yes', '--no-backup', '--json']

/** A usage error: exit 2, a one-line message (and at most one hint line), nothing on stdout. */
function expectUsage(r: CliResult, mention: RegExp | string) {
  expect(r.code, describeRun(r)).to.equal(2)
  const lines = r.stderr.replace(/\n$/, '').split('\n')
  expect(lines.length, r.stderr).to.be.at.most(2)
  expect(lines[0]).to.match(/^Error: /)
  if (typeof mention === 'string') expect(lines[0]).to.include(mention)
  else expect(lines[0]).to.match(mention)
  expect(r.stderr).not.to.include('bug in ehcp')
  expect(r.stdout).to.equal('')
}

describe('edge errors', function () {
  this.timeout(120_000)

  describe('a leased blob (a legacy lease blob, or another client holding a lease)', () => {
    let c: TestContainer
    const group = base('leased', '$default')
    beforeEach(async () => {
      c = await freshContainer()
      for (const p of ['0', '1']) {
        await putBlob(c.client, `${group}/checkpoint/${p}`, {sequencenumber: '10', offset: '100'})
        await putBlob(c.client, `${group}/ownership/${p}`, {ownerid: 'old-host'})
      }
      for (const name of [`${group}/checkpoint/0`, `${group}/ownership/0`])
        await c.client.getBlobClient(name).getBlobLeaseClient().acquireLease(-1)
    })
    afterEach(() => c.dispose())

    const expectLeaseRefusal = (r: CliResult, leased: string[], others: string[]) => {
      const result = r.json<ChangeResult>()
      for (const p of result.partitions.filter((x) => leased.includes(x.partitionId))) {
        expect(p.status, p.reason ?? '').to.equal('conflict')
        expect(p.reason).to.include('leased by another client (412 LeaseIdMissing')
        expect(p.reason).to.include('break the lease or wait')
        expect(p.reason).not.to.include('changed since it was read')
      }
      for (const p of result.partitions.filter((x) => others.includes(x.partitionId))) expect(p.status, p.reason ?? '').to.equal('updated')
    }

    it('set on a leased checkpoint: a refusal naming the lease (exit 5), the blob untouched', async () => {
      const before = await snapshot(c.client)
      const r = await runEhcp([
        'set',
        ...c.args,
        '--eventhub',
        'leased',
        '--partition',
        '0',
        '--sequence-number',
        '5',
        '--offset',
        '50',
        '--force',
        ...CHANGE,
      ])
      expect(r.code, describeRun(r)).to.equal(5)
      expectLeaseRefusal(r, ['0'], [])
      expect(await snapshot(c.client)).to.deep.equal(before)
    })

    it('reset over leased and unleased partitions: the leased one refused for its lease, the other written (exit 6)', async () => {
      await putBlob(c.client, `${base('leased', 'source')}/checkpoint/0`, {sequencenumber: '3', offset: '30'})
      await putBlob(c.client, `${base('leased', 'source')}/checkpoint/1`, {sequencenumber: '4', offset: '40'})
      const r = await runEhcp(['reset', ...c.args, '--eventhub', 'leased', '--from-consumer-group', 'source', '--force', ...CHANGE])
      expect(r.code, describeRun(r)).to.equal(6)
      expectLeaseRefusal(r, ['0'], ['1'])
      const props = await c.client.getBlobClient(`${group}/checkpoint/0`).getProperties()
      expect(props.metadata).to.deep.equal({sequencenumber: '10', offset: '100'})
      expect(props.leaseState).to.equal('leased')
    })

    it('reset --delete and release-ownership on leased blobs: refused for the lease, never called a changed ETag', async () => {
      const del = await runEhcp(['reset', ...c.args, '--eventhub', 'leased', '--delete', '--partition', '0', '--force', ...CHANGE])
      expect(del.code, describeRun(del)).to.equal(5)
      expectLeaseRefusal(del, ['0'], [])
      // Every partition, live owners included (--force): the lease, not the owner, is what refuses it.
      const release = await runEhcp(['release-ownership', ...c.args, '--eventhub', 'leased', '--force', ...CHANGE])
      expect(release.code, describeRun(release)).to.equal(6)
      expectLeaseRefusal(release, ['0'], ['1'])
      expect((await c.client.getBlobClient(`${group}/ownership/0`).getProperties()).metadata).to.deep.equal({ownerid: 'old-host'})
      expect(await c.client.getBlobClient(`${group}/checkpoint/0`).exists()).to.equal(true)
    })
  })

  it('reset --delete on a checkpoint with snapshots: refused naming them (exit 5), not a bug', async () => {
    const c = await freshContainer()
    try {
      const name = `${base('snap', '$default')}/checkpoint/0`
      await putBlob(c.client, name, {sequencenumber: '10', offset: '100'})
      await c.client.getBlobClient(name).createSnapshot()
      const r = await runEhcp(['reset', ...c.args, '--eventhub', 'snap', '--delete', '--force', ...CHANGE])
      expect(r.code, describeRun(r)).to.equal(5)
      const [p] = r.json<ChangeResult>().partitions
      expect(p!.status).to.equal('conflict')
      expect(p!.reason).to.include('the blob has snapshots (409 SnapshotsPresent)')
      expect(await c.client.getBlobClient(name).exists()).to.equal(true)
    } finally {
      await c.dispose()
    }
  })

  describe('two writers, one value', () => {
    let c: TestContainer
    const group = base('race', '$default')
    beforeEach(async () => {
      c = await freshContainer()
      await putBlob(c.client, `${group}/checkpoint/0`, {sequencenumber: '10', offset: '100'})
    })
    afterEach(() => c.dispose())

    it('another writer lands the same value first: ehcp reports a conflict, not a write of its own (exit 5)', async () => {
      // The other writer's identical write reaches storage just before ehcp's first (and only) try.
      const blob = c.client.getBlockBlobClient(`${group}/checkpoint/0`)
      const log = await startRequestLog(c.azurite.host, async (request) => {
        if (request.method === 'PUT') await blob.setMetadata({sequencenumber: '5', offset: '50'})
      })
      try {
        const r = await runEhcp(
          [
            'set',
            '--emulator',
            '--container',
            c.name,
            '--eventhub',
            'race',
            '--partition',
            '0',
            '--sequence-number',
            '5',
            '--offset',
            '50',
            '--force',
            ...CHANGE,
          ],
          emulatorAt(log.url),
        )
        expect(r.code, describeRun(r)).to.equal(5)
        const [p] = r.json<ChangeResult>().partitions
        expect(p!.status).to.equal('conflict')
        expect(p!.reason).to.include('another writer already set this value; not written by ehcp')
        expect(log.requests.filter((x) => x.method === 'PUT').map((x) => x.status)).to.deep.equal([412])
      } finally {
        await log.close()
      }
      expect((await c.client.getBlobClient(`${group}/checkpoint/0`).getProperties()).metadata).to.deep.equal({
        sequencenumber: '5',
        offset: '50',
      })
    })

    it('a retried write whose first answer was lost meets its own change: still updated (exit 0)', async () => {
      let puts = 0
      const host = new URL(c.azurite.host)
      const proxy = await startFaultProxy({host: host.hostname, port: Number(host.port)}, {loseWriteResponse: () => ++puts === 1})
      try {
        const r = await runEhcp(
          [
            'set',
            '--emulator',
            '--container',
            c.name,
            '--eventhub',
            'race',
            '--partition',
            '0',
            '--sequence-number',
            '5',
            '--offset',
            '50',
            '--force',
            ...CHANGE,
          ],
          emulatorAt(`http://127.0.0.1:${proxy.port}`),
        )
        expect(r.code, describeRun(r)).to.equal(0)
        expect(proxy.lostResponses).to.equal(1)
        const [p] = r.json<ChangeResult>().partitions
        expect(p).to.include({status: 'updated', reason: 'already held the new value (a retried write whose first response was lost)'})
      } finally {
        await proxy.close()
      }
      expect((await c.client.getBlobClient(`${group}/checkpoint/0`).getProperties()).metadata).to.deep.equal({
        sequencenumber: '5',
        offset: '50',
      })
    })

    it("a blob already deleted by someone else: a delete is a conflict saying so, not ehcp's own delete", async () => {
      const blob = c.client.getBlobClient(`${group}/checkpoint/0`)
      const log = await startRequestLog(c.azurite.host, async (request) => {
        if (request.method === 'DELETE') await blob.deleteIfExists()
      })
      try {
        const r = await runEhcp(
          ['reset', '--emulator', '--container', c.name, '--eventhub', 'race', '--delete', '--force', ...CHANGE],
          emulatorAt(log.url),
        )
        expect(r.code, describeRun(r)).to.equal(5)
        const [p] = r.json<ChangeResult>().partitions
        expect(p).to.include({status: 'conflict'})
        expect(p!.reason).to.include('another writer already deleted it; not deleted by ehcp')
      } finally {
        await log.close()
      }
    })
  })

  describe('names with spaces and other characters, under account key and SAS alike', () => {
    let c: TestContainer
    const groups = ['my group', 'a+b 100% x&y=z', "grüppe ünï it's #1?"]
    before(async () => {
      c = await freshContainer()
      for (const g of [...groups, 'source']) {
        await putBlob(c.client, `${base('my hub', g)}/checkpoint/0`, {sequencenumber: '1', offset: '10'})
        await putBlob(c.client, `${base('my hub', g)}/ownership/0`, {ownerid: 'host-1'})
      }
    })
    after(() => c.dispose())

    it('show, list, set, reset and release-ownership with a connection string (shared key) and a container SAS', async () => {
      const sas = await c.client.generateSasUrl({
        permissions: ContainerSASPermissions.parse('rlwd'),
        expiresOn: new Date(Date.now() + 3_600_000),
      })
      const ways = {'shared key': c.args, sas: ['--container-url', sas]}
      let n = 0
      for (const [way, args] of Object.entries(ways)) {
        const list = await runEhcp(['list', ...args, '--eventhub', 'my hub', '--json'])
        expect(list.code, `${way}: ${describeRun(list)}`).to.equal(0)
        expect(
          list
            .json<ContainerSummary>()
            .groups.map((g) => g.consumerGroup)
            .sort(),
        ).to.deep.equal([...groups, 'source'].sort())
        for (const g of groups) {
          const what = `${way}, group ${JSON.stringify(g)}`
          const scope = ['--eventhub', 'my hub', '--consumer-group', g]
          const shown = await runEhcp(['show', ...args, ...scope, '--json'])
          expect(shown.code, `${what}: ${describeRun(shown)}`).to.equal(0)
          expect(shown.json<GroupView>().partitions).to.have.length(1)
          n++
          const set = await runEhcp([
            'set',
            ...args,
            ...scope,
            '--partition',
            '0',
            '--sequence-number',
            String(100 + n),
            '--offset',
            String(1000 + n),
            '--force',
            ...CHANGE,
          ])
          expect(set.code, `${what}: ${describeRun(set)}`).to.equal(0)
          const reset = await runEhcp(['reset', ...args, ...scope, '--from-consumer-group', 'source', '--force', ...CHANGE])
          expect(reset.code, `${what}: ${describeRun(reset)}`).to.equal(0)
          expect(reset.json<ChangeResult>().partitions.map((p) => p.status)).to.deep.equal(['updated'])
          const props = await c.client.getBlobClient(`${base('my hub', g)}/checkpoint/0`).getProperties()
          expect(props.metadata, what).to.deep.equal({sequencenumber: '1', offset: '10'})
          const release = await runEhcp(['release-ownership', ...args, ...scope, '--force', ...CHANGE])
          expect(release.code, `${what}: ${describeRun(release)}`).to.equal(0)
          const owned = []
          for await (const b of c.client.listBlobsFlat({prefix: `${base('my hub', g)}/ownership/`, includeMetadata: true}))
            owned.push(b.metadata)
          expect(owned, what).to.deep.equal([{ownerid: ''}])
          await putBlob(c.client, `${base('my hub', g)}/ownership/0`, {ownerid: 'host-1'})
        }
      }
    })
  })

  describe('connection input refused before any request (exit 2)', () => {
    let log: Awaited<ReturnType<typeof startRequestLog>>
    let c: TestContainer
    before(async () => {
      c = await freshContainer()
      log = await startRequestLog(c.azurite.host)
    })
    after(async () => {
      await log.close()
      await c.dispose()
    })
    const viaLog = () => c.azurite.connectionString().replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${log.url}/devstoreaccount1`)

    it('invalid container names, from --container and in a container URL', async () => {
      for (const name of ['NOPE', 'ab', 'a--b', 'x'.repeat(64), '-abc', 'abc-', 'my_container', 'has space']) {
        expectUsage(await runEhcp(['show', '--connection-string', viaLog(), '--container', name]), `${JSON.stringify(name).slice(0, 20)}`)
      }
      for (const name of ['NOPE', 'a--b', 'has space']) {
        expectUsage(
          await runEhcp([
            'list',
            '--container-url',
            `${log.url}/devstoreaccount1/${encodeURIComponent(name)}?sv=1&sig=EDGEFAKESIGNATURE0123456789`,
          ]),
          'not a valid container name',
        )
      }
      expect(log.requests).to.deep.equal([])
      // The longest name allowed, and the service's own containers, pass (and are then looked up: not found here).
      for (const name of ['x'.repeat(63), 'a-b-1', '$web']) {
        const r = await runEhcp(['show', '--connection-string', viaLog(), '--container', name])
        expect(r.code, `${name}: ${describeRun(r)}`).to.equal(3)
      }
      expect(log.requests.length).to.be.greaterThan(0)
    })

    it('a connection string whose AccountName is not an account name', async () => {
      expectUsage(
        await runEhcp([
          'show',
          '--connection-string',
          'DefaultEndpointsProtocol=https;AccountName=bad name;AccountKey=RURHRUZBS0VLRVkwMTIzNDU2Nzg5;EndpointSuffix=core.windows.net',
          '--container',
          'abc',
        ]),
        'AccountName "bad name"',
      )
      expectUsage(
        await runEhcp([
          'show',
          '--connection-string',
          'AccountName=bad name;AccountKey=RURHRUZBS0VLRVkwMTIzNDU2Nzg5;BlobEndpoint=http://127.0.0.1:1/x',
          '--container',
          'abc',
        ]),
        'AccountName',
      )
      expectUsage(
        await runEhcp([
          'show',
          '--connection-string',
          'AccountName=acct;AccountKey=RURHRUZBS0VLRVkwMTIzNDU2Nzg5;BlobEndpoint=http://bad host:1/x',
          '--container',
          'abc',
        ]),
        'BlobEndpoint',
      )
    })

    it('--account-url / EHCP_ACCOUNT_URL that is not an https URL', async () => {
      for (const url of [
        'http://127.0.0.1:1/',
        'http://acct.blob.core.windows.net',
        'ftp://acct.blob.core.windows.net',
        'acct.blob.core.windows.net',
        'https://',
      ]) {
        const r = await runEhcp(['show', '--account-url', url, '--container', 'abc'])
        expectUsage(r, /--account-url (must be an https URL|is not an http\(s\) URL)/)
        expect(r.stderr).to.include('only sent over https')
        expect(r.stderr).not.to.include('REDACTED')
      }
      expectUsage(
        await runEhcp(['show', '--container', 'abc'], {env: {EHCP_ACCOUNT_URL: 'http://acct.blob.core.windows.net'}}),
        'EHCP_ACCOUNT_URL must be an https URL',
      )
    })

    it('a bad EHCP_EMULATOR_BLOB_ENDPOINT', async () => {
      for (const endpoint of ['not a url', 'ftp://127.0.0.1:10000/devstoreaccount1', '127.0.0.1:10000']) {
        expectUsage(
          await runEhcp(['show', '--emulator', '--container', 'abc'], {env: {EHCP_EMULATOR_BLOB_ENDPOINT: endpoint}}),
          'EHCP_EMULATOR_BLOB_ENDPOINT is not an http(s) URL',
        )
      }
    })

    it('--container-url pointing below the container (a blob, a folder) or at no container', async () => {
      const sas = await c.client.generateSasUrl({
        permissions: ContainerSASPermissions.parse('rl'),
        expiresOn: new Date(Date.now() + 3_600_000),
      })
      const u = new URL(sas)
      const blob = `${u.origin}${u.pathname}/${NS}/orders/$default/checkpoint/0${u.search}`
      const r = await runEhcp(['show', '--container-url', blob])
      expectUsage(r, '--container-url points below a container')
      expect(r.stderr).to.include('/ACCOUNT/CONTAINER')
      expect(r.stderr).not.to.include(u.searchParams.get('sig')!)
      expectUsage(
        await runEhcp(['show', '--container-url', 'https://acct.blob.core.windows.net/cont/folder?sv=1&sig=EDGEFAKESIGNATURE0123456789']),
        '--container-url points below a container',
      )
      expectUsage(await runEhcp(['show', '--container-url', `${c.azurite.host}/devstoreaccount1`]), '--container-url names no container')
      // The container URL itself is fine.
      expect((await runEhcp(['list', '--container-url', sas])).code).to.equal(0)
    })

    it('a flag given without its value, or twice', async () => {
      const requestsBefore = log.requests.length
      expectUsage(await runEhcp(['show', '--connection-string', viaLog(), '--container']), '--container expects a value')
      expectUsage(await runEhcp(['show', '--connection-string', viaLog(), '--container', c.name, '--timeout']), '--timeout expects a value')
      expectUsage(await runEhcp(['show', '--container', '--connection-string', viaLog()]), '--container expects a value')
      expectUsage(
        await runEhcp(['show', '--container', 'abc', '--container', 'abd', '--connection-string', viaLog()]),
        '--container can only be specified once',
      )
      const json = await runEhcp(['show', '--connection-string', viaLog(), '--json', '--container'])
      expect(json.code).to.equal(2)
      expect(json.json<{error: {code: string}}>().error.code).to.equal('usage')
      expect(log.requests.length).to.equal(requestsBefore)
    })
  })

  describe('endpoints that are not Blob Storage, and storage that is failing', () => {
    it('a web server answering 404 text/html to everything: exit 3, saying it does not look like Blob Storage', async () => {
      const server = http.createServer((_req, res) => {
        res.writeHead(404, {'content-type': 'text/html'})
        res.end('<html><body>Not Found</body></html>')
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const {port} = server.address() as AddressInfo
      try {
        for (const command of [['show'], ['list'], ['set', '--partition', '0', '--sequence-number', '1', '--offset', '10', '--yes']]) {
          const r = await runEhcp([...command, '--emulator', '--container', 'abc'], emulatorAt(`http://127.0.0.1:${port}`))
          expect(r.code, describeRun(r)).to.equal(3)
          expect(r.stderr).to.include('answered HTTP 404 (text/html) and does not look like Azure Blob Storage')
          expect(r.stderr).not.to.include('bug in ehcp')
        }
      } finally {
        server.close()
      }
    })

    it('a web server answering 403 or 502 pages: exit 4 and 7, saying it does not look like Blob Storage', async () => {
      for (const [status, exit] of [
        [403, 4],
        [502, 7],
      ] as const) {
        const stub = await startStatusProxy(undefined, () => ({status, headers: {'content-type': 'text/html'}, body: '<html>nope</html>'}))
        try {
          const r = await runEhcp(['show', '--emulator', '--container', 'abc', '--timeout', '20'], emulatorAt(stub.url))
          expect(r.code, describeRun(r)).to.equal(exit)
          expect(r.stderr).to.include(`answered HTTP ${status} (text/html) and does not look like Azure Blob Storage`)
        } finally {
          await stub.close()
        }
      }
    })

    it('storage answering 503 ServerBusy or 500 to a listing, after the retries: exit 7 "unavailable"', async () => {
      for (const [status, code] of [
        [503, 'ServerBusy'],
        [500, 'InternalError'],
      ] as const) {
        const stub = await startStatusProxy(undefined, () => storageError(status, code))
        try {
          const r = await runEhcp(['list', '--emulator', '--container', 'abc', '--json'], emulatorAt(stub.url))
          expect(r.code, describeRun(r)).to.equal(7)
          const {error} = r.json<{error: {code: string; message: string}}>()
          expect(error.code).to.equal('unreachable')
          expect(error.message).to.equal(`Storage is unavailable: it answered ${status} ${code}, after 3 tries.`)
          expect(stub.requests).to.have.length(3)
        } finally {
          await stub.close()
        }
      }
    })

    it('storage answering 503 or 500 to writes: exit 7, the partition failed and unchanged; only a 500 (which may have been applied) is read back', async () => {
      const c = await freshContainer()
      const name = `${base('busy', '$default')}/checkpoint/0`
      await putBlob(c.client, name, {sequencenumber: '10', offset: '100'})
      try {
        for (const [status, code] of [
          [503, 'ServerBusy'],
          [500, 'OperationTimedOut'],
        ] as const) {
          const stub = await startStatusProxy(c.azurite.host, (request) =>
            request.method === 'PUT' ? storageError(status, code) : undefined,
          )
          try {
            const r = await runEhcp(
              [
                'set',
                '--emulator',
                '--container',
                c.name,
                '--eventhub',
                'busy',
                '--partition',
                '0',
                '--sequence-number',
                '5',
                '--offset',
                '50',
                '--force',
                ...CHANGE,
              ],
              emulatorAt(stub.url),
            )
            expect(r.code, describeRun(r)).to.equal(7)
            const [p] = r.json<ChangeResult>().partitions
            expect(p!.status).to.equal('failed')
            expect(p!.reason).to.include(`Storage is unavailable: it answered ${status} ${code}, after 3 tries.`)
            expect(stub.requests.filter((x) => x.method === 'PUT')).to.have.length(3)
            // The read-back: a one-blob listing whose prefix is the blob's own name.
            const readBacks = stub.requests.filter(
              (x) => x.method === 'GET' && new URL(x.url, 'http://x').searchParams.get('prefix') === name,
            )
            expect(readBacks).to.have.length(status === 500 ? 1 : 0)
          } finally {
            await stub.close()
          }
          expect((await c.client.getBlobClient(name).getProperties()).metadata).to.deep.equal({sequencenumber: '10', offset: '100'})
        }
      } finally {
        await c.dispose()
      }
    })

    it('an account the emulator does not have (404 ResourceNotFound): exit 3', async () => {
      const c = await freshContainer()
      try {
        const cs = c.azurite.connectionString().replace(/devstoreaccount1/g, 'nosuchaccount')
        const r = await runEhcp(['show', '--connection-string', cs, '--container', c.name])
        expect(r.code, describeRun(r)).to.equal(3)
        expect(r.stderr).to.include('404 ResourceNotFound')
      } finally {
        await c.dispose()
      }
    })
  })
})
