// The minimal `show` of one fully named group: one flat listing of its prefix, with metadata, printed as JSON.
// Usage: node show.mjs CONTAINER_URL NAMESPACE EVENTHUB CONSUMER_GROUP
import {ContainerClient} from '@azure/storage-blob'
import process from 'node:process'

const [url, namespace, eventHub, consumerGroup] = process.argv.slice(2)
// The spelling the JS, Python and .NET checkpoint stores write: all lower case.
const prefix = `${namespace}/${eventHub}/${consumerGroup}/`.toLowerCase()
const partitions = new Map()
for await (const blob of new ContainerClient(url).listBlobsFlat({prefix, includeMetadata: true})) {
  const [kind, partitionId] = blob.name.slice(prefix.length).split('/')
  const partition = partitions.get(partitionId) ?? {partitionId}
  partitions.set(partitionId, partition)
  if (kind === 'checkpoint')
    partition.checkpoint = {sequenceNumber: Number(blob.metadata.sequencenumber), offset: blob.metadata.offset ?? null}
  if (kind === 'ownership') partition.ownership = {ownerId: blob.metadata.ownerid ?? '', lastModified: blob.properties.lastModified}
}
process.stdout.write(`${JSON.stringify({namespace, eventHub, consumerGroup, partitions: [...partitions.values()]})}\n`)
