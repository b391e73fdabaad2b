import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {EhcpError, unreachableError} from '../../src/errors.js'
import {Collector, type Reading} from '../../src/exporter/collector.js'
import {ExporterMetrics, loadPromClient, METRIC_NAMES} from '../../src/exporter/metrics.js'
import {STATUS_CODE} from '../../src/watch/burrow.js'
import type {SampledGroup} from '../../src/watch/sampler.js'

const T0 = Date.parse('2026-12-01T12:00:00Z')
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url))

type Partition = SampledGroup['partitions'][number]

/** A partition as a round reads it: checkpointed at `seq` (written at second `written`), `head` the newest event. */
function partition(id: string, seq: number | null, written: number, head: number, owner?: 'active' | 'expired'): Partition {
  return {
    partitionId: id,
    checkpoint:
      seq === null
        ? null
        : {
            sequenceNumber: seq,
            offset: String(seq * 10),
            etag: `"${id}-${written}"`,
            lastModified: new Date(T0 + written * 1000).toISOString(),
            blobName: `ns/hub/cg/checkpoint/${id}`,
            metadata: {},
          },
    ownership: owner
      ? {ownerId: 'worker', state: owner, lastModified: new Date(T0).toISOString(), etag: '"o"', blobName: 'o', metadata: {}}
      : null,
    problems: [],
    lag: {
      events: seq === null ? null : head - seq,
      state: seq === null ? 'no-checkpoint' : 'ok',
      beginningSequenceNumber: 0,
      lastEnqueuedSequenceNumber: head,
      lastEnqueuedTime: new Date(T0).toISOString(),
      nextEventTime: null,
      timeLagSeconds: seq === head ? 0 : null,
      retainedEvents: head + 1,
    },
  }
}

/** The partition of a group whose event hub could not be read: no lag. */
const unread = ({lag: _lag, ...rest}: Partition): Partition => rest

function group(n: number, consumerGroup: string, partitions: Partition[], reason?: string): SampledGroup {
  const at = new Date(T0 + n * 5000).toISOString()
  return {
    schemaVersion: 1,
    namespace: 'ns.servicebus.windows.net',
    eventHub: 'orders',
    consumerGroup,
    observedAt: at,
    ownershipExpirySeconds: 120,
    partitions,
    problems: [],
    round: n,
    at,
    ...(reason ? {reason} : {}),
  }
}

/** The samples of an exposition: `name{labels}` → value; and every line that is not a comment. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (!m) throw new Error(`not a sample line: ${line}`)
    out.set(m[1]!, Number(m[2]))
  }
  return out
}

const labels = (cg: string, p?: string) =>
  `{namespace="ns.servicebus.windows.net",eventhub="orders",consumer_group="${cg}"${p === undefined ? '' : `,partition="${p}"`}}`

/** A collector over scripted readings, one per collection, on a clock that moves 5 s a collection. */
async function scripted(readings: Array<Reading | Error>, options: {samples?: number} = {}) {
  let i = 0
  let clock = T0
  const collector = new Collector({
    read: async () => {
      const next = readings[i++]
      if (!next) throw new Error('no more readings scripted')
      if (next instanceof Error) throw next
      return next
    },
    metrics: new ExporterMetrics(await loadPromClient()),
    samples: options.samples ?? 3,
    allowedLag: 0,
    now: () => (clock += 2500),
  })
  await collector.start()
  return {
    collector,
    collect: async () => {
      const error = await collector.collect(new AbortController().signal)
      return {error, text: collector.exposition.text, values: samples(collector.exposition.text)}
    },
  }
}

const ok = (groups: SampledGroup[]): Reading => ({groups, hubErrors: []})

describe('exporter metrics', () => {
  it('names: the fourteen the dashboard queries, snake_case with unit suffixes, each with HELP and TYPE', async () => {
    expect(METRIC_NAMES).to.deep.equal([
      'ehcp_partition_lag_events',
      'ehcp_partition_lag_seconds',
      'ehcp_partition_checkpoint_sequence_number',
      'ehcp_partition_last_enqueued_sequence_number',
      'ehcp_partition_owned',
      'ehcp_group_lag_events',
      'ehcp_group_max_lag_events',
      'ehcp_group_max_lag_seconds',
      'ehcp_group_status',
      'ehcp_group_partitions',
      'ehcp_collection_duration_seconds',
      'ehcp_collections_total',
      'ehcp_collection_errors_total',
      'ehcp_last_success_timestamp_seconds',
    ])
    const {text} = (await scripted([])).collector.exposition
    for (const name of METRIC_NAMES) {
      expect(text, name).to.match(new RegExp(`^# HELP ${name} \\S.+$`, 'm'))
      const type = name.endsWith('_total') ? 'counter' : 'gauge'
      expect(text, name).to.match(new RegExp(`^# TYPE ${name} ${type}$`, 'm'))
    }
  })

  it('a collection: every partition and group with its labels and values; no status after one collection; no NaN', async () => {
    const s = await scripted([
      ok([
        group(1, '$default', [partition('0', 100, 5, 150, 'active'), partition('1', 40, 5, 40, 'expired'), partition('2', null, 0, 29)]),
        group(1, 'billing', [partition('0', 150, 5, 150)]),
      ]),
    ])
    const {error, text, values} = await s.collect()
    expect(error).to.equal(undefined)
    expect(text).not.to.match(/NaN|Inf/)
    const expected: Record<string, number> = {
      [`ehcp_partition_lag_events${labels('$default', '0')}`]: 50,
      [`ehcp_partition_lag_events${labels('$default', '1')}`]: 0,
      // No checkpoint: every retained event is behind (show --lag's retainedEvents).
      [`ehcp_partition_lag_events${labels('$default', '2')}`]: 30,
      [`ehcp_partition_checkpoint_sequence_number${labels('$default', '0')}`]: 100,
      [`ehcp_partition_checkpoint_sequence_number${labels('$default', '1')}`]: 40,
      [`ehcp_partition_last_enqueued_sequence_number${labels('$default', '2')}`]: 29,
      [`ehcp_partition_owned${labels('$default', '0')}`]: 1,
      [`ehcp_partition_owned${labels('$default', '1')}`]: 0,
      [`ehcp_partition_owned${labels('$default', '2')}`]: 0,
      // Caught up: 0 s behind; the others are unknown until an arrival rate is seen.
      [`ehcp_partition_lag_seconds${labels('$default', '1')}`]: 0,
      [`ehcp_group_lag_events${labels('$default')}`]: 80,
      [`ehcp_group_max_lag_events${labels('$default')}`]: 50,
      [`ehcp_group_max_lag_seconds${labels('$default')}`]: 0,
      [`ehcp_group_partitions${labels('$default')}`]: 3,
      [`ehcp_group_lag_events${labels('billing')}`]: 0,
      ehcp_collections_total: 1,
      ehcp_collection_errors_total: 0,
      ehcp_collection_duration_seconds: 2.5,
      ehcp_last_success_timestamp_seconds: (T0 + 2500) / 1000,
    }
    for (const [key, value] of Object.entries(expected)) expect(values.get(key), key).to.equal(value)
    expect(values.has(`ehcp_partition_checkpoint_sequence_number${labels('$default', '2')}`)).to.equal(false)
    expect(values.has(`ehcp_partition_lag_seconds${labels('$default', '0')}`)).to.equal(false)
    expect([...values.keys()].filter((k) => k.startsWith('ehcp_group_status'))).to.deep.equal([])
  })

  it("Burrow's status over the collections: OK, STALL; the lag in seconds from the arrival rate", async () => {
    const readings = [1, 2, 3].map((n) =>
      ok([
        // Moves and gains: OK. Rewrites one position while 10 events arrive per collection: STALL.
        group(n, 'moving', [partition('0', 100 + 20 * n, n * 5, 150 + 5 * n)]),
        group(n, 'stuck', [partition('0', 100, n * 5, 100 + 10 * n)]),
      ]),
    )
    const s = await scripted(readings)
    await s.collect()
    const second = (await s.collect()).values
    expect(second.get(`ehcp_group_status${labels('moving')}`)).to.equal(STATUS_CODE.OK)
    const {values} = await s.collect()
    expect(values.get(`ehcp_group_status${labels('moving')}`)).to.equal(1)
    expect(values.get(`ehcp_group_status${labels('stuck')}`)).to.equal(5)
    // 30 events behind, 10 arriving per 5 s: 15 s.
    expect(values.get(`ehcp_partition_lag_seconds${labels('stuck', '0')}`)).to.equal(15)
    expect(values.get(`ehcp_group_max_lag_seconds${labels('stuck')}`)).to.equal(15)
  })

  it('a group (or partition) gone is removed at the next collection; counters only grow', async () => {
    const s = await scripted([
      ok([group(1, 'a', [partition('0', 1, 1, 5), partition('1', 1, 1, 5)]), group(1, 'b', [partition('0', 1, 1, 5)])]),
      ok([group(2, 'a', [partition('0', 2, 2, 5)])]),
    ])
    const first = (await s.collect()).values
    expect(first.has(`ehcp_group_lag_events${labels('b')}`)).to.equal(true)
    expect(first.has(`ehcp_partition_owned${labels('a', '1')}`)).to.equal(true)
    const {values, text} = await s.collect()
    expect([...values.keys()].filter((k) => k.includes('consumer_group="b"'))).to.deep.equal([])
    expect(text).not.to.include('partition="1"')
    expect(values.get(`ehcp_partition_lag_events${labels('a', '0')}`)).to.equal(3)
    expect(values.get('ehcp_collections_total')).to.equal(2)
  })

  it('a failed collection: errors counted, the last complete collection still served, last success unchanged', async () => {
    const s = await scripted([
      ok([group(1, 'a', [partition('0', 1, 1, 5)])]),
      unreachableError('Storage did not answer within 2s.'),
      // An event hub that failed: the collection is not complete.
      {groups: [group(3, 'a', [partition('0', 1, 1, 9)], 'hub down')], hubErrors: [unreachableError('hub down')]},
      // A hub error the reading does not count (one --all does not cover) is no failure: its group is ERR, without lag.
      ok([group(4, 'a', [partition('0', 1, 1, 9)]), group(4, 'other', [unread(partition('0', 7, 1, 9))], 'not covered')]),
    ])
    const first = (await s.collect()).values
    const lastSuccess = first.get('ehcp_last_success_timestamp_seconds')
    expect(lastSuccess).to.be.greaterThan(0)
    for (const expectedErrors of [1, 2]) {
      const {error, values} = await s.collect()
      expect(error).to.be.instanceOf(EhcpError)
      expect(values.get('ehcp_collection_errors_total')).to.equal(expectedErrors)
      expect(values.get('ehcp_collections_total')).to.equal(expectedErrors + 1)
      expect(values.get('ehcp_last_success_timestamp_seconds')).to.equal(lastSuccess)
      expect(values.get(`ehcp_partition_lag_events${labels('a', '0')}`)).to.equal(4)
    }
    expect(s.collector.health).to.include({collections: 3, errors: 2, lastError: 'hub down'})
    const {error, values} = await s.collect()
    expect(error).to.equal(undefined)
    expect(values.get('ehcp_collection_errors_total')).to.equal(2)
    expect(values.get('ehcp_last_success_timestamp_seconds')).to.be.greaterThan(lastSuccess!)
    expect(values.get(`ehcp_partition_lag_events${labels('a', '0')}`)).to.equal(8)
    expect(values.get(`ehcp_group_status${labels('other')}`)).to.equal(STATUS_CODE.ERR)
    expect(values.get(`ehcp_partition_checkpoint_sequence_number${labels('other', '0')}`)).to.equal(7)
    expect(values.has(`ehcp_group_lag_events${labels('other')}`)).to.equal(false)
    expect(values.has(`ehcp_partition_lag_events${labels('other', '0')}`)).to.equal(false)
  })

  it('prom-client is loaded lazily: only src/exporter/metrics.ts names it, as a type and in a dynamic import', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    const naming = files(SRC).filter((f) => readFileSync(f, 'utf8').includes('prom-client'))
    expect(naming.map((f) => path.relative(SRC, f))).to.deep.equal([path.join('exporter', 'metrics.ts')])
    const text = readFileSync(path.join(SRC, 'exporter', 'metrics.ts'), 'utf8')
    const mentions = text.split('\n').filter((l) => l.includes("'prom-client'"))
    expect(mentions).to.have.length(2)
    expect(mentions.every((l) => l.startsWith('import type ') || l.includes("import('prom-client')"))).to.equal(true)
  })
})
