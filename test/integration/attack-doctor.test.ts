/**
 * `ehcp doctor` attacked as a hostile user would: durations too large to be numbers, fix commands pasted back into
 * a shell with the flags doctor was given, account settings that never answer, and a healthy idle group.
 * Each test is a break that was found and fixed.
 */
import {expect} from 'chai'

import {EventHubsStandin, offsetOf} from '../../local/eventhubs-standin.js'
import type {DoctorReport} from '../../src/doctor/diagnose.js'
import type {Finding} from '../../src/doctor/findings.js'
import {type CliResult, describeRun, runEhcp, runPrinted, scratchDir} from '../support/cli.js'
import {type FaultProxy, startFaultProxy} from '../support/fault-proxy.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {sleep} from '../support/wait.js'

describe('attack: doctor', function () {
  this.timeout(120_000)
  let c: TestContainer
  const env = (extra: Record<string, string> = {}) => ({EHCP_EMULATOR_BLOB_ENDPOINT: `${c.azurite.host}/devstoreaccount1`, ...extra})
  const doctor = (args: string[] = [], extra: Record<string, string> = {}) =>
    runEhcp(['doctor', '--emulator', '--container', c.name, '--json', ...args], {env: env(extra)})
  const reportOf = (r: CliResult) => {
    expect([0, 13], describeRun(r)).to.include(r.code)
    return r.json<DoctorReport>()
  }
  const find = (report: DoctorReport, code: string): Finding => {
    const f = report.findings.find((x) => x.code === code)
    expect(f, `${code} in ${JSON.stringify(report.findings.map((x) => x.code))}`).to.not.equal(undefined)
    return f!
  }

  beforeEach(async () => {
    c = await freshContainer()
  })
  afterEach(() => c.dispose())

  it('a duration too large to be a number is exit 2 naming the flag, never Infinity in the report or a fix', async () => {
    const huge = `${'9'.repeat(400)}s`
    await putBlob(c.client, 'contoso.servicebus.windows.net/orders/$default/checkpoint/0', {sequencenumber: '1', offset: '100'})
    for (const flag of ['--stale-after', '--ownership-expiry']) {
      const r = await doctor([flag, huge])
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stdout, flag).to.contain(flag)
      expect(r.stdout).to.not.contain('Infinity')
    }
  })

  describe('against the event hub', () => {
    let hubs: EventHubsStandin
    before(async () => {
      hubs = await EventHubsStandin.start()
    })
    after(() => hubs.stop())
    const withHubs = (): Record<string, string> => ({EVENTHUBS_CONNECTION_STRING: hubs.connectionString()})
    const fill = (hub: string, partitions: number, events: number) => {
      hubs.createHub(hub, partitions)
      for (let p = 0; p < partitions; p++)
        hubs.append(
          hub,
          String(p),
          Array.from({length: events}, (_, i) => ({body: i})),
        )
    }
    const group = (hub: string, name = '$default') => `127.0.0.1/${hub}/${name}`
    const checkpoint = (hub: string, p: number, seq: number, name?: string) =>
      putBlob(c.client, `${group(hub, name)}/checkpoint/${p}`, {sequencenumber: String(seq), offset: offsetOf(seq)})

    it('with --ownership-expiry under 10s, the reset fix it prints runs when pasted (a guarded change refuses that expiry)', async () => {
      fill('short-expiry', 2, 10)
      for (const p of [0, 1, 2]) await checkpoint('short-expiry', p, 5)
      const report = reportOf(await doctor(['--eventhub', 'short-expiry', '--ownership-expiry', '1s'], withHubs()))
      const missing = find(report, 'checkpoint-for-missing-partition')
      expect(missing.fix).to.contain('--partition 2 --delete')
      const r = await runPrinted(`${missing.fix!} --yes --no-backup --json`, {cwd: scratchDir(), env: env(withHubs())})
      expect(r.code, describeRun(r)).to.equal(0)
      expect(codesOf(reportOf(await doctor(['--eventhub', 'short-expiry'], withHubs())))).to.not.include('checkpoint-for-missing-partition')
    })

    it('a group caught up with the hub and with a live owner is not a stale group; one behind still is', async () => {
      fill('idle', 2, 10)
      for (const name of ['caught-up', 'behind']) {
        for (const p of [0, 1]) {
          await checkpoint('idle', p, name === 'behind' ? 4 : 9, name)
          await putBlob(c.client, `${group('idle', name)}/ownership/${p}`, {ownerid: `${name}-host`})
        }
      }
      await sleep(2500)
      // The owners renew their heartbeat; nothing new arrived, so nothing was checkpointed.
      for (const name of ['caught-up', 'behind'])
        for (const p of [0, 1]) await putBlob(c.client, `${group('idle', name)}/ownership/${p}`, {ownerid: `${name}-host`})
      const report = reportOf(await doctor(['--eventhub', 'idle', '--stale-after', '1s'], withHubs()))
      const stale = report.findings.filter((f) => f.code === 'stale-group').map((f) => f.group?.consumerGroup)
      expect(stale).to.deep.equal(['behind'])
    })
  })

  describe('account settings that never answer', () => {
    let proxy: FaultProxy | undefined
    afterEach(async () => {
      await proxy?.close()
      proxy = undefined
    })

    it('a settings read that times out says so, not "Cancelled", and the listing findings stand (exit 0)', async () => {
      await putBlob(c.client, 'contoso.servicebus.windows.net/orders/$default/checkpoint/0', {sequencenumber: '1', offset: '100'})
      const host = new URL(c.azurite.host)
      proxy = await startFaultProxy(
        {host: host.hostname, port: Number(host.port)},
        {blackHole: (r) => r.firstLine.includes('comp=properties') || r.firstLine.includes('include=versions')},
      )
      const r = await runEhcp(['doctor', '--emulator', '--container', c.name, '--json', '--timeout', '2'], {
        env: {EHCP_EMULATOR_BLOB_ENDPOINT: `http://127.0.0.1:${proxy.port}/devstoreaccount1`},
      })
      expect(r.code, describeRun(r)).to.equal(0)
      const report = r.json<DoctorReport>()
      find(report, 'writers')
      const unread = report.findings.filter((f) => f.code.endsWith('-not-readable'))
      expect(unread.length, JSON.stringify(report.findings)).to.equal(3)
      for (const f of unread) {
        expect(f.message).to.not.contain('Cancelled')
        expect(String(f.evidence.reason)).to.match(/did not answer within 2s/)
      }
      expect(proxy.blackHoled).to.be.at.least(3)
    })
  })
})

const codesOf = (report: DoctorReport) => report.findings.map((f) => f.code)
