/**
 * A model of changes to legacy lease blobs (`set`/`reset`/`release-ownership --layout`, and the undo each
 * prints), checked by fast-check stateful testing against real Azurite. The world is one EventProcessorHost
 * group of three partitions and one Go group of two, with bodies as writers (and hand edits) leave them:
 * escapes (`\u00f4`, `\u0026`), `\/`, odd whitespace, number forms a JSON round trip would change, nested
 * look-alike keys, a position key written twice. Hosts acquire, renew and release blob leases and write their
 * own bodies, as EventProcessorHost and Go's LeaserCheckpointer do. ehcp runs as the built binary; its undos
 * run exactly as printed.
 *
 * Each command predicts its exit code (0; 5 for a leased blob without --force or an undo meeting a body
 * changed since; 6 when an undo restores some and leaves others; 2 and 3 for a refused or unmatched release)
 * and the exact bytes, metadata and lease of every blob afterwards. After every step storage must equal the
 * model: no body changes outside its position values unless a host wrote it, an undo reported updated holds
 * the bytes from before its change, and a refused command or a dry run writes nothing (the ETag is unchanged).
 *
 * EHCP_LEGACY_MODEL_RUNS / EHCP_LEGACY_MODEL_STEPS / EHCP_MODEL_SEED size the run (`npm run soak` runs more);
 * a failure ends the run at once (each step is an ehcp process): EHCP_MODEL_SHRINK=1 shrinks it first.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'
import fc from 'fast-check'

import {commands, type InitialBlob, initialState, modelBlob} from '../support/legacy-model/arbitraries.js'
import {checkWorld, EhcpRelease, EhcpSet, EhcpUndo, HostAcquire, HostAct} from '../support/legacy-model/commands.js'
import {BLOBS, type Model, newStats, type Real, render, type Stats} from '../support/legacy-model/world.js'
import {freshContainer} from '../support/services.js'

const RUNS = Number(process.env.EHCP_LEGACY_MODEL_RUNS ?? 3)
const STEPS = Number(process.env.EHCP_LEGACY_MODEL_STEPS ?? 12)
const SEED = Number(process.env.EHCP_MODEL_SEED ?? 20261202)

type Cmd = fc.AsyncCommand<Model, Real>

/** A command, then the whole container compared with the model. */
class Checked implements Cmd {
  constructor(readonly inner: Cmd) {}
  check = (m: Readonly<Model>) => this.inner.check(m)
  async run(model: Model, real: Real): Promise<void> {
    const started = Date.now()
    real.log.push(this.inner.toString())
    await this.inner.run(model, real)
    await checkWorld(model, real, this.inner.toString())
    real.stats.steps++
    const kind = this.inner.constructor.name
    real.stats.ms[kind] = (real.stats.ms[kind] ?? 0) + Date.now() - started
  }
  toString = () => this.inner.toString()
}

async function runOnce(init: InitialBlob[], cmds: Iterable<Cmd>, stats: Stats): Promise<void> {
  const c = await freshContainer()
  const dir = mkdtempSync(path.join(tmpdir(), 'ehcp-legacy-model-'))
  try {
    const model: Model = {blobs: new Map(), changes: [], leaseCounter: 0, beliefs: new Map()}
    const real: Real = {
      client: c.client,
      container: c.name,
      blobEndpoint: c.azurite.blobEndpoint(),
      dir,
      stats,
      log: [],
      steps: 0,
      etags: new Map(),
    }
    for (const [i, b] of init.entries()) {
      const blob = modelBlob(b, BLOBS[i]!.group)
      const body = render(b.name, blob)
      const client = c.client.getBlockBlobClient(b.name)
      await client.upload(body, Buffer.byteLength(body), {metadata: blob.metadata})
      if (b.holder !== null) {
        const id = `00000000-0000-4000-8000-${String(++model.leaseCounter).padStart(12, '0')}`
        await client.getBlobLeaseClient(id).acquireLease(-1)
        blob.lease = {kind: 'leased', id, holder: b.holder}
        model.beliefs.set(b.name, {host: b.holder, id})
      }
      model.blobs.set(b.name, blob)
      real.log.push(`initial ${b.name}: ${body}${b.holder ? ` (leased by ${b.holder})` : ''}`)
    }
    await checkWorld(model, real, 'the initial state')
    await fc.asyncModelRun(() => ({model, real}), cmds)
  } finally {
    await c.dispose()
    rmSync(dir, {recursive: true, force: true})
  }
}

describe('legacy change model (fast-check stateful, against Azurite)', function () {
  this.timeout(30 * 60_000)

  it('set/reset/release-ownership --layout, their undos and live hosts: storage always holds the bytes the model predicts', async () => {
    const stats = newStats()
    const started = Date.now()
    let runs = 0
    const property = fc.asyncProperty(
      initialState,
      fc.commands(
        commands.map((arb) => arb.map((cmd) => new Checked(cmd))),
        {maxCommands: STEPS, size: 'max'},
      ),
      async (init, cmds) => {
        runs++
        await runOnce(init, cmds, stats)
      },
    )
    try {
      await fc.assert(property, {seed: SEED, numRuns: RUNS, endOnFailure: process.env.EHCP_MODEL_SHRINK !== '1'})
    } finally {
      console.log(
        `      legacy model: seed ${SEED}, ${runs} runs (max ${STEPS} commands each), ${stats.steps} steps in ${((Date.now() - started) / 1000).toFixed(1)}s: ` +
          `${stats.ehcp} ehcp runs, exit codes ${JSON.stringify(stats.exitCodes)}, ${stats.undos} undos (${stats.undoConflicts} rows left alone), ` +
          `${stats.forcedBreaks} leases broken by --force, ${stats.refusedRewrites} rewrites refused (a key twice), ${stats.hostLosses} hosts finding their lease lost; ms ${JSON.stringify(stats.ms)}`,
      )
    }
    // The runs exercised what they claim to.
    expect(stats.steps, 'steps run').to.be.greaterThan(RUNS * 3)
    expect(stats.ehcp, 'ehcp runs').to.be.greaterThan(RUNS)
  })

  // ------------------------------------------------------------------------------------------------
  // Named sequences: the smallest case of each rule, through the same model.

  const blob = (name: string, template: string, checkpoint: number | null, holder: string | null = null): InitialBlob => ({
    name,
    template,
    checkpoint,
    owner: holder ? JSON.stringify(holder) : '"h\\u00f4te\\/a"',
    epoch: 1,
    holder,
  })
  const world = (more: Partial<Record<string, InitialBlob>> = {}): InitialBlob[] =>
    BLOBS.map((b) => more[b.name] ?? blob(b.name, b.group === 'eph' ? 'eph-odd' : 'go-spaced', b.group === 'eph' ? 7 : null))

  const scenarios: Array<{name: string; init: InitialBlob[]; commands: Cmd[]}> = [
    {
      name: 'set on bodies with escapes, \\/ and odd number forms, then their undos: only position bytes change, then every byte is back',
      init: world(),
      commands: [
        new EhcpSet('$Default/0', 9, 's9', false, false),
        new EhcpSet('filebeat/0', 3, 's3', false, false),
        new EhcpUndo(0),
        new EhcpUndo(1),
      ],
    },
    {
      name: 'set --force on a leased blob breaks the lease; the host finds out; its undo (printed with --force) restores the body',
      init: world({'$Default/1': blob('$Default/1', 'eph-odd', 4, 'host-a')}),
      commands: [
        new EhcpSet('$Default/1', 2, 's2', false, false),
        new EhcpSet('$Default/1', 2, 's2', true, false),
        new HostAct('$Default/1', 'checkpoint', 1),
        new EhcpUndo(0),
      ],
    },
    {
      name: 'an undo meeting a body a host wrote since leaves it alone (exit 5)',
      init: world(),
      commands: [new EhcpSet('$Default/2', 1, 's1', false, false), new HostAcquire('$Default/2', 'host-b'), new EhcpUndo(0)],
    },
    {
      name: 'a lease acquired since a change (the host not yet written) refuses its undo without --force (exit 5); a dry run of it is exit 0',
      init: world(),
      commands: [
        new EhcpSet('$Default/0', 9, 's9', false, false),
        new HostAcquire('$Default/0', 'host-a', false),
        new EhcpUndo(0, true),
        new EhcpUndo(0),
        new EhcpSet('$Default/0', 3, 's3', false, false),
      ],
    },
    {
      name: 'a body with a position key twice is never rewritten; a dry run writes nothing',
      init: world({'$Default/0': blob('$Default/0', 'eph-twice', 3)}),
      commands: [new EhcpSet('$Default/0', 9, 's9', false, false), new EhcpSet('$Default/1', 9, 's9', true, true)],
    },
    {
      name: 'release-ownership breaks a Go lease; the host loses it; a blanket release of a held lease needs --force',
      init: world({'filebeat/1': blob('filebeat/1', 'go-host', 5, 'go-1'), 'filebeat/0': blob('filebeat/0', 'go-spaced', 2, 'go-1')}),
      commands: [
        new EhcpRelease('go', undefined, undefined, false, false),
        new EhcpRelease('go', '1', undefined, false, false),
        new HostAct('filebeat/1', 'renew', 1),
        new EhcpRelease('go', undefined, 'go-1', false, false),
        new EhcpUndo(0),
      ],
    },
  ]
  describe('named sequences', () => {
    for (const scenario of scenarios) {
      it(scenario.name, async () => {
        const stats = newStats()
        await runOnce(
          scenario.init,
          scenario.commands.map((cmd) => new Checked(cmd)),
          stats,
        )
        expect(stats.steps, 'every command ran').to.equal(scenario.commands.length)
      })
    }
  })
})
