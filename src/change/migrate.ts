/**
 * `ehcp migrate`: a legacy group's positions (EventProcessorHost, Functions v4, Python v1, Go v3, Dapr)
 * written as modern checkpoints, by the rules every official migration path agrees on: positions copied as
 * they are ("last processed" both sides), new blobs created under If-None-Match: *, an existing modern
 * checkpoint left alone unless overwritten on purpose, no ownership migrated, nothing migrated while a
 * legacy host still holds a lease, sentinels never copied, the legacy blobs kept. Pure planning over what
 * the store read; the command owns the connections.
 */
import {EhcpError, ExitCode, usageError} from '../errors.js'
import {inPartitions} from '../store/codec.js'
import type {GroupView} from '../store/group.js'
import type {LegacyGroupView} from '../store/legacy-group.js'
import type {CheckpointStore} from '../store/store.js'
import type {PartitionInfo} from '../eventhubs/reader.js'
import type {TargetPosition} from './plan.js'

export interface MigrateOptions {
  /** Replace modern checkpoints that already exist (otherwise they are left alone and reported). */
  overwrite: boolean
  /** Go sentinels: skip them (default), or resolve them as `reset --to-earliest` / `--to-latest` would. */
  sentinels: 'skip' | 'earliest' | 'latest'
  /** Proceed although legacy hosts still hold leases (they keep running on the old layout). */
  force: boolean
  partitions?: string[]
}

export interface MigrateTargets {
  targets: TargetPosition[]
  /** Partitions whose sentinel is to be resolved in Event Hubs (earliest or latest), by the command. */
  sentinelPartitions: string[]
  notes: string[]
}

/** The legacy hosts still holding leases: a migration while they run would be overwritten or duplicated. */
export function leasedSourceError(source: LegacyGroupView): EhcpError | null {
  const leased = source.partitions.filter((p) => p.legacy.leaseState === 'leased')
  if (leased.length === 0) return null
  const owners = [...new Set(leased.map((p) => p.ownership?.ownerId || '(unnamed host)'))]
  return new EhcpError(
    'active-owners',
    `${leased.length} legacy lease blob(s) are leased by running hosts (${owners.join(', ')}): partition(s) ${leased
      .map((p) => p.partitionId)
      .join(', ')}. Old and new processors cannot run side by side; nothing was written.`,
    ExitCode.refused,
    'Stop the old hosts (their leases then expire within a minute) and run migrate again; --force migrates anyway.',
  )
}

/**
 * Lists the legacy group again right before writing (one listing, no body read): a host that took a lease
 * since the plan was read refuses the migration as it would have at plan time.
 */
export async function recheckSourceLeases(source: CheckpointStore, view: LegacyGroupView, signal?: AbortSignal): Promise<void> {
  const leased = new Map<string, string | undefined>()
  await source.listRecords(
    view.blobPrefix,
    (records) => {
      for (const {blob} of records)
        if (blob.leaseState === 'leased' || blob.leaseState === 'breaking')
          leased.set(blob.name, Object.entries(blob.metadata).find(([k]) => k.toLowerCase() === 'owninghost')?.[1])
    },
    signal,
  )
  const now = view.partitions.map((p) => {
    const name = p.ownership?.blobName ?? p.checkpoint?.blobName ?? ''
    if (!leased.has(name)) return {...p, legacy: {...p.legacy, leaseState: null}}
    const ownership = p.ownership && {...p.ownership, ownerId: leased.get(name) ?? p.ownership.ownerId}
    return {...p, ownership, legacy: {...p.legacy, leaseState: 'leased' as const}}
  })
  const error = leasedSourceError({...view, partitions: now})
  if (error) throw error
}

/**
 * Per legacy partition, the modern position to write, or why it is left out. `target` is the modern group
 * as stored now (possibly empty: migrate creates it).
 */
export function migrateTargets(source: LegacyGroupView, target: GroupView, options: MigrateOptions): MigrateTargets {
  const targets: TargetPosition[] = []
  const sentinelPartitions: string[] = []
  const notes: string[] = []
  const partitions = source.partitions.filter((p) => inPartitions(options.partitions, p.partitionId))
  if (options.partitions && partitions.length === 0)
    throw usageError(`The ${source.layout} group has no partition ${options.partitions.join(', ')}.`)
  for (const p of partitions) {
    const existing = target.partitions.find((t) => t.partitionId.toLowerCase() === p.partitionId.toLowerCase())?.checkpoint
    const skip = (why: string) => targets.push({partitionId: p.partitionId, position: null, warnings: [why]})
    if (existing && !options.overwrite) {
      skip(
        `a modern checkpoint exists (sequence ${existing.sequenceNumber ?? '?'}, offset ${existing.offset ?? '?'}): left alone (--overwrite replaces it)`,
      )
      continue
    }
    const position = p.legacy.position
    if (position === 'start-of-stream' || position === 'end-of-stream') {
      if (options.sentinels === 'skip') {
        skip(`the legacy checkpoint is the Go sentinel ${position}, not a position: not copied (--sentinels earliest|latest resolves it)`)
      } else sentinelPartitions.push(p.partitionId)
      continue
    }
    if (position === 'after-time') {
      skip(`the legacy checkpoint resumes after enqueue time ${p.legacy.enqueuedTime}: not a position (ehcp reset --to-datetime sets one)`)
      continue
    }
    const c = p.checkpoint
    if (position === 'none' || !c) {
      skip('never checkpointed (or unreadable): nothing to migrate; new processors start at their default position')
      continue
    }
    if (c.sequenceNumber === null || c.offset === null) {
      skip('the legacy checkpoint lacks its sequence number or offset: not copied')
      continue
    }
    targets.push({partitionId: p.partitionId, position: {sequenceNumber: c.sequenceNumber, offset: c.offset}})
  }
  if (options.force && leasedSourceError(source))
    notes.push('--force: legacy hosts still hold leases and keep running on the old layout; stop them before starting the new processors.')
  notes.push('Ownership is not migrated: new processors claim the partitions afresh. The legacy blobs are kept as they are.')
  if (source.layout === 'functions-v4')
    notes.push(
      'Functions v4 -> v5: without these modern checkpoints the v5 extension reads a legacy blob only at the un-escaped name ' +
        '<namespace>/<hub>/<group>/<partition>, and only PascalCase bodies: hubs with capitals or unusual characters are missed, ' +
        'and a never-checkpointed lease is read as "after event 0".',
    )
  return {targets, sentinelPartitions, notes}
}

/**
 * Positions outside `[beginning - 1, last]` of their partition (expired by retention, or from a re-created
 * hub): flagged in the plan's warnings, still the operator's call.
 */
export function flagOutOfRange(targets: TargetPosition[], infos: Map<string, PartitionInfo>): void {
  for (const t of targets) {
    if (!t.position) continue
    const info = infos.get(t.partitionId)
    if (!info) {
      t.warnings = [...(t.warnings ?? []), 'the event hub has no such partition: the new processors will not read this checkpoint']
      continue
    }
    const seq = t.position.sequenceNumber
    if (seq > info.lastEnqueuedSequenceNumber)
      t.warnings = [
        ...(t.warnings ?? []),
        `sequence ${seq} is past the last event ${info.lastEnqueuedSequenceNumber} (was the event hub re-created?): processors fail on it`,
      ]
    else if (!info.isEmpty && seq < info.beginningSequenceNumber - 1)
      t.warnings = [
        ...(t.warnings ?? []),
        `sequence ${seq} is before the oldest retained event ${info.beginningSequenceNumber}: those events expired; processors start at the oldest`,
      ]
  }
}
