/**
 * Event Hubs access with the official @azure/event-hubs client (imported only on the paths that need it):
 * partition properties and single-event reads by sequence number, offset or enqueued time. Every call is
 * bounded by the command's timeout; failures become the contract's exit codes.
 */
import type {EventHubConsumerClient, EventPosition, ReceivedEventData, Subscription} from '@azure/event-hubs'

import {
  authError,
  classifyError,
  EhcpError,
  errorChain,
  ExitCode,
  NETWORK_ERROR_CODES,
  notFoundError,
  quote,
  READER_REFUSED,
  unreachableError,
  usageError,
} from '../errors.js'
import {withDeadline} from '../concurrency.js'
import {parseConnectionString} from '../connection-string.js'
import {registerSecret} from '../redact.js'

/**
 * How ehcp reaches Event Hubs, resolved once: a connection string (with its namespace host and the event hub it
 * is limited to, if any), or DefaultAzureCredential against the checkpoints' namespace.
 */
export type EventHubsAccess = (
  {kind: 'connection-string'; connectionString: string; host: string; entityPath: string | undefined} | {kind: 'credential'; host: string}
) & {
  /**
   * Where to connect instead of the namespace host (EHCP_EVENTHUBS_ENDPOINT: a proxy, an application gateway, a
   * local stand-in), e.g. `sb://127.0.0.1:5672`; the namespace stays the one above. Absent when not set.
   */
  endpoint?: string
}

const EVENT_HUBS_HOST = /\.servicebus\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net|cloudapi\.de)$/i

export const EVENT_HUBS_ACCESS_HINT =
  'Pass --eventhubs-connection-string (or set EVENTHUBS_CONNECTION_STRING), or sign in for DefaultAzureCredential ' +
  '(az login, managed identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET) with the "Azure Event Hubs Data Receiver" role.'

/** A credential the service refused: signed in, the identity lacks the role; with a connection string, its key the Listen right. */
export const EVENT_HUBS_REFUSED_HINT =
  'Signed in with Entra ID: grant the identity the "Azure Event Hubs Data Receiver" role on the event hub or namespace. ' +
  'With --eventhubs-connection-string: use a key with the Listen right, and check that it is current.'

/**
 * EHCP_EVENTHUBS_ENDPOINT as the client takes it (scheme://host[:port]), or undefined when unset: the address the
 * connection is made to, while the namespace (the connection's identity, its token audience) stays the same.
 */
function customEndpoint(text: string | undefined): string | undefined {
  if (text === undefined || text.trim() === '') return undefined
  const refuse = () =>
    usageError(
      `EHCP_EVENTHUBS_ENDPOINT ${quote(text)} is not an endpoint address.`,
      'Give amqps://, sb:// or https://, a host name or IPv4 address and an optional port, e.g. amqps://gateway.contoso.com:5671 (or unset it).',
    )
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw refuse()
  }
  // The client splits host and port at the first ':' (no IPv6), and takes nothing but the host.
  if (
    !/^(amqps|sb|https):$/.test(url.protocol) ||
    !url.hostname ||
    url.port === '0' ||
    url.hostname.startsWith('[') ||
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    !['', '/'].includes(url.pathname)
  )
    throw refuse()
  return `${url.protocol}//${url.host}`
}

/**
 * The connection string (flag, then EVENTHUBS_CONNECTION_STRING) wins; otherwise DefaultAzureCredential
 * against the namespace host from the blob path, when that host is an Event Hubs namespace. Either way
 * EHCP_EVENTHUBS_ENDPOINT, when set, is where the connection goes.
 */
export function resolveEventHubsAccess(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  namespace: string,
  feature: string,
): EventHubsAccess {
  const endpoint = customEndpoint(env.EHCP_EVENTHUBS_ENDPOINT)
  const via = endpoint ? {endpoint} : {}
  const text = flag ?? env.EVENTHUBS_CONNECTION_STRING
  if (text) {
    const cs = parseConnectionString(text)
    for (const secret of cs.secrets) registerSecret(secret)
    const endpoint = cs.fields.get('endpoint')
    if (!endpoint) throw usageError('The Event Hubs connection string has no Endpoint.', EVENT_HUBS_ACCESS_HINT)
    let host: string
    try {
      host = new URL(endpoint).hostname
    } catch {
      throw usageError('The Event Hubs connection string has an invalid Endpoint.', EVENT_HUBS_ACCESS_HINT)
    }
    return {kind: 'connection-string', connectionString: text, host, entityPath: cs.fields.get('entitypath') || undefined, ...via}
  }
  if (EVENT_HUBS_HOST.test(namespace)) return {kind: 'credential', host: namespace, ...via}
  throw usageError(
    `${feature} needs Event Hubs access, and "${namespace}" is not an Event Hubs namespace host that DefaultAzureCredential can reach.`,
    EVENT_HUBS_ACCESS_HINT,
  )
}

/**
 * How the Event Hubs connection given misses the checkpoints' namespace or event hub (names compared
 * case-insensitively, as the service does), or null when it reaches them.
 */
export function eventHubsMismatch(access: EventHubsAccess, namespace: string, hub: string): string | null {
  if (access.kind !== 'connection-string') return null
  if (access.host.toLowerCase() !== namespace.toLowerCase())
    return `it is for namespace ${access.host}, the checkpoints are for namespace ${namespace}`
  const entity = access.entityPath
  if (entity && entity.toLowerCase() !== hub.toLowerCase())
    return `it is for event hub "${entity}", the checkpoints are for event hub "${hub}"`
  return null
}

export interface PartitionInfo {
  beginningSequenceNumber: number
  lastEnqueuedSequenceNumber: number
  lastEnqueuedOffset: string
  lastEnqueuedOnUtc: Date
  isEmpty: boolean
}

/** A partition held with a high owner level (`EventHubReader.hold`). */
export interface PartitionHold {
  close(): Promise<void>
  /** The error the receiver met after it attached (the partition taken by a still higher owner level), or null. */
  failure(): Error | null
}

export interface EventRef {
  sequenceNumber: number
  offset: string
  enqueuedTime: Date
}

export type ReadFrom = {sequenceNumber: number} | {offset: string} | {enqueuedAfter: Date}

/** Where a run of events starts: inclusive of a sequence number, after an offset, strictly after a time, or the first retained event. */
export type EventsFrom = {sequenceNumber: number} | {afterOffset: string} | {enqueuedAfter: Date} | 'earliest'

/** One event as received, its body as the bytes sent (never parsed), its application properties as sent. */
export interface RawEvent extends EventRef {
  partitionKey: string | null
  properties: Record<string, unknown>
  body: Uint8Array
}

/** Asks for a consumer group no processor uses: ehcp's reads are never to take a partition from one. */
export const READER_GROUP_HINT =
  'ehcp reads events with --eventhubs-consumer-group (default $Default): pass a consumer group no processor uses (create one for ehcp once, e.g. "ehcp").'

/** A received body as bytes: a data section as sent; an AMQP value or sequence (other producers) as its JSON. */
function bodyBytes(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  return Buffer.from(JSON.stringify(body ?? null) ?? 'null', 'utf8')
}

/**
 * A connection or link the peer closed without giving an error, as the AMQP libraries word it, exactly: rhea's
 * "Failed to connect" (closed while opening) and core-amqp's translation of a missing error ("Unknown error
 * encountered."). A plain Error with no code: a dropped connection, not a failure of ehcp's.
 */
const closedWithoutReason = (x: {code?: string; name?: string; message?: string}) =>
  x.code === undefined && x.name === 'Error' && (x.message === 'Failed to connect' || x.message === 'Unknown error encountered.')

/** Maps an Event Hubs client failure to the contract's exit codes. */
export function classifyEventHubsError(error: unknown, hub: string, consumerGroup: string): EhcpError {
  if (error instanceof EhcpError) return error
  const chain = errorChain(error)
  const e = chain[0] ?? {}
  const text = chain.map((x) => `${x.code ?? ''} ${x.name ?? ''} ${x.message ?? ''}`).join(' ')
  // A processor's owner-level (epoch) receiver holds the partition in this consumer group: the service
  // refuses any other reader there (and ehcp must never take the partition from it with an epoch of its own).
  if (/ReceiverDisconnected|link:stolen|non-epoch receiver/i.test(text)) {
    return new EhcpError(
      READER_REFUSED,
      `Event Hubs refused ehcp's reader on "${hub}": a running processor holds the partition in consumer group "${consumerGroup}".`,
      ExitCode.refused,
      READER_GROUP_HINT,
    )
  }
  // A socket's own error code says the service was never reached, whatever the message holds (a random port
  // such as 127.0.0.1:40123 contains "401").
  const networkCode = chain.map((x) => x.code).find((code) => code !== undefined && NETWORK_ERROR_CODES.includes(code))
  if (networkCode) {
    return unreachableError(
      `Event Hubs could not be reached for "${hub}" (${networkCode}).`,
      'Check the namespace endpoint and network, or raise --timeout.',
    )
  }
  const status = chain.map((x) => (x as {statusCode?: unknown}).statusCode).find((code) => typeof code === 'number')
  if (status === 401 || status === 403 || /Unauthorized|\b401\b|Forbidden|CredentialUnavailable|AuthenticationError/i.test(text)) {
    if (/CredentialUnavailable/i.test(text))
      return usageError('No credential for Event Hubs was found by DefaultAzureCredential.', EVENT_HUBS_ACCESS_HINT)
    return authError(`Event Hubs refused the credential for "${hub}".`, EVENT_HUBS_REFUSED_HINT)
  }
  if (/MessagingEntityNotFound|could not be found|not found/i.test(text) && !/ENOTFOUND|getaddrinfo/i.test(text)) {
    return notFoundError(
      `Event Hubs has no event hub "${hub}" (or no such partition or consumer group) in this namespace.`,
      'Check --eventhub and the connection string.',
    )
  }
  if (
    new RegExp(
      `${NETWORK_ERROR_CODES.join('|')}|ServiceCommunication|OperationTimeout|timed out|timeout|ConnectionForced|connection:forced|ServiceUnavailable|socket`,
      'i',
    ).test(text) ||
    chain.some(closedWithoutReason)
  ) {
    const code = chain.map((x) => x.code).find(Boolean) ?? e.name ?? 'error'
    return unreachableError(
      `Event Hubs could not be reached for "${hub}" (${code}).`,
      'Check the namespace endpoint and network, or raise --timeout.',
    )
  }
  return classifyError(error)
}

/** One client (one AMQP connection) per event hub, closed by the caller. */
/**
 * Management calls share one connection. Single-event reads fan out over more connections, one per 16
 * reads expected, at most 64: the client negotiates each receiver's claim one at a time per connection
 * (a round trip each), so one connection would read a thousand partitions' next events one after another.
 */
const READS_PER_CONNECTION = 16
const MAX_READ_CONNECTIONS = 64

/**
 * Closes a subscription, giving up after `ms`: the AMQP library can wait forever on a link whose connection just
 * dropped, and the timer (held, not unref'd) keeps the process from leaving mid-await with nothing else pending.
 */
async function closeWithin(close: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  const closed = await Promise.race([
    close().then(
      () => true,
      () => true,
    ),
    gaveUp,
  ])
  clearTimeout(timer)
  return closed
}

export class EventHubReader {
  private readonly readers: EventHubConsumerClient[] = []
  private nextReader = 0
  private readConnections = 1
  /** Subscriptions still closing after their event was handed back. */
  private readonly closing = new Set<Promise<unknown>>()

  private constructor(
    private readonly client: EventHubConsumerClient,
    private readonly makeClient: () => EventHubConsumerClient,
    readonly hub: string,
    private readonly timeoutMs: number,
    readonly consumerGroup: string,
  ) {}

  static async open(access: EventHubsAccess, hub: string, options: {consumerGroup: string; timeoutMs: number}): Promise<EventHubReader> {
    const {EventHubConsumerClient} = await import('@azure/event-hubs')
    const clientOptions = {
      retryOptions: {maxRetries: 1, timeoutInMs: options.timeoutMs, retryDelayInMs: 200},
      ...(access.endpoint ? {customEndpointAddress: access.endpoint} : {}),
    }
    let makeClient: () => EventHubConsumerClient
    if (access.kind === 'connection-string') {
      makeClient = () => new EventHubConsumerClient(options.consumerGroup, access.connectionString, hub, clientOptions)
    } else {
      const {DefaultAzureCredential} = await import('@azure/identity')
      const credential = new DefaultAzureCredential()
      makeClient = () => new EventHubConsumerClient(options.consumerGroup, access.host, hub, credential, clientOptions)
    }
    let client: EventHubConsumerClient
    try {
      client = makeClient()
    } catch (error) {
      throw usageError(`The Event Hubs connection string is not valid: ${(error as Error).message}`, EVENT_HUBS_ACCESS_HINT)
    }
    return new EventHubReader(client, makeClient, hub, options.timeoutMs, options.consumerGroup)
  }

  /** Sizes the read connections for about `reads` single-event reads to come. */
  expectReads(reads: number): void {
    this.readConnections = Math.min(MAX_READ_CONNECTIONS, Math.max(this.readConnections, Math.ceil(reads / READS_PER_CONNECTION)))
  }

  /** The next connection for an event read, opened on first use. */
  private readerClient(): EventHubConsumerClient {
    const i = this.nextReader++ % this.readConnections
    if (i === 0) return this.client
    return (this.readers[i - 1] ??= this.makeClient())
  }

  /** Runs one call under the deadline (the command's timeout unless given); failures become EhcpErrors. */
  private async bounded<T>(op: (abortSignal: AbortSignal) => Promise<T>, deadlineMs = this.timeoutMs): Promise<T> {
    const timedOut = () =>
      unreachableError(
        `Event Hubs did not answer within ${deadlineMs / 1000}s for "${this.hub}".`,
        'Check the namespace endpoint and network, or raise --timeout.',
      )
    try {
      return await withDeadline(deadlineMs, undefined, op, timedOut)
    } catch (error) {
      throw classifyEventHubsError(error, this.hub, this.consumerGroup)
    }
  }

  partitionIds(): Promise<string[]> {
    return this.bounded((abortSignal) => this.client.getPartitionIds({abortSignal}))
  }

  async partitionInfo(partitionId: string): Promise<PartitionInfo> {
    const p = await this.bounded((abortSignal) => this.client.getPartitionProperties(partitionId, {abortSignal}))
    return {
      beginningSequenceNumber: p.beginningSequenceNumber,
      lastEnqueuedSequenceNumber: p.lastEnqueuedSequenceNumber,
      lastEnqueuedOffset: String(p.lastEnqueuedOffset),
      lastEnqueuedOnUtc: p.lastEnqueuedOnUtc,
      isEmpty: p.isEmpty,
    }
  }

  /**
   * The first event at a position (inclusive for sequence numbers and offsets; strictly after an enqueued
   * time, as the service filters), or null when none arrives within `waitMs`.
   */
  async readFirst(partitionId: string, from: ReadFrom, waitMs = 3000): Promise<EventRef | null> {
    const startPosition: EventPosition =
      'sequenceNumber' in from
        ? {sequenceNumber: from.sequenceNumber, isInclusive: true}
        : 'offset' in from
          ? {offset: from.offset, isInclusive: true}
          : {enqueuedOn: from.enqueuedAfter}
    const [first] = await this.bounded((abortSignal) => this.receive(partitionId, startPosition, {count: 1, waitMs}, abortSignal))
    return first ? {sequenceNumber: first.sequenceNumber, offset: first.offset, enqueuedTime: first.enqueuedTime} : null
  }

  /**
   * Up to `count` events from a position, in order. Stops at `count`, or when no event arrives for `waitMs` (the
   * end of the partition for now); the whole read is bounded by the command's timeout plus the wait.
   */
  readEvents(partitionId: string, from: EventsFrom, options: {count: number; waitMs: number}): Promise<RawEvent[]> {
    const startPosition: EventPosition =
      from === 'earliest'
        ? {offset: '-1'}
        : 'sequenceNumber' in from
          ? {sequenceNumber: from.sequenceNumber, isInclusive: true}
          : 'afterOffset' in from
            ? {offset: from.afterOffset, isInclusive: false}
            : {enqueuedOn: from.enqueuedAfter}
    return this.bounded((abortSignal) => this.receive(partitionId, startPosition, options, abortSignal), this.timeoutMs + options.waitMs)
  }

  /**
   * Receives through this reader's consumer group, never with an owner level (ehcp's receiver cannot take a
   * partition from a processor), bodies as the bytes sent: events until `count`, or until a wait of `waitMs`
   * brings none. The answer goes back at once; the receiver's detach finishes in the background (awaited by close()).
   */
  private receive(
    partitionId: string,
    startPosition: EventPosition,
    options: {count: number; waitMs: number},
    abortSignal: AbortSignal,
  ): Promise<RawEvent[]> {
    return new Promise<RawEvent[]>((resolve, reject) => {
      const received: RawEvent[] = []
      let settled = false
      const finish = (outcome: () => void) => {
        if (settled) return
        settled = true
        abortSignal.removeEventListener('abort', onAbort)
        const closed = subscription.close().catch(() => undefined)
        this.closing.add(closed)
        void closed.finally(() => this.closing.delete(closed))
        outcome()
      }
      const onAbort = () => finish(() => reject(abortSignal.reason))
      // The handlers run asynchronously, after `subscription` is assigned.
      const subscription: Subscription = this.readerClient().subscribe(
        partitionId,
        {
          processEvents: async (events: ReceivedEventData[]) => {
            if (settled) return
            for (const e of events.slice(0, options.count - received.length))
              received.push({
                sequenceNumber: e.sequenceNumber,
                offset: String(e.offset),
                enqueuedTime: e.enqueuedTimeUtc,
                partitionKey: e.partitionKey ?? null,
                properties: {...e.properties},
                body: bodyBytes(e.body),
              })
            // An empty batch: nothing arrived within the wait.
            if (received.length >= options.count || events.length === 0) finish(() => resolve(received))
          },
          processError: async (error: Error) => finish(() => reject(error)),
        },
        {
          startPosition,
          maxBatchSize: Math.min(options.count, 100),
          maxWaitTimeInSeconds: Math.max(1, Math.ceil(options.waitMs / 1000)),
          skipParsingBodyAsJson: true,
        },
      )
      abortSignal.addEventListener('abort', onAbort, {once: true})
    })
  }

  /**
   * Opens a receiver on the partition with `ownerLevel` (in this reader's consumer group: for `--live`, the
   * application's), which makes Event Hubs detach every receiver of a lower owner level there: a processor's
   * pump stops with OwnershipLost. Resolves once the receiver is attached (its first, empty, batch has come);
   * `failure()` says if the service later took the partition from ehcp too (a still higher owner level).
   */
  hold(partitionId: string, ownerLevel: number): Promise<PartitionHold> {
    let failure: Error | null = null
    // A connection of its own: closing it is the sure way to end the hold.
    const client = this.makeClient()
    const held = this.bounded(
      (abortSignal) =>
        new Promise<PartitionHold>((resolve, reject) => {
          let attached = false
          const onAbort = () => {
            void closeWithin(() => client.close(), 2000)
            reject(abortSignal.reason)
          }
          const subscription: Subscription = client.subscribe(
            partitionId,
            {
              processEvents: async () => {
                if (attached) return
                attached = true
                abortSignal.removeEventListener('abort', onAbort)
                resolve({
                  // The link first: once it is detached the partition is free. The connection (its own) goes after
                  // it, in the background (closing it can take seconds; the reader's close waits for it, bounded);
                  // should the link not close, at once, taking the link with it.
                  close: async () => {
                    const linkClosed = await closeWithin(() => subscription.close(), 2000)
                    const connection = closeWithin(() => client.close(), 2000)
                    if (!linkClosed) {
                      await connection
                      return
                    }
                    this.closing.add(connection)
                    void connection.finally(() => this.closing.delete(connection))
                  },
                  failure: () => failure,
                })
              },
              processError: async (error: Error) => {
                failure ??= error
                if (attached) return
                attached = true
                abortSignal.removeEventListener('abort', onAbort)
                void closeWithin(() => client.close(), 2000)
                reject(error)
              },
            },
            {ownerLevel, startPosition: {offset: '@latest'}, maxBatchSize: 1, maxWaitTimeInSeconds: 0.2},
          )
          abortSignal.addEventListener('abort', onAbort, {once: true})
        }),
      this.timeoutMs + 1000,
    )
    // Refused with an owner level above ehcp's own: not a processor (they use 0), another tool holding the partition.
    return held.catch((error: unknown) => {
      if (!(error instanceof EhcpError) || error.code !== READER_REFUSED) throw error
      throw new EhcpError(
        READER_REFUSED,
        `Event Hubs refused ehcp's hold of partition ${partitionId} of "${this.hub}": another reader with a still higher owner level holds it in consumer group "${this.consumerGroup}".`,
        ExitCode.refused,
        'Processors use owner level 0: this is another tool taking partitions over. ehcp leaves the partition to it; run again once it is done.',
      )
    })
  }

  /** Bounded: the AMQP library can wait forever to close a link whose connection just dropped. */
  async close(): Promise<void> {
    await closeWithin(async () => {
      await Promise.all(this.closing)
      await Promise.all([this.client, ...this.readers].map((c) => c.close().catch(() => undefined)))
    }, 2000)
  }
}
