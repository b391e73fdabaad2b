import * as Flags from '@oclif/core/flags'

import {EhcpCommand} from '../base-command.js'
import {classifyError, EhcpError, ExitCode, notFoundError, quote, usageError} from '../errors.js'
import type {DoctorReport} from '../doctor/diagnose.js'
import type {Finding} from '../doctor/findings.js'
import type {KedaReport} from '../doctor/keda.js'
import {KEDA_STRATEGIES, type KedaStrategy} from '../doctor/keda-strategies.js'
import {DEFAULT_OWNERSHIP_EXPIRY_MS, eventHubsFlags, MIN_GUARD_EXPIRY_MS, readEventHubsOptions, readScope, scopeFlags} from '../flags.js'
import {renderDoctor} from '../output/doctor.js'
import {commandLine} from '../shell.js'
import {filterWords} from '../store/scope.js'
import type {GroupSummary} from '../store/summary.js'
import {parseDuration} from '../time.js'

/** `--keda` alone: no strategy named. */
const KEDA_ANY = 'any'

export default class DoctorCommand extends EhcpCommand<typeof DoctorCommand> {
  static summary =
    'Diagnose a checkpoint store: who wrote what, positions outside the event hub, stale owners and groups, with the command that fixes each.'
  static description =
    'Reads the scope (the container, an event hub with --namespace/--eventhub, or one consumer group) in one listing and, when Event Hubs ' +
    'is reachable, the partition properties of each event hub named. Each finding has a severity (error, warning, info), its evidence and, ' +
    'where one exists, the exact ehcp command that fixes it. Exit 0 when no error is found, 13 when one is (warnings do not change the exit code).'
  static examples = [
    '<%= config.bin %> doctor --account-url https://acct.blob.core.windows.net --container checkpoints',
    '<%= config.bin %> doctor --container checkpoints --eventhub orders --json   # CI gate: exit 13 on errors',
    '<%= config.bin %> doctor --container checkpoints --stale-after 6h',
  ]
  static flags = {
    ...scopeFlags,
    'stale-after': Flags.custom<number>({
      summary: 'Ownership expired this long, or no checkpoint written this long, is reported as stale (e.g. 30m, 6h).',
      default: 3_600_000,
      defaultHelp: async () => '1h',
      parse: async (input) => {
        const ms = parseDuration(input, '--stale-after')
        if (ms <= 0) throw usageError(`--stale-after ${quote(input)} must be longer than zero.`, 'Use e.g. 30m or 6h.')
        return ms
      },
    })(),
    keda: Flags.string({
      summary:
        "Check what KEDA's azure-eventhub scaler reads for the group the scope names (names as typed: KEDA is case-sensitive); with the checkpointStrategy you use, whether it finds the blobs. Alone: which strategies find them, and the trigger to paste.",
      options: [...KEDA_STRATEGIES, KEDA_ANY],
    }),
    ...eventHubsFlags,
  }

  /** `--keda` takes its strategy optionally: alone (last, or before another flag) it is `--keda any`. */
  override async init(): Promise<void> {
    this.argv = this.argv.map((word, i, all) =>
      word === '--keda' && (i === all.length - 1 || all[i + 1]!.startsWith('-')) ? `--keda=${KEDA_ANY}` : word,
    )
    await super.init()
  }

  async run(): Promise<DoctorReport> {
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const staleAfterMs = this.flags['stale-after']
    const eventHubs = readEventHubsOptions(this.flags)
    const given = eventHubs.connectionString !== undefined || Boolean(process.env.EVENTHUBS_CONNECTION_STRING)
    const store = await this.openStore({ownershipExpiryMs})
    const {diagnose, doctorReport} = await import('../doctor/diagnose.js')
    const target = this.connectedTarget()
    const groupCommand = (command: string, g: GroupSummary, words: string[]) => {
      const line = commandLine([
        this.config.bin,
        command,
        ...target.undoWords,
        ...['--namespace', g.namespace, '--eventhub', g.eventHub, '--consumer-group', g.consumerGroup],
        // A guarded change (reset) refuses an expiry under 10s: its fix keeps the default instead, as undo commands do.
        ...(ownershipExpiryMs === DEFAULT_OWNERSHIP_EXPIRY_MS ||
        (command !== 'release-ownership' && ownershipExpiryMs < MIN_GUARD_EXPIRY_MS)
          ? []
          : ['--ownership-expiry', `${ownershipExpiryMs / 1000}s`]),
        ...words,
      ])
      // A connection string given as a flag is a secret: the fix names the variable it can be put in instead.
      return command === 'reset' && eventHubs.connectionString !== undefined
        ? `${line} --eventhubs-connection-string "$EVENTHUBS_CONNECTION_STRING"`
        : line
    }
    const keda = this.flags.keda
    const diagnosis = await this.withProgress(
      'Diagnosing:',
      (update) =>
        diagnose(store, {
          filter,
          ownershipExpiryMs,
          staleAfterMs,
          groupCommand,
          containerUrl: target.containerUrl,
          keepBlobs: keda !== undefined,
          signal: this.signal,
          onListed: update,
          withHub: async (namespace, hub, fn) => {
            try {
              return await this.withEventHub(eventHubs, namespace, hub, 'doctor', fn, {manyHubs: true})
            } catch (error) {
              // Without a connection given, Event Hubs is optional: what could not be reached is reported, not fatal.
              if (given) throw error
              const e = classifyError(error)
              throw new EhcpError('unreachable', e.message, ExitCode.unreachable)
            }
          },
        }),
      {unit: 'blobs'},
    )
    // A scope that names nothing is a typo far more often than a healthy store: said, as `show` says it.
    // With --keda the names are the trigger's, and KEDA's findings say what it would find in the whole container.
    if (keda === undefined && Object.values(filter).some((v) => v !== undefined) && diagnosis.summary.groups.length === 0)
      throw notFoundError(
        `No consumer group in container "${store.containerName}" matches ${filterWords(filter)}.`,
        '`ehcp list` shows what the container holds.',
      )
    let extra: {findings: Finding[]; keda?: KedaReport} = {findings: []}
    if (keda !== undefined) {
      const {diagnoseKeda} = await import('../doctor/keda.js')
      // The names as typed (KEDA asks for exactly them); those not given, as stored when the scope holds one group.
      const given = this.givenScope()
      const only = diagnosis.summary.groups.length === 1 ? diagnosis.summary.groups[0]! : undefined
      const names = {
        namespace: given.namespace ?? only?.namespace ?? undefined,
        eventHub: given.eventHub ?? only?.eventHub ?? undefined,
        consumerGroup: given.consumerGroup ?? only?.consumerGroup ?? undefined,
      }
      const hub =
        names.namespace && names.eventHub ? diagnosis.hubPartitions.get(`${names.namespace}/${names.eventHub}`.toLowerCase()) : undefined
      const result = await diagnoseKeda({
        container: store.containerName,
        blobs: diagnosis.scan.blobs,
        readBody: async (name) => (await store.readBody(name, this.signal))?.text ?? null,
        names: {namespace: names.namespace, eventHub: names.eventHub, consumerGroup: names.consumerGroup},
        partitionIds: hub,
        strategy: keda === KEDA_ANY ? undefined : (keda as KedaStrategy),
      })
      extra = {findings: result.findings, keda: result.keda}
    }
    const report = doctorReport(diagnosis, {filter, staleAfterMs, ...extra})
    this.render(() => renderDoctor(report, this.output))
    if (report.counts.error > 0) process.exitCode = ExitCode.problemsFound
    return report
  }
}
