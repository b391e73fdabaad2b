import {Flags} from '@oclif/core'

import {ChangeCommand, changeFlags} from '../change-command.js'
import type {ChangeResult} from '../change/execute.js'
import {planDeleteCheckpoints, planFromConsumerGroup, planFromFile} from '../change/reset.js'
import {partitionFlag, scopeFlags} from '../flags.js'

const SCENARIOS = ['from-file', 'from-consumer-group', 'delete']

export default class Reset extends ChangeCommand<typeof Reset> {
  static summary = 'Move many partitions of one consumer group at once: restore a backup, copy another group, or delete checkpoints.'
  static description =
    'Exactly one scenario. --from-file reads an ehcp backup (restored byte for byte: the undo of any change), or the JSON or CSV ' +
    'of `ehcp show`. Every change is planned first, confirmed, guarded against active owners, backed up, and written with If-Match.'
  static examples = [
    '<%= config.bin %> reset --from-file ehcp-backup-orders-billing-20261126T094000Z.json --emulator --container checkpoints --yes',
    '<%= config.bin %> reset --eventhub orders --consumer-group billing --from-consumer-group $Default --dry-run',
    '<%= config.bin %> show --eventhub orders --csv > positions.csv && <%= config.bin %> reset --eventhub orders --from-file positions.csv --yes --json',
    '<%= config.bin %> reset --eventhub orders --consumer-group billing --delete --partition 3',
  ]
  static flags = {
    ...scopeFlags,
    partition: partitionFlag,
    'from-file': Flags.string({summary: 'A backup file, or the JSON or CSV of `ehcp show`.', exactlyOne: SCENARIOS, helpGroup: 'SCENARIO'}),
    'from-consumer-group': Flags.string({summary: "Copy this consumer group's positions.", exactlyOne: SCENARIOS, helpGroup: 'SCENARIO'}),
    delete: Flags.boolean({summary: 'Delete the checkpoints (processors then use their default start position).', exactlyOne: SCENARIOS, helpGroup: 'SCENARIO'}),
    ...changeFlags,
  }

  async run(): Promise<ChangeResult> {
    const store = await this.openStore()
    const ctx = {store, filter: this.scopeFilter(), partitions: this.flags.partition, signal: this.signal}
    const {'from-file': file, 'from-consumer-group': source} = this.flags
    const plan =
      file !== undefined
        ? await planFromFile(ctx, file)
        : source !== undefined
          ? await planFromConsumerGroup(ctx, source)
          : await planDeleteCheckpoints(ctx)
    return this.change(store, plan)
  }
}
