/**
 * A consumer group as a real processor leaves it: checkpoints and claims written through the official
 * `BlobCheckpointStore` (read it back with `metadataSnapshot` from snapshot.ts).
 */
import type {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'

/** Writes as a processor of `namespace`/`hub` does; event N's offset is N × 10. */
export function processorOf(store: BlobCheckpointStore, namespace: string, hub: string) {
  const at = (group: string, partitionId: string) => ({
    fullyQualifiedNamespace: namespace,
    eventHubName: hub,
    consumerGroup: group,
    partitionId,
  })
  const checkpoint = (group: string, p: number, sequenceNumber: number) =>
    store.updateCheckpoint({...at(group, String(p)), sequenceNumber, offset: String(sequenceNumber * 10)})
  return {
    /** The blob name the JS, .NET, Python and Go stores use (lower-cased group). */
    checkpointName: (group: string, p: number) => `${namespace}/${hub}/${group.toLowerCase()}/checkpoint/${p}`,
    ownershipName: (group: string, p: number) => `${namespace}/${hub}/${group.toLowerCase()}/ownership/${p}`,
    checkpoint,
    /** Partitions 0..n-1 checkpointed at base + p. */
    seed: async (group: string, partitions: number, base: number) => {
      for (let p = 0; p < partitions; p++) await checkpoint(group, p, base + p)
    },
    claim: (group: string, p: number, ownerId: string) => store.claimOwnership([{...at(group, String(p)), ownerId}]),
  }
}
