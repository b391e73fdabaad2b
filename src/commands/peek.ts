import {EhcpCommand} from '../base-command.js'
import type {PeekResult} from '../eventhubs/peek.js'
import {eventHubsFlags, peekFlags, readEventHubsOptions, readPeek, readScope, scopeFlags} from '../flags.js'
import {renderPeek} from '../output/peek.js'
import {findPartition, readGroup} from '../store/group.js'
import {resolveGroup} from '../store/scope.js'

/** How long peek waits for a next event before taking the partition's end as reached. */
const WAIT_FOR_NEXT_EVENT_MS = 3000

export default class PeekCommand extends EhcpCommand<typeof PeekCommand> {
  static summary = "Show the next events of one partition after a consumer group's checkpoint, without disturbing its processor."
  static description =
    'Reads through --eventhubs-consumer-group, which must not be the group being peeked, and never with an owner level: ' +
    'a running processor keeps its partitions. Starts after the checkpoint (from the beginning without one), or at ' +
    '--from-sequence or --from-datetime. Stops after --count events, or when none arrives within 3 seconds. ' +
    'Bodies are shown as JSON (pretty-printed) or UTF-8 text; binary bodies by their size, in hex with --raw.'
  static examples = [
    '<%= config.bin %> peek --eventhub orders --consumer-group billing --partition 3 --eventhubs-consumer-group ehcp',
    '<%= config.bin %> peek --eventhub orders --partition 3 --eventhubs-consumer-group ehcp --count 5 --from-sequence 1200 --raw',
    '<%= config.bin %> peek --eventhub orders --partition 3 --eventhubs-consumer-group ehcp --json',
  ]
  static flags = {...scopeFlags, ...peekFlags, ...eventHubsFlags}

  async run(): Promise<PeekResult> {
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const options = readPeek(this.flags)
    const eventHubs = readEventHubsOptions(this.flags)
    const {peekEvents, refuseApplicationGroup} = await import('../eventhubs/peek.js')
    const store = await this.openStore({ownershipExpiryMs})
    const group = await resolveGroup(store, filter, this.signal)
    refuseApplicationGroup(group.consumerGroup, eventHubs.consumerGroup)
    const view = await readGroup(store, group, this.signal)
    const checkpoint = findPartition(view, options.partitionId)?.checkpoint ?? null
    const result = await this.withEventHub(eventHubs, group.namespace, group.eventHub, 'peek', (reader) =>
      peekEvents(reader, view, checkpoint, {...options, waitMs: WAIT_FOR_NEXT_EVENT_MS}),
    )
    this.render(() => renderPeek(result, this.output, options))
    return result
  }
}
