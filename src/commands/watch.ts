import {appendFile} from 'node:fs/promises'

import * as Flags from '@oclif/core/flags'

import {EhcpCommand} from '../base-command.js'
import {classifyError, usageError} from '../errors.js'
import {eventHubsFlags, readEventHubsOptions, readScope, scopeFlags} from '../flags.js'
import {Screen} from '../output/screen.js'
import {outputFailure} from '../output/streams.js'
import {writeStdout} from '../output/terminal.js'
import {renderWatchFrame} from '../output/watch.js'
import {formatDuration} from '../time.js'
import {roundFlags} from '../watch/flags.js'
import {historyLine} from '../watch/report.js'
import {runRounds} from '../watch/rounds.js'
import {Sampler} from '../watch/sampler.js'
import {Tracker} from '../watch/tracker.js'

export default class WatchCommand extends EhcpCommand<typeof WatchCommand> {
  static summary = 'Watch lag over time: redrawn in place on a terminal, one NDJSON document per group per round otherwise.'
  static description =
    'Every --interval, one listing of the scope and the partition properties of its event hubs. On a terminal: per partition the lag in ' +
    'events and time (~ when estimated from the arrival rate), its trend since the watch began, the checkpoint rate, the time to catch up ' +
    "and Burrow's status; a new owner or a rewound checkpoint is highlighted. Piped, or with --json: one line per group per round, " +
    "show --json's fields plus round and at (the history format `status --history` reads). Ctrl-C ends it (exit 0)."
  static examples = [
    '<%= config.bin %> watch --eventhub orders --consumer-group billing',
    '<%= config.bin %> watch --eventhub orders --all --interval 10s --record rounds.ndjson',
    '<%= config.bin %> watch --eventhub orders --count 3 --json',
  ]
  static flags = {
    ...scopeFlags,
    ...roundFlags,
    count: Flags.integer({summary: 'Stop after N rounds.', min: 1}),
    record: Flags.string({summary: 'Append every round to this file (NDJSON, the history `status --history` reads).'}),
    ...eventHubsFlags,
  }

  async run(): Promise<void> {
    const {filter, ownershipExpiryMs} = readScope(this.flags)
    const record = this.flags.record
    if (record !== undefined) {
      try {
        await appendFile(record, '')
      } catch (error) {
        throw usageError(`Cannot write --record ${JSON.stringify(record)}: ${(error as Error).message}`)
      }
    }
    const store = await this.openStore({ownershipExpiryMs})
    const eventHubs = readEventHubsOptions(this.flags)
    const sampler = new Sampler({
      store,
      filter,
      oneGroup: !this.flags.all,
      timeoutMs: this.flags.timeout * 2000,
      withHub: (namespace, hub, fn) => this.withEventHub(eventHubs, namespace, hub, 'watch', fn, {manyHubs: this.flags.all}),
    })
    const tracker = new Tracker()
    const lines = this.jsonEnabled() || !process.stdout.isTTY
    const screen = lines ? undefined : new Screen(process.stdout)
    const interval = formatDuration(this.flags.interval / 1000)
    const stop = new AbortController()
    const stopWith = () => stop.abort()
    this.signal.addEventListener('abort', stopWith)
    try {
      await runRounds({
        sampler,
        intervalMs: this.flags.interval,
        count: this.flags.count,
        signal: stop.signal,
        onRound: async (groups) => {
          for (const g of groups) tracker.add(g)
          if (record !== undefined) await appendFile(record, groups.map(historyLine).join(''))
          if (screen) {
            const at = groups[0]?.at ?? new Date().toISOString()
            screen.draw(renderWatchFrame(tracker.groups(), this.output, {interval, round: sampler.rounds, at, samples: tracker.samples}))
          } else {
            for (const g of groups) writeStdout(JSON.stringify(g))
            // The reader left (`| head -1`): nothing more to say.
            if (outputFailure(process.stdout)) stop.abort()
          }
        },
        // Later rounds survive an outage: said, and tried again next round.
        onError: (error) => {
          if (sampler.rounds === 0) throw error
          this.warning(classifyError(error).message)
        },
      })
    } finally {
      this.signal.removeEventListener('abort', stopWith)
      screen?.close()
    }
  }
}
