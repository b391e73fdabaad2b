/**
 * The base of every command: shared flags, cancellation on Ctrl-C, rendering, and the one error funnel that maps
 * every failure to the contract's exit codes (EhcpBaseCommand); and for the commands that connect, the connection
 * flags, profiles, and connecting to the store and Event Hubs (EhcpCommand).
 */
import {stripVTControlCharacters} from 'node:util'

import {Command} from '@oclif/core/command'
import type * as Interfaces from '@oclif/core/interfaces'

import {classifyError, DECLINED, EhcpError, ExitCode, NAMESPACE_NOT_COVERED, printable, usageError} from './errors.js'
import type {EventHubReader} from './eventhubs/reader.js'
import {
  type ConnectionOptions,
  connectionFlags,
  type EventHubsOptions,
  outputFlags,
  profileFlag,
  quoteHint,
  readConnection,
  readOutput,
  withProfiles,
} from './flags.js'
import {type OutputSettings, outputSettings, writeJson, writeStderr, writeStdout} from './output/terminal.js'
import {type Progress, type ProgressOptions, startProgress} from './output/progress.js'
import {noteErrorOutcome} from './output/streams.js'
import {redactProcessOutput} from './output/streams.js'
import {redact} from './redact.js'
import {stoppedExitCode, stopOnSignals} from './signals.js'
import {closest} from './suggest.js'
import {openContainer, resolveStorageTarget, type StorageTarget} from './store/connect.js'
import {CheckpointStore} from './store/store.js'

/** An unknown flag (`--consumer-grup`), with the nearest flag this command takes when one is near enough. */
function unknownFlagsError(typed: string[], known: string[]): EhcpError {
  const described = typed.map((input) => {
    const name = /^--([^=]+)/.exec(input)?.[1]
    const guess = name === undefined ? undefined : closest(name, known)
    return {input: printable(input), guess: guess === undefined ? '' : `did you mean --${guess}?`}
  })
  const [only] = described
  const message =
    described.length === 1 && only
      ? `Unknown flag ${only.input}.${only.guess ? ` D${only.guess.slice(1)}` : ''}`
      : `Unknown flags: ${described.map((d) => (d.guess ? `${d.input} (${d.guess})` : d.input)).join(', ')}.`
  return usageError(message, 'See --help for the flags this command takes.')
}

/** The names a command's flags answer to (with `no-` for those that take it). */
function flagNames(flags: Record<string, object>): string[] {
  return Object.entries(flags).flatMap(([name, flag]) => ('allowNo' in flag && flag.allowNo ? [name, `no-${name}`] : [name]))
}

/**
 * oclif reports a value a flag's parser refuses (`--concurrency 0`, `--sequence-number x`, a custom flag's own
 * usage error) as "Parsing --flag \n\t<reason>\nSee more help with --help", exit 1 unless configured
 * otherwise: that is a usage error (exit 2), told on one line. `known` are the names of the command's flags.
 */
function flagValueError(error: unknown, known: string[]): unknown {
  const message = (error as Error | undefined)?.message ?? ''
  const unknown = (error as {flags?: unknown} | undefined)?.flags
  if (/^Nonexistent flags?: /.test(message) && Array.isArray(unknown) && unknown.length > 0)
    return unknownFlagsError(unknown.map(String), known)
  // A flag with no value (`--container` at the end, or followed by another flag) or given twice: oclif says
  // "Flag --x expects a value" / "Flag --x can only be specified once", as a plain error (exit 1). A value
  // missing from a consumer group flag is most likely a `$Default` the shell expanded to nothing: the hint
  // says how to quote it.
  const flagMisuse = /^Flag (--[\w-]+) (expects a value|expects one of these values: .*|can only be specified once)$/.exec(message)
  if (flagMisuse) {
    const [, flag, problem] = flagMisuse as unknown as [string, string, string]
    const hint = (problem === 'expects a value' ? quoteHint(flag) : undefined) ?? 'See --help for the flags this command takes.'
    return usageError(printable(`${flag} ${problem}.`), hint)
  }
  // Flags required or exclusive: "The following error(s) occurred:\n  <reason>…", and a required flag named
  // without its dashes ("Missing required flag partition").
  const failed = /^The following errors? occurred:\n([\s\S]*?)(?:\nSee more help with --help)?$/.exec(stripVTControlCharacters(message))
  if (failed) {
    const reasons = failed[1]!
      .split('\n')
      .map((line) => line.trim().replace(/^Missing required flag ([\w-]+)$/, 'Missing required flag --$1'))
      .filter((line) => line !== '')
    return usageError(printable(reasons.join('; ')), 'See --help for the flags this command takes.')
  }
  const parsed = /^Parsing (--[\w-]+) \n\t([\s\S]*?)(?:\nSee more help with --help)?$/.exec(message)
  if (!parsed) return error
  const [, flag, reason] = parsed as unknown as [string, string, string]
  const text = printable(reason.startsWith(flag) ? reason : `${flag}: ${reason}`)
  if (error instanceof EhcpError) return new EhcpError(error.code, text, error.exitCode, error.hint)
  return usageError(text, 'See --help for the flags this command takes.')
}

export type EhcpBaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof EhcpBaseCommand)['baseFlags'] & T['flags']>
export type EhcpFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof EhcpCommand)['baseFlags'] & T['flags']>

/** Every command: output flags, cancellation, rendering and the error funnel; no connection (the config commands). */
export abstract class EhcpBaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true
  static baseFlags = {...outputFlags}

  protected flags!: EhcpBaseFlags<T>
  protected args!: Interfaces.InferredArgs<T['args']>
  protected output!: OutputSettings
  private verbose = false
  private readonly abortController = new AbortController()

  /** Aborted on Ctrl-C, SIGTERM or SIGHUP: reads stop, writes in flight finish, the command reports and exits 128 + the signal. */
  protected get signal(): AbortSignal {
    return this.abortController.signal
  }

  override async init(): Promise<void> {
    redactProcessOutput()
    await super.init()
    stopOnSignals(this.abortController, (m) => writeStderr(m))
    const {flags, args} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: this.ctor.baseFlags,
      args: this.ctor.args,
      enableJsonFlag: this.ctor.enableJsonFlag,
      strict: this.ctor.strict,
    }).catch((error: unknown) => {
      throw flagValueError(error, flagNames({...this.ctor.baseFlags, ...this.ctor.flags}))
    })
    this.flags = flags as EhcpBaseFlags<T>
    this.args = args as Interfaces.InferredArgs<T['args']>
    const output = readOutput(this.flags)
    this.verbose = output.verbose
    this.output = outputSettings(output.color, process.env, process.stdout, process.stderr, {
      wide: output.wide,
      json: this.jsonEnabled(),
    })
    if (output.verbose) {
      // The Azure SDKs' own logging, to stderr, through the same redaction as everything else.
      const {setLogLevel} = await import('@azure/logger')
      setLogLevel('info')
    }
  }

  /**
   * Human or CSV output on stdout; silent under --json, where the returned result is the output. Takes a
   * function so that tables are not even built when nobody will see them.
   */
  protected render(text: () => string): void {
    if (!this.jsonEnabled()) writeStdout(text())
  }

  /**
   * A progress line on stderr for a read or a write that takes more than a moment: drawn only on a terminal
   * (never under --json to a pipe), after half a second, erased when `end()` is called or anything is written.
   */
  protected progress(label: string, options?: ProgressOptions): Progress {
    return startProgress(label, this.output.progress, process.stderr, options)
  }

  /** Runs `fn` with a progress line labelled `label`, ended however `fn` ends. */
  protected async withProgress<R>(
    label: string,
    fn: (update: (done: number, total?: number) => void) => Promise<R>,
    options?: ProgressOptions,
  ): Promise<R> {
    const progress = this.progress(label, options)
    try {
      return await fn((done, total) => progress.update(done, total))
    } finally {
      progress.end()
    }
  }

  /** A message for people on stderr (never into results on stdout). */
  protected note(message: string): void {
    writeStderr(message)
  }

  /** Warnings go to stderr, never into results on stdout. */
  protected warning(message: string): void {
    writeStderr(this.output.style.yellow(`Warning: ${message}`))
  }

  override logJson(json: unknown): void {
    writeJson(json)
  }

  /** The one error funnel: message (+ hint) on stderr, or the error document under --json; then the exit code. */
  override async catch(err: Error & {oclif?: {exit?: number}; code?: string}): Promise<unknown> {
    if (err?.code === 'EEXIT') throw err
    const classified = classifyError(err)
    // Stopped by a signal: the signal's own exit code (130 for Ctrl-C, 143 for SIGTERM).
    const error =
      classified.code === 'cancelled' && this.abortController.signal.aborted
        ? new EhcpError(classified.code, classified.message, stoppedExitCode(this.abortController.signal), classified.hint)
        : classified
    if (error.code === DECLINED && !this.jsonEnabled()) {
      // "No" at the prompt is the user's choice, not a failure: said plainly, with the contract's exit code.
      writeStderr(error.message)
      return this.exit(error.exitCode)
    }
    if (this.jsonEnabled()) {
      noteErrorOutcome(error.message)
      writeJson({error: {code: error.code, message: error.message, exitCode: error.exitCode, hint: error.hint ?? null}})
    } else {
      const style = this.output?.style
      writeStderr(`${style ? style.red('Error:') : 'Error:'} ${error.message}${error.hint ? `\n${error.hint}` : ''}`)
      const original = (error.cause ?? err) as Error | undefined
      if (error.exitCode === ExitCode.bug && this.verbose && original?.stack) {
        writeStderr(redact(original.stack))
      }
    }
    return this.exit(error.exitCode)
  }
}

/** The commands that connect: the connection flags, filled in from a profile where not given, and the connections. */
export abstract class EhcpCommand<T extends typeof Command> extends EhcpBaseCommand<T> {
  static baseFlags = {...connectionFlags, profile: profileFlag, ...outputFlags}

  declare protected flags: EhcpFlags<T>
  /** How to reach storage, from the base flags; the environment is consulted when the target is resolved. */
  private connection!: ConnectionOptions
  /** The flags as given on the command line, before a profile filled any in. */
  private commandLine: Record<string, unknown> = {}
  /** The container this run connected to (openStore): the undo command reconnects the same way. */
  private storageTarget: StorageTarget | undefined

  override async init(): Promise<void> {
    await super.init()
    this.commandLine = {...(this.flags as Record<string, unknown>)}
    const {flags, storageFrom} = await withProfiles(this.flags, Object.keys({...this.ctor.baseFlags, ...this.ctor.flags}), process.env)
    this.flags = flags
    this.connection = {...readConnection(flags), ...(storageFrom ? {profile: storageFrom} : {})}
  }

  /** The legacy scope flags given on the command line (a profile's are not: they apply only where a layout takes them). */
  protected givenScope(): {namespace?: string; eventHub?: string; consumerGroup?: string; blobPrefix?: string} {
    const given = (flag: string) => this.commandLine[flag] as string | undefined
    return {
      namespace: given('namespace'),
      eventHub: given('eventhub'),
      consumerGroup: given('consumer-group'),
      blobPrefix: given('blob-prefix'),
    }
  }

  /**
   * Resolves the storage target (flags, then environment) and opens the container (`container`: another one of
   * the same account); the target opened last is kept for the undo command.
   */
  protected async openStore(options: {ownershipExpiryMs: number; container?: string}): Promise<CheckpointStore> {
    const connection = options.container === undefined ? this.connection : {...this.connection, container: options.container}
    const target = resolveStorageTarget(connection, process.env)
    const {timeoutMs} = this.connection
    const {name, client} = await openContainer(target, {timeoutMs, maxTries: 3})
    this.storageTarget = target
    return new CheckpointStore(name, client, {ownershipExpiryMs: options.ownershipExpiryMs, timeoutMs})
  }

  /** The storage target openStore connected to. */
  protected connectedTarget(): StorageTarget {
    if (!this.storageTarget) throw new Error('No storage target: openStore() has not run.')
    return this.storageTarget
  }

  /**
   * Runs `fn` with a reader for one event hub (one AMQP connection), closed afterwards. `feature` names
   * what needs Event Hubs, for the message when there is no access.
   */
  protected async withEventHub<R>(
    eventHubs: EventHubsOptions,
    namespace: string,
    hub: string,
    feature: string,
    fn: (reader: EventHubReader) => Promise<R>,
    options: {strictNamespace?: boolean; manyHubs?: boolean} = {},
  ): Promise<R> {
    const {EventHubReader, eventHubsMismatch, resolveEventHubsAccess} = await import('./eventhubs/reader.js')
    const access = resolveEventHubsAccess(eventHubs.connectionString, process.env, namespace, feature)
    const mismatch = eventHubsMismatch(access, namespace, hub)
    const entity = access.kind === 'connection-string' ? access.entityPath : undefined
    // One hub's positions are never read as each of several hubs' (list over a container with many).
    const otherHub = entity !== undefined && entity.toLowerCase() !== hub.toLowerCase()
    if (mismatch) {
      if (!eventHubs.ignoreNamespaceMismatch || options.strictNamespace || (otherHub && options.manyHubs)) {
        throw new EhcpError(
          NAMESPACE_NOT_COVERED,
          `The Event Hubs connection does not reach the checkpoints' event hub: ${mismatch}.`,
          ExitCode.usage,
          options.strictNamespace
            ? 'Use --namespace to list one namespace at a time.'
            : otherHub && options.manyHubs && eventHubs.ignoreNamespaceMismatch
              ? 'The connection string is limited to one event hub: use --eventhub to list that hub, or a namespace-level connection string.'
              : 'Pass the connection string of that namespace and event hub, or --ignore-namespace-mismatch if it really is the same hub under another name (a Geo-DR alias, a custom domain).',
        )
      }
      this.warning(`--ignore-namespace-mismatch: ${mismatch}; reading that hub's positions as this group's.`)
    }
    // A connection string limited to a hub names it in its own spelling, which the client insists on (the blobs
    // of the JS, .NET, Python and Go stores are lower-cased); overridden, that hub is the one read.
    const reader = await EventHubReader.open(access, entity ?? hub, {
      consumerGroup: eventHubs.consumerGroup,
      timeoutMs: this.connection.timeoutMs,
    })
    try {
      return await fn(reader)
    } finally {
      await reader.close()
    }
  }
}
