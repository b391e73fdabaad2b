/**
 * The exporter's metrics: their names (the contract a dashboard is written against), their help, and the
 * exposition built from one collection. prom-client is loaded only by the exporter (loadPromClient), into a
 * registry of its own: nothing else in ehcp pays for it, and nothing registered elsewhere leaks in.
 */
import type * as PromClient from 'prom-client'

import {STATUS_CODE} from '../watch/burrow.js'
import type {SampledGroup} from '../watch/sampler.js'
import {evaluateTrack, type GroupTrack, groupKey, type PartitionTrack, timeLag, type Tracker} from '../watch/tracker.js'

export type Prom = typeof PromClient

/** prom-client, imported on first use (the exporter's path only). */
export const loadPromClient = (): Promise<Prom> => import('prom-client')

const PARTITION_LABELS = ['namespace', 'eventhub', 'consumer_group', 'partition'] as const
const GROUP_LABELS = ['namespace', 'eventhub', 'consumer_group'] as const

const statusCodes = Object.entries(STATUS_CODE)
  .map(([status, code]) => `${code} ${status}`)
  .join(', ')

/** Per partition, labelled namespace, eventhub, consumer_group, partition. */
const PARTITION_GAUGES = {
  lagEvents: {
    name: 'ehcp_partition_lag_events',
    help: 'Events not yet processed: last enqueued sequence number minus the checkpoint; without a checkpoint, the events retained.',
  },
  lagSeconds: {
    name: 'ehcp_partition_lag_seconds',
    help: 'Seconds behind: 0 when caught up, else the lag in events over the arrival rate seen across collections; absent when unknown.',
  },
  checkpointSequence: {
    name: 'ehcp_partition_checkpoint_sequence_number',
    help: 'Sequence number of the checkpoint; absent when the partition has none.',
  },
  lastEnqueuedSequence: {
    name: 'ehcp_partition_last_enqueued_sequence_number',
    help: 'Sequence number of the newest event in the partition (-1 when it never held one).',
  },
  owned: {name: 'ehcp_partition_owned', help: "1 while an owner's claim on the partition is active, else 0."},
} as const

/** Per consumer group, labelled namespace, eventhub, consumer_group. */
const GROUP_GAUGES = {
  lagEvents: {name: 'ehcp_group_lag_events', help: 'Sum of ehcp_partition_lag_events over the partitions of the group.'},
  maxLagEvents: {name: 'ehcp_group_max_lag_events', help: 'Largest ehcp_partition_lag_events of the group.'},
  maxLagSeconds: {name: 'ehcp_group_max_lag_seconds', help: 'Largest ehcp_partition_lag_seconds of the group; absent when none is known.'},
  status: {
    name: 'ehcp_group_status',
    help: `Burrow's status of the group over the last collections: ${statusCodes} (ERR: its event hub could not be read); absent after its first collection.`,
  },
  partitions: {name: 'ehcp_group_partitions', help: 'Partitions of the event hub, as the group sees them.'},
} as const

/** The exporter's own health, without labels. */
const HEALTH = {
  duration: {name: 'ehcp_collection_duration_seconds', help: 'Seconds the last collection took, whether it succeeded or failed.'},
  collections: {name: 'ehcp_collections_total', help: 'Collections attempted, failed ones included.'},
  errors: {
    name: 'ehcp_collection_errors_total',
    help: 'Collections that failed (storage or an event hub unreachable, timed out or refused).',
  },
  lastSuccess: {
    name: 'ehcp_last_success_timestamp_seconds',
    help: 'Unix time the last successful collection started; 0 until one succeeds.',
  },
} as const

/** Every metric the exporter exposes (a dashboard queries these names). */
export const METRIC_NAMES: readonly string[] = [PARTITION_GAUGES, GROUP_GAUGES, HEALTH].flatMap((set) =>
  Object.values(set).map((m) => m.name),
)

type PartitionLabel = (typeof PARTITION_LABELS)[number]
type GroupLabel = (typeof GROUP_LABELS)[number]

/** The time lag: read (0 when caught up), else estimated from the lag and the arrival rate; null when unknown. */
export function timeLagSeconds(track: PartitionTrack | undefined, read: number | null | undefined): number | null {
  if (read !== null && read !== undefined) return read
  return track ? (timeLag(track)?.seconds ?? null) : null
}

/** The lag in events a partition is exported with: the events behind, or all retained without a checkpoint. */
export function lagEvents(p: SampledGroup['partitions'][number]): number | null {
  const lag = p.lag
  if (!lag) return null
  if (lag.events !== null) return lag.events
  return lag.state === 'no-checkpoint' ? lag.retainedEvents : null
}

export class ExporterMetrics {
  readonly registry: PromClient.Registry
  private readonly partition: Record<keyof typeof PARTITION_GAUGES, PromClient.Gauge<PartitionLabel>>
  private readonly group: Record<keyof typeof GROUP_GAUGES, PromClient.Gauge<GroupLabel>>
  private readonly duration: PromClient.Gauge
  private readonly lastSuccess: PromClient.Gauge
  private readonly collections: PromClient.Counter
  private readonly errors: PromClient.Counter

  constructor(prom: Prom) {
    const registry = new prom.Registry()
    this.registry = registry
    const gauges = <K extends string, L extends string>(set: Record<K, {name: string; help: string}>, labelNames: readonly L[]) =>
      Object.fromEntries(
        Object.entries<{name: string; help: string}>(set).map(([key, m]) => [
          key,
          new prom.Gauge<L>({name: m.name, help: m.help, labelNames, registers: [registry]}),
        ]),
      ) as Record<K, PromClient.Gauge<L>>
    this.partition = gauges(PARTITION_GAUGES, PARTITION_LABELS)
    this.group = gauges(GROUP_GAUGES, GROUP_LABELS)
    this.duration = new prom.Gauge({...HEALTH.duration, registers: [registry]})
    this.lastSuccess = new prom.Gauge({...HEALTH.lastSuccess, registers: [registry]})
    this.collections = new prom.Counter({...HEALTH.collections, registers: [registry]})
    this.errors = new prom.Counter({...HEALTH.errors, registers: [registry]})
  }

  /**
   * A complete collection: every group's series replaced by this collection's (the series of a group, or
   * a partition, that is gone disappear), each group judged by Burrow's rules over the tracker's window.
   */
  collected(groups: SampledGroup[], tracker: Tracker, options: {allowedLag: number; startedAt: number; durationSeconds: number}): void {
    for (const gauge of [...Object.values(this.partition), ...Object.values(this.group)]) gauge.reset()
    for (const g of groups) this.setGroup(g, tracker.group(groupKey(g)), tracker.samples, options.allowedLag)
    this.collections.inc()
    this.duration.set(options.durationSeconds)
    this.lastSuccess.set(options.startedAt / 1000)
  }

  /** A failed collection: counted; the last complete collection's series stay as they were. */
  failed(durationSeconds: number): void {
    this.collections.inc()
    this.errors.inc()
    this.duration.set(durationSeconds)
  }

  /** The exposition (Prometheus text format). */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private setGroup(g: SampledGroup, track: GroupTrack | undefined, samples: number, allowedLag: number): void {
    const labels = {namespace: g.namespace, eventhub: g.eventHub, consumer_group: g.consumerGroup}
    const lags: number[] = []
    const times: number[] = []
    for (const p of g.partitions) {
      const at = {...labels, partition: p.partitionId}
      const pt = track?.partitions.find((t) => t.partitionId.toLowerCase() === p.partitionId.toLowerCase())
      const events = lagEvents(p)
      if (events !== null) {
        this.partition.lagEvents.set(at, events)
        lags.push(events)
      }
      const seconds = p.lag ? timeLagSeconds(pt, p.lag.timeLagSeconds) : null
      if (seconds !== null) {
        this.partition.lagSeconds.set(at, seconds)
        times.push(seconds)
      }
      const sequence = p.checkpoint?.sequenceNumber ?? null
      if (sequence !== null) this.partition.checkpointSequence.set(at, sequence)
      const head = p.lag?.lastEnqueuedSequenceNumber ?? null
      if (head !== null) this.partition.lastEnqueuedSequence.set(at, head)
      this.partition.owned.set(at, p.ownership?.state === 'active' ? 1 : 0)
    }
    if (g.reason === undefined) {
      this.group.lagEvents.set(
        labels,
        lags.reduce((a, b) => a + b, 0),
      )
      this.group.maxLagEvents.set(labels, lags.length ? Math.max(...lags) : 0)
      if (times.length) this.group.maxLagSeconds.set(labels, Math.max(...times))
    }
    // One collection says nothing about movement (status takes at least two samples too): no status until a second.
    if (g.reason !== undefined) this.group.status.set(labels, STATUS_CODE.ERR)
    else if (track && track.rounds >= 2) this.group.status.set(labels, STATUS_CODE[evaluateTrack(track, {samples, allowedLag}).status])
    this.group.partitions.set(labels, g.partitions.length)
  }
}
