import {Flags} from '@oclif/core'

import {EhcpCommand} from '../base-command.js'
import {classifyError, EhcpError, ExitCode, notFoundError, quote, usageError} from '../errors.js'
import type {DoctorReport} from '../doctor/diagnose.js'
import {DEFAULT_OWNERSHIP_EXPIRY_MS, eventHubsFlags, readEventHubsOptions, readScope, scopeFlags} from '../flags.js'
import {renderDoctor} from '../output/doctor.js'
import {commandLine} from '../shell.js'
import {filterWords} from '../store/scope.js'
import type {GroupSummary} from '../store/summary.js'
import {parseDuration} from '../time.js'

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
    ...eventHubsFlags,
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
        ...(ownershipExpiryMs === DEFAULT_OWNERSHIP_EXPIRY_MS ? [] : ['--ownership-expiry', `${ownershipExpiryMs / 1000}s`]),
        ...words,
      ])
      // A connection string given as a flag is a secret: the fix names the variable it can be put in instead.
      return command === 'reset' && eventHubs.connectionString !== undefined
        ? `${line} --eventhubs-connection-string "$EVENTHUBS_CONNECTION_STRING"`
        : line
    }
    const diagnosis = await this.withProgress(
      'Diagnosing:',
      (update) =>
        diagnose(store, {
          filter,
          ownershipExpiryMs,
          staleAfterMs,
          groupCommand,
          containerUrl: target.containerUrl,
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
    if (Object.values(filter).some((v) => v !== undefined) && diagnosis.summary.groups.length === 0)
      throw notFoundError(
        `No consumer group in container "${store.containerName}" matches ${filterWords(filter)}.`,
        '`ehcp list` shows what the container holds.',
      )
    const report = doctorReport(diagnosis, {filter, staleAfterMs, findings: []})
    this.render(() => renderDoctor(report, this.output))
    if (report.counts.error > 0) process.exitCode = ExitCode.problemsFound
    return report
  }
}
