/**
 * What the model expects a change to target, computed from the model alone (not from ehcp's planners):
 * per blob, the metadata before and the metadata the change writes (null: deletes). Or the error the change
 * stops with before writing anything.
 */
import type {ChangeSpec} from './ehcp-adapter.js'
import {shiftOffset} from './ehcp-adapter.js'
import {expectedUndo, type Metadata, type UndoExpectation} from './undo-spec.js'
import {
  activeOwner,
  checkpointName,
  groupExists,
  MAIN,
  type Model,
  OTHER,
  ownerOf,
  ownershipName,
  partitionsOf,
  positionOf,
  withoutKeys,
} from './world.js'

export interface Target {
  partitionId: string
  blobName: string
  before: Metadata | null
  written: Metadata | null
}

export interface ExpectedPlan {
  /** The exit code of a change stopped before writing (3 not found, 5 refused by the active-owner guard). */
  error?: number
  targets: Target[]
  /** Undo only: backup entries left alone, and what the report may say of them. */
  leftAlone: Array<{blobName: string; expectation: UndoExpectation}>
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

function setTarget(model: Model, p: string, sequenceNumber: number, offset: string): Target | null {
  const blobName = checkpointName(MAIN, p)
  const before = model.blobs.get(blobName) ?? null
  if (before) {
    const current = positionOf(before)
    if (current.sequenceNumber === sequenceNumber && current.offset === offset) return null
  }
  return {
    partitionId: p,
    blobName,
    before,
    written: {...withoutKeys(before ?? {}, ['sequencenumber', 'offset']), sequencenumber: String(sequenceNumber), offset},
  }
}

export function expectedPlan(
  model: Model,
  spec: ChangeSpec,
  force: boolean,
  undoOf?: {entries: import('./undo-spec.js').ModelEntry[]},
): ExpectedPlan {
  const none = (error: number): ExpectedPlan => ({error, targets: [], leftAlone: []})
  const wanted = (id: string) => !('partitions' in spec) || !spec.partitions || spec.partitions.some((p) => sameName(p, id))
  const mainPartitions = partitionsOf(model, MAIN)
  const leftAlone: ExpectedPlan['leftAlone'] = []
  let targets: Target[] = []
  // A group with no blobs is not found, except as the target of --from-consumer-group, which creates it (named
  // in full, in an event hub that has the source group).
  if (spec.kind !== 'undo' && spec.kind !== 'from-group' && !groupExists(model, MAIN)) return none(3)
  // --partition names a partition the group does not have: not found (delete and release select partitions).
  if ((spec.kind === 'delete' || spec.kind === 'release') && spec.partitions?.some((p) => !mainPartitions.includes(p))) return none(3)
  switch (spec.kind) {
    case 'set': {
      const t = setTarget(model, spec.partition, spec.sequenceNumber, spec.offset)
      targets = t ? [t] : []
      break
    }
    case 'shift':
      for (const p of mainPartitions.filter(wanted)) {
        const before = model.blobs.get(checkpointName(MAIN, p))
        if (!before) continue
        const {sequenceNumber} = positionOf(before)
        if (sequenceNumber === null) continue
        const to = Math.max(-1, sequenceNumber + spec.by)
        const t = setTarget(model, p, to, shiftOffset(to))
        if (t) targets.push(t)
      }
      break
    case 'delete':
      for (const p of mainPartitions.filter(wanted)) {
        const blobName = checkpointName(MAIN, p)
        const before = model.blobs.get(blobName)
        if (before) targets.push({partitionId: p, blobName, before, written: null})
      }
      break
    case 'from-group':
      if (!groupExists(model, OTHER)) return none(3)
      for (const p of partitionsOf(model, OTHER).filter(wanted)) {
        const source = model.blobs.get(checkpointName(OTHER, p))
        if (!source) continue
        const {sequenceNumber, offset} = positionOf(source)
        if (sequenceNumber === null || offset === null) continue
        const t = setTarget(model, p, sequenceNumber, offset)
        if (t) targets.push(t)
      }
      break
    case 'release': {
      let matching = 0
      for (const p of mainPartitions.filter(wanted)) {
        const blobName = ownershipName(p)
        const before = model.blobs.get(blobName)
        if (!before) continue
        const owner = ownerOf(before)
        if (spec.owner !== undefined && owner !== spec.owner) continue
        matching++
        if (owner) targets.push({partitionId: p, blobName, before, written: {...withoutKeys(before, ['ownerid']), ownerid: ''}})
      }
      if (spec.owner !== undefined && matching === 0) return none(3)
      // A blanket release (neither --owner nor --partition) of active owners: refused without --force.
      if (spec.owner === undefined && spec.partitions === undefined && !force && targets.some((t) => activeOwner(model, t.partitionId)))
        return none(2)
      break
    }
    case 'undo':
      for (const entry of undoOf!.entries.filter((e) => wanted(e.partitionId))) {
        const current = model.blobs.get(entry.blobName) ?? null
        const expectation = expectedUndo(entry, current, model.etags.get(entry.blobName) ?? null)
        if (expectation.restore)
          targets.push({partitionId: entry.partitionId, blobName: entry.blobName, before: current, written: entry.before})
        else leftAlone.push({blobName: entry.blobName, expectation})
      }
      break
  }
  const guarded = spec.kind !== 'release'
  if (guarded && !force && targets.some((t) => activeOwner(model, t.partitionId))) return {error: 5, targets: [], leftAlone: []}
  return {targets, leftAlone}
}
