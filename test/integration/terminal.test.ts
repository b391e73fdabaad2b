/**
 * On a terminal (a real pseudo-terminal from util-linux `script`): the confirmation prompt defaults to no,
 * progress shows for large changes and slow reads (on stderr only), tables show ages and fit the terminal.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {type LatencyProxy, startLatencyProxy} from '../../local/latency-proxy.js'
import {BIN, runEhcp} from '../support/cli.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const NS = 'tty.servicebus.windows.net'

interface TerminalOptions {
  /** The terminal's width (stty cols), as a user's window would set it. */
  cols?: number
  env?: Record<string, string>
  /** Send stdout to this file instead of the terminal (`ehcp ... > file`): stderr stays on the terminal. */
  stdoutFile?: string
}

/** Runs ehcp under a pseudo-terminal, typing `input`; returns what the terminal showed and the exit code. */
function onTerminal(
  c: TestContainer,
  args: string[],
  input: string,
  options: TerminalOptions = {},
): Promise<{code: number | null; screen: string}> {
  const words = [process.execPath, BIN, ...args, '--emulator', '--container', c.name].map((w) => `'${w}'`).join(' ')
  const command = [
    ...(options.cols ? [`stty cols ${options.cols} rows 50`] : []),
    `${words}${options.stdoutFile ? ` > '${options.stdoutFile}'` : ''}`,
  ].join('; ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: {...process.env, EHCP_EMULATOR_BLOB_ENDPOINT: c.azurite.blobEndpoint(), NO_COLOR: '1', ...options.env},
    })
    let screen = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, screen}))
    child.stdin.end(input)
  })
}

/** The lines a terminal shows (carriage returns and the progress line's erase codes resolved away). */
const screenLines = (screen: string) =>
  screen
    .split(/\r?\n/)
    .map((line) => line.split('\r').at(-1)!.replaceAll('\x1b[K', ''))
    .filter((line) => line !== '')

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

  it('asks before writing, and "no" (the default) writes nothing: exit 130, said plainly, not as an error', async () => {
    for (const answer of ['n\n', '\n']) {
      const r = await onTerminal(c, ['reset', '--from-consumer-group', 'source', '--no-backup'], answer)
      expect(r.screen).to.include('Apply 30 change(s) to tty.servicebus.windows.net/orders/$default? [y/N]')
      expect(r.screen).to.include('Cancelled; nothing changed.').and.not.include('Error')
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

  it('tables fit an 80-column terminal (low-value columns dropped, long values abbreviated); --wide and pipes keep every column', async () => {
    // Owner ids as the SDKs make them (GUIDs), which push the table well past 80 columns.
    const owners = Array.from({length: 30}, (_, p) => `0f8fad5b-d9cb-469f-a165-${String(p).padStart(12, '7')}`)
    await store.claimOwnership(
      owners.map((ownerId, p) => ({
        fullyQualifiedNamespace: NS,
        eventHubName: 'orders',
        consumerGroup: '$Default',
        partitionId: String(p),
        ownerId,
      })),
    )
    const fitted = await onTerminal(c, ['show', '--eventhub', 'orders'], '', {cols: 80})
    expect(fitted.code, fitted.screen).to.equal(0)
    const lines = screenLines(fitted.screen)
    expect(lines.length, fitted.screen).to.be.greaterThan(30)
    for (const line of lines) expect(line.length, `${line}\n(${line.length} columns)`).to.be.at.most(80)
    const header = lines.find((l) => l.startsWith('PARTITION'))
    expect(header, fitted.screen).to.include('SEQUENCE').and.include('OWNER').and.not.include('HEARTBEAT')

    const wide = await onTerminal(c, ['show', '--eventhub', 'orders', '--wide'], '', {cols: 80})
    expect(wide.code).to.equal(0)
    expect(screenLines(wide.screen).find((l) => l.startsWith('PARTITION'))).to.include('HEARTBEAT')
    expect(wide.screen).to.include(owners[29]!)

    const piped = await runEhcp(['show', '--eventhub', 'orders', '--emulator', '--container', c.name], {
      env: {EHCP_EMULATOR_BLOB_ENDPOINT: c.azurite.blobEndpoint(), COLUMNS: '80'},
    })
    expect(piped.code).to.equal(0)
    expect(piped.stdout).to.include('HEARTBEAT').and.include(owners[29]!)
    expect(Math.max(...piped.stdout.split('\n').map((l) => l.length))).to.be.greaterThan(80)

    const list = await onTerminal(c, ['list'], '', {cols: 80})
    expect(list.code, list.screen).to.equal(0)
    const listLines = screenLines(list.screen)
    expect(
      listLines.some((l) => l.startsWith('NAMESPACE')),
      list.screen,
    ).to.equal(true)
    for (const line of listLines) expect(line.length, line).to.be.at.most(80)
  })

  describe('a slow lag read (Event Hubs 120 ms away)', function () {
    this.timeout(120_000)
    const PARTITIONS = 32
    const HUB_NS = '127.0.0.1' // a processor names the namespace after its connection's host
    let hubs: EventHubsStandin
    let proxy: LatencyProxy
    let env: Record<string, string>

    before(async () => {
      hubs = await EventHubsStandin.start()
      hubs.createHubWithEvents('slow', PARTITIONS, 5, (_, i) => ({body: `e${i}`}))
      proxy = await startLatencyProxy({host: '127.0.0.1', port: hubs.port}, 120)
      env = {EVENTHUBS_CONNECTION_STRING: hubs.connectionString().replace(`:${hubs.port};`, `:${proxy.port};`)}
    })
    after(async () => {
      await proxy.close()
      await hubs.stop()
    })
    beforeEach(async () => {
      for (let p = 0; p < PARTITIONS; p++)
        await store.updateCheckpoint({
          fullyQualifiedNamespace: HUB_NS,
          eventHubName: 'slow',
          consumerGroup: '$Default',
          partitionId: String(p),
          sequenceNumber: 1,
          offset: hubs.events('slow', String(p))[1]!.offset,
        })
    })

    const show = ['show', '--namespace', HUB_NS, '--eventhub', 'slow', '--lag']

    it('shows progress on stderr, erased in place; stdout sent to a file gets none of it', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ehcp-tty-'))
      const out = path.join(dir, 'stdout.txt')
      const r = await onTerminal(c, show, '', {env, stdoutFile: out})
      expect(r.code, r.screen).to.equal(0)
      // The progress line, drawn and then erased (the terminal keeps nothing of it once the command is done).
      expect(r.screen).to.match(new RegExp(`Reading lag: \\d+/${PARTITIONS} partitions \\(\\d+%\\)`))
      expect(r.screen).to.include('\r\x1b[K')
      expect(screenLines(r.screen).join('\n')).not.to.include('Reading lag')
      const stdout = readFileSync(out, 'utf8')
      expect(stdout).to.include('PARTITION').and.include('LAG')
      expect(stdout).not.to.include('Reading lag').and.not.include('\r').and.not.include('\x1b')
    })

    it('--json with stdout piped: no progress at all; a table on the terminal: progress, then the table', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ehcp-tty-'))
      const out = path.join(dir, 'stdout.json')
      const json = await onTerminal(c, [...show, '--json'], '', {env, stdoutFile: out})
      expect(json.code, json.screen).to.equal(0)
      expect(json.screen).not.to.include('Reading lag')
      expect(JSON.parse(readFileSync(out, 'utf8')).partitions).to.have.length(PARTITIONS)

      const table = await onTerminal(c, show, '', {env, cols: 100})
      expect(table.code, table.screen).to.equal(0)
      expect(table.screen).to.match(new RegExp(`Reading lag: \\d+/${PARTITIONS} partitions`))
      expect(screenLines(table.screen).some((l) => l.startsWith('PARTITION'))).to.equal(true)
    })
  })
})
