/**
 * A model of the change pipeline, checked by fast-check stateful testing against real Azurite (a fresh
 * container per run). Random sequences of ehcp changes (set, reset shift/delete/from-consumer-group,
 * release-ownership) and undos (`reset --from-file <backup>`), driven in-process through the commands' own
 * planners and `executePlan`, interleave with a simulated processor (claims, heartbeats, checkpoints through
 * the official BlobCheckpointStore or conditional writes), a write racing in between plan and write, other
 * writers, blob leases, faults on ehcp's connection (lost responses, resets, 503s) and Ctrl-C after k writes.
 * After every step the whole container must hold exactly what the model says: no write the report does not
 * show, no report storage does not show, and every undo restores exactly what its change wrote.
 *
 * EHCP_MODEL_RUNS / EHCP_MODEL_STEPS / EHCP_MODEL_SEED size the run (`npm run soak` runs more).
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import type {ContainerClient} from '@azure/storage-blob'
import {expect} from 'chai'
import fc from 'fast-check'

import {EMULATOR_ACCOUNT, EMULATOR_KEY} from '../../local/azurite.js'
import {type InitialState, initialState, pipelineCommands, undoCommands} from '../support/change-model/arbitraries.js'
import {type ChangeOptions, Checkpoint, Claim, EhcpChange, EhcpUndo} from '../support/change-model/commands.js'
import {cliWords, type ChangeSpec, openModelStore} from '../support/change-model/ehcp-adapter.js'
import type {Metadata} from '../support/change-model/undo-spec.js'
import {
  checkpointName,
  MAIN,
  type Model,
  newStats,
  OTHER,
  ownershipName,
  PARTITIONS,
  type Real,
  readContainer,
  scopeOf,
  type Stats,
} from '../support/change-model/world.js'
import {runEhcp} from '../support/cli.js'
import {type FaultProxy, startFaultProxy} from '../support/fault-proxy.js'
import {freshContainer, sharedAzurite} from '../support/services.js'

const RUNS = Number(process.env.EHCP_MODEL_RUNS ?? 60)
const STEPS = Number(process.env.EHCP_MODEL_STEPS ?? 50)
const SEED = Number(process.env.EHCP_MODEL_SEED ?? 20261201)

function initialBlobs(init: InitialState): Map<string, Metadata> {
  const blobs = new Map<string, Metadata>()
  PARTITIONS.forEach((p, i) => {
    const {checkpoint, owner} = init.main[i]!
    if (checkpoint !== null) blobs.set(checkpointName(MAIN, p), {sequencenumber: String(checkpoint), offset: `i${checkpoint}`})
    if (owner !== null) blobs.set(ownershipName(p), {ownerid: owner})
    const other = init.other[i]!
    if (other !== null) blobs.set(checkpointName(OTHER, p), {sequencenumber: String(other), offset: `o${other}`})
  })
  return blobs
}

async function writeBlobs(client: ContainerClient, blobs: Map<string, Metadata>): Promise<void> {
  await Promise.all([...blobs].map(([name, metadata]) => client.getBlockBlobClient(name).upload('', 0, {metadata})))
}

describe('change pipeline model (fast-check stateful, against Azurite)', function () {
  this.timeout(30 * 60_000)
  let proxy: FaultProxy
  let proxied: string
  /** The faults of the step running now (the proxy serves one run at a time). */
  let current: Real | undefined
  const totals: Stats[] = []

  before(async () => {
    const az = await sharedAzurite()
    const url = new URL(az.host)
    proxy = await startFaultProxy(
      {host: url.hostname, port: Number(url.port)},
      {
        loseWriteResponse: () => {
          const f = current?.faults
          if (!f) return false
          if (f.schedule) return f.loseNext && !(f.loseNext = false)
          return f.random() < f.lose
        },
        resetBeforeRequest: () => Boolean(current?.faults && !current.faults.schedule && current.faults.random() < current.faults.reset),
        serviceUnavailable: (request) => {
          const f = current?.faults
          if (!f) return false
          if (!f.schedule) return f.random() < f.unavailable
          if (!/^(PUT|DELETE)$/.test(request.method)) return false
          const fate = f.schedule.shift() ?? 'pass'
          f.loseNext = fate === 'lose'
          return fate === '503'
        },
      },
    )
    proxied = `DefaultEndpointsProtocol=http;AccountName=${EMULATOR_ACCOUNT};AccountKey=${EMULATOR_KEY};BlobEndpoint=http://127.0.0.1:${proxy.port}/${EMULATOR_ACCOUNT};`
  })
  after(async () => {
    await proxy?.close()
  })

  /** One sequence of commands against a fresh container that starts as `init`. */
  async function runOnce(
    init: InitialState,
    cmds: Iterable<fc.AsyncCommand<Model, Real>>,
    stats: Stats,
    checkBackupFormat: boolean,
  ): Promise<void> {
    const c = await freshContainer()
    const dir = mkdtempSync(path.join(tmpdir(), 'ehcp-model-'))
    try {
      const blobs = initialBlobs(init)
      await writeBlobs(c.client, blobs)
      const real: Real = {
        client: c.client,
        official: new BlobCheckpointStore(c.client),
        store: await openModelStore(proxied, c.name),
        faults: null,
        dir,
        stats,
        log: [`initial: ${JSON.stringify([...blobs].map(([n, m]) => [n.split('/').slice(2).join('/'), m]))}`],
        checkBackupFormat,
      }
      const model: Model = {
        blobs,
        etags: new Map([...(await readContainer(c.client))].map(([n, s]) => [n, s.etag])),
        leases: new Map(),
        changes: [],
        counter: 0,
      }
      // The proxy's fault plan reads the faults of whichever real world runs now.
      current = real
      await fc.asyncModelRun(() => ({model, real}), cmds)
    } finally {
      current = undefined
      await c.dispose()
      rmSync(dir, {recursive: true, force: true})
    }
  }

  async function modelProperty(
    name: string,
    commands: typeof undoCommands | typeof pipelineCommands,
    checkBackupFormat: boolean,
  ): Promise<void> {
    const stats = newStats()
    totals.push(stats)
    const started = Date.now()
    let runs = 0
    const property = fc.asyncProperty(
      initialState,
      fc.commands(commands as typeof undoCommands, {maxCommands: STEPS, size: 'max'}),
      async (init, cmds) => {
        runs++
        await runOnce(init, cmds, stats, checkBackupFormat)
      },
    )
    try {
      await fc.assert(property, {seed: SEED, numRuns: RUNS})
    } finally {
      console.log(
        `      ${name}: seed ${SEED}, ${runs} runs (max ${STEPS} commands each), ${stats.steps} steps in ${((Date.now() - started) / 1000).toFixed(1)}s: ` +
          `${stats.changes} changes, ${stats.undos} undos, rows ${JSON.stringify(stats.rows)}, ${stats.races} races, ${stats.leasedConflicts} leased conflicts, ` +
          `${stats.aborts} aborts, ${stats.faultSteps} fault steps (${proxy.lostResponses} lost responses, ${proxy.resetRequests} resets, ${proxy.unavailable} 503s so far), ` +
          `${stats.mayHaveBeenApplied} "may have been applied", ${stats.refused} refused by the guard, ${stats.errors} stopped before writing; ms by step kind ${JSON.stringify(stats.ms)}`,
      )
    }
    // The run exercised what it claims to: the sequences were long, and every kind of interference happened.
    expect(stats.steps, 'steps run').to.be.greaterThan(RUNS * 5)
    expect(stats.rows.updated ?? 0, 'rows updated').to.be.greaterThan(0)
    expect(stats.rows.conflict ?? 0, 'rows in conflict').to.be.greaterThan(0)
    expect(stats.races, 'races that landed between plan and write').to.be.greaterThan(0)
    expect(stats.leasedConflicts, 'writes refused by a lease').to.be.greaterThan(0)
    expect(stats.aborts, 'changes aborted after k writes').to.be.greaterThan(0)
    expect(stats.faultSteps, 'steps with faults').to.be.greaterThan(0)
  }

  it('changes interleaved with processors, races, leases, faults and signals: storage always agrees with the reports', async () => {
    await modelProperty('pipeline model', pipelineCommands, false)
  })

  it('undo (reset --from-file <backup>) restores exactly what its change wrote, and nothing anyone wrote since', async () => {
    await modelProperty('undo model', undoCommands, true)
    const stats = totals.at(-1)!
    expect(stats.undos, 'undos run').to.be.greaterThan(0)
  })

  // ------------------------------------------------------------------------------------------------
  // Named sequences: the smallest cases of each undo rule (and of one pipeline bug the model found), run
  // through the same model. Each is a counterexample on code without the rule.

  const opts = (o: Partial<ChangeOptions> = {}): ChangeOptions => ({
    force: true,
    concurrency: 1,
    backup: true,
    race: null,
    abortAfter: null,
    faults: null,
    ...o,
  })
  const state = (main: Array<[number | null, string | null]>, other: Array<number | null> = [null, null, null, null]): InitialState => ({
    main: PARTITIONS.map((_, i) => ({checkpoint: main[i]?.[0] ?? null, owner: main[i]?.[1] ?? null})),
    other,
  })
  const noFaults = {lose: 0, reset: 0, unavailable: 0, seed: 0}
  const set = (partition: string, sequenceNumber: number) => ({
    kind: 'set' as const,
    partition,
    sequenceNumber,
    offset: `s${sequenceNumber}`,
  })
  const scenarios: Array<{name: string; init: InitialState; commands: Array<fc.AsyncCommand<Model, Real>>; backupFormat?: boolean}> = [
    {
      name: 'the backup records, per blob, what the change writes and whether it did (schemaVersion 2)',
      init: state([
        [5, null],
        [5, null],
      ]),
      commands: [new EhcpChange({kind: 'shift', by: 1}, opts({race: {target: 1, kind: 'checkpoint-or-heartbeat'}}))],
      backupFormat: true,
    },
    {
      name: "undo after a processor checkpointed: the processor's checkpoint stays (conflict)",
      init: state([[5, null]]),
      commands: [new EhcpChange(set('0', 7), opts()), new Checkpoint('0', MAIN, true), new EhcpUndo(0, opts())],
    },
    {
      name: "undo of a change whose write lost a race: the racer's value stays (unchanged: never written)",
      init: state([[5, null]]),
      commands: [new EhcpChange(set('0', 7), opts({race: {target: 0, kind: 'checkpoint-or-heartbeat'}})), new EhcpUndo(0, opts())],
    },
    {
      name: 'undo of an aborted change: a partition it never wrote keeps what a processor wrote since',
      init: state([
        [5, null],
        [5, null],
      ]),
      commands: [new EhcpChange({kind: 'shift', by: 1}, opts({abortAfter: 1})), new Checkpoint('1', MAIN, true), new EhcpUndo(0, opts())],
    },
    {
      name: 'undo of reset --delete in a group without ownership blobs: the group is empty, the checkpoints come back',
      init: state([
        [5, null],
        [9, null],
      ]),
      commands: [new EhcpChange({kind: 'delete'}, opts()), new EhcpUndo(0, opts())],
    },
    {
      name: 'undo of reset --delete after a processor created the checkpoint again: the new checkpoint stays',
      init: state([
        [5, ''],
        [9, null],
      ]),
      commands: [new EhcpChange({kind: 'delete', partitions: ['0']}, opts()), new Checkpoint('0', MAIN, true), new EhcpUndo(0, opts())],
    },
    {
      name: 'undo of a set that created a checkpoint, after a processor wrote it: the blob stays',
      init: state([
        [null, ''],
        [3, null],
      ]),
      commands: [new EhcpChange(set('0', 4), opts()), new Checkpoint('0', MAIN, false), new EhcpUndo(0, opts())],
    },
    {
      name: 'undo of release-ownership after a new owner claimed: the claim stays',
      init: state([[5, 'dead-host']]),
      commands: [new EhcpChange({kind: 'release'}, opts()), new Claim('0', 'proc-a', false), new EhcpUndo(0, opts())],
    },
    {
      name: 'undo of an undo puts the change back; undoing the same change twice changes nothing the second time',
      init: state([
        [5, null],
        [9, 'proc-a'],
      ]),
      commands: [
        new EhcpChange({kind: 'shift', by: -2}, opts()),
        new EhcpUndo(0, opts()),
        new EhcpUndo(0, opts()),
        new EhcpUndo(2, opts()),
      ],
    },
    {
      name: 'pipeline: a release whose first response is lost, its retry meeting 412, is reported updated (the read-back sees ownerid "")',
      init: state([[5, 'dead-host']]),
      commands: [new EhcpChange({kind: 'release'}, opts({faults: {...noFaults, schedule: ['lose', 'pass']}}))],
    },
    {
      name: 'pipeline: a release whose responses are all lost is not reported as not written (the read-back sees ownerid "")',
      init: state([[5, 'dead-host']]),
      commands: [new EhcpChange({kind: 'release'}, opts({faults: {...noFaults, schedule: ['lose', 'lose']}}))],
    },
    {
      name: 'pipeline: a write whose first response is lost and whose retry gets 503 is not reported as not written',
      init: state([[5, null]]),
      commands: [new EhcpChange(set('0', 7), opts({faults: {...noFaults, schedule: ['lose', '503']}}))],
    },
    {
      name: 'pipeline: a delete whose first response is lost and whose retry gets 503 is not reported as not written',
      init: state([
        [5, null],
        [9, null],
      ]),
      commands: [new EhcpChange({kind: 'delete', partitions: ['0']}, opts({faults: {...noFaults, schedule: ['lose', '503']}}))],
    },
  ]
  describe('named sequences', () => {
    for (const scenario of scenarios) {
      it(scenario.name, async () => {
        const stats = newStats()
        await runOnce(scenario.init, scenario.commands, stats, scenario.backupFormat ?? false)
        expect(stats.steps, 'every command ran').to.equal(scenario.commands.length)
      })
    }
  })

  // ------------------------------------------------------------------------------------------------
  // The CLI and the in-process driver agree: the same sequences, one through each, from the same state.

  type CliStep =
    | {kind: 'change'; spec: Exclude<ChangeSpec, {kind: 'undo' | 'shift'}>; force: boolean; concurrency: number; backup: boolean}
    | {kind: 'undo'; which: number; force: boolean; concurrency: number}
    | {kind: 'checkpoint'; p: string; group: string}
    | {kind: 'claim'; p: string; owner: string}

  const somePartitions = fc.option(fc.subarray(PARTITIONS, {minLength: 1}), {nil: undefined, freq: 3})
  const cliStep: fc.Arbitrary<CliStep> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('change' as const),
        spec: fc.oneof(
          fc
            .record({partition: fc.constantFrom(...PARTITIONS), sequenceNumber: fc.integer({min: -1, max: 60})})
            .map((s) => ({kind: 'set' as const, ...s, offset: `s${s.sequenceNumber}`})),
          somePartitions.map((partitions) => ({kind: 'delete' as const, partitions})),
          somePartitions.map((partitions) => ({kind: 'from-group' as const, source: OTHER, partitions})),
          somePartitions.map((partitions) => ({kind: 'release' as const, partitions})),
        ),
        force: fc.boolean(),
        concurrency: fc.integer({min: 1, max: 8}),
        backup: fc.oneof({weight: 4, arbitrary: fc.constant(true)}, {weight: 1, arbitrary: fc.constant(false)}),
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('undo' as const),
        which: fc.nat(2),
        force: fc.boolean(),
        concurrency: fc.integer({min: 1, max: 8}),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('checkpoint' as const),
        p: fc.constantFrom(...PARTITIONS),
        group: fc.constantFrom(MAIN, OTHER),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('claim' as const),
        p: fc.constantFrom(...PARTITIONS),
        owner: fc.constantFrom('proc-a', 'proc-b'),
      }),
    },
  )

  interface Trace {
    steps: Array<{step: string; exitCode?: number; rows?: Array<[string, string, string]>; state: Record<string, Metadata>}>
  }

  async function runSequence(driver: 'in-process' | 'cli', init: InitialState, steps: CliStep[]): Promise<Trace> {
    const c = await freshContainer()
    const dir = mkdtempSync(path.join(tmpdir(), `ehcp-model-${driver}-`))
    const trace: Trace = {steps: []}
    try {
      await writeBlobs(c.client, initialBlobs(init))
      const store = await openModelStore(c.azurite.connectionString(), c.name)
      const backups: string[] = []
      let n = 0
      for (const s of steps) {
        n++
        let exitCode: number | undefined
        let rows: Array<[string, string, string]> | undefined
        if (s.kind === 'checkpoint') {
          await c.client
            .getBlockBlobClient(checkpointName(s.group, s.p))
            .upload('', 0, {metadata: {sequencenumber: String(1000 + n), offset: `p${1000 + n}`}})
        } else if (s.kind === 'claim') {
          await c.client.getBlockBlobClient(ownershipName(s.p)).upload('', 0, {metadata: {ownerid: s.owner}})
        } else {
          if (s.kind === 'undo' && backups.length === 0) continue
          const backupFile = s.kind === 'undo' || s.backup ? path.join(dir, `backup-${n}.json`) : null
          const spec: ChangeSpec =
            s.kind === 'undo' ? {kind: 'undo', backupFile: backups[Math.max(0, backups.length - 1 - (s.which % backups.length))]!} : s.spec
          const options = {force: s.force, concurrency: s.concurrency, backupFile}
          let wroteBackup: string | null = null
          if (driver === 'in-process') {
            const {runChange} = await import('../support/change-model/ehcp-adapter.js')
            const outcome = await runChange(store, scopeOf(MAIN), spec, {...options, signal: new AbortController().signal})
            exitCode = outcome.exitCode
            rows = outcome.result?.partitions.map((p) => [p.blobName, p.action, p.status])
            wroteBackup = outcome.result?.backupFile ?? null
          } else {
            const run = await runEhcp([...cliWords(scopeOf(MAIN), spec, options), ...c.args], {cwd: dir})
            exitCode = run.code ?? -1
            const json = run.json<{partitions?: Array<{blobName: string; action: string; status: string}>; backupFile?: string | null}>()
            rows = json.partitions?.map((p) => [p.blobName, p.action, p.status])
            wroteBackup = json.backupFile ?? null
          }
          if (wroteBackup) backups.push(wroteBackup)
        }
        const state = Object.fromEntries([...(await readContainer(c.client))].map(([name, b]) => [name, b.metadata]).sort())
        trace.steps.push({step: JSON.stringify(s), exitCode, rows, state})
      }
      return trace
    } finally {
      await c.dispose()
      rmSync(dir, {recursive: true, force: true})
    }
  }

  it('three sequences through the CLI binary and through the in-process driver: same reports, same exit codes, same storage', async () => {
    const samples = fc.sample(fc.tuple(initialState, fc.array(cliStep, {minLength: 6, maxLength: 8})), {seed: SEED, numRuns: 3})
    let ehcpSteps = 0
    let undos = 0
    let updated = 0
    // The sequences run side by side, each in its own two containers.
    const traces = await Promise.all(
      samples.map(
        async ([init, steps]) =>
          [steps, ...(await Promise.all([runSequence('in-process', init, steps), runSequence('cli', init, steps)]))] as const,
      ),
    )
    for (const [steps, inProcess, cli] of traces) {
      expect(cli.steps.length, 'the sequence ran').to.be.greaterThan(0)
      expect(cli, `CLI and in-process driver differ on ${JSON.stringify(steps)}`).to.deep.equal(inProcess)
      ehcpSteps += cli.steps.filter((s) => s.exitCode !== undefined).length
      undos += cli.steps.filter((s) => s.exitCode !== undefined && s.step.includes('"undo"')).length
      updated += cli.steps.flatMap((s) => s.rows ?? []).filter(([, , status]) => status === 'updated').length
    }
    console.log(`      CLI agreement: seed ${SEED}, 3 sequences, ${ehcpSteps} ehcp runs (${undos} undos), ${updated} rows updated`)
    expect(ehcpSteps, 'ehcp ran in the sequences').to.be.greaterThan(3)
    expect(updated, 'the sequences changed something').to.be.greaterThan(0)
    expect(undos, 'the sequences undid something').to.be.greaterThan(0)
  })
})
