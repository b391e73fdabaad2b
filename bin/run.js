#!/usr/bin/env node
// Everything this process writes passes through redaction, from the first byte: with DEBUG=* even the
// framework's own logging of argv (which may hold a connection string) is covered. The same wrapper keeps a
// failed write (a reader that left, a full disk) from stopping the process (src/output/streams.ts).
import {finishOutput, redactProcessOutput} from '../dist/src/output/streams.js'
import {commandFinished} from '../dist/src/signals.js'
import {asksForVersion, versionLine} from '../dist/src/version.js'

redactProcessOutput()
// What oclif's index said before anything else (ehcp loads oclif's parts, not its index: see runCommand).
try {
  process.cwd()
} catch (error) {
  if (error?.code === 'ENOENT') process.stderr.write('WARNING: current directory does not exist\n')
}
// Set when oclif ends the command with an error (below).
let failed = false
// `ehcp --version` (oclif's rule: --version first, whatever follows) is one line from package.json: printed
// without loading oclif, which is most of ehcp's start-up (src/version.ts; docs/performance.md, "Start-up").
if (asksForVersion(process.argv.slice(2))) process.stdout.write(`${await versionLine()}\n`)
else await runCommand()

async function runCommand() {
  // oclif's parts, not its index: the index also loads semver (47 files) to check @oclif/core's own Node engine.
  const {run} = await import('@oclif/core/run')
  const {Exit, handle} = await import('@oclif/core/handle')
  // oclif ends an error (and a command's this.exit) with process.exit, which drops whatever is still queued
  // for a pipe (a plan cut at 64 KiB, the error line lost): here it only sets the exit code, and the process
  // leaves below, once its output is out. (oclif's execute() is not used either: its flush gives up on a
  // reader slower than 10 s and turns that into "Error: timed out", exit 1.)
  Exit.exit = (code = 0) => {
    failed = true
    process.exitCode = code
  }
  // A command that does not exist (`ehcp lst`, `ehcp list extra`) is a usage error, exit 2, not a bug (exit 1).
  const usage = (error) => {
    if (/^command \S+ not found$/.test(error?.message ?? '')) {
      error.message += '\nRun `ehcp --help` for the commands.'
      error.oclif = {...error.oclif, exit: 2}
    }
    // A plugin's command refusing its arguments (`ehcp autocomplete fish`) is a usage error too.
    if (error?.parse !== undefined && (error.oclif?.exit ?? 1) === 1) error.oclif = {...error.oclif, exit: 2}
    // A plugin's file it cannot write (`ehcp autocomplete` with a read-only or missing cache directory): where, and
    // what to set, exit 2. (ehcp's own commands map their errors themselves.)
    if (typeof error?.syscall === 'string' && typeof error?.path === 'string' && /^E[A-Z]+$/.test(error.code ?? '')) {
      const fixed = new Error(
        `ehcp cannot use ${error.path} (${error.code}).` +
          (error.path.includes('autocomplete')
            ? '\nCompletion keeps its scripts in the cache directory: set XDG_CACHE_HOME to a directory you can write.'
            : ''),
      )
      fixed.oclif = {exit: 2}
      return fixed
    }
    return error
  }
  await run(process.argv.slice(2), import.meta.url).catch((error) => handle(usage(error)))
}

// From here only output is left to drain: a signal ends the process at once (src/signals.ts).
commandFinished()
await finishOutput()
// The command has finished and its output is out. After an error, leave now, as oclif would have. After
// success, a library can still hold the event loop open (an AMQP connection that dropped mid-command keeps
// reconnect timers): leave shortly, with the exit code as set.
if (failed) process.exit()
setTimeout(() => process.exit(), 1000).unref()
