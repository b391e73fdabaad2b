import {EhcpCommand} from '../base-command.js'
import {ExitCode} from '../errors.js'
import {
  csvFlag,
  eventHubsFlags,
  lagFlags,
  layoutFlags,
  readEventHubsOptions,
  readLayout,
  readRowFormat,
  readScope,
  scopeFlags,
} from '../flags.js'
import {renderContainerSummary} from '../output/views.js'
import {legacyLagNotRead} from '../store/legacy.js'
import {type ContainerSummary, tallyContainer} from '../store/summary.js'

export default class ListCommand extends EhcpCommand<typeof ListCommand> {
  static summary = 'List the consumer groups in a container: checkpoints, owners, newest checkpoint, lag, problems.'
  static description =
    'One row per (namespace, event hub, consumer group), read from a single listing of the container. ' +
    'Groups that retired SDKs left (EventProcessorHost, Functions v4, Python v1, Go v3, Dapr) are listed with their layout; --layout keeps one. ' +
    'Names match case-insensitively; the scope flags filter the rows. With --lag, the total and largest lag per group.'
  static examples = [
    '<%= config.bin %> list --connection-string "$AZURE_STORAGE_CONNECTION_STRING" --container checkpoints',
    '<%= config.bin %> list --container-url "https://acct.blob.core.windows.net/checkpoints?sv=..." --eventhub orders --lag',
    '<%= config.bin %> list --emulator --container checkpoints --json --fail-on-lag 5000',
  ]
  static flags = {...scopeFlags, layout: layoutFlags.layout, ...lagFlags, ...eventHubsFlags, csv: csvFlag}

  async run(): Promise<ContainerSummary> {
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const store = await this.openStore({ownershipExpiryMs})
    const tally = await tallyContainer(store, filter, this.signal, readLayout(this.flags).layout)
    const summary = tally.summarize(store.containerName, store.ownershipExpiryMs)
    const threshold = this.flags['fail-on-lag']
    if (this.flags.lag || threshold !== undefined) {
      const {addGroupLags} = await import('../eventhubs/lag.js')
      const modern = summary.groups.filter((g) => g.layout === 'modern')
      const namespaces = new Set(modern.map((g) => g.namespace.toLowerCase()))
      const hubs = new Set(modern.map((g) => `${g.namespace}/${g.eventHub}`.toLowerCase()))
      for (const g of summary.groups) if (g.layout !== 'modern') g.lag = legacyLagNotRead(g)
      await addGroupLags(modern, tally.checkpointSequences(), (namespace, hub, fn) =>
        this.withEventHub(readEventHubsOptions(this.flags), namespace, hub, '--lag', fn, {
          strictNamespace: namespaces.size > 1,
          manyHubs: hubs.size > 1,
        }),
      )
      if (
        threshold !== undefined &&
        summary.groups.some((g) => (g.lag?.max ?? 0) > threshold || (g.lag?.states['ahead-of-partition'] ?? 0) > 0)
      ) {
        process.exitCode = ExitCode.lagExceeded
      } else if (summary.groups.some((g) => g.lag?.reason)) process.exitCode = ExitCode.unreachable
    }
    this.render(() => renderContainerSummary(summary, this.output, readRowFormat(this.flags)))
    return summary
  }
}
