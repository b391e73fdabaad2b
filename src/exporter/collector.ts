/**
 * The exporter's collections: each one a `watch` round of the scope (one listing, each event hub's partition
 * properties once), bounded by the sampler's deadline, fed to a tracker that keeps the last `samples` commits
 * per partition for Burrow's verdict. A scrape never waits on Azure: it gets the exposition of the last
 * collection, rendered when that collection ended. A collection fails as a whole when storage or an event hub
 * it can reach fails; then only the health series move.
 */
import {classifyError, type EhcpError, NAMESPACE_NOT_COVERED} from '../errors.js'
import type {HubRunner} from '../eventhubs/lag.js'
import {pause} from '../watch/rounds.js'
import {Sampler, type SampledGroup, type SamplerOptions} from '../watch/sampler.js'
import {groupKey, Tracker} from '../watch/tracker.js'
import type {ExporterMetrics} from './metrics.js'

/** What one collection read: the groups, and the event hubs that could not be read (each hub's error). */
export interface Reading {
  groups: SampledGroup[]
  hubErrors: EhcpError[]
}

export type Read = (signal: AbortSignal) => Promise<Reading>

/**
 * A scope read by a Sampler, the errors of the hubs it could not read kept apart. Over many groups (--all), a
 * hub the Event Hubs connection does not cover is expected (a container may hold several namespaces' groups):
 * its groups only lose their lag. For one group, it is an error like any other.
 */
export function samplerReading(options: Omit<SamplerOptions, 'withHub'> & {withHub: HubRunner}): Read {
  let hubErrors: EhcpError[] = []
  const withHub: HubRunner = async (namespace, hub, fn) => {
    try {
      return await options.withHub(namespace, hub, fn)
    } catch (error) {
      const e = classifyError(error)
      if (options.oneGroup || e.code !== NAMESPACE_NOT_COVERED) hubErrors.push(e)
      throw error
    }
  }
  const sampler = new Sampler({...options, withHub})
  return async (signal) => {
    hubErrors = []
    const groups = await sampler.sample(signal)
    return {groups, hubErrors}
  }
}

export interface CollectorOptions {
  read: Read
  metrics: ExporterMetrics
  /** Commits kept per partition: Burrow's window (status's --samples). */
  samples: number
  allowedLag: number
  /** The clock (tests). */
  now?: () => number
}

export class Collector {
  private readonly tracker: Tracker
  private readonly now: () => number
  private text = ''
  private lastError: EhcpError | undefined
  private counts = {collections: 0, errors: 0}
  private lastSuccessAt: number | undefined

  constructor(private readonly options: CollectorOptions) {
    // Only Burrow's window is kept per partition: no lag series (watch's sparkline) grows with the collections.
    this.tracker = new Tracker({samples: options.samples, seriesLength: 1})
    this.now = options.now ?? Date.now
  }

  /** Renders the exposition before any collection (health series only). */
  async start(): Promise<void> {
    this.text = await this.options.metrics.text()
  }

  /** The exposition of the last collection, and its content type. */
  get exposition(): {text: string; contentType: string} {
    return {text: this.text, contentType: this.options.metrics.contentType}
  }

  /** What /healthz says. */
  get health(): {collections: number; errors: number; lastSuccess: string | null; lastError: string | null} {
    return {
      ...this.counts,
      lastSuccess: this.lastSuccessAt === undefined ? null : new Date(this.lastSuccessAt).toISOString(),
      lastError: this.lastError?.message ?? null,
    }
  }

  /**
   * One collection: undefined when it succeeded, else its error (storage's, or the first hub error the reading
   * counts; the groups of a hub it does not count are exported with status ERR and no lag).
   */
  async collect(signal: AbortSignal): Promise<EhcpError | undefined> {
    const {metrics} = this.options
    const startedAt = this.now()
    const seconds = () => (this.now() - startedAt) / 1000
    let error: EhcpError | undefined
    try {
      const {groups, hubErrors} = await this.options.read(signal)
      error = hubErrors[0]
      if (!error) {
        for (const g of groups) this.tracker.add(g)
        this.tracker.keepOnly(groups.map((g) => groupKey(g)))
        metrics.collected(groups, this.tracker, {allowedLag: this.options.allowedLag, startedAt, durationSeconds: seconds()})
        this.lastSuccessAt = startedAt
      }
    } catch (caught) {
      error = classifyError(caught)
    }
    this.counts.collections++
    if (error) {
      this.counts.errors++
      metrics.failed(seconds())
    }
    this.lastError = error
    this.text = await metrics.text()
    return error
  }

  /**
   * Collects every `intervalMs` (start to start) until `signal` fires; a collection in flight is abandoned
   * then, at once. `onError` hears each failed collection.
   */
  async run(options: {intervalMs: number; signal: AbortSignal; onError?: (error: EhcpError, collection: number) => void}): Promise<void> {
    const {intervalMs, signal} = options
    while (!signal.aborted) {
      const started = this.now()
      // Stopping never waits for a collection stuck on a silent network (up to twice --timeout).
      const error = await orStop(this.collect(signal), signal)
      if (signal.aborted) break
      if (error) options.onError?.(error, this.counts.collections)
      await pause(Math.max(0, intervalMs - (this.now() - started)), signal)
    }
  }
}

/** `work`'s result, or undefined as soon as `signal` fires (work then goes on unheard). */
function orStop<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const stop = () => resolve(undefined)
    signal.addEventListener('abort', stop, {once: true})
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop))
  })
}
