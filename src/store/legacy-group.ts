/**
 * One legacy group (EventProcessorHost, Functions v4, Python v1, Go v3, Dapr), partition by partition, in
 * the same shape as a modern group's view: positions from the JSON bodies, owners from the real blob
 * leases. Every body is read (bounded parallel), with the ETag and lease state a rewrite needs.
 */
import {mapBounded} from '../concurrency.js'
import {notFoundError, usageError} from '../errors.js'
import type {LeaseState} from './blob-rest.js'
import {comparePartitionIds, type OwnerState, type Problem} from './codec.js'
import type {GroupView, OwnershipView, PartitionView} from './group.js'
import {
  decodeLegacyBody,
  type Dialect,
  LAYOUT_DIALECTS,
  type LegacyLayout,
  type LegacyPosition,
  legacyNameCandidates,
  legacyPrefix,
  MAX_LEGACY_BODY_BYTES,
  partitionUnder,
} from './layouts.js'
import type {ScopeFilter} from './scope.js'
import type {CheckpointStore} from './store.js'
import {tallyContainer} from './summary.js'

/** What the modern columns cannot say about a legacy partition. */
export interface LegacyPartitionDetail {
  dialect: Dialect | null
  /** The blob lease's real state (`leased`: a live host owns the partition). */
  leaseState: LeaseState | null
  owningHost: string | null
  epoch: number | null
  /** `checkpoint` (a position), `none` (never checkpointed), Go's sentinels, or Go's "after this enqueue time". */
  position: 'checkpoint' | 'none' | 'start-of-stream' | 'end-of-stream' | 'after-time'
  enqueuedTime: string | null
  /** The body as stored: a change rewrites only its position fields, a backup keeps it whole. */
  body: string
}

export type LegacyPartitionView = PartitionView & {legacy: LegacyPartitionDetail}

/** The names of a legacy scope: those the layout does not record are null unless the operator gave them. */
export interface LegacyGroupView extends Omit<GroupView, 'namespace' | 'eventHub' | 'consumerGroup' | 'partitions'> {
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
  layout: LegacyLayout
  blobPrefix: string
  partitions: LegacyPartitionView[]
}

export interface LegacyScopeInput {
  namespace?: string
  eventHub?: string
  consumerGroup?: string
  blobPrefix?: string
  /** The group's whole name prefix, as `list` found it (a Dapr scope whose names cannot be split). */
  groupPrefix?: string
}

/** The scope flags a layout takes (the others must not be given: they would silently mean nothing). */
export const LAYOUT_SCOPE_FLAGS: Record<LegacyLayout, ReadonlyArray<keyof LegacyScopeInput>> = {
  eph: ['consumerGroup', 'blobPrefix'],
  'functions-v4': ['namespace', 'eventHub', 'consumerGroup'],
  dapr: ['eventHub', 'consumerGroup'],
  go: ['blobPrefix'],
  'python-eph': [],
}

const FLAG_NAMES: Record<keyof LegacyScopeInput, string> = {
  groupPrefix: '',
  namespace: '--namespace',
  eventHub: '--eventhub',
  consumerGroup: '--consumer-group',
  blobPrefix: '--blob-prefix',
}

/** The blob prefix of a legacy scope; a flag the layout requires and lacks is a usage error. */
export function legacyScopePrefix(layout: LegacyLayout, scope: LegacyScopeInput): string {
  if (scope.groupPrefix !== undefined) return scope.groupPrefix
  const flags = LAYOUT_SCOPE_FLAGS[layout]
  const consumerGroup = scope.consumerGroup ?? (flags.includes('consumerGroup') ? '$Default' : undefined)
  try {
    return legacyPrefix(layout, {...scope, consumerGroup})
  } catch (error) {
    const needs = flags.filter((f) => f !== 'blobPrefix' && f !== 'consumerGroup').map((f) => FLAG_NAMES[f])
    throw usageError(
      `The ${layout} layout is named by ${needs.join(' and ')}: ${(error as Error).message.replace(/^the \S+ layout needs /, 'missing ')}.`,
    )
  }
}

/** ETags compared as the listing (bare) and a GET's header (quoted) spell them. */
const sameEtag = (a: string, b: string) => a.replace(/^(W\/)?"|"$/g, '') === b.replace(/^(W\/)?"|"$/g, '')

const owningHostOf = (metadata: Record<string, string>) =>
  Object.entries(metadata).find(([k]) => k.toLowerCase() === 'owninghost')?.[1] ?? null

function ownerStateOf(leaseState: LeaseState | null, owner: string | null): OwnerState {
  if (leaseState === 'leased') return 'active'
  if (owner === null) return 'none'
  return owner === '' ? 'released' : 'expired'
}

function positionKind(position: LegacyPosition): LegacyPartitionDetail['position'] {
  if (position.kind === 'position') return 'checkpoint'
  if (position.kind === 'sentinel') return position.sentinel
  return position.kind
}

/** Body reads in flight at once, unless the caller asks for more (migrate reads a thousand bodies and writes as many). */
const BODY_READS = 32

/**
 * Reads every partition blob of one legacy group: one listing under its prefix, then each body, at most
 * `concurrency` at once. A body no writer of this layout writes is a problem on its partition, never a
 * failure of the whole read.
 */
export async function readLegacyGroup(
  store: CheckpointStore,
  layout: LegacyLayout,
  scope: LegacyScopeInput,
  signal?: AbortSignal,
  concurrency = BODY_READS,
): Promise<LegacyGroupView> {
  const prefix = legacyScopePrefix(layout, scope)
  const names: Array<{name: string; partitionId: string; size: number; etag: string; metadata: Record<string, string>}> = []
  let serverTimeMs = 0
  await store.listRecords(
    prefix,
    (records, time) => {
      serverTimeMs = Math.max(serverTimeMs, time)
      for (const r of records) {
        const partitionId = r.kind === 'foreign' && (r.blob.contentLength ?? 0) > 0 ? partitionUnder(layout, prefix, r.blob.name) : null
        if (partitionId !== null)
          names.push({name: r.blob.name, partitionId, size: r.blob.contentLength ?? 0, etag: r.blob.etag, metadata: r.blob.metadata})
      }
    },
    signal,
  )
  const dialects = LAYOUT_DIALECTS[layout]
  const partitions = (
    await mapBounded(names, concurrency, async (listed): Promise<LegacyPartitionView | null> => {
      const {name, partitionId, size} = listed
      if (size > MAX_LEGACY_BODY_BYTES) {
        // Not read: no lease blob is that large.
        return {
          partitionId,
          checkpoint: null,
          ownership: null,
          problems: [
            {
              code: 'oversized-body',
              message: `the body is ${size} bytes: no legacy lease blob is that large; not read`,
              blobName: name,
              partitionId,
            },
          ],
          legacy: {dialect: null, leaseState: null, owningHost: null, epoch: null, position: 'none', enqueuedTime: null, body: ''},
        }
      }
      const stored = await store.readBody(name, signal)
      if (!stored) return null // deleted since the listing
      // A GET's headers lower-case metadata names; the listing keeps them as stored (OWNINGHOST), and a rewrite keeps them so.
      const blob = sameEtag(stored.etag, listed.etag) ? {...stored, metadata: listed.metadata} : stored
      const problems: Problem[] = []
      const read = decodeLegacyBody(blob.text, dialects)
      const owningHost = owningHostOf(blob.metadata)
      const lastModified = blob.lastModified?.toISOString() ?? new Date(serverTimeMs).toISOString()
      const leaseState = blob.leaseState ?? null
      if (!read.ok) {
        problems.push({...read.problem, blobName: name, partitionId})
        return {
          partitionId,
          checkpoint: null,
          ownership: ownership(name, blob.etag, lastModified, blob.metadata, leaseState, owningHost),
          problems,
          legacy: {dialect: null, leaseState, owningHost, epoch: null, position: 'none', enqueuedTime: null, body: blob.text},
        }
      }
      const {record} = read
      for (const p of record.problems) problems.push({...p, blobName: name, partitionId})
      if (record.partitionId !== null && record.partitionId !== partitionId)
        problems.push({
          code: 'partition-id-mismatch',
          message: `the body names partition ${JSON.stringify(record.partitionId)}, the blob name partition ${partitionId}`,
          blobName: name,
          partitionId,
        })
      const position = record.position
      return {
        partitionId,
        checkpoint:
          position.kind === 'position'
            ? {
                sequenceNumber: position.sequenceNumber,
                offset: position.offset,
                lastModified,
                etag: blob.etag,
                blobName: name,
                metadata: blob.metadata,
              }
            : null,
        ownership: ownership(name, blob.etag, lastModified, blob.metadata, leaseState, owningHost ?? record.owner),
        problems,
        legacy: {
          dialect: record.dialect,
          leaseState,
          owningHost,
          epoch: record.epoch,
          position: positionKind(position),
          enqueuedTime: position.kind === 'position' || position.kind === 'after-time' ? position.enqueuedTime : null,
          body: blob.text,
        },
      }
    })
  ).filter((p): p is LegacyPartitionView => p !== null)
  partitions.sort((a, b) => comparePartitionIds(a.partitionId, b.partitionId))
  const [named] = names.length ? legacyNameCandidates(names[0]!.name, store.containerName).filter((c) => c.layout === layout) : []
  return {
    schemaVersion: 1,
    namespace: named?.namespace ?? scope.namespace ?? null,
    eventHub: named?.eventHub ?? scope.eventHub ?? null,
    consumerGroup: named?.consumerGroup ?? scope.consumerGroup ?? null,
    layout,
    blobPrefix: prefix,
    observedAt: new Date(serverTimeMs || Date.now()).toISOString(),
    ownershipExpirySeconds: store.ownershipExpiryMs / 1000,
    partitions,
    problems: [],
  }
}

function ownership(
  blobName: string,
  etag: string,
  lastModified: string,
  metadata: Record<string, string>,
  leaseState: LeaseState | null,
  owner: string | null,
): OwnershipView {
  return {ownerId: owner, state: ownerStateOf(leaseState, owner), lastModified, etag, blobName, metadata}
}

/** A legacy group with no partition blobs under its prefix: not found, with what the scope named. */
export function emptyLegacyGroup(view: LegacyGroupView): Error {
  const where = view.blobPrefix ? `under "${view.blobPrefix}"` : 'at the container root'
  return notFoundError(`No ${view.layout} lease blobs ${where}.`, 'ehcp list shows the groups of every layout this container holds.')
}

/** A legacy group read whole; none of its blobs stored is "not found". */
export async function readLegacyShown(
  store: CheckpointStore,
  layout: LegacyLayout,
  scope: LegacyScopeInput,
  signal?: AbortSignal,
  concurrency = BODY_READS,
): Promise<LegacyGroupView> {
  const view = await readLegacyGroup(store, layout, scope, signal, concurrency)
  if (view.partitions.length === 0) throw emptyLegacyGroup(view)
  return view
}

/**
 * The one legacy group the scope flags name, from a listing of the container (one body read per group):
 * null when none does; several are a usage error naming each with the --layout that picks it.
 */
export async function findLegacyGroup(
  store: CheckpointStore,
  filter: ScopeFilter,
  signal?: AbortSignal,
): Promise<{layout: LegacyLayout; scope: LegacyScopeInput} | null> {
  const tally = await tallyContainer(store, filter, signal)
  const legacy = tally.summarize(store.containerName, store.ownershipExpiryMs).groups.filter((g) => g.layout !== 'modern')
  if (legacy.length === 0) return null
  if (legacy.length > 1) {
    const named = legacy.map((g) => `${g.layout} ${g.blobPrefix}${g.layout === 'eph' ? `${g.consumerGroup}/` : ''}`.trim())
    throw usageError(
      `No modern group here, and several legacy groups match: ${named.join(', ')}.`,
      'Pass --layout (and its scope flags) to choose one.',
    )
  }
  const g = legacy[0]!
  const groupPrefix = g.layout === 'eph' ? `${g.blobPrefix}${g.consumerGroup}/` : g.blobPrefix
  return {
    layout: g.layout,
    scope: {
      groupPrefix,
      namespace: g.namespace ?? filter.namespace,
      eventHub: g.eventHub ?? filter.eventHub,
      consumerGroup: g.consumerGroup ?? undefined,
    },
  }
}
