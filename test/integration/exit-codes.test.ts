/** The contract's exit codes, from the built binary, with errors as valid JSON under --json. */
import net from 'node:net'

import {ContainerSASPermissions} from '@azure/storage-blob'
import {expect} from 'chai'

import type {GroupView} from '../../src/store/group.js'
import type {ContainerSummary} from '../../src/store/summary.js'
import {type CliResult, runEhcp} from '../support/cli.js'
import {freshContainer, putBlob, sharedAzurite, type TestContainer} from '../support/services.js'
import {snapshot} from '../support/snapshot.js'

interface ErrorDocument {
  error: {code: string; message: string; exitCode: number; hint: string | null}
}

function expectJsonError(r: CliResult, exitCode: number, code: string) {
  expect(r.code, r.stdout + r.stderr).to.equal(exitCode)
  const doc = r.json<ErrorDocument>()
  expect(Object.keys(doc)).to.deep.equal(['error'])
  expect(doc.error).to.include({exitCode, code})
  expect(doc.error.message).to.be.a('string').that.is.not.empty
  expect(doc.error).to.have.property('hint')
  expect(r.stderr).to.equal('')
}

describe('exit codes', function () {
  this.timeout(60_000)
  let c: TestContainer
  before(async () => {
    c = await freshContainer()
    await putBlob(c.client, 'ns.servicebus.windows.net/orders/$default/checkpoint/0', {sequencenumber: '1', offset: '10'})
  })
  after(() => c.dispose())

  describe('2: usage', () => {
    it('no connection: lists the four ways to connect', async () => {
      const r = await runEhcp(['list'])
      expect(r.code).to.equal(2)
      for (const way of ['--container-url', '--connection-string', '--account-url', '--emulator']) expect(r.stderr).to.include(way)
      expect(r.stdout).to.equal('')
      expectJsonError(await runEhcp(['list', '--json']), 2, 'usage')
    })

    it('unknown flag, bad duration, --csv with --json', async () => {
      expect((await runEhcp(['list', ...c.args, '--bogus'])).code).to.equal(2)
      expectJsonError(await runEhcp(['show', ...c.args, '--ownership-expiry', 'soon', '--json']), 2, 'usage')
      const both = await runEhcp(['show', ...c.args, '--csv', '--json'])
      expect(both.code).to.equal(2)
    })

    it('a connection string without a container', async () => {
      const r = await runEhcp(['list', '--connection-string', c.azurite.connectionString()])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.include('--container')
    })
  })

  describe('3: not found', () => {
    it('a missing container', async () => {
      const az = await sharedAzurite()
      expectJsonError(
        await runEhcp(['list', '--connection-string', az.connectionString(), '--container', 'no-such-container', '--json']),
        3,
        'not-found',
      )
      const r = await runEhcp(['show', '--connection-string', az.connectionString(), '--container', 'no-such-container'])
      expect(r.code).to.equal(3)
      expect(r.stderr).to.include('container does not exist')
    })

    it('a missing consumer group, event hub or partition', async () => {
      const group = await runEhcp(['show', ...c.args, '--consumer-group', 'nobody', '--json'])
      expectJsonError(group, 3, 'not-found')
      expect(group.json<ErrorDocument>().error.hint).to.include('"$default"')
      expectJsonError(await runEhcp(['show', ...c.args, '--eventhub', 'payments', '--json']), 3, 'not-found')
      expectJsonError(await runEhcp(['show', ...c.args, '--partition', '9', '--json']), 3, 'not-found')
    })

    it('an empty result is not an error', async () => {
      const empty = await freshContainer()
      try {
        const r = await runEhcp(['list', ...empty.args, '--json'])
        expect(r.code).to.equal(0)
        expect(r.json<ContainerSummary>().groups).to.deep.equal([])
        expect((await runEhcp(['list', ...empty.args])).stdout).to.include('No checkpoints')
      } finally {
        await empty.dispose()
      }
    })
  })

  describe('4: authentication or authorisation', () => {
    it('a wrong account key', async () => {
      const wrongKey = Buffer.from('not-the-key-of-this-account-at-all').toString('base64')
      const cs = c.azurite.connectionString('devstoreaccount1', wrongKey)
      const r = await runEhcp(['list', '--connection-string', cs, '--container', c.name, '--json'])
      expectJsonError(r, 4, 'auth')
      expect(r.stdout).not.to.include(wrongKey)
    })

    it('a SAS that lacks the list permission names what is missing', async () => {
      const url = await c.client.generateSasUrl({
        permissions: ContainerSASPermissions.parse('r'),
        expiresOn: new Date(Date.now() + 3_600_000),
      })
      const r = await runEhcp(['list', '--container-url', url])
      expect(r.code).to.equal(4)
      expect(r.stderr).to.include(`lacks the "list" permission`)
      expect(r.stderr).not.to.include(new URL(url).searchParams.get('sig')!)
    })

    it('with a read + list SAS, every changing command exits 4 having written nothing, naming the permission', async () => {
      const url = await c.client.generateSasUrl({
        permissions: ContainerSASPermissions.parse('rl'),
        expiresOn: new Date(Date.now() + 3_600_000),
      })
      await putBlob(c.client, 'ns.servicebus.windows.net/orders/$default/ownership/0', {ownerid: 'old-host'})
      const before = await snapshot(c.client)
      for (const args of [
        ['set', '--partition', '0', '--sequence-number', '5', '--offset', '50'],
        ['set', '--partition', '7', '--sequence-number', '5', '--offset', '50'],
        ['reset', '--delete'],
        ['release-ownership'],
      ]) {
        const r = await runEhcp([
          ...args,
          '--container-url',
          url,
          '--yes',
          '--no-backup',
          '--json',
          // Past every guard, to the write the SAS cannot make (a blanket release of the active owner needs it too).
          '--force',
        ])
        expect(r.code, `${args.join(' ')}: ${r.stdout}`).to.equal(4)
        expect(r.stdout).to.match(/lacks the \\"(write|delete)\\" permission/)
      }
      expect(await snapshot(c.client)).to.deep.equal(before)
    })

    it('a read + list SAS is enough to read', async () => {
      const url = await c.client.generateSasUrl({
        permissions: ContainerSASPermissions.parse('rl'),
        expiresOn: new Date(Date.now() + 3_600_000),
      })
      const r = await runEhcp(['show', '--container-url', url, '--json'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.json<GroupView>().partitions).to.have.length(1)
    })
  })

  describe('7: unreachable or timed out', () => {
    it('a closed port', async () => {
      const server = net.createServer()
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const {port} = server.address() as net.AddressInfo
      await new Promise((resolve) => server.close(resolve))
      const r = await runEhcp(['list', '--emulator', '--container', 'xyz', '--json'], {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${port}/devstoreaccount1`},
      })
      expectJsonError(r, 7, 'unreachable')
    })

    it('a black-holed endpoint times out within --timeout', async () => {
      const sockets: net.Socket[] = []
      const server = net.createServer((s) => sockets.push(s)) // accepts, never answers
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const {port} = server.address() as net.AddressInfo
      try {
        const started = Date.now()
        const r = await runEhcp(['show', '--emulator', '--container', 'xyz', '--timeout', '2'], {
          env: {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${port}/devstoreaccount1`},
        })
        const elapsed = Date.now() - started
        expect(r.code, r.stderr).to.equal(7)
        expect(r.stderr).to.include('did not answer within 2s')
        expect(elapsed).to.be.below(10_000)
      } finally {
        for (const s of sockets) s.destroy()
        server.close()
      }
    })
  })
})
