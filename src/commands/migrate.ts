import * as Flags from '@oclif/core/flags'

import {ChangeCommand} from '../change-command.js'
import type {ChangeResult} from '../change/execute.js'
import {flagOutOfRange, leasedSourceError, type MigrateTargets, migrateTargets, recheckSourceLeases} from '../change/migrate.js'
import {planPositions} from '../change/plan.js'
import {mapBounded} from '../concurrency.js'
import {classifyError, EhcpError, ExitCode, notFoundError, usageError} from '../errors.js'
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
import {inPartitions} from '../store/codec.js'
import {type GroupView, readGroup} from '../store/group.js'
import {readLegacyShown, refuseScopeFlags} from '../store/legacy-group.js'
import {type GroupRef, resolveGroup} from '../store/scope.js'
import type {CheckpointStore} from '../store/store.js'

/** Partition-properties requests in flight at once on the one Event Hubs connection (a management call each). */
const PROPERTIES_IN_FLIGHT = 256

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
  static flags = {
    ...scopeFlags,
    ...migrateFlags,
    partition: partitionFlag,
    ...eventHubsFlags,
    ...changeFlags,
    // A migration reads a body and writes a checkpoint per partition, into a group no processor runs yet.
    concurrency: Flags.integer({
      summary: 'Legacy bodies read, and checkpoints written, in flight at once.',
      default: 128,
      min: 1,
      max: 256,
      helpGroup: 'SAFETY',
    }),
  }

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
    // The changed container is the one the undo reconnects to (opened last; opening sends nothing).
    const store = migrate.toContainer === undefined ? source : await this.openStore({ownershipExpiryMs, container: migrate.toContainer})
    // Three independent reads at once: the legacy bodies, the modern group as stored, the hub's partitions. Nothing is
    // written before all three are in, so a leased source still refuses with nothing written.
    const legacyRead = settle(
      readLegacyShown(
        source,
        migrate.layout,
        {namespace, eventHub, consumerGroup, blobPrefix: migrate.blobPrefix},
        this.signal,
        options.concurrency,
      ),
    )
    const targetRead = settle(this.readTarget(store, {namespace, eventHub, consumerGroup}, migrate.toContainer))
    let planned: (value: MigrateTargets | null) => void = () => undefined
    const hubRead = settle(
      this.checkInEventHubs(
        namespace,
        eventHub,
        new Promise<MigrateTargets | null>((resolve) => (planned = resolve)),
        migrate.sentinels,
        this.flags.partition,
      ),
    )
    try {
      // Reported in the order they were read before: the legacy group, its leases, then the modern group.
      const legacy = unsettle(await legacyRead)
      const leased = leasedSourceError(legacy)
      if (leased && !options.force) throw leased
      const {ref, view} = unsettle(await targetRead)
      const targets = migrateTargets(legacy, view, {...migrate, force: options.force, partitions: this.flags.partition})
      planned(targets)
      const {notes} = targets
      notes.push(...unsettle(await hubRead))
      const {newGroup, ...scope} = ref
      return await this.change(
        store,
        {
          operation: 'migrate',
          scenario: `from ${migrate.layout} ${legacy.blobPrefix || '(container root)'}${migrate.toContainer ? ` in ${source.containerName}` : ''}`,
          container: store.containerName,
          ...scope,
          guarded: true,
          notes: [...(newGroup ? [newGroup] : []), ...notes],
          items: planPositions(view, targets.targets),
        },
        options,
        // A host that takes a source lease after the reads above stops the migration before any write.
        (signal) => recheckSourceLeases(source, legacy, signal),
      )
    } finally {
      // A read that failed leaves Event Hubs nothing to check (its reader closes; the process then ends).
      planned(null)
    }
  }

  /** The modern group migrate writes, as stored now (possibly nothing yet: migrate creates it). */
  private async readTarget(
    store: CheckpointStore,
    group: {namespace: string; eventHub: string; consumerGroup: string},
    toContainer: string | undefined,
  ): Promise<{ref: GroupRef; view: GroupView}> {
    const ref = await resolveGroup(store, group, this.signal, {allowNew: true, newBesideOthers: true}).catch((error: unknown) => {
      // The source container is read too: a missing container here is the --to-container one.
      if (toContainer !== undefined && error instanceof EhcpError && error.exitCode === ExitCode.notFound)
        throw notFoundError(
          `--to-container "${toContainer}" does not exist.`,
          'Create it first, or leave out --to-container to write beside the legacy blobs.',
        )
      throw error
    })
    return {ref, view: await readGroup(store, ref, this.signal)}
  }

  /**
   * With Event Hubs reachable: flags positions outside their partition's retained range, and resolves the Go
   * sentinels the operator asked to (earliest or latest). Unreachable: said in a note, unless sentinels need it.
   * The partitions' properties are read (over one connection) while storage is read; the check waits for
   * `planned`, null when the storage side failed and there is nothing to check.
   */
  private async checkInEventHubs(
    namespace: string,
    eventHub: string,
    planned: Promise<MigrateTargets | null>,
    sentinels: 'skip' | 'earliest' | 'latest',
    partitions: string[] | undefined,
  ): Promise<string[]> {
    try {
      await this.withEventHub(readEventHubsOptions(this.flags), namespace, eventHub, 'migrate', async (reader) => {
        const ids = (await reader.partitionIds()).filter((id) => inPartitions(partitions, id))
        const read = await mapBounded(ids, PROPERTIES_IN_FLIGHT, (id) => reader.partitionInfo(id))
        const infos = new Map(ids.map((id, i) => [id, read[i]!]))
        const plan = await planned
        if (!plan) return
        const {targets, sentinelPartitions} = plan
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
      const plan = await planned
      if (plan?.sentinelPartitions.length || e.exitCode === ExitCode.auth) throw e
      return [`Event Hubs was not read (${e.message}): positions are not checked against the partitions' retained ranges.`]
    }
  }
}

type Settled<T> = {ok: true; value: T} | {ok: false; error: unknown}

/** A promise that never rejects (its failure is thrown where it is awaited, in the order the command chooses). */
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ok: true as const, value}),
    (error: unknown) => ({ok: false as const, error}),
  )

function unsettle<T>(settled: Settled<T>): T {
  if (!settled.ok) throw settled.error
  return settled.value
}
