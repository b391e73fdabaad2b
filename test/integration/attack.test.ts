/**
 * Hostile-operator regressions for the undo, new groups, signals and exit codes (the h-attack review).
 * Each test states the promise it checks (README "Changing things safely", `reset --from-file`, "Exit codes")
 * and fails on the commit it was written against.
 */
import {execFile, spawn} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import {expect} from 'chai'

import type {ChangeResult} from '../../src/change/execute.js'
import {BIN, type EmulatorRunner, ehcpOn, runPrinted} from '../support/cli.js'
import {processorOf} from '../support/processor.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {metadataSnapshot} from '../support/snapshot.js'
import {sleep} from '../support/wait.js'

const execFileAsync = promisify(execFile)
const NS = 'attack.servicebus.windows.net'
const HUB = 'orders'

describe('attack: the undo, new groups, signals and exit codes under a hostile operator', function () {
  this.timeout(120_000)
  let c: TestContainer
  let store: BlobCheckpointStore
  let cwd: string
  let processor: ReturnType<typeof processorOf>
  const checkpoint = (group: string, p: number) => processor.checkpointName(group, p)
  const ownership = (group: string, p: number) => processor.ownershipName(group, p)
  const seed = (group: string, partitions: number, base: number) => processor.seed(group, partitions, base)
  const processorCheckpoint = (group: string, p: number, sequenceNumber: number) => processor.checkpoint(group, p, sequenceNumber)
  const claim = (group: string, p: number, ownerId: string) => processor.claim(group, p, ownerId)

  let viaEmulator: EmulatorRunner

  beforeEach(async () => {
    c = await freshContainer()
    store = new BlobCheckpointStore(c.client)
    processor = processorOf(store, NS, HUB)
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-attack-'))
    viaEmulator = ehcpOn(c, {cwd})
  })
  afterEach(() => c.dispose())

  describe('A. the undo touches only blobs that still hold what its change wrote', () => {
    // README: "A blob written since (a processor's checkpoint, another change) is left alone and reported as
    // conflict". The undo compares values only, so a later write of the same value passes for its own.
    it('A1. leaves alone a checkpoint that another change has written since (the same value, after the processor moved on)', async () => {
      await seed('$Default', 1, 100)
      const first = await viaEmulator([
        'set',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--partition',
        '0',
        '--sequence-number',
        '500',
        '--offset',
        '5000',
        '--yes',
        '--json',
      ])
      expect(first.code, first.stderr).to.equal(0)
      await processorCheckpoint('$Default', 0, 600)
      // The operator repeats the change: 600 -> 500. Its own backup says "before: 600".
      const second = await viaEmulator([
        'set',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--partition',
        '0',
        '--sequence-number',
        '500',
        '--offset',
        '5000',
        '--yes',
        '--json',
      ])
      expect(second.code, second.stderr).to.equal(0)
      // The first change's undo must not rewind past the second change to 100 (400 events more than anyone meant).
      const undo = await runPrinted(first.json<ChangeResult>().undoCommand!.replace('--yes', '--yes --json'), {cwd, env: viaEmulator.env})
      expect((await metadataSnapshot(c.client)).get(checkpoint('$Default', 0)), undo.stdout).to.deep.include({sequencenumber: '500'})
      expect(undo.code, undo.stderr).to.equal(5)
    })

    it('A2. the undo of release-ownership leaves alone an ownership a processor claimed and gave up since', async () => {
      await seed('$Default', 1, 100)
      await claim('$Default', 0, 'dead-host')
      // The owner's heartbeat is fresh (it looks active): a release names it.
      const release = await viaEmulator([
        'release-ownership',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--owner',
        'dead-host',
        '--yes',
        '--json',
      ])
      expect(release.code, release.stderr).to.equal(0)
      // A live processor claims the partition, then stops gracefully: the SDKs write ownerid "" on close.
      await claim('$Default', 0, 'live-processor')
      await claim('$Default', 0, '')
      const undo = await runPrinted(release.json<ChangeResult>().undoCommand!.replace('--yes', '--yes --json'), {cwd, env: viaEmulator.env})
      // Restoring "dead-host" now would make a dead owner look active (fresh heartbeat) for the whole expiry.
      expect((await metadataSnapshot(c.client)).get(ownership('$Default', 0)), undo.stdout).to.deep.equal({ownerid: ''})
      expect(undo.code, undo.stderr).to.equal(5)
    })

    it('A4. the undo is guarded like any change: an active owner under another spelling of the group (a Java processor) refuses it', async () => {
      await seed('$Default', 2, 100)
      const change = await viaEmulator([
        'set',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--partition',
        '0',
        '--sequence-number',
        '500',
        '--offset',
        '5000',
        '--yes',
        '--json',
      ])
      expect(change.code, change.stderr).to.equal(0)
      // A Java processor (which keeps "$Default" as configured) now owns partition 0.
      await putBlob(c.client, `${NS}/${HUB}/$Default/ownership/0`, {ownerid: 'java-host'})
      const again = await viaEmulator([
        'set',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--partition',
        '0',
        '--sequence-number',
        '400',
        '--offset',
        '4000',
        '--yes',
      ])
      expect(again.code, again.stderr).to.equal(5)
      const undo = await runPrinted(change.json<ChangeResult>().undoCommand!, {cwd, env: viaEmulator.env})
      expect(undo.code, undo.stdout + undo.stderr).to.equal(5)
      expect((await metadataSnapshot(c.client)).get(checkpoint('$Default', 0))).to.deep.include({sequencenumber: '500'})
    })

    it('A3. the printed undo of release-ownership --ownership-expiry 5s runs (release accepts 5s; the undo must too)', async () => {
      await seed('$Default', 1, 100)
      await claim('$Default', 0, 'dead-host')
      const release = await viaEmulator([
        'release-ownership',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--ownership-expiry',
        '5s',
        '--owner',
        'dead-host',
        '--yes',
        '--json',
      ])
      expect(release.code, release.stderr).to.equal(0)
      const undo = await runPrinted(release.json<ChangeResult>().undoCommand!, {cwd, env: viaEmulator.env})
      expect(undo.code, undo.stderr).to.equal(0)
      expect((await metadataSnapshot(c.client)).get(ownership('$Default', 0))).to.deep.equal({ownerid: 'dead-host'})
    })
  })

  describe('B. a change that creates a group can be undone, and only where the README says', () => {
    for (const group of ['a/b', '', 'x/']) {
      it(`B1. --consumer-group ${JSON.stringify(group)}: refused with exit 2, or written and its printed undo works`, async () => {
        await seed('$Default', 1, 100)
        const before = await metadataSnapshot(c.client)
        const r = await viaEmulator([
          'set',
          '--namespace',
          NS,
          '--eventhub',
          HUB,
          '--consumer-group',
          group,
          '--partition',
          '0',
          '--sequence-number',
          '5',
          '--offset',
          '50',
          '--yes',
          '--json',
        ])
        if (r.code === 2) {
          expect(await metadataSnapshot(c.client)).to.deep.equal(before)
          return
        }
        expect(r.code, r.stderr).to.equal(0)
        // What it wrote must be a blob ehcp itself reads as a checkpoint, and its undo must remove it.
        const undo = await runPrinted(r.json<ChangeResult>().undoCommand!, {cwd, env: viaEmulator.env})
        expect(undo.code, undo.stderr).to.equal(0)
        expect(await metadataSnapshot(c.client)).to.deep.equal(before)
      })
    }

    it('B2. set without --consumer-group does not create "$Default" where only other groups exist (README: group named in full)', async () => {
      await seed('billing', 2, 100)
      const before = await metadataSnapshot(c.client)
      const r = await viaEmulator([
        'set',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--partition',
        '0',
        '--sequence-number',
        '5',
        '--offset',
        '50',
        '--yes',
      ])
      expect(r.code, r.stdout + r.stderr).to.equal(3)
      expect(await metadataSnapshot(c.client)).to.deep.equal(before)
    })

    it('B3. --backup-file " " (a blank name): refused, or its printed undo runs', async () => {
      await seed('$Default', 1, 100)
      const r = await viaEmulator([
        'set',
        '--namespace',
        NS,
        '--eventhub',
        HUB,
        '--partition',
        '0',
        '--sequence-number',
        '5',
        '--offset',
        '50',
        '--backup-file',
        ' ',
        '--yes',
        '--json',
      ])
      if (r.code === 2) return
      expect(r.code, r.stderr).to.equal(0)
      const undo = await runPrinted(r.json<ChangeResult>().undoCommand!, {cwd, env: viaEmulator.env})
      expect(undo.code, undo.stderr).to.equal(0)
      expect((await metadataSnapshot(c.client)).get(checkpoint('$Default', 0))).to.deep.include({sequencenumber: '100'})
    })
  })

  describe('C. names the store can hold', () => {
    it('C1. show of a consumer group whose name has a space is not an authentication failure (exit 4)', async () => {
      await putBlob(c.client, `${NS}/${HUB}/my group/checkpoint/0`, {sequencenumber: '1', offset: '10'})
      const r = await viaEmulator(['show', '--namespace', NS, '--eventhub', HUB, '--consumer-group', 'my group', '--json'])
      expect(r.code, r.stderr).to.equal(0)
    })
  })

  describe('D. exit 1 only for a bug', () => {
    const cases: Array<[string, string[]]> = [
      ['a value-taking flag with no value (--from-file at the end)', ['reset', '--from-file']],
      [
        'a value-taking flag followed by another flag (--backup-file --yes)',
        ['reset', '--eventhub', HUB, '--delete', '--backup-file', '--yes'],
      ],
      ['a flag given twice (two undo files pasted into one line)', ['reset', '--from-file', 'a.json', '--from-file', 'b.json', '--yes']],
    ]
    for (const [what, args] of cases) {
      it(`D1. ${what}: exit 2`, async () => {
        const r = await viaEmulator(args)
        expect(r.code, r.stderr).to.equal(2)
      })
    }

    it('D2. a hand-edited backup with a deeply nested value: exit 2 naming the file, not "a bug in ehcp"', async () => {
      const deep = '['.repeat(20_000) + ']'.repeat(20_000)
      writeFileSync(path.join(cwd, 'deep.json'), `{"kind":"ehcp-backup","schemaVersion":${deep}}`)
      const r = await viaEmulator(['reset', '--from-file', 'deep.json', '--yes'])
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stderr).to.include('deep.json')
    })
  })

  describe('E. signals at the prompt', () => {
    // Ctrl-C typed at the prompt is a keypress (readline's raw mode) and works; a real signal (kill, a
    // supervisor's SIGTERM, SIGHUP) closes the readline interface, which never settles the pending question:
    // Node then exits 13 ("unsettled top-level await") with no message.
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
      ['SIGHUP', 129],
    ] as const) {
      it(`E1. ${signal} while the prompt waits: exit ${code}, "Cancelled", nothing written`, async function () {
        await seed('$Default', 2, 100)
        await seed('source', 2, 500)
        const before = await metadataSnapshot(c.client)
        const command = `exec ${process.execPath} ${BIN} reset --namespace ${NS} --eventhub ${HUB} --from-consumer-group source --emulator --container ${c.name}`
        // `script` gives the command a terminal, so ehcp asks.
        const child = spawn('script', ['-qec', command, '/dev/null'], {
          cwd,
          env: {...process.env, NO_COLOR: '1', ...viaEmulator.env},
          stdio: ['pipe', 'pipe', 'pipe'],
        })
        let output = ''
        child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
        const deadline = Date.now() + 30_000
        while (!output.includes('[y/N]') && Date.now() < deadline) await sleep(100)
        expect(output, output).to.include('[y/N]')
        const {stdout: pids} = await execFileAsync('pgrep', ['-P', String(child.pid)])
        process.kill(Number(pids.trim().split('\n')[0]), signal)
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
        const exit = await exited
        clearTimeout(timer)
        child.stdin.end()
        expect(exit, output).to.equal(code)
        expect(output).to.match(/Cancelled/)
        expect(await metadataSnapshot(c.client)).to.deep.equal(before)
      })
    }
  })
})
