/**
 * On a terminal (a real pseudo-terminal from util-linux `script`): the confirmation prompt defaults to no,
 * progress shows for large changes, and tables show ages.
 */
import {spawn} from 'node:child_process'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {BIN} from '../support/cli.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const NS = 'tty.servicebus.windows.net'

/** Runs ehcp under a pseudo-terminal, typing `input`; returns what the terminal showed and the exit code. */
function onTerminal(c: TestContainer, args: string[], input: string): Promise<{code: number | null; screen: string}> {
  const command = [process.execPath, BIN, ...args, '--emulator', '--container', c.name].map((w) => `'${w}'`).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: {...process.env, EHCP_EMULATOR_BLOB_ENDPOINT: c.azurite.blobEndpoint(), NO_COLOR: '1'},
    })
    let screen = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, screen}))
    child.stdin.end(input)
  })
}

describe('on a terminal', function () {
  this.timeout(60_000)
  let c: TestContainer
  let store: BlobCheckpointStore
  const current = async () => (await store.listCheckpoints(NS, 'orders', '$Default')).map((cp) => cp.sequenceNumber)

  beforeEach(async () => {
    c = await freshContainer()
    store = new BlobCheckpointStore(c.client)
    for (let p = 0; p < 30; p++) {
      await store.updateCheckpoint({
        fullyQualifiedNamespace: NS,
        eventHubName: 'orders',
        consumerGroup: '$Default',
        partitionId: String(p),
        sequenceNumber: 100,
        offset: '1000',
      })
      await store.updateCheckpoint({
        fullyQualifiedNamespace: NS,
        eventHubName: 'orders',
        consumerGroup: 'source',
        partitionId: String(p),
        sequenceNumber: 7,
        offset: '70',
      })
    }
  })
  afterEach(() => c.dispose())

  it('asks before writing, and "no" (the default) writes nothing: exit 130', async () => {
    for (const answer of ['n\n', '\n']) {
      const r = await onTerminal(c, ['reset', '--from-consumer-group', 'source', '--no-backup'], answer)
      expect(r.screen).to.include('Apply 30 change(s) to tty.servicebus.windows.net/orders/$default? [y/N]')
      expect(r.code).to.equal(130)
      expect(await current()).to.deep.equal(Array(30).fill(100))
    }
  })

  it('"y" applies the plan, with progress for a large change', async () => {
    const r = await onTerminal(c, ['reset', '--from-consumer-group', 'source', '--no-backup'], 'y\n')
    expect(r.code, r.screen).to.equal(0)
    expect(r.screen).to.include('Writing 30/30')
    expect(r.screen).to.include('30 updated, 0 unchanged')
    expect(await current()).to.deep.equal(Array(30).fill(7))
  })

  it('shows ages instead of times', async () => {
    const r = await onTerminal(c, ['show'], '')
    expect(r.code).to.equal(0)
    expect(r.screen).to.match(/\d+s ago/)
  })
})
