/**
 * Lease blobs exactly as the retired SDKs write them (bodies byte for byte, OWNINGHOST metadata, real blob
 * leases held in Azurite), for the legacy-layout tests and the demo's legacy scene.
 */
import type {ContainerClient} from '@azure/storage-blob'

export interface LegacyBlob {
  name: string
  body: string
  metadata?: Record<string, string>
  /** Hold a real blob lease on it (a live host owns the partition), with this lease id. */
  leaseId?: string
}

export const NS = 'contoso.servicebus.windows.net'

const dotnet = (pid: string, offset: string | null, seq: number, owner = '', epoch = 0) =>
  `{"Offset":${offset === null ? 'null' : `"${offset}"`},"SequenceNumber":${seq},"PartitionId":"${pid}","Owner":"${owner}","Token":"${owner ? 'a1b2c3d4-0000-0000-0000-000000000000' : ''}","Epoch":${epoch}}`

/** One EPH (.NET) group under `$Default/`: partition 0 leased by host-a, 1 checkpointed and free, 2 fresh. */
export const EPH_DOTNET: LegacyBlob[] = [
  {
    name: '$Default/0',
    body: dotnet('0', '8591964920', 960180, 'host-a', 386),
    metadata: {OWNINGHOST: 'host-a'},
    leaseId: '11111111-1111-1111-1111-111111111111',
  },
  {name: '$Default/1', body: dotnet('1', '4096', 77, '', 12)},
  {name: '$Default/2', body: dotnet('2', null, 0)},
]

/** Java EPH (Gson: nulls omitted) under a configured prefix `app1/` and consumer group `billing`. */
export const EPH_JAVA: LegacyBlob[] = [
  {
    name: 'app1/billing/0',
    body: '{"offset":"8591964920","sequenceNumber":960180,"token":"t","epoch":386,"partitionId":"0","owner":"host-j"}',
  },
  {name: 'app1/billing/1', body: '{"sequenceNumber":0,"epoch":-1,"partitionId":"1","owner":""}'},
]

/** JS EPH, camelCase with every key. */
export const EPH_JS: LegacyBlob[] = [
  {name: 'jsgroup/0', body: '{"partitionId":"0","owner":"host-b","token":"t","epoch":1528209623048,"sequenceNumber":77,"offset":"4096"}'},
]

/** Python azure-eventhub 1.x: partitions at the container root (its own container, as the SDK defaults to). */
export const PYTHON_EPH: LegacyBlob[] = [
  {
    name: '0',
    body: '{"partition_id": "0", "sequence_number": 42, "owner": "host", "token": "t", "epoch": 3, "event_processor_context": null, "offset": "4096"}',
  },
  {
    name: '1',
    body: '{"partition_id": "1", "sequence_number": 7, "owner": "host", "token": "t", "epoch": 3, "event_processor_context": null, "offset": "512"}',
  },
]

const go = (pid: string, checkpoint: string) =>
  `{"partitionID":"${pid}","epoch":3,"owner":"name","checkpoint":${checkpoint},"state":"leased","token":"t"}`

/** Go v3 under the prefix `filebeat/`: a position, a never-checkpointed lease, and both sentinels. */
export const GO: LegacyBlob[] = [
  {name: 'filebeat/0', body: go('0', '{"offset":"12345","sequenceNumber":678,"enqueueTime":"2023-05-01T10:00:00.123Z"}')},
  {name: 'filebeat/1', body: go('1', 'null')},
  {name: 'filebeat/2', body: go('2', '{"offset":"-1","sequenceNumber":0,"enqueueTime":"0001-01-01T00:00:00Z"}')},
  {name: 'filebeat/3', body: go('3', '{"offset":"@latest","sequenceNumber":0,"enqueueTime":"0001-01-01T00:00:00Z"}')},
]

/** Dapr 1.6-1.9: `dapr-{hub}-{cg}-{pid}` at the root, Go bodies. */
export const DAPR: LegacyBlob[] = [
  {name: 'dapr-orders-$Default-0', body: go('0', '{"offset":"2048","sequenceNumber":20,"enqueueTime":"2024-01-01T00:00:00Z"}')},
  {name: 'dapr-orders-$Default-1', body: go('1', '{"offset":"4096","sequenceNumber":40,"enqueueTime":"2024-01-01T00:00:00Z"}')},
]

/** Functions extension 4.x in `azure-webjobs-eventhub`: escaped namespace and hub (capitals lower-cased). */
export const FUNCTIONS_V4: LegacyBlob[] = [
  {
    name: `${NS}/orders:20eu/$Default/0`,
    body: dotnet('0', '1024', 10, 'fn-host', 5),
    metadata: {OWNINGHOST: 'fn-host'},
    leaseId: '22222222-2222-2222-2222-222222222222',
  },
  {name: `${NS}/orders:20eu/$Default/1`, body: dotnet('1', '2048', 20, '', 5)},
]

/** Writes the blobs as their writers do (Put Blob with the body, then the lease when one is held). */
export async function writeLegacy(container: ContainerClient, blobs: LegacyBlob[]): Promise<void> {
  await Promise.all(
    blobs.map(async (b) => {
      const blob = container.getBlockBlobClient(b.name)
      await blob.upload(b.body, Buffer.byteLength(b.body), {metadata: b.metadata})
      if (b.leaseId) await blob.getBlobLeaseClient(b.leaseId).acquireLease(60)
    }),
  )
}
