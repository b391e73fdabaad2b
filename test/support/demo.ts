/**
 * `npm run demo`: starts Azurite and the Event Hubs stand-in in this process on free ports, seeds a
 * realistic scene with the official JS checkpoint store — two event hubs, several consumer groups, 8 and 32
 * partitions, live and expired owners, a lagging group, a partition behind retention, a Java-written group —
 * then runs the built `ehcp` against it and prints its real output.
 */
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {BlobServiceClient} from '@azure/storage-blob'

import {startAzurite} from '../../local/azurite.js'
import {EventHubsStandin, offsetOf} from '../../local/eventhubs-standin.js'
import {runEhcp} from './cli.js'
import {sleep} from './wait.js'

const NS = '127.0.0.1' // processors name the namespace after their connection's host
const CONTAINER = 'checkpoints'
const HOUR = 3_600_000

async function main() {
  const azurite = await startAzurite()
  const hubs = await EventHubsStandin.start()
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString()).getContainerClient(CONTAINER)
    await container.create()
    const store = new BlobCheckpointStore(container)
    const now = Date.now()

    // Event Hubs: three hours of traffic, one event a minute per partition.
    const spec = [
      ['orders', 8],
      ['telemetry', 32],
    ] as const
    for (const [hub, partitions] of spec) {
      hubs.createHub(hub, partitions, ['billing', 'analytics'])
      for (let p = 0; p < partitions; p++) {
        hubs.append(
          hub,
          String(p),
          Array.from({length: 180}, (_, i) => ({body: {hub, p, i}, enqueuedTimeUtc: new Date(now - 3 * HOUR + i * 60_000 + p * 1000)})),
        )
      }
    }

    const checkpointAt = async (hub: string, group: string, partition: number, sequenceNumber: number) => {
      await store.updateCheckpoint({
        fullyQualifiedNamespace: NS,
        eventHubName: hub,
        consumerGroup: group,
        partitionId: String(partition),
        sequenceNumber,
        offset: offsetOf(sequenceNumber),
      })
    }
    const claim = (hub: string, group: string, partitions: number[], ownerId: string) =>
      store.claimOwnership(
        partitions.map((p) => ({fullyQualifiedNamespace: NS, eventHubName: hub, consumerGroup: group, partitionId: String(p), ownerId})),
      )

    // orders/$Default: caught up, two live processors. orders/billing: two hours behind, its processor died.
    for (let p = 0; p < 8; p++) await checkpointAt('orders', '$Default', p, 179 - (p % 3))
    for (let p = 0; p < 8; p++) await checkpointAt('orders', 'billing', p, 55 + p)
    await claim('orders', 'billing', [0, 1, 2, 3, 4, 5, 6, 7], 'billing-worker-3c2e')
    // telemetry/$Default: 32 partitions; partition 7 was checkpointed before retention cut it; partition 31 never checkpointed.
    for (let p = 0; p < 31; p++) await checkpointAt('telemetry', '$Default', p, p === 7 ? 20 : 170)
    // ...and then telemetry partition 7 lost its oldest hour to retention.
    hubs.retain('telemetry', '7', 60)
    // A Java processor keeps the configured casing ("Analytics").
    for (let p = 0; p < 2; p++) {
      const e = hubs.events('orders', String(p))[150]!
      await container
        .getBlockBlobClient(`${NS}/orders/Analytics/checkpoint/${p}`)
        .upload('', 0, {metadata: {sequencenumber: String(e.sequenceNumber), offset: e.offset}})
    }
    // The billing worker stops heartbeating now; the others keep renewing (as running processors do).
    await sleep(6000)
    const heartbeat = async () => {
      await claim('orders', '$Default', [0, 1, 2, 3], 'orders-worker-7f9c')
      await claim('orders', '$Default', [4, 5, 6, 7], 'orders-worker-a21d')
      await claim(
        'telemetry',
        '$Default',
        Array.from({length: 32}, (_, p) => p),
        'telemetry-ingest-1',
      )
    }

    const connect = ['--emulator', '--container', CONTAINER, '--ownership-expiry', '5s']
    const env = {
      EHCP_EMULATOR_BLOB_ENDPOINT: azurite.blobEndpoint(),
      EVENTHUBS_CONNECTION_STRING: hubs.connectionString(),
      NO_COLOR: process.env.NO_COLOR,
    }
    const steps: Array<[string, string[]]> = [
      ['Every consumer group in the container, with lag', ['list', ...connect, '--lag']],
      [
        'The lagging group: two hours behind, its owner expired',
        ['show', ...connect, '--eventhub', 'orders', '--consumer-group', 'billing', '--lag'],
      ],
      ['32 partitions: one behind retention, one never checkpointed', ['show', ...connect, '--eventhub', 'telemetry', '--lag']],
      ['One partition in full', ['show', ...connect, '--eventhub', 'telemetry', '--partition', '7', '--lag']],
      [
        'Replay the last 30 minutes of billing (dry run: nothing is written)',
        ['reset', ...connect, '--eventhub', 'orders', '--consumer-group', 'billing', '--by-duration', '30m', '--dry-run'],
      ],
      [
        "Release the dead worker's partitions (dry run)",
        [
          'release-ownership',
          ...connect,
          '--eventhub',
          'orders',
          '--consumer-group',
          'billing',
          '--owner',
          'billing-worker-3c2e',
          '--dry-run',
        ],
      ],
    ]
    for (const [title, args] of steps) {
      await heartbeat()
      const shown = args.map((a) => (/\s|\$/.test(a) ? `'${a}'` : a)).join(' ')
      process.stdout.write(`\n=== ${title}\n$ ehcp ${shown}\n`)
      const r = await runEhcp(args, {env})
      process.stdout.write(r.stdout + r.stderr)
      if (r.code !== 0) throw new Error(`ehcp ${args[0]} exited ${r.code}`)
    }
  } finally {
    await hubs.stop()
    await azurite.stop()
  }
}

await main()
