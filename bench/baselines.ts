/**
 * The baselines ehcp is measured against, each run as a process of its own (like ehcp) with
 * `node dist/bench/baselines.js <name> ...`. Minimal on purpose: what a throwaway script would do.
 */
const [name, ...args] = process.argv.slice(2)

async function main() {
  switch (name) {
    case 'list-prefix': {
      // Import, list the prefix once with metadata, count.
      const {ContainerClient} = await import('@azure/storage-blob')
      const [url, prefix = ''] = args
      let n = 0
      for await (const blob of new ContainerClient(url!).listBlobsFlat({prefix, includeMetadata: true})) if (blob.name) n++
      process.stdout.write(`${n}\n`)
      return
    }
    case 'update-checkpoints': {
      // The official store, one updateCheckpoint per partition in turn.
      const {ContainerClient} = await import('@azure/storage-blob')
      const {BlobCheckpointStore} = await import('@azure/eventhubs-checkpointstore-blob')
      const [url, namespace, hub, group, file] = args
      const {readFileSync} = await import('node:fs')
      const view = JSON.parse(readFileSync(file!, 'utf8')) as {
        partitions: Array<{partitionId: string; checkpoint: {sequenceNumber: number; offset: string}}>
      }
      const store = new BlobCheckpointStore(new ContainerClient(url!))
      for (const p of view.partitions) {
        await store.updateCheckpoint({
          fullyQualifiedNamespace: namespace!,
          eventHubName: hub!,
          consumerGroup: group!,
          partitionId: p.partitionId,
          ...p.checkpoint,
        })
      }
      return
    }
    case 'set-metadata': {
      // Raw Set Blob Metadata calls at a given concurrency (no listing, no plan, no backup).
      const {ContainerClient} = await import('@azure/storage-blob')
      const [url, prefix, count, concurrency, seq] = args
      const container = new ContainerClient(url!)
      let next = 0
      const worker = async () => {
        while (next < Number(count)) {
          const p = next++
          await container.getBlockBlobClient(`${prefix}${p}`).setMetadata({sequencenumber: seq!, offset: String(Number(seq) * 10)})
        }
      }
      await Promise.all(Array.from({length: Number(concurrency)}, worker))
      return
    }
    case 'partition-properties': {
      // The official Event Hubs client, getPartitionProperties per partition in turn.
      const {EventHubConsumerClient} = await import('@azure/event-hubs')
      const [connectionString, hub] = args
      const client = new EventHubConsumerClient('$Default', connectionString!, hub!)
      let sum = 0
      for (const id of await client.getPartitionIds()) sum += (await client.getPartitionProperties(id)).lastEnqueuedSequenceNumber
      await client.close()
      process.stdout.write(`${sum}\n`)
      return
    }
    default:
      throw new Error(`unknown baseline ${name}`)
  }
}

await main()
