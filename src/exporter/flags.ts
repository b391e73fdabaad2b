/** The exporter's own flags, and their reader: where it listens, how often it collects, and Burrow's window. */
import * as Flags from '@oclif/core/flags'
import type * as Interfaces from '@oclif/core/interfaces'

import {usageError} from '../errors.js'
import {intervalFlag, roundFlags} from '../watch/flags.js'

export const DEFAULT_PORT = 9464

export const exporterFlags = {
  port: Flags.integer({
    summary: 'TCP port to serve /metrics and /healthz on (0: a free port, printed).',
    default: DEFAULT_PORT,
    min: 0,
    max: 65_535,
  }),
  listen: Flags.string({
    summary: 'Address to listen on: 127.0.0.1 (this machine only), 0.0.0.0 (every interface), or one address of this machine.',
    default: '127.0.0.1',
    parse: async (input) => {
      if (input.trim() === '') throw usageError('--listen is empty.', 'Use 127.0.0.1, 0.0.0.0 or an address of this machine.')
      return input.trim()
    },
  }),
  interval: intervalFlag('Time between collections (one listing and the partition properties each), e.g. 30s, 1m.', '30s'),
  once: Flags.boolean({summary: 'Collect once, print the exposition on stdout and exit (no server).'}),
  all: roundFlags.all,
  samples: Flags.integer({summary: "Collections kept per partition for Burrow's status (the window).", default: 10, min: 2}),
  'allowed-lag': Flags.integer({summary: 'Lag in events at or below which a partition is OK without judging.', default: 0, min: 0}),
}

export interface ExporterOptions {
  host: string
  port: number
  intervalMs: number
  once: boolean
  /** One group (as show), else every group the scope matches (--all). */
  oneGroup: boolean
  samples: number
  allowedLag: number
}

export function readExporterOptions(flags: Omit<Interfaces.InferredFlags<typeof exporterFlags>, 'json'>): ExporterOptions {
  return {
    host: flags.listen,
    port: flags.port,
    intervalMs: flags.interval,
    once: flags.once,
    oneGroup: !flags.all,
    samples: flags.samples,
    allowedLag: flags['allowed-lag'],
  }
}
