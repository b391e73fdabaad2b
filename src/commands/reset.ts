import * as Flags from '@oclif/core/flags'

import {ChangeCommand} from '../change-command.js'
import type {ChangeResult} from '../change/execute.js'
import {planDeleteCheckpoints, planFromConsumerGroup, planFromEventHubs, planFromFile} from '../change/scenarios.js'
import type {PositionScenario} from '../change/targets.js'
import {
  changeFlags,
  liveFlags,
  consumerGroupName,
  eventHubsFlags,
  layoutFlags,
  partitionFlag,
  readChangeOptions,
  readLive,
  readEventHubsOptions,
  readLayout,
  readScope,
  scopeFlags,
} from '../flags.js'
import type {Progress} from '../output/progress.js'
import {refuseScopeFlags} from '../store/legacy-group.js'
import {durationAgo, parseDateTime} from '../time.js'

const SCENARIOS = [
  'to-earliest',
  'to-latest',
  'to-datetime',
  'by-duration',
  'shift-by',
  'from-file',
  'from-consumer-group',
  'delete',
] as const
const scenario = {exactlyOne: [...SCENARIOS], helpGroup: 'SCENARIO'}

export default class ResetCommand extends ChangeCommand<typeof ResetCommand> {
  static summary = 'Move many partitions of one consumer group at once: by time, to either end, by a shift, from a file or another group.'
  static description =
    'Exactly one scenario. Every position written is the (offset, sequence number) pair of the event before the first one to ' +
    'process, or (-1, beginning-1) for the start of the partition; targets outside the retained range are clamped with a warning. ' +
    '--from-file reads an ehcp backup (restored byte for byte: the undo of any change), or the JSON or CSV of `ehcp show`. ' +
    'Every change is planned first, confirmed, guarded against active owners, backed up, and written with If-Match.'
  static examples = [
    '<%= config.bin %> reset --emulator --container checkpoints --eventhub orders --by-duration 2h --dry-run',
    '<%= config.bin %> reset --eventhub orders --consumer-group billing --to-datetime 2026-11-26T09:40:00Z --yes',
    '<%= config.bin %> reset --eventhub orders --partition 3 --shift-by 1 --yes   # skip one poison event',
    '<%= config.bin %> reset --from-file ehcp-backup-orders-billing-20261126T094000Z.json --yes   # undo',
    "<%= config.bin %> reset --eventhub orders --consumer-group billing --from-consumer-group '$Default' --dry-run --json",
    "<%= config.bin %> reset --container eph-leases --layout eph --consumer-group '$Default' --namespace contoso.servicebus.windows.net --eventhub orders --to-latest --dry-run",
  ]
  static flags = {
    ...scopeFlags,
    ...layoutFlags,
    partition: partitionFlag,
    'to-earliest': Flags.boolean({summary: 'Replay everything retained.', ...scenario}),
    'to-latest': Flags.boolean({summary: 'Skip the backlog: resume after the last event.', ...scenario}),
    'to-datetime': Flags.string({summary: 'Resume with the first event enqueued at or after this ISO-8601 time (with zone).', ...scenario}),
    'by-duration': Flags.string({
      summary: 'Resume with the first event enqueued at or after now minus this (e.g. 2h, 90m, PT2H).',
      ...scenario,
    }),
    'shift-by': Flags.integer({
      summary: 'Move each checkpoint by N events: negative replays, positive skips (use --shift-by=-N).',
      min: -Number.MAX_SAFE_INTEGER,
      max: Number.MAX_SAFE_INTEGER,
      ...scenario,
    }),
    'from-file': Flags.string({summary: 'A backup file, or the JSON or CSV of `ehcp show`.', ...scenario}),
    'from-consumer-group': Flags.string({
      summary: "Copy this consumer group's positions.",
      parse: consumerGroupName('--from-consumer-group'),
      ...scenario,
    }),
    delete: Flags.boolean({summary: 'Delete the checkpoints (processors then use their default start position).', ...scenario}),
    ...eventHubsFlags,
    ...changeFlags,
    ...liveFlags,
  }

  private positionScenario(): PositionScenario | undefined {
    const f = this.flags
    if (f['to-earliest']) return {kind: 'earliest'}
    if (f['to-latest']) return {kind: 'latest'}
    if (f['to-datetime'] !== undefined) return {kind: 'time', at: parseDateTime(f['to-datetime'], '--to-datetime')}
    if (f['by-duration'] !== undefined) return {kind: 'time', at: durationAgo(f['by-duration'], '--by-duration', Date.now())}
    if (f['shift-by'] !== undefined) return {kind: 'shift', by: f['shift-by']}
    return undefined
  }

  async run(): Promise<ChangeResult> {
    const positions = this.positionScenario()
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const {layout, blobPrefix} = readLayout(this.flags)
    // --namespace and --eventhub name the event hub a position is looked up in, when the layout does not record it.
    if (layout !== undefined && layout !== 'modern') refuseScopeFlags(layout, this.givenScope(), positions ? 'the lookup' : undefined)
    const store = await this.openStore({ownershipExpiryMs})
    // Drawn from the first lookup on (after the listing), erased once the plan is made.
    let lookups: Progress | undefined
    const options = readChangeOptions(this.flags)
    const live = readLive(this.flags)
    const ctx = {
      store,
      filter,
      partitions: this.flags.partition,
      signal: this.signal,
      onLookupProgress: (done: number, total: number) =>
        (lookups ??= this.progress('Looking up target positions:', {unit: 'partitions'})).update(done, total),
      legacy: layout !== undefined && layout !== 'modern' ? {layout, scope: {...filter, blobPrefix}} : undefined,
      // --live on a legacy layout breaks the leases, as --force does: the host re-reads the blob when it re-acquires it.
      force: options.force || (live !== null && layout !== undefined && layout !== 'modern'),
    }
    const {'from-file': file, 'from-consumer-group': source} = this.flags
    const chosen = SCENARIOS.find((s) => this.flags[s] !== undefined && this.flags[s] !== false)
    const plan = positions
      ? await planFromEventHubs(
          ctx,
          positions,
          (namespace, hub, fn) => this.withEventHub(readEventHubsOptions(this.flags), namespace, hub, `--${chosen}`, fn),
          `--${chosen}`,
        ).finally(() => lookups?.end())
      : file !== undefined
        ? await planFromFile(ctx, file)
        : source !== undefined
          ? await planFromConsumerGroup(ctx, source)
          : await planDeleteCheckpoints(ctx)
    return live ? this.changeLive(store, plan, options, live, readEventHubsOptions(this.flags)) : this.change(store, plan, options)
  }
}
