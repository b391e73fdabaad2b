import {readFile} from 'node:fs/promises'

import * as Flags from '@oclif/core/flags'

import {EhcpCommand} from '../base-command.js'
import {usageError} from '../errors.js'
import {eventHubsFlags, readEventHubsOptions, readScope, scopeFlags} from '../flags.js'
import {renderStatus} from '../output/watch.js'
import {roundFlags} from '../watch/flags.js'
import {parseHistory, type StatusReport, statusExitCode, statusReport} from '../watch/report.js'
import {runRounds} from '../watch/rounds.js'
import {Sampler} from '../watch/sampler.js'
import {Tracker} from '../watch/tracker.js'

export default class StatusCommand extends EhcpCommand<typeof StatusCommand> {
  static summary = "Judge whether consumer groups are moving, by Burrow's rules: OK, WARN, STALL, STOP or REWIND per partition and group."
  static description =
    'Samples the scope --samples times, --interval apart (one listing and the partition properties per round), or reads the rounds a ' +
    '`watch --record` wrote (--history). A partition whose lag is at or below --allowed-lag is OK; otherwise STOP (no checkpoint for longer ' +
    'than the window spans, unless recently caught up), REWIND (a checkpoint went back and never came back), STALL (every checkpoint at the ' +
    'same position), WARN (lag never went down). A group is its worst partition. Exit 0 OK, 11 WARN, 12 STOP/STALL/REWIND.'
  static examples = [
    '<%= config.bin %> status --eventhub orders --consumer-group billing',
    '<%= config.bin %> status --eventhub orders --all --samples 6 --interval 10s --json',
    '<%= config.bin %> status --history rounds.ndjson',
  ]
  static flags = {
    ...scopeFlags,
    ...roundFlags,
    samples: Flags.integer({summary: 'Rounds sampled, and commits kept per partition (the window).', default: 10, min: 2}),
    'allowed-lag': Flags.integer({summary: 'Lag in events at or below which a partition is OK without judging.', default: 0, min: 0}),
    history: Flags.string({summary: 'Judge the rounds in this file (written by `watch --record`) instead of sampling.'}),
    ...eventHubsFlags,
  }

  async run(): Promise<StatusReport> {
    const tracker = new Tracker({samples: this.flags.samples})
    const history = this.flags.history
    if (history !== undefined) {
      let text: string
      try {
        text = await readFile(history, 'utf8')
      } catch (error) {
        throw usageError(`Cannot read --history ${JSON.stringify(history)}: ${(error as Error).message}`)
      }
      for (const round of parseHistory(text, history)) tracker.add(round)
    } else {
      const {filter, ownershipExpiryMs} = readScope(this.flags)
      const store = await this.openStore({ownershipExpiryMs})
      const eventHubs = readEventHubsOptions(this.flags)
      const sampler = new Sampler({
        store,
        filter,
        oneGroup: !this.flags.all,
        timeoutMs: this.flags.timeout * 2000,
        withHub: (namespace, hub, fn) => this.withEventHub(eventHubs, namespace, hub, 'status', fn, {manyHubs: this.flags.all}),
      })
      const progress = this.progress('Sampling:', {unit: 'rounds'})
      await runRounds({
        sampler,
        intervalMs: this.flags.interval,
        count: this.flags.samples,
        signal: this.signal,
        onRound: (groups) => {
          for (const g of groups) tracker.add(g)
          progress.update(sampler.rounds, this.flags.samples)
        },
      })
      progress.end()
      if (this.signal.aborted) throw this.signal.reason
    }
    const report = statusReport(tracker, {allowedLag: this.flags['allowed-lag']})
    this.render(() => renderStatus(report, this.output))
    process.exitCode = statusExitCode(report.status)
    return report
  }
}
