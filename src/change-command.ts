/**
 * The base of the commands that change things (set, reset, release-ownership): the glue between the safe-change
 * pipeline and the terminal (plan on stdout, prompt and progress on stderr), and the undo command it prints.
 * The pipeline's flags and their reader are in flags.ts (changeFlags, readChangeOptions).
 */
import {createInterface} from 'node:readline/promises'

import type {Command} from '@oclif/core/command'

import {EhcpCommand} from './base-command.js'
import {usageError} from './errors.js'
import {type ChangeOptions, DEFAULT_OWNERSHIP_EXPIRY_MS, type EventHubsOptions, type LiveFlagOptions, MIN_GUARD_EXPIRY_MS} from './flags.js'
import {backupFileName, type ChangeResult, executePlan, type LiveWriter} from './change/execute.js'
import {type ChangePlan, changes} from './change/plan.js'
import {renderPlan, renderReport} from './output/change.js'
import {noteChangeOutcome} from './output/streams.js'
import {writeStderr} from './output/terminal.js'
import {commandLine} from './shell.js'
import type {CheckpointStore} from './store/store.js'

export abstract class ChangeCommand<T extends typeof Command> extends EhcpCommand<T> {
  /**
   * The undo: restores exactly the blobs this change wrote, connecting the same way as this run (the target's
   * words, without secrets); needs --force exactly when the change did, and the same --ownership-expiry.
   */
  private undoCommand(backupFile: string, store: CheckpointStore, forced: boolean, live: boolean): string {
    const expiry = store.ownershipExpiryMs
    const words = [
      this.config.bin,
      'reset',
      '--from-file',
      backupFile,
      ...this.connectedTarget().undoWords,
      // The undo is a guarded change: an expiry it would refuse (an unguarded release may use one) is left out.
      ...(expiry !== DEFAULT_OWNERSHIP_EXPIRY_MS && (expiry >= MIN_GUARD_EXPIRY_MS || forced)
        ? ['--ownership-expiry', `${expiry / 1000}s`]
        : []),
      ...(forced ? ['--force'] : []),
      // A live change is undone live: the processors are still running.
      ...(live ? ['--live'] : []),
    ]
    return `${commandLine(words)} --yes`
  }

  private async confirm(question: string): Promise<boolean> {
    const rl = createInterface({input: process.stdin, output: process.stderr})
    try {
      // With the signal, a pending question ends on SIGTERM or SIGHUP too (closing the interface alone leaves it
      // pending, and Node then leaves with exit 13).
      const answer = await rl.question(`${question} [y/N] `, {signal: this.signal})
      return /^y(es)?$/i.test(answer.trim())
    } catch {
      return false
    } finally {
      rl.close()
    }
  }

  /**
   * `--live` (change/live.ts): the plan says whose receivers will be detached, and the writes go through partitions
   * held in the application's consumer group. A legacy layout's lease is broken instead (its host re-reads the
   * blob when it re-acquires it): the plan was made forced.
   */
  protected async changeLive(
    store: CheckpointStore,
    plan: ChangePlan,
    options: ChangeOptions,
    live: LiveFlagOptions,
    eventHubs: EventHubsOptions,
  ) {
    // Forced as the plan was: its undo must break the leases again.
    if (plan.legacy) return this.change(store, plan, {...options, force: true})
    const {liveNote, liveOwnerId, liveWriter} = await import('./change/live.js')
    const settings = {...live, ownerId: liveOwnerId(), heartbeatMs: 3000, settleMs: 300}
    plan.notes.push(liveNote(plan.items.filter(changes), settings))
    if (options.dryRun) return this.change(store, plan, options)
    return this.withEventHub({...eventHubs, consumerGroup: plan.consumerGroup}, plan.namespace, plan.eventHub, '--live', (reader) =>
      this.change(store, plan, options, undefined, liveWriter(store, plan, reader, settings)),
    )
  }

  /** Runs the pipeline; sets the exit code the outcome calls for and returns the report (the JSON output). */
  protected async change(
    store: CheckpointStore,
    plan: ChangePlan,
    options: ChangeOptions,
    recheck?: (signal: AbortSignal) => Promise<void>,
    live?: LiveWriter,
  ): Promise<ChangeResult> {
    const json = this.jsonEnabled()
    const expiry = store.ownershipExpiryMs
    if (plan.guarded && !options.dryRun && !options.force && !live && expiry < MIN_GUARD_EXPIRY_MS) {
      throw usageError(
        `--ownership-expiry ${expiry / 1000}s is shorter than 10s: processors renew ownership about every 10s, so live owners would look expired and the guard would let this change through.`,
        'Use e.g. 30s or 2m; to write despite active owners, pass --force.',
      )
    }
    const interactive = !json && Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY)
    const writing = this.progress('Writing', {delayMs: 0, keep: true, minTotal: 20})
    const run = executePlan(store, plan, {
      dryRun: options.dryRun,
      yes: options.yes,
      force: options.force,
      backupFile: !options.backup
        ? null
        : options.backupFile
          ? {path: options.backupFile, isDefault: false}
          : {path: backupFileName(plan, new Date()), isDefault: true},
      concurrency: options.concurrency,
      signal: this.signal,
      confirm: interactive ? (q) => this.confirm(q) : null,
      showPlan: (r) => this.render(() => renderPlan(r, this.output)),
      notice: (m) => {
        if (!json) writeStderr(m)
      },
      progress: (done, total) => {
        writing.update(done, total)
        if (done === total) writing.end()
      },
      undoCommand: (file) => this.undoCommand(file, store, options.force && plan.guarded, Boolean(live)),
      recheck,
      live,
    })
    const {result, exitCode} = await run.finally(() => writing.end())
    if (result.executed) {
      const count = (status: string) => result.partitions.filter((p) => p.status === status).length
      const backup = result.backupFile ? `; what it replaced is in the backup ${result.backupFile}` : ''
      noteChangeOutcome(
        `The change ran to its end (exit ${exitCode}): ${count('updated')} updated, ${count('unchanged')} unchanged, ${count('conflict')} conflicted, ${count('failed')} failed; its outcome is in storage${backup}.`,
      )
      this.render(() => renderReport(result, this.output))
    }
    process.exitCode = exitCode
    return result
  }
}
