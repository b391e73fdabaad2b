import {EhcpCommand} from '../base-command.js'
import {EhcpError, ExitCode, usageError} from '../errors.js'
import type {FailOnLag, PartitionCrossing, PartitionLag} from '../eventhubs/lag.js'
import {
  csvFlag,
  eventHubsFlags,
  lagFlags,
  layoutFlags,
  partitionFlag,
  readEventHubsOptions,
  readLayout,
  readRowFormat,
  readScope,
  scopeFlags,
} from '../flags.js'
import {renderGroupView, renderLagCrossings, type ShownGroup} from '../output/views.js'
import {readGroup, selectPartitions} from '../store/group.js'
import {findLegacyGroup, readLegacyShown, refuseScopeFlags} from '../store/legacy-group.js'
import {resolveGroup} from '../store/scope.js'

export default class ShowCommand extends EhcpCommand<typeof ShowCommand> {
  static summary = 'Show one consumer group partition by partition: checkpoint, owner, owner state, lag, problems.'
  static description =
    'The consumer group defaults to $Default; the namespace and event hub may be omitted when the container holds only one. ' +
    'With --partition, each named partition is shown in full: blob names, ETags and every metadata key as stored. ' +
    'With --lag, Event Hubs is asked how far behind each partition is (every partition of the event hub, with or without a checkpoint). ' +
    'Groups that retired SDKs left are shown with --layout (eph, functions-v4, python-eph, go, dapr); without it, the modern group, ' +
    'else the one legacy group the scope matches. Give --namespace and --eventhub for --lag when the layout does not record them.'
  static examples = [
    '<%= config.bin %> show --emulator --container checkpoints --eventhub orders',
    '<%= config.bin %> show --namespace contoso.servicebus.windows.net --eventhub orders --consumer-group billing --json',
    '<%= config.bin %> show --eventhub orders --partition 3 --lag',
    '<%= config.bin %> show --eventhub orders --fail-on-lag 10000 --json   # CI gate: exit 10 above 10,000 events',
    '<%= config.bin %> show --eventhub orders --csv > positions.csv',
    `<%= config.bin %> show --container eph-leases --layout eph --consumer-group '$Default' --namespace contoso.servicebus.windows.net --eventhub orders --lag`,
  ]
  static flags = {...scopeFlags, ...layoutFlags, partition: partitionFlag, ...lagFlags, ...eventHubsFlags, csv: csvFlag}

  async run(): Promise<ShownGroup & {failOnLag?: FailOnLag<PartitionCrossing>}> {
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const {layout, blobPrefix} = readLayout(this.flags)
    if (layout !== undefined && layout !== 'modern')
      refuseScopeFlags(layout, this.givenScope(), this.flags.lag || this.flags['fail-on-lag'] !== undefined ? '--lag' : undefined)
    const store = await this.openStore({ownershipExpiryMs})
    let all: ShownGroup
    if (layout !== undefined && layout !== 'modern') {
      all = await readLegacyShown(store, layout, {...filter, blobPrefix}, this.signal)
    } else {
      try {
        const group = await resolveGroup(store, filter, this.signal)
        all = await this.withProgress('Listing the group:', (update) => readGroup(store, group, this.signal, update), {unit: 'blobs'})
      } catch (error) {
        // No modern group: the one legacy group this scope names, if exactly one does.
        if (layout === 'modern' || !(error instanceof EhcpError) || error.exitCode !== ExitCode.notFound) throw error
        const legacy = await findLegacyGroup(store, filter, this.signal)
        if (!legacy) throw error
        all = await readLegacyShown(store, legacy.layout, legacy.scope, this.signal)
      }
    }
    const threshold = this.flags['fail-on-lag']
    const lag = this.flags.lag || threshold !== undefined
    let view: ShownGroup & {failOnLag?: FailOnLag<PartitionCrossing>}
    if (lag) {
      const {addLag, partitionsOverLag} = await import('../eventhubs/lag.js')
      const namespace = all.namespace ?? filter.namespace
      const eventHub = all.eventHub ?? filter.eventHub
      if (namespace === undefined || eventHub === undefined)
        throw usageError(
          `The ${all.layout ?? 'modern'} layout does not record the ${namespace === undefined ? 'namespace' : 'event hub'}: --lag needs it.`,
          'Pass --namespace and --eventhub with --lag.',
        )
      view = await this.withEventHub(readEventHubsOptions(this.flags), namespace, eventHub, '--lag', (reader) =>
        this.withProgress(
          'Reading lag:',
          (onProgress) => addLag(all, reader, {concurrency: 256, partitions: this.flags.partition, onProgress}),
          {unit: 'partitions'},
        ),
      )
      const lags = view.partitions.map((p) => p.lag).filter((l): l is PartitionLag => l !== undefined)
      if (threshold !== undefined) view.failOnLag = partitionsOverLag(view.partitions, threshold)
      if (view.failOnLag?.crossed.length) process.exitCode = ExitCode.lagExceeded
      else if (lags.some((l) => l.state === 'unknown')) process.exitCode = ExitCode.unreachable
    } else {
      view = this.flags.partition ? selectPartitions(all, this.flags.partition) : all
    }
    this.render(() => renderGroupView(view, this.output, readRowFormat(this.flags), Boolean(this.flags.partition)))
    if (view.failOnLag?.crossed.length && !this.jsonEnabled()) this.note(renderLagCrossings(view.failOnLag, this.output))
    return view
  }
}
