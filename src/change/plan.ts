/**
 * A change is planned before anything is written: per partition, the blob as read (name, ETag, metadata),
 * what will be done to it, the position before and after, and the events replayed (+) or skipped (-).
 * Scenarios only compute targets; the builders here turn them into a plan. Pure: no I/O.
 */
import {notFoundError, usageError} from '../errors.js'
import {
  decodeCheckpoint,
  encodeCheckpoint,
  encodeOwnership,
  groupPrefix,
  holdsState,
  newBlobName,
  type OwnerState,
  sameName,
} from '../store/codec.js'
import {sameEtag} from '../store/etag.js'
import {findPartition, type GroupView, type PartitionView} from '../store/group.js'
import {type GroupId, groupPath} from '../store/group-id.js'
import type {LegacyLayout} from '../store/layouts.js'

export interface Position {
  sequenceNumber: number
  /** Opaque; "-1" means before the first event. */
  offset: string
}

export type ChangeSide = {sequenceNumber: number | null; offset: string | null} | {ownerId: string | null}

/** What a change does to one blob. Every write carries the exact metadata it leaves in the blob. */
export type Action =
  | {kind: 'set-position'; position: Position; metadata: Record<string, string>}
  | {kind: 'set-metadata'; metadata: Record<string, string>}
  | {kind: 'release'; metadata: Record<string, string>}
  | {kind: 'delete'}
  /** A legacy lease blob: its whole body replaced (only the position fields differ), metadata as read; the lease broken first when forced. */
  | {kind: 'write-body'; body: string; metadata: Record<string, string>; breakLease: boolean}
  /** A legacy lease blob's lease broken (release-ownership): body and metadata left as they are. */
  | {kind: 'break-lease'; metadata: Record<string, string>}
  | {kind: 'none'}

/** What the blob holds once the action is done: its metadata, or null when the action deletes it. */
export function leaves(action: Exclude<Action, {kind: 'none'}>): Record<string, string> | null {
  // A legacy write keeps the metadata: `written` is it, and the body the change leaves is the backup's `writtenBody`.
  return action.kind === 'delete' ? null : action.metadata
}

export interface PlanItem {
  partitionId: string
  /** The blob this change writes, as read at plan time; etag null: it does not exist yet (created under If-None-Match). */
  target: {blobName: string; etag: string | null; metadata: Record<string, string> | null; body?: string}
  action: Action
  before: ChangeSide | null
  after: ChangeSide | null
  /** Events to replay (positive) or skip (negative); null when unknown. */
  delta: number | null
  ownerState: OwnerState
  ownerId: string | null
  warnings: string[]
  /** Known at plan time not to be written (an undo's entry that changed since): its status and reason in the report. */
  heldBack?: {status: 'conflict' | 'unchanged'; reason: string}
}

export interface ChangePlan extends GroupId {
  operation: 'set' | 'reset' | 'release-ownership' | 'migrate'
  scenario: string
  container: string
  /** Every stored spelling of the group's prefix: where the guard reads the owners again right before writing. */
  prefixes: string[]
  /** A legacy group (names the layout does not record are ""): its layout and the name prefix its blobs share. */
  legacy?: {layout: LegacyLayout; blobPrefix: string}
  /** Whether active owners block the change (not for release-ownership). */
  guarded: boolean
  notes: string[]
  items: PlanItem[]
}

export const changes = (item: PlanItem) => item.action.kind !== 'none'

function positionOf(metadata: Record<string, string> | null | undefined): {sequenceNumber: number | null; offset: string | null} | null {
  if (!metadata) return null
  const {sequenceNumber, offset} = decodeCheckpoint(metadata)
  return {sequenceNumber, offset}
}

function ownerOf(p: PartitionView | undefined): Pick<PlanItem, 'ownerState' | 'ownerId'> {
  return {ownerState: p?.ownership?.state ?? 'none', ownerId: p?.ownership?.ownerId ?? null}
}

/**
 * Where a new checkpoint blob goes: the group's own spelling when all its blobs share one (so Java and
 * Rust processors configured as "$Default" read it), otherwise lower-cased as the JS/.NET/Python/Go SDKs write.
 */
export function newCheckpointName(view: GroupView, partitionId: string): string {
  const spellings = new Set(
    view.partitions
      .flatMap((p) => [p.checkpoint?.blobName, p.ownership?.blobName])
      .filter((n): n is string => Boolean(n))
      .map((n) => n.split('/').slice(0, 3).join('/')),
  )
  if (spellings.size === 1) return `${[...spellings][0]}/checkpoint/${partitionId}`
  return newBlobName(view, 'checkpoint', partitionId)
}

export interface TargetPosition {
  partitionId: string
  /** null: leave this partition as it is (the reason goes in warnings). */
  position: Position | null
  warnings?: string[]
}

/** Moves checkpoints to target positions: a matching (offset, sequence number) pair each, foreign keys kept. */
export function planPositions(view: GroupView, targets: TargetPosition[]): PlanItem[] {
  return targets.map(({partitionId, position, warnings = []}) => {
    const p = findPartition(view, partitionId)
    const checkpoint = p?.checkpoint ?? null
    const before = checkpoint ? {sequenceNumber: checkpoint.sequenceNumber, offset: checkpoint.offset} : null
    const target = checkpoint
      ? {blobName: checkpoint.blobName, etag: checkpoint.etag, metadata: checkpoint.metadata}
      : {blobName: newCheckpointName(view, p?.partitionId ?? partitionId), etag: null, metadata: null}
    const id = p?.partitionId ?? partitionId
    const all = [...warnings]
    if (!p && position) all.push('no checkpoint or ownership blob for this partition yet: a new checkpoint blob will be created')
    const same = position && before && before.sequenceNumber === position.sequenceNumber && before.offset === position.offset
    return {
      partitionId: id,
      target,
      action:
        position && !same ? {kind: 'set-position', position, metadata: encodeCheckpoint(target.metadata ?? {}, position)} : {kind: 'none'},
      before,
      after: position ? {...position} : before,
      delta: position && before?.sequenceNumber != null ? before.sequenceNumber - position.sequenceNumber : null,
      ...ownerOf(p),
      warnings: all,
    }
  })
}

/** Deletes checkpoints: processors then start from their SDK's default position. */
export function planDeletes(view: GroupView, partitionIds: string[] | undefined): PlanItem[] {
  return selected(view, partitionIds)
    .filter((p) => p.checkpoint)
    .map((p) => ({
      partitionId: p.partitionId,
      target: {blobName: p.checkpoint!.blobName, etag: p.checkpoint!.etag, metadata: p.checkpoint!.metadata},
      action: {kind: 'delete'},
      before: positionOf(p.checkpoint!.metadata),
      after: null,
      delta: null,
      ...ownerOf(p),
      warnings: [],
    }))
}

export const DELETE_NOTE =
  'Without a checkpoint, a processor starts from its default position: Earliest for .NET and Azure Functions ' +
  '(replays everything retained); Latest for JS, Java, Python, Go and Rust (skips the backlog).'

/** Releases ownership (ownerid = ""), optionally only one owner's partitions. */
export function planReleases(view: GroupView, partitionIds: string[] | undefined, ownerId: string | undefined): PlanItem[] {
  return selected(view, partitionIds)
    .filter((p) => p.ownership && (ownerId === undefined || p.ownership.ownerId === ownerId))
    .map((p) => {
      const o = p.ownership!
      const owned = Boolean(o.ownerId)
      return {
        partitionId: p.partitionId,
        target: {blobName: o.blobName, etag: o.etag, metadata: o.metadata},
        action: owned ? {kind: 'release', metadata: encodeOwnership(o.metadata, '')} : {kind: 'none'},
        before: {ownerId: o.ownerId},
        after: {ownerId: owned ? '' : o.ownerId},
        delta: null,
        ...ownerOf(p),
        warnings: owned
          ? o.state === 'active'
            ? ['the owner is active: it loses the partition at its next heartbeat, and the next claimant resumes from the checkpoint']
            : []
          : ['already released'],
      }
    })
}

/**
 * `release-ownership` with neither --owner nor --partition takes every partition from every processor, live
 * ones included: refused (usage, nothing written) while any of them has an active owner, unless --force. A
 * live owner named by --owner or --partition is a deliberate choice; a blanket one is the dangerous case.
 */
export function refuseBlanketRelease(items: PlanItem[], selection: {partitions?: string[]; owner?: string; force: boolean}): void {
  if (selection.owner !== undefined || selection.partitions !== undefined || selection.force) return
  // A legacy blob lease held is an active owner even when nothing names the host.
  const active = items.filter((i) => i.ownerState === 'active')
  if (active.length === 0) return
  const owners = [...new Set(active.map((i) => i.ownerId || '(unnamed host)'))]
  const named = active.every((i) => i.ownerId)
  throw usageError(
    `Refusing to release every partition while ${active.length} of them have an active owner (${owners.join(', ')}): each running processor would lose its partitions at its next heartbeat.`,
    `Name what to release with --owner ${owners.length === 1 && named ? owners[0] : '<id>'} or --partition <ids>, or pass --force to release every partition, active owners included.`,
  )
}

export interface RestoreEntry {
  partitionId: string
  blobName: string
  /** The blob before the change; null: it did not exist. */
  metadata: Record<string, string> | null
  /**
   * What the change left in the blob (null: it deleted it), and whether it wrote it. Absent in backups of
   * schema 1, which are restored as they are.
   */
  written?: Record<string, string> | null
  outcome?: WriteRecord
  /** The ETag the change's write left, when the service said: the blob is as the change left it only while it has it. */
  writtenEtag?: string
  /** Legacy lease blobs: the whole body before the change, and the body the change left. */
  body?: string
  writtenBody?: string
}

/** Whether a change wrote a blob: "unknown" when the run ended before it said (killed) or the write's fate is uncertain. */
export type WriteRecord = 'written' | 'not-written' | 'unknown'

/**
 * Puts blobs back as a backup recorded them: every metadata key, byte for byte, or deletes what did not exist.
 * A backup that says what its change wrote is an undo: a blob is restored only if it still holds exactly
 * what the change left there (and, when the write's ETag is known, still has it); anything written since (a
 * processor's checkpoint, another change, even of the same value) is left alone. `owners`: the group under
 * every stored spelling, for the owner of each partition.
 */
export function planRestore(view: GroupView, entries: RestoreEntry[], owners: GroupView = view): PlanItem[] {
  const prefix = groupPrefix(view).toLowerCase()
  return entries.map((entry) => {
    if (!entry.blobName.toLowerCase().startsWith(prefix)) {
      throw usageError(
        `The backup entry "${entry.blobName}" is not in ${groupPath(view)}.`,
        'A backup restores the group it was taken from; omit the scope flags to use the group named in the file.',
      )
    }
    const p = findPartition(view, entry.partitionId)
    const current = [p?.checkpoint, p?.ownership].find((b) => b?.blobName === entry.blobName) ?? null
    const isOwnership = entry.blobName.split('/')[3]?.toLowerCase() === 'ownership'
    const side = (metadata: Record<string, string> | null): ChangeSide | null =>
      metadata === null
        ? null
        : isOwnership
          ? {ownerId: Object.entries(metadata).find(([k]) => sameName(k, 'ownerid'))?.[1] ?? null}
          : positionOf(metadata)
    const holds = (metadata: Record<string, string> | null) => holdsState(current?.metadata ?? null, metadata)
    const before = side(current?.metadata ?? null)
    const after = side(entry.metadata)
    const heldBack = undoVerdict(entry, holds, current?.etag ?? null)
    const action: Action =
      heldBack || holds(entry.metadata)
        ? {kind: 'none'}
        : entry.metadata === null
          ? {kind: 'delete'}
          : {kind: 'set-metadata', metadata: entry.metadata}
    const seqBefore = before && 'sequenceNumber' in before ? before.sequenceNumber : null
    const seqAfter = after && 'sequenceNumber' in after ? after.sequenceNumber : null
    return {
      partitionId: p?.partitionId ?? entry.partitionId,
      target: {blobName: entry.blobName, etag: current?.etag ?? null, metadata: current?.metadata ?? null},
      action,
      before,
      after: heldBack ? before : after,
      delta: seqBefore !== null && seqAfter !== null ? seqBefore - seqAfter : null,
      // The owner from every stored spelling of the group: a Java processor's `$Default` guards a `$default` blob too.
      ...ownerOf(findPartition(owners, entry.partitionId)),
      warnings: [],
      ...(heldBack ? {heldBack} : {}),
    }
  })
}

/** For an undo: why an entry is left alone, or undefined when it is to be restored (or already is). */
function undoVerdict(
  entry: RestoreEntry,
  holds: (metadata: Record<string, string> | null) => boolean,
  etagNow: string | null,
): PlanItem['heldBack'] {
  if (entry.written === undefined || holds(entry.metadata)) return undefined
  if (entry.outcome === 'not-written') return {status: 'unchanged', reason: 'the change did not write this blob: left alone'}
  // Holding the same value is not enough when the ETag says someone wrote it again since (the same value, later).
  const rewritten = entry.writtenEtag !== undefined && etagNow !== null && !sameEtag(etagNow, entry.writtenEtag)
  if (holds(entry.written) && !rewritten) return undefined
  return entry.outcome === 'written'
    ? {status: 'conflict', reason: 'changed since the change wrote it: left alone'}
    : {status: 'conflict', reason: 'does not hold what the change would have written (changed since, or never written): left alone'}
}

function selected(view: GroupView, partitionIds: string[] | undefined): PartitionView[] {
  if (!partitionIds) return view.partitions
  return partitionIds.map((id) => {
    const p = findPartition(view, id)
    if (!p) throw notFoundError(`No checkpoint or ownership for partition ${id} in ${groupPath(view)}.`)
    return p
  })
}

/** Problems of the source data that make a partition unsafe to copy from. */
export function pairProblem(position: {sequenceNumber: number | null; offset: string | null}): string | null {
  if (position.sequenceNumber === null) return 'has no usable sequence number'
  if (position.offset === null) return 'has no offset (a matching pair cannot be written)'
  return null
}
