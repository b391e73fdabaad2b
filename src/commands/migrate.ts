import {ChangeCommand} from '../change-command.js'
import type {ChangeResult} from '../change/execute.js'
import {flagOutOfRange, leasedSourceError, migrateTargets, recheckSourceLeases} from '../change/migrate.js'
import {planPositions, type TargetPosition} from '../change/plan.js'
import {classifyError, EhcpError, ExitCode, notFoundError, usageError} from '../errors.js'
import type {PartitionInfo} from '../eventhubs/reader.js'
import {
  changeFlags,
  eventHubsFlags,
  migrateFlags,
  partitionFlag,
  readChangeOptions,
  readEventHubsOptions,
  readMigrate,
  readScope,
  scopeFlags,
} from '../flags.js'
import {readGroup} from '../store/group.js'
import {readLegacyShown, refuseScopeFlags} from '../store/legacy-group.js'
import {resolveGroup} from '../store/scope.js'

export default class MigrateCommand extends ChangeCommand<typeof MigrateCommand> {
  static summary = 'Move a consumer group off a retired SDK: its legacy checkpoints written as modern ones.'
  static description =
    'Reads the legacy lease blobs (--layout eph, functions-v4, python-eph, go or dapr, named by the scope flags that layout takes) ' +
    'and writes each position as a modern checkpoint of --namespace/--eventhub/--consumer-group, created with If-None-Match: * ' +
    '(positions copied as they are: both mean "last processed"). An existing modern checkpoint is left alone unless --overwrite; ' +
    'ownership is not migrated; Go sentinels are not copied unless --sentinels resolves them; the legacy blobs are kept. ' +
    'A legacy blob still leased by a running host refuses the migration (exit 5) unless --force. ' +
    'With Event Hubs reachable, positions outside the retained range are flagged. Plan, confirmation, backup and undo as for every change.'
  static examples = [
    "<%= config.bin %> migrate --container eph-leases --layout eph --consumer-group '$Default' --namespace contoso.servicebus.windows.net --eventhub orders --dry-run",
    "<%= config.bin %> migrate --container azure-webjobs-eventhub --layout functions-v4 --namespace contoso.servicebus.windows.net --eventhub orders --consumer-group '$Default' --to-container checkpoints --yes",
    "<%= config.bin %> migrate --container filebeat-orders --layout go --namespace contoso.servicebus.windows.net --eventhub orders --consumer-group '$Default' --sentinels earliest",
  ]
  static flags = {...scopeFlags, ...migrateFlags, partition: partitionFlag, ...eventHubsFlags, ...changeFlags}

  async run(): Promise<ChangeResult> {
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const migrate = readMigrate(this.flags)
    const options = readChangeOptions(this.flags)
    const {namespace, eventHub, consumerGroup} = filter
    if (namespace === undefined || eventHub === undefined || consumerGroup === undefined)
      throw usageError(
        'migrate writes the modern checkpoints of one group: name it in full with --namespace, --eventhub and --consumer-group.',
      )
    // --namespace, --eventhub and --consumer-group name the modern group too; --blob-prefix only a legacy one.
    refuseScopeFlags(migrate.layout, {blobPrefix: this.givenScope().blobPrefix})
    const source = await this.openStore({ownershipExpiryMs})
    if (migrate.toContainer !== undefined && this.connectedTarget().kind === 'container-url')
      throw usageError('--to-container needs a connection to the account (a container URL reaches one container only).')
    const legacy = await readLegacyShown(
      source,
      migrate.layout,
      {namespace, eventHub, consumerGroup, blobPrefix: migrate.blobPrefix},
      this.signal,
    )
    const leased = leasedSourceError(legacy)
    if (leased && !options.force) throw leased
    // The changed container is the one the undo reconnects to.
    const store = migrate.toContainer === undefined ? source : await this.openStore({ownershipExpiryMs, container: migrate.toContainer})
    const ref = await resolveGroup(store, {namespace, eventHub, consumerGroup}, this.signal, {
      allowNew: true,
      newBesideOthers: true,
    }).catch((error: unknown) => {
      // The source container was just read: a missing container here is the --to-container one.
      if (migrate.toContainer !== undefined && error instanceof EhcpError && error.exitCode === ExitCode.notFound)
        throw notFoundError(
          `--to-container "${migrate.toContainer}" does not exist.`,
          'Create it first, or leave out --to-container to write beside the legacy blobs.',
        )
      throw error
    })
    const view = await readGroup(store, ref, this.signal)
    const {targets, sentinelPartitions, notes} = migrateTargets(legacy, view, {
      ...migrate,
      force: options.force,
      partitions: this.flags.partition,
    })
    notes.push(...(await this.checkInEventHubs(ref.namespace, ref.eventHub, targets, sentinelPartitions, migrate.sentinels)))
    const {newGroup, ...scope} = ref
    return this.change(
      store,
      {
        operation: 'migrate',
        scenario: `from ${migrate.layout} ${legacy.blobPrefix || '(container root)'}${migrate.toContainer ? ` in ${source.containerName}` : ''}`,
        container: store.containerName,
        ...scope,
        guarded: true,
        notes: [...(newGroup ? [newGroup] : []), ...notes],
        items: planPositions(view, targets),
      },
      options,
      (signal) => recheckSourceLeases(source, legacy, signal),
    )
  }

  /**
   * With Event Hubs reachable: flags positions outside their partition's retained range, and resolves the Go
   * sentinels the operator asked to (earliest or latest). Unreachable: said in a note, unless sentinels need it.
   */
  private async checkInEventHubs(
    namespace: string,
    eventHub: string,
    targets: TargetPosition[],
    sentinelPartitions: string[],
    sentinels: 'skip' | 'earliest' | 'latest',
  ): Promise<string[]> {
    try {
      await this.withEventHub(readEventHubsOptions(this.flags), namespace, eventHub, 'migrate', async (reader) => {
        const {hubPartitionInfos} = await import('../eventhubs/lag.js')
        const infos: Map<string, PartitionInfo> = await hubPartitionInfos(reader, 64)
        flagOutOfRange(targets, infos)
        if (sentinelPartitions.length > 0) {
          const {pairAt} = await import('../change/targets.js')
          for (const partitionId of sentinelPartitions) {
            const info = infos.get(partitionId)
            if (!info) {
              targets.push({partitionId, position: null, warnings: ['the event hub has no such partition: sentinel not resolved']})
              continue
            }
            const sequence = sentinels === 'earliest' ? info.beginningSequenceNumber - 1 : info.lastEnqueuedSequenceNumber
            const position = await pairAt(reader, partitionId, info, sequence)
            targets.push({
              partitionId,
              position,
              warnings: [`the Go sentinel resolved to the ${sentinels} position (--sentinels ${sentinels})`],
            })
          }
        }
      })
      return []
    } catch (error) {
      const e = classifyError(error)
      if (sentinelPartitions.length > 0 || e.exitCode === ExitCode.auth) throw e
      return [`Event Hubs was not read (${e.message}): positions are not checked against the partitions' retained ranges.`]
    }
  }
}
