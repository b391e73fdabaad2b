/**
 * The scenarios of `set` and `reset` on a legacy group (`--layout`), and the lease check right before
 * writing: each reads the group (one listing, every body) and hands the planners in legacy-plan.ts what they need.
 */
import {notFoundError, usageError} from '../errors.js'
import type {EventHubReader} from '../eventhubs/reader.js'
import {inPartitions, sameName} from '../store/codec.js'
import type {LegacyLayout} from '../store/layouts.js'
import {type LegacyGroupView, type LegacyScopeInput, readLegacyGroup, readLegacyShown} from '../store/legacy-group.js'
import type {CheckpointStore} from '../store/store.js'
import {legacyChangePlan, planLegacyPositions, planLegacyRestore} from './legacy-plan.js'
import type {PlanFile} from './plan-file.js'
import type {ChangePlan, PlanItem, TargetPosition} from './plan.js'
import {describeScenario, lookUpTargets, type PositionScenario} from './targets.js'

export interface LegacyContext {
  store: CheckpointStore
  layout: LegacyLayout
  scope: LegacyScopeInput
  /** --partition: limit the change to these partitions. */
  partitions?: string[]
  /** --force: leased partitions have their lease broken before the write. */
  force: boolean
  signal?: AbortSignal
}

/** The namespace and event hub Event Hubs is asked about: recorded by the layout, or given by the operator. */
export function legacyHub(view: LegacyGroupView, scope: LegacyScopeInput, what: string): {namespace: string; eventHub: string} {
  const namespace = view.namespace ?? scope.namespace
  const eventHub = view.eventHub ?? scope.eventHub
  if (namespace === undefined || eventHub === undefined)
    throw usageError(
      `The ${view.layout} layout does not record the ${namespace === undefined ? 'namespace' : 'event hub'}: ${what} needs it.`,
      `Pass --namespace and --eventhub with ${what}.`,
    )
  return {namespace, eventHub}
}

/** Positions looked up in Event Hubs (earliest, latest, a time, a shift), written into the lease blobs. */
export async function planLegacyFromEventHubs(
  ctx: LegacyContext,
  scenario: PositionScenario,
  withHub: (namespace: string, hub: string, fn: (reader: EventHubReader) => Promise<TargetPosition[]>) => Promise<TargetPosition[]>,
  flag: string,
): Promise<ChangePlan> {
  const view = await readLegacyShown(ctx.store, ctx.layout, ctx.scope, ctx.signal)
  const {namespace, eventHub} = legacyHub(view, ctx.scope, flag)
  const targets = await withHub(namespace, eventHub, (reader) =>
    lookUpTargets(view, reader, scenario, {partitions: ctx.partitions, concurrency: 128}),
  )
  return legacyChangePlan(view, ctx.store.containerName, {
    operation: 'reset',
    scenario: describeScenario(scenario),
    guarded: true,
    items: planLegacyPositions(view, targets, {force: ctx.force}),
  })
}

/**
 * A legacy backup puts back the bodies it holds (the group it names, whatever the scope flags); the JSON or
 * CSV of `show` gives positions for the group the flags name.
 */
export async function planLegacyFromFile(ctx: LegacyContext, file: PlanFile, path: string): Promise<ChangePlan> {
  if (file.kind === 'backup')
    throw usageError(`${path} is a backup of a modern group, not of ${ctx.layout} lease blobs.`, 'Omit --layout to restore it.')
  if (file.kind === 'legacy-backup') {
    if (file.container !== ctx.store.containerName) {
      throw usageError(
        `${path} is a backup of container "${file.container}", not of "${ctx.store.containerName}".`,
        `Restore it into the container it was taken from (--container ${file.container}).`,
      )
    }
    // Whatever is left of the group, even nothing at all (every entry then a conflict).
    const view = await readLegacyGroup(ctx.store, file.layout, {groupPrefix: file.blobPrefix, ...file.names}, ctx.signal)
    const entries = file.entries.filter((e) => inPartitions(ctx.partitions, e.partitionId))
    const missing = (ctx.partitions ?? []).filter((p) => !file.entries.some((e) => sameName(e.partitionId, p)))
    if (missing.length)
      throw notFoundError(
        `${path} holds no partition ${missing.join(', ')}.`,
        `It holds partition(s) ${file.entries.map((e) => e.partitionId).join(', ')}.`,
      )
    return legacyChangePlan(view, ctx.store.containerName, {
      operation: 'reset',
      scenario: 'from-file',
      guarded: true,
      items: planLegacyRestore(view, entries, {force: ctx.force}),
    })
  }
  const view = await readLegacyShown(ctx.store, ctx.layout, ctx.scope, ctx.signal)
  const targets: TargetPosition[] = file.positions.filter((p) => inPartitions(ctx.partitions, p.partitionId))
  const skipped = file.skipped.filter((id) => inPartitions(ctx.partitions, id))
  return legacyChangePlan(view, ctx.store.containerName, {
    operation: 'reset',
    scenario: 'from-file',
    guarded: true,
    notes: skipped.length ? [`The file has no complete position for partition(s) ${skipped.join(', ')}: left as they are.`] : [],
    items: planLegacyPositions(view, targets, {force: ctx.force}),
  })
}

/**
 * Reads the lease states of the targeted blobs again right before writing (one listing of the group): a
 * host that acquired a lease while the plan was printed or confirmed stops the change as it would have at plan time.
 */
export async function recheckLegacyLeases(
  store: CheckpointStore,
  prefix: string,
  targets: PlanItem[],
  signal?: AbortSignal,
): Promise<PlanItem[]> {
  const leased = new Map<string, string | null>()
  await store.listRecords(
    prefix,
    (records) => {
      for (const {blob} of records) {
        if (blob.leaseState !== 'leased' && blob.leaseState !== 'breaking') continue
        const host = Object.entries(blob.metadata).find(([k]) => k.toLowerCase() === 'owninghost')?.[1] ?? null
        leased.set(blob.name, host)
      }
    },
    signal,
  )
  return targets
    .filter((t) => leased.has(t.target.blobName))
    .map((t) => ({...t, ownerState: 'active' as const, ownerId: leased.get(t.target.blobName) ?? t.ownerId}))
}
