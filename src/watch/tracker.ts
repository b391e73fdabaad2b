/**
 * Lag over time: fed one round at a time (a round is what `show --lag --json` prints for a group, plus
 * `round` and `at`), it records a commit per partition whenever the checkpoint changed (ETag,
 * Last-Modified or sequence number), keeps the last `samples` commits and heads, and gives per partition
 * the window Burrow judges, the lag series since the first round, the checkpoint rate and an estimated
 * time to catch up. Pure: no clock, no I/O.
 */
import {type Commit, evaluateGroup, evaluatePartition, type GroupVerdict, type PartitionStatus, type PartitionWindow} from './burrow.js'

/** The part of a `show --lag --json` partition a round needs. */
export interface RoundPartition {
  partitionId: string
  checkpoint: {sequenceNumber: number | null; lastModified: string; etag: string} | null
  ownership: {ownerId: string | null; state: string} | null
  lag?: {
    events: number | null
    state: string
    lastEnqueuedSequenceNumber: number | null
    timeLagSeconds: number | null
  }
}

/** One group read once: `show --lag --json`'s document plus the round number and when it was read (ISO). */
export interface GroupRound {
  round: number
  at: string
  namespace?: string | null
  eventHub?: string | null
  consumerGroup?: string | null
  /** The storage service's clock when the listing was answered. */
  observedAt?: string
  partitions: RoundPartition[]
}

/** How a group is named in the tracker (lower-cased namespace/eventhub/consumer group). */
export function groupKey(g: Pick<GroupRound, 'namespace' | 'eventHub' | 'consumerGroup'>): string {
  return `${g.namespace ?? ''}/${g.eventHub ?? ''}/${g.consumerGroup ?? ''}`.toLowerCase()
}

export interface Head {
  sequenceNumber: number
  /** ms since the epoch */
  at: number
}

export interface PartitionTrack {
  partitionId: string
  /** The last `samples` commits, oldest first. */
  commits: Commit[]
  /** Commits recorded since the first round (including the checkpoint found then). */
  commitsSeen: number
  /** The last `samples` heads (last enqueued sequence numbers), oldest first. */
  heads: Head[]
  /** Lag in events at each round since the first (null where unknown); at most `seriesLength` kept. */
  lags: Array<number | null>
  /** Lag now, in events and seconds. */
  lag: number | null
  timeLagSeconds: number | null
  lagState: string | null
  /** The last round's checkpoint identity. */
  checkpoint: {sequenceNumber: number | null; etag: string; lastModified: string} | null
  owner: string | null
  /** The owner changed in the last round. */
  ownerChanged: boolean
  /** The last commit went backwards. */
  rewound: boolean
}

export interface GroupTrack {
  key: string
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
  /** Rounds fed, and the first and last round's time (ms). */
  rounds: number
  firstAt: number
  lastAt: number
  /** The storage clock of the last round (ms), else its `at`. */
  now: number
  partitions: PartitionTrack[]
}

export interface TrackerOptions {
  /** Commits kept per partition (Burrow's intervals, default 10). */
  samples?: number
  /** Lags kept per partition for the sparkline (default 240). */
  seriesLength?: number
}

const keep = <T>(list: T[], max: number) => (list.length > max ? list.splice(0, list.length - max) : list)

const sameCheckpoint = (a: PartitionTrack['checkpoint'], b: RoundPartition['checkpoint']) =>
  a !== null && b !== null && a.etag === b.etag && a.lastModified === b.lastModified && a.sequenceNumber === b.sequenceNumber

export class Tracker {
  readonly samples: number
  readonly seriesLength: number
  private readonly byKey = new Map<string, GroupTrack>()

  constructor(options: TrackerOptions = {}) {
    this.samples = Math.max(1, options.samples ?? 10)
    this.seriesLength = Math.max(1, options.seriesLength ?? 240)
  }

  /** Feeds one round of one group. */
  add(round: GroupRound): GroupTrack {
    const key = groupKey(round)
    const at = Date.parse(round.at)
    const now = round.observedAt ? Date.parse(round.observedAt) : at
    let group = this.byKey.get(key)
    if (!group) {
      group = {
        key,
        namespace: round.namespace ?? null,
        eventHub: round.eventHub ?? null,
        consumerGroup: round.consumerGroup ?? null,
        rounds: 0,
        firstAt: at,
        lastAt: at,
        now,
        partitions: [],
      }
      this.byKey.set(key, group)
    }
    group.rounds++
    group.lastAt = at
    group.now = now
    for (const p of round.partitions) this.addPartition(group, p, at, group.rounds === 1)
    return group
  }

  private addPartition(group: GroupTrack, p: RoundPartition, at: number, first: boolean): void {
    let track = group.partitions.find((t) => t.partitionId.toLowerCase() === p.partitionId.toLowerCase())
    if (!track) {
      track = {
        partitionId: p.partitionId,
        commits: [],
        commitsSeen: 0,
        heads: [],
        lags: [],
        lag: null,
        timeLagSeconds: null,
        lagState: null,
        checkpoint: null,
        owner: null,
        ownerChanged: false,
        rewound: false,
      }
      group.partitions.push(track)
    }
    const lag = p.lag?.events ?? null
    const owner = p.ownership?.ownerId ?? null
    track.ownerChanged = !first && owner !== track.owner
    track.owner = owner
    track.lag = lag
    track.timeLagSeconds = p.lag?.timeLagSeconds ?? null
    track.lagState = p.lag?.state ?? null
    track.lags.push(lag)
    keep(track.lags, this.seriesLength)
    const head = p.lag?.lastEnqueuedSequenceNumber
    if (head !== null && head !== undefined) {
      track.heads.push({sequenceNumber: head, at})
      keep(track.heads, this.samples)
    }
    track.rewound = false
    const c = p.checkpoint
    if (c && c.sequenceNumber !== null && !sameCheckpoint(track.checkpoint, c)) {
      const previous = track.commits.at(-1)
      const written = Date.parse(c.lastModified)
      track.commits.push({offset: c.sequenceNumber, timestamp: Number.isNaN(written) ? at : written, lag: lag ?? 0})
      keep(track.commits, this.samples)
      track.commitsSeen++
      track.rewound = previous !== undefined && c.sequenceNumber < previous.offset
    }
    track.checkpoint = c ? {sequenceNumber: c.sequenceNumber, etag: c.etag, lastModified: c.lastModified} : null
  }

  /** Every group fed so far, in the order first seen. */
  groups(): GroupTrack[] {
    return [...this.byKey.values()]
  }

  group(key: string): GroupTrack | undefined {
    return this.byKey.get(key)
  }

  /** Forgets every group but those of `keys` (a long-running exporter keeps only the groups that still exist). */
  keepOnly(keys: Iterable<string>): void {
    const kept = new Set(keys)
    for (const key of this.byKey.keys()) if (!kept.has(key)) this.byKey.delete(key)
  }
}

/** The window Burrow judges for a partition. */
export function windowOf(track: PartitionTrack): PartitionWindow {
  return {commits: track.commits, heads: track.heads.map((h) => h.sequenceNumber), lag: track.lag ?? 0}
}

/** Events per second the checkpoint moved over the window (null with fewer than two commits apart in time). */
export function checkpointRate(track: PartitionTrack): number | null {
  const first = track.commits[0]
  const last = track.commits.at(-1)
  if (!first || !last || last.timestamp <= first.timestamp) return null
  return ((last.offset - first.offset) * 1000) / (last.timestamp - first.timestamp)
}

/** Events per second arriving in the partition over the heads kept (null with fewer than two apart in time). */
export function arrivalRate(track: PartitionTrack): number | null {
  const first = track.heads[0]
  const last = track.heads.at(-1)
  if (!first || !last || last.at <= first.at) return null
  return ((last.sequenceNumber - first.sequenceNumber) * 1000) / (last.at - first.at)
}

/**
 * Seconds behind: the time lag the round read (exact; 0 when caught up), else the lag over the arrival rate
 * (estimated); null when neither is known.
 */
export function timeLag(track: PartitionTrack): {seconds: number; estimated: boolean} | null {
  if (track.timeLagSeconds !== null) return {seconds: track.timeLagSeconds, estimated: false}
  if (track.lag === null) return null
  if (track.lag === 0) return {seconds: 0, estimated: false}
  const arriving = arrivalRate(track)
  return arriving === null || arriving <= 0 ? null : {seconds: Math.round(track.lag / arriving), estimated: true}
}

/**
 * Seconds until the lag reaches 0 at the current rates: 0 when caught up; null when unknown or when the
 * group does not gain on the partition.
 */
export function etaSeconds(track: PartitionTrack): number | null {
  if (track.lag === null) return null
  if (track.lag === 0) return 0
  const rate = checkpointRate(track)
  if (rate === null) return null
  const gain = rate - (arrivalRate(track) ?? 0)
  return gain > 0 ? track.lag / gain : null
}

export interface PartitionEvaluation {
  partitionId: string
  status: PartitionStatus
  commitsSeen: number
  complete: boolean
  lag: number | null
}

export interface GroupEvaluation extends GroupVerdict {
  partitions: PartitionEvaluation[]
}

/** Burrow's verdict on a tracked group, at the group's last round (its storage clock) unless `now` is given. */
export function evaluateTrack(group: GroupTrack, options: {allowedLag?: number; samples: number; now?: number}): GroupEvaluation {
  const now = options.now ?? group.now
  const partitions = group.partitions.map((t) => ({
    partitionId: t.partitionId,
    status: evaluatePartition(windowOf(t), {now, allowedLag: options.allowedLag}),
    commitsSeen: t.commitsSeen,
    complete: t.commits.length >= options.samples,
    lag: t.lag,
  }))
  return {...evaluateGroup(partitions), partitions}
}
