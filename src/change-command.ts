/**
 * The base of the commands that change things (set, reset, release-ownership): the flags of the safe-change
 * pipeline and the glue between it and the terminal (plan on stdout, prompt and progress on stderr).
 */
import {createInterface} from 'node:readline/promises'

import {Command, Flags} from '@oclif/core'

import {EhcpCommand} from './base-command.js'
import {quote, usageError} from './errors.js'
import {DEFAULT_OWNERSHIP_EXPIRY_MS, MIN_GUARD_EXPIRY_MS} from './flags.js'
import {displayUrl} from './redact.js'
import {backupFileName, type ChangeResult, executePlan} from './change/execute.js'
import type {ChangePlan} from './change/plan.js'
import {renderPlan, renderReport} from './output/change.js'
import {noteChangeOutcome} from './output/streams.js'
import {writeStderr} from './output/terminal.js'
import type {CheckpointStore} from './store/store.js'

export const changeFlags = {
  'dry-run': Flags.boolean({summary: 'Print the plan and stop; nothing is written.', helpGroup: 'SAFETY'}),
  yes: Flags.boolean({char: 'y', summary: 'Apply without asking (required when not on a terminal, and with --json).', helpGroup: 'SAFETY'}),
  force: Flags.boolean({summary: 'Write even when a targeted partition has an active owner.', helpGroup: 'SAFETY'}),
  'backup-file': Flags.string({
    summary: 'Where to save the targeted blobs before writing (default ehcp-backup-<hub>-<group>-<UTC time>.json).',
    helpGroup: 'SAFETY',
    parse: async (input) => {
      if (input.trim() === '') throw usageError('--backup-file is empty.', 'Name a file, or pass --no-backup.')
      // Printed in the Backup and Undo lines: a control character would drive the terminal or split the line.
      if ([...input].some((c) => c < ' ' || c === '\x7f')) throw usageError(`--backup-file ${quote(input)} has control characters.`, 'Name a file without them.')
      return input
    },
  }),
  'no-backup': Flags.boolean({summary: 'Do not save a backup before writing.', helpGroup: 'SAFETY', exclusive: ['backup-file']}),
  concurrency: Flags.integer({summary: 'Writes in flight at once.', default: 32, min: 1, max: 256, helpGroup: 'SAFETY'}),
}

/** Single-quotes a shell word when it needs it. */
const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/**
 * The connection part of an undo command, without secrets: the same way of connecting as this run (a
 * connection from the environment is found there again), and always the container, which the backup also
 * records and the undo checks.
 */
export function undoConnectionWords(f: {'container-url'?: string; 'connection-string'?: string; 'account-url'?: string; emulator?: boolean}, container: string): string[] {
  if (f['container-url']) {
    const url = f['container-url']
    return ['--container-url', `${displayUrl(url)}${url.includes('?') ? '?<SAS>' : ''}`]
  }
  const how = f['connection-string'] ? ['--connection-string', '<connection-string>'] : f['account-url'] ? ['--account-url', displayUrl(f['account-url'])] : f.emulator ? ['--emulator'] : []
  return [...how, '--container', container]
}

export abstract class ChangeCommand<T extends typeof Command> extends EhcpCommand<T> {
  /** The undo: restores exactly the blobs this change wrote; needs --force exactly when the change did, and the same --ownership-expiry. */
  private undoCommand(backupFile: string, container: string, forced: boolean): string {
    const expiry = this.flags['ownership-expiry' as keyof typeof this.flags] as number | undefined
    const words = [
      this.config.bin,
      'reset',
      '--from-file',
      backupFile,
      ...undoConnectionWords(this.flags, container),
      // The undo is a guarded change: an expiry it would refuse (an unguarded release may use one) is left out.
      ...(expiry !== undefined && expiry !== DEFAULT_OWNERSHIP_EXPIRY_MS && (expiry >= MIN_GUARD_EXPIRY_MS || forced) ? ['--ownership-expiry', `${expiry / 1000}s`] : []),
      ...(forced ? ['--force'] : []),
    ]
    return [...words.map(shellWord), '--yes'].join(' ')
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

  /** Runs the pipeline; sets the exit code the outcome calls for and returns the report (the JSON output). */
  protected async change(store: CheckpointStore, plan: ChangePlan): Promise<ChangeResult> {
    const f = this.flags as typeof this.flags & {'dry-run': boolean; yes: boolean; force: boolean; 'backup-file'?: string; 'no-backup': boolean; concurrency: number}
    const json = this.jsonEnabled()
    const expiry = (this.flags as {'ownership-expiry'?: number})['ownership-expiry']
    if (plan.guarded && !f['dry-run'] && !f.force && expiry !== undefined && expiry < MIN_GUARD_EXPIRY_MS) {
      throw usageError(
        `--ownership-expiry ${expiry / 1000}s is shorter than 10s: processors renew ownership about every 10s, so live owners would look expired and the guard would let this change through.`,
        'Use e.g. 30s or 2m; to write despite active owners, pass --force.',
      )
    }
    const interactive = !json && Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY)
    let lastProgress = 0
    const {result, exitCode} = await executePlan(store, plan, {
      dryRun: Boolean(f['dry-run']),
      yes: Boolean(f.yes),
      force: Boolean(f.force),
      backupFile: f['no-backup'] ? null : f['backup-file'] ? {path: f['backup-file'], isDefault: false} : {path: backupFileName(plan, new Date()), isDefault: true},
      concurrency: f.concurrency,
      signal: this.signal,
      confirm: interactive ? (q) => this.confirm(q) : null,
      showPlan: (r) => this.render(() => renderPlan(r, this.output)),
      notice: (m) => {
        if (!json) writeStderr(m)
      },
      progress: (done, total) => {
        if (!this.output.progress || total < 20) return
        const now = Date.now()
        if (done === total || now - lastProgress > 100) {
          lastProgress = now
          process.stderr.write(`\rWriting ${done}/${total}${done === total ? '\n' : ''}`)
        }
      },
      undoCommand: (file) => this.undoCommand(file, plan.container, f.force && plan.guarded),
    })
    if (result.executed) {
      const count = (status: string) => result.partitions.filter((p) => p.status === status).length
      const backup = result.backupFile ? `; what it replaced is in the backup ${result.backupFile}` : ''
      noteChangeOutcome(`The change ran to its end (exit ${exitCode}): ${count('updated')} updated, ${count('unchanged')} unchanged, ${count('conflict')} conflicted, ${count('failed')} failed; its outcome is in storage${backup}.`)
      this.render(() => renderReport(result, this.output))
    }
    process.exitCode = exitCode
    return result
  }
}
