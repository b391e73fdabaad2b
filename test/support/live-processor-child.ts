/**
 * One real processor (live-processors.ts) in a process of its own, to be killed without a chance to release its
 * claims (SIGKILL). Reads EHCP_CHILD_EVENTHUBS (a stand-in connection string without EntityPath),
 * EHCP_CHILD_STORAGE (a storage connection string), EHCP_CHILD_CONTAINER, EHCP_CHILD_HUB and EHCP_CHILD_EXPIRY_MS;
 * prints `owner <id>` once started, then runs until killed.
 */
import {BlobServiceClient} from '@azure/storage-blob'

import type {EventHubsStandin} from '../../local/eventhubs-standin.js'
import {startProcessor} from '../../local/live-processors.js'

const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

const eventHubs = env('EHCP_CHILD_EVENTHUBS')
// The processor needs only the stand-in's connection string for its hub.
const hubs = {connectionString: (hub?: string) => (hub ? `${eventHubs};EntityPath=${hub}` : eventHubs)} as unknown as EventHubsStandin
const container = BlobServiceClient.fromConnectionString(env('EHCP_CHILD_STORAGE')).getContainerClient(env('EHCP_CHILD_CONTAINER'))
const processor = startProcessor({
  hubs,
  hub: env('EHCP_CHILD_HUB'),
  consumerGroup: '$Default',
  container,
  strategy: 'balanced',
  intervalMs: 500,
  expiryMs: Number(env('EHCP_CHILD_EXPIRY_MS')),
})
process.stdout.write(`owner ${processor.ownerId}\n`)
setInterval(() => undefined, 60_000)
