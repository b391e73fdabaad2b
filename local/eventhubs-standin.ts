/**
 * A local stand-in for the Azure Event Hubs service: a small AMQP 1.0 server (built on rhea) that the real
 * `@azure/event-hubs` client talks to over plain TCP on 127.0.0.1. It speaks the consumer side of the
 * protocol: $cbs put-token, $management READ (hub and partition properties), and partition receivers with
 * the selector filters the client sends (offset / sequence number / enqueued time), credit-based delivery
 * and owner-level (epoch) exclusivity. Producers are not supported (their links are refused).
 *
 * Connect with `standin.connectionString(hub)`:
 *   Endpoint=sb://127.0.0.1:PORT;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;EntityPath=HUB
 * (`UseDevelopmentEmulator=true` makes the client use plain TCP on the endpoint's port.)
 *
 * Started with `{tls}`, it speaks amqps as the service does, and takes Microsoft Entra ID tokens (`jwt`) over
 * $cbs as the service does for a token credential: the token must be unexpired, from Entra ID's issuer, and
 * for Event Hubs (audience https://eventhubs.azure.net) or for this namespace (https://NAMESPACE); an
 * identity refused with refuseIdentity() gets the service's answer to a token without the Listen right.
 * SAS tokens (from a connection string) are accepted as before.
 *
 * The Python SDK's client (azure-eventhub 5.11, pyamqp) works against it too: it always connects with TLS to port
 * 5671 (it ignores UseDevelopmentEmulator=true and the endpoint's port), so start the stand-in with `{tls, host,
 * port: 5671}` on a loopback address of its own (test/support/python-processor.ts does). For it the stand-in writes
 * every field of every performative, answers $cbs and $management requests that carry no reply-to, takes a SAS token
 * sent as type `jwt`, and takes receiver addresses with the namespace's URI before them, as the service does.
 */
import type {AddressInfo, Server, Socket} from 'node:net'

import rhea from 'rhea'

import {EVENT_HUBS_AUDIENCE, readTokenClaims} from './entra.js'
import type {Connection, Container, EventContext, Message, Receiver, Sender, Session, Source, TerminusOptions} from 'rhea'

// ---------------------------------------------------------------------------------------------------------
// Public model

export interface StandinEvent {
  sequenceNumber: number
  offset: string
  enqueuedTimeUtc: Date
  body: unknown
  properties?: Record<string, string | number | boolean>
  partitionKey?: string
}

export interface PartitionState {
  beginningSequenceNumber: number
  lastEnqueuedSequenceNumber: number
  lastEnqueuedOffset: string
  lastEnqueuedOnUtc: Date
  isEmpty: boolean
}

export interface StandinEventInput {
  body: unknown
  enqueuedTimeUtc?: Date
  properties?: Record<string, string | number | boolean>
  /** Sent as the `x-opt-partition-key` annotation, as the service does for an event sent with one. */
  partitionKey?: string
}

export interface StandinStats {
  /** Connections accepted since start. */
  connections: number
  /** $management requests received (any outcome). */
  managementRequests: number
  /** Partition receiver links accepted (not counting refused ones, $cbs or $management links). */
  receiversOpened: number
  /** $cbs put-token requests answered. */
  cbsRequests: number
  /** Connections currently open. */
  openConnections: number
  /** Partition receiver links currently attached. */
  activeReceivers: number
}

/** A $cbs put-token as the stand-in saw it. */
export interface TokenSeen {
  /** `jwt` (Entra ID) or `servicebus.windows.net:sastoken`. */
  type: string
  /** The resource the client asked for (e.g. `sb://NAMESPACE/HUB/ConsumerGroups/...`). */
  name: string
  /** A jwt's `aud` and `oid` claims. */
  audience?: string
  oid?: string
  /** The status the stand-in answered with (202 accepted, 401 refused). */
  status: number
}

/** A partition receiver's attach as the stand-in saw it (refused ones included). */
export interface ReceiverAttach {
  /** `HUB/ConsumerGroups/CG/Partitions/ID` */
  address: string
  /** The selector filter, e.g. `amqp.annotation.x-opt-offset > '-1'` (undefined when none was sent). */
  filter: string | undefined
  /** `com.microsoft:epoch` (the client's ownerLevel), when sent. */
  ownerLevel: number | undefined
  /** The error condition the attach was refused or closed with at once, if it was. */
  refused: string | undefined
}

/** The offset the stand-in gives an event: increases with the sequence number but differs from it. */
export function offsetOf(sequenceNumber: number): string {
  return String(1000 + 64 * sequenceNumber)
}

// ---------------------------------------------------------------------------------------------------------
// AMQP constants (as the client and the service use them)

const CBS = '$cbs'
const MANAGEMENT = '$management'
const SELECTOR_FILTER = 'apache.org:selector-filter:string'
const EPOCH_PROPERTY = 'com.microsoft:epoch'
const RECEIVER_NAME_PROPERTY = 'com.microsoft:receiver-name'
const RUNTIME_METRIC_CAPABILITY = 'com.microsoft:enable-receiver-runtime-metric'
const STR32 = 0xb1

const Conditions = {
  notFound: 'amqp:not-found',
  argumentOutOfRange: 'com.microsoft:argument-out-of-range',
  argumentError: 'com.microsoft:argument-error',
  notImplemented: 'amqp:not-implemented',
  linkStolen: 'amqp:link:stolen',
  unauthorized: 'amqp:unauthorized-access',
} as const

const {types} = rhea

// ---------------------------------------------------------------------------------------------------------
// Internal state

interface PartitionModel {
  id: string
  /** Retained events; events[i].sequenceNumber === begin + i. */
  events: StandinEvent[]
  begin: number
  last: number
  lastOffset: string
  lastTime: Date
  readers: Set<Reader>
}

interface HubModel {
  name: string
  createdAt: Date
  /** lower-cased name -> name as created */
  consumerGroups: Map<string, string>
  partitions: Map<string, PartitionModel>
}

interface Reader {
  sender: Sender
  hub: HubModel
  partition: PartitionModel
  consumerGroupKey: string
  name: string
  epoch: number | undefined
  /** The next sequence number to consider. */
  nextSeq: number
  /** Until the first event satisfying it is found, events that fail it are skipped. */
  startsAt: ((event: StandinEvent) => boolean) | undefined
  runtimeMetric: boolean
  closed: boolean
}

class LinkRefusal extends Error {
  constructor(
    readonly condition: string,
    description: string,
  ) {
    super(description)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Narrowing helpers for values decoded by rhea

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function stringField(record: unknown, key: string): string | undefined {
  if (!isRecord(record)) return undefined
  const value = record[key]
  return typeof value === 'string' ? value : undefined
}

/** A described or typed value as rhea hands it over (`{descriptor, value}`), or the plain value. */
function plainString(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (isRecord(value) && typeof value.value === 'string') return value.value
  return undefined
}

function plainNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (isRecord(value) && typeof value.value === 'number') return value.value
  return undefined
}

function capabilityList(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  return []
}

// ---------------------------------------------------------------------------------------------------------
// The server

export class EventHubsStandin {
  readonly host: string
  readonly port: number

  private readonly hubs = new Map<string, HubModel>()
  private readonly readersBySender = new Map<Sender, Reader>()
  private readonly sockets = new Set<Socket>()
  private readonly openConnections = new Set<Connection>()
  private stopped = false
  private readonly attaches: ReceiverAttach[] = []
  private readonly tokens: TokenSeen[] = []
  private readonly refusedIdentities = new Set<string>()
  private readonly counters = {connections: 0, managementRequests: 0, receiversOpened: 0, cbsRequests: 0}

  /** A snapshot of the counters. */
  get stats(): StandinStats {
    return {...this.counters, openConnections: this.openConnections.size, activeReceivers: this.readersBySender.size}
  }

  private constructor(
    private readonly container: Container,
    private readonly server: Server,
  ) {
    const address = server.address() as AddressInfo
    this.host = address.address
    this.port = address.port
    this.wire()
  }

  /**
   * Starts a stand-in listening on 127.0.0.1 on a free port: plain AMQP, or amqps with `tls` (PEM texts, e.g.
   * from local/tls.ts), as the service listens for clients that sign in with a token credential. `host` and
   * `port` choose another loopback address or a fixed port (a client that always dials the service's port 5671
   * needs both: an address of its own, so that runs side by side do not collide).
   */
  static async start(options: {tls?: {cert: string; key: string}; host?: string; port?: number} = {}): Promise<EventHubsStandin> {
    const container = rhea.create_container({id: 'eventhubs-standin'})
    // The open frame states the maximum frame size, channel maximum and idle time-out, with the service's
    // values: rhea leaves out fields it has no value for (AMQP's defaults then apply), but a client may read
    // them without defaults (the Python SDK's pyamqp does, and fails on an open frame without them).
    const listen = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      max_frame_size: 65_536,
      channel_max: 4999,
      idle_time_out: 120_000,
    }
    const server = options.tls
      ? container.listen({...listen, transport: 'tls', cert: options.tls.cert, key: options.tls.key})
      : container.listen(listen)
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
    return new EventHubsStandin(container, server)
  }

  /** The connection string the client needs; EntityPath only when a hub is given. */
  connectionString(hub?: string): string {
    const base = `Endpoint=sb://${this.host}:${this.port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`
    return hub === undefined ? base : `${base};EntityPath=${hub}`
  }

  // ---- model ------------------------------------------------------------------------------------------

  createHub(name: string, partitionCount: number, consumerGroups: string[] = []): void {
    if (this.hubs.has(name.toLowerCase())) throw new Error(`hub '${name}' already exists`)
    if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new RangeError(`invalid partition count ${partitionCount}`)
    const groups = new Map<string, string>([['$default', '$Default']])
    for (const group of consumerGroups) groups.set(group.toLowerCase(), group)
    const partitions = new Map<string, PartitionModel>()
    for (let i = 0; i < partitionCount; i++) {
      const id = String(i)
      partitions.set(id, {id, events: [], begin: 0, last: -1, lastOffset: '-1', lastTime: new Date(0), readers: new Set()})
    }
    this.hubs.set(name.toLowerCase(), {name, createdAt: new Date(), consumerGroups: groups, partitions})
  }

  /**
   * Creates a hub (as createHub) and appends events to every partition: `eventsPerPartition` of them (or as many as
   * it gives for the partition's index), event `i` of partition `p` being `event(p, i)` (default: body `i`, enqueued
   * now). Returns the stored events, by partition index.
   */
  createHubWithEvents(
    name: string,
    partitionCount: number,
    eventsPerPartition: number | ((partition: number) => number),
    event: (partition: number, i: number) => StandinEventInput = (_, i) => ({body: i}),
  ): StandinEvent[][] {
    this.createHub(name, partitionCount)
    return Array.from({length: partitionCount}, (_, p) => {
      const count = typeof eventsPerPartition === 'number' ? eventsPerPartition : eventsPerPartition(p)
      return this.append(
        name,
        String(p),
        Array.from({length: count}, (_, i) => event(p, i)),
      )
    })
  }

  /** Deletes a hub and its events (as deleting an event hub does); a hub created again under its name starts empty. */
  deleteHub(name: string): void {
    if (!this.hubs.delete(name.toLowerCase())) throw new Error(`hub '${name}' does not exist`)
  }

  /** Adds a consumer group to an existing hub. */
  addConsumerGroup(hub: string, consumerGroup: string): void {
    this.hub(hub).consumerGroups.set(consumerGroup.toLowerCase(), consumerGroup)
  }

  /**
   * Appends events to a partition and delivers them to open receivers. Enqueued times default to now and
   * must not go backwards. Returns the stored events.
   */
  append(hub: string, partitionId: string, events: StandinEventInput[]): StandinEvent[] {
    const partition = this.partition(hub, partitionId)
    const stored: StandinEvent[] = []
    let lastTime = partition.lastTime.getTime()
    for (const input of events) {
      const time = input.enqueuedTimeUtc?.getTime() ?? Math.max(Date.now(), lastTime)
      if (Number.isNaN(time)) throw new RangeError('invalid enqueuedTimeUtc')
      if (time < lastTime) {
        throw new RangeError(
          `enqueued times must not decrease: ${new Date(time).toISOString()} is before ${new Date(lastTime).toISOString()}`,
        )
      }
      lastTime = time
      const sequenceNumber = partition.last + 1 + stored.length
      const event: StandinEvent = {sequenceNumber, offset: offsetOf(sequenceNumber), enqueuedTimeUtc: new Date(time), body: input.body}
      if (input.properties) event.properties = {...input.properties}
      if (input.partitionKey !== undefined) event.partitionKey = input.partitionKey
      stored.push(event)
    }
    if (stored.length === 0) return []
    partition.events.push(...stored)
    const lastEvent = stored[stored.length - 1]
    partition.last = lastEvent.sequenceNumber
    partition.lastOffset = lastEvent.offset
    partition.lastTime = lastEvent.enqueuedTimeUtc
    for (const reader of partition.readers) this.pump(reader)
    return stored.map(copyEvent)
  }

  /** The retained events of a partition (copies). */
  events(hub: string, partitionId: string): StandinEvent[] {
    return this.partition(hub, partitionId).events.map(copyEvent)
  }

  /** Retention cut: drops every event before `fromSequenceNumber` (the beginning only moves forward). */
  retain(hub: string, partitionId: string, fromSequenceNumber: number): void {
    const partition = this.partition(hub, partitionId)
    const begin = Math.min(Math.max(fromSequenceNumber, partition.begin), partition.last + 1)
    partition.events.splice(0, begin - partition.begin)
    partition.begin = begin
  }

  /**
   * What the service reports for the partition. Empty partition: begin 0, last -1, offset "-1", time epoch 0.
   * After every event has expired: isEmpty true, begin = last + 1, last* unchanged.
   */
  partitionState(hub: string, partitionId: string): PartitionState {
    const p = this.partition(hub, partitionId)
    return {
      beginningSequenceNumber: p.begin,
      lastEnqueuedSequenceNumber: p.last,
      lastEnqueuedOffset: p.lastOffset,
      lastEnqueuedOnUtc: new Date(p.lastTime.getTime()),
      isEmpty: p.events.length === 0,
    }
  }

  /** Every $cbs put-token so far, oldest first. */
  tokensSeen(): TokenSeen[] {
    return this.tokens.map((t) => ({...t}))
  }

  /** From now on, tokens of this identity (object id) are refused as the service refuses one without the Listen right. */
  refuseIdentity(oid: string): void {
    this.refusedIdentities.add(oid)
  }

  /** Every partition receiver attach so far, oldest first. */
  receiverAttaches(): ReceiverAttach[] {
    return this.attaches.map((a) => ({...a}))
  }

  /** Destroys every open socket (the clients see a dropped connection). */
  dropConnections(): void {
    // Destroying with an error makes the socket emit 'error', which is how rhea learns that the connection is
    // gone (a plain destroy() emits neither 'end' nor 'error', leaving rhea's heartbeat timer running).
    for (const socket of this.sockets) socket.destroy(new Error('connection dropped by the Event Hubs stand-in'))
  }

  /** Closes the listener and every connection. Afterwards nothing of the stand-in keeps the process alive. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.dropConnections()
    await closed
    for (const reader of [...this.readersBySender.values()]) this.forget(reader)
    this.openConnections.clear()
  }

  // ---- lookups ----------------------------------------------------------------------------------------

  private findHub(name: string): HubModel | undefined {
    return this.hubs.get(name.toLowerCase())
  }

  private hub(name: string): HubModel {
    const hub = this.findHub(name)
    if (!hub) throw new Error(`unknown hub '${name}'`)
    return hub
  }

  private partition(hub: string, partitionId: string): PartitionModel {
    const partition = this.hub(hub).partitions.get(String(partitionId))
    if (!partition) throw new Error(`unknown partition '${partitionId}' of hub '${hub}'`)
    return partition
  }

  // ---- AMQP wiring ------------------------------------------------------------------------------------

  private wire(): void {
    const c = this.container
    this.server.on('connection', (socket: Socket) => {
      this.counters.connections++
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
    c.on('connection_open', (context: EventContext) => {
      this.openConnections.add(context.connection)
      // Runs before rhea writes its answering open frame (it writes on the next tick).
      writeEveryField(context.connection)
    })
    c.on('disconnected', (context: EventContext) => this.connectionGone(context.connection))
    c.on('connection_close', (context: EventContext) => this.connectionGone(context.connection))
    c.on('connection_error', () => undefined)
    c.on('protocol_error', () => undefined)
    c.on('session_error', () => undefined)
    c.on('session_close', (context: EventContext) => {
      const session: Session | undefined = context.session
      for (const reader of [...this.readersBySender.values()]) {
        if (reader.sender.session === session) this.forget(reader)
      }
    })
    c.on('error', () => undefined)
    c.on('sender_open', (context: EventContext) => {
      const {sender} = context
      if (sender) this.onSenderOpen(sender)
    })
    c.on('receiver_open', (context: EventContext) => {
      const {receiver} = context
      if (receiver) this.onReceiverOpen(receiver)
    })
    c.on('sendable', (context: EventContext) => {
      const {sender} = context
      const reader = sender && this.readersBySender.get(sender)
      if (reader) this.pump(reader)
    })
    c.on('settled', (context: EventContext) => {
      // A settled delivery frees room in the session's outgoing window.
      const {sender} = context
      const reader = sender && this.readersBySender.get(sender)
      if (reader) this.pump(reader)
    })
    const linkGone = (context: EventContext) => {
      const {sender} = context
      const reader = sender && this.readersBySender.get(sender)
      if (reader) this.forget(reader)
    }
    c.on('sender_close', linkGone)
    c.on('sender_error', linkGone)
    c.on('receiver_close', () => undefined)
    c.on('receiver_error', () => undefined)
    c.on('message', (context: EventContext) => this.onMessage(context))
  }

  private connectionGone(connection: Connection): void {
    this.openConnections.delete(connection)
    for (const reader of [...this.readersBySender.values()]) {
      if (reader.sender.connection === connection) this.forget(reader)
    }
  }

  private forget(reader: Reader): void {
    reader.closed = true
    reader.partition.readers.delete(reader)
    this.readersBySender.delete(reader.sender)
  }

  /** Echoes the peer's source and target so that its link opens. */
  private echoTermini(link: Sender | Receiver): void {
    const source: unknown = link.source
    const target: unknown = link.target
    if (isRecord(source)) {
      const fields: Partial<Source> = {}
      const address = stringField(source, 'address')
      if (address !== undefined) fields.address = address
      if (isRecord(source.filter)) fields.filter = source.filter
      link.set_source(fields as Source)
    }
    if (isRecord(target)) {
      const fields: Partial<TerminusOptions> = {}
      const address = stringField(target, 'address')
      if (address !== undefined) fields.address = address
      link.set_target(fields as TerminusOptions)
    }
  }

  /** A link the peer receives on (we send). */
  private onSenderOpen(sender: Sender): void {
    this.echoTermini(sender)
    const address = stringField(sender.source, 'address') ?? ''
    if (address === CBS || address === MANAGEMENT) return
    const source: unknown = sender.source
    const properties: unknown = sender.properties
    const attach: ReceiverAttach = {
      address,
      filter: isRecord(source) && isRecord(source.filter) ? plainString(source.filter[SELECTOR_FILTER]) : undefined,
      ownerLevel: isRecord(properties) ? plainNumber(properties[EPOCH_PROPERTY]) : undefined,
      refused: undefined,
    }
    this.attaches.push(attach)
    try {
      this.openReader(sender, attach)
    } catch (error) {
      const refusal = error instanceof LinkRefusal ? error : new LinkRefusal('amqp:internal-error', String(error))
      attach.refused = refusal.condition
      sender.close({condition: refusal.condition, description: refusal.message})
    }
  }

  /** A link the peer sends on (we receive). */
  private onReceiverOpen(receiver: Receiver): void {
    this.echoTermini(receiver)
    const address = stringField(receiver.target, 'address') ?? ''
    if (address === CBS || address === MANAGEMENT) return
    receiver.close({
      condition: Conditions.notImplemented,
      description: `The Event Hubs stand-in implements the consumer side only; it cannot accept events sent to '${address}'.`,
    })
  }

  private openReader(sender: Sender, attach: ReceiverAttach): void {
    // The path, as the service takes it, with or without the namespace's URI before it (the Python SDK sends
    // amqps://NAMESPACE/HUB/ConsumerGroups/CG/Partitions/ID).
    const address = attach.address.replace(/^amqps?:\/\/[^/]+\//i, '')
    const match = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/i.exec(address)
    if (!match) throw new LinkRefusal(Conditions.notFound, `The messaging entity 'sb://${this.host}/${address}' could not be found.`)
    const [, hubName, groupName, partitionId] = match
    const hub = this.findHub(hubName)
    if (!hub) throw new LinkRefusal(Conditions.notFound, `The messaging entity 'sb://${this.host}/${hubName}' could not be found.`)
    const groupKey = groupName.toLowerCase()
    if (!hub.consumerGroups.has(groupKey)) {
      throw new LinkRefusal(
        Conditions.notFound,
        `The messaging entity 'sb://${this.host}/${hub.name}/ConsumerGroups/${groupName}' could not be found.`,
      )
    }
    const partition = hub.partitions.get(partitionId)
    if (!partition) {
      throw new LinkRefusal(
        Conditions.argumentOutOfRange,
        `The specified partition is invalid for an EventHub partition sender or receiver. It should be between 0 and ${hub.partitions.size - 1}.`,
      )
    }
    const properties: unknown = sender.properties
    const name = (isRecord(properties) ? plainString(properties[RECEIVER_NAME_PROPERTY]) : undefined) ?? sender.name
    const reader: Reader = {
      sender,
      hub,
      partition,
      consumerGroupKey: groupKey,
      name,
      epoch: attach.ownerLevel,
      nextSeq: partition.begin,
      startsAt: undefined,
      runtimeMetric: capabilityList(sender.desired_capabilities).includes(RUNTIME_METRIC_CAPABILITY),
      closed: false,
    }
    this.applyFilter(reader, attach.filter)
    this.enforceEpoch(reader)
    partition.readers.add(reader)
    this.readersBySender.set(sender, reader)
    this.counters.receiversOpened++
    this.pump(reader)
  }

  /** Sets where the reader starts, from the selector filter the client sent. */
  private applyFilter(reader: Reader, expression: string | undefined): void {
    const partition = reader.partition
    if (expression === undefined) return // no filter: from the first retained event
    const match = /^amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time)\s*(>=|>)\s*'([^']*)'$/.exec(expression.trim())
    if (!match) throw new LinkRefusal(Conditions.argumentError, `The selector filter '${expression}' is not supported.`)
    const [, kind, operator, value] = match
    const inclusive = operator === '>='
    if (kind === 'offset') {
      if (value === '-1') return
      if (value === '@latest') {
        reader.nextSeq = partition.last + 1
        return
      }
      if (!/^-?\d+$/.test(value)) throw new LinkRefusal(Conditions.argumentError, `The supplied offset '${value}' is invalid.`)
      const bound = BigInt(value)
      reader.startsAt = inclusive ? (e) => BigInt(e.offset) >= bound : (e) => BigInt(e.offset) > bound
      return
    }
    if (kind === 'sequence-number') {
      if (!/^-?\d+$/.test(value)) throw new LinkRefusal(Conditions.argumentError, `The supplied sequence number '${value}' is invalid.`)
      const n = Number(value)
      const first = inclusive ? n : n + 1
      if (first > partition.last + 1) {
        throw new LinkRefusal(
          Conditions.argumentOutOfRange,
          `The supplied sequence number '${value}' is invalid. The last sequence number in the system is '${partition.last}'`,
        )
      }
      reader.nextSeq = Math.max(first, partition.begin)
      return
    }
    // enqueued-time: always strictly after
    if (!/^-?\d+$/.test(value)) throw new LinkRefusal(Conditions.argumentError, `The supplied enqueued time '${value}' is invalid.`)
    const after = Number(value)
    reader.startsAt = (e) => e.enqueuedTimeUtc.getTime() > after
  }

  /** Owner-level (epoch) receivers are exclusive per partition and consumer group. */
  private enforceEpoch(reader: Reader): void {
    const others = [...reader.partition.readers].filter((r) => r.consumerGroupKey === reader.consumerGroupKey && !r.closed)
    const epochOthers = others.filter((r) => r.epoch !== undefined)
    if (reader.epoch === undefined) {
      const holder = epochOthers[0]
      if (holder) {
        throw new LinkRefusal(
          Conditions.linkStolen,
          `Receiver '${holder.name}' with epoch '${holder.epoch}' already exists. Cannot create a non-epoch receiver '${reader.name}'.`,
        )
      }
      return
    }
    const higher = epochOthers.find((r) => (r.epoch ?? 0) > (reader.epoch ?? 0))
    if (higher) {
      throw new LinkRefusal(
        Conditions.linkStolen,
        `Receiver '${higher.name}' with a higher epoch of '${higher.epoch}' already exists. Receiver '${reader.name}' with epoch ${reader.epoch} cannot be created. Make sure you are creating receiver with increasing epoch value to ensure connectivity, or ensure all old epoch receivers are closed or disconnected.`,
      )
    }
    for (const old of others) {
      this.forget(old)
      old.sender.close({
        condition: Conditions.linkStolen,
        description: `New receiver '${reader.name}' with higher epoch of '${reader.epoch}' is created hence current receiver '${old.name}' with epoch '${old.epoch ?? ''}' is getting disconnected. If you are recreating the receiver, make sure a higher epoch is used.`,
      })
    }
  }

  /** Sends the reader's next events while the link has credit. */
  private pump(reader: Reader): void {
    const {sender, partition} = reader
    while (!reader.closed && sender.is_open() && sender.sendable()) {
      if (reader.nextSeq < partition.begin) reader.nextSeq = partition.begin
      if (reader.nextSeq > partition.last) return
      const event = partition.events[reader.nextSeq - partition.begin]
      reader.nextSeq++
      if (reader.startsAt) {
        if (!reader.startsAt(event)) continue
        reader.startsAt = undefined
      }
      sender.send(this.toMessage(event, reader))
    }
  }

  private toMessage(event: StandinEvent, reader: Reader): Message {
    const message: Partial<Message> = {
      body: encodeBody(event.body),
      message_annotations: {
        'x-opt-sequence-number': types.wrap_long(event.sequenceNumber),
        'x-opt-offset': event.offset,
        'x-opt-enqueued-time': types.wrap_timestamp(event.enqueuedTimeUtc.getTime()),
        ...(event.partitionKey === undefined ? {} : {'x-opt-partition-key': event.partitionKey}),
      },
    }
    if (event.properties) message.application_properties = {...event.properties}
    if (reader.runtimeMetric) {
      const p = reader.partition
      message.delivery_annotations = {
        last_enqueued_sequence_number: types.wrap_long(p.last),
        last_enqueued_offset: p.lastOffset,
        last_enqueued_time_utc: types.wrap_timestamp(p.lastTime.getTime()),
        runtime_info_retrieval_time_utc: types.wrap_timestamp(Date.now()),
      }
    }
    return message as Message
  }

  // ---- $cbs and $management requests ------------------------------------------------------------------

  private onMessage(context: EventContext): void {
    const {receiver, connection} = context
    const request = context.message
    if (!receiver || !request) return
    const address = stringField(receiver.target, 'address')
    const properties: unknown = request.application_properties
    let reply: {status: number; description: string; condition?: string; body?: unknown}
    if (address === CBS) {
      this.counters.cbsRequests++
      reply = this.putToken(isRecord(properties) ? properties : {}, request.body, connection)
    } else if (address === MANAGEMENT) {
      this.counters.managementRequests++
      reply = this.management(isRecord(properties) ? properties : {})
    } else {
      return
    }
    const replyTo: unknown = request.reply_to
    // Without a reply-to (the Python SDK sends none), the service answers on the link that receives from the
    // node the request was sent to, in the request's session.
    const replySender =
      typeof replyTo === 'string'
        ? connection.find_sender((s: Sender) => s.name === replyTo || stringField(s.target, 'address') === replyTo)
        : (connection.find_sender((s: Sender) => s.session === receiver.session && stringField(s.source, 'address') === address) ??
          connection.find_sender((s: Sender) => stringField(s.source, 'address') === address))
    if (!replySender) return
    const applicationProperties: Record<string, unknown> = {
      'status-code': types.wrap_int(reply.status),
      'status-description': reply.description,
    }
    if (reply.condition) applicationProperties['error-condition'] = types.wrap_symbol(reply.condition)
    const messageId: unknown = request.message_id
    const response: Partial<Message> = {
      correlation_id: typeof messageId === 'string' || typeof messageId === 'number' || Buffer.isBuffer(messageId) ? messageId : undefined,
      application_properties: applicationProperties,
      body: reply.body ?? null,
    }
    replySender.send(response as Message)
  }

  /** A $cbs put-token: SAS tokens pass; an Entra ID token must be current, from Entra ID, and for Event Hubs or this namespace. */
  private putToken(
    properties: Record<string, unknown>,
    body: unknown,
    connection: Connection,
  ): {status: number; description: string; condition?: string} {
    const type = plainString(properties.type) ?? ''
    const name = plainString(properties.name) ?? ''
    const seen: TokenSeen = {type, name, status: 202}
    this.tokens.push(seen)
    const refuse = (description: string) => {
      seen.status = 401
      return {status: 401, condition: Conditions.unauthorized, description}
    }
    if (type !== 'jwt') return {status: 202, description: 'Accepted'}
    // The service tells a token by its content, not by the type it is sent as: the Python SDK (pyamqp) sends
    // the SAS token of a connection string as type `jwt`.
    const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : undefined
    if (text?.startsWith('SharedAccessSignature ')) return {status: 202, description: 'Accepted'}
    const claims = text === undefined ? undefined : readTokenClaims(text)
    if (!claims) return refuse('InvalidToken: The token is not a JSON Web Token.')
    seen.audience = typeof claims.aud === 'string' ? claims.aud : undefined
    seen.oid = typeof claims.oid === 'string' ? claims.oid : undefined
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return refuse('ExpiredToken: The token is expired.')
    if (typeof claims.iss !== 'string' || !claims.iss.startsWith('https://sts.windows.net/'))
      return refuse('InvalidIssuer: Token issuer is invalid.')
    // The namespace the client opened the connection for (its AMQP hostname), as a token may be scoped to it.
    const namespace = (connection as unknown as {remote?: {open?: {hostname?: string}}}).remote?.open?.hostname ?? this.host
    const audiences = [EVENT_HUBS_AUDIENCE, `https://${namespace}`].flatMap((a) => [a, `${a}/`])
    if (!seen.audience || !audiences.includes(seen.audience)) return refuse('InvalidAudience: The token audience is invalid.')
    if (seen.oid && this.refusedIdentities.has(seen.oid)) {
      return refuse(`Unauthorized access. 'Listen' claim(s) are required to perform this operation. Resource: '${name}'.`)
    }
    return {status: 202, description: 'Accepted'}
  }

  private management(properties: Record<string, unknown>): {status: number; description: string; condition?: string; body?: unknown} {
    const operation = plainString(properties.operation)
    const type = plainString(properties.type)
    const name = plainString(properties.name) ?? ''
    if (operation !== 'READ') {
      return {status: 400, condition: Conditions.notImplemented, description: `The operation '${operation ?? ''}' is not supported.`}
    }
    const hub = this.findHub(name)
    if (!hub) {
      return {
        status: 404,
        condition: Conditions.notFound,
        description: `The messaging entity 'sb://${this.host}/${name}' could not be found.`,
      }
    }
    if (type === 'com.microsoft:eventhub') {
      const ids = [...hub.partitions.keys()]
      return {
        status: 200,
        description: 'OK',
        body: {
          name: hub.name,
          type: 'com.microsoft:eventhub',
          created_at: types.wrap_timestamp(hub.createdAt.getTime()),
          partition_count: types.wrap_int(ids.length),
          partition_ids: types.wrap_array(ids, STR32, undefined),
        },
      }
    }
    if (type === 'com.microsoft:partition') {
      const partitionId = plainString(properties.partition) ?? ''
      const partition = hub.partitions.get(partitionId)
      if (!partition) {
        return {
          status: 400,
          condition: Conditions.argumentOutOfRange,
          description: `The specified partition is invalid for an EventHub partition sender or receiver. It should be between 0 and ${hub.partitions.size - 1}.`,
        }
      }
      const state = this.partitionState(hub.name, partition.id)
      return {
        status: 200,
        description: 'OK',
        body: {
          name: hub.name,
          type: 'com.microsoft:partition',
          partition: partition.id,
          begin_sequence_number: types.wrap_long(state.beginningSequenceNumber),
          last_enqueued_sequence_number: types.wrap_long(state.lastEnqueuedSequenceNumber),
          last_enqueued_offset: state.lastEnqueuedOffset,
          last_enqueued_time_utc: types.wrap_timestamp(state.lastEnqueuedOnUtc.getTime()),
          is_partition_empty: state.isEmpty,
        },
      }
    }
    return {status: 400, condition: Conditions.argumentError, description: `The management entity type '${type ?? ''}' is not supported.`}
  }
}

/** The number of fields of each AMQP performative (open 0x10 ... close 0x18), as the AMQP 1.0 specification lists them. */
const PERFORMATIVE_FIELDS: Record<number, number> = {0x10: 10, 0x11: 8, 0x12: 14, 0x13: 11, 0x14: 11, 0x15: 6, 0x16: 3, 0x17: 1, 0x18: 1}

/**
 * Makes a connection write every field of every performative, null ones included, as the service does. rhea
 * leaves out trailing null fields, which AMQP allows; but a client may index the fields of a performative
 * without checking how many came, or use a field without its default (the Python SDK's pyamqp does: it reads an
 * open frame's idle time-out, compares with a begin frame's handle-max, merges an attach frame's properties into its own, and
 * takes a transfer's payload from after its eleventh field).
 */
function writeEveryField(connection: Connection): void {
  type FrameWriter = (channel: number, frame: unknown, payload?: unknown) => void
  const target = connection as unknown as {_write_frame?: FrameWriter}
  const write = target._write_frame
  if (typeof write !== 'function') return
  target._write_frame = function (this: unknown, channel, frame, payload) {
    const performative = frame as {value?: unknown[]; constructor?: {descriptor?: {numeric?: number}}}
    const fields = PERFORMATIVE_FIELDS[performative.constructor?.descriptor?.numeric ?? -1]
    const value = performative.value
    if (fields !== undefined && Array.isArray(value)) {
      // A begin frame's handle-max is written as its default (a client may compare with it).
      if (performative.constructor?.descriptor?.numeric === 0x11 && value[4] === undefined) value[4] = types.wrap_uint(4294967295)
      // An attach frame's properties are written as an empty map when there are none (a client may merge them).
      if (performative.constructor?.descriptor?.numeric === 0x12 && value[13] === undefined) value[13] = types.wrap_map({})
      for (let i = 0; i < fields; i++) if (value[i] === undefined) value[i] = null
    }
    write.call(this, channel, frame, payload)
  }
}

function copyEvent(event: StandinEvent): StandinEvent {
  const copy: StandinEvent = {...event, enqueuedTimeUtc: new Date(event.enqueuedTimeUtc.getTime())}
  if (event.properties) copy.properties = {...event.properties}
  return copy
}

/** Encodes a body the way the client's producer does: a data section (JSON unless it is already bytes). */
function encodeBody(body: unknown): unknown {
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return rhea.message.data_section(Buffer.from(body))
  return rhea.message.data_section(Buffer.from(JSON.stringify(body === undefined ? null : body), 'utf8'))
}
