/** The flags `watch` and `status` share: how often, how many, and which groups. */
import * as Flags from '@oclif/core/flags'

import {usageError} from '../errors.js'
import {parseDuration} from '../time.js'

/** A duration flag of at least 100 ms, in ms (e.g. 5s, 200ms, 1m): --interval of watch, status and exporter. */
export const intervalFlag = (summary: string, fallback: string) =>
  Flags.custom<number>({
    summary,
    default: async () => parseDuration(fallback, '--interval'),
    defaultHelp: async () => fallback,
    parse: async (input) => {
      const ms = parseDuration(input, '--interval')
      if (ms < 100) throw usageError(`--interval ${JSON.stringify(input)} is shorter than 100ms.`, 'Use e.g. 5s, 1m or 500ms.')
      return ms
    },
  })()

export const roundFlags = {
  interval: intervalFlag('Time between rounds (one listing and the partition properties per round), e.g. 5s, 1m, 500ms.', '5s'),
  all: Flags.boolean({
    summary: 'Every consumer group the scope matches (as list), not one group (as show, $Default unless --consumer-group).',
    helpGroup: 'SCOPE',
  }),
}
