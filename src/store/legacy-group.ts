/**
 * One legacy group (EventProcessorHost, Functions v4, Python v1, Go v3, Dapr), partition by partition, in
 * the same shape as a modern group's view: positions from the JSON bodies, owners from the real blob
 * leases. Every body is read (bounded parallel), with the ETag and lease state a rewrite needs.
 */
import {mapBounded} from '../concurrency.js'
import {notFoundError, usageError} from '../errors.js'
import type {LeaseState} from './blob-rest.js'
import {comparePartitionIds, type OwnerState, type Problem, sameName} from './codec.js'
import {sameEtag} from './etag.js'
import type {GroupView, OwnershipView, PartitionView} from './group.js'
import {
  decodeLegacyBody,
  type Dialect,
  FUNCTIONS_V4_CONTAINER,
  functionsEscape,
  LAYOUT_DIALECTS,
  type LegacyLayout,
  type LegacyPosition,
  legacyNameCandidates,
  legacyPrefix,
  MAX_LEGACY_BODY_BYTES,
  partitionUnder,
} from './layouts.js'
import {resolveListPrefixes, type ScopeFilter} from './scope.js'
import type {CheckpointStore} from './store.js'
import {tallyPrefixes} from './summary.js'

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

/**
 * Refuses a scope flag given on the command line that the layout does not take: it would silently mean nothing
 * (exit 2, naming the flag). `hubUse` names what --namespace and --eventhub serve besides naming the group (--lag,
 * a lookup in Event Hubs, the modern group migrate writes): given for it, they are taken. A profile's scope is
 * not given here: it applies only where the layout takes it.
 */
export function refuseScopeFlags(layout: LegacyLayout, given: Omit<LegacyScopeInput, 'groupPrefix'>, hubUse?: string): void {
  const takes = LAYOUT_SCOPE_FLAGS[layout]
  for (const key of ['namespace', 'eventHub', 'consumerGroup', 'blobPrefix'] as const) {
    if (given[key] === undefined || takes.includes(key)) continue
    const hubFlag = key === 'namespace' || key === 'eventHub'
    if (hubFlag && hubUse !== undefined) continue
    const what = takes.length
      ? `its blobs are named by ${takes
          .map((k) => FLAG_NAMES[k])
          .join(', ')
          .replace(/, ([^,]+)$/, ' and $1')} only`
      : 'its blobs are named by partition id alone (it takes no scope flag)'
    throw usageError(
      `${FLAG_NAMES[key]} does not apply to the ${layout} layout: ${what}.`,
      hubFlag
        ? `Leave out ${FLAG_NAMES[key]}; with --layout ${layout} it names the event hub only for Event Hubs (--lag, a time or earliest/latest reset, set without --offset).`
        : `Leave out ${FLAG_NAMES[key]}.`,
    )
  }
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
    // A consumer group the layout does not record (a profile's, or migrate's modern one) does not name this group.
    consumerGroup: named?.consumerGroup ?? (LAYOUT_SCOPE_FLAGS[layout].includes('consumerGroup') ? scope.consumerGroup : undefined) ?? null,
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

/**
 * The stored spellings of a legacy group prefix that differ from `prefix` only in case (names match stored
 * blobs case-insensitively; blob names themselves are case-sensitive). One listing from the last character
 * before the first one with a case (or the end of what the layout always writes lower-case), only when
 * nothing is stored under the prefix as spelt.
 */
async function caseVariants(store: CheckpointStore, layout: LegacyLayout, prefix: string, signal?: AbortSignal): Promise<string[]> {
  let cased = 0
  for (const ch of prefix) {
    if (ch.toLowerCase() !== ch.toUpperCase()) break
    cased += ch.length
  }
  if (cased === prefix.length) return []
  // Functions v4 names are escaped (lower-cased) up to the consumer group, which is not.
  const canonical = layout === 'dapr' ? 'dapr-'.length : layout === 'functions-v4' ? prefix.lastIndexOf('/', prefix.length - 2) + 1 : 0
  const fixed = prefix.slice(0, Math.max(cased, canonical))
  const wanted = prefix.toLowerCase()
  const found = new Set<string>()
  await store.listRecords(
    fixed,
    (records) => {
      for (const {blob} of records) {
        const stored = blob.name.slice(0, prefix.length)
        if (stored === prefix || stored.toLowerCase() !== wanted || !(blob.contentLength ?? 0)) continue
        if (partitionUnder(layout, stored, blob.name) !== null) found.add(stored)
      }
    },
    signal,
  )
  return [...found].sort()
}

/**
 * A legacy group read whole; none of its blobs stored is "not found". A prefix stored in another case is
 * that group (several such spellings: exit 2, naming them).
 */
export async function readLegacyShown(
  store: CheckpointStore,
  layout: LegacyLayout,
  scope: LegacyScopeInput,
  signal?: AbortSignal,
  concurrency = BODY_READS,
): Promise<LegacyGroupView> {
  const view = await readLegacyGroup(store, layout, scope, signal, concurrency)
  if (view.partitions.length > 0) return view
  const variants = await caseVariants(store, layout, view.blobPrefix, signal)
  if (variants.length > 1)
    throw usageError(
      `No ${layout} lease blobs under "${view.blobPrefix}" as spelt, and ${variants.length} groups spell it in other cases: ${variants.map((v) => `"${v}"`).join(', ')}.`,
      'Their hosts keep separate leases: name one exactly as stored.',
    )
  if (variants.length === 1) {
    const stored = await readLegacyGroup(store, layout, {...scope, groupPrefix: variants[0]}, signal, concurrency)
    if (stored.partitions.length > 0) return stored
  }
  throw emptyLegacyGroup(view)
}

/**
 * Where the legacy groups a scope can name keep their blobs. A scope flag keeps only the layouts that record
 * that name, so a scope named in full (namespace, event hub and consumer group) is Functions v4's alone, and only
 * in its container: the consumer-group folders under its escaped namespace and hub (the group keeps its
 * configured case, so they are listed and matched). A partial scope may be any layout under any prefix: the
 * scope's listing prefixes, the whole container when no namespace is named.
 */
async function legacyListPrefixes(store: CheckpointStore, filter: ScopeFilter, signal?: AbortSignal): Promise<string[]> {
  const {namespace, eventHub, consumerGroup} = filter
  if (namespace === undefined || eventHub === undefined || consumerGroup === undefined) return resolveListPrefixes(store, filter, signal)
  if (store.containerName !== FUNCTIONS_V4_CONTAINER) return []
  // The hub as the operator names it, or as `list` shows it (already escaped).
  const hubs = new Set([functionsEscape(eventHub), ...(eventHub.includes(':') ? [eventHub] : [])])
  const prefixes: string[] = []
  for (const hub of [...hubs].map((h) => `${functionsEscape(namespace)}/${h}/`)) {
    for (const group of await store.listChildren(hub, signal)) if (sameName(group, consumerGroup)) prefixes.push(`${hub}${group}/`)
  }
  return prefixes
}

/**
 * The one legacy group the scope flags name, from listings where such groups keep their blobs (one body read
 * per group): null when none does; several are a usage error naming each with the --layout that picks it.
 */
export async function findLegacyGroup(
  store: CheckpointStore,
  filter: ScopeFilter,
  signal?: AbortSignal,
): Promise<{layout: LegacyLayout; scope: LegacyScopeInput} | null> {
  const prefixes = await legacyListPrefixes(store, filter, signal)
  if (prefixes.length === 0) return null
  const tally = await tallyPrefixes(store, prefixes, filter, signal)
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
