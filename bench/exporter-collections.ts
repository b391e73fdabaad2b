/**
 * The exporter's collections back to back, in a process of its own, as `ehcp exporter` makes them (a Sampler
 * over the scope, one Event Hubs connection per hub per collection, prom-client's registry rendered after each):
 * `node dist/bench/exporter-collections.js <container-url> <eventhubs-connection-string> <hub> <count>...`.
 * Prints one JSON line: the resident set size (and heap) after each count of collections, each after a GC.
 */
import {Collector, samplerReading} from '../src/exporter/collector.js'
import {ExporterMetrics, loadPromClient} from '../src/exporter/metrics.js'
import {EventHubReader, resolveEventHubsAccess} from '../src/eventhubs/reader.js'
import {openContainer, resolveStorageTarget} from '../src/store/connect.js'
import {CheckpointStore} from '../src/store/store.js'

const [url, connectionString, hub, ...counts] = process.argv.slice(2)
const marks = counts.map(Number)

async function main() {
  const timeoutMs = 30_000
  const opened = await openContainer(resolveStorageTarget({containerUrl: url}, {}), {timeoutMs, maxTries: 3})
  const store = new CheckpointStore(opened.name, opened.client, {ownershipExpiryMs: 120_000, timeoutMs})
  const collector = new Collector({
    read: samplerReading({
      store,
      filter: {eventHub: hub},
      oneGroup: false,
      timeoutMs: 2 * timeoutMs,
      withHub: async (namespace, eventHub, fn) => {
        const reader = await EventHubReader.open(resolveEventHubsAccess(connectionString, {}, namespace, 'exporter'), eventHub, {
          consumerGroup: '$Default',
          timeoutMs,
        })
        try {
          return await fn(reader)
        } finally {
          await reader.close()
        }
      },
    }),
    metrics: new ExporterMetrics(await loadPromClient()),
    samples: 10,
    allowedLag: 0,
  })
  await collector.start()
  const gc = (globalThis as {gc?: () => void}).gc
  const at: Array<{collections: number; rssMiB: number; heapMiB: number}> = []
  let done = 0
  for (const mark of marks) {
    while (done < mark) {
      const error = await collector.collect(new AbortController().signal)
      if (error) throw error
      done++
    }
    gc?.()
    const {rss, heapUsed} = process.memoryUsage()
    at.push({collections: done, rssMiB: rss / 2 ** 20, heapMiB: heapUsed / 2 ** 20})
  }
  process.stdout.write(`${JSON.stringify({at, exposition: collector.exposition.text.length})}\n`)
}

await main()
process.exit(0)
