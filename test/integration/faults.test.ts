/**
 * Faults between ehcp and storage: responses to writes lost after the server applied them, and connections
 * reset before requests arrive, during a reset of 256 partitions. Every blob ends wholly old or wholly new,
 * exactly as reported; a retried write that meets its own change is recognised; re-running converges.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import {runEhcp} from '../support/cli.js'
import {seededRandom, startFaultProxy} from '../support/fault-proxy.js'
import {freshContainer, type TestContainer} from '../support/services.js'

const NS = 'faults.servicebus.windows.net'
const PARTITIONS = 256

describe('faults during a reset of 256 partitions', function () {
  this.timeout(180_000)
  let c: TestContainer
  let store: BlobCheckpointStore

  before(async () => {
    c = await freshContainer()
    store = new BlobCheckpointStore(c.client)
    await Promise.all(
      ['$Default', 'source'].map(async (group) => {
        for (let p = 0; p < PARTITIONS; p++) {
          const sequenceNumber = (group === 'source' ? 5000 : 1000) + p
          await store.updateCheckpoint({
            fullyQualifiedNamespace: NS,
            eventHubName: 'orders',
            consumerGroup: group,
            partitionId: String(p),
            sequenceNumber,
            offset: String(sequenceNumber * 10),
          })
        }
      }),
    )
  })
  after(() => c.dispose())

  it('~10% of write responses lost and ~5% of requests reset: completes or reports exactly, never half-written, and converges', async () => {
    const random = seededRandom(20261126)
    const host = new URL(c.azurite.host)
    const proxy = await startFaultProxy(
      {host: host.hostname, port: Number(host.port)},
      {loseWriteResponse: () => random() < 0.1, resetBeforeRequest: () => random() < 0.05},
    )
    const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-faults-'))
    const reset = (endpoint: string) =>
      runEhcp(
        [
          'reset',
          '--eventhub',
          'orders',
          '--from-consumer-group',
          'source',
          '--emulator',
          '--container',
          c.name,
          '--yes',
          '--json',
          '--timeout',
          '10',
        ],
        {
          cwd,
          env: {EHCP_EMULATOR_BLOB_ENDPOINT: `${endpoint}/devstoreaccount1`},
        },
      )
    try {
      const r = await reset(`http://127.0.0.1:${proxy.port}`)
      expect(r.code, r.stdout.slice(0, 3000) + r.stderr).to.be.oneOf([0, 6])
      expect(proxy.lostResponses, 'the schedule lost some responses').to.be.greaterThan(5)
      const result = r.json<ChangeResult>()
      const stored = Object.fromEntries(
        (await store.listCheckpoints(NS, 'orders', '$Default')).map((cp) => [cp.partitionId, [cp.sequenceNumber, cp.offset]]),
      )
      for (const p of result.partitions) {
        const id = Number(p.partitionId)
        const fresh = [5000 + id, String((5000 + id) * 10)]
        const old = [1000 + id, String((1000 + id) * 10)]
        expect(JSON.stringify(stored[p.partitionId]), `partition ${id} is wholly old or new`).to.be.oneOf([
          JSON.stringify(fresh),
          JSON.stringify(old),
        ])
        if (p.status === 'updated') expect(stored[p.partitionId], `updated ${id}`).to.deep.equal(fresh)
        else expect(stored[p.partitionId], `${p.status} ${id}: ${p.reason}`).to.deep.equal(old)
      }
      // Lost responses were retried and recognised as ehcp's own writes, not reported as someone else's conflict.
      expect(result.partitions.filter((p) => p.status === 'conflict')).to.deep.equal([])
      expect(
        result.partitions.some((p) => p.reason?.startsWith('already held the new value') || p.reason?.startsWith('the response was lost')),
      ).to.equal(true)
      // Re-running the same command converges.
      const again = await reset(c.azurite.host)
      expect(again.code, again.stdout.slice(0, 2000)).to.equal(0)
      const final = await store.listCheckpoints(NS, 'orders', '$Default')
      expect(final.every((cp) => cp.sequenceNumber === 5000 + Number(cp.partitionId))).to.equal(true)
      expect(final).to.have.length(PARTITIONS)
    } finally {
      await proxy.close()
    }
  })
})
