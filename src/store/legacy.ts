/**
 * Legacy lease-blob groups in a container listing (EventProcessorHost, Functions v4, Python v1, Go v3,
 * Dapr): gathered by name, Content-Length and lease state as the listing streams, then confirmed with at
 * most one small body read per group. Blobs no legacy writer wrote stay foreign.
 */
import {mapBounded} from '../concurrency.js'
import type {StoredBlob} from './blob-rest.js'
import {parseBlobName, type Problem} from './codec.js'
import {
  DIALECT_WRITERS,
  decodeLegacyBody,
  functionsEscape,
  type Dialect,
  LAYOUT_DIALECTS,
  type LegacyLayout,
  type LegacyNameCandidate,
  legacyNameCandidates,
  MAX_LEGACY_BODY_BYTES,
} from './layouts.js'

/** A `list` row for a legacy group: fields the layout does not record are null. */
export interface LegacyGroupSummary {
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
  layout: LegacyLayout
  /** The name prefix its blobs share ("" for root-level layouts). */
  blobPrefix: string
  /** Who wrote it, from the body read to confirm it. */
  writer: string
  /** Lease blobs (one per partition). */
  partitions: number
  /** Not known from a listing: each position is in its blob's body (`ehcp show --layout` reads them). */
  checkpoints: null
  /** Partitions whose blob lease is held: a live host owns them. */
  ownedPartitions: number
  /** OWNINGHOST of the leased blobs, where the writer sets it (EventProcessorHost does). */
  activeOwners: string[]
  /** The newest body or metadata write of the group's blobs (a checkpoint or an ownership change). */
  lastCheckpointAt: string | null
  problems: Problem[]
  /** With --lag: not read by `list` (positions are in the bodies); `reason` says where to read it. */
  lag?: {total: null; max: null; states: Partial<Record<string, number>>; reason: string}
}

/** What the scope flags ask of a legacy row: a given name matches only a layout that records it. */
export interface LegacyFilter {
  namespace?: string
  eventHub?: string
  consumerGroup?: string
  layout?: string
}

const MAX_KEPT_NAMES = 100

interface Pending {
  candidates: LegacyNameCandidate[]
  sample: string
  partitions: Set<string>
  leased: number
  owners: Set<string>
  lastModifiedMs: number
  /** The first names, to report them as foreign if the group turns out to be no legacy group. */
  names: Array<{name: string; contentLength?: number}>
  count: number
}

/** Bodies read at most per group to tell its writer (the first that decodes decides). */
const SAMPLES = 3

const owningHost = (metadata: Record<string, string>) => Object.entries(metadata).find(([k]) => k.toLowerCase() === 'owninghost')?.[1]

const matches = (value: string | null, wanted: string | undefined) =>
  wanted === undefined || (value !== null && value.toLowerCase() === wanted.toLowerCase())

export class LegacyTally {
  private readonly pending = new Map<string, Pending>()

  constructor(private readonly container: string) {}

  /** Takes a blob that is not a modern checkpoint-store blob; false when no legacy layout names blobs so. */
  add(blob: StoredBlob): boolean {
    const size = blob.contentLength ?? 0
    // A modern name with content is a stray file in a modern group, not a lease blob.
    if (size === 0 || size > MAX_LEGACY_BODY_BYTES || parseBlobName(blob.name)) return false
    const candidates = legacyNameCandidates(blob.name, this.container)
    if (candidates.length === 0) return false
    // Every candidate of one name shares the directory; Dapr names carry their own prefix.
    const key = candidates[0]!.layout === 'dapr' ? candidates[0]!.prefix : blob.name.slice(0, blob.name.lastIndexOf('/') + 1)
    let p = this.pending.get(key)
    if (!p) {
      p = {
        candidates,
        sample: blob.name,
        partitions: new Set(),
        leased: 0,
        owners: new Set(),
        lastModifiedMs: -Infinity,
        names: [],
        count: 0,
      }
      this.pending.set(key, p)
    }
    p.partitions.add(candidates[0]!.partitionId)
    if (blob.leaseState === 'leased') {
      p.leased++
      const host = owningHost(blob.metadata)
      if (host) p.owners.add(host)
    }
    p.lastModifiedMs = Math.max(p.lastModifiedMs, blob.lastModified.getTime())
    p.count++
    if (p.names.length < MAX_KEPT_NAMES) p.names.push({name: blob.name, contentLength: blob.contentLength})
    return true
  }

  /**
   * Reads one body per gathered group to tell its writer (a name alone cannot tell EPH from Go, or Go from
   * Python). Groups whose body no legacy writer wrote are handed back as foreign blobs.
   */
  async confirm(
    readBody: (name: string) => Promise<string | null>,
    filter: LegacyFilter,
  ): Promise<{groups: LegacyGroupSummary[]; foreign: Array<{name: string; contentLength?: number}>; foreignUnlisted: number}> {
    const groups: LegacyGroupSummary[] = []
    const foreign: Array<{name: string; contentLength?: number}> = []
    let foreignUnlisted = 0
    const entries = [...this.pending.values()].filter((p) => p.candidates.some((c) => candidateMatches(c, filter)))
    const dialects = await mapBounded(entries, 32, async (p) => {
      // A corrupt body (truncated, not JSON) does not hide its group: its next blobs are tried, a few at most.
      for (const name of [p.sample, ...p.names.map((n) => n.name).filter((n) => n !== p.sample)].slice(0, SAMPLES)) {
        const dialect = sampleDialect(await readBody(name))
        if (dialect) return dialect
      }
      return null
    })
    entries.forEach((p, i) => {
      const dialect = dialects[i]!
      const candidate = dialect && p.candidates.find((c) => LAYOUT_DIALECTS[c.layout].includes(dialect) && candidateMatches(c, filter))
      if (!dialect || !candidate) {
        foreign.push(...p.names)
        foreignUnlisted += p.count - p.names.length
        return
      }
      groups.push({
        namespace: candidate.namespace,
        eventHub: candidate.eventHub,
        consumerGroup: candidate.consumerGroup,
        layout: candidate.layout,
        blobPrefix: candidate.prefix,
        writer: DIALECT_WRITERS[dialect],
        partitions: p.partitions.size,
        checkpoints: null,
        ownedPartitions: p.leased,
        activeOwners: [...p.owners].sort(),
        lastCheckpointAt: Number.isFinite(p.lastModifiedMs) ? new Date(p.lastModifiedMs).toISOString() : null,
        problems: [],
      })
    })
    const where = (g: LegacyGroupSummary) => `${g.blobPrefix}${g.consumerGroup ?? ''}`
    groups.sort((a, b) => a.layout.localeCompare(b.layout, 'en') || where(a).localeCompare(where(b), 'en'))
    return {groups, foreign, foreignUnlisted}
  }
}

function candidateMatches(c: LegacyNameCandidate, filter: LegacyFilter): boolean {
  // Functions v4 stores the namespace and hub escaped: either spelling of a name finds it.
  const escaped = (value: string | null, wanted: string | undefined) =>
    c.layout === 'functions-v4' && wanted !== undefined && value === functionsEscape(wanted)
  return (
    (filter.layout === undefined || filter.layout === c.layout) &&
    (matches(c.namespace, filter.namespace) || escaped(c.namespace, filter.namespace)) &&
    (matches(c.eventHub, filter.eventHub) || escaped(c.eventHub, filter.eventHub)) &&
    matches(c.consumerGroup, filter.consumerGroup)
  )
}

function sampleDialect(text: string | null): Dialect | null {
  if (text === null) return null
  const read = decodeLegacyBody(text)
  return read.ok ? read.record.dialect : null
}

/** `list --lag` does not read legacy bodies: where the lag of such a group is read instead. */
export function legacyLagNotRead(group: LegacyGroupSummary): NonNullable<LegacyGroupSummary['lag']> {
  return {
    total: null,
    max: null,
    states: {},
    reason: `list does not read ${group.layout} positions: ehcp show --layout ${group.layout} … --lag reads them`,
  }
}
