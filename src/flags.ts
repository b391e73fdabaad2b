/** Flags shared by several commands: connection, scope, output. */
import {Flags} from '@oclif/core'

import {quote, usageError} from './errors.js'
import {PARTITION_ID} from './store/codec.js'
import {parseDuration} from './time.js'

export const connectionFlags = {
  'container-url': Flags.string({summary: 'Container URL, optionally with a SAS query string.', helpGroup: 'CONNECTION'}),
  'connection-string': Flags.string({summary: 'Storage connection string (env AZURE_STORAGE_CONNECTION_STRING).', helpGroup: 'CONNECTION'}),
  container: Flags.string({summary: 'Container name (env EHCP_CONTAINER).', helpGroup: 'CONNECTION'}),
  'account-url': Flags.string({summary: 'Blob account URL, signed in with DefaultAzureCredential (env EHCP_ACCOUNT_URL).', helpGroup: 'CONNECTION'}),
  emulator: Flags.boolean({summary: 'The local Azurite account (env EHCP_EMULATOR_BLOB_ENDPOINT overrides the endpoint).', helpGroup: 'CONNECTION'}),
  timeout: Flags.integer({
    summary: 'Seconds allowed for each request to storage, retries included.',
    default: 30,
    min: 1,
    // A day at most: beyond 2^31 ms Node's timers fire at once.
    max: 86_400,
    helpGroup: 'CONNECTION',
  }),
}

export const outputFlags = {
  color: Flags.boolean({summary: 'Colour tables (default: only on a terminal; NO_COLOR and TERM=dumb turn it off).', allowNo: true, helpGroup: 'OUTPUT'}),
  verbose: Flags.boolean({summary: "Log the Azure SDKs' requests to stderr (secrets redacted); on an unexpected failure, print the stack trace.", helpGroup: 'OUTPUT'}),
}

/**
 * The shortest --ownership-expiry a guarded change accepts: processors renew ownership about every 10 s, so
 * below it a live owner looks expired and the guard would let through a change its processor then overwrites.
 */
export const MIN_GUARD_EXPIRY_MS = 10_000
export const DEFAULT_OWNERSHIP_EXPIRY_MS = 120_000

export const scopeFlags = {
  namespace: Flags.string({summary: 'Event Hubs namespace host, e.g. contoso.servicebus.windows.net (matched case-insensitively).', helpGroup: 'SCOPE'}),
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

export const csvFlag = Flags.boolean({summary: 'Print CSV: a header row, then one row per record.', exclusive: ['json'], helpGroup: 'OUTPUT'})

export const eventHubsFlags = {
  'eventhubs-connection-string': Flags.string({
    summary: 'Event Hubs connection string for lag and position lookups (env EVENTHUBS_CONNECTION_STRING); otherwise DefaultAzureCredential.',
    helpGroup: 'EVENT HUBS',
  }),
  'ignore-namespace-mismatch': Flags.boolean({
    summary: "Use the Event Hubs connection even though its namespace or event hub differs from the checkpoints' (a Geo-DR alias, a custom domain).",
    helpGroup: 'EVENT HUBS',
  }),
  'eventhubs-consumer-group': Flags.string({
    summary: 'Consumer group ehcp reads single events with (next-event times, lookups by time or sequence number).',
    default: '$Default',
    helpGroup: 'EVENT HUBS',
  }),
}

export const lagFlags = {
  lag: Flags.boolean({summary: 'Ask Event Hubs how far behind each partition is (events and time).', helpGroup: 'LAG'}),
  'fail-on-lag': Flags.integer({summary: "Exit 10 when any selected partition's lag exceeds N events (implies --lag).", min: 0, helpGroup: 'LAG'}),
}
