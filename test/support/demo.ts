/**
 * `npm run demo`: starts Azurite in this process on a free port, seeds a realistic checkpoint store with the
 * official JS checkpoint store (two hubs, several consumer groups, live, expired and released owners, one
 * group written by a Java processor with its own casing), then runs the built `ehcp` against it and prints
 * the real output.
 */
import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {BlobServiceClient} from '@azure/storage-blob'

import {startAzurite} from './azurite.js'
import {runEhcp} from './cli.js'

const NS = 'contoso-prod.servicebus.windows.net'
const CONTAINER = 'checkpoints'

async function main() {
  const azurite = await startAzurite()
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString()).getContainerClient(CONTAINER)
    await container.create()
    const store = new BlobCheckpointStore(container)
    const seed = async (hub: string, group: string, partitions: number, base: number) => {
      for (let p = 0; p < partitions; p++) {
        const sequenceNumber = base + p * 37
        await store.updateCheckpoint({fullyQualifiedNamespace: NS, eventHubName: hub, consumerGroup: group, partitionId: String(p), sequenceNumber, offset: String(sequenceNumber * 512)})
      }
    }
    const claim = (hub: string, group: string, partitionIds: number[], ownerId: string) =>
      store.claimOwnership(partitionIds.map((p) => ({fullyQualifiedNamespace: NS, eventHubName: hub, consumerGroup: group, partitionId: String(p), ownerId})))

    await seed('orders', '$Default', 8, 120_000)
    await seed('orders', 'billing', 8, 95_000)
    await seed('telemetry', '$Default', 4, 5_000_000)
    await claim('orders', '$Default', [0, 1, 2, 3], 'orders-worker-7f9c')
    await claim('orders', '$Default', [4, 5, 6, 7], 'orders-worker-a21d')
    await claim('telemetry', '$Default', [0, 1, 2, 3], 'telemetry-ingest-1')
    // billing: its processor shut down cleanly and gave its partitions up (ownerid "").
    const billing = await claim('orders', 'billing', [0, 1], 'billing-3c2e')
    await store.claimOwnership(billing.map((o) => ({...o, ownerId: ''})))
    // A Java processor keeps "$Default"-style casing and, in an old version, mixed-case keys.
    await container.getBlockBlobClient(`${NS}/orders/Analytics/checkpoint/0`).upload('', 0, {metadata: {sequencenumber: '118000', offset: '60416000'}})
    await container.getBlockBlobClient(`${NS}/orders/Analytics/checkpoint/1`).upload('', 0, {metadata: {SequenceNumber: '118050', Offset: '60441600'}})
    // Someone left a backup file under the checkpoint prefix: SDK readers may trip on it.
    await container.getBlockBlobClient(`${NS}/orders/billing/checkpoint/backup.json`).upload('{}', 2)

    const connect = ['--emulator', '--container', CONTAINER, '--ownership-expiry', '30s']
    const env = {EHCP_EMULATOR_BLOB_ENDPOINT: azurite.blobEndpoint(), NO_COLOR: process.env.NO_COLOR}
    const steps: Array<[string, string[]]> = [
      ['Every consumer group in the container', ['list', ...connect]],
      ['One consumer group, partition by partition', ['show', ...connect, '--eventhub', 'orders']],
      ['The billing group: released owners and a foreign blob', ['show', ...connect, '--eventhub', 'orders', '--consumer-group', 'billing']],
      ['One partition in full', ['show', ...connect, '--eventhub', 'orders', '--consumer-group', 'analytics', '--partition', '1']],
      ['The same group as JSON, for scripts (first lines)', ['show', ...connect, '--eventhub', 'orders', '--consumer-group', 'analytics', '--json']],
    ]
    for (const [title, args] of steps) {
      const shown = args.map((a) => (/\s|\$/.test(a) ? `'${a}'` : a)).join(' ')
      process.stdout.write(`\n=== ${title}\n$ ehcp ${shown}\n`)
      const r = await runEhcp(args, {env})
      const out = args.includes('--json') ? r.stdout.split('\n').slice(0, 24).join('\n') + '\n  ...\n' : r.stdout
      process.stdout.write(out + r.stderr)
      if (r.code !== 0) throw new Error(`ehcp ${args[0]} exited ${r.code}`)
    }
    process.stdout.write('\n(Lag, time-based resets and the Event Hubs stand-in join this demo with the Event Hubs issue.)\n')
  } finally {
    await azurite.stop()
  }
}

await main()
