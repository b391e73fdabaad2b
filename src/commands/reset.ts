import {Flags} from '@oclif/core'

import {ChangeCommand} from '../change-command.js'
import type {ChangeResult} from '../change/execute.js'
import {planDeleteCheckpoints, planFromConsumerGroup, planFromEventHubs, planFromFile} from '../change/reset.js'
import {usageError} from '../errors.js'
import type {PositionScenario} from '../eventhubs/positions.js'
import {changeFlags, eventHubsFlags, partitionFlag, readChangeOptions, readEventHubsOptions, readScope, scopeFlags} from '../flags.js'
import {parseDuration} from '../time.js'

const SCENARIOS = ['to-earliest', 'to-latest', 'to-datetime', 'by-duration', 'shift-by', 'from-file', 'from-consumer-group', 'delete'] as const
const scenario = {exactlyOne: [...SCENARIOS], helpGroup: 'SCENARIO'}

/**
 * ISO-8601 with a zone ("Z" or "+01:00"): a time without one means different things on different machines.
 * A day the month does not have (Date.parse reads 2026-02-30 as March 2) is refused.
 */
function parseDateTime(text: string): Date {
  const date = /^(\d{4})-(\d\d)-(\d\d)T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.exec(text.trim())
  const lastDay = new Date(0)
  if (date) lastDay.setUTCFullYear(Number(date[1]), Number(date[2]), 0)
  const realDay = date !== null && Number(date[3]) <= lastDay.getUTCDate()
  const ms = realDay ? Date.parse(text.trim()) : NaN
  if (Number.isNaN(ms)) throw usageError(`--to-datetime ${JSON.stringify(text)} is not an ISO-8601 time with a zone.`, 'e.g. 2026-11-26T09:40:00Z or 2026-11-26T10:40:00+01:00')
  return new Date(ms)
}

export default class Reset extends ChangeCommand<typeof Reset> {
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
    '<%= config.bin %> reset --eventhub orders --consumer-group billing --from-consumer-group $Default --dry-run --json',
  ]
  static flags = {
    ...scopeFlags,
    partition: partitionFlag,
    'to-earliest': Flags.boolean({summary: 'Replay everything retained.', ...scenario}),
    'to-latest': Flags.boolean({summary: 'Skip the backlog: resume after the last event.', ...scenario}),
    'to-datetime': Flags.string({summary: 'Resume with the first event enqueued at or after this ISO-8601 time (with zone).', ...scenario}),
    'by-duration': Flags.string({summary: 'Resume with the first event enqueued at or after now minus this (e.g. 2h, 90m, PT2H).', ...scenario}),
    'shift-by': Flags.integer({
      summary: 'Move each checkpoint by N events: negative replays, positive skips (use --shift-by=-N).',
      min: -Number.MAX_SAFE_INTEGER,
      max: Number.MAX_SAFE_INTEGER,
      ...scenario,
    }),
    'from-file': Flags.string({summary: 'A backup file, or the JSON or CSV of `ehcp show`.', ...scenario}),
    'from-consumer-group': Flags.string({summary: "Copy this consumer group's positions.", ...scenario}),
    delete: Flags.boolean({summary: 'Delete the checkpoints (processors then use their default start position).', ...scenario}),
    ...eventHubsFlags,
    ...changeFlags,
  }

  private positionScenario(): PositionScenario | undefined {
    const f = this.flags
    if (f['to-earliest']) return {kind: 'earliest'}
    if (f['to-latest']) return {kind: 'latest'}
    if (f['to-datetime'] !== undefined) return {kind: 'time', at: parseDateTime(f['to-datetime'])}
    if (f['by-duration'] !== undefined) {
      const at = new Date(Date.now() - parseDuration(f['by-duration'], '--by-duration'))
      if (Number.isNaN(at.getTime())) throw usageError(`--by-duration ${JSON.stringify(f['by-duration'])} reaches before any time there is.`, 'Use e.g. 90s, 2m, 1h30m, 2d or ISO-8601 PT2H.')
      return {kind: 'time', at}
    }
    if (f['shift-by'] !== undefined) return {kind: 'shift', by: f['shift-by']}
    return undefined
  }

  async run(): Promise<ChangeResult> {
    const positions = this.positionScenario()
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const store = await this.openStore({ownershipExpiryMs})
    const ctx = {store, filter, partitions: this.flags.partition, signal: this.signal}
    const {'from-file': file, 'from-consumer-group': source} = this.flags
    const chosen = SCENARIOS.find((s) => this.flags[s] !== undefined && this.flags[s] !== false)
    const plan = positions
      ? await planFromEventHubs(ctx, positions, (namespace, hub, fn) => this.withEventHub(readEventHubsOptions(this.flags), namespace, hub, `--${chosen}`, fn))
      : file !== undefined
        ? await planFromFile(ctx, file)
        : source !== undefined
          ? await planFromConsumerGroup(ctx, source)
          : await planDeleteCheckpoints(ctx)
    return this.change(store, plan, readChangeOptions(this.flags))
  }
}
