// The minimal `show --lag` of one fully named group, with the same answer as ehcp's: one flat listing of its
// checkpoints, each listed partition's properties from Event Hubs (all at once, on one client), and for each
// partition behind, the enqueued time of the next event it will read (its time lag), printed as JSON.
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

/** The enqueued time of the first event after `sequenceNumber`, read with one receiver. */
function nextEventTime(partitionId, sequenceNumber) {
  return new Promise((resolve, reject) => {
    const subscription = client.subscribe(
      partitionId,
      {
        processEvents: async (events) => {
          if (events.length === 0) return
          resolve(events[0].enqueuedTimeUtc)
          await subscription.close()
        },
        processError: async (error) => reject(error),
      },
      {startPosition: {sequenceNumber, isInclusive: false}, maxBatchSize: 1, maxWaitTimeInSeconds: 5},
    )
  })
}

const now = Date.now()
const partitions = await Promise.all(
  checkpoints.map(async ({partitionId, sequenceNumber}) => {
    const {lastEnqueuedSequenceNumber} = await client.getPartitionProperties(partitionId)
    const lag = lastEnqueuedSequenceNumber - sequenceNumber
    const next = lag > 0 ? await nextEventTime(partitionId, sequenceNumber) : null
    return {partitionId, sequenceNumber, lastEnqueuedSequenceNumber, lag, timeLagSeconds: next ? (now - next.getTime()) / 1000 : null}
  }),
)
await client.close()
process.stdout.write(`${JSON.stringify({namespace, eventHub, consumerGroup, partitions})}\n`)
