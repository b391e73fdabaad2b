/**
 * Changes to the lease blobs retired SDKs left (EventProcessorHost, Functions v4, Python v1, Go v3, Dapr),
 * planned for the same pipeline as modern changes: a position change rewrites only the position fields of
 * the JSON body (every other field, and the metadata, as read), under If-Match the ETag read here; a leased
 * blob is an active owner, whose lease `--force` breaks first; an undo puts the whole body back byte for
 * byte; release-ownership breaks leases. Pure: no I/O.
 */
import {notFoundError} from '../errors.js'
import {holdsState, inPartitions} from '../store/codec.js'
import {sameEtag} from '../store/etag.js'
import {findPartition} from '../store/group.js'
import {decodeLegacyBody, LAYOUT_DIALECTS, type LegacyLayout, rewriteLegacyPosition} from '../store/layouts.js'
import type {LegacyGroupView, LegacyPartitionView} from '../store/legacy-group.js'
import type {ChangePlan, ChangeSide, PlanItem, RestoreEntry, TargetPosition} from './plan.js'

/** Who holds a legacy partition: EventProcessorHost's OWNINGHOST metadata, else the body's owner. */
const holderOf = (p: LegacyPartitionView | undefined): string | null => p?.legacy.owningHost ?? p?.ownership?.ownerId ?? null

/** A lease that refuses a write without its id: held, or being broken. */
export const isLeased = (p: LegacyPartitionView | undefined): boolean =>
  p?.legacy.leaseState === 'leased' || p?.legacy.leaseState === 'breaking'

export const BREAK_NOTE =
  'Breaking a lease takes the partition from its host at once: the host stops processing it, and re-reads the blob (with the position written here) when it re-acquires it.'

/** The position a body records, as the plan shows it: Go's sentinels keep their raw offset (-1, @latest) and no sequence number. */
export function legacySide(body: string | null, layout: LegacyLayout): {sequenceNumber: number | null; offset: string | null} | null {
  if (body === null) return null
  const read = decodeLegacyBody(body, LAYOUT_DIALECTS[layout])
  if (!read.ok) return null
  const position = read.record.position
  switch (position.kind) {
    case 'none':
      return null
    case 'position':
      return {sequenceNumber: position.sequenceNumber, offset: position.offset}
    case 'sentinel':
      return {sequenceNumber: null, offset: position.sentinel === 'start-of-stream' ? '-1' : '@latest'}
    case 'after-time':
      return {sequenceNumber: position.sequenceNumber, offset: null}
  }
}

function targetOf(p: LegacyPartitionView): PlanItem['target'] {
  return {blobName: p.ownership!.blobName, etag: p.ownership!.etag, metadata: p.ownership!.metadata, body: p.legacy.body}
}

function owner(p: LegacyPartitionView | undefined): Pick<PlanItem, 'ownerState' | 'ownerId'> {
  return {ownerState: p?.ownership?.state ?? 'none', ownerId: holderOf(p)}
}

function breakWarning(p: LegacyPartitionView): string {
  return `--force: the blob lease held by ${holderOf(p) || 'a host'} is broken before writing; the host re-reads the blob when it re-acquires it`
}

/**
 * Moves legacy checkpoints to target positions: the body with only its position fields changed. A partition
 * with no lease blob, or whose body no writer of the layout wrote, is left as it is (ehcp creates no lease blobs).
 */
export function planLegacyPositions(view: LegacyGroupView, targets: TargetPosition[], options: {force: boolean}): PlanItem[] {
  return targets.map(({partitionId, position, warnings = []}): PlanItem => {
    const p = findPartition(view, partitionId)
    if (!p?.ownership) {
      return {
        partitionId,
        target: {blobName: `${view.blobPrefix}${partitionId}`, etag: null, metadata: null},
        action: {kind: 'none'},
        before: null,
        after: null,
        delta: null,
        ...owner(p),
        warnings: [...warnings, 'no lease blob for this partition: left as it is (ehcp creates no lease blobs)'],
      }
    }
    const before = legacySide(p.legacy.body, view.layout)
    const decoded = p.legacy.dialect !== null
    const all = [...warnings]
    if (!decoded) all.push(`the body is not one the ${view.layout} layout's writers write: left as it is`)
    if (p.legacy.position === 'start-of-stream' || p.legacy.position === 'end-of-stream')
      all.push(`replaces Go's ${p.legacy.position} sentinel (${before?.offset}) with a position`)
    const same =
      position !== null &&
      p.legacy.position === 'checkpoint' &&
      before?.sequenceNumber === position.sequenceNumber &&
      before.offset === position.offset
    const rewritten = position !== null && decoded && !same ? rewriteLegacyPosition(p.legacy.body, position) : null
    if (rewritten && !rewritten.ok) all.push(`${rewritten.problem.message}: left as it is`)
    const changes = position !== null && rewritten?.ok === true
    const breaks = changes && options.force && isLeased(p)
    if (breaks) all.push(breakWarning(p))
    return {
      partitionId: p.partitionId,
      target: targetOf(p),
      action: changes ? {kind: 'write-body', body: rewritten.body, metadata: p.ownership.metadata, breakLease: breaks} : {kind: 'none'},
      before,
      after: changes ? {...position} : before,
      delta:
        changes && p.legacy.position === 'checkpoint' && before?.sequenceNumber != null
          ? before.sequenceNumber - position.sequenceNumber
          : null,
      ...owner(p),
      warnings: all,
    }
  })
}

/** The partitions named (all without a list); an unknown one is "not found". */
function selected(view: LegacyGroupView, partitionIds: string[] | undefined): LegacyPartitionView[] {
  if (!partitionIds) return view.partitions
  return partitionIds.map((id) => {
    const p = findPartition(view, id)
    if (!p) throw notFoundError(`No lease blob for partition ${id} under "${view.blobPrefix}".`)
    return p
  })
}

/** Whether `ownerId` names the holder of a partition: its OWNINGHOST or the owner its body records. */
function ownedBy(p: LegacyPartitionView, ownerId: string): boolean {
  return p.legacy.owningHost === ownerId || p.ownership?.ownerId === ownerId
}

/**
 * Breaks the leases of legacy partitions (optionally only one owner's): the host loses the partition at its
 * next renewal, and the next host to acquire it resumes from the checkpoint in the body. Body and metadata stay.
 */
export function planLegacyReleases(view: LegacyGroupView, partitionIds: string[] | undefined, ownerId: string | undefined): PlanItem[] {
  return selected(view, partitionIds)
    .filter((p) => p.ownership && (ownerId === undefined || ownedBy(p, ownerId)))
    .map((p) => {
      const leased = isLeased(p)
      const holder = holderOf(p)
      return {
        partitionId: p.partitionId,
        target: targetOf(p),
        action: leased ? {kind: 'break-lease', metadata: p.ownership!.metadata} : {kind: 'none'},
        before: {ownerId: holder},
        after: {ownerId: leased ? '' : holder},
        delta: null,
        ...owner(p),
        warnings: leased
          ? [
              'the lease is broken: the host loses the partition at its next renewal; the next host to acquire it resumes from the checkpoint in the body',
            ]
          : ['no lease held: nothing to break'],
      }
    })
}

/**
 * Puts legacy lease blobs back as a backup recorded them: the whole body byte for byte, and the metadata. Only
 * a blob that still holds the body the change left (and, when known, the ETag its write left) is restored;
 * anything written since (a host's checkpoint, a host re-acquiring the lease) is left alone, as a conflict.
 */
export function planLegacyRestore(view: LegacyGroupView, entries: RestoreEntry[], options: {force: boolean}): PlanItem[] {
  return entries.map((entry): PlanItem => {
    const p = view.partitions.find((q) => q.ownership?.blobName === entry.blobName)
    const current = p?.legacy.body ?? null
    const before = legacySide(current, view.layout)
    const after = legacySide(entry.body ?? null, view.layout)
    const holdsBackup = p !== undefined && current === entry.body && holdsState(p.ownership!.metadata, entry.metadata)
    const rewritten = entry.writtenEtag !== undefined && p !== undefined && !sameEtag(p.ownership!.etag, entry.writtenEtag)
    const heldBack: PlanItem['heldBack'] = holdsBackup
      ? undefined
      : !p
        ? {status: 'conflict', reason: 'the lease blob no longer exists: left alone (ehcp creates no lease blobs)'}
        : entry.outcome === 'not-written'
          ? {status: 'unchanged', reason: 'the change did not write this blob: left alone'}
          : current !== entry.writtenBody || rewritten
            ? {status: 'conflict', reason: 'changed since the change wrote it (a host checkpointed or re-acquired it): left alone'}
            : undefined
    const restores = !holdsBackup && !heldBack && p !== undefined && entry.body !== undefined
    const breaks = restores && options.force && isLeased(p)
    const warnings = breaks ? [breakWarning(p)] : []
    const seqBefore = before?.sequenceNumber ?? null
    const seqAfter = after?.sequenceNumber ?? null
    return {
      partitionId: p?.partitionId ?? entry.partitionId,
      target: p ? targetOf(p) : {blobName: entry.blobName, etag: null, metadata: null},
      action: restores ? {kind: 'write-body', body: entry.body!, metadata: entry.metadata ?? {}, breakLease: breaks} : {kind: 'none'},
      before: before as ChangeSide | null,
      after: heldBack ? before : after,
      delta: restores && seqBefore !== null && seqAfter !== null ? seqBefore - seqAfter : null,
      ...owner(p),
      warnings,
      ...(heldBack ? {heldBack} : {}),
    }
  })
}

/** The plan of a change to a legacy group: its layout and prefix named; the names it does not record are "". */
export function legacyChangePlan(
  view: LegacyGroupView,
  container: string,
  change: Pick<ChangePlan, 'operation' | 'scenario' | 'guarded' | 'items'> & {notes?: string[]},
): ChangePlan {
  const breaking = change.items.filter((i) => i.action.kind === 'write-body' && i.action.breakLease)
  return {
    operation: change.operation,
    scenario: change.scenario,
    container,
    namespace: view.namespace ?? '',
    eventHub: view.eventHub ?? '',
    consumerGroup: view.consumerGroup ?? '',
    legacy: {layout: view.layout, blobPrefix: view.blobPrefix},
    prefixes: [view.blobPrefix],
    guarded: change.guarded,
    notes: [...(change.notes ?? []), ...(breaking.length > 0 || change.operation === 'release-ownership' ? [BREAK_NOTE] : [])],
    items: change.items,
  }
}

/** Only the partitions asked for (all without --partition). */
export function onlyPartitions(entries: RestoreEntry[], partitions: string[] | undefined): RestoreEntry[] {
  return entries.filter((e) => inPartitions(partitions, e.partitionId))
}
