import {EhcpCommand} from '../base-command.js'
import {csvFlag, partitionFlag, scopeFlags} from '../flags.js'
import {renderGroupView} from '../output/views.js'
import {type GroupView, readGroup, resolveGroup, selectPartitions} from '../store/index.js'

export default class Show extends EhcpCommand<typeof Show> {
  static summary = 'Show one consumer group partition by partition: checkpoint, owner, owner state, problems.'
  static description =
    'The consumer group defaults to $Default; the namespace and event hub may be omitted when the container holds only one. ' +
    'With --partition, each named partition is shown in full: blob names, ETags and every metadata key as stored.'
  static examples = [
    '<%= config.bin %> show --emulator --container checkpoints --eventhub orders',
    '<%= config.bin %> show --namespace contoso.servicebus.windows.net --eventhub orders --consumer-group billing --json',
    '<%= config.bin %> show --eventhub orders --partition 3',
    '<%= config.bin %> show --eventhub orders --csv > positions.csv',
  ]
  static flags = {...scopeFlags, partition: partitionFlag, csv: csvFlag}

  async run(): Promise<GroupView> {
    const store = await this.openStore()
    const group = await resolveGroup(store, this.scopeFilter(), this.signal)
    const all = await readGroup(store, group, this.signal)
    const view = this.flags.partition ? selectPartitions(all, this.flags.partition) : all
    this.render(renderGroupView(view, this.output, this.rowFormat(), Boolean(this.flags.partition)))
    return view
  }
}
