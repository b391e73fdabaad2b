/**
 * `list`: one row per (namespace, event hub, consumer group), aggregated while the listing streams,
 * so memory grows with the number of groups and partitions, not with pages of blob items.
 */
import type {Problem} from './codec.js'
import {caseVariantProblem, foreignBlobProblem} from './group.js'
import {type GroupId, groupPath} from './group-id.js'
import {type LegacyFilter, type LegacyGroupSummary, LegacyTally} from './legacy.js'
import {matchesFilter, resolveListPrefixes, type ScopeFilter} from './scope.js'
import type {CheckpointStore, StoredRecord} from './store.js'

export interface GroupSummary extends GroupId {
  layout: 'modern'
  /** Partitions with a checkpoint or an ownership blob. */
  partitions: number
  /** Partitions with a checkpoint blob. */
  checkpoints: number
  /** Partitions whose owner is active (heartbeat younger than the ownership expiry). */
  ownedPartitions: number
  activeOwners: string[]
  lastCheckpointAt: string | null
  problems: Problem[]
  /** With --lag: events behind, over the partitions where that number is known; `reason` when the hub could not be read. */
  lag?: {total: number | null; max: number | null; states: Partial<Record<string, number>>; reason?: string}
}

export interface ContainerSummary {
  schemaVersion: 1
  container: string
  observedAt: string
  ownershipExpirySeconds: number
  /** Modern groups first (in the order of `checkpointSequences()`), then legacy ones. */
  groups: Array<GroupSummary | LegacyGroupSummary>
  /** Problems outside any group: blobs that are not checkpoint-store blobs. */
  problems: Problem[]
}

/** At most this many problems are listed per group (and for the container); the rest are counted. */
export const PROBLEM_LIST_LIMIT = 100

export class ProblemList {
  private readonly items: Problem[] = []
  private total = 0
  add(problem: Problem): void {
    this.total++
    if (this.items.length < PROBLEM_LIST_LIMIT) this.items.push(problem)
  }
  /** Problems known only by number (their details were not kept). */
  addUnlisted(count: number): void {
    this.total += count
  }
  toArray(): Problem[] {
    const more = this.total - this.items.length
    return more > 0 ? [...this.items, {code: 'more-problems', message: `${more} more problems not listed`}] : [...this.items]
  }
}

interface OwnerSeen {
  ownerId: string | null
  active: boolean
  lastModifiedMs: number
  blobName: string
}

/**
 * A copy of a string that shares no memory with the response text it was cut from: V8 keeps a substring's
 * whole parent alive, and the tally outlives every response.
 */
const detach = (text: string): string => Buffer.from(text, 'utf8').toString('utf8')

interface CheckpointSeen {
  names: string[]
  /** The sequence number of the most recently written variant (for lag). */
  sequence: number | null
  lastModifiedMs: number
}

class GroupTally {
  readonly checkpoints = new Map<string, CheckpointSeen>()
  readonly owners = new Map<string, OwnerSeen[]>()
  lastCheckpointMs = -Infinity
  readonly problems = new ProblemList()
  /** The names as first seen (detached from the response text). */
  constructor(readonly group: GroupId) {}

  add(record: Exclude<StoredRecord, {kind: 'foreign'}>): void {
    const pid = detach(record.parts.partitionId.toLowerCase())
    for (const p of record.problems)
      this.problems.add({
        ...p,
        message: detach(p.message),
        ...(p.blobName ? {blobName: detach(p.blobName)} : {}),
        ...(p.partitionId ? {partitionId: detach(p.partitionId)} : {}),
      })
    if (record.kind === 'checkpoint') {
      const modified = record.blob.lastModified.getTime()
      const seen = this.checkpoints.get(pid) ?? {names: [], sequence: null, lastModifiedMs: -Infinity}
      seen.names.push(detach(record.blob.name))
      if (modified > seen.lastModifiedMs) Object.assign(seen, {sequence: record.position.sequenceNumber, lastModifiedMs: modified})
      this.checkpoints.set(pid, seen)
      this.lastCheckpointMs = Math.max(this.lastCheckpointMs, modified)
    } else {
      const seen: OwnerSeen = {
        ownerId: record.ownerId === null ? null : detach(record.ownerId),
        active: record.state === 'active',
        lastModifiedMs: record.blob.lastModified.getTime(),
        blobName: detach(record.blob.name),
      }
      const list = this.owners.get(pid)
      if (list) list.push(seen)
      else this.owners.set(pid, [seen])
    }
  }

  summarize(): GroupSummary {
    const activeOwners = new Set<string>()
    let ownedPartitions = 0
    for (const [pid, seen] of this.owners) {
      const current = seen.reduce((a, b) => (b.lastModifiedMs > a.lastModifiedMs ? b : a))
      if (current.active && current.ownerId) {
        ownedPartitions++
        activeOwners.add(current.ownerId)
      }
      if (seen.length > 1)
        this.problems.add(
          caseVariantProblem(
            'ownership',
            pid,
            seen.map((s) => s.blobName),
          ),
        )
    }
    for (const [pid, {names}] of this.checkpoints) {
      if (names.length > 1) this.problems.add(caseVariantProblem('checkpoint', pid, names))
    }
    const partitions = new Set([...this.checkpoints.keys(), ...this.owners.keys()])
    return {
      ...this.group,
      layout: 'modern',
      partitions: partitions.size,
      checkpoints: this.checkpoints.size,
      ownedPartitions,
      activeOwners: [...activeOwners].sort(),
      lastCheckpointAt: Number.isFinite(this.lastCheckpointMs) ? new Date(this.lastCheckpointMs).toISOString() : null,
      problems: this.problems.toArray(),
    }
  }
}

const groupKey = (group: GroupId) => groupPath(group).toLowerCase()

/** Aggregates records into group rows; foreign blobs go to the group whose prefix holds them, else to the container. */
export class ContainerTally {
  private readonly groups = new Map<string, GroupTally>()
  private readonly foreign: Array<{name: string; contentLength?: number}> = []
  private foreignCount = 0
  private readonly legacy: LegacyTally
  private legacyGroups: LegacyGroupSummary[] = []
  serverTimeMs = 0

  /** `layout` keeps only the groups of that layout. */
  constructor(
    private readonly filter: ScopeFilter,
    container = '',
    private readonly layout?: string,
  ) {
    this.legacy = new LegacyTally(container)
  }

  add(records: StoredRecord[], serverTimeMs: number): void {
    this.serverTimeMs = Math.max(this.serverTimeMs, serverTimeMs)
    for (const record of records) {
      if (record.kind === 'foreign') {
        if (this.legacy.add(record.blob)) continue
        this.foreignCount++
        if (this.foreign.length < PROBLEM_LIST_LIMIT)
          this.foreign.push({name: detach(record.blob.name), contentLength: record.blob.contentLength})
        continue
      }
      const {namespace, eventHub, consumerGroup} = record.parts
      if (!matchesFilter(record.parts, this.filter) || (this.layout !== undefined && this.layout !== 'modern')) continue
      const key = groupKey(record.parts)
      let tally = this.groups.get(key)
      if (!tally) {
        tally = new GroupTally({namespace: detach(namespace), eventHub: detach(eventHub), consumerGroup: detach(consumerGroup)})
        this.groups.set(key, tally)
      }
      tally.add(record)
    }
  }

  /**
   * Confirms the legacy groups the listing gathered, one small body read each; what no legacy writer wrote
   * joins the foreign blobs.
   */
  async confirmLegacy(readBody: (name: string) => Promise<string | null>): Promise<void> {
    const filter: LegacyFilter = {...this.filter, layout: this.layout}
    const {groups, foreign, foreignUnlisted} = await this.legacy.confirm(readBody, filter)
    this.legacyGroups = this.layout === 'modern' ? [] : groups
    this.foreignCount += foreign.length + foreignUnlisted
    this.foreign.push(...foreign.slice(0, Math.max(0, PROBLEM_LIST_LIMIT - this.foreign.length)))
  }

  /** Per group (in the order of `summarize().groups`): partition id (lower-case) -> checkpoint sequence number. */
  checkpointSequences(): Array<Map<string, number | null>> {
    return this.sortedGroups().map((g) => new Map([...g.checkpoints].map(([pid, seen]) => [pid, seen.sequence])))
  }

  private sortedGroups(): GroupTally[] {
    const key = (g: GroupTally) => groupKey(g.group)
    return [...this.groups.values()].sort((a, b) => key(a).localeCompare(key(b)))
  }

  summarize(container: string, ownershipExpiryMs: number): ContainerSummary {
    // With a scope filter, blobs outside the selected groups are none of this listing's business.
    const filtered = Object.values(this.filter).some((v) => v !== undefined)
    const containerProblems = new ProblemList()
    for (const blob of this.foreign) {
      const [namespace = '', eventHub = '', consumerGroup = ''] = blob.name.split('/')
      const owner = this.groups.get(groupKey({namespace, eventHub, consumerGroup}))
      if (owner) owner.problems.add(foreignBlobProblem(blob))
      else if (!filtered) containerProblems.add(foreignBlobProblem(blob))
    }
    if (!filtered) containerProblems.addUnlisted(this.foreignCount - this.foreign.length)
    const groups = [...this.sortedGroups().map((g) => g.summarize()), ...this.legacyGroups]
    return {
      schemaVersion: 1,
      container,
      observedAt: new Date(this.serverTimeMs || Date.now()).toISOString(),
      ownershipExpirySeconds: ownershipExpiryMs / 1000,
      groups,
      problems: containerProblems.toArray(),
    }
  }
}

/** One listing per resolved prefix, aggregated as it streams; `onProgress` hears the blobs listed so far. */
export async function tallyContainer(
  store: CheckpointStore,
  filter: ScopeFilter,
  signal?: AbortSignal,
  onProgress?: (blobs: number) => void,
  layout?: string,
  observe?: (records: StoredRecord[]) => void,
): Promise<ContainerTally> {
  return tallyPrefixes(store, await resolveListPrefixes(store, filter, signal), filter, signal, onProgress, layout, observe)
}

/**
 * One flat listing under each of `prefixes`, aggregated as `tallyContainer` does, legacy groups confirmed.
 * `observe` sees every page of records as listed (doctor's per-blob evidence), before any filter.
 */
export async function tallyPrefixes(
  store: CheckpointStore,
  prefixes: string[],
  filter: ScopeFilter,
  signal?: AbortSignal,
  onProgress?: (blobs: number) => void,
  layout?: string,
  observe?: (records: StoredRecord[]) => void,
): Promise<ContainerTally> {
  const tally = new ContainerTally(filter, store.containerName, layout)
  let listed = 0
  await store.listGroup(
    prefixes,
    (records, serverTimeMs) => {
      tally.add(records, serverTimeMs)
      observe?.(records)
      onProgress?.((listed += records.length))
    },
    signal,
  )
  await tally.confirmLegacy(async (name) => (await store.readBody(name, signal))?.text ?? null)
  return tally
}
