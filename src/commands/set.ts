import * as Flags from '@oclif/core/flags'

import {ChangeCommand} from '../change-command.js'
import type {ChangeResult} from '../change/execute.js'
import {type ChangePlan, planPositions} from '../change/plan.js'
import {notFoundError, quote, usageError} from '../errors.js'
import {
  changeFlags,
  liveFlags,
  type ChangeOptions,
  eventHubsFlags,
  layoutFlags,
  readChangeOptions,
  readLive,
  readEventHubsOptions,
  readLayout,
  readScope,
  scopeFlags,
} from '../flags.js'
import {OFFSET, PARTITION_ID} from '../store/codec.js'
import {findPartition, readGroup} from '../store/group.js'
import type {LegacyLayout} from '../store/layouts.js'
import {type LegacyScopeInput, readLegacyShown, refuseScopeFlags} from '../store/legacy-group.js'
import {resolveGroup} from '../store/scope.js'
import type {CheckpointStore} from '../store/store.js'

export default class SetCommand extends ChangeCommand<typeof SetCommand> {
  static summary = 'Set one partition of a consumer group to an exact position.'
  static description =
    'Writes the matching (sequence number, offset) pair of one event: the checkpoint means "last processed", so the ' +
    'processor resumes with the event after it. --offset -1 with --sequence-number <beginning - 1> means the start of the partition. ' +
    'Plan, confirmation, active-owner guard, backup and conditional write as for every change.'
  static examples = [
    '<%= config.bin %> set --emulator --container checkpoints --eventhub orders --partition 3 --sequence-number 41999 --offset 21502976',
    '<%= config.bin %> set --eventhub orders --consumer-group billing --partition 0 --sequence-number=-1 --offset=-1 --dry-run',
    '<%= config.bin %> set --eventhub orders --partition 3 --sequence-number 41999 --yes --json   # offset looked up in Event Hubs',
    `<%= config.bin %> set --container eph-leases --layout eph --consumer-group '$Default' --partition 0 --sequence-number 960180 --offset 8591964920 --dry-run`,
  ]
  static flags = {
    ...scopeFlags,
    ...layoutFlags,
    ...eventHubsFlags,
    partition: Flags.string({summary: 'The partition to set.', required: true, helpGroup: 'SCOPE'}),
    'sequence-number': Flags.integer({
      summary: 'Sequence number of the last processed event.',
      required: true,
      min: -1,
      max: Number.MAX_SAFE_INTEGER,
    }),
    offset: Flags.string({
      summary: 'Offset of that same event (opaque; -1 = before the first event). Without it, looked up in Event Hubs.',
    }),
    ...changeFlags,
    ...liveFlags,
  }

  async run(): Promise<ChangeResult> {
    const {partition, offset} = this.flags
    const sequenceNumber = this.flags['sequence-number']
    if (offset?.trim() === '') throw usageError('--offset is empty.')
    if (offset !== undefined && !OFFSET.test(offset))
      throw usageError(`--offset ${quote(offset)} is not an offset: printable ASCII without spaces, at most 1024 characters.`)
    if (!PARTITION_ID.test(partition)) throw usageError(`--partition ${quote(partition)} is not a partition id.`)
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const {layout, blobPrefix} = readLayout(this.flags)
    if (layout !== undefined && layout !== 'modern')
      refuseScopeFlags(layout, this.givenScope(), offset === undefined ? 'set without --offset' : undefined)
    const store = await this.openStore({ownershipExpiryMs})
    const live = readLive(this.flags)
    if (layout !== undefined && layout !== 'modern') {
      // --live on a legacy layout breaks the lease, as --force does: the host re-reads the blob when it re-acquires it.
      const options = readChangeOptions(this.flags)
      return this.setLegacy(store, layout, {...filter, blobPrefix}, {...options, force: options.force || live !== null})
    }
    const group = await resolveGroup(store, filter, this.signal, {allowNew: true})
    const view = await readGroup(store, group, this.signal)
    // Without --offset, event N's own offset comes from Event Hubs: the pair always belongs to one event.
    const position =
      offset !== undefined
        ? {sequenceNumber, offset}
        : await this.withEventHub(
            readEventHubsOptions(this.flags),
            group.namespace,
            group.eventHub,
            'set without --offset',
            async (reader) => {
              const {lookUpPosition} = await import('../change/targets.js')
              return lookUpPosition(reader, partition, sequenceNumber)
            },
          )
    const items = planPositions(view, [{partitionId: partition, position}])
    const {newGroup, ...scope} = group
    const plan: ChangePlan = {
      operation: 'set',
      scenario: 'position',
      container: store.containerName,
      ...scope,
      guarded: true,
      notes: newGroup ? [newGroup] : [],
      items,
    }
    return live
      ? this.changeLive(store, plan, readChangeOptions(this.flags), live, readEventHubsOptions(this.flags))
      : this.change(store, plan, readChangeOptions(this.flags))
  }

  /** A legacy lease blob: only its position fields rewritten; a leased one refused, or its lease broken with --force. */
  private async setLegacy(
    store: CheckpointStore,
    layout: LegacyLayout,
    scope: LegacyScopeInput,
    options: ChangeOptions,
  ): Promise<ChangeResult> {
    const {partition, offset} = this.flags
    const sequenceNumber = this.flags['sequence-number']
    const view = await readLegacyShown(store, layout, scope, this.signal)
    if (!findPartition(view, partition))
      throw notFoundError(
        `No ${layout} lease blob for partition ${partition} under "${view.blobPrefix}".`,
        `Partitions: ${view.partitions.map((p) => p.partitionId).join(', ')}. ehcp creates no lease blobs.`,
      )
    const {legacyChangePlan, planLegacyPositions} = await import('../change/legacy-plan.js')
    const position =
      offset !== undefined
        ? {sequenceNumber, offset}
        : await (async () => {
            const {legacyHub} = await import('../change/legacy-scenarios.js')
            const {namespace, eventHub} = legacyHub(view, scope, 'set without --offset')
            return this.withEventHub(readEventHubsOptions(this.flags), namespace, eventHub, 'set without --offset', async (reader) => {
              const {lookUpPosition} = await import('../change/targets.js')
              return lookUpPosition(reader, partition, sequenceNumber)
            })
          })()
    const items = planLegacyPositions(view, [{partitionId: partition, position}], {force: options.force})
    return this.change(
      store,
      legacyChangePlan(view, store.containerName, {operation: 'set', scenario: 'position', guarded: true, items}),
      options,
    )
  }
}
