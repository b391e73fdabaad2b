/**
 * `npm run playground` as a user meets it: started as a subprocess, it prints the exports to paste; pasted into a
 * shell, they point ehcp (no connection flags) at contoso-orders.servicebus.windows.net on loopback, where events
 * keep arriving and a processor keeps checkpointing; Ctrl-C stops it with exit 0 and closes its ports.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import type {DoctorReport} from '../../src/doctor/diagnose.js'
import type {GroupViewWithLag} from '../../src/eventhubs/lag.js'
import type {ContainerSummary} from '../../src/store/summary.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {sleep, waitFor} from '../support/wait.js'

const PLAYGROUND = fileURLToPath(new URL('../../local/playground.js', import.meta.url))
const NAMESPACE = 'contoso-orders.servicebus.windows.net'
const EXPORTED = ['AZURE_STORAGE_CONNECTION_STRING', 'EHCP_CONTAINER', 'EVENTHUBS_CONNECTION_STRING', 'EHCP_EVENTHUBS_ENDPOINT']

/** What a shell makes of the printed export lines: each variable's value, read back by bash itself. */
function pasteIntoShell(lines: string[]): Record<string, string> {
  const script = `${lines.join('\n')}\nprintf '%s\\0' ${EXPORTED.map((name) => `"$${name}"`).join(' ')}`
  const r = spawnSync('bash', ['-c', script], {encoding: 'utf8', env: {PATH: process.env.PATH}})
  expect(r.status, r.stderr).to.equal(0)
  const values = r.stdout.split('\0').slice(0, EXPORTED.length)
  return Object.fromEntries(EXPORTED.map((name, i) => [name, values[i]!]))
}

const portOf = (url: string) => Number(new URL(url.replace(/^sb:/, 'http:')).port)

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({host: '127.0.0.1', port})
    socket.once('connect', () => (socket.destroy(), resolve(false)))
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
  })
}

describe('the playground (npm run playground)', function () {
  this.timeout(240_000)
  const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-playground-'))
  const envFile = path.join(cwd, 'playground.env')
  let child: ChildProcess | undefined
  let stdout = ''
  let stderr = ''
  let exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>

  before(async () => {
    const started = spawn(process.execPath, [PLAYGROUND, '--save-env', envFile], {cwd, stdio: ['ignore', 'pipe', 'pipe']})
    child = started
    started.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    started.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    exited = new Promise((resolve) => started.on('exit', (code, signal) => resolve({code, signal})))
    await waitFor(
      'the playground to start',
      () => stdout.includes('Ctrl-C stops the playground') || started.exitCode !== null,
      180_000,
      100,
    )
    expect(started.exitCode, `the playground exited early:\n${stdout}\n${stderr}`).to.equal(null)
  })
  after(() => {
    // Only if a test failed before the one that stops it.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })

  let env: Record<string, string>

  it('prints the exports to paste, and writes them to the file it names', () => {
    const lines = stdout.split('\n').filter((line) => line.startsWith('export '))
    expect(lines.map((line) => line.slice('export '.length).split('=')[0])).to.deep.equal(EXPORTED)
    expect(stdout).to.include(`source ${envFile}`)
    expect(readFileSync(envFile, 'utf8')).to.include(lines.join('\n'))
    env = pasteIntoShell(lines)
    expect(env.EHCP_CONTAINER).to.equal('checkpoints')
    // The namespace as the checkpoints name it; only the endpoint address is the loopback stand-in.
    expect(env.EVENTHUBS_CONNECTION_STRING).to.match(new RegExp(`^Endpoint=sb://${NAMESPACE}/;`))
    expect(env.EVENTHUBS_CONNECTION_STRING).not.to.include('127.0.0.1')
    expect(env.EHCP_EVENTHUBS_ENDPOINT).to.match(/^sb:\/\/127\.0\.0\.1:\d+$/)
    expect(env.AZURE_STORAGE_CONNECTION_STRING).to.match(/BlobEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1;/)
  })

  it('ehcp list, with the exports alone: every group of the namespace', async () => {
    const r = await runEhcp(['list', '--json'], {env, cwd})
    expect(r.code, describeRun(r)).to.equal(0)
    const groups = r.json<ContainerSummary>().groups.map((g) => `${g.namespace}/${g.eventHub}/${g.consumerGroup}`)
    expect(groups).to.have.members([
      `${NAMESPACE}/orders/$default`,
      `${NAMESPACE}/orders/Analytics`,
      `${NAMESPACE}/orders/billing`,
      `${NAMESPACE}/orders/fulfillment`,
      `${NAMESPACE}/telemetry/$default`,
    ])
  })

  it('show --lag: events keep arriving and the running processor keeps checkpointing', async () => {
    const read = async () => {
      const r = await runEhcp(['show', '--eventhub', 'orders', '--lag', '--json'], {env, cwd})
      expect(r.code, describeRun(r)).to.equal(0)
      return r.json<GroupViewWithLag>()
    }
    const first = await read()
    expect(first.namespace).to.equal(NAMESPACE)
    expect(first.partitions).to.have.length(8)
    for (const p of first.partitions) expect(p.lag!.events, `partition ${p.partitionId}`).to.be.within(0, 3)
    const total = (view: GroupViewWithLag, pick: (p: GroupViewWithLag['partitions'][number]) => number | null | undefined) =>
      view.partitions.reduce((sum, p) => sum + pick(p)!, 0)
    const enqueued = (view: GroupViewWithLag) => total(view, (p) => p.lag!.lastEnqueuedSequenceNumber)
    const checkpointed = (view: GroupViewWithLag) => total(view, (p) => p.checkpoint!.sequenceNumber)
    // Events arrive every second (on one partition after another); a loaded machine may take a few reads to show it.
    let second = await read()
    for (let reads = 1; reads < 10 && !(enqueued(second) > enqueued(first) && checkpointed(second) > checkpointed(first)); reads++) {
      await sleep(1000)
      second = await read()
    }
    expect(enqueued(second)).to.be.greaterThan(enqueued(first))
    expect(checkpointed(second)).to.be.greaterThan(checkpointed(first))
  })

  it('doctor, with the exports alone: exit 13 for telemetry partition 7 behind retention, with its fix', async () => {
    const r = await runEhcp(['doctor', '--json'], {env, cwd})
    expect(r.code, describeRun(r)).to.equal(13)
    const report = r.json<DoctorReport>()
    expect(report.eventHubs.read).to.have.members([`${NAMESPACE}/orders`, `${NAMESPACE}/telemetry`])
    const behind = report.findings.filter((f) => f.code === 'checkpoint-behind-retention')
    expect(behind.map((f) => f.group?.eventHub)).to.deep.equal(['telemetry'])
    expect(behind[0]!.fix).to.equal(
      `ehcp reset --container checkpoints --namespace ${NAMESPACE} --eventhub telemetry --consumer-group '$default' --partition 7 --to-earliest`,
    )
  })

  it('a time reset --dry-run replays: billing stalled ten minutes ago, so the last 30 minutes lie behind it', async () => {
    const r = await runEhcp(
      ['reset', '--eventhub', 'orders', '--consumer-group', 'billing', '--by-duration', '30m', '--dry-run', '--json'],
      {env, cwd},
    )
    expect(r.code, describeRun(r)).to.equal(0)
    const plan = r.json<ChangeResult>()
    expect(plan.dryRun).to.equal(true)
    expect(plan.partitions).to.have.length(8)
    for (const p of plan.partitions) {
      const before = (p.before as {sequenceNumber: number}).sequenceNumber
      const after = (p.after as {sequenceNumber: number}).sequenceNumber
      expect(before - after, `partition ${p.partitionId}`).to.be.within(15, 25)
      expect(p.delta, `partition ${p.partitionId} replays`).to.equal(before - after)
    }
  })

  it('Ctrl-C stops it: exit 0, its ports closed, its file removed', async () => {
    const ports = [portOf(env.AZURE_STORAGE_CONNECTION_STRING.match(/BlobEndpoint=([^;]+)/)![1]!), portOf(env.EHCP_EVENTHUBS_ENDPOINT)]
    for (const port of ports) expect(await refused(port), `port ${port} open while running`).to.equal(false)
    child!.kill('SIGINT')
    expect(await exited, stderr).to.deep.equal({code: 0, signal: null})
    for (const port of ports) expect(await refused(port), `port ${port} after Ctrl-C`).to.equal(true)
    expect(existsSync(envFile)).to.equal(false)
    expect(stderr).to.equal('')
  })
})
