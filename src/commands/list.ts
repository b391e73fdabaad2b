import {EhcpCommand} from '../base-command.js'
import {csvFlag, scopeFlags} from '../flags.js'
import {renderContainerSummary} from '../output/views.js'
import {type ContainerSummary, summarizeContainer} from '../store/index.js'

export default class List extends EhcpCommand<typeof List> {
  static summary = 'List the consumer groups in a container: checkpoints, owners, newest checkpoint, problems.'
  static description =
    'One row per (namespace, event hub, consumer group), read from a single listing of the container. ' +
    'Names match case-insensitively; the scope flags filter the rows.'
  static examples = [
    '<%= config.bin %> list --connection-string "$AZURE_STORAGE_CONNECTION_STRING" --container checkpoints',
    '<%= config.bin %> list --container-url "https://acct.blob.core.windows.net/checkpoints?sv=..." --eventhub orders',
    '<%= config.bin %> list --emulator --container checkpoints --json',
  ]
  static flags = {...scopeFlags, csv: csvFlag}

  async run(): Promise<ContainerSummary> {
    const store = await this.openStore()
    const summary = await summarizeContainer(store, this.scopeFilter(), this.signal)
    this.render(renderContainerSummary(summary, this.output, this.rowFormat()))
    return summary
  }
}
