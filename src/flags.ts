/**
 * The flags, group by group, each group with its reader: the one place that knows a flag's name turns the parsed
 * flags into the typed options the commands and the libraries take. A command that includes a group calls its
 * reader on `this.flags`, exactly typed by `this.parse`; nothing else reads flags by name.
 */
import * as Flags from '@oclif/core/flags'
import type * as Interfaces from '@oclif/core/interfaces'

import {quote, usageError} from './errors.js'
import type {RowFormat} from './csv.js'
import type {PeekFrom} from './eventhubs/peek.js'
import {
  configDir,
  fillFromProfiles,
  type ProfileSettings,
  type ProfileUpdate,
  readConfig,
  selectProfiles,
  SETTING_FLAGS,
  SETTING_KEYS,
  STORAGE_WAYS,
} from './profiles.js'
import {PARTITION_ID} from './store/codec.js'
import type {ConnectionInput} from './store/connect.js'
import {type Layout, LAYOUTS} from './store/layouts.js'
import type {ScopeFilter} from './store/scope.js'
import {parseDateTime, parseDuration} from './time.js'

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

/** Every connecting command takes it; withProfiles reads it. */
export const profileFlag = Flags.string({
  summary: 'Take the connection and scope from this saved profile (env EHCP_PROFILE; see `ehcp config`); flags still win.',
  helpGroup: 'CONNECTION',
})

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
  // oclif's own --json, in the group of the other output flags (oclif would list it alone under GLOBAL).
  json: Flags.boolean({summary: 'Print one JSON document on stdout (an error too, as {"error": …}).', helpGroup: 'OUTPUT'}),
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

/**
 * What to say when a flag's value is missing or empty, for the flags where the shell most likely swallowed it:
 * a consumer group's `$Default` is a name, not a variable, and unquoted the shell expands it to nothing.
 */
export function quoteHint(flag: string): string | undefined {
  return flag.endsWith('consumer-group')
    ? `The shell expands an unquoted $Default to nothing: use single quotes: ${flag} '$Default'.`
    : undefined
}

/** A scope name's parser: an empty name matches nothing any SDK writes, so it is refused rather than read. */
function scopeName(flag: string, hint: string): (input: string) => Promise<string> {
  return async (input) => {
    if (input === '') throw usageError(`${flag} is empty.`, quoteHint(flag) ?? hint)
    return input
  }
}

/** A consumer group flag's parser: an empty name is an unquoted `$Default` the shell expanded to nothing. */
export const consumerGroupName = (flag: string) => scopeName(flag, 'Name a consumer group.')

export const scopeFlags = {
  namespace: Flags.string({
    summary: 'Event Hubs namespace host, e.g. contoso.servicebus.windows.net (matched case-insensitively).',
    helpGroup: 'SCOPE',
    parse: scopeName('--namespace', 'Name a namespace, or leave --namespace out for every one.'),
  }),
  eventhub: Flags.string({
    summary: 'Event hub name (matched case-insensitively).',
    helpGroup: 'SCOPE',
    parse: scopeName('--eventhub', 'Name an event hub, or leave --eventhub out for every one.'),
  }),
  'consumer-group': Flags.string({
    summary: 'Consumer group name (matched case-insensitively).',
    helpGroup: 'SCOPE',
    parse: consumerGroupName('--consumer-group'),
  }),
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

/**
 * Which checkpoint layout: the modern one (the default), or one a retired SDK wrote. `blob-prefix` is the
 * name prefix the EventProcessorHost (`eph`) and Go (`go`) layouts were configured with.
 */
export const layoutFlags = {
  layout: Flags.string({
    summary: 'Checkpoint layout: modern, or one a retired SDK wrote (eph, functions-v4, python-eph, go, dapr).',
    options: [...LAYOUTS],
    helpGroup: 'SCOPE',
  }),
  'blob-prefix': Flags.string({
    summary: 'Blob name prefix the eph or go layout was configured with (default none).',
    helpGroup: 'SCOPE',
    dependsOn: ['layout'],
  }),
}

export interface LayoutOptions {
  layout: Layout | undefined
  blobPrefix: string | undefined
}

/** `list` takes --layout alone (a filter); the commands that name one group take --blob-prefix too. */
export function readLayout(flags: Partial<Parsed<typeof layoutFlags>>): LayoutOptions {
  if (flags.layout === 'modern' && flags['blob-prefix'] !== undefined)
    throw usageError('--blob-prefix does not apply to the modern layout: its blobs are named by namespace, event hub and consumer group.')
  return {layout: flags.layout as Layout | undefined, blobPrefix: flags['blob-prefix']}
}

/** `migrate`: the legacy layout moved from, and how. */
export const migrateFlags = {
  layout: Flags.string({
    summary: 'The layout the group is in now (eph, functions-v4, python-eph, go, dapr).',
    options: LAYOUTS.filter((l) => l !== 'modern'),
    required: true,
    helpGroup: 'SCOPE',
  }),
  'blob-prefix': layoutFlags['blob-prefix'],
  'to-container': Flags.string({
    summary: 'Write the modern checkpoints into this container of the same account (default: the one holding the legacy blobs).',
    helpGroup: 'SCOPE',
  }),
  overwrite: Flags.boolean({
    summary: 'Replace modern checkpoints that already exist (default: leave them and report them).',
    helpGroup: 'SAFETY',
  }),
  sentinels: Flags.string({
    summary: 'Go sentinels (start/end of stream): skip them, or write the earliest or latest position, looked up in Event Hubs.',
    options: ['skip', 'earliest', 'latest'],
    default: 'skip',
    helpGroup: 'SAFETY',
  }),
}

export interface MigrateFlagOptions {
  layout: Exclude<Layout, 'modern'>
  blobPrefix: string | undefined
  toContainer: string | undefined
  overwrite: boolean
  sentinels: 'skip' | 'earliest' | 'latest'
}

export function readMigrate(flags: Parsed<typeof migrateFlags>): MigrateFlagOptions {
  const toContainer = flags['to-container']
  if (toContainer !== undefined && !/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(toContainer))
    throw usageError(
      `--to-container ${quote(toContainer)} is not a container name.`,
      'Container names are 3-63 lower-case letters, digits and single dashes.',
    )
  return {
    layout: flags.layout as Exclude<Layout, 'modern'>,
    blobPrefix: flags['blob-prefix'],
    toContainer,
    overwrite: flags.overwrite,
    sentinels: flags.sentinels as 'skip' | 'earliest' | 'latest',
  }
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
    // No oclif default: a profile may give one when the flag is absent (readEventHubsOptions falls back to $Default).
    summary: 'Consumer group ehcp reads events with (next-event times, lookups by time or sequence number, peek). Default: $Default.',
    helpGroup: 'EVENT HUBS',
    parse: consumerGroupName('--eventhubs-consumer-group'),
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
    consumerGroup: flags['eventhubs-consumer-group'] ?? '$Default',
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

/** `reset --live`, `set --live`: rewind while the processors keep running (change/live.ts). */
export const liveFlags = {
  live: Flags.boolean({
    summary:
      'Change the group while its processors run: each partition is taken from its processor (its receiver detached), written, and given back.',
    helpGroup: 'SAFETY',
    exclusive: ['force'],
  }),
  'live-batch': Flags.integer({
    summary: 'With --live: partitions taken at once, so that a group is never stopped all at once.',
    default: 4,
    min: 1,
    max: 256,
    helpGroup: 'SAFETY',
  }),
  'live-wait': Flags.custom<number>({
    summary: 'With --live: how long to wait for processors to claim the partitions again and checkpoint from the new position.',
    default: 60_000,
    defaultHelp: async () => '60s',
    helpGroup: 'SAFETY',
    parse: async (input) => parseDuration(input, '--live-wait'),
  })(),
}

export interface LiveFlagOptions {
  batch: number
  waitMs: number
}

/** null without --live. */
export function readLive(flags: Parsed<typeof liveFlags>): LiveFlagOptions | null {
  return flags.live ? {batch: flags['live-batch'], waitMs: flags['live-wait']} : null
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

/** The settings the flags give (a flag left out, or `--emulator` not given, is no setting). */
function settingsFromFlags(flags: Record<string, unknown>): ProfileSettings {
  const settings: Record<string, unknown> = {}
  for (const key of SETTING_KEYS) {
    const value = flags[SETTING_FLAGS[key]]
    if (value !== undefined && value !== false) settings[key] = value
  }
  return settings as ProfileSettings
}

/**
 * Fills in, from the profile that applies (--profile, else EHCP_PROFILE, else the default profile), the flags the
 * user did not give and the command takes (`commandFlags`): the readers then see them as given. `reset --from-file`
 * takes its group from the file, so a profile's scope does not apply to it (an undo restores the group it was
 * taken from, whatever the profile says). `storageFrom` names the profile that gave the way to storage.
 */
export async function withProfiles<F extends object>(
  flags: F,
  commandFlags: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{flags: F; storageFrom?: string}> {
  const given = flags as Record<string, unknown>
  const config = await readConfig(configDir(env))
  const selection = selectProfiles(config, given.profile as string | undefined, env)
  const accepted = new Set(SETTING_KEYS.filter((key) => commandFlags.includes(SETTING_FLAGS[key])))
  if (given['from-file'] !== undefined) for (const key of ['namespace', 'eventHub', 'consumerGroup'] as const) accepted.delete(key)
  const {values, storageFrom} = fillFromProfiles(settingsFromFlags(given), accepted, selection, env)
  const filled: Record<string, unknown> = {...given}
  for (const key of SETTING_KEYS) if (values[key] !== undefined) filled[SETTING_FLAGS[key]] = values[key]
  return {flags: filled as F, storageFrom}
}

/** `ehcp config set`: the values a profile can hold, as the connecting commands spell them, and how to save secrets. */
export const profileSettingFlags = {
  'container-url': connectionFlags['container-url'],
  'connection-string': Flags.string({summary: 'Storage connection string (a secret: needs --save-secret).', helpGroup: 'CONNECTION'}),
  'account-url': connectionFlags['account-url'],
  emulator: connectionFlags.emulator,
  container: connectionFlags.container,
  namespace: scopeFlags.namespace,
  eventhub: scopeFlags.eventhub,
  'consumer-group': scopeFlags['consumer-group'],
  'eventhubs-connection-string': Flags.string({
    summary: 'Event Hubs connection string (a secret: needs --save-secret).',
    helpGroup: 'EVENT HUBS',
  }),
  'eventhubs-consumer-group': eventHubsFlags['eventhubs-consumer-group'],
  'save-secret': Flags.boolean({
    summary:
      'Save secrets in the profile (file mode 0600): --connection-string, --eventhubs-connection-string, a SAS in --container-url; ' +
      'without those flags, AZURE_STORAGE_CONNECTION_STRING and EVENTHUBS_CONNECTION_STRING.',
    helpGroup: 'SECRETS',
  }),
  unset: Flags.string({
    summary: 'Remove a saved value (repeatable), named as its flag, e.g. --unset namespace.',
    multiple: true,
    options: Object.values(SETTING_FLAGS),
  }),
}

export function readProfileUpdate(flags: Parsed<typeof profileSettingFlags>, env: NodeJS.ProcessEnv): ProfileUpdate {
  const settings = settingsFromFlags(flags)
  const saveSecret = Boolean(flags['save-secret'])
  if (saveSecret) {
    const anyWay = STORAGE_WAYS.some((way) => settings[way] !== undefined)
    if (!anyWay && env.AZURE_STORAGE_CONNECTION_STRING) settings.connectionString = env.AZURE_STORAGE_CONNECTION_STRING
    if (settings.eventHubsConnectionString === undefined && env.EVENTHUBS_CONNECTION_STRING)
      settings.eventHubsConnectionString = env.EVENTHUBS_CONNECTION_STRING
  }
  const unset = (flags.unset ?? []).map((flag) => SETTING_KEYS.find((key) => SETTING_FLAGS[key] === flag)!)
  for (const key of unset) {
    if (settings[key] !== undefined) throw usageError(`--unset ${SETTING_FLAGS[key]} and --${SETTING_FLAGS[key]} contradict each other.`)
  }
  return {settings, saveSecret, unset}
}

/** `peek`: which events of one partition, how many, and how bodies are shown. */
export const peekFlags = {
  partition: Flags.custom<string>({
    summary: 'The partition to read.',
    required: true,
    helpGroup: 'SCOPE',
    parse: async (input) => {
      if (!PARTITION_ID.test(input)) throw usageError(`--partition ${quote(input)} is not a partition id.`)
      return input
    },
  })(),
  count: Flags.integer({summary: 'Show at most N events.', default: 1, min: 1, max: 1000, helpGroup: 'EVENTS'}),
  'from-sequence': Flags.integer({
    summary: "Start at this sequence number (inclusive) instead of after the group's checkpoint.",
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    exclusive: ['from-datetime'],
    helpGroup: 'EVENTS',
  }),
  'from-datetime': Flags.string({
    summary: "Start at the first event enqueued at or after this ISO-8601 time (with zone) instead of after the group's checkpoint.",
    helpGroup: 'EVENTS',
  }),
  'max-bytes': Flags.integer({
    summary: 'Cut bodies longer than this many bytes (marked as cut, with the full size).',
    default: 4096,
    min: 1,
    max: 1_048_576,
    helpGroup: 'EVENTS',
  }),
  raw: Flags.boolean({summary: 'Show binary bodies in hex (otherwise only their size).', helpGroup: 'EVENTS'}),
}

/** Where `peek` starts (see eventhubs/peek.ts's PeekFrom), how many events, and how bodies are cut and shown. */
export interface PeekFlagOptions {
  partitionId: string
  from: PeekFrom
  count: number
  maxBytes: number
  raw: boolean
}

export function readPeek(flags: Parsed<typeof peekFlags>): PeekFlagOptions {
  const sequence = flags['from-sequence']
  const datetime = flags['from-datetime']
  return {
    partitionId: flags.partition,
    from:
      sequence !== undefined
        ? {kind: 'sequence', sequenceNumber: sequence}
        : datetime !== undefined
          ? {kind: 'datetime', datetime: parseDateTime(datetime, '--from-datetime')}
          : {kind: 'checkpoint'},
    count: flags.count,
    maxBytes: flags['max-bytes'],
    raw: Boolean(flags.raw),
  }
}
