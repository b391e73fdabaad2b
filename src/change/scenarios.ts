/**
 * The scenarios of `reset`: each reads the current state (one listing of the group) and computes a plan.
 * Scenarios that need Event Hubs plug in the same way, as other sources of target positions.
 */
import {readFile, stat} from 'node:fs/promises'

import {EhcpError, ExitCode, notFoundError, usageError} from '../errors.js'
import type {EventHubReader} from '../eventhubs/reader.js'
import {groupPrefix, inPartitions, sameName} from '../store/codec.js'
import {groupIdOf, groupPath} from '../store/group-id.js'
import {type GroupView, readGroup} from '../store/group.js'
import {type GroupRef, resolveGroup, type ScopeFilter} from '../store/scope.js'
import type {CheckpointStore} from '../store/store.js'
import type {LegacyLayout} from '../store/layouts.js'
import type {LegacyScopeInput} from '../store/legacy-group.js'
import {type LegacyContext, planLegacyFromEventHubs, planLegacyFromFile} from './legacy-scenarios.js'
import {parsePlanFile, type PlanFile} from './plan-file.js'
import {type ChangePlan, DELETE_NOTE, pairProblem, planDeletes, planPositions, planRestore, type TargetPosition} from './plan.js'
import {describeScenario, lookUpTargets, type PositionScenario} from './targets.js'

interface ScenarioContext {
  store: CheckpointStore
  filter: ScopeFilter
  /** --partition: limit the change to these partitions. */
  partitions?: string[]
  signal?: AbortSignal
  /** Told how many partitions' target positions have been looked up in Event Hubs, of how many. */
  onLookupProgress?: (done: number, total: number) => void
  /** --layout of a retired SDK: the change is to its lease blobs (legacy-scenarios.ts). */
  legacy?: {layout: LegacyLayout; scope: LegacyScopeInput}
  /** --force: with a legacy layout, leased blobs have their lease broken before the write. */
  force?: boolean
}

function legacyContext(ctx: ScenarioContext, legacy: NonNullable<ScenarioContext['legacy']>): LegacyContext {
  return {...legacy, store: ctx.store, partitions: ctx.partitions, force: Boolean(ctx.force), signal: ctx.signal}
}

/** Scenarios that do not apply to lease blobs: a usage error naming those that do. */
function notForLegacy(ctx: ScenarioContext, what: string): void {
  if (ctx.legacy)
    throw usageError(
      `${what} does not apply to the ${ctx.legacy.layout} layout.`,
      'Legacy lease blobs take --to-earliest, --to-latest, --to-datetime, --by-duration, --shift-by and --from-file; `ehcp migrate` moves them to the modern layout.',
    )
}

interface ReadGroup {
  ref: GroupRef
  view: GroupView
}

/** The group as stored now. `allowNew`: a group with no blobs yet is an empty view (the change creates it). */
async function readView(ctx: ScenarioContext, filter: ScopeFilter, options: {allowNew?: boolean} = {}): Promise<ReadGroup> {
  const ref = await resolveGroup(ctx.store, filter, ctx.signal, options)
  return {ref, view: await readGroup(ctx.store, ref, ctx.signal)}
}

function plan(
  ctx: ScenarioContext,
  {ref, view}: ReadGroup,
  scenario: string,
  items: ChangePlan['items'],
  notes: string[] = [],
): ChangePlan {
  return {
    operation: 'reset',
    scenario,
    container: ctx.store.containerName,
    ...groupIdOf(view),
    prefixes: ref.prefixes,
    guarded: true,
    notes: [...(ref.newGroup ? [ref.newGroup] : []), ...notes],
    items,
  }
}

/** Far above any real plan (a backup of 4,096 partitions is about 2 MB), far below what would exhaust memory. */
const MAX_PLAN_FILE_BYTES = 64 * 1024 * 1024

async function readPlanFile(path: string): Promise<PlanFile> {
  if (path.trim() === '') throw usageError('--from-file is empty.')
  let text: string
  try {
    // Only a regular file: a FIFO would block forever, /dev/zero would never end.
    const file = await stat(path)
    if (!file.isFile()) throw usageError(`${path} is not a regular file.`)
    if (file.size > MAX_PLAN_FILE_BYTES)
      throw usageError(`${path} is ${file.size} bytes: more than a plan file can be (${MAX_PLAN_FILE_BYTES}).`)
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof EhcpError) throw error
    throw usageError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`)
  }
  return parsePlanFile(text, path)
}

/**
 * A backup restores the group it came from (the file names it; scope flags, if given, must agree);
 * the JSON or CSV of `show` gives positions for the group the flags (or the JSON) name.
 */
export async function planFromFile(ctx: ScenarioContext, path: string): Promise<ChangePlan> {
  const file = await readPlanFile(path)
  // A legacy backup restores its lease blobs with or without --layout; positions go where --layout says.
  if (file.kind === 'legacy-backup')
    return planLegacyFromFile(legacyContext(ctx, {layout: file.layout, scope: {groupPrefix: file.blobPrefix, ...file.names}}), file, path)
  if (ctx.legacy) return planLegacyFromFile(legacyContext(ctx, ctx.legacy), file, path)
  if (file.kind === 'backup') {
    for (const key of ['namespace', 'eventHub', 'consumerGroup'] as const) {
      const given = ctx.filter[key]
      if (given !== undefined && !sameName(given, file.scope[key])) {
        throw usageError(
          `${path} is a backup of ${groupPath(file.scope)}, not of ${key} "${given}".`,
          'Omit the scope flags: a backup restores the group it was taken from.',
        )
      }
    }
    if (file.container !== null && file.container !== ctx.store.containerName) {
      throw usageError(
        `${path} is a backup of container "${file.container}", not of "${ctx.store.containerName}".`,
        `Restore it into the container it was taken from (--container ${file.container}).`,
      )
    }
    // The blobs the backup names, as they are now, and every stored spelling of the group (an owner under
    // another spelling guards the undo as it would any change) — whatever exists, even nothing at all.
    const stored = await resolveGroup(ctx.store, file.scope, ctx.signal)
      .then((g) => g.prefixes)
      .catch((error: unknown) => {
        if (error instanceof EhcpError && error.exitCode === ExitCode.notFound) return []
        throw error
      })
    const named = [...new Set(file.entries.map((e) => `${e.blobName.split('/').slice(0, 3).join('/')}/`))]
    if (named.length === 0) named.push(groupPrefix(file.scope))
    const blobs = await readGroup(ctx.store, {...file.scope, prefixes: named}, ctx.signal)
    const ref: GroupRef = {...file.scope, prefixes: [...new Set([...named, ...stored])]}
    const whole = ref.prefixes.length > named.length ? await readGroup(ctx.store, ref, ctx.signal) : blobs
    const entries = file.entries.filter((e) => inPartitions(ctx.partitions, e.partitionId))
    const missing = (ctx.partitions ?? []).filter(
      (p) =>
        !inPartitions(
          file.entries.map((e) => e.partitionId),
          p,
        ),
    )
    if (missing.length)
      throw notFoundError(
        `${path} holds no partition ${missing.join(', ')}.`,
        `It holds partition(s) ${[...new Set(file.entries.map((e) => e.partitionId))].join(', ')}.`,
      )
    return plan(ctx, {ref, view: blobs}, 'from-file', planRestore(blobs, entries, whole))
  }
  const group = await readView(ctx, {...file.scope, ...definedOnly(ctx.filter)}, {allowNew: true})
  const targets: TargetPosition[] = file.positions.filter((p) => inPartitions(ctx.partitions, p.partitionId))
  const skipped = file.skipped.filter((id) => inPartitions(ctx.partitions, id))
  const notes = skipped.length ? [`The file has no complete position for partition(s) ${skipped.join(', ')}: left as they are.`] : []
  return plan(ctx, group, 'from-file', planPositions(group.view, targets), notes)
}

/** Copies another consumer group's positions (same namespace and event hub), partition by partition. */
export async function planFromConsumerGroup(ctx: ScenarioContext, source: string): Promise<ChangePlan> {
  notForLegacy(ctx, '--from-consumer-group')
  if (source.trim() === '') throw usageError('--from-consumer-group is empty.')
  const group = await readView(ctx, ctx.filter, {allowNew: true})
  const {view} = group
  if (sameName(source, view.consumerGroup)) throw usageError('--from-consumer-group names the group being reset.')
  const {view: from} = await readView(ctx, {namespace: view.namespace, eventHub: view.eventHub, consumerGroup: source})
  const targets: TargetPosition[] = from.partitions
    .filter((p) => p.checkpoint && inPartitions(ctx.partitions, p.partitionId))
    .map((p) => {
      const c = p.checkpoint!
      const problem = pairProblem(c)
      return problem
        ? {partitionId: p.partitionId, position: null, warnings: [`the source checkpoint ${problem}: left as it is`]}
        : {partitionId: p.partitionId, position: {sequenceNumber: c.sequenceNumber!, offset: c.offset!}}
    })
  const copied = new Set(targets.map((t) => t.partitionId.toLowerCase()))
  const untouched = view.partitions.filter(
    (p) => p.checkpoint && !copied.has(p.partitionId.toLowerCase()) && inPartitions(ctx.partitions, p.partitionId),
  )
  const notes = untouched.length
    ? [`"${from.consumerGroup}" has no checkpoint for partition(s) ${untouched.map((p) => p.partitionId).join(', ')}: left as they are.`]
    : []
  return plan(ctx, group, `from-consumer-group ${from.consumerGroup}`, planPositions(view, targets), notes)
}

/** Removes checkpoints; the plan says where each SDK family then starts. */
export async function planDeleteCheckpoints(ctx: ScenarioContext): Promise<ChangePlan> {
  notForLegacy(ctx, '--delete')
  const group = await readView(ctx, ctx.filter)
  return plan(ctx, group, 'delete', planDeletes(group.view, ctx.partitions), [DELETE_NOTE])
}

function definedOnly(filter: ScopeFilter): ScopeFilter {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined))
}

/**
 * Positions looked up in Event Hubs (earliest, latest, a time, a shift): just another source of target
 * positions for the same plan. `withHub` opens the event hub of the group (the command owns the connection).
 */
export async function planFromEventHubs(
  ctx: ScenarioContext,
  scenario: PositionScenario,
  withHub: (namespace: string, hub: string, fn: (reader: EventHubReader) => Promise<TargetPosition[]>) => Promise<TargetPosition[]>,
  flag = 'this scenario',
): Promise<ChangePlan> {
  if (ctx.legacy) return planLegacyFromEventHubs(legacyContext(ctx, ctx.legacy), scenario, withHub, flag)
  const group = await readView(ctx, ctx.filter)
  const {view} = group
  const targets = await withHub(view.namespace, view.eventHub, (reader) =>
    lookUpTargets(view, reader, scenario, {partitions: ctx.partitions, concurrency: 128, onProgress: ctx.onLookupProgress}),
  )
  return plan(ctx, group, describeScenario(scenario), planPositions(view, targets))
}
