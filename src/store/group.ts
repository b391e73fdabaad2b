/**
 * One consumer group, partition by partition: the records of every stored spelling of the group,
 * merged case-insensitively, with every problem reported next to the partition it concerns.
 */
import {notFoundError} from '../errors.js'
import {
  comparePartitionIds,
  inPartitions,
  type OwnerState,
  parseBlobName,
  type Problem,
  readersOf,
  type RecordKind,
  sameName,
} from './codec.js'
import {type GroupId, groupIdOf, groupPath} from './group-id.js'
import type {GroupRef} from './scope.js'
import type {CheckpointRecord, CheckpointStore, OwnershipRecord, StoredRecord} from './store.js'

export interface CheckpointView {
  sequenceNumber: number | null
  offset: string | null
  lastModified: string
  etag: string
  blobName: string
  metadata: Record<string, string>
}

export interface OwnershipView {
  ownerId: string | null
  state: OwnerState
  lastModified: string
  etag: string
  blobName: string
  metadata: Record<string, string>
}

export interface PartitionView {
  partitionId: string
  checkpoint: CheckpointView | null
  ownership: OwnershipView | null
  problems: Problem[]
}

export interface GroupView extends GroupId {
  schemaVersion: 1
  /** The storage service's clock when the listing was answered (ages are relative to it). */
  observedAt: string
  ownershipExpirySeconds: number
  partitions: PartitionView[]
  /** Problems that belong to no partition: foreign blobs under the group's prefix. */
  problems: Problem[]
}

interface PartitionRecords {
  checkpoints: CheckpointRecord[]
  ownerships: OwnershipRecord[]
}

/** When case variants exist, the most recently written record is shown; the rest are reported. */
function newest<T extends {blob: {lastModified: Date}}>(records: T[]): T | undefined {
  return records.reduce<T | undefined>((best, r) => (!best || r.blob.lastModified > best.blob.lastModified ? r : best), undefined)
}

export function caseVariantProblem(kind: RecordKind, partitionId: string, blobNames: string[]): Problem {
  const described = blobNames.map((name) => {
    const parts = parseBlobName(name)
    return `"${name}" (read by ${parts ? readersOf(parts) : 'no SDK'})`
  })
  return {
    code: 'case-variant-duplicate',
    message: `partition ${partitionId} has ${blobNames.length} ${kind} blobs whose names differ only in case: ${described.join('; ')}. ehcp shows the most recently written.`,
    partitionId,
  }
}

const toCheckpointView = (r: CheckpointRecord): CheckpointView => ({
  sequenceNumber: r.position.sequenceNumber,
  offset: r.position.offset,
  lastModified: r.blob.lastModified.toISOString(),
  etag: r.blob.etag,
  blobName: r.blob.name,
  metadata: r.blob.metadata,
})

const toOwnershipView = (r: OwnershipRecord): OwnershipView => ({
  ownerId: r.ownerId,
  state: r.state,
  lastModified: r.blob.lastModified.toISOString(),
  etag: r.blob.etag,
  blobName: r.blob.name,
  metadata: r.blob.metadata,
})

export function foreignBlobProblem(blob: {name: string; contentLength?: number}): Problem {
  const what = blob.contentLength
    ? `has content (${blob.contentLength} bytes), so it is not a checkpoint or ownership blob (those are empty)`
    : 'is not a checkpoint or ownership blob'
  return {
    code: 'foreign-blob',
    message: `"${blob.name}" ${what}; SDK readers listing this prefix may misread or fail on it. Move it out of the checkpoint prefixes.`,
    blobName: blob.name,
  }
}

/** Builds the view from records (pure: unit-testable with any records). */
export function buildGroupView(ref: GroupRef, records: Iterable<StoredRecord>, serverTimeMs: number, ownershipExpiryMs: number): GroupView {
  const byPartition = new Map<string, {id: string; records: PartitionRecords}>()
  const groupProblems: Problem[] = []
  for (const record of records) {
    if (record.kind === 'foreign') {
      groupProblems.push(foreignBlobProblem(record.blob))
      continue
    }
    const key = record.parts.partitionId.toLowerCase()
    const entry = byPartition.get(key) ?? {id: record.parts.partitionId, records: {checkpoints: [], ownerships: []}}
    if (record.kind === 'checkpoint') entry.records.checkpoints.push(record)
    else entry.records.ownerships.push(record)
    byPartition.set(key, entry)
  }

  const partitions = [...byPartition.values()].map(({id, records: {checkpoints, ownerships}}): PartitionView => {
    const checkpoint = newest(checkpoints)
    const ownership = newest(ownerships)
    const problems: Problem[] = [...(checkpoint?.problems ?? []), ...(ownership?.problems ?? [])]
    if (checkpoints.length > 1)
      problems.push(
        caseVariantProblem(
          'checkpoint',
          id,
          checkpoints.map((r) => r.blob.name),
        ),
      )
    if (ownerships.length > 1)
      problems.push(
        caseVariantProblem(
          'ownership',
          id,
          ownerships.map((r) => r.blob.name),
        ),
      )
    return {
      partitionId: id,
      checkpoint: checkpoint ? toCheckpointView(checkpoint) : null,
      ownership: ownership ? toOwnershipView(ownership) : null,
      problems,
    }
  })
  partitions.sort((a, b) => comparePartitionIds(a.partitionId, b.partitionId))
  return {
    schemaVersion: 1,
    ...groupIdOf(ref),
    observedAt: new Date(serverTimeMs).toISOString(),
    ownershipExpirySeconds: ownershipExpiryMs / 1000,
    partitions,
    problems: groupProblems,
  }
}

/** One flat listing per stored spelling of the group (normally exactly one); `onProgress` hears the blobs listed so far. */
export async function readGroup(
  store: CheckpointStore,
  ref: GroupRef,
  signal?: AbortSignal,
  onProgress?: (blobs: number) => void,
): Promise<GroupView> {
  const records: StoredRecord[] = []
  let serverTimeMs = 0
  await store.listGroup(
    ref.prefixes,
    (batch, time) => {
      for (const record of batch) records.push(record)
      serverTimeMs = Math.max(serverTimeMs, time)
      onProgress?.(records.length)
    },
    signal,
  )
  return buildGroupView(ref, records, serverTimeMs || Date.now(), store.ownershipExpiryMs)
}

/** A partition of the group by id (matched case-insensitively). */
export function findPartition<P extends PartitionView>(view: {partitions: P[]}, partitionId: string): P | undefined {
  return view.partitions.find((p) => sameName(p.partitionId, partitionId))
}

/** Narrows a view to the named partitions (matched case-insensitively); an unknown one is "not found". */
export function selectPartitions<V extends {partitions: PartitionView[]}>(view: V, partitionIds: string[], where?: string): V {
  const wanted = [...new Set(partitionIds.map((p) => p.trim().toLowerCase()))]
  const missing = wanted.filter((w) => !findPartition(view, w))
  if (missing.length > 0) {
    const label = where ?? ('namespace' in view ? groupPath(view as unknown as GroupId) : 'this group')
    throw notFoundError(
      `No checkpoint or ownership for partition ${missing.join(', ')} in ${label}.`,
      `Stored partitions: ${view.partitions.map((p) => p.partitionId).join(', ') || 'none'}.`,
    )
  }
  return {...view, partitions: view.partitions.filter((p) => inPartitions(wanted, p.partitionId))}
}
