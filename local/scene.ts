/**
 * The scene `npm run demo` and `npm run playground` run ehcp against: Azurite and the Event Hubs stand-in in this
 * process on free loopback ports, seeded with the official JS checkpoint store as a production namespace looks —
 * `contoso-orders.servicebus.windows.net` with two event hubs (8 and 32 partitions) and three hours of traffic,
 * consumer groups caught up, stalled and lagging, live and dead owners, a partition behind retention, a group a
 * Java processor wrote — and, for the playground, live traffic: events arriving every second and running
 * processors that checkpoint them and renew their ownership.
 *
 * ehcp reaches the stand-in through EHCP_EVENTHUBS_ENDPOINT: the connection goes to 127.0.0.1 while the namespace
 * stays the one the checkpoints carry, as a processor sees it.
 */
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {BlobServiceClient, type ContainerClient} from '@azure/storage-blob'

import {type Azurite, startAzurite} from './azurite.js'
import {EventHubsStandin, offsetOf} from './eventhubs-standin.js'

export const NAMESPACE = 'contoso-orders.servicebus.windows.net'
export const CONTAINER = 'checkpoints'
/** The worker that died ten minutes ago; its ownership is never renewed. */
export const DEAD_WORKER = 'billing-worker-3c2e'
/** Where retired SDKs left their lease blobs: an EventProcessorHost app, and a Functions app on the 4.x extension. */
export const EPH_CONTAINER = 'eph-leases'
export const FUNCTIONS_CONTAINER = 'azure-webjobs-eventhub'

const MINUTE = 60_000
/** Three hours of history, one event a minute per partition: sequence number i was enqueued HISTORY - i minutes ago. */
const HISTORY = 180
const HUBS = [
  {name: 'orders', partitions: 8},
  {name: 'telemetry', partitions: 32},
] as const
/** Live processors: who owns what, renewing every heartbeat. */
const LIVE_OWNERS: Array<{hub: string; group: string; owner: string; partitions: number[]}> = [
  {hub: 'orders', group: '$Default', owner: 'orders-worker-7f9c', partitions: [0, 1, 2, 3]},
  {hub: 'orders', group: '$Default', owner: 'orders-worker-a21d', partitions: [4, 5, 6, 7]},
  {hub: 'orders', group: 'fulfillment', owner: 'fulfillment-worker-1', partitions: [0, 1, 2, 3, 4, 5, 6, 7]},
  {hub: 'telemetry', group: '$Default', owner: 'telemetry-ingest-1', partitions: Array.from({length: 32}, (_, p) => p)},
]
/** telemetry/$Default partitions the live ingest leaves alone: 7 was checkpointed before retention cut it, 31 never was. */
const TELEMETRY_STUCK = new Set([7, 31])

export interface Scene {
  azurite: Azurite
  hubs: EventHubsStandin
  container: ContainerClient
  /**
   * The environment that points ehcp at the scene, with no flags: storage (the Azurite development account, whose
   * key is public), the container, and Event Hubs (the namespace as the checkpoints name it, reached on loopback).
   */
  env: Record<string, string>
  /** Renews the live processors' ownership, as running processors do about every 10 seconds. */
  heartbeat(): Promise<void>
  /**
   * One second of live traffic: an event on one orders partition and one telemetry partition (in turn), which the
   * running processors then checkpoint; fulfillment, a slow consumer, checkpoints one event in three.
   */
  tick(): Promise<void>
  stop(): Promise<void>
}

export async function startScene(): Promise<Scene> {
  const azurite = await startAzurite()
  let hubs: EventHubsStandin | undefined
  try {
    hubs = await EventHubsStandin.start()
    return await seed(azurite, hubs)
  } catch (error) {
    await hubs?.stop()
    await azurite.stop()
    throw error
  }
}

async function seed(azurite: Azurite, hubs: EventHubsStandin): Promise<Scene> {
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString()).getContainerClient(CONTAINER)
  await container.create()
  const store = new BlobCheckpointStore(container)
  const now = Date.now()

  for (const {name, partitions} of HUBS) {
    hubs.createHub(name, partitions, ['billing', 'fulfillment', 'analytics'])
    for (let p = 0; p < partitions; p++) {
      hubs.append(
        name,
        String(p),
        Array.from({length: HISTORY}, (_, i) => ({
          body: {hub: name, partition: p, i},
          enqueuedTimeUtc: new Date(now - (HISTORY - i) * MINUTE + p * 1000),
        })),
      )
    }
  }

  const checkpointAt = (hub: string, group: string, partition: number, sequenceNumber: number) =>
    store.updateCheckpoint({
      fullyQualifiedNamespace: NAMESPACE,
      eventHubName: hub,
      consumerGroup: group,
      partitionId: String(partition),
      sequenceNumber,
      offset: offsetOf(sequenceNumber),
    })
  const claim = (hub: string, group: string, partitions: number[], ownerId: string) =>
    store.claimOwnership(
      partitions.map((p) => ({
        fullyQualifiedNamespace: NAMESPACE,
        eventHubName: hub,
        consumerGroup: group,
        partitionId: String(p),
        ownerId,
      })),
    )
  const last = (hub: string, partition: number) => hubs.partitionState(hub, String(partition)).lastEnqueuedSequenceNumber

  // orders/$Default: caught up, two live processors.
  for (let p = 0; p < 8; p++) await checkpointAt('orders', '$Default', p, HISTORY - 1 - (p % 3))
  // orders/billing: its worker died ten minutes ago, after checkpointing events 10-11 minutes old.
  for (let p = 0; p < 8; p++) await checkpointAt('orders', 'billing', p, HISTORY - 10 - (p % 2))
  await claim('orders', 'billing', [0, 1, 2, 3, 4, 5, 6, 7], DEAD_WORKER)
  // orders/fulfillment: a slow consumer, two hours behind, its processor still running.
  const fulfillment = Array.from({length: 8}, (_, p) => HISTORY - 120 - p)
  for (let p = 0; p < 8; p++) await checkpointAt('orders', 'fulfillment', p, fulfillment[p]!)
  // telemetry/$Default: caught up but for partition 7 (checkpointed before retention cut its oldest hour) and 31 (never).
  for (let p = 0; p < 31; p++) await checkpointAt('telemetry', '$Default', p, p === 7 ? 20 : HISTORY - 5)
  hubs.retain('telemetry', '7', 60)
  // A Java processor keeps the configured casing ("Analytics") and writes its own metadata.
  for (let p = 0; p < 2; p++) {
    const e = hubs.events('orders', String(p))[150]!
    await container
      .getBlockBlobClient(`${NAMESPACE}/orders/Analytics/checkpoint/${p}`)
      .upload('', 0, {metadata: {sequencenumber: String(e.sequenceNumber), offset: e.offset}})
  }

  // Legacy: an EventProcessorHost (.NET) app, consumer group "reporting", stopped 40 minutes ago (partition 3 was
  // never checkpointed); and a Functions app on the 4.x extension, consumer group "alerts", a few events behind.
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString())
  const ephBody = (p: number, seq: number | null) =>
    seq === null
      ? `{"Offset":null,"SequenceNumber":0,"PartitionId":"${p}","Owner":"","Token":"","Epoch":0}`
      : `{"Offset":"${offsetOf(seq)}","SequenceNumber":${seq},"PartitionId":"${p}","Owner":"reporting-host-1","Token":"","Epoch":12}`
  for (const [name, prefix, behind] of [
    [EPH_CONTAINER, 'reporting/', 40],
    [FUNCTIONS_CONTAINER, `${NAMESPACE}/orders/alerts/`, 4],
  ] as const) {
    const legacy = service.getContainerClient(name)
    await legacy.create()
    for (let p = 0; p < 8; p++) {
      const body = ephBody(p, name === EPH_CONTAINER && p === 3 ? null : last('orders', p) - behind - p)
      await legacy.getBlockBlobClient(`${prefix}${p}`).upload(body, Buffer.byteLength(body))
    }
  }

  const heartbeat = async () => {
    for (const {hub, group, owner, partitions} of LIVE_OWNERS) await claim(hub, group, partitions, owner)
  }
  await heartbeat()

  let ticks = 0
  const tick = async () => {
    const k = ticks++
    const orders = k % 8
    const telemetry = k % 32
    hubs.append('orders', String(orders), [{body: {hub: 'orders', partition: orders, live: k}}])
    hubs.append('telemetry', String(telemetry), [{body: {hub: 'telemetry', partition: telemetry, live: k}}])
    // The running processors checkpoint what they have just processed.
    await checkpointAt('orders', '$Default', orders, last('orders', orders) - (orders % 3))
    if (!TELEMETRY_STUCK.has(telemetry)) await checkpointAt('telemetry', '$Default', telemetry, last('telemetry', telemetry) - 5)
    // fulfillment, the slow consumer, moves one event forward on every third tick: it falls further behind.
    if (k % 3 === 0) await checkpointAt('orders', 'fulfillment', orders, ++fulfillment[orders]!)
  }

  return {
    azurite,
    hubs,
    container,
    env: {
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString(),
      EHCP_CONTAINER: CONTAINER,
      EVENTHUBS_CONNECTION_STRING: `Endpoint=sb://${NAMESPACE}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=playground-key;UseDevelopmentEmulator=true`,
      EHCP_EVENTHUBS_ENDPOINT: `sb://${hubs.host}:${hubs.port}`,
    },
    heartbeat,
    tick,
    stop: async () => {
      await hubs.stop()
      await azurite.stop()
    },
  }
}
