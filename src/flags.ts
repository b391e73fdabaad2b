/**
 * The flags, group by group, each group with its reader: the one place that knows a flag's name turns the parsed
 * flags into the typed options the commands and the libraries take. A command that includes a group calls its
 * reader on `this.flags`, exactly typed by `this.parse`; nothing else reads flags by name.
 */
import {Flags, type Interfaces} from '@oclif/core'

import {quote, usageError} from './errors.js'
import type {RowFormat} from './csv.js'
import {PARTITION_ID} from './store/codec.js'
import type {ConnectionInput} from './store/connect.js'
import type {ScopeFilter} from './store/scope.js'
import {parseDuration} from './time.js'

/** A flag group's values as `this.parse` types them (without the --json every command has). */
type Parsed<Group> = Omit<Interfaces.InferredFlags<Group>, 'json'>

export const connectionFlags = {
  'container-url': Flags.string({summary: 'Container URL, optionally with a SAS query string.', helpGroup: 'CONNECTION'}),
  'connection-string': Flags.string({summary: 'Storage connection string (env AZURE_STORAGE_CONNECTION_STRING).', helpGroup: 'CONNECTION'}),
  container: Flags.string({summary: 'Container name (env EHCP_CONTAINER).', helpGroup: 'CONNECTION'}),
  'account-url': Flags.string({
    summary: 'Blob account URL, signed in with DefaultAzureCredential (env EHCP_ACCOUNT_URL).',
    helpGroup: 'CONNECTION',
  }),
  emulator: Flags.boolean({
    summary: 'The local Azurite account (env EHCP_EMULATOR_BLOB_ENDPOINT overrides the endpoint).',
    helpGroup: 'CONNECTION',
  }),
  timeout: Flags.integer({
    summary: 'Seconds allowed for each request to storage, retries included.',
    default: 30,
    min: 1,
    // A day at most: beyond 2^31 ms Node's timers fire at once.
    max: 86_400,
    helpGroup: 'CONNECTION',
  }),
}

/** Where the checkpoints are, as the flags give it (the environment fills in the rest: resolveStorageTarget), and each request's time limit. */
export interface ConnectionOptions extends ConnectionInput {
  timeoutMs: number
}

export function readConnection(flags: Parsed<typeof connectionFlags>): ConnectionOptions {
  return {
    containerUrl: flags['container-url'],
    connectionString: flags['connection-string'],
    container: flags.container,
    accountUrl: flags['account-url'],
    emulator: flags.emulator,
    timeoutMs: flags.timeout * 1000,
  }
}

export const outputFlags = {
  color: Flags.boolean({
    summary: 'Colour tables (default: only on a terminal; NO_COLOR and TERM=dumb turn it off).',
    allowNo: true,
    helpGroup: 'OUTPUT',
  }),
  wide: Flags.boolean({
    summary: 'Show every table column, whole, however wide the terminal (piped output always does).',
    helpGroup: 'OUTPUT',
  }),
  verbose: Flags.boolean({
    summary: "Log the Azure SDKs' requests to stderr (secrets redacted); on an unexpected failure, print the stack trace.",
    helpGroup: 'OUTPUT',
  }),
}

export interface OutputOptions {
  /** --color or --no-color; undefined when neither was given (the terminal and the environment decide). */
  color: boolean | undefined
  verbose: boolean
  /** --wide: tables keep every column whole instead of fitting the terminal. */
  wide: boolean
}

export function readOutput(flags: Parsed<typeof outputFlags>): OutputOptions {
  return {color: flags.color, verbose: Boolean(flags.verbose), wide: Boolean(flags.wide)}
}

/**
 * The shortest --ownership-expiry a guarded change accepts: processors renew ownership about every 10 s, so
 * below it a live owner looks expired and the guard would let through a change its processor then overwrites.
 */
export const MIN_GUARD_EXPIRY_MS = 10_000
export const DEFAULT_OWNERSHIP_EXPIRY_MS = 120_000

export const scopeFlags = {
  namespace: Flags.string({
    summary: 'Event Hubs namespace host, e.g. contoso.servicebus.windows.net (matched case-insensitively).',
    helpGroup: 'SCOPE',
  }),
  eventhub: Flags.string({summary: 'Event hub name (matched case-insensitively).', helpGroup: 'SCOPE'}),
  'consumer-group': Flags.string({summary: 'Consumer group name (matched case-insensitively).', helpGroup: 'SCOPE'}),
  'ownership-expiry': Flags.custom<number>({
    summary: 'An owner whose heartbeat is younger than this is active (e.g. 60s, 2m).',
    default: DEFAULT_OWNERSHIP_EXPIRY_MS,
    defaultHelp: async () => '2m',
    helpGroup: 'SCOPE',
    parse: async (input) => {
      const ms = parseDuration(input, '--ownership-expiry')
      if (ms <= 0) throw usageError(`--ownership-expiry ${quote(input)} would make every owner look expired.`, 'Use e.g. 60s or 2m.')
      return ms
    },
  })(),
}

/** Which consumer group (or groups) a command is about, and how young a heartbeat makes an owner active. */
export interface ScopeOptions {
  filter: ScopeFilter
  ownershipExpiryMs: number
}

export function readScope(flags: Parsed<typeof scopeFlags>): ScopeOptions {
  return {
    filter: {namespace: flags.namespace, eventHub: flags.eventhub, consumerGroup: flags['consumer-group']},
    ownershipExpiryMs: flags['ownership-expiry'],
  }
}

export const partitionFlag = Flags.custom<string>({
  summary: 'Partition id (repeatable; comma lists allowed).',
  multiple: true,
  delimiter: ',',
  helpGroup: 'SCOPE',
  // Refused before anything is read or connected to, as `set --partition` and plan files refuse it.
  parse: async (input) => {
    if (!PARTITION_ID.test(input)) throw usageError(`--partition ${quote(input)} is not a partition id.`)
    return input
  },
})()

export const csvFlag = Flags.boolean({
  summary: 'Print CSV: a header row, then one row per record.',
  exclusive: ['json'],
  helpGroup: 'OUTPUT',
})

export function readRowFormat(flags: Parsed<{csv: typeof csvFlag}>): RowFormat {
  return flags.csv ? 'csv' : 'table'
}

export const eventHubsFlags = {
  'eventhubs-connection-string': Flags.string({
    summary:
      'Event Hubs connection string for lag and position lookups (env EVENTHUBS_CONNECTION_STRING); otherwise DefaultAzureCredential.',
    helpGroup: 'EVENT HUBS',
  }),
  'ignore-namespace-mismatch': Flags.boolean({
    summary:
      "Use the Event Hubs connection even though its namespace or event hub differs from the checkpoints' (a Geo-DR alias, a custom domain).",
    helpGroup: 'EVENT HUBS',
  }),
  'eventhubs-consumer-group': Flags.string({
    summary: 'Consumer group ehcp reads single events with (next-event times, lookups by time or sequence number).',
    default: '$Default',
    helpGroup: 'EVENT HUBS',
  }),
}

/** How to reach Event Hubs, as the flags give it (EVENTHUBS_CONNECTION_STRING and the namespace fill in the rest: resolveEventHubsAccess). */
export interface EventHubsOptions {
  connectionString: string | undefined
  /** The consumer group ehcp's own single-event reads use. */
  consumerGroup: string
  ignoreNamespaceMismatch: boolean
}

export function readEventHubsOptions(flags: Parsed<typeof eventHubsFlags>): EventHubsOptions {
  return {
    connectionString: flags['eventhubs-connection-string'],
    consumerGroup: flags['eventhubs-consumer-group'],
    ignoreNamespaceMismatch: Boolean(flags['ignore-namespace-mismatch']),
  }
}

export const lagFlags = {
  lag: Flags.boolean({summary: 'Ask Event Hubs how far behind each partition is (events and time).', helpGroup: 'LAG'}),
  'fail-on-lag': Flags.integer({
    summary: "Exit 10 when any selected partition's lag exceeds N events (implies --lag).",
    min: 0,
    helpGroup: 'LAG',
  }),
}

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
      if ([...input].some((c) => c < ' ' || c === '\x7f'))
        throw usageError(`--backup-file ${quote(input)} has control characters.`, 'Name a file without them.')
      return input
    },
  }),
  'no-backup': Flags.boolean({summary: 'Do not save a backup before writing.', helpGroup: 'SAFETY', exclusive: ['backup-file']}),
  concurrency: Flags.integer({summary: 'Writes in flight at once.', default: 32, min: 1, max: 256, helpGroup: 'SAFETY'}),
}

/** How a change runs: the safe-change pipeline's switches. */
export interface ChangeOptions {
  dryRun: boolean
  yes: boolean
  force: boolean
  /** false with --no-backup. */
  backup: boolean
  /** --backup-file; undefined for the default name. */
  backupFile: string | undefined
  concurrency: number
}

/** A command may leave --force out (release-ownership: a release is not guarded), and is then never forced. */
export function readChangeOptions(flags: Omit<Parsed<typeof changeFlags>, 'force'> & {force?: boolean}): ChangeOptions {
  return {
    dryRun: Boolean(flags['dry-run']),
    yes: Boolean(flags.yes),
    force: Boolean(flags.force),
    backup: !flags['no-backup'],
    backupFile: flags['backup-file'],
    concurrency: flags.concurrency,
  }
}
