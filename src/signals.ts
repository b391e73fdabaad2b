/**
 * Stopping on a signal. Ctrl-C (SIGINT), SIGTERM (a supervisor, `kill`, a CI timeout) and SIGHUP (the
 * terminal went away) all end a run the same way: the command's AbortSignal fires, no new write starts,
 * writes in flight finish, the report is printed, and the exit code is 128 + the signal's number (130, 143,
 * 129). A second signal never kills a change midway: once writing has started it only says what is left.
 */
import {constants} from 'node:os'

import {EhcpError, ExitCode} from './errors.js'

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
export type StopSignal = (typeof STOP_SIGNALS)[number]

/** The abort reason of a run stopped by a signal. */
export class Interrupted extends Error {
  readonly exitCode: number
  constructor(readonly signal: StopSignal) {
    super(`Stopped by ${signal}.`)
    this.name = 'Interrupted'
    this.exitCode = 128 + (constants.signals[signal] ?? 2)
  }
}

/** The exit code of a run whose signal fired: the signal's own, or 130 for any other abort. */
export function stoppedExitCode(signal: AbortSignal): number {
  return signal.reason instanceof Interrupted ? signal.reason.exitCode : ExitCode.cancelled
}

/** The error of a run cancelled before anything was written, with the signal's exit code. */
export function cancelled(signal: AbortSignal, message = 'Cancelled: nothing was written.'): EhcpError {
  return new EhcpError('cancelled', message, stoppedExitCode(signal))
}

let writing = false
let finished = false

/**
 * The command has returned: only its output is left to drain (to a reader that may never read). A signal now
 * ends the process at once with its code — nothing is being done that it could cut short.
 */
export function commandFinished(): void {
  finished = true
}

/**
 * Marks the start of writing to storage: from then on a repeated signal never ends the process early, so the
 * writes in flight, the backup's record of them and the report (on stdout, after the command returns) all finish.
 */
export function writingStarts(): void {
  writing = true
}

/**
 * Routes the stop signals to `controller` for the life of the process. The first one aborts; a later one
 * before any write ends the process at once (a read or a prompt has nothing to lose); once writing has
 * started it only says that the run is finishing the writes in flight and its report.
 */
export function stopOnSignals(controller: AbortController, say: (message: string) => void): void {
  for (const name of STOP_SIGNALS) {
    process.on(name, () => {
      if (finished) process.exit(new Interrupted(name).exitCode)
      if (!controller.signal.aborted) return controller.abort(new Interrupted(name))
      if (!writing) process.exit(stoppedExitCode(controller.signal))
      say(`${name}: still stopping; writes already sent finish (each within --timeout), then the report follows.`)
    })
  }
}
