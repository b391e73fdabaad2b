/**
 * One round of a scope (one group, an event hub's groups, or the container's): ONE flat listing of the
 * scope's blobs, and each event hub's partition properties read ONCE per round however many of its groups
 * the scope holds. The lag in events comes from the properties (lagFromProperties, as `list --lag`); the
 * round is bounded by a deadline. The first round resolves the scope's prefixes (small directory
 * listings); later rounds reuse them.
 */
import {withDeadline} from '../concurrency.js'
import {classifyError, ExitCode, NAMESPACE_NOT_COVERED, unreachableError} from '../errors.js'
import {type HubRunner, hubPartitionInfos, lagOf, type PartitionViewWithLag} from '../eventhubs/lag.js'
import type {PartitionInfo} from '../eventhubs/reader.js'
import {comparePartitionIds} from '../store/codec.js'
import {buildGroupView, type GroupView} from '../store/group.js'
import {type GroupRef, matchesFilter, resolveGroup, resolveListPrefixes, type ScopeFilter} from '../store/scope.js'
import type {CheckpointStore, StoredRecord} from '../store/store.js'
import type {GroupRound} from './tracker.js'

/** A round's document for one group: `show --lag --json`'s fields plus `round` and `at`. */
export type SampledGroup = Omit<GroupView, 'partitions'> & {partitions: PartitionViewWithLag[]; round: number; at: string; reason?: string}

export interface SamplerOptions {
  store: CheckpointStore
  filter: ScopeFilter
  /** One group (as `show`: the consumer group defaults to $Default), else every group the filter matches (as `list`). */
  oneGroup: boolean
  /** Runs a function with a reader of an event hub (the command's withEventHub). */
  withHub: HubRunner
  /** Bound on one round, ms. */
  timeoutMs: number
  /** Partition properties read at once per hub. */
  concurrency?: number
  /** The clock (tests). */
  now?: () => number
}

export class Sampler {
  private round = 0
  private prefixes: string[] | undefined
  private oneRef: GroupRef | undefined

  constructor(private readonly options: SamplerOptions) {}

  /** Rounds read so far. */
  get rounds(): number {
    return this.round
  }

  /** Reads one round: a document per group, groups in path order. */
  async sample(signal?: AbortSignal): Promise<SampledGroup[]> {
    const {timeoutMs} = this.options
    const timedOut = () => unreachableError(`A round did not finish within ${timeoutMs / 1000}s.`, 'Check the network, or raise --timeout.')
    const groups = await withDeadline(timeoutMs, signal, (bounded) => this.read(bounded), timedOut)
    this.round++
    return groups
  }

  private async read(signal: AbortSignal): Promise<SampledGroup[]> {
    const {store, filter, oneGroup} = this.options
    const now = this.options.now ?? Date.now
    const at = new Date(now()).toISOString()
    if (this.prefixes === undefined) {
      if (oneGroup) {
        this.oneRef = await resolveGroup(store, filter, signal)
        this.prefixes = this.oneRef.prefixes
      } else {
        this.prefixes = await resolveListPrefixes(store, filter, signal)
      }
    }
    const records: StoredRecord[] = []
    let serverTimeMs = 0
    await store.listGroup(
      this.prefixes,
      (batch, time) => {
        for (const r of batch) records.push(r)
        serverTimeMs = Math.max(serverTimeMs, time)
      },
      signal,
    )
    const views = this.views(records, serverTimeMs || now())
    const round = this.round + 1
    const sampled: SampledGroup[] = views.map((v) => ({...v, round, at}))
    await this.addLags(sampled, now)
    return sampled
  }

  /** The listed records as one view per group. */
  private views(records: StoredRecord[], serverTimeMs: number): GroupView[] {
    const {store, filter} = this.options
    if (this.oneRef) return [buildGroupView(this.oneRef, records, serverTimeMs, store.ownershipExpiryMs)]
    const byGroup = new Map<string, {ref: GroupRef; records: StoredRecord[]}>()
    for (const r of records) {
      if (r.kind === 'foreign' || !matchesFilter(r.parts, filter)) continue
      const {namespace, eventHub, consumerGroup} = r.parts
      const key = `${namespace}/${eventHub}/${consumerGroup}`.toLowerCase()
      const entry = byGroup.get(key) ?? {ref: {namespace, eventHub, consumerGroup, prefixes: []}, records: []}
      entry.records.push(r)
      byGroup.set(key, entry)
    }
    return [...byGroup.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, {ref, records: rs}]) => buildGroupView(ref, rs, serverTimeMs, store.ownershipExpiryMs))
  }

  /** Each hub's partition properties read once; every group of the hub gets its lag from them. */
  private async addLags(groups: SampledGroup[], now: () => number): Promise<void> {
    const hubs = new Map<string, SampledGroup[]>()
    for (const g of groups) {
      const key = `${g.namespace}/${g.eventHub}`.toLowerCase()
      hubs.set(key, [...(hubs.get(key) ?? []), g])
    }
    for (const members of hubs.values()) {
      const first = members[0]!
      let infos: Map<string, PartitionInfo>
      try {
        infos = await this.options.withHub(first.namespace, first.eventHub, (reader) =>
          hubPartitionInfos(reader, this.options.concurrency ?? 128),
        )
      } catch (error) {
        const e = classifyError(error)
        if (e.exitCode === ExitCode.auth || (e.exitCode === ExitCode.usage && e.code !== NAMESPACE_NOT_COVERED)) throw e
        for (const g of members) g.reason = e.message
        continue
      }
      const readAt = now()
      for (const g of members) g.partitions = withLag(g.partitions, infos, readAt)
    }
  }
}

/** Every partition of the hub (with or without blobs), each with its lag from the properties. */
export function withLag(partitions: PartitionViewWithLag[], infos: Map<string, PartitionInfo>, nowMs: number): PartitionViewWithLag[] {
  const all: PartitionViewWithLag[] = [...partitions]
  for (const id of infos.keys()) {
    if (!all.some((p) => p.partitionId.toLowerCase() === id.toLowerCase()))
      all.push({partitionId: id, checkpoint: null, ownership: null, problems: []})
  }
  for (const p of all) {
    const info = [...infos].find(([id]) => id.toLowerCase() === p.partitionId.toLowerCase())?.[1]
    if (!info) continue
    // The time lag needs an event read per partition (show --lag's job): not read in a round.
    p.lag = lagOf({info, checkpointSequence: p.checkpoint?.sequenceNumber ?? null, next: null}, nowMs)
  }
  return all.sort((a, b) => comparePartitionIds(a.partitionId, b.partitionId))
}

/** A sampled group as the tracker reads it. */
export const asRound = (g: SampledGroup): GroupRound => g
