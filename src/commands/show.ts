import {EhcpCommand} from '../base-command.js'
import {ExitCode} from '../errors.js'
import type {FailOnLag, GroupViewWithLag, PartitionCrossing} from '../eventhubs/lag.js'
import {csvFlag, eventHubsFlags, lagFlags, partitionFlag, readEventHubsOptions, readRowFormat, readScope, scopeFlags} from '../flags.js'
import {renderGroupView, renderLagCrossings} from '../output/views.js'
import {readGroup, selectPartitions} from '../store/group.js'
import {resolveGroup} from '../store/scope.js'

export default class ShowCommand extends EhcpCommand<typeof ShowCommand> {
  static summary = 'Show one consumer group partition by partition: checkpoint, owner, owner state, lag, problems.'
  static description =
    'The consumer group defaults to $Default; the namespace and event hub may be omitted when the container holds only one. ' +
    'With --partition, each named partition is shown in full: blob names, ETags and every metadata key as stored. ' +
    'With --lag, Event Hubs is asked how far behind each partition is (every partition of the event hub, with or without a checkpoint).'
  static examples = [
    '<%= config.bin %> show --emulator --container checkpoints --eventhub orders',
    '<%= config.bin %> show --namespace contoso.servicebus.windows.net --eventhub orders --consumer-group billing --json',
    '<%= config.bin %> show --eventhub orders --partition 3 --lag',
    '<%= config.bin %> show --eventhub orders --fail-on-lag 10000 --json   # CI gate: exit 10 above 10,000 events',
    '<%= config.bin %> show --eventhub orders --csv > positions.csv',
  ]
  static flags = {...scopeFlags, partition: partitionFlag, ...lagFlags, ...eventHubsFlags, csv: csvFlag}

  async run(): Promise<GroupViewWithLag & {failOnLag?: FailOnLag<PartitionCrossing>}> {
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const store = await this.openStore({ownershipExpiryMs})
    const group = await resolveGroup(store, filter, this.signal)
    const all = await this.withProgress('Listing the group:', (update) => readGroup(store, group, this.signal, update), {unit: 'blobs'})
    const threshold = this.flags['fail-on-lag']
    const lag = this.flags.lag || threshold !== undefined
    let view: GroupViewWithLag & {failOnLag?: FailOnLag<PartitionCrossing>}
    if (lag) {
      const {addLag, partitionsOverLag} = await import('../eventhubs/lag.js')
      view = await this.withEventHub(readEventHubsOptions(this.flags), group.namespace, group.eventHub, '--lag', (reader) =>
        this.withProgress(
          'Reading lag:',
          (onProgress) => addLag(all, reader, {concurrency: 256, partitions: this.flags.partition, onProgress}),
          {
            unit: 'partitions',
          },
        ),
      )
      const lags = view.partitions.map((p) => p.lag).filter((l) => l !== undefined)
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
