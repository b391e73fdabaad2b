/**
 * The change pipeline after planning: guard against active owners, back up, write conditionally with
 * bounded concurrency, stop cleanly on Ctrl-C, and report per partition. Talks to people only through
 * the callbacks it is given.
 */
import {writeFile} from 'node:fs/promises'

import {classifyError, EhcpError, ExitCode, usageError} from '../errors.js'
import type {CheckpointStore, WriteOutcome} from '../store/index.js'
import {BACKUP_KIND, type BackupFile} from './plan-file.js'
import {type ChangePlan, changes, type ChangeSide, type PlanItem} from './plan.js'

export type PartitionStatus = 'planned' | 'updated' | 'unchanged' | 'conflict' | 'failed'

export interface PartitionResult {
  partitionId: string
  blobName: string
  action: PlanItem['action']['kind']
  before: ChangeSide | null
  after: ChangeSide | null
  delta: number | null
  ownerState: PlanItem['ownerState']
  ownerId: string | null
  warnings: string[]
  status: PartitionStatus
  reason: string | null
}

export interface ChangeResult {
  schemaVersion: 1
  operation: ChangePlan['operation']
  scenario: string
  container: string
  namespace: string
  eventHub: string
  consumerGroup: string
  dryRun: boolean
  executed: boolean
  backupFile: string | null
  undoCommand: string | null
  notes: string[]
  partitions: PartitionResult[]
}

export interface ExecuteOptions {
  dryRun: boolean
  yes: boolean
  force: boolean
  /** null: --no-backup. A default name gets a numeric suffix rather than replace an earlier backup. */
  backupFile: {path: string; isDefault: boolean} | null
  concurrency: number
  /** Ctrl-C: no new writes start; writes in flight finish. */
  signal: AbortSignal
  /** Asks on a terminal; null when no one can be asked (not a terminal, or --json). */
  confirm: ((question: string) => Promise<boolean>) | null
  showPlan: (result: ChangeResult) => void
  notice: (message: string) => void
  progress: (done: number, total: number) => void
  undoCommand: (backupFile: string) => string
}

export function planResult(plan: ChangePlan, dryRun: boolean): ChangeResult {
  return {
    schemaVersion: 1,
    operation: plan.operation,
    scenario: plan.scenario,
    container: plan.container,
    namespace: plan.namespace,
    eventHub: plan.eventHub,
    consumerGroup: plan.consumerGroup,
    dryRun,
    executed: false,
    backupFile: null,
    undoCommand: null,
    notes: plan.notes,
    partitions: plan.items.map((item) => ({
      partitionId: item.partitionId,
      blobName: item.target.blobName,
      action: item.action.kind,
      before: item.before,
      after: item.after,
      delta: item.delta,
      ownerState: item.ownerState,
      ownerId: item.ownerId,
      warnings: item.warnings,
      status: changes(item) ? 'planned' : 'unchanged',
      reason: null,
    })),
  }
}

function write(store: CheckpointStore, item: PlanItem): Promise<WriteOutcome> {
  const {blobName, etag, metadata} = item.target
  switch (item.action.kind) {
    case 'set-position':
      return store.writeCheckpoint({blobName, etag, metadata: metadata ?? {}}, item.action.position)
    case 'set-metadata':
      return store.writeMetadata(blobName, item.action.metadata, etag ? {ifMatch: etag} : {ifNoneMatch: '*'})
    case 'release':
      return store.releaseOwnership({blobName, etag: etag!, metadata: metadata ?? {}})
    case 'delete':
      return store.deleteBlob(blobName, etag!)
    case 'none':
      throw new Error('nothing to write')
  }
}

export function backupFileName(plan: Pick<ChangePlan, 'eventHub' | 'consumerGroup'>, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
  const safe = (s: string) => s.replace(/[^A-Za-z0-9$._-]/g, '_')
  return `ehcp-backup-${safe(plan.eventHub)}-${safe(plan.consumerGroup)}-${stamp}.json`
}

/** Writes the backup without ever replacing an existing file; returns the path written. */
async function saveBackup(file: {path: string; isDefault: boolean}, plan: ChangePlan, targets: PlanItem[]): Promise<string> {
  const backup: BackupFile = {
    schemaVersion: 1,
    kind: BACKUP_KIND,
    createdAt: new Date().toISOString(),
    container: plan.container,
    namespace: plan.namespace,
    eventHub: plan.eventHub,
    consumerGroup: plan.consumerGroup,
    partitions: targets.map((item) => ({partitionId: item.partitionId, blobName: item.target.blobName, metadata: item.target.metadata, etag: item.target.etag})),
  }
  const text = `${JSON.stringify(backup, null, 2)}\n`
  for (let attempt = 0; ; attempt++) {
    const path = attempt === 0 ? file.path : file.path.replace(/\.json$/, `-${attempt}.json`)
    try {
      await writeFile(path, text, {flag: 'wx', mode: 0o600})
      return path
    } catch (error) {
      const exists = (error as NodeJS.ErrnoException).code === 'EEXIST'
      if (exists && file.isDefault && attempt < 100) continue
      throw usageError(`Could not write the backup file ${path}: ${(error as Error).message}. Nothing was written to storage.`, 'Choose another --backup-file, or pass --no-backup.')
    }
  }
}

/** Runs a plan to the end: returns the per-partition report and the exit code it calls for. */
export async function executePlan(store: CheckpointStore, plan: ChangePlan, options: ExecuteOptions): Promise<{result: ChangeResult; exitCode: number}> {
  const result = planResult(plan, options.dryRun)
  const targets = plan.items.filter(changes)
  options.showPlan(result)
  if (options.dryRun || targets.length === 0) {
    if (targets.length === 0) options.notice('Nothing to change.')
    else options.notice('Dry run: nothing was written.')
    return {result, exitCode: ExitCode.ok}
  }

  const active = targets.filter((t) => t.ownerState === 'active')
  if (plan.guarded && active.length > 0) {
    const owners = [...new Set(active.map((t) => t.ownerId))].join(', ')
    const message = `${active.length} targeted partition(s) have an active owner (${owners}): partitions ${active.map((t) => t.partitionId).join(', ')}. A running processor would overwrite the change. Nothing was written.`
    if (!options.force) {
      throw new EhcpError('active-owners', message, ExitCode.refused, 'Stop the processors (or wait until ownership expires, see --ownership-expiry), or pass --force to write anyway.')
    }
    options.notice(`--force: writing although ${active.length} partition(s) have an active owner (${owners}); a running processor may overwrite the change.`)
  }

  if (!options.yes) {
    if (!options.confirm) {
      throw usageError('Refusing to change checkpoints without confirmation: not on a terminal.', 'Pass --yes to apply the plan, or --dry-run to only print it.')
    }
    if (!(await options.confirm(`Apply ${targets.length} change(s) to ${plan.namespace}/${plan.eventHub}/${plan.consumerGroup}?`))) {
      throw new EhcpError('cancelled', 'Cancelled: nothing was written.', ExitCode.cancelled)
    }
  }
  if (options.signal.aborted) throw new EhcpError('cancelled', 'Cancelled: nothing was written.', ExitCode.cancelled)

  if (options.backupFile) {
    result.backupFile = await saveBackup(options.backupFile, plan, targets)
    result.undoCommand = options.undoCommand(result.backupFile)
    options.notice(`Backup: ${result.backupFile}\nUndo:   ${result.undoCommand}`)
  }

  const byPartition = new Map(result.partitions.map((p) => [p.blobName, p]))
  let next = 0
  let done = 0
  let stop: string | undefined
  let firstFailure: EhcpError | undefined
  const worker = async () => {
    while (next < targets.length) {
      const item = targets[next++]!
      const row = byPartition.get(item.target.blobName)!
      if (options.signal.aborted || stop) {
        row.status = 'failed'
        row.reason = `not attempted: ${stop ?? 'cancelled'}`
        continue
      }
      try {
        const outcome = await write(store, item)
        row.status = outcome.status === 'written' ? 'updated' : 'conflict'
        row.reason = outcome.status === 'conflict' ? `${outcome.reason}; not overwritten` : (outcome.note ?? null)
      } catch (error) {
        const e = classifyError(error)
        row.status = 'failed'
        row.reason = e.message
        firstFailure ??= e
        // Refused credentials, or storage that stopped answering (after the pipeline's own retries): the
        // remaining writes would only fail the same way, one --timeout after another.
        if (e.exitCode === ExitCode.auth) stop ??= e.message
        if (e.exitCode === ExitCode.unreachable) stop ??= 'storage stopped answering an earlier write'
      }
      options.progress(++done, targets.length)
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(options.concurrency, targets.length))}, worker))
  result.executed = true

  const count = (s: PartitionStatus) => result.partitions.filter((p) => p.status === s).length
  const [updated, conflicts, failed] = [count('updated'), count('conflict'), count('failed')]
  const exitCode = options.signal.aborted
    ? ExitCode.cancelled
    : conflicts + failed === 0
      ? ExitCode.ok
      : updated > 0
        ? ExitCode.partial
        : failed === 0
          ? ExitCode.refused
          : (firstFailure?.exitCode ?? ExitCode.bug)
  return {result, exitCode}
}
