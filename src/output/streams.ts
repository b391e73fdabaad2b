/**
 * stdout and stderr that can neither crash ehcp nor lose what it wrote. A write that fails (EPIPE when the
 * reader left, as `| head -1` does; ENOSPC on a full disk; EIO from a closed terminal) marks that stream
 * failed: later writes to it are dropped, the other stream goes on, and whatever was running (a change)
 * runs to its end. Before the process leaves, everything still queued for a pipe is drained. Everything
 * written also passes through redaction (redactProcessOutput), from the first byte.
 */

import {redact} from '../redact.js'

type Chunk = unknown
type Write = (chunk: Chunk, ...rest: unknown[]) => boolean

/** The first error that stopped each stream. */
const failures = new Map<NodeJS.WriteStream, NodeJS.ErrnoException>()

/** What the command came to (a change that ran, an error under --json): told on stderr if stdout could not carry it. */
let outcome: {kind: 'change' | 'error'; text: string} | undefined

function fail(stream: NodeJS.WriteStream, error: unknown): void {
  if (!failures.has(stream)) failures.set(stream, (error ?? new Error('write failed')) as NodeJS.ErrnoException)
}

/** The error that stopped stdout or stderr, if one did. */
export function outputFailure(stream: NodeJS.WriteStream): NodeJS.ErrnoException | undefined {
  return failures.get(stream)
}

/**
 * Makes `stream` safe to write to: `write` (the stream's own, already redacting) is called while the stream
 * works; after a failure, writes are dropped (a callback still hears the error, so no caller waits forever).
 * A failed write's 'error' event stops here: no listener ever sees it (oclif's own rethrows everything but
 * EPIPE on stdout, and nothing listens on stderr, either of which ends the process with exit 1).
 */
export function guardStream(stream: NodeJS.WriteStream, write: Write): Write {
  const emit = stream.emit.bind(stream) as (event: string | symbol, ...args: unknown[]) => boolean
  stream.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event !== 'error') return emit(event, ...args)
    fail(stream, args[0])
    return true
  }) as typeof stream.emit
  return (chunk: Chunk, ...rest: unknown[]) => {
    const failure = failures.get(stream)
    if (failure) {
      const callback = rest.find((r) => typeof r === 'function') as ((error?: Error) => void) | undefined
      if (callback) process.nextTick(callback, failure)
      return true
    }
    try {
      return write(chunk, ...rest)
    } catch (error) {
      fail(stream, error)
      return true
    }
  }
}

/** Called by a change that ran: what to tell on stderr if its report on stdout cannot be written. */
export function noteChangeOutcome(summary: string): void {
  outcome = {kind: 'change', text: summary}
}

/** Called by the error funnel under --json, where the error goes to stdout: told on stderr if it cannot be. */
export function noteErrorOutcome(message: string): void {
  outcome = {kind: 'error', text: message}
}

function describe(error: NodeJS.ErrnoException): string {
  const reason = error.message.replace(/^\w+: /, '').replace(/, write$/, '')
  return error.code ? `${error.code}: ${reason}` : reason
}

/**
 * After the command: if stdout failed for any reason but a reader that left (EPIPE, which is how `| head`
 * ends a pipe: quiet), says so on one stderr line. A change keeps its own exit code (it says what happened
 * in storage), as does an error; a read-only command whose output was lost exits 2, never 0. Resolves once everything
 * written has reached its pipe, file or terminal, or failed to.
 */
export async function finishOutput(): Promise<void> {
  // A failed write is reported on the next tick: wait for it, after the last write of the command.
  await new Promise((resolve) => setImmediate(resolve))
  await outputDrained()
  const failure = failures.get(process.stdout)
  if (!failure || failure.code === 'EPIPE') return
  const what = `the output could not be written to stdout (${describe(failure)})`
  if (outcome?.kind === 'change') process.stderr.write(`Warning: ${what}. ${outcome.text}\n`)
  else if (outcome?.kind === 'error') process.stderr.write(`Error: ${what}. ${outcome.text}\n`)
  else process.stderr.write(`Error: ${what}; what was shown is incomplete.\n`)
  // A read-only command whose output was lost has not done its job; a change or an error keeps its own code.
  if (!outcome && !process.exitCode) process.exitCode = 2
  await outputDrained()
}

function drained(stream: NodeJS.WriteStream): Promise<void> {
  const done = () => failures.has(stream) || stream.destroyed || stream.writableLength === 0
  if (done()) return Promise.resolve()
  return new Promise((resolve) => {
    // 'drain' comes only after a write that returned false; the poll covers a queue below the high-water mark.
    const check = () => {
      if (!done()) return
      clearInterval(poll)
      stream.off('drain', check).off('close', check)
      resolve()
    }
    const poll = setInterval(check, 20)
    stream.on('drain', check).on('close', check)
  })
}

/** Resolves when everything written to stdout and stderr has reached the pipe, file or terminal (or failed). */
export async function outputDrained(): Promise<void> {
  await Promise.all([drained(process.stdout), drained(process.stderr)])
}

/**
 * Routes everything the process writes — ehcp's output, oclif's, and any library's debug logging (Azure SDK
 * log levels, DEBUG=rhea*) — through redact(). Installed once, before anything is written. The streams are
 * guarded too (guardStream): a write that fails (a reader that left, a full disk) never stops ehcp.
 */
export function redactProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    // Already wrapped (bin/run.js installs it, and so does every command's init): a bound copy would not say so.
    if ((stream.write as {redacting?: boolean}).redacting) continue
    const original = guardStream(stream, stream.write.bind(stream) as (...args: unknown[]) => boolean)
    const write = ((chunk: unknown, ...rest: unknown[]) => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString('utf8')
            : undefined
      return original(text === undefined ? chunk : redact(text), ...rest)
    }) as Write
    Object.assign(write, {redacting: true})
    stream.write = write
  }
}
