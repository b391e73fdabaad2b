"""A real processor of the Python SDK (azure-eventhub's EventHubConsumerClient with its BlobCheckpointStore, from
Debian's python3-azure, on Debian's /usr/bin/python3) for one event hub, consumer group and blob container. It reads
from the earliest event, checkpoints the last event of every batch, and prints one JSON line per thing it does:

  {"kind": "ready"}                                                   the client is built and receiving
  {"kind": "claim", "partitionId", "ownerId"}                         a partition was claimed (on_partition_initialize)
  {"kind": "batch", "partitionId", "sequenceNumbers": [...]}          a batch processed (and checkpointed)
  {"kind": "close", "partitionId", "reason": "OWNERSHIP_LOST"|...}    a partition closed
  {"kind": "error", "partitionId", "message"}                         an error the SDK handed to on_error
  {"kind": "stopped"}                                                 the client closed

It runs until its standard input closes (or reads a line "stop"), then closes the client, which abandons its claims.

The SDK always connects with TLS: it ignores UseDevelopmentEmulator=true, so the Event Hubs stand-in must be started
with TLS, and the certificate it presents is trusted through connection_verify (the CA file, argument 2).

Arguments: EVENTHUBS_CONNECTION_STRING CA_FILE HUB CONSUMER_GROUP STORAGE_CONNECTION_STRING CONTAINER
           LOAD_BALANCING_INTERVAL_S OWNERSHIP_EXPIRY_S
"""
import json
import sys
import threading

from azure.eventhub import EventHubConsumerClient
from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore

(
    eventhubs_connection,
    ca_file,
    hub,
    consumer_group,
    storage_connection,
    container,
    interval,
    expiry,
) = sys.argv[1:9]

lock = threading.Lock()


def say(record):
    with lock:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


store = BlobCheckpointStore.from_connection_string(storage_connection, container)
client = EventHubConsumerClient.from_connection_string(
    eventhubs_connection,
    consumer_group,
    eventhub_name=hub,
    checkpoint_store=store,
    connection_verify=ca_file,
    load_balancing_strategy="balanced",
    load_balancing_interval=float(interval),
    partition_ownership_expiration_interval=float(expiry),
    retry_total=2,
    retry_backoff_factor=0.2,
)


def owner_id():
    # The processor's id is what it writes as the owner of its claims; the SDK keeps it on its event processor.
    processors = list(getattr(client, "_event_processors", {}).values())
    return getattr(processors[0], "_id", None) if processors else None


def on_event_batch(context, events):
    if not events:
        return
    say({"kind": "batch", "partitionId": context.partition_id, "sequenceNumbers": [e.sequence_number for e in events]})
    context.update_checkpoint(events[-1])


def on_partition_initialize(context):
    say({"kind": "claim", "partitionId": context.partition_id, "ownerId": owner_id()})


def on_partition_close(context, reason):
    say({"kind": "close", "partitionId": context.partition_id, "reason": getattr(reason, "name", str(reason))})


def on_error(context, error):
    say({"kind": "error", "partitionId": context.partition_id if context else None, "message": f"{type(error).__name__}: {error}"})


def receive():
    try:
        client.receive_batch(
            on_event_batch,
            max_batch_size=10,
            max_wait_time=0.3,
            starting_position="-1",
            on_partition_initialize=on_partition_initialize,
            on_partition_close=on_partition_close,
            on_error=on_error,
        )
    except Exception as error:  # noqa: BLE001 - reported, then the process ends with an error
        say({"kind": "error", "partitionId": None, "message": f"{type(error).__name__}: {error}"})
        raise


worker = threading.Thread(target=receive, daemon=True)
worker.start()
say({"kind": "ready"})
for line in sys.stdin:
    if line.strip() == "stop":
        break
client.close()
worker.join(30)
say({"kind": "stopped"})
