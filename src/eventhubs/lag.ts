/**
 * How far behind a consumer group is, per partition, from the checkpoint and the service's partition
 * properties (layout document, section 4), plus the enqueued time of the next unprocessed event.
 */
import {mapBounded} from '../concurrency.js'
import {classifyError, ExitCode, NAMESPACE_NOT_COVERED, READER_REFUSED} from '../errors.js'
import {comparePartitionIds, inPartitions} from '../store/codec.js'
import type {GroupView, PartitionView} from '../store/group.js'
import type {GroupId} from '../store/group-id.js'
import type {EventHubReader, EventRef, PartitionInfo} from './reader.js'

export type LagState = 'ok' | 'no-checkpoint' | 'behind-retention' | 'ahead-of-partition' | 'empty' | 'unknown'

export interface PartitionLag {
  /** Events not yet processed; null when it cannot be stated honestly (no checkpoint, ahead, unknown). */
  events: number | null
  state: LagState
  beginningSequenceNumber: number | null
  lastEnqueuedSequenceNumber: number | null
  lastEnqueuedTime: string | null
  /** Enqueued time of the next event the processor will read. */
  nextEventTime: string | null
  /** Age of that event: how far behind in time. */
  timeLagSeconds: number | null
  /** Events retained in the partition (what a processor without a checkpoint may read). */
  retainedEvents: number | null
  reason?: string
}

const unknown = (reason: string): PartitionLag => ({
  events: null,
  state: 'unknown',
  beginningSequenceNumber: null,
  lastEnqueuedSequenceNumber: null,
  lastEnqueuedTime: null,
  nextEventTime: null,
  timeLagSeconds: null,
  retainedEvents: null,
  reason,
})

/** The lag state and event count from a checkpoint's sequence number and the partition's properties. Pure. */
export function lagFromProperties(
  checkpointSequence: number | null,
  info: PartitionInfo,
): Pick<PartitionLag, 'events' | 'state' | 'reason'> & {resumeAt: number | null} {
  const begin = info.beginningSequenceNumber
  const last = info.lastEnqueuedSequenceNumber
  const retained = info.isEmpty ? 0 : last - begin + 1
  if (checkpointSequence !== null && checkpointSequence > last) {
    return {
      events: null,
      state: 'ahead-of-partition',
      resumeAt: null,
      reason: `checkpoint ${checkpointSequence} is past the last event ${last} (was the event hub re-created?): processors fail with "The supplied sequence number is invalid"`,
    }
  }
  if (info.isEmpty) return {events: 0, state: 'empty', resumeAt: null}
  if (checkpointSequence === null)
    return {
      events: null,
      state: 'no-checkpoint',
      resumeAt: null,
      reason: `no checkpoint: a processor starts at its SDK's default position (${retained} events retained)`,
    }
  if (checkpointSequence < begin - 1) {
    return {
      events: retained,
      state: 'behind-retention',
      resumeAt: begin,
      reason: `events ${checkpointSequence + 1}..${begin - 1} expired unprocessed; the processor resumes at ${begin}`,
    }
  }
  return {events: last - checkpointSequence, state: 'ok', resumeAt: last > checkpointSequence ? checkpointSequence + 1 : null}
}

interface Reading {
  info: PartitionInfo
  checkpointSequence: number | null
  next: EventRef | null
  note?: string
}

/** The checkpoint's sequence number; an offset-only checkpoint is resolved by reading the event at its offset. */
async function checkpointSequenceOf(
  p: PartitionView,
  reader: EventHubReader,
  info: PartitionInfo,
): Promise<{sequence: number | null; note?: string}> {
  const c = p.checkpoint
  if (!c) return {sequence: null}
  if (c.sequenceNumber !== null) return {sequence: c.sequenceNumber}
  if (c.offset === null || c.offset === '-1') return {sequence: c.offset === '-1' ? info.beginningSequenceNumber - 1 : null}
  if (info.isEmpty) return {sequence: null, note: 'offset-only checkpoint in an empty partition'}
  const event = await reader.readFirst(p.partitionId, {offset: c.offset})
  if (event && event.offset === c.offset) return {sequence: event.sequenceNumber, note: `sequence number looked up from offset ${c.offset}`}
  // The service started at the first retained event: the checkpointed event has expired.
  return {sequence: info.beginningSequenceNumber - 2, note: `offset ${c.offset} is no longer retained`}
}

async function readPartition(p: PartitionView, reader: EventHubReader): Promise<Reading> {
  const info = await reader.partitionInfo(p.partitionId)
  const {sequence, note} = await checkpointSequenceOf(p, reader, info)
  const {resumeAt} = lagFromProperties(sequence, info)
  if (resumeAt === null) return {info, checkpointSequence: sequence, next: null, note}
  try {
    return {info, checkpointSequence: sequence, next: await reader.readFirst(p.partitionId, {sequenceNumber: resumeAt}), note}
  } catch (error) {
    // A live processor's receiver keeps ehcp out of its consumer group: the lag in events still stands.
    const e = classifyError(error)
    if (e.code !== READER_REFUSED) throw e
    return {
      info,
      checkpointSequence: sequence,
      next: null,
      note: [note, `time lag unknown: ${e.message} ${e.hint}`].filter(Boolean).join('; '),
    }
  }
}

export function lagOf(reading: Reading, nowMs: number): PartitionLag {
  const {info, checkpointSequence, next} = reading
  const {events, state, reason} = lagFromProperties(checkpointSequence, info)
  const caughtUp = events === 0
  return {
    events,
    state,
    beginningSequenceNumber: info.beginningSequenceNumber,
    lastEnqueuedSequenceNumber: info.lastEnqueuedSequenceNumber,
    lastEnqueuedTime: info.lastEnqueuedSequenceNumber >= 0 ? info.lastEnqueuedOnUtc.toISOString() : null,
    nextEventTime: next ? next.enqueuedTime.toISOString() : null,
    timeLagSeconds: next ? Math.max(0, Math.round((nowMs - next.enqueuedTime.getTime()) / 1000)) : caughtUp ? 0 : null,
    retainedEvents: info.isEmpty ? 0 : info.lastEnqueuedSequenceNumber - info.beginningSequenceNumber + 1,
    ...(reason || reading.note ? {reason: [reason, reading.note].filter(Boolean).join('; ')} : {}),
  }
}

export type PartitionViewWithLag = PartitionView & {lag?: PartitionLag}
export type GroupViewWithLag = Omit<GroupView, 'partitions'> & {partitions: PartitionViewWithLag[]}

/** Told how far a read has come: `done` of `total` (partitions, events, blobs). */
export type OnProgress = (done: number, total?: number) => void

/**
 * Adds lag to every partition of the event hub (partitions without blobs included), reading partitions
 * concurrently. A partition that cannot be read gets state "unknown" with the reason; a hub that cannot
 * be reached at all fails the command. `onProgress` hears the partitions read so far.
 */
export async function addLag<V extends Pick<GroupView, 'partitions'> = GroupView>(
  view: V,
  reader: EventHubReader,
  options: {concurrency: number; partitions?: string[]; onProgress?: OnProgress},
): Promise<Omit<V, 'partitions'> & {partitions: PartitionViewWithLag[]}> {
  const ids = await reader.partitionIds()
  const partitions: PartitionViewWithLag[] = [...view.partitions]
  const stored = view.partitions.map((p) => p.partitionId)
  for (const id of ids) {
    if (!inPartitions(stored, id)) partitions.push({partitionId: id, checkpoint: null, ownership: null, problems: []})
  }
  partitions.sort((a, b) => comparePartitionIds(a.partitionId, b.partitionId))
  const selected = options.partitions ? partitions.filter((p) => inPartitions(options.partitions, p.partitionId)) : partitions
  reader.expectReads(selected.length)
  let done = 0
  options.onProgress?.(0, selected.length)
  await mapBounded(selected, options.concurrency, async (p) => {
    if (!inPartitions(ids, p.partitionId)) {
      p.lag = unknown(`the event hub has no partition ${p.partitionId} (partitions: ${ids.join(', ')})`)
    } else {
      try {
        p.lag = lagOf(await readPartition(p, reader), Date.now())
      } catch (error) {
        const e = classifyError(error)
        if (e.exitCode === ExitCode.auth || e.exitCode === ExitCode.usage) throw e
        p.lag = unknown(e.message)
      }
    }
    options.onProgress?.(++done, selected.length)
  })
  return {...view, partitions: selected === partitions ? partitions : selected}
}

export interface LagTotals {
  total: number | null
  max: number | null
  states: Partial<Record<LagState, number>>
}

export function lagTotals(lags: PartitionLag[]): LagTotals {
  const counted = lags.filter((l) => l.events !== null).map((l) => l.events!)
  const states: Partial<Record<LagState, number>> = {}
  for (const l of lags) states[l.state] = (states[l.state] ?? 0) + 1
  return {total: counted.length ? counted.reduce((a, b) => a + b, 0) : null, max: counted.length ? Math.max(...counted) : null, states}
}

/** --fail-on-lag: a lag above the threshold, or a checkpoint ahead of the partition (processors fail on it). */
export function exceedsLag(lag: PartitionLag, threshold: number): boolean {
  return lag.state === 'ahead-of-partition' || (lag.events !== null && lag.events > threshold)
}

/** Every partition's properties for one event hub, read concurrently; `onRead` is told of each one read. */
export async function hubPartitionInfos(
  reader: EventHubReader,
  concurrency: number,
  onRead?: (partitions: number) => void,
): Promise<Map<string, PartitionInfo>> {
  const ids = await reader.partitionIds()
  onRead?.(0)
  const infos = await mapBounded(ids, concurrency, async (id) => {
    const info = await reader.partitionInfo(id)
    onRead?.(1)
    return info
  })
  return new Map(ids.map((id, i) => [id, infos[i]!]))
}

/** A group's lag totals from its checkpoints' sequence numbers (by lower-cased partition id) and the hub's partitions. */
export function groupLagTotals(sequences: Map<string, number | null>, infos: Map<string, PartitionInfo>): LagTotals {
  return lagTotals(
    [...infos].map(([id, info]) => {
      const {events, state} = lagFromProperties(sequences.get(id.toLowerCase()) ?? null, info)
      return {...unknown(''), events, state}
    }),
  )
}

export type HubRunner = <R>(namespace: string, hub: string, fn: (reader: EventHubReader) => Promise<R>) => Promise<R>

/**
 * `list --lag`: total and max lag per group, one reader per event hub, partition properties only (the
 * next-event times are `show --lag`'s job). A hub that cannot be read gets its reason instead of numbers.
 * `onProgress` hears the partitions read so far (the total is not known before each hub is opened).
 */
export async function addGroupLags(
  groups: Array<Pick<GroupId, 'namespace' | 'eventHub'> & {lag?: LagTotals & {reason?: string}}>,
  sequences: Array<Map<string, number | null>>,
  withHub: HubRunner,
  onProgress?: OnProgress,
): Promise<void> {
  let read = 0
  const onRead = (n: number) => onProgress?.((read += n))
  const hubs = new Map<string, number[]>()
  groups.forEach((g, i) => {
    const key = `${g.namespace}/${g.eventHub}`.toLowerCase()
    hubs.set(key, [...(hubs.get(key) ?? []), i])
  })
  for (const members of hubs.values()) {
    const first = groups[members[0]!]!
    try {
      const infos = await withHub(first.namespace, first.eventHub, (reader) => hubPartitionInfos(reader, 128, onRead))
      for (const i of members) groups[i]!.lag = groupLagTotals(sequences[i]!, infos)
    } catch (error) {
      const e = classifyError(error)
      // No access at all, or refused credentials: the whole command fails. An unreachable hub, or a
      // namespace the connection string does not cover, only loses that hub's numbers.
      if (e.exitCode === ExitCode.auth || (e.exitCode === ExitCode.usage && e.code !== NAMESPACE_NOT_COVERED)) throw e
      for (const i of members) groups[i]!.lag = {total: null, max: null, states: {}, reason: e.message}
    }
  }
}

/** `--fail-on-lag N`: the threshold, and what crossed it (the JSON's `failOnLag`). */
export interface FailOnLag<Crossed> {
  threshold: number
  crossed: Crossed[]
}

export interface PartitionCrossing {
  partitionId: string
  events: number | null
  state: LagState
}

/** The partitions whose lag exceeds the threshold, or whose checkpoint is ahead of the partition (exceedsLag). */
export function partitionsOverLag(partitions: PartitionViewWithLag[], threshold: number): FailOnLag<PartitionCrossing> {
  return {
    threshold,
    crossed: partitions
      .filter((p) => p.lag && exceedsLag(p.lag, threshold))
      .map((p) => ({partitionId: p.partitionId, events: p.lag!.events, state: p.lag!.state})),
  }
}

export interface GroupCrossing extends GroupId {
  /** The largest lag in events among the group's partitions. */
  maxLag: number | null
  /** Partitions whose checkpoint is past the partition's last event. */
  aheadOfPartition: number
}

/** The groups whose largest lag exceeds the threshold, or with a checkpoint ahead of its partition. */
export function groupsOverLag(groups: Array<GroupId & {lag?: LagTotals}>, threshold: number): FailOnLag<GroupCrossing> {
  return {
    threshold,
    crossed: groups
      .filter((g) => (g.lag?.max ?? 0) > threshold || (g.lag?.states['ahead-of-partition'] ?? 0) > 0)
      .map((g) => ({
        namespace: g.namespace,
        eventHub: g.eventHub,
        consumerGroup: g.consumerGroup,
        maxLag: g.lag?.max ?? null,
        aheadOfPartition: g.lag?.states['ahead-of-partition'] ?? 0,
      })),
  }
}
