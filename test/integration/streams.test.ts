/**
 * stdout and stderr that break (a reader that left: `| head -1`), fill up (`> /dev/full`) or read slowly,
 * through the built binary: a change always runs to its end and keeps its own exit code, output that can be
 * written is written in full before the process leaves, and nothing crashes with a stack trace.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {closeSync, existsSync, mkdtempSync, openSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {allOutputs, BIN, CONNECTION_ENV} from '../support/cli.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'

const NS = 'streams.servicebus.windows.net'
const HUB = 'orders'

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  for (const key of CONNECTION_ENV) delete env[key]
  return env
}

/**
 * Runs the binary and collects what it writes. `stdout` may be a file descriptor (e.g. /dev/full). `onSpawn`
 * gets the child first (to close a pipe).
 */
function spawnEhcp(args: string[], options: {cwd: string; stdout?: number; onSpawn?: (child: ChildProcess) => void}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: childEnv(),
      cwd: options.cwd,
      stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    options.onSpawn?.(child)
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      allOutputs.push(stdout, stderr)
      resolve({code, signal, stdout, stderr})
    })
  })
}

/**
 * Runs `node BIN args` in a bash pipeline: `pipe` is what follows it, e.g. `2>&1 | head -1`. The exit code is
 * ehcp's. `onStderr` hears what reaches stderr (ehcp's, unless the pipeline redirects it), as it comes.
 */
function inPipeline(args: string[], pipe: string, cwd: string, onStderr?: (said: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const script = `"${process.execPath}" "$@" ${pipe}; exit \${PIPESTATUS[0]}`
    const child = spawn('bash', ['-c', script, 'bash', BIN, ...args], {env: childEnv(), cwd, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      onStderr?.(stderr)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      allOutputs.push(stdout, stderr)
      resolve({code, signal, stdout, stderr})
    })
  })
}

const describeRun = (r: Run) =>
  `exit ${r.code} (signal ${r.signal})\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 3000)}`
const blobName = (group: string, p: number) => `${NS}/${HUB}/${group}/checkpoint/${p}`

/** Checkpoints of $default (current, base 1000) and of source (base 5000), written 64 at a time. */
async function seed(c: TestContainer, partitions: number): Promise<void> {
  const blobs = ['$default', 'source'].flatMap((group) =>
    Array.from({length: partitions}, (_, p) => {
      const sequenceNumber = (group === 'source' ? 5000 : 1000) + p
      return [blobName(group, p), {sequencenumber: String(sequenceNumber), offset: String(sequenceNumber * 10)}] as const
    }),
  )
  let next = 0
  await Promise.all(
    Array.from({length: 64}, async () => {
      while (next < blobs.length) {
        const [name, metadata] = blobs[next++]!
        await putBlob(c.client, name, metadata)
      }
    }),
  )
}

/** The sequence number stored for each partition of $default. */
async function stored(c: TestContainer): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  for await (const b of c.client.listBlobsFlat({prefix: `${NS}/${HUB}/$default/checkpoint/`, includeMetadata: true})) {
    out.set(Number(b.name.split('/').pop()), Number(b.metadata?.sequencenumber))
  }
  return out
}

/** Every one of `partitions` holds source's position: the change ran to its end. */
async function expectAllWritten(c: TestContainer, partitions: number): Promise<void> {
  const now = await stored(c)
  expect(now.size).to.equal(partitions)
  const notWritten = [...now].filter(([p, sequenceNumber]) => sequenceNumber !== 5000 + p).map(([p]) => p)
  expect(notWritten, `${notWritten.length} of ${partitions} partitions not written`).to.deep.equal([])
}

const backups = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('ehcp-backup-'))
const STACK_FRAME = /^\s+at /m

describe('stdout and stderr that break, fill up or read slowly', function () {
  this.timeout(180_000)

  describe('a change of 1,000 partitions into a reader that leaves (| head -1)', () => {
    const PARTITIONS = 1000
    let c: TestContainer
    let cwd: string
    beforeEach(async () => {
      c = await freshContainer()
      await seed(c, PARTITIONS)
      cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-streams-'))
    })
    afterEach(() => c.dispose())
    const reset = () => ['reset', '--eventhub', HUB, '--from-consumer-group', 'source', '--yes', ...c.args]

    it('2>&1 | head -1: the change runs to its end (all 1,000 written), exit 0', async () => {
      const r = await inPipeline(reset(), '2>&1 | head -1', cwd)
      expect(r.code, describeRun(r)).to.equal(0)
      expect(r.stdout, describeRun(r)).to.match(/^Plan: reset \(from-consumer-group source\) .*1000 of 1000 partition\(s\) change\n$/)
      expect(r.stderr, describeRun(r)).to.equal('')
      await expectAllWritten(c, PARTITIONS)
      expect(backups(cwd)).to.have.length(1)
    })

    it('| head -1 (stdout only): the change runs to its end, stderr still gets the notices, exit 0', async () => {
      const r = await inPipeline(reset(), '| head -1', cwd)
      expect(r.code, describeRun(r)).to.equal(0)
      expect(r.stdout).to.match(/^Plan: reset .*\n$/)
      expect(r.stderr, describeRun(r)).to.match(
        /^Backup: ehcp-backup-orders-\$default-\d{8}T\d{6}Z\.json\nUndo: {3}ehcp reset --from-file /,
      )
      expect(r.stderr).not.to.match(STACK_FRAME)
      expect(r.stderr).not.to.include('Error')
      await expectAllWritten(c, PARTITIONS)
    })

    it('stderr closed by its reader before the first notice: the change runs to its end, the whole report reaches stdout, exit 0', async () => {
      const r = await spawnEhcp(reset(), {cwd, onSpawn: (child) => child.stderr!.destroy()})
      expect(r.code, describeRun(r)).to.equal(0)
      expect(r.stdout, describeRun(r)).to.include('1000 updated, 0 unchanged')
      const rows = r.stdout.split('\n').filter((line) => /^\d+ +\d+ @ \d+ +\d+ @ \d+ /.test(line))
      // The plan and the report: a row per partition in each.
      expect(rows).to.have.length(2 * PARTITIONS)
      await expectAllWritten(c, PARTITIONS)
    })
  })

  describe('a plan of 2,000 partitions into a reader that waits (piped stdout not read until the process is done)', () => {
    const PARTITIONS = 2000
    let c: TestContainer
    let cwd: string
    before(async () => {
      c = await freshContainer()
      await seed(c, PARTITIONS)
      cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-streams-'))
    })
    after(() => c.dispose())

    /**
     * A reader that starts reading only when told (a file named `go` appears): until then ehcp's writes fill
     * the pipe (64 KiB) and queue up in the process. It is told once ehcp has said its last word on stderr
     * (the error), and a moment more: by then a process that leaves without draining has gone.
     */
    let go: string
    beforeEach(() => {
      go = path.join(cwd, `go-${Date.now()}`)
    })
    const slowReader = (args: string[], lastWords: RegExp) => {
      let told = false
      return inPipeline(args, `| (while [ ! -e '${go}' ]; do sleep 0.05; done; cat)`, cwd, (said) => {
        if (told || !lastWords.test(said)) return
        told = true
        setTimeout(() => writeFileSync(go, ''), 500)
      })
    }

    const planRows = (stdout: string) => stdout.split('\n').filter((line) => /^\d+ +\d+ @ \d+ +\d+ @ \d+ /.test(line))

    it('without --yes (exit 2, not on a terminal): every one of the 2,000 rows arrives, and the error is on stderr', async () => {
      await c.client.getBlockBlobClient(`${NS}/${HUB}/$default/ownership/0`).deleteIfExists()
      const r = await slowReader(
        ['reset', '--eventhub', HUB, '--from-consumer-group', 'source', ...c.args],
        /not on a terminal[^\n]*\n[^\n]+\n/,
      )
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.match(/^Error: Refusing to change checkpoints without confirmation: not on a terminal\./)
      const rows = planRows(r.stdout)
      expect(rows, `${r.stdout.length} bytes of stdout`).to.have.length(PARTITIONS)
      expect(rows.at(-1)).to.match(/^1999 /)
      expect(backups(cwd)).to.deep.equal([])
    })

    it('refused by the active-owner guard (exit 5): every one of the 2,000 rows arrives, the error is on stderr, nothing is written', async () => {
      await putBlob(c.client, `${NS}/${HUB}/$default/ownership/0`, {ownerid: 'live-processor'})
      const r = await slowReader(
        ['reset', '--eventhub', HUB, '--from-consumer-group', 'source', '--yes', ...c.args],
        /active owner[^\n]*\n[^\n]+\n/,
      )
      expect(r.code, describeRun(r)).to.equal(5)
      expect(r.stderr).to.match(/^Error: 1 targeted partition\(s\) have an active owner \(live-processor\)/)
      const rows = planRows(r.stdout)
      expect(rows, `${r.stdout.length} bytes of stdout`).to.have.length(PARTITIONS)
      expect(rows.at(-1)).to.match(/^1999 /)
      const now = await stored(c)
      expect([...now].filter(([p, sequenceNumber]) => sequenceNumber !== 1000 + p)).to.deep.equal([])
      expect(now.size).to.equal(PARTITIONS)
    })

    it('show, read 11 s late (past the 10 s oclif gave a slow reader): every row arrives, exit 0, nothing on stderr', async () => {
      const timer = setTimeout(() => writeFileSync(go, ''), 11_000)
      const r = await inPipeline(['show', '--eventhub', HUB, ...c.args], `| (while [ ! -e '${go}' ]; do sleep 0.05; done; cat)`, cwd)
      clearTimeout(timer)
      expect(r.code, describeRun(r)).to.equal(0)
      expect(r.stderr).to.equal('')
      const rows = r.stdout.split('\n').filter((line) => /^\d+ +\d+ +\d+ +\d{4}-\d\d-\d\dT/.test(line))
      expect(rows, `${r.stdout.length} bytes of stdout`).to.have.length(PARTITIONS)
    })

    it('show | head -1 and show 2>&1 | head -1: the first line, quietly, exit 0', async () => {
      for (const pipe of ['| head -1', '2>&1 | head -1']) {
        const r = await inPipeline(['show', '--eventhub', HUB, ...c.args], pipe, cwd)
        expect(r.code, `${pipe}: ${describeRun(r)}`).to.equal(0)
        // (1 active owner when the guard's test above has just written one)
        expect(r.stdout, `${pipe}: ${r.stdout}`).to.match(
          /^streams\.servicebus\.windows\.net \/ orders \/ \$default: 2000 partitions, 2000 checkpointed, (0 active owners|1 active owner)\n$/,
        )
        expect(r.stderr, pipe).to.equal('')
      }
    })
  })

  describe('stdout on a full disk (> /dev/full, ENOSPC)', () => {
    const PARTITIONS = 200
    let c: TestContainer
    let cwd: string
    let full: number
    beforeEach(async () => {
      c = await freshContainer()
      await seed(c, PARTITIONS)
      cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-streams-'))
      full = openSync('/dev/full', 'w')
    })
    afterEach(async () => {
      closeSync(full)
      await c.dispose()
    })
    before(function () {
      if (!existsSync('/dev/full')) this.skip()
    })

    for (const json of [true, false]) {
      it(`reset --yes${json ? ' --json' : ''}: the change runs to its end with its own exit code (0), one stderr line says the output was lost (ENOSPC) and where the outcome is`, async () => {
        const r = await spawnEhcp(
          ['reset', '--eventhub', HUB, '--from-consumer-group', 'source', '--yes', ...(json ? ['--json'] : []), ...c.args],
          {cwd, stdout: full},
        )
        expect(r.code, describeRun(r)).to.equal(0)
        expect(r.stderr).not.to.match(STACK_FRAME)
        const [backup] = backups(cwd)
        expect(backup).to.be.a('string')
        const lost = r.stderr.split('\n').filter((line) => line.includes('could not be written'))
        expect(lost, describeRun(r)).to.deep.equal([
          `Warning: the output could not be written to stdout (ENOSPC: no space left on device). The change ran to its end (exit 0): ${PARTITIONS} updated, 0 unchanged, 0 conflicted, 0 failed; its outcome is in storage; what it replaced is in the backup ${backup}.`,
        ])
        // Under --json that line is all of stderr; without, the notices come first.
        if (json) expect(r.stderr).to.equal(`${lost[0]}\n`)
        else expect(r.stderr).to.match(/^Backup: /)
        await expectAllWritten(c, PARTITIONS)
      })
    }

    it('show --json (read-only): exit 2, not 0 (the user got nothing) nor 1 (not a bug in ehcp), and one stderr line naming ENOSPC', async () => {
      const r = await spawnEhcp(['show', '--eventhub', HUB, '--json', ...c.args], {cwd, stdout: full})
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.equal(
        'Error: the output could not be written to stdout (ENOSPC: no space left on device); what was shown is incomplete.\n',
      )
    })

    it('an error under --json (its document goes to stdout): its own exit code, and the error told on stderr instead', async () => {
      const r = await spawnEhcp(['show', '--eventhub', 'no-such-hub', '--json', ...c.args], {cwd, stdout: full})
      expect(r.code, describeRun(r)).to.equal(3)
      expect(r.stderr).to.match(
        /^Error: the output could not be written to stdout \(ENOSPC: no space left on device\)\. .*no-such-hub.*\n$/,
      )
    })
  })
})
