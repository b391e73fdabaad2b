/**
 * `npm run bench [-- --quick]`: every figure is a ratio against a baseline measured in the same run,
 * against the same local services. Azurite runs as a child process (it must not share an event loop with
 * what is measured); the Event Hubs stand-in runs here. Rows marked (latency) send both ehcp and its
 * baseline through a loopback proxy that delays every chunk by 10 ms each way, like a cloud region.
 * Prints one table and writes bench/results.json. --quick: small sizes, one run each (a CI smoke test).
 * --latency MS: only the latency mode's rows (see latencyRows), at MS each way; --quick runs them too, at 25 ms.
 */
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {ContainerClient, ContainerSASPermissions, StorageSharedKeyCredential} from '@azure/storage-blob'

import {EMULATOR_ACCOUNT, EMULATOR_KEY} from '../local/azurite.js'
import {EventHubsStandin, offsetOf} from '../local/eventhubs-standin.js'
import {Fleet, startProducer} from '../local/live-processors.js'
import {startLatencyProxy} from '../local/latency-proxy.js'
import {openContainer, resolveStorageTarget} from '../src/store/connect.js'
import {readGroup} from '../src/store/group.js'
import {resolveGroup} from '../src/store/scope.js'
import {CheckpointStore} from '../src/store/store.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const BIN = path.join(root, 'bin', 'run.js')
const BASELINES = path.join(here, 'baselines.js')
/** The latency mode's minimal scripts: plain JavaScript, run from the source tree as a user would run theirs. */
const MINIMAL = path.join(root, 'bench', 'minimal')
const RSS_PRELOAD = path.join(here, 'report-rss.js')
const EXPORTER_COLLECTIONS = path.join(here, 'exporter-collections.js')

const quick = process.argv.includes('--quick')
/** --only WORD: run only the scenarios whose name contains WORD (for working on one row). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
/**
 * --latency MS: the latency mode. Only the small rows, each against a minimal script (bench/minimal/), with storage
 * and Event Hubs MS away each way (see latencyRows); the other rows are skipped. --quick runs these rows as well.
 */
const latencyMode = process.argv.includes('--latency')
const LATENCY_MS = latencyMode ? Number(process.argv[process.argv.indexOf('--latency') + 1]) : 25
if (!Number.isFinite(LATENCY_MS) || LATENCY_MS < 0) throw new Error(`--latency takes milliseconds each way, not ${LATENCY_MS}`)
const selected = (scenario: string) => !only || scenario.includes(only)
/** A row of the classic table (not run in the latency mode). */
const want = (scenario: string) => !latencyMode && selected(scenario)
/** --runs N: measured runs per side (default 5, --quick 1). --ehcp-only: skip the baselines (while tuning). */
const runsArg = process.argv.includes('--runs') ? Number(process.argv[process.argv.indexOf('--runs') + 1]) : undefined
const ehcpOnly = process.argv.includes('--ehcp-only')
/** --cpu-prof DIR: write a V8 CPU profile of every ehcp run into DIR (to see where a row's time goes). */
const cpuProfDir = process.argv.includes('--cpu-prof') ? path.resolve(process.argv[process.argv.indexOf('--cpu-prof') + 1]!) : undefined
const SIZE = quick
  ? {partitions: 16, listBlobs: 400, listBlobsSmall: 100, runs: 1, latencyMs: 10}
  : {partitions: 1024, listBlobs: 50_000, listBlobsSmall: 5000, runs: 5, latencyMs: 10}
const NS = 'bench.servicebus.windows.net'

interface Row {
  scenario: string
  ehcpMs: number
  baselineMs: number
  ratio: number
  target: string
  met: boolean
  note?: string
  /** Rows bound by the emulator's CPU: Azurite's own CPU time per ehcp run (median), and that as a ratio of the baseline. */
  emulatorCpuMs?: number
  emulatorFloor?: number
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

interface Timed {
  ms: number
  rssKiB: number
  stdout: string
  stderr: string
}

/** Runs a process to the end; its wall time and (when preloaded) peak RSS. Fails loudly on a non-zero exit. */
function timeProcess(args: string[], env: Record<string, string> = {}, measureRss = false): Promise<Timed> {
  const rssFile = path.join(tmpdir(), `ehcp-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`)
  const profile = cpuProfDir && args[0] === BIN ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []
  const nodeArgs = [...profile, ...(measureRss ? ['--import', `file://${RSS_PRELOAD}`] : []), ...args]
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, nodeArgs, {
      env: {...process.env, ...env, NO_COLOR: '1', EHCP_BENCH_RSS_FILE: rssFile},
      cwd: workDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code !== 0)
        return reject(new Error(`${args.slice(0, 2).join(' ')} ... exited ${code}\n${stdout.slice(0, 2000)}${stderr.slice(0, 2000)}`))
      let rssKiB = 0
      if (measureRss) rssKiB = Number(readFileSync(rssFile, 'utf8'))
      resolve({ms, rssKiB, stdout, stderr})
    })
  })
}

/** Warm-up, then `runs` interleaved pairs; medians. */
async function compare(ehcp: () => Promise<number>, baseline: () => Promise<number>): Promise<{ehcpMs: number; baselineMs: number}> {
  const measureBaseline = ehcpOnly ? async () => NaN : baseline
  await ehcp()
  await measureBaseline()
  const e: number[] = []
  const b: number[] = []
  for (let i = 0; i < (runsArg ?? SIZE.runs); i++) {
    e.push(await ehcp())
    b.push(await measureBaseline())
  }
  return {ehcpMs: median(e), baselineMs: median(b)}
}

function row(scenario: string, times: {ehcpMs: number; baselineMs: number}, maxRatio: number, note?: string): Row {
  const ratio = times.ehcpMs / times.baselineMs
  const r = {scenario, ...times, ratio, target: `<= ${maxRatio}`, met: ratio <= maxRatio, ...(note ? {note} : {})}
  process.stderr.write(
    `  ${scenario}: ehcp ${times.ehcpMs.toFixed(0)} ms, baseline ${times.baselineMs.toFixed(0)} ms, ratio ${ratio.toFixed(2)}\n`,
  )
  return r
}

/**
 * CPU time (user + system) a child process has used so far, from /proc (Linux; clock ticks of 10 ms): Azurite's
 * own work per request bounds how fast any client can go against it on a small machine.
 */
function cpuMsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}

async function startAzuriteChild(): Promise<{port: number; stop: () => void; cpuMs: () => number}> {
  const main = path.join(root, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js')
  const child = spawn(
    process.execPath,
    [
      main,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.on('exit', (code) => reject(new Error(`azurite exited ${code}: ${out}`)))
  })
  return {port, stop: () => child.kill(), cpuMs: () => cpuMsOf(child.pid)}
}

let workDir = ''

async function seed(container: ContainerClient, names: Iterable<[string, Record<string, string>]>, concurrency = 64): Promise<void> {
  const items = [...names]
  let next = 0
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (next < items.length) {
        const [name, metadata] = items[next++]!
        await container.getBlockBlobClient(name).upload('', 0, {metadata})
      }
    }),
  )
}

function* groupBlobs(
  ns: string,
  hub: string,
  group: string,
  partitions: number,
  sequence: (p: number) => number,
): Generator<[string, Record<string, string>]> {
  for (let p = 0; p < partitions; p++) {
    yield [`${ns}/${hub}/${group}/checkpoint/${p}`, {sequencenumber: String(sequence(p)), offset: offsetOf(sequence(p))}]
    yield [`${ns}/${hub}/${group}/ownership/${p}`, {ownerid: ''}]
  }
}

/** EventProcessorHost (.NET) lease blobs: `count` of them, `perGroup` partitions a consumer group, at the container root. */
async function seedLegacy(
  container: ContainerClient,
  count: number,
  perGroup: number,
  group = (g: number) => `eph-group-${g}`,
): Promise<void> {
  const blobs = Array.from({length: count}, (_, i) => {
    const pid = String(i % perGroup)
    const body = `{"Offset":"${offsetOf(100 + (i % perGroup))}","SequenceNumber":${100 + (i % perGroup)},"PartitionId":"${pid}","Owner":"","Token":"","Epoch":1}`
    return {name: `${group(Math.floor(i / perGroup))}/${pid}`, body}
  })
  for (let i = 0; i < blobs.length; i += 64)
    await Promise.all(blobs.slice(i, i + 64).map((b) => container.getBlockBlobClient(b.name).upload(b.body, Buffer.byteLength(b.body))))
}

/** Event `i` of a partition the bench fills: enqueued `i` seconds into the last minute. */
const lastMinuteEvent = (_: number, i: number) => ({body: i, enqueuedTimeUtc: new Date(Date.now() - 60_000 + i * 1000)})

/** The exporter's rows: G groups of one hub of P partitions each. */
const EXPORTER = quick ? {groups: 4, partitions: 4, collections: [3, 30]} : {groups: 32, partitions: 32, collections: [10, 1000]}

/**
 * 9. One exporter collection (--once) of every group of a hub against one `show --lag` of one of its groups,
 * both through the latency proxies: the exporter reads one listing and the hub's partition properties once,
 * however many groups. 10. The exporter's resident set after many collections against after a few, the
 * collections made back to back in a process of their own.
 */
async function exporterRows(services: {
  open: (name: string) => Promise<{client: ContainerClient; url: string; delayedUrl: string}>
  ehcp: (args: string[], env?: Record<string, string>) => Promise<Timed>
  hubs: EventHubsStandin
  hubsPort: number
}): Promise<Row[]> {
  const {groups: G, partitions: P, collections} = EXPORTER
  const hub = 'exported'
  services.hubs.createHubWithEvents(hub, P, 20, lastMinuteEvent)
  const container = await services.open('exporter-groups')
  const names: Array<[string, Record<string, string>]> = []
  for (let g = 0; g < G; g++) names.push(...groupBlobs('127.0.0.1', hub, `group-${g}`, P, () => 10))
  await seed(container.client, names)
  const delayedHubs = `Endpoint=sb://127.0.0.1:${services.hubsPort};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`
  const env = {EVENTHUBS_CONNECTION_STRING: delayedHubs}
  const collection = row(
    `exporter collection, ${G} groups × ${P} partitions (latency)`,
    await compare(
      async () =>
        (await services.ehcp(['exporter', '--container-url', container.delayedUrl, '--eventhub', hub, '--all', '--once'], env)).ms,
      async () =>
        (
          await services.ehcp(
            ['show', '--container-url', container.delayedUrl, '--eventhub', hub, '--consumer-group', 'group-0', '--lag', '--json'],
            env,
          )
        ).ms,
    ),
    1.5,
    'ehcp show --lag --json of one of the groups',
  )
  const [few, many] = collections as [number, number]
  const soak = await timeProcess([
    '--expose-gc',
    EXPORTER_COLLECTIONS,
    container.url,
    services.hubs.connectionString(),
    hub,
    String(few),
    String(many),
  ])
  const [after, afterMany] = (JSON.parse(soak.stdout) as {at: Array<{rssMiB: number; heapMiB: number}>}).at as [
    {rssMiB: number; heapMiB: number},
    {rssMiB: number; heapMiB: number},
  ]
  const ratio = afterMany.rssMiB / after.rssMiB
  process.stderr.write(
    `  exporter RSS: ${after.rssMiB.toFixed(1)} MiB after ${few} collections, ${afterMany.rssMiB.toFixed(1)} MiB after ${many} ` +
      `(heap ${after.heapMiB.toFixed(1)} -> ${afterMany.heapMiB.toFixed(1)} MiB), ratio ${ratio.toFixed(2)}\n`,
  )
  return [
    collection,
    {
      scenario: `exporter RSS after ${many.toLocaleString('en')} collections vs after ${few}, ${G} groups × ${P} partitions`,
      ehcpMs: afterMany.rssMiB,
      baselineMs: after.rssMiB,
      ratio,
      target: '<= 1.2',
      met: ratio <= 1.2,
      note: 'MiB, not ms',
    },
  ]
}

/**
 * A live rewind (`reset --live`) of 32 partitions under 3 running processors (balanced load balancing, 1 s cycle),
 * ehcp through the latency proxies: the budget is 3 load-balancing intervals per batch of 4 (the default), the
 * time processors need to notice each release and claim the partitions back. Fails loudly unless every partition
 * was rewound and resumed.
 */
async function liveRow(ctx: {
  open: (name: string) => Promise<{client: ContainerClient; delayedUrl: string}>
  ehcp: (args: string[], env?: Record<string, string>) => Promise<Timed>
  hubs: EventHubsStandin
  hubsPort: number
}): Promise<Row> {
  const PARTITIONS = 32
  const INTERVAL_MS = 1000
  const BATCH = 4
  const container = await ctx.open('live')
  ctx.hubs.createHub('live', PARTITIONS, ['ehcp'])
  const producer = startProducer(ctx.hubs, 'live', PARTITIONS, 100)
  const fleet = new Fleet(3, {
    hubs: ctx.hubs,
    hub: 'live',
    consumerGroup: '$Default',
    container: container.client,
    strategy: 'balanced',
    intervalMs: INTERVAL_MS,
  })
  try {
    process.stderr.write('  live: waiting for 3 processors to share 32 partitions...\n')
    await fleet.steady(PARTITIONS, 20, 180_000)
    const hubsDelayed = `Endpoint=sb://127.0.0.1:${ctx.hubsPort};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`
    const times: number[] = []
    for (let i = 0; i < (runsArg ?? (quick ? 1 : 3)); i++) {
      const run = await ctx.ehcp(
        [
          'reset',
          '--container-url',
          container.delayedUrl,
          '--eventhub',
          'live',
          '--consumer-group',
          '$Default',
          '--shift-by',
          '-20',
          '--live',
          '--eventhubs-consumer-group',
          'ehcp',
          '--yes',
          '--json',
          '--no-backup',
        ],
        {EVENTHUBS_CONNECTION_STRING: hubsDelayed},
      )
      const result = JSON.parse(run.stdout) as {partitions: Array<{status: string; live?: {verdict: string}}>}
      const resumed = result.partitions.filter((r) => r.status === 'updated' && r.live?.verdict === 'resumed').length
      if (result.partitions.length !== PARTITIONS || resumed !== PARTITIONS)
        throw new Error(`live rewind: ${resumed} of ${result.partitions.length} partitions resumed\n${run.stdout.slice(0, 3000)}`)
      times.push(run.ms)
    }
    return row(
      `reset --live, ${PARTITIONS} partitions, 3 processors (latency)`,
      {ehcpMs: median(times), baselineMs: (PARTITIONS / BATCH) * INTERVAL_MS},
      3,
      `one load-balancing interval (${INTERVAL_MS / 1000} s) per batch of ${BATCH}`,
    )
  } finally {
    producer.stop()
    await fleet.stop()
  }
}

/**
 * The latency mode (`--latency MS`, and --quick at 25 ms): the small jobs that scripts run once per group, with
 * storage and Event Hubs MS away each way through their own pair of the loopback latency proxies, each against the
 * minimal script a careful user would write for the same answer (bench/minimal/: one client, the requests the answer
 * needs, JSON out), run as a process of its own like ehcp. Target: ehcp in at most 0.9 of its minimal script's time
 * (ratio <= 0.9); `--version` at most 1.5 times `node -e 0`.
 */
async function latencyRows(ctx: {
  open: (name: string) => Promise<{client: ContainerClient; url: string}>
  ehcp: (args: string[], env?: Record<string, string>) => Promise<Timed>
  hubs: EventHubsStandin
  storagePort: number
}): Promise<Row[]> {
  const tag = `(latency ${LATENCY_MS} ms)`
  const storageProxy = await startLatencyProxy({host: '127.0.0.1', port: ctx.storagePort}, LATENCY_MS)
  const hubsProxy = await startLatencyProxy({host: '127.0.0.1', port: ctx.hubs.port}, LATENCY_MS)
  /** A container URL (SAS included) reached through the storage proxy. */
  const far = (url: string) => url.replace(`//127.0.0.1:${ctx.storagePort}/`, `//127.0.0.1:${storageProxy.port}/`)
  /** Connections each side's last run opened to storage and to Event Hubs (printed under each row). */
  const opened: Record<string, string> = {}
  /**
   * Times a run and checks its answer (both sides must find the group, so that neither is timed doing nothing).
   * Runs are one at a time, so the proxies' connection counts around a run are that run's.
   */
  const checked = async <T>(side: string, run: Promise<Timed>, ok: (answer: T) => boolean) => {
    const [storage, hubs] = [storageProxy.connections, hubsProxy.connections]
    const {ms, stdout} = await run
    if (!ok(JSON.parse(stdout) as T)) throw new Error(`latency mode: an unexpected answer\n${stdout.slice(0, 3000)}`)
    opened[side] = `${storageProxy.connections - storage} to storage, ${hubsProxy.connections - hubs} to Event Hubs`
    return ms
  }
  const minimal = <T>(script: string, args: string[], ok: (answer: T) => boolean) =>
    checked('minimal', timeProcess([path.join(MINIMAL, script), ...args]), ok)
  const push = (r: Row) => {
    rows.push(r)
    process.stderr.write(`    connections per run: ehcp ${opened.ehcp}; minimal script ${opened.minimal ?? 'not run'}\n`)
  }
  const group = ['--namespace', NS, '--eventhub', 'orders', '--consumer-group', '$Default']
  const rows: Row[] = []
  try {
    const show = `show --json, 4 partitions, scope in full ${tag}`
    if (selected(show)) {
      const c = await ctx.open('latency-show')
      await seed(
        c.client,
        groupBlobs(NS, 'orders', '$default', 4, (p) => 1000 + p),
      )
      const url = far(c.url)
      push(
        row(
          show,
          await compare(
            () =>
              checked(
                'ehcp',
                ctx.ehcp(['show', '--container-url', url, ...group, '--json']),
                (a: {partitions: unknown[]}) => a.partitions.length === 4,
              ),
            () => minimal('show.mjs', [url, NS, 'orders', '$Default'], (a: {partitions: unknown[]}) => a.partitions.length === 4),
          ),
          0.9,
          'bench/minimal/show.mjs: one flat listing of the prefix',
        ),
      )
    }

    const set = `set --yes --json, 1 of 4 partitions ${tag}`
    if (selected(set)) {
      const c = await ctx.open('latency-set')
      await seed(
        c.client,
        groupBlobs(NS, 'orders', '$default', 4, (p) => 1000 + p),
      )
      const url = far(c.url)
      // Every run, whichever side, moves partition 0 to a new position, so that every run writes.
      let sequenceNumber = 5000
      const position = () => [String(++sequenceNumber), offsetOf(sequenceNumber)] as const
      push(
        row(
          set,
          await compare(
            async () => {
              const [seq, offset] = position()
              const args = ['set', '--container-url', url, ...group, '--partition', '0', '--sequence-number', seq, '--offset', offset]
              return checked(
                'ehcp',
                ctx.ehcp([...args, '--yes', '--json']),
                (a: {partitions: Array<{status: string}>}) => a.partitions.filter((p) => p.status === 'updated').length === 1,
              )
            },
            () =>
              minimal('set.mjs', [url, NS, 'orders', '$Default', '0', ...position()], (a: {partitionId: string}) => a.partitionId === '0'),
          ),
          0.9,
          'bench/minimal/set.mjs: Get Blob Properties + Set Blob Metadata if-match',
        ),
      )
    }

    const list = `list --json, 20 groups × 4 partitions ${tag}`
    if (selected(list)) {
      const c = await ctx.open('latency-list')
      const names: Array<[string, Record<string, string>]> = []
      for (let g = 0; g < 20; g++) names.push(...groupBlobs(NS, `hub-${Math.floor(g / 5)}`, `group-${g % 5}`, 4, (p) => 1000 + p))
      await seed(c.client, names)
      const url = far(c.url)
      push(
        row(
          list,
          await compare(
            () => checked('ehcp', ctx.ehcp(['list', '--container-url', url, '--json']), (a: {groups: unknown[]}) => a.groups.length === 20),
            () => minimal('list.mjs', [url], (a: unknown[]) => a.length === 20),
          ),
          0.9,
          'bench/minimal/list.mjs: one flat listing of the container',
        ),
      )
    }

    const lag = `show --lag --json, 4 partitions, scope in full ${tag}`
    if (selected(lag)) {
      // The hub's endpoint is 127.0.0.1 (the proxy), so the group is stored under that namespace.
      ctx.hubs.createHubWithEvents('latency-lag', 4, 20, lastMinuteEvent)
      const c = await ctx.open('latency-lag')
      await seed(
        c.client,
        groupBlobs('127.0.0.1', 'latency-lag', '$default', 4, () => 10),
      )
      const url = far(c.url)
      const hubsFar = `Endpoint=sb://127.0.0.1:${hubsProxy.port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`
      const scope = ['--namespace', '127.0.0.1', '--eventhub', 'latency-lag', '--consumer-group', '$Default']
      push(
        row(
          lag,
          await compare(
            () =>
              checked(
                'ehcp',
                ctx.ehcp(['show', '--container-url', url, ...scope, '--lag', '--json'], {EVENTHUBS_CONNECTION_STRING: hubsFar}),
                (a: {partitions: Array<{lag?: {events: number; timeLagSeconds: number | null}}>}) =>
                  a.partitions.filter((p) => p.lag?.events === 9 && typeof p.lag.timeLagSeconds === 'number').length === 4,
              ),
            () =>
              minimal(
                'show-lag.mjs',
                [url, hubsFar, '127.0.0.1', 'latency-lag', '$Default'],
                (a: {partitions: Array<{lag: number; timeLagSeconds: number | null}>}) =>
                  a.partitions.every((p) => p.lag === 9 && typeof p.timeLagSeconds === 'number') && a.partitions.length === 4,
              ),
          ),
          0.9,
          'bench/minimal/show-lag.mjs: the listing, 4 getPartitionProperties and 4 next events at once',
        ),
      )
    }

    const version = 'ehcp --version (latency mode)'
    if (selected(version)) {
      rows.push(
        row(
          version,
          await compare(
            async () => (await ctx.ehcp(['--version'])).ms,
            async () => (await timeProcess(['-e', '0'])).ms,
          ),
          1.5,
          'node -e 0',
        ),
      )
    }
  } finally {
    await storageProxy.close()
    await hubsProxy.close()
  }
  return rows
}

async function main() {
  workDir = mkdtempSync(path.join(tmpdir(), 'ehcp-bench-'))
  const started = Date.now()
  const azurite = await startAzuriteChild()
  const hubs = await EventHubsStandin.start()
  const storageProxy = await startLatencyProxy({host: '127.0.0.1', port: azurite.port}, SIZE.latencyMs)
  const hubsProxy = await startLatencyProxy({host: '127.0.0.1', port: hubs.port}, SIZE.latencyMs)
  const rows: Row[] = []
  try {
    const credential = new StorageSharedKeyCredential(EMULATOR_ACCOUNT, EMULATOR_KEY)
    const direct = `http://127.0.0.1:${azurite.port}/${EMULATOR_ACCOUNT}`
    const delayed = `http://127.0.0.1:${storageProxy.port}/${EMULATOR_ACCOUNT}`
    const open = async (name: string) => {
      const c = new ContainerClient(`${direct}/${name}`, credential)
      await c.createIfNotExists()
      const sas = (
        await c.generateSasUrl({permissions: ContainerSASPermissions.parse('racwdl'), expiresOn: new Date(Date.now() + 6 * 3_600_000)})
      ).split('?')[1]
      return {client: c, url: `${direct}/${name}?${sas}`, delayedUrl: `${delayed}/${name}?${sas}`}
    }
    const ehcp = (args: string[], env: Record<string, string> = {}, rss = false) => timeProcess([BIN, ...args], env, rss)
    const baseline = (args: string[]) => timeProcess([BASELINES, ...args])

    process.stderr.write(`Seeding (${quick ? 'quick' : 'full'} sizes)...\n`)
    const P = SIZE.partitions
    const big = await open('big-group')
    if (!latencyMode)
      await seed(
        big.client,
        groupBlobs(NS, 'orders', '$default', P, (p) => 1000 + p),
      )
    const small = await open('small-group')
    if (!latencyMode)
      await seed(
        small.client,
        groupBlobs(NS, 'orders', '$default', 4, (p) => 1000 + p),
      )
    const many = async (name: string, blobs: number) => {
      const c = await open(name)
      const perGroup = 100 // 50 partitions, checkpoint + ownership
      const names: Array<[string, Record<string, string>]> = []
      for (let g = 0; g < blobs / perGroup; g++)
        names.push(...groupBlobs(NS, `hub-${Math.floor(g / 20)}`, `group-${g % 20}`, perGroup / 2, (p) => p))
      await seed(c.client, names)
      return c
    }
    const wantList = want('list')
    const list5k = wantList ? await many('list-small', SIZE.listBlobsSmall) : undefined
    const list50k = wantList ? await many('list-large', SIZE.listBlobs) : undefined
    // The same number of blobs, half of them EventProcessorHost lease blobs (50 partitions a group, JSON bodies).
    const mixed = async (name: string, blobs: number) => {
      const c = await open(name)
      const names: Array<[string, Record<string, string>]> = []
      for (let g = 0; g < blobs / 2 / 100; g++) names.push(...groupBlobs(NS, `hub-${Math.floor(g / 20)}`, `group-${g % 20}`, 50, (p) => p))
      await seed(c.client, names)
      await seedLegacy(c.client, blobs / 2, 50)
      return c
    }
    const listMixed = wantList ? await mixed('list-mixed', SIZE.listBlobs) : undefined
    // A legacy EventProcessorHost group of P partitions, migrated into a fresh container each run.
    const wantMigrate = want('migrate')
    const legacySource = wantMigrate ? await open('legacy-source') : undefined
    if (legacySource) await seedLegacy(legacySource.client, P, P, () => '$Default')
    // Its event hub, reached as the namespace the checkpoints name, through the latency proxy: migrate checks each
    // position against the partition's retained range.
    if (wantMigrate) {
      hubs.createHubWithEvents('orders', P, 200)
    }
    // Event Hubs: a hub of P partitions, each 20 events; the group checkpointed event 10 everywhere (lag 9).
    if (!latencyMode) hubs.createHubWithEvents('lagging', P, 20, lastMinuteEvent)
    const lag = await open('lag-group')
    if (!latencyMode)
      await seed(
        lag.client,
        groupBlobs('127.0.0.1', 'lagging', '$default', P, () => 10),
      )
    process.stderr.write(`Seeded in ${((Date.now() - started) / 1000).toFixed(0)} s. Measuring...\n`)

    const scope = ['--namespace', NS, '--eventhub', 'orders', '--json']
    const prefix = `${NS}/orders/$default/`
    if (want('show --json,')) {
      // 1. show --json, one group of P partitions (checkpoint + ownership each)
      rows.push(
        row(
          `show --json, ${P} partitions`,
          await compare(
            async () => (await ehcp(['show', '--container-url', big.url, ...scope])).ms,
            async () => (await baseline(['list-prefix', big.url, prefix])).ms,
          ),
          1.5,
        ),
      )
    }

    if (want('library')) {
      // 2. the same, library level (no process start)
      const opened = await openContainer(resolveStorageTarget({containerUrl: big.url}, {}), {timeoutMs: 30_000, maxTries: 3})
      const ours = new CheckpointStore(opened.name, opened.client, {ownershipExpiryMs: 120_000, timeoutMs: 30_000})
      const official = new BlobCheckpointStore(new ContainerClient(big.url))
      const inProcess = async (fn: () => Promise<unknown>) => {
        const t = performance.now()
        await fn()
        return performance.now() - t
      }
      rows.push(
        row(
          `show, library level, ${P} partitions`,
          await compare(
            () => inProcess(async () => readGroup(ours, await resolveGroup(ours, {namespace: NS, eventHub: 'orders'}))),
            () =>
              inProcess(async () => [
                await official.listCheckpoints(NS, 'orders', '$Default'),
                await official.listOwnership(NS, 'orders', '$Default'),
              ]),
          ),
          0.75,
          'official: listCheckpoints + listOwnership',
        ),
      )
    }

    if (want('list')) {
      // 3. list --json over a large container; peak RSS against a container a tenth the size
      const rss: number[] = []
      const listed = await compare(
        async () => {
          const r = await ehcp(['list', '--container-url', list50k!.url, '--json'], {}, true)
          rss.push(r.rssKiB)
          return r.ms
        },
        async () => (await baseline(['list-prefix', list50k!.url, ''])).ms,
      )
      const smallRss = median(
        await Promise.all([0, 1, 2].map(async () => (await ehcp(['list', '--container-url', list5k!.url, '--json'], {}, true)).rssKiB)),
      )
      const rssRatio = median(rss) / smallRss
      rows.push(row(`list --json, ${SIZE.listBlobs} blobs`, listed, 1.2))
      rows.push({
        scenario: `list peak RSS, ${SIZE.listBlobs} vs ${SIZE.listBlobsSmall} blobs`,
        ehcpMs: median(rss) / 1024,
        baselineMs: smallRss / 1024,
        ratio: rssRatio,
        target: '<= 1.5',
        met: rssRatio <= 1.5,
        note: 'MiB, not ms',
      })
    }

    if (want('reset')) {
      // 4-5. reset --from-file on P partitions: alternate between two position files so every run changes all P.
      const positions = (base: number) => ({
        schemaVersion: 1,
        namespace: NS,
        eventHub: 'orders',
        consumerGroup: '$default',
        partitions: Array.from({length: P}, (_, p) => ({
          partitionId: String(p),
          checkpoint: {sequenceNumber: base + p, offset: offsetOf(base + p)},
        })),
      })
      mkdirSync(workDir, {recursive: true})
      const files = [5000, 9000].map((base) => {
        const file = path.join(workDir, `positions-${base}.json`)
        writeFileSync(file, JSON.stringify(positions(base)))
        return file
      })
      let turn = 0
      const nextFile = () => files[turn++ % 2]!
      const resetRun = (url: string) => async () =>
        (
          await ehcp([
            'reset',
            '--container-url',
            url,
            '--namespace',
            NS,
            '--eventhub',
            'orders',
            '--from-file',
            nextFile(),
            '--yes',
            '--json',
          ])
        ).ms
      rows.push(
        row(
          `reset --from-file --yes, ${P} partitions (latency)`,
          await compare(
            resetRun(big.delayedUrl),
            async () => (await baseline(['update-checkpoints', big.delayedUrl, NS, 'orders', '$Default', nextFile()])).ms,
          ),
          0.1,
          'official updateCheckpoint per partition in turn',
        ),
      )
      let seq = 0
      rows.push(
        row(
          `reset --from-file --yes, ${P} partitions`,
          await compare(
            resetRun(big.url),
            async () =>
              (await baseline(['set-metadata', big.url, `${NS}/orders/$default/checkpoint/`, String(P), '32', String(7000 + seq++)])).ms,
          ),
          1.3,
          'raw setMetadata at concurrency 32',
        ),
      )
    }

    if (wantList) {
      // 3b. list --json over a container of the same size where half the blobs are legacy lease blobs
      rows.push(
        row(
          `list --json, ${SIZE.listBlobs} blobs, half legacy`,
          await compare(
            async () => (await ehcp(['list', '--container-url', listMixed!.url, '--json'])).ms,
            async () => (await ehcp(['list', '--container-url', list50k!.url, '--json'])).ms,
          ),
          1.2,
          'ehcp list of a modern-only container of the same size',
        ),
      )
    }

    if (wantMigrate) {
      // 3c. migrate of P partitions (latency): every run creates P checkpoints in a container of its own.
      const account = `DefaultEndpointsProtocol=http;AccountName=${EMULATOR_ACCOUNT};AccountKey=${EMULATOR_KEY};BlobEndpoint=${delayed}`
      let run = 0
      const positionsFile = path.join(workDir, 'migrate-positions.json')
      writeFileSync(
        positionsFile,
        JSON.stringify({
          schemaVersion: 1,
          namespace: NS,
          eventHub: 'orders',
          consumerGroup: '$default',
          partitions: Array.from({length: P}, (_, p) => ({
            partitionId: String(p),
            checkpoint: {sequenceNumber: 100 + p, offset: offsetOf(100 + p)},
          })),
        }),
      )
      const emulatorCpu: number[] = []
      const migrateRow = row(
        `migrate --yes, ${P} partitions (latency)`,
        await compare(
          async () => {
            const target = `migrated-${run++}`
            await (await open(target)).client.exists()
            const cpuBefore = azurite.cpuMs()
            const ms = (
              await ehcp(
                [
                  'migrate',
                  '--connection-string',
                  account,
                  '--container',
                  'legacy-source',
                  '--to-container',
                  target,
                  '--layout',
                  'eph',
                  '--consumer-group',
                  '$Default',
                  '--namespace',
                  NS,
                  '--eventhub',
                  'orders',
                  '--yes',
                  '--no-backup',
                  '--json',
                ],
                {
                  EVENTHUBS_CONNECTION_STRING: `Endpoint=sb://${NS};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`,
                  EHCP_EVENTHUBS_ENDPOINT: `sb://127.0.0.1:${hubsProxy.port}`,
                },
              )
            ).ms
            emulatorCpu.push(azurite.cpuMs() - cpuBefore)
            return ms
          },
          async () => (await baseline(['update-checkpoints', big.delayedUrl, NS, 'orders', '$Default', positionsFile])).ms,
        ),
        0.1,
        'official updateCheckpoint per partition in turn',
      )
      // Azurite serves ~2,050 requests per run on one core: its CPU time is a floor no client can go under here.
      migrateRow.emulatorCpuMs = median(emulatorCpu)
      migrateRow.emulatorFloor = migrateRow.emulatorCpuMs / migrateRow.baselineMs
      process.stderr.write(
        `    Azurite's own CPU per ehcp run: ${migrateRow.emulatorCpuMs.toFixed(0)} ms (${migrateRow.emulatorFloor.toFixed(3)} of the baseline)\n`,
      )
      rows.push(migrateRow)
    }

    if (want('lag')) {
      // 6. show --lag --json, P partitions (latency on storage and Event Hubs)
      const hubsDelayed = `Endpoint=sb://127.0.0.1:${hubsProxy.port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`
      rows.push(
        row(
          `show --lag --json, ${P} partitions (latency)`,
          await compare(
            async () =>
              (
                await ehcp(['show', '--container-url', lag.delayedUrl, '--eventhub', 'lagging', '--lag', '--json'], {
                  EVENTHUBS_CONNECTION_STRING: hubsDelayed,
                })
              ).ms,
            async () => (await baseline(['partition-properties', `${hubsDelayed};EntityPath=lagging`, 'lagging'])).ms,
          ),
          0.1,
          'getPartitionProperties per partition in turn',
        ),
      )
    }

    if (want('live')) rows.push(await liveRow({open, ehcp, hubs, hubsPort: hubsProxy.port}))

    if (want('exporter')) rows.push(...(await exporterRows({open, ehcp, hubs, hubsPort: hubsProxy.port})))

    if (want('ehcp --')) {
      // 7. start-up: --help and --version against `node -e 0`
      const bare = async () => (await timeProcess(['-e', '0'])).ms
      rows.push(row('ehcp --help', await compare(async () => (await ehcp(['--help'])).ms, bare), 4, 'node -e 0'))
      rows.push(row('ehcp --version', await compare(async () => (await ehcp(['--version'])).ms, bare), 4, 'node -e 0'))
    }

    if (want('4 partitions')) {
      // 8. a small job: start-up must not swamp it
      rows.push(
        row(
          'show --json, 4 partitions',
          await compare(
            async () => (await ehcp(['show', '--container-url', small.url, ...scope])).ms,
            async () => (await baseline(['list-prefix', small.url, prefix])).ms,
          ),
          1.3,
        ),
      )
    }

    if (latencyMode || quick) rows.push(...(await latencyRows({open, ehcp, hubs, storagePort: azurite.port})))
  } finally {
    await storageProxy.close()
    await hubsProxy.close()
    await hubs.stop()
    azurite.stop()
  }

  const table = [
    ['scenario', 'ehcp', 'baseline', 'ratio', 'target', 'met?'],
    ...rows.map((r) => [
      r.scenario,
      r.note === 'MiB, not ms' ? `${r.ehcpMs.toFixed(1)} MiB` : `${r.ehcpMs.toFixed(0)} ms`,
      r.note === 'MiB, not ms' ? `${r.baselineMs.toFixed(1)} MiB` : `${r.baselineMs.toFixed(0)} ms`,
      r.ratio.toFixed(2),
      r.target,
      r.met ? 'yes' : 'NO',
    ]),
  ]
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)))
  process.stdout.write(
    `\n${table
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n')}\n`,
  )
  const results = {
    createdAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    node: process.version,
    latencyMsEachWay: SIZE.latencyMs,
    ...(latencyMode || quick ? {latencyModeMsEachWay: LATENCY_MS} : {}),
    runs: runsArg ?? SIZE.runs,
    rows: rows.map((r) => ({...r, baselineNote: r.note})),
  }
  writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
  process.stdout.write(
    `\nWrote bench/results.json (${rows.filter((r) => r.met).length} of ${rows.length} targets met, ${((Date.now() - started) / 1000).toFixed(0)} s).\n`,
  )
}

await main()
process.exit(0)
