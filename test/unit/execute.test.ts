/**
 * The change pipeline (executePlan) against an in-memory store: dry run, confirmation, the guard and its
 * re-check right before writing, the backup saved before the first write and completed after the last,
 * conditional writes and their outcomes, stopping on a signal, and bounded concurrency.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {type ChangeResult, executePlan, type ExecuteOptions} from '../../src/change/execute.js'
import {
  type ChangePlan,
  type PlanItem,
  planDeletes,
  planPositions,
  planReleases,
  planRestore,
  type TargetPosition,
} from '../../src/change/plan.js'
import {authError, EhcpError, unreachableError} from '../../src/errors.js'
import {Interrupted} from '../../src/signals.js'
import {readGroup} from '../../src/store/group.js'
import {type CheckpointStore, toRecord, UncertainWriteError} from '../../src/store/store.js'

type Metadata = Record<string, string>
type Condition = {ifMatch: string} | {ifNoneMatch: '*'}
type Call = {op: 'write'; blobName: string; metadata: Metadata; condition: Condition} | {op: 'delete'; blobName: string; etag: string}

const PREFIX = 'ns/hub/$default/'
const cpName = (id: string, prefix = PREFIX) => `${prefix}checkpoint/${id}`
const ownName = (id: string, prefix = PREFIX) => `${prefix}ownership/${id}`

/**
 * The few CheckpointStore members executePlan uses: listGroup and listRecords (the guard's re-read, and readGroup
 * for planning), writeMetadata and deleteBlob under their conditions, ownershipExpiryMs. Conditions are
 * enforced as Blob Storage does; a refused condition is a conflict outcome, as the real store reports it.
 */
class FakeStore {
  readonly ownershipExpiryMs = 120_000
  readonly blobs = new Map<string, {etag: string; lastModified: Date; metadata: Metadata}>()
  /** Every write and delete sent, in the order sent. */
  readonly calls: Call[] = []
  /** The prefixes listed. */
  readonly listed: string[] = []
  /** Thrown by a write of this blob instead of answering. */
  readonly failures = new Map<string, Error>()
  /** Runs as each write is sent, before it is answered. */
  onWrite: ((call: Call) => void) | undefined
  /** How long a write takes to be answered (a timer, so writes overlap). */
  delayMs = 0
  inFlight = 0
  maxInFlight = 0
  private version = 0

  /** Another writer (a processor, a seed) puts a blob: a new ETag. */
  put(name: string, metadata: Metadata, ageMs = 60_000): string {
    const etag = `"0x${(++this.version).toString(16)}"`
    this.blobs.set(name, {etag, lastModified: new Date(Date.now() - ageMs), metadata: {...metadata}})
    return etag
  }

  metadataOf(name: string): Metadata | undefined {
    return this.blobs.get(name)?.metadata
  }

  async listRecords(prefix: string, onRecords: (records: ReturnType<typeof toRecord>[], serverTimeMs: number) => void): Promise<void> {
    this.listed.push(prefix)
    const now = Date.now()
    onRecords(
      [...this.blobs].filter(([name]) => name.startsWith(prefix)).map(([name, b]) => toRecord({name, ...b}, now, this.ownershipExpiryMs)),
      now,
    )
  }

  /** The store's own: each prefix listed in turn (this fake starts no early listings to drop). */
  async listGroup(
    prefixes: readonly string[],
    onRecords: (records: ReturnType<typeof toRecord>[], serverTimeMs: number) => void,
  ): Promise<void> {
    for (const prefix of prefixes) await this.listRecords(prefix, onRecords)
  }

  writeMetadata(blobName: string, metadata: Metadata, condition: Condition) {
    return this.send({op: 'write', blobName, metadata, condition}, () => {
      const current = this.blobs.get(blobName)
      if ('ifMatch' in condition ? current?.etag !== condition.ifMatch : current !== undefined) {
        return {
          status: 'conflict' as const,
          reason:
            'ifMatch' in condition ? 'changed since it was read (ETag no longer matches)' : 'created by someone else since it was read',
        }
      }
      const etag = this.put(blobName, metadata, 0)
      return {status: 'written' as const, etag, lastModified: this.blobs.get(blobName)!.lastModified}
    })
  }

  deleteBlob(blobName: string, etag: string) {
    return this.send({op: 'delete', blobName, etag}, () => {
      if (this.blobs.get(blobName)?.etag !== etag)
        return {status: 'conflict' as const, reason: 'changed since it was read (ETag no longer matches)'}
      this.blobs.delete(blobName)
      return {status: 'written' as const, etag: '', lastModified: undefined}
    })
  }

  private async send<T>(call: Call, apply: () => T): Promise<T> {
    this.calls.push(call)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      this.onWrite?.(call)
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs))
      const failure = this.failures.get(call.blobName)
      if (failure) throw failure
      return apply()
    } finally {
      this.inFlight--
    }
  }

  get asStore(): CheckpointStore {
    return this as unknown as CheckpointStore
  }
}

const GROUP = {namespace: 'ns', eventHub: 'hub', consumerGroup: '$default'}

function planOf(items: PlanItem[], over: Partial<ChangePlan> = {}): ChangePlan {
  return {
    operation: 'reset',
    scenario: 'test',
    container: 'checkpoints',
    ...GROUP,
    prefixes: [PREFIX],
    guarded: true,
    notes: [],
    items,
    ...over,
  }
}

/** Plans target positions from what the store holds now (the listing it took is forgotten). */
async function positions(store: FakeStore, targets: TargetPosition[], over: Partial<ChangePlan> = {}): Promise<ChangePlan> {
  const prefixes = over.prefixes ?? [PREFIX]
  const view = await readGroup(store.asStore, {...GROUP, prefixes})
  store.listed.length = 0
  return planOf(planPositions(view, targets), over)
}

const to = (partitionId: string, sequenceNumber: number): TargetPosition => ({
  partitionId,
  position: {sequenceNumber, offset: String(sequenceNumber * 10)},
})

interface Said {
  notices: string[]
  /** The plan as shown (a copy taken when shown). */
  shown: ChangeResult[]
  progress: Array<[number, number]>
  questions: string[]
}

async function run(
  store: FakeStore,
  plan: ChangePlan,
  over: Partial<ExecuteOptions> = {},
): Promise<{result: ChangeResult; exitCode: number; said: Said}> {
  const said: Said = {notices: [], shown: [], progress: [], questions: []}
  const {result, exitCode} = await executePlan(store.asStore, plan, {
    dryRun: false,
    yes: true,
    force: false,
    backupFile: null,
    concurrency: 4,
    signal: new AbortController().signal,
    confirm: null,
    showPlan: (r) => said.shown.push(structuredClone(r)),
    notice: (m) => said.notices.push(m),
    progress: (done, total) => said.progress.push([done, total]),
    undoCommand: (file) => `ehcp reset --from-file ${file}`,
    ...over,
  })
  return {result, exitCode, said}
}

async function refused(promise: Promise<unknown>): Promise<EhcpError> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(EhcpError)
    return error as EhcpError
  }
  throw new Error('expected the run to throw')
}

const statuses = (result: ChangeResult) => result.partitions.map((p) => p.status)

/** Two checkpoints, 0 and 1, at 100 and 200, with a .NET client id on 0. */
function seeded(): FakeStore {
  const store = new FakeStore()
  store.put(cpName('0'), {sequencenumber: '100', offset: '1000', clientidentifier: 'host-a'})
  store.put(cpName('1'), {sequencenumber: '200', offset: '2000'})
  return store
}

let dir: string

describe('executePlan', () => {
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ehcp-execute-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  describe('before anything is written', () => {
    it('a dry run shows the plan, writes nothing (not even a backup), and exits 0', async () => {
      const store = seeded()
      const before = structuredClone([...store.blobs])
      const backup = path.join(dir, 'b.json')
      const {result, exitCode, said} = await run(store, await positions(store, [to('0', 50), to('1', 60)]), {
        dryRun: true,
        yes: false,
        backupFile: {path: backup, isDefault: false},
      })
      expect(exitCode).to.equal(0)
      expect([result.dryRun, result.executed, result.backupFile, result.undoCommand]).to.deep.equal([true, false, null, null])
      expect(statuses(result)).to.deep.equal(['planned', 'planned'])
      expect(said.shown.map(statuses)).to.deep.equal([['planned', 'planned']])
      expect(said.notices).to.deep.equal(['Dry run: nothing was written.'])
      expect(store.calls).to.deep.equal([])
      expect(store.listed, 'no owner re-check for a dry run').to.deep.equal([])
      expect([...store.blobs]).to.deep.equal(before)
      expect(existsSync(backup)).to.equal(false)
    })

    it('nothing to change: exit 0 without asking', async () => {
      const store = seeded()
      const {result, exitCode, said} = await run(store, await positions(store, [to('0', 100)]), {
        yes: false,
        confirm: () => Promise.reject(new Error('must not ask')),
      })
      expect(exitCode).to.equal(0)
      expect(statuses(result)).to.deep.equal(['unchanged'])
      expect(said.notices).to.deep.equal(['Nothing to change.'])
      expect(store.calls).to.deep.equal([])
    })

    it('an undo whose every blob changed since: nothing written, the reasons shown, exit 5 (0 under --dry-run)', async () => {
      const store = seeded()
      const view = await readGroup(store.asStore, {...GROUP, prefixes: [PREFIX]})
      // The change wrote 150 to partition 1; a processor has moved it on to 200 since.
      const items = planRestore(view, [
        {
          partitionId: '1',
          blobName: cpName('1'),
          metadata: {sequencenumber: '120', offset: '1200'},
          written: {sequencenumber: '150', offset: '1500'},
          outcome: 'written',
        },
      ])
      const {result, exitCode, said} = await run(store, planOf(items))
      expect(exitCode).to.equal(5)
      expect(result.partitions.map((p) => [p.status, p.reason])).to.deep.equal([
        ['conflict', 'changed since the change wrote it: left alone'],
      ])
      expect(said.notices).to.deep.equal(['Nothing to change: 1 partition(s) left alone (see the reasons above).'])
      expect(store.calls).to.deep.equal([])
      expect((await run(store, planOf(items), {dryRun: true})).exitCode).to.equal(0)
    })

    it('refuses without --yes when no one can be asked: exit 2, nothing written', async () => {
      const store = seeded()
      const error = await refused(run(store, await positions(store, [to('0', 50)]), {yes: false, confirm: null}))
      expect(error.exitCode).to.equal(2)
      expect(error.hint).to.contain('--yes')
      expect(store.calls).to.deep.equal([])
    })

    it('asks once, naming the count and the group; "no" is exit 130 and nothing written', async () => {
      const store = seeded()
      const questions: string[] = []
      const backup = path.join(dir, 'b.json')
      const error = await refused(
        run(store, await positions(store, [to('0', 50), to('1', 60)]), {
          yes: false,
          backupFile: {path: backup, isDefault: false},
          confirm: async (q) => {
            questions.push(q)
            return false
          },
        }),
      )
      expect(questions).to.deep.equal(['Apply 2 change(s) to ns/hub/$default?'])
      expect([error.code, error.exitCode, error.message]).to.deep.equal(['declined', 130, 'Cancelled; nothing changed.'])
      expect(store.calls).to.deep.equal([])
      expect(existsSync(backup)).to.equal(false)
    })

    it('"yes" at the prompt writes', async () => {
      const store = seeded()
      const {exitCode, result} = await run(store, await positions(store, [to('0', 50)]), {yes: false, confirm: async () => true})
      expect(exitCode).to.equal(0)
      expect(statuses(result)).to.deep.equal(['updated'])
      expect(store.calls).to.have.length(1)
    })

    it("a signal that fired before writing: nothing written, no backup, the signal's exit code", async () => {
      const store = seeded()
      const backup = path.join(dir, 'b.json')
      const plan = await positions(store, [to('0', 50)])
      const controller = new AbortController()
      controller.abort(new Interrupted('SIGTERM'))
      const error = await refused(run(store, plan, {signal: controller.signal, backupFile: {path: backup, isDefault: false}}))
      expect([error.code, error.exitCode]).to.deep.equal(['cancelled', 143])
      const plain = new AbortController()
      plain.abort()
      expect((await refused(run(store, plan, {signal: plain.signal}))).exitCode).to.equal(130)
      expect(store.calls).to.deep.equal([])
      expect(existsSync(backup)).to.equal(false)
    })

    it('a signal during the prompt: nothing written even if the answer was yes', async () => {
      const store = seeded()
      const controller = new AbortController()
      const error = await refused(
        run(store, await positions(store, [to('0', 50)]), {
          yes: false,
          signal: controller.signal,
          confirm: async () => {
            controller.abort(new Interrupted('SIGINT'))
            return true
          },
        }),
      )
      expect(error.exitCode).to.equal(130)
      expect(store.calls).to.deep.equal([])
    })
  })

  describe('the guard', () => {
    it('an active owner on a targeted partition: exit 5 before asking, owners named, nothing written', async () => {
      const store = seeded()
      store.put(ownName('0'), {ownerid: 'proc-a'}, 5_000)
      const plan = await positions(store, [to('0', 50), to('1', 60)])
      const error = await refused(run(store, plan, {yes: false, confirm: () => Promise.reject(new Error('must not ask'))}))
      expect([error.code, error.exitCode]).to.deep.equal(['active-owners', 5])
      expect(error.message).to.contain('(proc-a)').and.to.contain('partitions 0.')
      expect(error.hint).to.contain('--force')
      expect(store.calls).to.deep.equal([])
    })

    it('--force writes anyway and says so, without reading the owners again', async () => {
      const store = seeded()
      store.put(ownName('0'), {ownerid: 'proc-a'}, 5_000)
      const {result, exitCode, said} = await run(store, await positions(store, [to('0', 50)]), {force: true})
      expect(exitCode).to.equal(0)
      expect(statuses(result)).to.deep.equal(['updated'])
      expect(said.notices[0]).to.match(/^--force: writing although 1 partition\(s\) have an active owner \(proc-a\)/)
      expect(store.listed).to.deep.equal([])
    })

    it('an active owner of a partition the change leaves alone blocks nothing', async () => {
      const store = seeded()
      store.put(ownName('1'), {ownerid: 'proc-b'}, 5_000)
      const {exitCode, result} = await run(store, await positions(store, [to('0', 50), to('1', 200)]))
      expect(exitCode).to.equal(0)
      expect(statuses(result)).to.deep.equal(['updated', 'unchanged'])
    })

    it('reads the owners again right before writing, under every stored spelling: one claimed since the plan stops the change', async () => {
      const store = seeded()
      const prefixes = [PREFIX, 'ns/hub/$Default/']
      const plan = await positions(store, [to('0', 50), to('1', 60)], {prefixes})
      expect(plan.items.map((i) => i.ownerState)).to.deep.equal(['none', 'none'])
      const backup = path.join(dir, 'b.json')
      const error = await refused(
        run(store, plan, {
          yes: false,
          backupFile: {path: backup, isDefault: false},
          // A Java processor claims partition 1 under its own spelling while the question is on the screen.
          confirm: async () => {
            store.put(ownName('1', 'ns/hub/$Default/'), {ownerid: 'java-1'}, 0)
            return true
          },
        }),
      )
      expect([error.code, error.exitCode]).to.deep.equal(['active-owners', 5])
      expect(error.message)
        .to.contain('have been claimed since the plan was read')
        .and.to.contain('(java-1)')
        .and.to.contain('partitions 1.')
      expect(store.listed).to.deep.equal(prefixes)
      expect(store.calls).to.deep.equal([])
      expect(existsSync(backup)).to.equal(false)
    })

    it('the re-read holds back nothing for expired owners or for partitions not targeted', async () => {
      const store = seeded()
      store.put(cpName('2'), {sequencenumber: '300', offset: '3000'})
      const plan = await positions(store, [to('0', 50), to('2', 300)])
      store.put(ownName('0'), {ownerid: 'gone'}, 600_000)
      store.put(ownName('1'), {ownerid: 'live'}, 0)
      store.put(ownName('2'), {ownerid: 'live'}, 0)
      const {exitCode, result} = await run(store, plan)
      expect(store.listed).to.deep.equal([PREFIX])
      expect(exitCode).to.equal(0)
      expect(statuses(result)).to.deep.equal(['updated', 'unchanged'])
    })

    it('release-ownership is not guarded: an active owner is released, and nothing is read again', async () => {
      const store = new FakeStore()
      const etag = store.put(ownName('0'), {ownerid: 'proc-a', clientidentifier: 'c'}, 1_000)
      const view = await readGroup(store.asStore, {...GROUP, prefixes: [PREFIX]})
      store.listed.length = 0
      const {exitCode, result} = await run(
        store,
        planOf(planReleases(view, undefined, undefined), {operation: 'release-ownership', guarded: false}),
      )
      expect(exitCode).to.equal(0)
      expect(result.partitions.map((p) => [p.status, p.ownerState])).to.deep.equal([['updated', 'active']])
      expect(store.calls).to.deep.equal([
        {op: 'write', blobName: ownName('0'), metadata: {clientidentifier: 'c', ownerid: ''}, condition: {ifMatch: etag}},
      ])
      expect(store.listed).to.deep.equal([])
    })
  })

  describe('writing', () => {
    it('writes each change under its condition: If-Match the ETag read, If-None-Match * to create, a delete under its ETag', async () => {
      const store = seeded()
      const [e0, e1] = [store.blobs.get(cpName('0'))!.etag, store.blobs.get(cpName('1'))!.etag]
      const view = await readGroup(store.asStore, {...GROUP, prefixes: [PREFIX]})
      const plan = planOf([...planPositions(view, [to('0', 50), to('5', 7)]), ...planDeletes(view, ['1'])])
      const {result, exitCode, said} = await run(store, plan, {concurrency: 1})
      expect(store.calls).to.deep.equal([
        {
          op: 'write',
          blobName: cpName('0'),
          metadata: {clientidentifier: 'host-a', sequencenumber: '50', offset: '500'},
          condition: {ifMatch: e0},
        },
        {op: 'write', blobName: cpName('5'), metadata: {sequencenumber: '7', offset: '70'}, condition: {ifNoneMatch: '*'}},
        {op: 'delete', blobName: cpName('1'), etag: e1},
      ])
      expect(statuses(result)).to.deep.equal(['updated', 'updated', 'updated'])
      expect(result.partitions.map((p) => p.reason)).to.deep.equal([null, null, null])
      expect([result.executed, result.backupFile, result.undoCommand]).to.deep.equal([true, null, null])
      expect(exitCode).to.equal(0)
      expect(store.metadataOf(cpName('0'))).to.deep.equal({clientidentifier: 'host-a', sequencenumber: '50', offset: '500'})
      expect(store.metadataOf(cpName('5'))).to.deep.equal({sequencenumber: '7', offset: '70'})
      expect(store.blobs.has(cpName('1'))).to.equal(false)
      expect(said.progress).to.deep.equal([
        [1, 3],
        [2, 3],
        [3, 3],
      ])
      // The plan was shown before writing, all planned.
      expect(said.shown.map(statuses)).to.deep.equal([['planned', 'planned', 'planned']])
    })

    it('a blob changed since it was read is a conflict: not overwritten, exit 5', async () => {
      const store = seeded()
      const plan = await positions(store, [to('0', 50)])
      // A processor checkpoints between the plan and the write.
      store.put(cpName('0'), {sequencenumber: '105', offset: '1050'}, 0)
      const {result, exitCode} = await run(store, plan)
      expect(result.partitions.map((p) => [p.status, p.reason])).to.deep.equal([
        ['conflict', 'changed since it was read (ETag no longer matches); not overwritten'],
      ])
      expect(store.metadataOf(cpName('0'))).to.deep.equal({sequencenumber: '105', offset: '1050'})
      expect(exitCode).to.equal(5)
    })

    it('a blob created by someone else since the plan is a conflict too', async () => {
      const store = seeded()
      const plan = await positions(store, [to('7', 1)])
      store.put(cpName('7'), {sequencenumber: '3', offset: '30'}, 0)
      const {result, exitCode} = await run(store, plan)
      expect(result.partitions.map((p) => [p.status, p.reason])).to.deep.equal([
        ['conflict', 'created by someone else since it was read; not overwritten'],
      ])
      expect(store.metadataOf(cpName('7'))).to.deep.equal({sequencenumber: '3', offset: '30'})
      expect(exitCode).to.equal(5)
    })

    it('some written and some conflicted: exit 6', async () => {
      const store = seeded()
      const plan = await positions(store, [to('0', 50), to('1', 60)])
      store.put(cpName('1'), {sequencenumber: '201', offset: '2010'}, 0)
      const {result, exitCode} = await run(store, plan)
      expect(statuses(result)).to.deep.equal(['updated', 'conflict'])
      expect(exitCode).to.equal(6)
    })

    it("a failed write is reported with its reason; with nothing written the exit code is the failure's", async () => {
      const store = seeded()
      store.failures.set(cpName('0'), new Error('socket closed by a gremlin'))
      const {result, exitCode} = await run(store, await positions(store, [to('0', 50)]))
      expect(result.partitions.map((p) => [p.status, p.reason])).to.deep.equal([
        ['failed', 'Unexpected failure: socket closed by a gremlin'],
      ])
      expect(exitCode).to.equal(1)
      expect(store.metadataOf(cpName('0'))).to.deep.equal({sequencenumber: '100', offset: '1000', clientidentifier: 'host-a'})
    })

    it('one failure among writes that landed: exit 6', async () => {
      const store = seeded()
      store.failures.set(cpName('0'), new Error('boom'))
      const {result, exitCode} = await run(store, await positions(store, [to('0', 50), to('1', 60)]), {concurrency: 1})
      expect(statuses(result)).to.deep.equal(['failed', 'updated'])
      expect(exitCode).to.equal(6)
    })

    it('storage that stopped answering: the remaining writes are not attempted, exit 7', async () => {
      const store = seeded()
      store.failures.set(cpName('0'), unreachableError('Storage did not answer within 30s.'))
      const {result, exitCode} = await run(store, await positions(store, [to('0', 50), to('1', 60)]), {concurrency: 1})
      expect(result.partitions.map((p) => [p.status, p.reason])).to.deep.equal([
        ['failed', 'Storage did not answer within 30s.'],
        ['failed', 'not attempted: storage stopped answering an earlier write'],
      ])
      expect(store.calls.map((c) => c.blobName)).to.deep.equal([cpName('0')])
      expect(exitCode).to.equal(7)
    })

    it('refused credentials: the remaining writes are not attempted, exit 4', async () => {
      const store = seeded()
      store.failures.set(cpName('0'), authError('Storage refused the request (403).'))
      const {result, exitCode} = await run(store, await positions(store, [to('0', 50), to('1', 60)]), {concurrency: 1})
      expect(result.partitions.map((p) => [p.status, p.reason])).to.deep.equal([
        ['failed', 'Storage refused the request (403).'],
        ['failed', 'not attempted: Storage refused the request (403).'],
      ])
      expect(store.calls).to.have.length(1)
      expect(exitCode).to.equal(4)
    })
  })

  describe('the backup', () => {
    it('is saved whole before the first write (schema 2, what each write leaves), then completed with each outcome', async () => {
      const store = seeded()
      store.put(cpName('2'), {sequencenumber: '300', offset: '3000'})
      store.put(cpName('3'), {sequencenumber: '400', offset: '4000'})
      const etagBefore = (id: string) => store.blobs.get(cpName(id))!.etag
      const [e0, e1, e2] = [etagBefore('0'), etagBefore('1'), etagBefore('2')]
      // 0 is written, 5 created, 1 conflicts, 2's answer is lost (uncertain), 3 is already at its target.
      const plan = await positions(store, [to('0', 50), to('5', 7), to('1', 60), to('2', 70), to('3', 400)])
      store.put(cpName('1'), {sequencenumber: '201', offset: '2010'}, 0)
      store.failures.set(
        cpName('2'),
        new UncertainWriteError('unreachable', 'The service could not be reached (ECONNRESET). The write may have been applied.', 7),
      )
      const file = path.join(dir, 'backup.json')
      let atFirstWrite: unknown
      store.onWrite = () => {
        atFirstWrite ??= JSON.parse(readFileSync(file, 'utf8'))
      }
      const {result, exitCode, said} = await run(store, plan, {backupFile: {path: file, isDefault: false}, concurrency: 1})
      expect(statuses(result)).to.deep.equal(['updated', 'updated', 'conflict', 'failed', 'unchanged'])
      expect(exitCode).to.equal(6)
      expect(result.backupFile).to.equal(file)
      expect(result.undoCommand).to.equal(`ehcp reset --from-file ${file}`)
      expect(said.notices).to.include(`Backup: ${file}\nUndo:   ehcp reset --from-file ${file}`)

      const saved = atFirstWrite as {schemaVersion: number; kind: string; createdAt: string; partitions: unknown[]}
      const entries = [
        {
          partitionId: '0',
          blobName: cpName('0'),
          metadata: {sequencenumber: '100', offset: '1000', clientidentifier: 'host-a'},
          etag: e0,
          written: {clientidentifier: 'host-a', sequencenumber: '50', offset: '500'},
        },
        {partitionId: '5', blobName: cpName('5'), metadata: null, etag: null, written: {sequencenumber: '7', offset: '70'}},
        {
          partitionId: '1',
          blobName: cpName('1'),
          metadata: {sequencenumber: '200', offset: '2000'},
          etag: e1,
          written: {sequencenumber: '60', offset: '600'},
        },
        {
          partitionId: '2',
          blobName: cpName('2'),
          metadata: {sequencenumber: '300', offset: '3000'},
          etag: e2,
          written: {sequencenumber: '70', offset: '700'},
        },
      ]
      expect(saved).to.deep.include({
        schemaVersion: 2,
        kind: 'ehcp-backup',
        container: 'checkpoints',
        namespace: 'ns',
        eventHub: 'hub',
        consumerGroup: '$default',
      })
      expect(saved.partitions, 'before the first write: no outcomes yet, and only the blobs to be changed').to.deep.equal(entries)

      const completed = JSON.parse(readFileSync(file, 'utf8')) as typeof saved
      expect(completed.createdAt).to.equal(saved.createdAt)
      expect(completed).to.deep.include({schemaVersion: 2, kind: 'ehcp-backup'})
      expect(completed.partitions).to.deep.equal([
        {...entries[0], outcome: 'written', writtenEtag: store.blobs.get(cpName('0'))!.etag},
        {...entries[1], outcome: 'written', writtenEtag: store.blobs.get(cpName('5'))!.etag},
        {...entries[2], outcome: 'not-written'},
        {...entries[3], outcome: 'unknown'},
      ])
      // No temporary file is left beside it.
      expect(existsSync(`${file}.${process.pid}.tmp`)).to.equal(false)
    })

    it('a default name never replaces an earlier backup: it gets a numeric suffix', async () => {
      const store = seeded()
      const file = path.join(dir, 'ehcp-backup-hub-$default.json')
      writeFileSync(file, 'earlier')
      const {result} = await run(store, await positions(store, [to('0', 50)]), {backupFile: {path: file, isDefault: true}})
      expect(result.backupFile).to.equal(path.join(dir, 'ehcp-backup-hub-$default-1.json'))
      expect(readFileSync(file, 'utf8')).to.equal('earlier')
      expect(JSON.parse(readFileSync(result.backupFile!, 'utf8')).partitions).to.have.length(1)
    })

    it('a named backup file that exists is not replaced: exit 2 and nothing written to storage', async () => {
      const store = seeded()
      const file = path.join(dir, 'mine.json')
      writeFileSync(file, 'keep me')
      const error = await refused(run(store, await positions(store, [to('0', 50)]), {backupFile: {path: file, isDefault: false}}))
      expect(error.exitCode).to.equal(2)
      expect(error.message).to.contain('Nothing was written to storage.')
      expect(readFileSync(file, 'utf8')).to.equal('keep me')
      expect(store.calls).to.deep.equal([])
    })
  })

  describe('stopping and concurrency', () => {
    it('a signal while writing: the write in flight finishes, no new one starts, the rest are reported, exit 130', async () => {
      const store = seeded()
      for (const id of ['2', '3', '4']) store.put(cpName(id), {sequencenumber: '1', offset: '1'})
      const plan = await positions(
        store,
        ['0', '1', '2', '3', '4'].map((id) => to(id, 50)),
      )
      const controller = new AbortController()
      store.onWrite = () => controller.abort(new Interrupted('SIGINT'))
      store.delayMs = 2
      const file = path.join(dir, 'backup.json')
      const {result, exitCode} = await run(store, plan, {
        signal: controller.signal,
        concurrency: 2,
        backupFile: {path: file, isDefault: false},
      })
      expect(store.calls.map((c) => c.blobName)).to.deep.equal([cpName('0')])
      expect(result.partitions.map((p) => [p.partitionId, p.status, p.reason])).to.deep.equal([
        ['0', 'updated', null],
        ...['1', '2', '3', '4'].map((id) => [id, 'failed', 'not attempted: Stopped by SIGINT']),
      ])
      expect(exitCode).to.equal(130)
      const outcomes = (JSON.parse(readFileSync(file, 'utf8')) as {partitions: Array<{outcome: string}>}).partitions.map((p) => p.outcome)
      expect(outcomes).to.deep.equal(['written', 'not-written', 'not-written', 'not-written', 'not-written'])
    })

    for (const concurrency of [1, 3, 8]) {
      it(`never more than --concurrency ${concurrency} writes in flight, and that many when there is work`, async () => {
        const store = new FakeStore()
        const ids = Array.from({length: 12}, (_, i) => String(i))
        for (const id of ids) store.put(cpName(id), {sequencenumber: '100', offset: '1000'})
        store.delayMs = 1
        const {result, exitCode, said} = await run(
          store,
          await positions(
            store,
            ids.map((id) => to(id, 5)),
          ),
          {concurrency},
        )
        expect(store.calls).to.have.length(12)
        expect(store.maxInFlight).to.equal(concurrency)
        expect(exitCode).to.equal(0)
        expect(statuses(result).every((s) => s === 'updated')).to.equal(true)
        expect(said.progress.map(([done]) => done)).to.deep.equal(ids.map((_, i) => i + 1))
      })
    }

    it('more workers than writes: each write once, all at once', async () => {
      const store = seeded()
      store.delayMs = 1
      const {result} = await run(store, await positions(store, [to('0', 50), to('1', 60)]), {concurrency: 16})
      expect(store.calls).to.have.length(2)
      expect(store.maxInFlight).to.equal(2)
      expect(statuses(result)).to.deep.equal(['updated', 'updated'])
    })
  })
})
