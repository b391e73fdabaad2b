/**
 * The Event Hubs stand-in, exercised only through the real client (`EventHubConsumerClient` from
 * @azure/event-hubs) over AMQP on 127.0.0.1: management reads, every start position the client can send,
 * credit flow, errors as the client surfaces them, owner levels, dropped connections, and a load-balanced
 * processor checkpointing into the official blob checkpoint store (on the shared in-process Azurite).
 */
import {
  type EventPosition,
  type MessagingError,
  type PartitionContext,
  type ReceivedEventData,
  type Subscription,
  type SubscribeOptions,
  EventHubConsumerClient,
  earliestEventPosition,
  latestEventPosition,
} from '@azure/event-hubs'
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import {EventHubsStandin, offsetOf, type StandinEvent} from '../../local/eventhubs-standin.js'
import {freshContainer, type TestContainer} from '../support/services.js'
import {sleep, waitFor} from '../support/wait.js'

const HUB = 'orders'
const RETRY = {maxRetries: 0, timeoutInMs: 5_000}
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0)

interface Collected {
  events: ReceivedEventData[]
  batchSizes: number[]
  errors: MessagingError[]
  subscription: Subscription
}

function isMessagingError(error: unknown): error is MessagingError {
  return error instanceof Error && 'code' in error
}

describe('Event Hubs stand-in (through the real @azure/event-hubs client)', function () {
  this.timeout(20_000)
  let standin: EventHubsStandin
  let clients: EventHubConsumerClient[]
  let subscriptions: Subscription[]

  const client = (hub = HUB, consumerGroup = '$Default'): EventHubConsumerClient => {
    const c = new EventHubConsumerClient(consumerGroup, standin.connectionString(hub), {retryOptions: RETRY})
    clients.push(c)
    return c
  }

  const receive = (c: EventHubConsumerClient, partitionId: string, options: SubscribeOptions): Collected => {
    const events: ReceivedEventData[] = []
    const batchSizes: number[] = []
    const errors: MessagingError[] = []
    const subscription = c.subscribe(
      partitionId,
      {
        processEvents: async (batch) => {
          if (batch.length) batchSizes.push(batch.length)
          events.push(...batch)
        },
        processError: async (error) => {
          errors.push(isMessagingError(error) ? error : Object.assign(error, {code: 'unknown', retryable: false}))
        },
      },
      {maxBatchSize: 50, maxWaitTimeInSeconds: 0.2, ...options},
    )
    subscriptions.push(subscription)
    return {events, batchSizes, errors, subscription}
  }

  /** Appends `count` events one second apart from `start`, bodies {n: sequenceNumber}. */
  const seed = (partitionId: string, count: number, start = T0): StandinEvent[] => {
    const first = standin.partitionState(HUB, partitionId).lastEnqueuedSequenceNumber + 1
    return standin.append(
      HUB,
      partitionId,
      Array.from({length: count}, (_, i) => ({
        body: {n: first + i},
        enqueuedTimeUtc: new Date(start + (first + i) * 1000),
        properties: {kind: 'seed', i: first + i},
      })),
    )
  }

  const sequenceNumbers = (events: ReceivedEventData[]) => events.map((e) => e.sequenceNumber)

  const expectSameEvents = (received: ReceivedEventData[], expected: StandinEvent[]) => {
    expect(sequenceNumbers(received)).to.deep.equal(expected.map((e) => e.sequenceNumber))
    received.forEach((got, i) => {
      const want = expected[i]!
      expect(got.offset).to.be.a('string').and.equal(want.offset)
      expect(got.enqueuedTimeUtc).to.be.instanceOf(Date)
      expect(got.enqueuedTimeUtc.getTime()).to.equal(want.enqueuedTimeUtc.getTime())
      expect(got.body).to.deep.equal(want.body)
      if (want.properties) expect(got.properties).to.deep.equal(want.properties)
    })
  }

  /** Subscribes from `startPosition` and returns what arrives once `count` events (or an error) came in. */
  const receiveUntil = async (partitionId: string, startPosition: EventPosition, count: number, options: SubscribeOptions = {}) => {
    const got = receive(client(), partitionId, {startPosition, ...options})
    await waitFor(`${count} events`, () => got.events.length >= count || got.errors.length > 0)
    await sleep(150) // anything beyond `count` would show up now
    await got.subscription.close()
    expect(got.errors).to.deep.equal([])
    return got.events
  }

  beforeEach(async () => {
    clients = []
    subscriptions = []
    standin = await EventHubsStandin.start()
    standin.createHub(HUB, 3, ['Audit'])
  })

  afterEach(async () => {
    for (const s of subscriptions) if (s.isRunning) await s.close()
    for (const c of clients) await c.close()
    await standin.stop()
  })

  describe('management', () => {
    it('getEventHubProperties: name, partition ids, created time', async () => {
      const before = Date.now()
      const props = await client().getEventHubProperties()
      expect(props.name).to.equal(HUB)
      expect(props.partitionIds).to.deep.equal(['0', '1', '2'])
      expect(props.createdOn).to.be.instanceOf(Date)
      expect(props.createdOn.getTime()).to.be.at.most(before)
      expect(await clients[0]!.getPartitionIds()).to.deep.equal(['0', '1', '2'])
      expect(standin.stats.managementRequests).to.equal(2)
    })

    it('getPartitionProperties of a non-empty partition: exact numbers, offset string, Date', async () => {
      const events = seed('0', 5)
      const props = await client().getPartitionProperties('0')
      expect(props).to.deep.include({
        eventHubName: HUB,
        partitionId: '0',
        beginningSequenceNumber: 0,
        lastEnqueuedSequenceNumber: 4,
        lastEnqueuedOffset: offsetOf(4),
        isEmpty: false,
      })
      expect(props.lastEnqueuedOffset).to.equal('1256').and.not.equal(String(props.lastEnqueuedSequenceNumber))
      expect(props.lastEnqueuedOnUtc).to.be.instanceOf(Date)
      expect(props.lastEnqueuedOnUtc.getTime()).to.equal(events[4]!.enqueuedTimeUtc.getTime())
      expect(standin.partitionState(HUB, '0')).to.deep.equal({
        beginningSequenceNumber: 0,
        lastEnqueuedSequenceNumber: 4,
        lastEnqueuedOffset: '1256',
        lastEnqueuedOnUtc: events[4]!.enqueuedTimeUtc,
        isEmpty: false,
      })
    })

    it('getPartitionProperties of an empty partition: begin 0, last -1, offset "-1", epoch 0, empty', async () => {
      const props = await client().getPartitionProperties('1')
      expect(props).to.deep.include({beginningSequenceNumber: 0, lastEnqueuedSequenceNumber: -1, lastEnqueuedOffset: '-1', isEmpty: true})
      expect(props.lastEnqueuedOnUtc).to.be.instanceOf(Date)
      expect(props.lastEnqueuedOnUtc.getTime()).to.equal(0)
    })

    it('getPartitionProperties after retention cuts: begin moves; fully expired is empty but keeps last_*', async () => {
      const events = seed('2', 10)
      standin.retain(HUB, '2', 4)
      const c = client()
      expect(await c.getPartitionProperties('2')).to.deep.include({
        beginningSequenceNumber: 4,
        lastEnqueuedSequenceNumber: 9,
        lastEnqueuedOffset: offsetOf(9),
        isEmpty: false,
      })
      expect(standin.events(HUB, '2').map((e) => e.sequenceNumber)).to.deep.equal([4, 5, 6, 7, 8, 9])
      standin.retain(HUB, '2', 10)
      const expired = await c.getPartitionProperties('2')
      expect(expired).to.deep.include({
        beginningSequenceNumber: 10,
        lastEnqueuedSequenceNumber: 9,
        lastEnqueuedOffset: '1576',
        isEmpty: true,
      })
      expect(expired.lastEnqueuedOnUtc.getTime()).to.equal(events[9]!.enqueuedTimeUtc.getTime())
      // New events continue the numbering.
      expect(standin.append(HUB, '2', [{body: 'next'}]).map((e) => [e.sequenceNumber, e.offset])).to.deep.equal([[10, '1640']])
    })

    it('an unknown partition and an unknown hub surface as errors', async () => {
      const err = await client()
        .getPartitionProperties('9')
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(err).to.be.instanceOf(Error)
      expect(err).to.include({code: 'ArgumentOutOfRangeError', retryable: false})
      expect((err as Error).message).to.match(/partition is invalid/)

      const missing = client('nope')
      for (const call of [() => missing.getEventHubProperties(), () => missing.getPartitionProperties('0')]) {
        const e = await call().then(
          () => undefined,
          (error: unknown) => error,
        )
        expect(e).to.be.instanceOf(Error)
        expect(e).to.include({code: 'MessagingEntityNotFoundError'})
        expect((e as Error).message).to.equal("The messaging entity 'sb://127.0.0.1/nope' could not be found.")
      }
    })
  })

  describe('receiving', () => {
    it('the selector filters the client sends for each start position', async () => {
      const c = client()
      const positions: Array<[EventPosition, string]> = [
        [earliestEventPosition, "amqp.annotation.x-opt-offset > '-1'"],
        [latestEventPosition, "amqp.annotation.x-opt-offset > '@latest'"],
        [{offset: '1064'}, "amqp.annotation.x-opt-offset > '1064'"],
        [{offset: '1064', isInclusive: true}, "amqp.annotation.x-opt-offset >= '1064'"],
        [{sequenceNumber: -1}, "amqp.annotation.x-opt-sequence-number > '-1'"],
        [{sequenceNumber: 0, isInclusive: true}, "amqp.annotation.x-opt-sequence-number >= '0'"],
        [{enqueuedOn: new Date(T0)}, `amqp.annotation.x-opt-enqueued-time > '${T0}'`],
        [{enqueuedOn: new Date(T0), isInclusive: true}, `amqp.annotation.x-opt-enqueued-time > '${T0}'`],
      ]
      for (const [position, filter] of positions) {
        const got = receive(c, '2', {startPosition: position})
        await waitFor(filter, () => standin.stats.activeReceivers === 1)
        await got.subscription.close()
        await waitFor('the receiver to detach', () => standin.stats.activeReceivers === 0)
      }
      expect(standin.receiverAttaches()).to.deep.equal(
        positions.map(([, filter]) => ({
          address: `${HUB}/ConsumerGroups/$Default/Partitions/2`,
          filter,
          ownerLevel: undefined,
          refused: undefined,
        })),
      )
    })

    it('from earliest: every retained event with sequence number, offset, enqueued time, body, properties', async () => {
      const events = seed('0', 5)
      events.push(
        ...standin.append(HUB, '0', [{body: 'text'}, {body: Buffer.from([1, 2, 3])}, {body: null}, {body: [1, 'two', {three: 3}]}]),
      )
      const received = await receiveUntil('0', earliestEventPosition, events.length)
      expectSameEvents(received.slice(0, 5), events.slice(0, 5))
      expect(received.slice(5).map((e) => e.body)).to.deep.equal(['text', Buffer.from([1, 2, 3]), null, [1, 'two', {three: 3}]])
      expect(received[0]!.properties).to.deep.equal({kind: 'seed', i: 0})
      expect(received[5]!.properties).to.equal(undefined)
      expect(sequenceNumbers(received)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8])
    })

    it('from earliest after a retention cut: starts at the first retained event', async () => {
      const events = seed('0', 6)
      standin.retain(HUB, '0', 3)
      expectSameEvents(await receiveUntil('0', earliestEventPosition, 3), events.slice(3))
      // An explicit position older than the retained range behaves the same.
      expectSameEvents(await receiveUntil('0', {sequenceNumber: 1, isInclusive: true}, 3), events.slice(3))
      expectSameEvents(await receiveUntil('0', {offset: offsetOf(0)}, 3), events.slice(3))
    })

    it('from latest: only events appended after the receiver attached', async () => {
      seed('1', 3)
      const got = receive(client(), '1', {startPosition: latestEventPosition})
      await waitFor('the receiver', () => standin.stats.activeReceivers === 1)
      await sleep(100)
      expect(got.events).to.deep.equal([])
      const later = seed('1', 2)
      await waitFor('2 events', () => got.events.length >= 2)
      expectSameEvents(got.events, later)
    })

    it('from an offset, exclusive and inclusive (offsets compared as numbers)', async () => {
      const events = seed('0', 8)
      expectSameEvents(await receiveUntil('0', {offset: events[3]!.offset, isInclusive: false}, 4), events.slice(4))
      expectSameEvents(await receiveUntil('0', {offset: events[3]!.offset, isInclusive: true}, 5), events.slice(3))
      // An offset between two events' offsets selects the next one.
      expectSameEvents(await receiveUntil('0', {offset: String(Number(events[5]!.offset) + 1)}, 2), events.slice(6))
    })

    it('from a sequence number, inclusive and exclusive', async () => {
      const events = seed('2', 8)
      expectSameEvents(await receiveUntil('2', {sequenceNumber: 5, isInclusive: true}, 3), events.slice(5))
      expectSameEvents(await receiveUntil('2', {sequenceNumber: 5}, 2), events.slice(6))
    })

    it('from an enqueued time: strictly after it', async () => {
      const events = seed('1', 10)
      expectSameEvents(await receiveUntil('1', {enqueuedOn: events[4]!.enqueuedTimeUtc}, 5), events.slice(5))
      expectSameEvents(await receiveUntil('1', {enqueuedOn: new Date(events[4]!.enqueuedTimeUtc.getTime() - 1)}, 6), events.slice(4))
    })

    it('credit flow: 700 events in batches of at most 100, each exactly once and in order', async () => {
      standin.append(
        HUB,
        '0',
        Array.from({length: 700}, (_, i) => ({body: {i}})),
      )
      const got = receive(client(), '0', {startPosition: earliestEventPosition, maxBatchSize: 100})
      await waitFor('700 events', () => got.events.length >= 700)
      await sleep(150)
      const received = got.events
      expect(got.errors).to.deep.equal([])
      expect(got.batchSizes.every((n) => n <= 100)).to.equal(true)
      expect(got.batchSizes.length).to.be.at.least(7)
      expect(received).to.have.length(700)
      expect(sequenceNumbers(received)).to.deep.equal(Array.from({length: 700}, (_, i) => i))
      expect(received.map((e) => (e.body as {i: number}).i)).to.deep.equal(Array.from({length: 700}, (_, i) => i))
      expect(received.every((e, i) => e.offset === offsetOf(i))).to.equal(true)
    })

    it('events appended while a receiver is open are delivered as they arrive', async () => {
      const got = receive(client(), '2', {startPosition: earliestEventPosition, maxBatchSize: 10})
      const all: StandinEvent[] = []
      for (let round = 0; round < 5; round++) {
        all.push(...seed('2', 7))
        await waitFor(`round ${round}`, () => got.events.length === all.length)
      }
      expectSameEvents(got.events, all)
      expect(got.batchSizes.every((n) => n <= 10)).to.equal(true)
    })

    it("trackLastEnqueuedEventProperties: the partition's last event comes with every delivery", async () => {
      const events = seed('1', 4)
      const seen: Array<{sequenceNumber?: number; offset?: string; enqueuedOn?: Date; retrievedOn?: Date}> = []
      const subscription = client().subscribe(
        '1',
        {
          processEvents: async (batch, context) => {
            if (batch.length) seen.push({...context.lastEnqueuedEventProperties})
          },
          processError: async () => undefined,
        },
        {startPosition: earliestEventPosition, maxBatchSize: 2, maxWaitTimeInSeconds: 0.2, trackLastEnqueuedEventProperties: true},
      )
      subscriptions.push(subscription)
      await waitFor('a batch', () => seen.length > 0)
      expect(seen[0]).to.include({sequenceNumber: 3, offset: events[3]!.offset})
      expect(seen[0]!.enqueuedOn!.getTime()).to.equal(events[3]!.enqueuedTimeUtc.getTime())
      expect(seen[0]!.retrievedOn).to.be.instanceOf(Date)
    })

    it('a sequence number past the end of the partition: "supplied sequence number ... is invalid" via processError', async () => {
      seed('0', 10)
      const got = receive(client(), '0', {startPosition: {sequenceNumber: 50, isInclusive: true}})
      await waitFor('an error', () => got.errors.length > 0)
      const [error] = got.errors
      expect(error).to.include({code: 'ArgumentOutOfRangeError', retryable: false})
      expect(error!.message).to.equal("The supplied sequence number '50' is invalid. The last sequence number in the system is '9'")
      expect(got.events).to.deep.equal([])

      // Exclusive: n > last is beyond the end.
      const exclusive = receive(client(), '0', {startPosition: {sequenceNumber: 10}})
      await waitFor('an error', () => exclusive.errors.length > 0)
      expect(exclusive.errors[0]!.message).to.equal(
        "The supplied sequence number '10' is invalid. The last sequence number in the system is '9'",
      )

      // After the last event (> last, as a processor resuming sends) and last + 1 inclusive are valid: they wait for it.
      const afterLast = receive(client(), '0', {startPosition: {sequenceNumber: 9}})
      const next = receive(client(), '0', {startPosition: {sequenceNumber: 10, isInclusive: true}})
      await waitFor('the receivers', () => standin.stats.activeReceivers === 2)
      const [tenth] = standin.append(HUB, '0', [{body: 'ten'}])
      await waitFor('event 10', () => next.events.length === 1 && afterLast.events.length === 1)
      expectSameEvents(next.events, [tenth!])
      expectSameEvents(afterLast.events, [tenth!])
      expect(afterLast.errors).to.deep.equal([])
      expect(next.errors).to.deep.equal([])
    })

    it('an unknown consumer group or partition is refused (consumer groups match case-insensitively)', async () => {
      const ghost = receive(client(HUB, 'ghost'), '0', {startPosition: earliestEventPosition})
      await waitFor('an error', () => ghost.errors.length > 0)
      expect(ghost.errors[0]!.message).to.equal("The messaging entity 'sb://127.0.0.1/orders/ConsumerGroups/ghost' could not be found.")

      const wrongPartition = receive(client(), '7', {startPosition: earliestEventPosition})
      await waitFor('an error', () => wrongPartition.errors.length > 0)
      expect(wrongPartition.errors[0]).to.include({code: 'ArgumentOutOfRangeError'})

      const events = seed('0', 2)
      const audit = receive(client(HUB, 'audit'), '0', {startPosition: earliestEventPosition})
      await waitFor('2 events', () => audit.events.length === 2)
      expectSameEvents(audit.events, events)
      expect(audit.errors).to.deep.equal([])
    })

    it('a receiver with a higher owner level disconnects the current one (ReceiverDisconnectedError)', async () => {
      seed('0', 3)
      const first = receive(client(), '0', {startPosition: earliestEventPosition, ownerLevel: 1})
      await waitFor('3 events', () => first.events.length === 3)
      const second = receive(client(), '0', {startPosition: earliestEventPosition, ownerLevel: 2})
      await waitFor('the first to be disconnected', () => first.errors.length > 0)
      expect(first.errors[0]).to.include({code: 'ReceiverDisconnectedError'})
      await waitFor('3 events', () => second.events.length === 3)
      expect(second.errors).to.deep.equal([])
      expect(standin.stats.activeReceivers).to.equal(1)
    })

    it('after dropConnections the client reconnects and resumes after the last event it saw', async () => {
      const events = seed('1', 5)
      const got = receive(client(), '1', {startPosition: earliestEventPosition})
      await waitFor('5 events', () => got.events.length === 5)
      const opened = standin.stats.receiversOpened
      standin.dropConnections()
      events.push(...seed('1', 5))
      await waitFor('10 events', () => got.events.length >= 10, 10_000)
      await sleep(100)
      expectSameEvents(got.events, events)
      expect(standin.stats).to.include({connections: 2, openConnections: 1, activeReceivers: 1})
      expect(standin.stats.receiversOpened).to.be.greaterThan(opened)
    })

    it('leaves nothing attached once subscriptions and clients are closed', async () => {
      seed('0', 3)
      const c = client()
      const got = receive(c, '0', {startPosition: earliestEventPosition})
      await waitFor('3 events', () => got.events.length === 3)
      expect(standin.stats).to.include({activeReceivers: 1, openConnections: 1})
      await got.subscription.close()
      await waitFor('the receiver to detach', () => standin.stats.activeReceivers === 0)
      await c.close()
      await waitFor('the connection to close', () => standin.stats.openConnections === 0)
      expect(standin.stats.cbsRequests).to.be.at.least(1)
    })

    it('stop() with a client still connected drops it and forgets its receivers', async () => {
      seed('0', 2)
      const got = receive(client(), '0', {startPosition: earliestEventPosition})
      await waitFor('2 events', () => got.events.length === 2)
      await standin.stop()
      expect(standin.stats).to.include({openConnections: 0, activeReceivers: 0})
      // Let the client notice before it is closed: closing it while it is still processing the drop can hang
      // (a client-side race, seen with a bare script).
      await waitFor('the client to see the connection fail', () => got.errors.length > 0)
    })
  })

  describe('with the official blob checkpoint store', () => {
    let container: TestContainer | undefined

    afterEach(async () => {
      await container?.dispose()
      container = undefined
    })

    it('a greedy processor consumes 2 partitions and checkpoints each last event; a new one resumes after them', async function () {
      this.timeout(30_000)
      const hub = 'telemetry'
      const expected = standin.createHubWithEvents(
        hub,
        2,
        (p) => 25 + 10 * p,
        (p, i) => ({body: {p: String(p), i}}),
      )
      container = await freshContainer()
      const store = new BlobCheckpointStore(container.client)
      const processor = new EventHubConsumerClient('$Default', standin.connectionString(hub), store, {
        retryOptions: RETRY,
        loadBalancingOptions: {strategy: 'greedy', updateIntervalInMs: 500},
      })
      clients.push(processor)
      const seen = new Map<string, number[]>()
      const checkpointed = new Map<string, number>()
      const errors: unknown[] = []
      const subscription = processor.subscribe(
        {
          processEvents: async (events, context: PartitionContext) => {
            if (!events.length) return
            const list = seen.get(context.partitionId) ?? []
            list.push(...events.map((e) => e.sequenceNumber))
            seen.set(context.partitionId, list)
            const last = events[events.length - 1]!
            await context.updateCheckpoint(last)
            checkpointed.set(context.partitionId, last.sequenceNumber)
          },
          processError: async (error) => {
            errors.push(error)
          },
        },
        {startPosition: earliestEventPosition, maxBatchSize: 10, maxWaitTimeInSeconds: 0.2},
      )
      subscriptions.push(subscription)
      const done = () => expected.every((events, p) => checkpointed.get(String(p)) === events[events.length - 1]!.sequenceNumber)
      await waitFor('both partitions to be consumed and checkpointed', done, 20_000)
      await subscription.close()
      expect(errors).to.deep.equal([])
      expected.forEach((events, p) => expect(seen.get(String(p))).to.deep.equal(events.map((e) => e.sequenceNumber)))

      const checkpoints = await store.listCheckpoints('127.0.0.1', hub, '$Default')
      expect(checkpoints.map((c) => [c.partitionId, c.sequenceNumber, c.offset]).sort()).to.deep.equal([
        ['0', 24, offsetOf(24)],
        ['1', 34, offsetOf(34)],
      ])
      // On close the processor gives its partitions up (ownerId "").
      const ownership = await store.listOwnership('127.0.0.1', hub, '$Default')
      expect(ownership.map((o) => [o.partitionId, o.ownerId]).sort()).to.deep.equal([
        ['0', ''],
        ['1', ''],
      ])
      // Its receivers carried ownerLevel 0 (a checkpoint store was given).
      expect(
        standin
          .receiverAttaches()
          .map((a) => [a.address, a.filter, a.ownerLevel])
          .sort(),
      ).to.deep.equal([
        [`${hub}/ConsumerGroups/$Default/Partitions/0`, "amqp.annotation.x-opt-offset > '-1'", 0],
        [`${hub}/ConsumerGroups/$Default/Partitions/1`, "amqp.annotation.x-opt-offset > '-1'", 0],
      ])

      // A new processor resumes after the checkpoints: it attaches with `offset > checkpoint` and sees only new events.
      const [newer] = standin.append(hub, '0', [{body: 'after the checkpoint'}])
      const resumed: ReceivedEventData[] = []
      const again = new EventHubConsumerClient('$Default', standin.connectionString(hub), store, {
        retryOptions: RETRY,
        loadBalancingOptions: {strategy: 'greedy', updateIntervalInMs: 500},
      })
      clients.push(again)
      const second = again.subscribe(
        {
          processEvents: async (events) => {
            resumed.push(...events)
          },
          processError: async (error) => {
            errors.push(error)
          },
        },
        {startPosition: earliestEventPosition, maxBatchSize: 10, maxWaitTimeInSeconds: 0.2},
      )
      subscriptions.push(second)
      await waitFor('the new event', () => resumed.length >= 1 && standin.stats.activeReceivers === 2, 10_000)
      await sleep(300)
      await second.close()
      expect(errors).to.deep.equal([])
      expectSameEvents(resumed, [newer!])
      expect(
        standin
          .receiverAttaches()
          .slice(2)
          .map((a) => a.filter)
          .sort(),
      ).to.deep.equal([`amqp.annotation.x-opt-offset > '${offsetOf(24)}'`, `amqp.annotation.x-opt-offset > '${offsetOf(34)}'`])
    })
  })
})
