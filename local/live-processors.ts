/**
 * Real processors for the `--live` tests: `EventHubConsumerClient`s with the official blob checkpoint store,
 * running in this process against the Event Hubs stand-in, each recording what it processed (sequence number and
 * enqueued time per partition), which partitions it closed and why, and every error its `processError` saw. A
 * producer appends events to every partition throughout. Used by the tests and the benchmark.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import {earliestEventPosition, EventHubConsumerClient} from '@azure/event-hubs'
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import type {ContainerClient} from '@azure/storage-blob'

import type {EventHubsStandin} from './eventhubs-standin.js'

export interface Processed {
  sequenceNumber: number
  enqueuedTimeUtc: number
  /** When the processor saw it (ms since the epoch). */
  at: number
}

export interface LiveProcessor {
  ownerId: string
  /** Events processed per partition, in order. */
  processed: Map<string, Processed[]>
  closes: Array<{partitionId: string; reason: string; at: number}>
  opens: Array<{partitionId: string; at: number}>
  /** What `processError` saw, with the partition it named ('' for load balancing) and when. */
  errors: Array<{partitionId: string; error: Error; at: number}>
  /** Stops the subscription (the SDK abandons its claims) and closes the client. */
  stop(): Promise<void>
}

export interface ProcessorOptions {
  hubs: EventHubsStandin
  hub: string
  consumerGroup: string
  container: ContainerClient
  strategy: 'balanced' | 'greedy'
  /** The load-balancing interval (default 1 s). */
  intervalMs?: number
  /** How long a claim lasts without a heartbeat (default 10 s). */
  expiryMs?: number
}

export function startProcessor(options: ProcessorOptions): LiveProcessor {
  const client = new EventHubConsumerClient(
    options.consumerGroup,
    options.hubs.connectionString(options.hub),
    new BlobCheckpointStore(options.container),
    {
      loadBalancingOptions: {
        strategy: options.strategy,
        updateIntervalInMs: options.intervalMs ?? 1000,
        partitionOwnershipExpirationIntervalInMs: options.expiryMs ?? 10_000,
      },
      retryOptions: {maxRetries: 2, timeoutInMs: 5000, retryDelayInMs: 200},
    },
  )
  const processor: LiveProcessor = {
    ownerId: client.identifier,
    processed: new Map(),
    closes: [],
    opens: [],
    errors: [],
    stop: async () => {
      await subscription.close()
      await client.close()
    },
  }
  const subscription = client.subscribe(
    {
      processInitialize: async (context) => {
        processor.opens.push({partitionId: context.partitionId, at: Date.now()})
      },
      processEvents: async (events, context) => {
        if (events.length === 0) return
        const list = processor.processed.get(context.partitionId) ?? []
        const at = Date.now()
        for (const e of events) list.push({sequenceNumber: e.sequenceNumber, enqueuedTimeUtc: e.enqueuedTimeUtc.getTime(), at})
        processor.processed.set(context.partitionId, list)
        await context.updateCheckpoint(events.at(-1)!)
      },
      processError: async (error, context) => {
        processor.errors.push({partitionId: context.partitionId, error, at: Date.now()})
      },
      processClose: async (reason, context) => {
        processor.closes.push({partitionId: context.partitionId, reason, at: Date.now()})
      },
    },
    {maxBatchSize: 10, maxWaitTimeInSeconds: 0.3, startPosition: earliestEventPosition},
  )
  return processor
}

/** Appends one event to every partition of `hub` every `everyMs` until stopped. */
export function startProducer(hubs: EventHubsStandin, hub: string, partitions: number, everyMs = 100): {stop(): void} {
  let i = 0
  const timer = setInterval(() => {
    for (let p = 0; p < partitions; p++) hubs.append(hub, String(p), [{body: {i}}])
    i++
  }, everyMs)
  return {stop: () => clearInterval(timer)}
}

/** A fleet of processors sharing one consumer group. */
export class Fleet {
  readonly processors: LiveProcessor[]

  constructor(count: number, options: ProcessorOptions) {
    this.processors = Array.from({length: count}, () => startProcessor(options))
  }

  /** Who processed partition `p` last, and everything processed of it by every processor, in time order. */
  processedOf(partitionId: string): Processed[] {
    return this.processors.flatMap((x) => x.processed.get(partitionId) ?? []).sort((a, b) => a.at - b.at)
  }

  /** The processors reading each partition now: opened more often than closed. */
  pumping(): Map<string, string[]> {
    const pumps = new Map<string, string[]>()
    for (const x of this.processors) {
      const open = new Map<string, number>()
      for (const o of x.opens) open.set(o.partitionId, (open.get(o.partitionId) ?? 0) + 1)
      for (const c of x.closes) open.set(c.partitionId, (open.get(c.partitionId) ?? 0) - 1)
      for (const [p, n] of open) if (n > 0) pumps.set(p, [...(pumps.get(p) ?? []), x.ownerId])
    }
    return pumps
  }

  closes(): Array<{ownerId: string; partitionId: string; reason: string; at: number}> {
    return this.processors.flatMap((x) => x.closes.map((c) => ({ownerId: x.ownerId, ...c})))
  }

  errors(): Array<{ownerId: string; partitionId: string; error: Error; at: number}> {
    return this.processors.flatMap((x) => x.errors.map((e) => ({ownerId: x.ownerId, ...e})))
  }

  /** Waits until every partition has been processed past `events` events, and the claims have settled. */
  async steady(partitions: number, events: number, timeoutMs = 60_000): Promise<void> {
    const ids = Array.from({length: partitions}, (_, p) => String(p))
    const deadline = Date.now() + timeoutMs
    while (!ids.every((p) => this.processedOf(p).length > events)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for every partition processed past ${events} events`)
      await sleep(100)
    }
    // A balanced fleet claims one partition per cycle: wait until no partition has changed hands for a while.
    let last = -1
    while (Date.now() < deadline) {
      const moves = this.processors.reduce((n, x) => n + x.opens.length + x.closes.length, 0)
      if (moves === last) return
      last = moves
      await sleep(3000)
    }
    throw new Error('the fleet kept moving partitions')
  }

  async stop(): Promise<void> {
    await Promise.all(this.processors.map((x) => x.stop().catch(() => undefined)))
  }
}
