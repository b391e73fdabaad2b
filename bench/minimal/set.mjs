// The minimal `set` of one partition: read its checkpoint blob's properties (the metadata and the ETag), then one
// Set Blob Metadata conditional on that ETag, printed as JSON.
// Usage: node set.mjs CONTAINER_URL NAMESPACE EVENTHUB CONSUMER_GROUP PARTITION SEQUENCE_NUMBER OFFSET
import {ContainerClient} from '@azure/storage-blob'
import process from 'node:process'

const [url, namespace, eventHub, consumerGroup, partitionId, sequenceNumber, offset] = process.argv.slice(2)
const name = `${namespace}/${eventHub}/${consumerGroup}/checkpoint/${partitionId}`.toLowerCase()
const blob = new ContainerClient(url).getBlockBlobClient(name)
const {etag, metadata} = await blob.getProperties()
await blob.setMetadata({...metadata, sequencenumber: sequenceNumber, offset}, {conditions: {ifMatch: etag}})
const before = {sequenceNumber: Number(metadata.sequencenumber), offset: metadata.offset ?? null}
process.stdout.write(`${JSON.stringify({partitionId, before, after: {sequenceNumber: Number(sequenceNumber), offset}})}\n`)
