/**
 * The one place the change model touches ehcp's API: how a store is opened, how each change is planned and
 * executed, how an undo is run. Planner signatures may move; only this file should need to follow them.
 */
import {type ChangeResult, executePlan} from '../../../src/change/execute.js'
import {type ChangePlan, planPositions, planReleases, refuseBlanketRelease, type TargetPosition} from '../../../src/change/plan.js'
import {planDeleteCheckpoints, planFromConsumerGroup, planFromFile} from '../../../src/change/scenarios.js'
import {classifyError, type EhcpError, notFoundError} from '../../../src/errors.js'
import type {WriteCondition} from '../../../src/store/blob-rest.js'
import {openContainer, resolveStorageTarget} from '../../../src/store/connect.js'
import {readGroup} from '../../../src/store/group.js'
import {resolveGroup} from '../../../src/store/scope.js'
import {CheckpointStore, type WriteOutcome} from '../../../src/store/store.js'

export interface Scope {
  namespace: string
  eventHub: string
  consumerGroup: string
}

/**
 * A CheckpointStore whose writes pass a hook first (a racing writer lands after planning, before ehcp's write
 * of that blob) and are counted when they finish (to abort after k writes, as Ctrl-C does).
 */
export class HookedStore extends CheckpointStore {
  beforeWrite: ((blobName: string) => Promise<void>) | undefined
  afterWrite: ((blobName: string) => void) | undefined
  writes = 0

  override async writeMetadata(
    blobName: string,
    metadata: Record<string, string>,
    condition: WriteCondition,
    signal?: AbortSignal,
  ): Promise<WriteOutcome> {
    await this.beforeWrite?.(blobName)
    try {
      return await super.writeMetadata(blobName, metadata, condition, signal)
    } finally {
      this.writes++
      this.afterWrite?.(blobName)
    }
  }

  override async deleteBlob(blobName: string, etag: string, signal?: AbortSignal): Promise<WriteOutcome> {
    await this.beforeWrite?.(blobName)
    try {
      return await super.deleteBlob(blobName, etag, signal)
    } finally {
      this.writes++
      this.afterWrite?.(blobName)
    }
  }
}

export const OWNERSHIP_EXPIRY_MS = 600_000

/** ehcp's store for a container, through whatever endpoint the connection string names (a fault proxy, say). */
export async function openModelStore(connectionString: string, container: string): Promise<HookedStore> {
  const opened = await openContainer(resolveStorageTarget({connectionString, container}, {}), {timeoutMs: 5000, maxTries: 2})
  return new HookedStore(opened.name, opened.client, {ownershipExpiryMs: OWNERSHIP_EXPIRY_MS, timeoutMs: 5000})
}

export type ChangeSpec =
  | {kind: 'set'; partition: string; sequenceNumber: number; offset: string}
  /** reset --shift-by N: targets computed here from the stored positions (Event Hubs is not involved). */
  | {kind: 'shift'; by: number; partitions?: string[]}
  | {kind: 'delete'; partitions?: string[]}
  | {kind: 'from-group'; source: string; partitions?: string[]}
  | {kind: 'release'; partitions?: string[]; owner?: string}
  /** reset --from-file <backup>: the undo of a change. */
  | {kind: 'undo'; backupFile: string; partitions?: string[]}

export interface RunOptions {
  force: boolean
  concurrency: number
  /** null: --no-backup */
  backupFile: string | null
  signal: AbortSignal
}

export interface RunOutcome {
  /** The plan, when planning got that far. */
  plan?: ChangePlan
  result?: ChangeResult
  exitCode: number
  error?: EhcpError
}

/** Offsets the shift scenario writes: a function of the sequence number, as an event's offset is. */
export const shiftOffset = (sequenceNumber: number) => `e${sequenceNumber}`

async function planChange(
  store: CheckpointStore,
  scope: Scope,
  spec: ChangeSpec,
  signal: AbortSignal,
  force: boolean,
): Promise<ChangePlan> {
  const ctx = {store, filter: scope, partitions: 'partitions' in spec ? spec.partitions : undefined, signal}
  const base = {container: store.containerName, guarded: true, notes: [] as string[]}
  switch (spec.kind) {
    case 'set': {
      const group = await resolveGroup(store, scope, signal)
      const view = await readGroup(store, group, signal)
      const items = planPositions(view, [
        {partitionId: spec.partition, position: {sequenceNumber: spec.sequenceNumber, offset: spec.offset}},
      ])
      return {
        ...base,
        operation: 'set',
        scenario: 'position',
        namespace: group.namespace,
        eventHub: group.eventHub,
        consumerGroup: group.consumerGroup,
        prefixes: group.prefixes,
        items,
      }
    }
    case 'shift': {
      const group = await resolveGroup(store, scope, signal)
      const view = await readGroup(store, group, signal)
      const wanted = (id: string) => !spec.partitions || spec.partitions.some((p) => p.toLowerCase() === id.toLowerCase())
      const targets: TargetPosition[] = view.partitions
        .filter((p) => p.checkpoint && wanted(p.partitionId))
        .map((p) => {
          const seq = p.checkpoint!.sequenceNumber
          if (seq === null) return {partitionId: p.partitionId, position: null, warnings: ['no usable sequence number']}
          const to = Math.max(-1, seq + spec.by)
          return {partitionId: p.partitionId, position: {sequenceNumber: to, offset: shiftOffset(to)}}
        })
      return {
        ...base,
        operation: 'reset',
        scenario: `shift-by ${spec.by}`,
        namespace: group.namespace,
        eventHub: group.eventHub,
        consumerGroup: group.consumerGroup,
        prefixes: group.prefixes,
        items: planPositions(view, targets),
      }
    }
    case 'delete':
      return planDeleteCheckpoints(ctx)
    case 'from-group':
      return planFromConsumerGroup(ctx, spec.source)
    case 'release': {
      const group = await resolveGroup(store, scope, signal)
      const view = await readGroup(store, group, signal)
      const items = planReleases(view, spec.partitions, spec.owner)
      if (spec.owner !== undefined && items.length === 0) throw notFoundError(`No partition is owned by "${spec.owner}".`)
      refuseBlanketRelease(items, {partitions: spec.partitions, owner: spec.owner, force})
      return {
        ...base,
        guarded: false,
        operation: 'release-ownership',
        scenario: spec.owner ? 'owner' : 'all',
        namespace: group.namespace,
        eventHub: group.eventHub,
        consumerGroup: group.consumerGroup,
        prefixes: group.prefixes,
        items,
      }
    }
    case 'undo':
      // As `ehcp reset --from-file <backup>` without scope flags: the file names the group.
      return planFromFile({...ctx, filter: {}}, spec.backupFile)
  }
}

/** Plans and executes one change in-process, exactly as the commands do (--yes, never interactive). */
export async function runChange(store: CheckpointStore, scope: Scope, spec: ChangeSpec, options: RunOptions): Promise<RunOutcome> {
  let plan: ChangePlan | undefined
  try {
    plan = await planChange(store, scope, spec, options.signal, options.force)
    const {result, exitCode} = await executePlan(store, plan, {
      dryRun: false,
      yes: true,
      force: options.force,
      backupFile: options.backupFile === null ? null : {path: options.backupFile, isDefault: false},
      concurrency: options.concurrency,
      signal: options.signal,
      confirm: null,
      showPlan: () => undefined,
      notice: () => undefined,
      progress: () => undefined,
      undoCommand: (file) => `ehcp reset --from-file ${file} --yes`,
    })
    return {plan, result, exitCode}
  } catch (error) {
    const e = classifyError(error)
    return {plan, exitCode: e.exitCode, error: e}
  }
}

/** The same change as `ehcp` command-line words (for the CLI agreement runs); shift needs Event Hubs, so it has none. */
export function cliWords(scope: Scope, spec: ChangeSpec, options: Omit<RunOptions, 'signal'>): string[] {
  const scopeWords = ['--namespace', scope.namespace, '--eventhub', scope.eventHub, '--consumer-group', scope.consumerGroup]
  const partitions = 'partitions' in spec && spec.partitions ? ['--partition', spec.partitions.join(',')] : []
  const common = [
    '--ownership-expiry',
    '10m',
    ...(options.force ? ['--force'] : []),
    '--concurrency',
    String(options.concurrency),
    ...(options.backupFile === null ? ['--no-backup'] : ['--backup-file', options.backupFile]),
    '--yes',
    '--json',
  ]
  switch (spec.kind) {
    case 'set':
      return [
        'set',
        ...scopeWords,
        '--partition',
        spec.partition,
        `--sequence-number=${spec.sequenceNumber}`,
        `--offset=${spec.offset}`,
        ...common,
      ]
    case 'delete':
      return ['reset', ...scopeWords, ...partitions, '--delete', ...common]
    case 'from-group':
      return ['reset', ...scopeWords, ...partitions, '--from-consumer-group', spec.source, ...common]
    case 'release':
      return ['release-ownership', ...scopeWords, ...partitions, ...(spec.owner ? ['--owner', spec.owner] : []), ...common]
    case 'undo':
      return ['reset', '--from-file', spec.backupFile, ...partitions, ...common]
    case 'shift':
      throw new Error('shift-by needs Event Hubs: not run through the CLI')
  }
}
