/**
 * `peek`: the events of one partition after a consumer group's checkpoint (or from a sequence number or a time),
 * read through another consumer group without an owner level, so that a live processor keeps its partitions.
 */
import {EhcpError, ExitCode, notFoundError, READER_REFUSED} from '../errors.js'
import {inPartitions, sameName} from '../store/codec.js'
import type {CheckpointView} from '../store/group.js'
import type {GroupId} from '../store/group-id.js'
import {describeBody, type EventBody} from './body.js'
import {type EventHubReader, type EventsFrom, READER_GROUP_HINT} from './reader.js'

/** Where the user asked to start: after the group's checkpoint (the default), at a sequence number, or at a time. */
export type PeekFrom = {kind: 'checkpoint'} | {kind: 'sequence'; sequenceNumber: number} | {kind: 'datetime'; datetime: Date}

export interface PeekOptions {
  partitionId: string
  from: PeekFrom
  count: number
  maxBytes: number
  /** How long to wait for a next event before taking the partition's end as reached. */
  waitMs: number
}

export interface PeekedEvent {
  sequenceNumber: number
  offset: string
  enqueuedTime: string
  partitionKey: string | null
  properties: Record<string, unknown>
  body: EventBody
}

export interface PeekResult extends GroupId {
  schemaVersion: 1
  partitionId: string
  /** The consumer group the events were read through (never the application's). */
  readerConsumerGroup: string
  /** The group's checkpoint for the partition, or null when it has none. */
  checkpoint: {sequenceNumber: number | null; offset: string | null} | null
  /** Where the read began: `checkpoint` (after it), `beginning` (no checkpoint), `sequence` or `datetime`. */
  from: {kind: 'checkpoint' | 'beginning' | 'sequence' | 'datetime'; sequenceNumber: number | null; datetime: string | null}
  partition: {beginningSequenceNumber: number; lastEnqueuedSequenceNumber: number; isEmpty: boolean}
  events: PeekedEvent[]
  /** `count` when --count events were shown; `end` when the partition had no more within the wait. */
  stoppedAt: 'count' | 'end'
  waitSeconds: number
  maxBytes: number
}

/** ehcp never reads through the application's own consumer group: its receiver would compete with the processor. */
export function refuseApplicationGroup(applicationGroup: string, readerGroup: string): void {
  if (sameName(applicationGroup, readerGroup))
    throw new EhcpError(
      READER_REFUSED,
      `peek reads through a consumer group other than the application's, and --eventhubs-consumer-group is "${readerGroup}", the group being peeked.`,
      ExitCode.refused,
      READER_GROUP_HINT,
    )
}

function startOf(from: PeekFrom, checkpoint: CheckpointView | null): {position: EventsFrom; described: PeekResult['from']} {
  if (from.kind === 'sequence')
    return {
      position: {sequenceNumber: from.sequenceNumber},
      described: {kind: 'sequence', sequenceNumber: from.sequenceNumber, datetime: null},
    }
  if (from.kind === 'datetime')
    // The service's filter is strictly after a time: 1 ms earlier finds an event enqueued at the very time.
    return {
      position: {enqueuedAfter: new Date(from.datetime.getTime() - 1)},
      described: {kind: 'datetime', sequenceNumber: null, datetime: from.datetime.toISOString()},
    }
  if (checkpoint?.sequenceNumber != null)
    return {
      position: {sequenceNumber: checkpoint.sequenceNumber + 1},
      described: {kind: 'checkpoint', sequenceNumber: checkpoint.sequenceNumber + 1, datetime: null},
    }
  if (checkpoint?.offset != null && checkpoint.offset !== '-1')
    return {position: {afterOffset: checkpoint.offset}, described: {kind: 'checkpoint', sequenceNumber: null, datetime: null}}
  return {position: 'earliest', described: {kind: 'beginning', sequenceNumber: null, datetime: null}}
}

/** An application property as JSON can hold it: AMQP longs, binary and timestamps as strings. */
function propertyValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (value instanceof Date) return value.toISOString()
  return value
}

export async function peekEvents(
  reader: EventHubReader,
  group: GroupId,
  checkpoint: CheckpointView | null,
  options: PeekOptions,
): Promise<PeekResult> {
  const ids = await reader.partitionIds()
  if (!inPartitions(ids, options.partitionId))
    throw notFoundError(`Event hub "${group.eventHub}" has no partition ${options.partitionId}.`, `Its partitions: ${ids.join(', ')}.`)
  const partitionId = ids.find((id) => sameName(id, options.partitionId))!
  const info = await reader.partitionInfo(partitionId)
  const {position, described} = startOf(options.from, checkpoint)
  // Nothing to read: an empty partition, or a start past its last event (a receiver there is refused by the service).
  const pastEnd = typeof position === 'object' && 'sequenceNumber' in position && position.sequenceNumber > info.lastEnqueuedSequenceNumber
  const raw = info.isEmpty || pastEnd ? [] : await reader.readEvents(partitionId, position, {count: options.count, waitMs: options.waitMs})
  return {
    schemaVersion: 1,
    namespace: group.namespace,
    eventHub: group.eventHub,
    consumerGroup: group.consumerGroup,
    partitionId,
    readerConsumerGroup: reader.consumerGroup,
    checkpoint: checkpoint && {sequenceNumber: checkpoint.sequenceNumber, offset: checkpoint.offset},
    from: described,
    partition: {
      beginningSequenceNumber: info.beginningSequenceNumber,
      lastEnqueuedSequenceNumber: info.lastEnqueuedSequenceNumber,
      isEmpty: info.isEmpty,
    },
    events: raw.map((e) => ({
      sequenceNumber: e.sequenceNumber,
      offset: e.offset,
      enqueuedTime: e.enqueuedTime.toISOString(),
      partitionKey: e.partitionKey,
      properties: Object.fromEntries(Object.entries(e.properties).map(([key, value]) => [key, propertyValue(value)])),
      body: describeBody(e.body, options.maxBytes),
    })),
    stoppedAt: raw.length >= options.count ? 'count' : 'end',
    waitSeconds: Math.max(1, Math.ceil(options.waitMs / 1000)),
    maxBytes: options.maxBytes,
  }
}
