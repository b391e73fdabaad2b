/** A container read back, for tests that compare its state before and after a command. */
import type {ContainerClient} from '@azure/storage-blob'

/** Every blob: name, ETag and metadata. An unchanged ETag proves nothing was written. */
export type Snapshot = Map<string, {etag: string; metadata: Record<string, string>}>

export async function snapshot(client: ContainerClient): Promise<Snapshot> {
  const out: Snapshot = new Map()
  for await (const b of client.listBlobsFlat({includeMetadata: true}))
    out.set(b.name, {etag: b.properties.etag!, metadata: b.metadata ?? {}})
  return out
}

/** Every blob's metadata, by name. */
export async function metadataSnapshot(client: ContainerClient): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>()
  for await (const b of client.listBlobsFlat({includeMetadata: true})) out.set(b.name, b.metadata ?? {})
  return out
}
