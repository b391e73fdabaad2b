/**
 * `ehcp exporter` end to end: Azurite, the Event Hubs stand-in, groups as a processor leaves them, and a real
 * Prometheus server (Debian's /usr/bin/prometheus) scraping the exporter. --once agrees with `show --lag`;
 * the exposition passes `promtool check metrics`; scrapes answer at once while storage is a black hole; one
 * collection of several groups of a hub costs one listing and one partition-properties read per partition.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import net, {type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {type CliResult, describeRun, runEhcp} from '../support/cli.js'
import {type FaultProxy, startFaultProxy} from '../support/fault-proxy.js'
import {processorOf} from '../support/processor.js'
import {type LoggedRequest, startRequestLog} from '../support/request-log.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {sleep, waitFor} from '../support/wait.js'

const NS = '127.0.0.1'
const PARTITIONS = 4
const PROMETHEUS = '/usr/bin/prometheus'
const PROMTOOL = '/usr/bin/promtool'

interface ShownPartition {
  partitionId: string
  checkpoint: {sequenceNumber: number | null} | null
  lag: {events: number | null; state: string; retainedEvents: number | null; lastEnqueuedSequenceNumber: number | null}
}

/** The samples of an exposition: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (m) out.set(m[1]!, Number(m[2]))
  }
  return out
}

const series = (name: string, group: string, partition?: string) =>
  `${name}{namespace="${NS}",eventhub="orders",consumer_group="${group}"${partition === undefined ? '' : `,partition="${partition}"`}}`

/** A free loopback port (for Prometheus, which cannot be asked to pick one). */
async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** GET with a deadline; the time it took. */
async function get(url: string, init: RequestInit = {}, ms = 5000): Promise<{status: number; text: string; type: string; ms: number}> {
  const started = performance.now()
  const res = await fetch(url, {...init, signal: AbortSignal.timeout(ms)})
  const text = await res.text()
  return {status: res.status, text, type: res.headers.get('content-type') ?? '', ms: performance.now() - started}
}

/** Skips a test that needs a Debian package this machine lacks, saying so (never a silent pass). */
function needs(ctx: Mocha.Context, file: string): void {
  if (existsSync(file)) return
  console.log(`      SKIPPED: ${file} is not installed (apt-get install prometheus); this test needs it.`)
  ctx.skip()
}

describe('ehcp exporter', function () {
  this.timeout(120_000)
  let hubs: EventHubsStandin
  let c: TestContainer
  const running: ChildProcess[] = []
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-exporter-'))

  before(async () => {
    hubs = await EventHubsStandin.start()
    hubs.createHubWithEvents(
      'orders',
      PARTITIONS,
      (p) => 20 + p,
      (_, i) => ({body: {i}}),
    )
    c = await freshContainer()
    const processor = processorOf(new BlobCheckpointStore(c.client), NS, 'orders')
    // $Default: partitions 0..2 checkpointed, partition 3 never; partition 0 claimed by a live owner.
    await processor.seed('$Default', PARTITIONS - 1, 5)
    await processor.claim('$Default', 0, 'worker-1')
    await processor.seed('billing', PARTITIONS, 7)
    await processor.seed('audit', PARTITIONS, 19)
  })
  after(async () => {
    for (const child of running) child.kill('SIGKILL')
    await c.dispose()
    await hubs.stop()
    rmSync(cwd, {recursive: true, force: true})
  })

  const env = () => ({EVENTHUBS_CONNECTION_STRING: hubs.connectionString()})
  const ehcp = (args: string[], options: {env?: Record<string, string>} = {}) =>
    runEhcp([...args, ...c.args], {cwd, env: {...env(), ...options.env}})

  /** Starts a server; resolves once it printed its URL. `done` is the run's result once it exits. */
  async function serve(args: string[], options: {env?: Record<string, string>; connection?: string[]} = {}) {
    let child: ChildProcess | undefined
    let stderr = ''
    const done = runEhcp(['exporter', '--port', '0', ...args, ...(options.connection ?? c.args)], {
      cwd,
      env: {...env(), ...options.env},
      timeoutMs: 100_000,
      onSpawn: (spawned) => {
        child = spawned
        running.push(spawned)
        spawned.stderr!.on('data', (d: Buffer | string) => (stderr += d.toString()))
      },
    })
    let exited: CliResult | undefined
    void done.then((r) => (exited = r))
    await waitFor('the exporter to print its URL', () => /Serving http:\/\/\S+\/metrics/.test(stderr) || exited !== undefined, 30_000)
    if (exited) throw new Error(`the exporter exited: ${describeRun(exited)}`)
    const url = /Serving (http:\/\/\S+\/metrics)/.exec(stderr)![1]!
    return {url, base: url.replace(/\/metrics$/, ''), child: child!, done, stderr: () => stderr}
  }

  /** The value of a series in the exporter's current exposition. */
  const scrape = async (url: string) => samples((await get(url)).text)

  let shown: ShownPartition[]

  it('--once: the lag, checkpoints and owners of `show --lag --json`; a partition without a checkpoint: every retained event', async () => {
    const show = await ehcp(['show', '--eventhub', 'orders', '--lag', '--json'])
    expect(show.code, describeRun(show)).to.equal(0)
    shown = show.json<{partitions: ShownPartition[]}>().partitions
    expect(shown).to.have.length(PARTITIONS)
    const r = await ehcp(['exporter', '--eventhub', 'orders', '--once'])
    expect(r.code, describeRun(r)).to.equal(0)
    const values = samples(r.stdout)
    for (const p of shown) {
      const lag = values.get(series('ehcp_partition_lag_events', '$default', p.partitionId))
      if (p.checkpoint) {
        expect(p.lag.state).to.equal('ok')
        expect(lag, p.partitionId).to.equal(p.lag.events)
        expect(values.get(series('ehcp_partition_checkpoint_sequence_number', '$default', p.partitionId))).to.equal(
          p.checkpoint.sequenceNumber,
        )
      } else {
        expect(p.lag.state).to.equal('no-checkpoint')
        expect(lag, p.partitionId).to.equal(p.lag.retainedEvents)
      }
      expect(values.get(series('ehcp_partition_last_enqueued_sequence_number', '$default', p.partitionId))).to.equal(
        p.lag.lastEnqueuedSequenceNumber,
      )
    }
    // 19-5, 20-6, 21-7, and 23 retained events in partition 3.
    expect(shown.map((p) => values.get(series('ehcp_partition_lag_events', '$default', p.partitionId)))).to.deep.equal([14, 14, 14, 23])
    expect(values.get(series('ehcp_group_lag_events', '$default'))).to.equal(65)
    expect(values.get(series('ehcp_partition_owned', '$default', '0'))).to.equal(1)
    expect(values.get(series('ehcp_partition_owned', '$default', '1'))).to.equal(0)
    expect(values.get(series('ehcp_group_partitions', '$default'))).to.equal(PARTITIONS)
    expect(values.get('ehcp_collections_total')).to.equal(1)
    // One group: the others are not in the exposition.
    expect(r.stdout).not.to.include('consumer_group="billing"')

    const all = await ehcp(['exporter', '--eventhub', 'orders', '--all', '--once'])
    expect(all.code, describeRun(all)).to.equal(0)
    const groups = [...samples(all.stdout).keys()]
      .filter((k) => k.startsWith('ehcp_group_partitions'))
      .map((k) => /consumer_group="([^"]+)"/.exec(k)![1])
    expect(groups).to.deep.equal(['$default', 'audit', 'billing'])
  })

  it('--once passes `promtool check metrics`', async function () {
    needs(this, PROMTOOL)
    const r = await ehcp(['exporter', '--eventhub', 'orders', '--all', '--once'])
    expect(r.code, describeRun(r)).to.equal(0)
    const checked = await new Promise<{code: number | null; out: string}>((resolve) => {
      const child = spawn(PROMTOOL, ['check', 'metrics'], {stdio: ['pipe', 'pipe', 'pipe']})
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (out += d))
      child.on('close', (code) => resolve({code, out}))
      child.stdin.end(r.stdout)
    })
    expect(checked.code, checked.out).to.equal(0)
    expect(checked.out.trim()).to.equal('')
  })

  it('--once when storage cannot be reached: exit 7, nothing on stdout', async () => {
    const hole = await startFaultProxy({host: '127.0.0.1', port: Number(new URL(c.azurite.blobEndpoint()).port)}, {})
    hole.blackHoleAll()
    try {
      const r = await runEhcp(['exporter', '--eventhub', 'orders', '--once', '--emulator', '--container', c.name, '--timeout', '1'], {
        cwd,
        env: {...env(), EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${hole.port}/devstoreaccount1`},
      })
      expect(r.code, describeRun(r)).to.equal(7)
      expect(r.stdout).to.equal('')
    } finally {
      await hole.close()
    }
  })

  it('serves /metrics and /healthz, 404 elsewhere, 405 for POST; SIGTERM ends it with exit 0', async () => {
    const s = await serve(['--eventhub', 'orders', '--all', '--interval', '500ms'])
    expect(s.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    expect(s.url).not.to.include(':0/')
    let values = new Map<string, number>()
    const deadline = Date.now() + 20_000
    while ((values.get('ehcp_collections_total') ?? 0) < 2 && Date.now() < deadline) {
      values = await scrape(s.url)
      await sleep(100)
    }
    expect(values.get('ehcp_collections_total')).to.be.at.least(2)
    expect(values.get(series('ehcp_partition_lag_events', 'billing', '0'))).to.equal(12)
    // Two collections of an unmoving group that is behind: Burrow's STOP (4); caught-up audit is OK (1).
    expect(values.get(series('ehcp_group_status', 'billing'))).to.equal(4)
    expect(values.get(series('ehcp_group_status', 'audit'))).to.equal(1)
    const metrics = await get(s.url)
    expect(metrics.status).to.equal(200)
    expect(metrics.type).to.match(/^text\/plain; version=0\.0\.4/)
    const health = await get(`${s.base}/healthz`)
    expect(health.status).to.equal(200)
    expect(JSON.parse(health.text)).to.include({errors: 0, lastError: null})
    expect((await get(`${s.base}/`)).status).to.equal(404)
    expect((await get(`${s.base}/metrics/extra`)).status).to.equal(404)
    expect((await get(s.url, {method: 'POST'})).status).to.equal(405)
    s.child.kill('SIGTERM')
    const r = await s.done
    expect(r.code, describeRun(r)).to.equal(0)
    await get(s.url, {}, 1000).then(
      () => expect.fail('still serving after SIGTERM'),
      (error: Error) => expect(error.message).to.match(/fetch failed|aborted/),
    )
  })

  it('a port in use, a --listen address not of this machine, bad flag values: exit 2, said plainly', async () => {
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const {port} = taken.address() as AddressInfo
    try {
      const inUse = await ehcp(['exporter', '--eventhub', 'orders', '--port', String(port)])
      expect(inUse.code, describeRun(inUse)).to.equal(2)
      expect(inUse.stderr).to.include(`Port ${port} on 127.0.0.1 is already in use.`)
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
    const elsewhere = await ehcp(['exporter', '--eventhub', 'orders', '--port', '0', '--listen', '192.0.2.1'])
    expect(elsewhere.code, describeRun(elsewhere)).to.equal(2)
    expect(elsewhere.stderr).to.include('--listen "192.0.2.1" is not an address of this machine')
    for (const [args, said] of [
      [['--port', '70000'], '--port'],
      [['--interval', '50ms'], '--interval "50ms" is shorter than 100ms'],
      [['--samples', '1'], '--samples'],
      // The exposition is the output: there is no JSON document to ask for.
      [['--json'], 'Unknown flag --json'],
    ] as const) {
      const r = await ehcp(['exporter', '--eventhub', 'orders', ...args])
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr, describeRun(r)).to.include(said)
    }
  })

  it('one group whose event hub the Event Hubs connection does not reach: exit 2, with --once and at the first collection', async () => {
    const other = {EVENTHUBS_CONNECTION_STRING: 'Endpoint=sb://other.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v'}
    for (const args of [['--once'], ['--port', '0']]) {
      const r = await ehcp(['exporter', '--eventhub', 'orders', ...args], {env: other})
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.include('does not reach the checkpoints')
      expect(r.stdout).to.equal('')
    }
  })

  it('storage a black hole: scrapes still answer within 1 s, errors rise, the last success stays where it was', async () => {
    const proxy: FaultProxy = await startFaultProxy({host: '127.0.0.1', port: Number(new URL(c.azurite.blobEndpoint()).port)}, {})
    try {
      const s = await serve(['--eventhub', 'orders', '--interval', '300ms', '--timeout', '1'], {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${proxy.port}/devstoreaccount1`},
        connection: ['--emulator', '--container', c.name],
      })
      let before = new Map<string, number>()
      const deadline = Date.now() + 20_000
      while (!(before.get('ehcp_last_success_timestamp_seconds')! > 0) && Date.now() < deadline) {
        before = await scrape(s.url)
        await sleep(100)
      }
      expect(before.get('ehcp_last_success_timestamp_seconds')).to.be.greaterThan(0)
      const errorsBefore = before.get('ehcp_collection_errors_total')!
      proxy.blackHoleAll()
      // A collection already past storage when the hole opened may still succeed: the first failure fixes the last success.
      let after = before
      let lastSuccess: number | undefined
      let failedFrom = 0
      let scrapes = 0
      const until = Date.now() + 30_000
      while ((lastSuccess === undefined || after.get('ehcp_collection_errors_total')! < failedFrom + 2) && Date.now() < until) {
        const r = await get(s.url, {}, 1000)
        expect(r.status).to.equal(200)
        expect(r.ms, 'a scrape while storage is a black hole').to.be.below(1000)
        after = samples(r.text)
        scrapes++
        if (lastSuccess === undefined && after.get('ehcp_collection_errors_total')! > errorsBefore) {
          lastSuccess = after.get('ehcp_last_success_timestamp_seconds')!
          failedFrom = after.get('ehcp_collection_errors_total')!
        }
        await sleep(200)
      }
      expect(scrapes).to.be.greaterThan(2)
      expect(lastSuccess).to.be.greaterThan(0)
      expect(after.get('ehcp_collection_errors_total')).to.be.at.least(failedFrom + 2)
      expect(after.get('ehcp_last_success_timestamp_seconds')).to.equal(lastSuccess)
      expect(Date.now() / 1000 - lastSuccess!).to.be.greaterThan(2)
      // The last complete collection is still what is served.
      expect(after.get(series('ehcp_partition_lag_events', '$default', '0'))).to.equal(14)
      const health = JSON.parse((await get(`${s.base}/healthz`, {}, 1000)).text) as {errors: number; lastError: string}
      expect(health.errors).to.be.at.least(2)
      expect(health.lastError).to.match(/did not (finish|answer)/)
      expect(s.stderr()).to.match(/Warning: Collection \d+ failed/)
      s.child.kill('SIGINT')
      const r = await s.done
      expect(r.code, describeRun(r)).to.equal(0)

      // With the default --timeout a collection would hang up to 60 s: SIGTERM still ends the exporter at once.
      const hung = await serve(['--eventhub', 'orders'], {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${proxy.port}/devstoreaccount1`},
        connection: ['--emulator', '--container', c.name],
      })
      await sleep(500)
      expect((await get(hung.url, {}, 1000)).status).to.equal(200)
      const stopping = Date.now()
      hung.child.kill('SIGTERM')
      const stopped = await hung.done
      expect(stopped.code, describeRun(stopped)).to.equal(0)
      expect(Date.now() - stopping).to.be.below(10_000)
    } finally {
      await proxy.close()
    }
  })

  it("a real Prometheus scrapes it: the target is up, PromQL returns the lag ehcp computed, the dashboard's queries run", async function () {
    needs(this, PROMETHEUS)
    const s = await serve(['--eventhub', 'orders', '--all', '--interval', '1s'])
    const exporterPort = new URL(s.url).port
    const dir = mkdtempSync(path.join(tmpdir(), 'ehcp-prometheus-'))
    const config = path.join(dir, 'prometheus.yml')
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: ehcp',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${exporterPort}']`,
        '',
      ].join('\n'),
    )
    const port = await freePort()
    const prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      {stdio: ['ignore', 'ignore', 'pipe']},
    )
    running.push(prometheus)
    let log = ''
    prometheus.stderr.on('data', (d) => (log = (log + d).slice(-4000)))
    try {
      const api = `http://127.0.0.1:${port}/api/v1`
      let health = ''
      const deadline = Date.now() + 60_000
      while (health !== 'up' && Date.now() < deadline) {
        await sleep(500)
        const targets = await get(`${api}/targets`, {}, 2000).catch(() => undefined)
        if (targets?.status !== 200) continue
        const active = (JSON.parse(targets.text) as {data: {activeTargets: Array<{health: string; scrapeUrl: string}>}}).data.activeTargets
        health = active.find((t) => t.scrapeUrl.includes(`:${exporterPort}/metrics`))?.health ?? ''
      }
      expect(health, `Prometheus never saw the exporter up; its log:\n${log}`).to.equal('up')
      const query = `ehcp_partition_lag_events{consumer_group="billing",partition="0"}`
      let result: Array<{metric: Record<string, string>; value: [number, string]}> = []
      while (result.length === 0 && Date.now() < deadline) {
        const r = await get(`${api}/query?query=${encodeURIComponent(query)}`, {}, 2000)
        result = (JSON.parse(r.text) as {data: {result: typeof result}}).data.result
        if (result.length === 0) await sleep(500)
      }
      expect(result).to.have.length(1)
      expect(result[0]!.metric).to.include({namespace: NS, eventhub: 'orders', consumer_group: 'billing', partition: '0', job: 'ehcp'})
      // 19 - 7: what ehcp computed (show --lag agreed with it above).
      expect(Number(result[0]!.value[1])).to.equal(12)
      const total = await get(`${api}/query?query=${encodeURIComponent('sum(ehcp_partition_lag_events{consumer_group="billing"})')}`)
      expect((JSON.parse(total.text) as {data: {result: Array<{value: [number, string]}>}}).data.result[0]!.value[1]).to.equal('48')

      // The Grafana dashboard's queries, with its variables set to "All", run on this Prometheus without error; those
      // of the lag panels return series. Its variables' label_values() lists come back with the names scraped.
      const dashboard = JSON.parse(readFileSync(new URL('../../../dashboards/ehcp.json', import.meta.url), 'utf8')) as {
        panels: Array<{title: string; targets?: Array<{expr: string}>}>
        templating: {list: Array<{query: {query: string}}>}
      }
      const all = (expr: string) => expr.replaceAll(/\$(namespace|eventhub|consumer_group)\b/g, '.*')
      const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({title: p.title, expr: all(t.expr)})))
      expect(exprs.length).to.be.greaterThan(5)
      for (const {title, expr} of exprs) {
        const r = await get(`${api}/query?query=${encodeURIComponent(expr)}`, {}, 2000)
        const body = JSON.parse(r.text) as {status: string; error?: string; data: {result: unknown[]}}
        expect(body.status, `${title}: ${expr}: ${body.error ?? ''}`).to.equal('success')
        if (/^ehcp_(partition|group)_lag_events\{/.test(expr)) expect(body.data.result, `${title}: ${expr}`).to.not.be.empty
      }
      const variables = dashboard.templating.list.map((v) => /^label_values\((.*), *([a-z_]+)\)$/.exec(all(v.query.query))!)
      expect(variables).to.have.length(3)
      for (const [, match, label] of variables) {
        const r = await get(`${api}/label/${label}/values?match[]=${encodeURIComponent(match!)}`, {}, 2000)
        expect((JSON.parse(r.text) as {data: string[]}).data, `${label} values`).to.include(
          {namespace: NS, eventhub: 'orders', consumer_group: 'billing'}[label!],
        )
      }
    } finally {
      prometheus.kill('SIGKILL')
      s.child.kill('SIGTERM')
      await s.done
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('one collection of three groups of a hub: one listing, one partition-properties read per partition, no event read', async () => {
    const log = await startRequestLog(c.azurite.host)
    try {
      const before = hubs.stats
      const r = await runEhcp(['exporter', '--eventhub', 'orders', '--all', '--once', '--emulator', '--container', c.name], {
        cwd,
        env: {...env(), EHCP_EMULATOR_BLOB_ENDPOINT: `${log.url}/devstoreaccount1`},
      })
      expect(r.code, describeRun(r)).to.equal(0)
      expect(r.stdout.match(/^ehcp_group_partitions\{/gm)).to.have.length(3)
      const described = log.requests.map(
        (q: LoggedRequest) =>
          `${q.method} ${q.query.get('comp') ?? ''} prefix=${q.query.get('prefix') ?? ''} include=${q.query.get('include') ?? ''}`,
      )
      expect(described).to.deep.equal(['GET list prefix= include=metadata'])
      const after = hubs.stats
      // The hub's partition ids, then each partition's properties: once for the three groups.
      expect(after.managementRequests - before.managementRequests).to.equal(PARTITIONS + 1)
      expect(after.receiversOpened - before.receiversOpened).to.equal(0)
    } finally {
      await log.close()
    }
  })
})
