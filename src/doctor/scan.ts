/**
 * What `doctor` learns from the one listing, per blob, beyond what `list` keeps: which spellings and metadata
 * keys each modern group's blobs carry (who wrote them), which ownerships nobody renews, and which partitions
 * have ownership blobs. Fed page by page while the listing streams; pure (no I/O).
 */
import {groupPath} from '../store/group-id.js'
import type {GroupId} from '../store/group-id.js'
import {matchesFilter, type ScopeFilter} from '../store/scope.js'
import type {StoredRecord} from '../store/store.js'

/** Blobs kept as evidence per finding: enough to act on, bounded for containers of many groups. */
export const EVIDENCE_LIMIT = 20

export interface StaleOwnership {
  partitionId: string
  ownerId: string
  lastModifiedMs: number
  blobName: string
}

export interface GroupScan {
  /** Stored spellings of the group's `{namespace}/{eventHub}/{consumerGroup}/` prefix -> blobs under each. */
  spellings: Map<string, number>
  /** Who wrote each checkpoint blob (writerOf) -> how many, and one blob as the example. */
  writers: Map<string, {blobs: number; sample: string}>
  /** Lower-cased partition ids with an ownership blob. */
  ownershipPartitions: Set<string>
  /** The newest ownership blob of each partition (ownerId "" when released or absent). */
  owners: Map<string, StaleOwnership>
}

/** A blob as the KEDA check needs it: its exact name and metadata. */
export interface ListedBlob {
  name: string
  metadata: Record<string, string>
}

const keyOf = (group: GroupId) => groupPath(group).toLowerCase()

/**
 * Who writes a modern checkpoint blob like this one, from its name's casing and its metadata keys
 * (each SDK's casing and keys, as the corpus tests record them). Several SDKs write the same shape; the label names them all.
 */
export function writerOf(parts: GroupId, metadata: Record<string, string>): string {
  const keys = Object.keys(metadata)
  const has = (key: string) => keys.includes(key)
  if (has('SequenceNumber') || has('Offset')) return 'Java checkpoint store 1.0.x (PascalCase keys)'
  if (keys.some((k) => k.toLowerCase() === 'clientidentifier')) return '.NET (client identifier key)'
  const configuredCase = [parts.namespace, parts.eventHub, parts.consumerGroup].some((s) => s !== s.toLowerCase())
  const noOffset = !keys.some((k) => k.toLowerCase() === 'offset')
  if (configuredCase) return noOffset ? 'Java 5.21 or Rust (names as configured, no offset)' : 'Java or Rust (names as configured)'
  if (noOffset) return 'Java 5.21 or Rust (no offset key)'
  return 'JS, Python, Go, Java or Rust (lower-case names and keys)'
}

export class DoctorScan {
  readonly groups = new Map<string, GroupScan>()
  /** Every blob listed in scope (with `keepBlobs`): what the KEDA check looks for. */
  readonly blobs: ListedBlob[] = []

  constructor(
    private readonly filter: ScopeFilter,
    private readonly keepBlobs: boolean,
  ) {}

  observe(records: StoredRecord[]): void {
    for (const record of records) {
      if (this.keepBlobs) this.blobs.push({name: record.blob.name, metadata: record.blob.metadata})
      if (record.kind === 'foreign' || !matchesFilter(record.parts, this.filter)) continue
      const scan = this.group(record.parts)
      const prefix = record.blob.name.slice(0, record.blob.name.length - record.parts.partitionId.length - record.parts.kind.length - 1)
      scan.spellings.set(prefix, (scan.spellings.get(prefix) ?? 0) + 1)
      const pid = record.parts.partitionId.toLowerCase()
      if (record.kind === 'checkpoint') {
        const writer = writerOf(record.parts, record.blob.metadata)
        const seen = scan.writers.get(writer)
        if (seen) seen.blobs++
        else scan.writers.set(writer, {blobs: 1, sample: record.blob.name})
      } else {
        scan.ownershipPartitions.add(pid)
        const modified = record.blob.lastModified.getTime()
        const current = scan.owners.get(pid)
        if (!current || modified > current.lastModifiedMs)
          scan.owners.set(pid, {
            partitionId: record.parts.partitionId,
            ownerId: record.ownerId ?? '',
            lastModifiedMs: modified,
            blobName: record.blob.name,
          })
      }
    }
  }

  /** The scan of a group (empty when none of its blobs was listed). */
  of(group: GroupId): GroupScan {
    return this.groups.get(keyOf(group)) ?? emptyScan()
  }

  private group(parts: GroupId): GroupScan {
    const key = keyOf(parts)
    let scan = this.groups.get(key)
    if (!scan) this.groups.set(key, (scan = emptyScan()))
    return scan
  }
}

const emptyScan = (): GroupScan => ({spellings: new Map(), writers: new Map(), ownershipPartitions: new Set(), owners: new Map()})
