// The minimal `show --lag` of one fully named group: one flat listing of its prefix, with metadata, then each
// listed partition's properties from Event Hubs (all at once, on one client), printed as JSON.
// Usage: node show-lag.mjs CONTAINER_URL EVENTHUBS_CONNECTION_STRING NAMESPACE EVENTHUB CONSUMER_GROUP
import {EventHubConsumerClient} from '@azure/event-hubs'
import {ContainerClient} from '@azure/storage-blob'
import process from 'node:process'

const [url, connectionString, namespace, eventHub, consumerGroup] = process.argv.slice(2)
const prefix = `${namespace}/${eventHub}/${consumerGroup}/checkpoint/`.toLowerCase()
const checkpoints = []
for await (const blob of new ContainerClient(url).listBlobsFlat({prefix, includeMetadata: true}))
  checkpoints.push({partitionId: blob.name.slice(prefix.length), sequenceNumber: Number(blob.metadata.sequencenumber)})
const client = new EventHubConsumerClient(consumerGroup, connectionString, eventHub)
const partitions = await Promise.all(
  checkpoints.map(async ({partitionId, sequenceNumber}) => {
    const {lastEnqueuedSequenceNumber} = await client.getPartitionProperties(partitionId)
    return {partitionId, sequenceNumber, lastEnqueuedSequenceNumber, lag: lastEnqueuedSequenceNumber - sequenceNumber}
  }),
)
await client.close()
process.stdout.write(`${JSON.stringify({namespace, eventHub, consumerGroup, partitions})}\n`)
