// The minimal `list`: one flat listing of the whole container, with metadata, tallied per consumer group and
// printed as JSON.
// Usage: node list.mjs CONTAINER_URL
import {ContainerClient} from '@azure/storage-blob'
import process from 'node:process'

const groups = new Map()
for await (const blob of new ContainerClient(process.argv[2]).listBlobsFlat({includeMetadata: true})) {
  const [namespace, eventHub, consumerGroup, kind] = blob.name.split('/')
  const key = `${namespace}/${eventHub}/${consumerGroup}`
  const group = groups.get(key) ?? {namespace, eventHub, consumerGroup, checkpoints: 0, ownerships: 0}
  groups.set(key, group)
  if (kind === 'checkpoint') group.checkpoints++
  if (kind === 'ownership') group.ownerships++
}
process.stdout.write(`${JSON.stringify([...groups.values()])}\n`)
