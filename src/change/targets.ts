/**
 * Target positions looked up in Event Hubs, for `reset --to-earliest | --to-latest | --to-datetime |
 * --by-duration | --shift-by` and `set` without --offset. Every position is the (offset, sequence number)
 * pair of the event *before* the first one to process, or (-1, begin-1) for the start of the partition;
 * targets outside [begin-1, last] are clamped with a warning.
 */
import {mapBounded} from '../concurrency.js'
import {EhcpError, ExitCode, usageError} from '../errors.js'
import type {EventHubReader, PartitionInfo} from '../eventhubs/reader.js'
import {inPartitions} from '../store/codec.js'
import {findPartition, type PartitionView} from '../store/group.js'
import type {Position, TargetPosition} from './plan.js'

export type PositionScenario = {kind: 'earliest'} | {kind: 'latest'} | {kind: 'time'; at: Date} | {kind: 'shift'; by: number}

export const describeScenario = (s: PositionScenario): string =>
  s.kind === 'time' ? `to ${s.at.toISOString()}` : s.kind === 'shift' ? `shift by ${s.by > 0 ? '+' : ''}${s.by}` : `to ${s.kind}`

const startOf = (info: PartitionInfo): Position => ({sequenceNumber: info.beginningSequenceNumber - 1, offset: '-1'})
const endOf = (info: PartitionInfo): Position =>
  info.lastEnqueuedSequenceNumber < 0
    ? {sequenceNumber: -1, offset: '-1'}
    : {sequenceNumber: info.lastEnqueuedSequenceNumber, offset: info.lastEnqueuedOffset}

/** The pair for "last processed = event `sequence`", which must lie in [begin-1, last]. */
export async function pairAt(reader: EventHubReader, partitionId: string, info: PartitionInfo, sequence: number): Promise<Position> {
  if (sequence <= info.beginningSequenceNumber - 1) return startOf(info)
  if (sequence >= info.lastEnqueuedSequenceNumber) return endOf(info)
  const event = await reader.readFirst(partitionId, {sequenceNumber: sequence})
  if (!event || event.sequenceNumber !== sequence) {
    throw new EhcpError(
      'lookup-failed',
      `Event ${sequence} of partition ${partitionId} could not be read (got ${event ? event.sequenceNumber : 'nothing'}).`,
      ExitCode.unreachable,
    )
  }
  return {sequenceNumber: event.sequenceNumber, offset: event.offset}
}

function clampWarning(wanted: number, info: PartitionInfo): string | null {
  if (wanted < info.beginningSequenceNumber - 1)
    return `target ${wanted} is before the retained range: clamped to the start of the partition (${info.beginningSequenceNumber - 1})`
  if (wanted > info.lastEnqueuedSequenceNumber)
    return `target ${wanted} is past the last event: clamped to the end of the partition (${info.lastEnqueuedSequenceNumber})`
  return null
}

/** The partitions of a group, modern or legacy: what a shift starts from. */
type Partitions = {partitions: PartitionView[]}

async function targetFor(
  view: Partitions,
  reader: EventHubReader,
  partitionId: string,
  scenario: PositionScenario,
): Promise<TargetPosition> {
  const info = await reader.partitionInfo(partitionId)
  switch (scenario.kind) {
    case 'earliest':
      return {partitionId, position: startOf(info)}
    case 'latest':
      return {partitionId, position: endOf(info)}
    case 'time': {
      const t = scenario.at.getTime()
      if (info.isEmpty || info.lastEnqueuedOnUtc.getTime() < t) {
        return {
          partitionId,
          position: endOf(info),
          warnings: [`no event at or after ${scenario.at.toISOString()}: the end of the partition`],
        }
      }
      // The service's enqueued-time filter is strictly after: ask from 1 ms before T.
      const first = await reader.readFirst(partitionId, {enqueuedAfter: new Date(t - 1)})
      if (!first)
        return {
          partitionId,
          position: endOf(info),
          warnings: [`no event at or after ${scenario.at.toISOString()}: the end of the partition`],
        }
      const warnings =
        first.sequenceNumber <= info.beginningSequenceNumber && info.beginningSequenceNumber > 0
          ? [
              `the first retained event (${info.beginningSequenceNumber}) is at or after ${scenario.at.toISOString()}: older events may have expired; starting at the first retained event`,
            ]
          : []
      return {partitionId, position: await pairAt(reader, partitionId, info, first.sequenceNumber - 1), warnings}
    }
    case 'shift': {
      const current = findPartition(view, partitionId)?.checkpoint
      if (!current || current.sequenceNumber === null) {
        return {partitionId, position: null, warnings: ['no checkpoint with a sequence number to shift from: left as it is']}
      }
      const wanted = current.sequenceNumber + scenario.by
      const warning = clampWarning(wanted, info)
      return {partitionId, position: await pairAt(reader, partitionId, info, wanted), warnings: warning ? [warning] : []}
    }
  }
}

/** Targets for every partition of the event hub (or the selected ones), read concurrently. */
export async function lookUpTargets(
  view: Partitions,
  reader: EventHubReader,
  scenario: PositionScenario,
  options: {partitions?: string[]; concurrency: number; onProgress?: (done: number, total: number) => void},
): Promise<TargetPosition[]> {
  const ids = await reader.partitionIds()
  for (const wanted of options.partitions ?? []) {
    if (!inPartitions(ids, wanted)) throw usageError(`The event hub has no partition ${wanted} (partitions: ${ids.join(', ')}).`)
  }
  const selected = ids.filter((id) => inPartitions(options.partitions, id))
  reader.expectReads(selected.length * 2)
  let done = 0
  options.onProgress?.(0, selected.length)
  return mapBounded(selected, options.concurrency, async (id) => {
    const target = await targetFor(view, reader, id, scenario)
    options.onProgress?.(++done, selected.length)
    return target
  })
}

/** `set` without --offset: event N's own offset, N within [begin-1, last]. */
export async function lookUpPosition(reader: EventHubReader, partitionId: string, sequence: number): Promise<Position> {
  const ids = await reader.partitionIds()
  if (!inPartitions(ids, partitionId)) throw usageError(`The event hub has no partition ${partitionId} (partitions: ${ids.join(', ')}).`)
  const info = await reader.partitionInfo(partitionId)
  const outside = clampWarning(sequence, info)
  if (outside)
    throw usageError(
      `--sequence-number ${sequence} is outside partition ${partitionId}'s retained range [${info.beginningSequenceNumber - 1}, ${info.lastEnqueuedSequenceNumber}].`,
      'Pass a sequence number in that range, or --offset to write a position without looking it up.',
    )
  return pairAt(reader, partitionId, info, sequence)
}
