import {EhcpCommand} from '../base-command.js'
import {ExitCode} from '../errors.js'
import {Collector, samplerReading} from '../exporter/collector.js'
import {exporterFlags, readExporterOptions} from '../exporter/flags.js'
import {ExporterMetrics, loadPromClient} from '../exporter/metrics.js'
import {startMetricsServer} from '../exporter/server.js'
import {eventHubsFlags, readEventHubsOptions, readScope, scopeFlags} from '../flags.js'
import {writeStdout} from '../output/terminal.js'
import {formatDuration} from '../time.js'

/** The connecting commands' base flags, less --json. */
function withoutJson<F extends {json: unknown}>({json: _json, ...rest}: F): Omit<F, 'json'> {
  return rest
}

export default class ExporterCommand extends EhcpCommand<typeof ExporterCommand> {
  static summary = 'Serve lag and Burrow status as Prometheus metrics: GET /metrics and /healthz, collected on a schedule.'
  static description =
    "Every --interval (default 30s) one collection of the scope, the round `watch` reads (one listing, each event hub's partition " +
    'properties once), bounded by twice --timeout; a scrape gets the last complete collection and never waits on Azure. A failed ' +
    'collection (storage or Event Hubs down) counts in ehcp_collection_errors_total and leaves the last values and ' +
    'ehcp_last_success_timestamp_seconds as they were. --once: one collection printed on stdout. Ctrl-C or SIGTERM stops it (exit 0).'
  static examples = [
    '<%= config.bin %> exporter --eventhub orders --consumer-group billing',
    '<%= config.bin %> exporter --eventhub orders --all --listen 0.0.0.0 --port 9464 --interval 1m',
    '<%= config.bin %> exporter --all --once',
  ]
  // The exposition is the output (Prometheus' text format); there is no JSON document to give instead.
  static enableJsonFlag = false
  // (Typed as the base class's: oclif reads the object, and nothing here reads `json`.)
  static baseFlags = withoutJson(EhcpCommand.baseFlags) as typeof EhcpCommand.baseFlags
  static flags = {
    ...scopeFlags,
    ...exporterFlags,
    ...eventHubsFlags,
  }

  async run(): Promise<void> {
    const options = readExporterOptions(this.flags)
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const metrics = new ExporterMetrics(await loadPromClient())
    const store = await this.openStore({ownershipExpiryMs})
    const eventHubs = readEventHubsOptions(this.flags)
    const collector = new Collector({
      read: samplerReading({
        store,
        filter,
        oneGroup: options.oneGroup,
        timeoutMs: this.flags.timeout * 2000,
        withHub: (namespace, hub, fn) => this.withEventHub(eventHubs, namespace, hub, 'exporter', fn, {manyHubs: !options.oneGroup}),
      }),
      metrics,
      samples: options.samples,
      allowedLag: options.allowedLag,
    })
    if (options.once) {
      const error = await collector.collect(this.signal)
      if (error) throw error
      writeStdout(collector.exposition.text)
      return
    }
    await collector.start()
    const server = await startMetricsServer({
      host: options.host,
      port: options.port,
      content: {metrics: () => collector.exposition, health: () => collector.health},
    })
    this.note(`Serving ${server.url} (and /healthz), collecting every ${formatDuration(options.intervalMs / 1000)}. Ctrl-C stops.`)
    try {
      await collector.run({
        intervalMs: options.intervalMs,
        signal: this.signal,
        onError: (error, collection) => {
          // Settings that can never work end it at once; an outage is only said, and counted.
          if (collection === 1 && (error.exitCode === ExitCode.usage || error.exitCode === ExitCode.auth)) throw error
          this.warning(`Collection ${collection} failed: ${error.message}`)
        },
      })
    } finally {
      await server.close()
    }
  }
}
