"""The Python SDK's own checkpoint store (azure-eventhub's BlobCheckpointStore, Debian's python3-azure) reading
a consumer group's checkpoints, as a second real judge of what ehcp writes. Prints them as JSON, sorted by
partition: [{"partitionId", "sequenceNumber", "offset"}]."""
import json
import sys

from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore

connection_string, container, namespace, event_hub, consumer_group = sys.argv[1:6]
store = BlobCheckpointStore.from_connection_string(connection_string, container)
checkpoints = store.list_checkpoints(namespace, event_hub, consumer_group)
rows = [{"partitionId": c["partition_id"], "sequenceNumber": c["sequence_number"], "offset": c["offset"]} for c in checkpoints]
print(json.dumps(sorted(rows, key=lambda r: r["partitionId"])))
