/**
 * The Event Hubs connection dropped in the middle of `show --lag`: the command ends in bounded time, every
 * partition has a lag that was either read or is marked unknown with the reason, and the exit code says
 * which (0 when everything could be read after reconnecting, 7 when some could not).
 */
import {expect} from 'chai'

import type {GroupViewWithLag} from '../../src/eventhubs/lag.js'
import {runEhcp} from '../support/cli.js'
import {EventHubsStandin} from '../support/eventhubs-standin.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'

describe('Event Hubs faults', function () {
  this.timeout(90_000)
  let hubs: EventHubsStandin
  let c: TestContainer

  before(async () => {
    hubs = await EventHubsStandin.start()
    c = await freshContainer()
  })
  after(async () => {
    await hubs.stop()
    await c.dispose()
  })

  it('show --lag with the connection dropped midway: bounded time, every partition read or marked unknown', async () => {
    const PARTITIONS = 64
    hubs.createHub('dropped', PARTITIONS)
    for (let p = 0; p < PARTITIONS; p++) {
      const events = hubs.append('dropped', String(p), Array.from({length: 5}, (_, i) => ({body: i})))
      await putBlob(c.client, `127.0.0.1/dropped/$default/checkpoint/${p}`, {sequencenumber: '1', offset: events[1]!.offset})
    }
    const before = hubs.stats.receiversOpened
    let dropped = false
    const watcher = setInterval(() => {
      if (!dropped && hubs.stats.receiversOpened - before >= 8) {
        dropped = true
        hubs.dropConnections()
      }
    }, 5)
    try {
      const started = Date.now()
      const r = await runEhcp(['show', '--eventhub', 'dropped', '--lag', '--json', '--timeout', '5', ...c.args], {env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()}})
      const elapsed = Date.now() - started
      expect(dropped, 'the connection was dropped while ehcp was reading').to.equal(true)
      expect(elapsed, `exit ${r.code}; stdout ${r.stdout.length} bytes; stderr: ${r.stderr.slice(-500)}`).to.be.below(45_000)
      expect(r.code, r.stdout.slice(0, 1500) + r.stderr).to.be.oneOf([0, 7])
      const view = r.json<GroupViewWithLag>()
      expect(view.partitions).to.have.length(PARTITIONS)
      for (const p of view.partitions) {
        if (p.lag!.state === 'unknown') expect(p.lag!.reason, p.partitionId).to.be.a('string').that.is.not.empty
        else expect([p.lag!.state, p.lag!.events], p.partitionId).to.deep.equal(['ok', 3])
      }
      const unknown = view.partitions.filter((p) => p.lag!.state === 'unknown').length
      expect(r.code).to.equal(unknown > 0 ? 7 : 0)
    } finally {
      clearInterval(watcher)
    }
  })
})
