/**
 * Event Hubs faults mid-command. The connection dropped in the middle of `show --lag`: the command ends in
 * bounded time, every partition has a lag that was either read or is marked unknown with the reason, and the
 * exit code says which (0 when everything could be read after reconnecting, 7 when some could not). The
 * AMQP traffic black-holed by a TCP proxy midway (no reset, no answer, ever): `show --lag` and a lookup-based
 * `reset` exit 7 within a bound set by --timeout, and the reset writes nothing.
 */
import {expect} from 'chai'

import {EventHubsStandin} from '../../local/eventhubs-standin.js'
import type {GroupViewWithLag} from '../../src/eventhubs/lag.js'
import {runEhcp} from '../support/cli.js'
import {startFaultProxy} from '../support/fault-proxy.js'
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
    for (const [p, events] of hubs.createHubWithEvents('dropped', PARTITIONS, 5).entries())
      await putBlob(c.client, `127.0.0.1/dropped/$default/checkpoint/${p}`, {sequencenumber: '1', offset: events[1]!.offset})
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
      const r = await runEhcp(['show', '--eventhub', 'dropped', '--lag', '--json', '--timeout', '5', ...c.args], {
        env: {EVENTHUBS_CONNECTION_STRING: hubs.connectionString()},
      })
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

  describe('the AMQP connection black-holed midway', () => {
    const PARTITIONS = 64
    const T = 3
    // Each Event Hubs call is bounded by --timeout (one retry inside it); calls run concurrently, so the
    // silence costs about one timeout per stage (properties, then reads), plus start-up.
    const bound = (3 * T + 10) * 1000

    /** ehcp against the stand-in through a proxy that goes silent once 8 receivers have been opened. */
    async function throughSilence(hub: string, args: string[]) {
      const proxy = await startFaultProxy(
        {host: '127.0.0.1', port: Number(new URL(hubs.connectionString().split(';')[0]!.slice('Endpoint='.length)).port)},
        {},
      )
      const before = hubs.stats.receiversOpened
      const watcher = setInterval(() => hubs.stats.receiversOpened - before >= 8 && proxy.blackHoleAll(), 5)
      try {
        const started = Date.now()
        const connection = hubs.connectionString().replace(/sb:\/\/127\.0\.0\.1:\d+/, `sb://127.0.0.1:${proxy.port}`)
        const r = await runEhcp([...args, '--eventhub', hub, '--json', '--timeout', String(T), ...c.args], {
          env: {EVENTHUBS_CONNECTION_STRING: connection},
        })
        return {r, elapsed: Date.now() - started, blackHoled: proxy.blackHoled > 0}
      } finally {
        clearInterval(watcher)
        await proxy.close()
      }
    }

    async function seed(hub: string) {
      const appended = hubs.createHubWithEvents(hub, PARTITIONS, 5, (_, i) => ({
        body: i,
        enqueuedTimeUtc: new Date(Date.now() - (5 - i) * 60_000),
      }))
      for (const [p, events] of appended.entries())
        await putBlob(c.client, `127.0.0.1/${hub}/$default/checkpoint/${p}`, {sequencenumber: '1', offset: events[1]!.offset})
    }

    it('show --lag: exit 7 within the bound, every partition read or unknown with the reason', async () => {
      await seed('silent-lag')
      const {r, elapsed, blackHoled} = await throughSilence('silent-lag', ['show', '--lag'])
      expect(blackHoled, 'the proxy went silent while ehcp was reading').to.equal(true)
      expect(elapsed, r.stderr.slice(-500)).to.be.below(bound)
      expect(r.code, r.stdout.slice(0, 1500) + r.stderr).to.equal(7)
      const view = r.json<GroupViewWithLag>()
      expect(view.partitions).to.have.length(PARTITIONS)
      const unknown = view.partitions.filter((p) => p.lag!.state === 'unknown')
      expect(unknown.length, 'partitions left unread').to.be.greaterThan(0)
      for (const p of unknown) expect(p.lag!.reason, p.partitionId).to.match(/did not answer within 3s|could not be reached/)
      for (const p of view.partitions.filter((q) => q.lag!.state !== 'unknown'))
        expect([p.lag!.state, p.lag!.events], p.partitionId).to.deep.equal(['ok', 3])
    })

    it('reset --by-duration: exit 7 within the bound, nothing written', async () => {
      await seed('silent-reset')
      const etags = async () => {
        const tags: string[] = []
        for await (const b of c.client.listBlobsFlat({prefix: '127.0.0.1/silent-reset/'})) tags.push(`${b.name} ${b.properties.etag}`)
        return tags
      }
      const before = await etags()
      const {r, elapsed, blackHoled} = await throughSilence('silent-reset', ['reset', '--by-duration', '3m', '--yes', '--no-backup'])
      expect(blackHoled, 'the proxy went silent while ehcp was looking positions up').to.equal(true)
      expect(elapsed, r.stderr.slice(-500)).to.be.below(bound)
      expect(r.code, r.stdout.slice(0, 1500) + r.stderr).to.equal(7)
      expect(r.json<{error: {message: string}}>().error.message).to.match(/did not answer within 3s|could not be reached/)
      expect(await etags())
        .to.deep.equal(before)
        .and.have.length(PARTITIONS)
    })
  })
})
