/**
 * The change pipeline after planning: guard against active owners, back up, write conditionally with
 * bounded concurrency, stop cleanly on Ctrl-C, and report per partition. Talks to people only through
 * the callbacks it is given.
 */
import {createHash} from 'node:crypto'
import {open, rename, unlink} from 'node:fs/promises'
import {dirname} from 'node:path'

import {mapBounded} from '../concurrency.js'
import {classifyError, EhcpError, ExitCode, usageError, DECLINED} from '../errors.js'
import {cancelled, Interrupted, stoppedExitCode, writingStarts} from '../signals.js'
import {readGroup} from '../store/group.js'
import {type GroupId, groupIdOf, groupPath} from '../store/group-id.js'
import type {LegacyLayout} from '../store/layouts.js'
import {type CheckpointStore, UncertainWriteError, type WriteOutcome} from '../store/store.js'
import {fileStamp} from '../time.js'
import {BACKUP_KIND, type BackupFile} from './plan-file.js'
import {recheckLegacyLeases} from './legacy-scenarios.js'
import {type ChangePlan, changes, leaves, type PlanItem, type WriteRecord} from './plan.js'

export type PartitionStatus = 'planned' | 'updated' | 'unchanged' | 'conflict' | 'failed'

/** One row of the report: the plan item (its blob by name, its action by kind) and what came of it. */
export type PartitionResult = Omit<PlanItem, 'target' | 'action' | 'heldBack'> & {
  blobName: string
  action: PlanItem['action']['kind']
  status: PartitionStatus
  reason: string | null
  /** `--live`: whose receiver was detached, and whether a processor resumed from the new position. */
  live?: LiveOutcome
}

export type LiveVerdict = 'resumed' | 'not-yet' | 'lost'

export interface LiveOutcome {
  /** The owner the partition was taken from (null: none was active). */
  heldFrom: string | null
  verdict: LiveVerdict
  /** The processor that claimed the partition after ehcp released it. */
  reclaimedBy: string | null
  /** The sequence number of the first checkpoint written after ehcp's. */
  nextCheckpoint: number | null
  detail: string
}

/**
 * `--live` (live.ts): writes each target while ehcp holds its partition (ownership claimed, the processors'
 * receivers detached by a higher owner level), then releases it and sees the processors resume.
 */
export interface LiveWriter {
  write(
    targets: PlanItem[],
    rows: Map<string, PartitionResult>,
    options: Pick<ExecuteOptions, 'concurrency' | 'signal' | 'progress'>,
  ): Promise<WriteRun>
}

/**
 * The report of a change (the JSON output): the plan as planned, and what was done. A legacy group's report
 * names its layout and blob prefix, and the names its layout does not record are null.
 */
export type ChangeResult = Omit<ChangePlan, 'prefixes' | 'guarded' | 'items' | 'legacy' | keyof GroupId> & {
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
  layout?: LegacyLayout
  blobPrefix?: string
  schemaVersion: 1
  dryRun: boolean
  executed: boolean
  backupFile: string | null
  undoCommand: string | null
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
  /** A guarded change's last check before writing, beside the owners' (migrate: no legacy host has started since the plan). */
  recheck?: (signal: AbortSignal) => Promise<void>
  /** `--live`: the writes go through it (active owners are detached, not a reason to refuse). */
  live?: LiveWriter
}

/** The group's names as reports and backups give them: a legacy group's with its layout and prefix, unrecorded names null. */
function reportedScope(plan: ChangePlan): Pick<ChangeResult, 'namespace' | 'eventHub' | 'consumerGroup' | 'layout' | 'blobPrefix'> {
  if (!plan.legacy) return groupIdOf(plan)
  const {namespace, eventHub, consumerGroup} = plan
  return {
    namespace: namespace || null,
    eventHub: eventHub || null,
    consumerGroup: consumerGroup || null,
    layout: plan.legacy.layout,
    blobPrefix: plan.legacy.blobPrefix,
  }
}

/** How messages name the group a plan changes. */
const planPath = (plan: ChangePlan): string =>
  plan.legacy
    ? `the ${plan.legacy.layout} lease blobs ${plan.legacy.blobPrefix ? `under "${plan.legacy.blobPrefix}"` : 'at the container root'}`
    : groupPath(plan)

export function planResult(plan: ChangePlan, dryRun: boolean): ChangeResult {
  return {
    schemaVersion: 1,
    operation: plan.operation,
    scenario: plan.scenario,
    container: plan.container,
    ...reportedScope(plan),
    dryRun,
    executed: false,
    backupFile: null,
    undoCommand: null,
    notes: plan.notes,
    partitions: plan.items.map(partitionResult),
  }
}

/**
 * A plan item's report row, keys in the report's order: partitionId, blobName, action, then the item's own
 * (before, after, delta, ownerState, ownerId, warnings, in the order the planners write them), status, reason.
 */
function partitionResult({partitionId, target, action, heldBack, ...planned}: PlanItem): PartitionResult {
  return {
    partitionId,
    blobName: target.blobName,
    action: action.kind,
    ...planned,
    status: heldBack?.status ?? (action.kind === 'none' ? 'unchanged' : 'planned'),
    reason: heldBack?.reason ?? null,
  }
}

/** One conditional write. Not under the command's signal: a write once sent is seen through (bounded by --timeout), so its outcome is known. */
function write(store: CheckpointStore, item: PlanItem): Promise<WriteOutcome> {
  const {blobName, etag} = item.target
  const condition = etag ? {ifMatch: etag} : {ifNoneMatch: '*' as const}
  switch (item.action.kind) {
    case 'set-position':
    case 'set-metadata':
    case 'release':
      return store.writeMetadata(blobName, item.action.metadata, condition)
    case 'delete':
      return store.deleteBlob(blobName, etag!)
    case 'write-body':
      return writeBody(store, blobName, etag!, item.action)
    case 'break-lease':
      return store.breakLease(blobName, etag!)
    case 'none':
      throw new Error('nothing to write')
  }
}

/** A legacy lease blob's new body, under If-Match; when forced, its lease broken first (under the same If-Match). */
async function writeBody(
  store: CheckpointStore,
  blobName: string,
  etag: string,
  action: Extract<PlanItem['action'], {kind: 'write-body'}>,
): Promise<WriteOutcome> {
  if (action.breakLease) {
    const broken = await store.breakLease(blobName, etag)
    if (broken.status === 'conflict') return broken
  }
  const outcome = await store.writeBody(blobName, action.body, action.metadata, etag)
  return outcome.status === 'written' && action.breakLease
    ? {
        ...outcome,
        note: [`lease broken, then written: the host re-reads the blob when it re-acquires it`, outcome.note].filter(Boolean).join('; '),
      }
    : outcome
}

/** A file name stays within the 255 bytes file systems allow, whatever the hub and group are called (up to 256 and 50 characters). */
const MAX_NAME_PART = 60

export function backupFileName(plan: Pick<ChangePlan, 'eventHub' | 'consumerGroup' | 'legacy'>, at: Date): string {
  const safe = (s: string) => {
    const plain = s.replace(/[^A-Za-z0-9$._-]/g, '_')
    if (plain.length <= MAX_NAME_PART) return plain
    // Long names are shortened, with a digest of the whole so two long names still differ.
    return `${plain.slice(0, MAX_NAME_PART - 9)}~${createHash('sha256').update(s).digest('hex').slice(0, 8)}`
  }
  if (plan.legacy) return `ehcp-backup-${plan.legacy.layout}-${safe(plan.legacy.blobPrefix || 'root')}-${fileStamp(at)}.json`
  return `ehcp-backup-${safe(plan.eventHub)}-${safe(plan.consumerGroup)}-${fileStamp(at)}.json`
}

/** What the run did to one blob: whether it wrote it, and the ETag its write left when the service said. */
interface Outcome {
  record: WriteRecord
  etag?: string
}

function backupOf(plan: ChangePlan, targets: PlanItem[], outcomes?: Map<PlanItem, Outcome>): BackupFile {
  return {
    schemaVersion: 2,
    kind: BACKUP_KIND,
    createdAt: new Date().toISOString(),
    container: plan.container,
    ...reportedScope(plan),
    partitions: targets.map((item) => ({
      partitionId: item.partitionId,
      blobName: item.target.blobName,
      metadata: item.target.metadata,
      etag: item.target.etag,
      written: leaves(item.action as Exclude<PlanItem['action'], {kind: 'none'}>),
      // A legacy lease blob's whole body, before and as the change leaves it: the undo puts it back byte for byte.
      ...(item.target.body === undefined
        ? {}
        : {body: item.target.body, writtenBody: item.action.kind === 'write-body' ? item.action.body : item.target.body}),
      ...(outcomes ? {outcome: outcomes.get(item)?.record ?? 'unknown'} : {}),
      ...(outcomes?.get(item)?.etag ? {writtenEtag: outcomes.get(item)!.etag} : {}),
    })),
  }
}

/** Writes `text` to a new file and makes it durable (fsync); a file left half-written (a full disk) is removed. */
async function writeDurably(path: string, text: string, flag: 'wx' | 'w'): Promise<void> {
  const handle = await open(path, flag, 0o600)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => undefined)
    await unlink(path).catch(() => undefined)
    throw error
  }
  await handle.close()
  // The file's directory entry too, so that a crash right after cannot lose the file itself.
  const directory = await open(dirname(path), 'r').catch(() => undefined)
  await directory?.sync().catch(() => undefined)
  await directory?.close().catch(() => undefined)
}

/**
 * Saves the backup, complete and on disk, before the first write — or fails, and nothing is written.
 * Never replaces an existing file; returns the path written.
 */
async function saveBackup(file: {path: string; isDefault: boolean}, backup: BackupFile): Promise<string> {
  const text = `${JSON.stringify(backup, null, 2)}\n`
  for (let attempt = 0; ; attempt++) {
    const path = attempt === 0 ? file.path : file.path.replace(/(\.json)?$/, `-${attempt}.json`)
    try {
      await writeDurably(path, text, 'wx')
      return path
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST' && file.isDefault && attempt < 100) continue
      throw usageError(
        `Could not write the backup file ${path}: ${code ?? (error as Error).message}. Nothing was written to storage.`,
        code === 'ENOSPC' || code === 'EDQUOT'
          ? 'The disk is full: free some space, choose another --backup-file, or pass --no-backup.'
          : 'Choose another --backup-file, or pass --no-backup.',
      )
    }
  }
}

/**
 * Adds what was written to the backup (replacing it atomically: a new file renamed over it), so that its undo
 * restores exactly those blobs. If this fails, the backup as saved before the first write stays whole, and its
 * undo still restores only blobs that hold what the change wrote.
 */
async function recordOutcomes(path: string, backup: BackupFile): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeDurably(temporary, `${JSON.stringify(backup, null, 2)}\n`, 'wx')
  try {
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => undefined)
    throw error
  }
}

/** Whether ehcp's write landed, as its report row says: only a write whose failure may hide its landing is unknown. */
function writeRecord(row: PartitionResult, uncertain: boolean): WriteRecord {
  if (row.status === 'updated') return 'written'
  return uncertain ? 'unknown' : 'not-written'
}

/**
 * Re-reads the owners of the targeted partitions right before writing: a processor that claimed one while
 * the plan was printed, looked up or confirmed must stop the change as it would have at plan time.
 */
async function recheckOwners(store: CheckpointStore, plan: ChangePlan, targets: PlanItem[], signal: AbortSignal): Promise<PlanItem[]> {
  const view = await readGroup(store, {...groupIdOf(plan), prefixes: plan.prefixes}, signal)
  const active = new Map(
    view.partitions.filter((p) => p.ownership?.state === 'active').map((p) => [p.partitionId.toLowerCase(), p.ownership!.ownerId]),
  )
  return targets
    .filter((t) => active.has(t.partitionId.toLowerCase()))
    .map((t) => ({...t, ownerState: 'active' as const, ownerId: active.get(t.partitionId.toLowerCase()) ?? null}))
}

function activeOwnersError(active: PlanItem[], when: string, legacy = false): EhcpError {
  const owners = [...new Set(active.map((t) => t.ownerId))].join(', ')
  return new EhcpError(
    'active-owners',
    `${active.length} targeted partition(s) ${when} an active owner (${owners}): partitions ${active.map((t) => t.partitionId).join(', ')}. A running processor would overwrite the change. Nothing was written.`,
    ExitCode.refused,
    legacy
      ? 'Their blob leases are held: stop the hosts, or pass --force to break the leases first (each host re-reads the blob when it re-acquires it).'
      : 'Stop the processors (or wait until ownership expires, see --ownership-expiry), or pass --force to write anyway.',
  )
}

/** The guard as planned: active owners stop a guarded change, unless --force (which is said). */
function guardOwners(plan: ChangePlan, targets: PlanItem[], options: Pick<ExecuteOptions, 'force' | 'notice'>): void {
  const active = targets.filter((t) => t.ownerState === 'active')
  if (!plan.guarded || active.length === 0) return
  if (!options.force) throw activeOwnersError(active, 'have', Boolean(plan.legacy))
  const owners = [...new Set(active.map((t) => t.ownerId))].join(', ')
  if (plan.legacy) {
    options.notice(
      `--force: breaking the blob leases of ${active.length} partition(s) (${owners}) before writing; each host re-reads the blob when it re-acquires it.`,
    )
    return
  }
  options.notice(
    `--force: writing although ${active.length} partition(s) have an active owner (${owners}); a running processor may overwrite the change.`,
  )
}

/** Asks before writing, unless --yes; with no one to ask, refuses. */
async function confirmChange(
  plan: ChangePlan,
  targets: PlanItem[],
  options: Pick<ExecuteOptions, 'yes' | 'confirm' | 'signal'>,
): Promise<void> {
  if (options.yes) return
  if (!options.confirm) {
    throw usageError(
      'Refusing to change checkpoints without confirmation: not on a terminal.',
      'Pass --yes to apply the plan, or --dry-run to only print it.',
    )
  }
  if (!(await options.confirm(`Apply ${targets.length} change(s) to ${planPath(plan)}?`))) {
    throw options.signal.aborted ? cancelled(options.signal) : new EhcpError(DECLINED, 'Cancelled; nothing changed.', ExitCode.cancelled)
  }
}

/** Saves the backup before the first write (or fails, and nothing is written), and says where it is and how to undo. */
async function backUp(
  plan: ChangePlan,
  targets: PlanItem[],
  result: ChangeResult,
  options: Pick<ExecuteOptions, 'backupFile' | 'undoCommand' | 'notice'>,
): Promise<BackupFile | undefined> {
  if (!options.backupFile) return undefined
  const backup = backupOf(plan, targets)
  result.backupFile = await saveBackup(options.backupFile, backup)
  result.undoCommand = options.undoCommand(result.backupFile)
  options.notice(`Backup: ${result.backupFile}\nUndo:   ${result.undoCommand}`)
  return backup
}

/** What the writes came to beyond each row's status: for the backup's record and the exit code. */
export interface WriteRun {
  /** Writes whose failure may hide their landing. */
  uncertain: Set<PlanItem>
  /** The ETag each write left, when the service said. */
  etags: Map<PlanItem, string>
  firstFailure: EhcpError | undefined
}

/**
 * Writes the targets, at most `concurrency` at once, each row's status and reason set as its write ends. No new
 * write starts once the signal fires, or once a failure says the rest would only fail the same way.
 */
export async function writeTargets(
  store: CheckpointStore,
  targets: PlanItem[],
  rows: Map<string, PartitionResult>,
  options: Pick<ExecuteOptions, 'concurrency' | 'signal' | 'progress'>,
): Promise<WriteRun> {
  const run: WriteRun = {uncertain: new Set(), etags: new Map(), firstFailure: undefined}
  let stop: string | undefined
  let done = 0
  await mapBounded(targets, options.concurrency, async (item) => {
    const row = rows.get(item.target.blobName)!
    if (options.signal.aborted || stop) {
      row.status = 'failed'
      row.reason = `not attempted: ${stop ?? (options.signal.reason instanceof Interrupted ? options.signal.reason.message.replace(/\.$/, '') : 'cancelled')}`
      return
    }
    try {
      const outcome = await write(store, item)
      if (outcome.status === 'written' && outcome.etag) run.etags.set(item, outcome.etag)
      row.status = outcome.status === 'written' ? 'updated' : 'conflict'
      row.reason = outcome.status === 'conflict' ? `${outcome.reason}; not overwritten` : (outcome.note ?? null)
    } catch (error) {
      if (error instanceof UncertainWriteError) run.uncertain.add(item)
      const e = classifyError(error)
      row.status = 'failed'
      // A refused credential says what to grant (a role, a SAS permission): the row keeps it, as JSON shows no hints.
      row.reason = e.exitCode === ExitCode.auth && e.hint ? `${e.message} ${e.hint}` : e.message
      run.firstFailure ??= e
      // Refused credentials, or storage that stopped answering (after the pipeline's own retries): the
      // remaining writes would only fail the same way, one --timeout after another.
      if (e.exitCode === ExitCode.auth) stop ??= e.message
      if (e.exitCode === ExitCode.unreachable) stop ??= 'storage stopped answering an earlier write'
    }
    options.progress(++done, targets.length)
  })
  return run
}

/** Adds to the saved backup whether each blob was written; a failure to do so is only a warning (see recordOutcomes). */
async function recordWrites(
  path: string,
  backup: BackupFile,
  plan: ChangePlan,
  targets: PlanItem[],
  rows: Map<string, PartitionResult>,
  run: WriteRun,
  notice: (message: string) => void,
): Promise<void> {
  const outcomes = new Map(
    targets.map((item): [PlanItem, Outcome] => [
      item,
      {record: writeRecord(rows.get(item.target.blobName)!, run.uncertain.has(item)), etag: run.etags.get(item)},
    ]),
  )
  await recordOutcomes(path, {...backupOf(plan, targets, outcomes), createdAt: backup.createdAt}).catch((error: NodeJS.ErrnoException) =>
    notice(
      `Warning: could not record in ${path} which blobs were written (${error.code ?? error.message}); its undo still restores only blobs that hold what this change wrote.`,
    ),
  )
}

/** The exit code of a change that ran: the signal's, 0, partial (6), refused (5, only conflicts), or the first failure's. */
function exitCodeOf(result: ChangeResult, signal: AbortSignal, firstFailure: EhcpError | undefined): number {
  const count = (s: PartitionStatus) => result.partitions.filter((p) => p.status === s).length
  const [updated, conflicts, failed] = [count('updated'), count('conflict'), count('failed')]
  const lost = result.partitions.filter((p) => p.live?.verdict === 'lost').length
  return signal.aborted
    ? stoppedExitCode(signal)
    : conflicts + failed + lost === 0
      ? ExitCode.ok
      : updated > 0
        ? ExitCode.partial
        : failed === 0
          ? ExitCode.refused
          : (firstFailure?.exitCode ?? ExitCode.bug)
}

/**
 * Runs a plan to the end: show it, guard, confirm, guard again, back up, write, record what was written.
 * Returns the per-partition report and the exit code it calls for.
 */
export async function executePlan(
  store: CheckpointStore,
  plan: ChangePlan,
  options: ExecuteOptions,
): Promise<{result: ChangeResult; exitCode: number}> {
  const result = planResult(plan, options.dryRun)
  const targets = plan.items.filter(changes)
  const heldBack = plan.items.filter((item) => item.heldBack?.status === 'conflict').length
  options.showPlan(result)
  if (options.dryRun || targets.length === 0) {
    if (targets.length === 0)
      options.notice(heldBack ? `Nothing to change: ${heldBack} partition(s) left alone (see the reasons above).` : 'Nothing to change.')
    else options.notice('Dry run: nothing was written.')
    return {result, exitCode: heldBack && !options.dryRun ? ExitCode.refused : ExitCode.ok}
  }

  // A live change takes each partition from its owner: active owners are its subject, not a reason to stop.
  if (!options.live) guardOwners(plan, targets, options)
  await confirmChange(plan, targets, options)
  if (options.signal.aborted) throw cancelled(options.signal)

  // The guard again, right before writing: an owner may have claimed a partition since the plan was read.
  if (plan.guarded && !options.force && !options.live) {
    const claimed = plan.legacy
      ? await recheckLegacyLeases(store, plan.legacy.blobPrefix, targets, options.signal)
      : await recheckOwners(store, plan, targets, options.signal)
    if (claimed.length > 0) throw activeOwnersError(claimed, 'have been claimed since the plan was read and now have', Boolean(plan.legacy))
    await options.recheck?.(options.signal)
  }
  if (options.signal.aborted) throw cancelled(options.signal)

  writingStarts()
  const backup = await backUp(plan, targets, result, options)
  const rows = new Map(result.partitions.map((p) => [p.blobName, p]))
  const run = options.live ? await options.live.write(targets, rows, options) : await writeTargets(store, targets, rows, options)
  result.executed = true
  if (backup && result.backupFile) await recordWrites(result.backupFile, backup, plan, targets, rows, run, options.notice)
  return {result, exitCode: exitCodeOf(result, options.signal, run.firstFailure)}
}
