/**
 * Hostile tests of scope resolution's early listings (the "prefetch" of a group's flat listing while the
 * directory listings are in flight): real Azurite, the built ehcp, the Event Hubs stand-in where lag is read.
 */
import {type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {type CliResult, describeRun, runEhcp} from '../support/cli.js'
import {type LoggedRequest, type RequestLog, startRequestLog} from '../support/request-log.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {sleep, waitFor} from '../support/wait.js'

const NS = '127.0.0.1'

/** The samples of an exposition: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (m) out.set(m[1]!, Number(m[2]))
  }
  return out
}

const isFlatListing = (r: LoggedRequest, prefix: string) =>
  r.method === 'GET' && r.query.get('comp') === 'list' && r.query.get('prefix') === prefix && !r.query.has('delimiter')

describe('attack: scope prefetch', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  const running: ChildProcess[] = []
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-attack-scope-'))

  before(async () => {
    hubs = await EventHubsStandin.start()
    hubs.createHubWithEvents(
      'orders',
      2,
      () => 200,
      (_, i) => ({body: {i}}),
    )
  })
  beforeEach(async () => {
    c = await freshContainer()
  })
  afterEach(async () => {
    await c.dispose()
  })
  after(async () => {
    for (const child of running) child.kill('SIGKILL')
    await hubs.stop()
    rmSync(cwd, {recursive: true, force: true})
  })

  const checkpoint = (group: string, partition: number, sequenceNumber: number) =>
    putBlob(c.client, `${NS}/orders/${group}/checkpoint/${partition}`, {
      sequencenumber: String(sequenceNumber),
      offset: String(sequenceNumber * 10),
    })

  /** Starts the exporter through `log`; resolves once it printed its URL. */
  async function serveExporter(log: RequestLog, args: string[]) {
    let stderr = ''
    let exited: CliResult | undefined
    let child: ChildProcess | undefined
    const done = runEhcp(['exporter', '--port', '0', ...args, '--emulator', '--container', c.name], {
      cwd,
      env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString(), EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
      timeoutMs: 100_000,
      onSpawn: (spawned) => {
        child = spawned
        running.push(spawned)
        spawned.stderr!.on('data', (d: Buffer | string) => (stderr += d.toString()))
      },
    })
    void done.then((r) => (exited = r))
    await waitFor('the exporter to print its URL', () => /Serving http:\/\/\S+\/metrics/.test(stderr) || exited !== undefined, 30_000)
    if (exited) throw new Error(`the exporter exited: ${describeRun(exited)}`)
    return {url: /Serving (http:\/\/\S+\/metrics)/.exec(stderr)![1]!, child: child!, done, stderr: () => stderr}
  }

  it('exporter: a collection after a failed one lists the group afresh (no early listing of the failed collection is served)', async () => {
    // Twins: Java's "$Default" (listed first: "D" < "d") and the JS SDK's "$default" (the prefetched guess).
    await checkpoint('$Default', 1, 5)
    await checkpoint('$default', 0, 5)
    const upper = `${NS}/orders/$Default/`
    const lower = `${NS}/orders/$default/`
    let held = false
    let updated = false
    const log: RequestLog = await startRequestLog(c.azurite.blobEndpoint().replace(/\/devstoreaccount1$/, ''), async (request) => {
      if (held || !isFlatListing(request, upper)) return
      held = true
      // Collection 1: the lower-case twin's listing has been answered; then a processor checkpoints partition 0
      // (sequence 99), and the upper-case twin's listing is held past --timeout so collection 1 fails.
      // (A resolution that lists level by level has not asked for it yet: then there is nothing to wait for.)
      const until = Date.now() + 1000
      while (!log.requests.some((r) => isFlatListing(r, lower) && r.status !== undefined) && Date.now() < until) await sleep(10)
      await checkpoint('$default', 0, 99)
      updated = true
      await sleep(2500)
    })
    // Collections 3 s apart: the first successful one (collection 2) is served long enough to be scraped.
    const s = await serveExporter(log, ['--eventhub', 'orders', '--interval', '3s', '--timeout', '1'])
    try {
      let metrics = new Map<string, number>()
      const deadline = Date.now() + 30_000
      while (!(metrics.get('ehcp_last_success_timestamp_seconds')! > 0) && Date.now() < deadline) {
        metrics = samples(await (await fetch(s.url, {signal: AbortSignal.timeout(2000)})).text())
        await sleep(100)
      }
      expect(updated, 'the checkpoint was updated during collection 1').to.equal(true)
      expect(metrics.get('ehcp_collection_errors_total'), `collection 1 failed, collection 2 did not: ${s.stderr()}`).to.equal(1)
      const sequence = [...metrics.entries()].filter(
        ([k]) => k.startsWith('ehcp_partition_checkpoint_sequence_number{') && k.includes('partition="0"'),
      )
      expect(sequence, [...metrics.keys()].join('\n')).to.have.length(1)
      // The first successful collection started after the checkpoint of 99 landed: it must not serve 5.
      expect(sequence[0]![1], 'partition 0 as served by the first successful collection').to.equal(99)
    } finally {
      s.child.kill('SIGINT')
      await s.done
      await log.close()
    }
  })

  it('exporter: a collection that timed out leaves no aborted early listing behind to fail the next one', async () => {
    await checkpoint('$Default', 1, 5)
    await checkpoint('$default', 0, 5)
    const upper = `${NS}/orders/$Default/`
    const lower = `${NS}/orders/$default/`
    const held = new Set<string>()
    let first: number | undefined
    // Collection 1 (--timeout 1): the twins' flat listings asked for within 500 ms of the first one are held
    // past the timeout; later ones (collection 2 on) pass.
    const log: RequestLog = await startRequestLog(c.azurite.blobEndpoint().replace(/\/devstoreaccount1$/, ''), async (request) => {
      const prefix = [upper, lower].find((p) => isFlatListing(request, p))
      if (prefix === undefined) return
      first ??= Date.now()
      if (Date.now() - first > 500) return
      held.add(prefix)
      await sleep(2500)
    })
    const s = await serveExporter(log, ['--eventhub', 'orders', '--interval', '300ms', '--timeout', '1'])
    try {
      let metrics = new Map<string, number>()
      const deadline = Date.now() + 30_000
      while (!(metrics.get('ehcp_last_success_timestamp_seconds')! > 0) && Date.now() < deadline) {
        metrics = samples(await (await fetch(s.url, {signal: AbortSignal.timeout(2000)})).text())
        await sleep(50)
      }
      expect(metrics.get('ehcp_last_success_timestamp_seconds'), s.stderr()).to.be.greaterThan(0)
      expect(held.has(upper), 'the upper-case twin was held').to.equal(true)
      // Only collection 1 met a held listing: the collection after it reads both twins afresh and succeeds.
      expect(metrics.get('ehcp_collection_errors_total'), s.stderr()).to.equal(1)
    } finally {
      s.child.kill('SIGINT')
      await s.done
      await log.close()
    }
  })
})
