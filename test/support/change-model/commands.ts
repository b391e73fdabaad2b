/**
 * The commands of the stateful test: ehcp changes and undos (in-process, through the commands' pipeline),
 * a simulated processor (claims, heartbeats, checkpoints), other writers, blob leases. Each command does its
 * thing to the real container, states what the model expects of it, updates the model, and then the whole
 * container is compared with the model.
 */
import {randomUUID} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import type {AsyncCommand} from 'fast-check'
import {expect} from 'chai'

import type {PartitionResult} from '../../../src/change/execute.js'
import {type ChangeSpec, runChange} from './ehcp-adapter.js'
import {type ExpectedPlan, expectedPlan} from './expect-plan.js'
import {checkBackupFile, MAY_HAVE_BEEN_APPLIED, type Metadata, type ModelEntry, recordedOutcome} from './undo-spec.js'
import {
  checkpointName,
  checkWorld,
  MAIN,
  type Model,
  NS,
  HUB,
  OTHER,
  ownershipName,
  type Real,
  readContainer,
  scopeOf,
  type Stored,
  unquote,
} from './world.js'

const BOGUS_ETAG = '"0x8DEADBEEF000000"'

const restStatus = (error: unknown) => (error as {statusCode?: number}).statusCode

/** Runs a direct write; true when it succeeded, false when storage refused it (status given), anything else throws. */
async function attempt(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn()
    return true
  } catch (error) {
    if (restStatus(error) === undefined) throw error
    return false
  }
}

const show = (m: Metadata | null | undefined) => (m === undefined || m === null ? 'absent' : JSON.stringify(m))

/** One step: do it, then compare the whole container with the model (with the snapshot the step read last, if any). */
async function step(model: Model, real: Real, label: string, body: () => Promise<Map<string, Stored> | void>): Promise<void> {
  real.stats.steps++
  real.log.push(label)
  const started = Date.now()
  const snapshot = await body()
  await checkWorld(model, real, label, snapshot ?? undefined)
  const kind = label.split(/[ (]/)[0] + (label.includes('faults(') ? '+faults' : '')
  real.stats.ms[kind] = (real.stats.ms[kind] ?? 0) + Date.now() - started
}

// ---------------------------------------------------------------- processor and other writers

export class Claim implements AsyncCommand<Model, Real> {
  constructor(
    readonly p: string,
    readonly owner: string,
    readonly stale: boolean,
  ) {}
  check = () => true
  toString = () => `claim(${this.p}, ${this.owner}${this.stale ? ', stale etag' : ''})`
  async run(model: Model, real: Real) {
    await step(model, real, this.toString(), async () => {
      const name = ownershipName(this.p)
      const blob = real.client.getBlockBlobClient(name)
      const exists = model.blobs.has(name)
      const etag = this.stale ? BOGUS_ETAG : model.etags.get(name)
      const ok = exists
        ? await attempt(() => blob.setMetadata({ownerid: this.owner}, {conditions: {ifMatch: etag}}))
        : await attempt(() =>
            blob.upload('', 0, {metadata: {ownerid: this.owner}, conditions: this.stale ? {ifMatch: etag} : {ifNoneMatch: '*'}}),
          )
      expect(ok, `${this}: the claim succeeds exactly when its ETag is current and no lease blocks it`).to.equal(
        !this.stale && !model.leases.has(name),
      )
      if (ok) model.blobs.set(name, {ownerid: this.owner})
    })
  }
}

export class Heartbeat implements AsyncCommand<Model, Real> {
  constructor(readonly p: string) {}
  check = (model: Readonly<Model>) => model.blobs.has(ownershipName(this.p))
  toString = () => `heartbeat(${this.p})`
  async run(model: Model, real: Real) {
    await step(model, real, this.toString(), async () => {
      const name = ownershipName(this.p)
      const metadata = model.blobs.get(name)!
      const ok = await attempt(() =>
        real.client.getBlockBlobClient(name).setMetadata(metadata, {conditions: {ifMatch: model.etags.get(name)}}),
      )
      expect(ok, `${this}: succeeds unless leased`).to.equal(!model.leases.has(name))
    })
  }
}

export class Checkpoint implements AsyncCommand<Model, Real> {
  constructor(
    readonly p: string,
    readonly group: string,
    readonly official: boolean,
  ) {}
  check = () => true
  toString = () => `checkpoint(${this.group}/${this.p}, ${this.official ? 'official store' : 'conditional'})`
  async run(model: Model, real: Real) {
    await step(model, real, this.toString(), async () => {
      const n = 1000 + 10 * ++model.counter
      const name = checkpointName(this.group, this.p)
      const metadata = {sequencenumber: String(n), offset: `p${n}`}
      const blob = real.client.getBlockBlobClient(name)
      const ok = this.official
        ? await attempt(() =>
            real.official.updateCheckpoint({
              fullyQualifiedNamespace: NS,
              eventHubName: HUB,
              consumerGroup: this.group,
              partitionId: this.p,
              sequenceNumber: n,
              offset: `p${n}`,
            } as never),
          )
        : model.blobs.has(name)
          ? await attempt(() => blob.setMetadata(metadata, {conditions: {ifMatch: model.etags.get(name)}}))
          : await attempt(() => blob.upload('', 0, {metadata, conditions: {ifNoneMatch: '*'}}))
      expect(ok, `${this}: succeeds unless leased`).to.equal(!model.leases.has(name))
      if (ok) model.blobs.set(name, metadata)
    })
  }
}

export type OtherWrite = 'foreign-key' | 'upper-case-keys' | 'garbage' | 'delete'

/** Someone else writes a blob unconditionally: a .NET host with its client id, a Java writer, a broken tool, a cleanup. */
export class OtherWriter implements AsyncCommand<Model, Real> {
  constructor(
    readonly p: string,
    readonly group: string,
    readonly kind: 'checkpoint' | 'ownership',
    readonly write: OtherWrite,
  ) {}
  check = () => true
  toString = () => `other-writer(${this.group}/${this.kind}/${this.p}, ${this.write})`
  async run(model: Model, real: Real) {
    await step(model, real, this.toString(), async () => {
      const name = this.kind === 'checkpoint' ? checkpointName(this.group, this.p) : ownershipName(this.p)
      const n = 1000 + 10 * ++model.counter + 1
      const blob = real.client.getBlockBlobClient(name)
      if (this.write === 'delete') {
        const ok = await attempt(() => blob.deleteIfExists())
        expect(ok, `${this}: succeeds unless leased`).to.equal(!model.leases.has(name))
        if (ok) model.blobs.delete(name)
        return
      }
      const metadata: Metadata =
        this.kind === 'checkpoint'
          ? {
              foreign: {sequencenumber: String(n), offset: `w${n}`, clientidentifier: `host-${n}`},
              upper: {SequenceNumber: String(n), Offset: `w${n}`},
              garbage: {sequencenumber: 'not-a-number', offset: `w${n}`},
            }[this.write === 'foreign-key' ? 'foreign' : this.write === 'upper-case-keys' ? 'upper' : 'garbage']!
          : {foreign: {ownerid: `w${n}`, clientidentifier: `host-${n}`}, upper: {OwnerId: `w${n}`}, garbage: {}}[
              this.write === 'foreign-key' ? 'foreign' : this.write === 'upper-case-keys' ? 'upper' : 'garbage'
            ]!
      const ok = await attempt(() => blob.upload('', 0, {metadata}))
      expect(ok, `${this}: succeeds unless leased`).to.equal(!model.leases.has(name))
      if (ok) model.blobs.set(name, metadata)
    })
  }
}

export class Lease implements AsyncCommand<Model, Real> {
  constructor(
    readonly p: string,
    readonly kind: 'checkpoint' | 'ownership',
  ) {}
  private name = () => (this.kind === 'checkpoint' ? checkpointName(MAIN, this.p) : ownershipName(this.p))
  check = (model: Readonly<Model>) => model.blobs.has(this.name()) && !model.leases.has(this.name())
  toString = () => `lease(${this.kind}/${this.p})`
  async run(model: Model, real: Real) {
    await step(model, real, this.toString(), async () => {
      const id = randomUUID()
      await real.client.getBlockBlobClient(this.name()).getBlobLeaseClient(id).acquireLease(-1)
      model.leases.set(this.name(), id)
    })
  }
}

export class Unlease implements AsyncCommand<Model, Real> {
  constructor(readonly i: number) {}
  check = (model: Readonly<Model>) => model.leases.size > 0
  toString = () => `unlease(#${this.i})`
  async run(model: Model, real: Real) {
    await step(model, real, this.toString(), async () => {
      const [name, id] = [...model.leases][this.i % model.leases.size]!
      await real.client.getBlockBlobClient(name).getBlobLeaseClient(id).releaseLease()
      model.leases.delete(name)
    })
  }
}

// ---------------------------------------------------------------- ehcp changes

export type RaceKind = 'checkpoint-or-heartbeat' | 'delete'

export interface ChangeOptions {
  force: boolean
  concurrency: number
  backup: boolean
  /** A write that lands after planning, before ehcp writes the n-th target (modulo the target count). */
  race: {target: number; kind: RaceKind} | null
  /** Abort the signal (Ctrl-C, SIGTERM) once this many writes finished. */
  abortAfter: number | null
  /** Faults on ehcp's connection: per-request probabilities, and the seed of their schedule. */
  faults: {lose: number; reset: number; unavailable: number; seed: number; schedule?: WriteFate[]} | null
}

/** What happens to each of ehcp's writes (PUT/DELETE requests, retries included), in order: for exact repros. */
export type WriteFate = 'pass' | 'lose' | '503'

function describeOptions(o: ChangeOptions): string {
  const parts = [o.force ? '--force' : '', `--concurrency ${o.concurrency}`, o.backup ? '' : '--no-backup']
  if (o.race) parts.push(`race(${o.race.kind} before target #${o.race.target})`)
  if (o.abortAfter !== null) parts.push(`abort after ${o.abortAfter} write(s)`)
  if (o.faults?.schedule) parts.push(`write requests: ${o.faults.schedule.join(', ')}`)
  else if (o.faults)
    parts.push(`faults(lose ${o.faults.lose}, reset ${o.faults.reset}, 503 ${o.faults.unavailable}, seed ${o.faults.seed})`)
  return parts.filter(Boolean).join(' ')
}

function exitCodeFor(rows: PartitionResult[], aborted: boolean, failureCodes: number[]): number[] {
  const count = (s: string) => rows.filter((r) => r.status === s).length
  const [updated, conflicts, failed] = [count('updated'), count('conflict'), count('failed')]
  if (aborted) return [130]
  if (conflicts + failed === 0) return [0]
  if (updated > 0) return [6]
  if (failed === 0) return [5]
  return failureCodes
}

let backupCounter = 0

/**
 * One ehcp change (or undo) and everything the model says of it: the plan's targets, each row's status,
 * storage after each row, the exit code, the backup file.
 */
async function runEhcpStep(
  model: Model,
  real: Real,
  label: string,
  spec: ChangeSpec,
  o: ChangeOptions,
  undoOf?: {entries: ModelEntry[]},
): Promise<Map<string, Stored> | void> {
  const isUndo = spec.kind === 'undo'
  if (isUndo) real.stats.undos++
  else real.stats.changes++
  const expected: ExpectedPlan = expectedPlan(model, spec, o.force, undoOf)
  const backupFile = o.backup ? path.join(real.dir, `backup-${++backupCounter}.json`) : null
  const controller = new AbortController()
  const store = real.store
  const writesAtStart = store.writes

  // The race: a processor (or a cleanup) writes the blob of one target after planning, before ehcp writes it.
  const raced = o.race && expected.targets.length > 0 ? expected.targets[o.race.target % expected.targets.length]! : null
  let race: {landed: boolean; after: Metadata | null} | null = null
  store.beforeWrite = raced
    ? async (blobName) => {
        if (blobName !== raced.blobName || race) return
        const blob = real.client.getBlockBlobClient(blobName)
        const current = model.blobs.get(blobName) ?? null
        const n = 1000 + 10 * ++model.counter + 2
        if (o.race!.kind === 'delete') {
          if (current === null) {
            race = {landed: false, after: null}
            return
          }
          race = {landed: await attempt(() => blob.delete()), after: null}
        } else {
          const after: Metadata = blobName.includes('/ownership/') ? {ownerid: `racer-${n}`} : {sequencenumber: String(n), offset: `r${n}`}
          race = {landed: await attempt(() => blob.upload('', 0, {metadata: after})), after}
        }
        expect(race!.landed || current === null || model.leases.has(blobName), `${label}: the racing write lands unless leased`).to.equal(
          true,
        )
      }
    : undefined
  store.afterWrite = o.abortAfter !== null ? () => store.writes - writesAtStart >= o.abortAfter! && controller.abort() : undefined
  if (o.faults) {
    let s = o.faults.seed >>> 0
    const random = () => {
      s = (s + 0x6d2b79f5) >>> 0
      let t = s
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    real.faults = {
      lose: o.faults.lose,
      reset: o.faults.reset,
      unavailable: o.faults.unavailable,
      random,
      schedule: o.faults.schedule ? [...o.faults.schedule] : undefined,
      loseNext: false,
    }
    real.stats.faultSteps++
  }
  let outcome
  try {
    outcome = await runChange(store, scopeOf(MAIN), spec, {
      force: o.force,
      concurrency: o.concurrency,
      backupFile,
      signal: controller.signal,
    })
  } finally {
    real.faults = null
    store.beforeWrite = undefined
    store.afterWrite = undefined
  }
  const r = race as {landed: boolean; after: Metadata | null} | null
  const raceLanded = Boolean(r?.landed)
  if (raceLanded) {
    real.stats.races++
    if (r!.after === null) model.blobs.delete(raced!.blobName)
    else model.blobs.set(raced!.blobName, r!.after)
  }
  const what = `${label}\n  outcome: exit ${outcome.exitCode}${outcome.error ? ` ${outcome.error.code}: ${outcome.error.message}` : ''}\n  rows: ${JSON.stringify(outcome.result?.partitions.map((p) => [p.blobName.split('/').slice(3).join('/'), p.action, p.status, p.reason]))}\n  expected targets: ${JSON.stringify(expected.targets.map((t) => [t.blobName.split('/').slice(3).join('/'), show(t.written)]))}${expected.error ? ` (expected exit ${expected.error})` : ''}`

  // Stopped before writing: the expected error, nothing written, no backup.
  if (expected.error !== undefined || outcome.error) {
    if (outcome.error) real.stats.errors++
    if (expected.error === 5) real.stats.refused++
    if (expected.error !== undefined && !o.faults)
      expect(outcome.exitCode, `${what}\n  the change stops with the expected exit code`).to.equal(expected.error)
    else if (expected.error !== undefined) expect(outcome.error, `${what}\n  the change stops`).to.not.equal(undefined)
    else expect(o.faults, `${what}\n  only faults stop a change the model expects to run`).to.not.equal(null)
    expect(race, `${what}\n  no write was attempted`).to.equal(null)
    if (backupFile) expect(existsSync(backupFile), `${what}\n  no backup is written when nothing is`).to.equal(false)
    return
  }

  const result = outcome.result!
  const rows = result.partitions
  const aborted = controller.signal.aborted
  if (aborted) real.stats.aborts++
  // Every expected target has a row; every other row is left alone.
  const targetNames = new Set(expected.targets.map((t) => t.blobName))
  for (const t of expected.targets)
    expect(
      rows.map((p) => p.blobName),
      `${what}\n  a row for ${t.blobName}`,
    ).to.include(t.blobName)
  const others = rows.filter((p) => !targetNames.has(p.blobName))
  for (const row of others) {
    const alone = expected.leftAlone.find((a) => a.blobName === row.blobName)
    const allowed = alone ? alone.expectation.leftAlone : ['unchanged']
    expect(allowed, `${what}\n  row ${row.blobName} is left alone`).to.include(row.status)
    if (alone?.expectation.reason && row.status === 'conflict')
      expect(row.reason ?? '', `${what}\n  why ${row.blobName} was left alone`).to.match(alone.expectation.reason)
  }
  if (isUndo)
    expect(rows.map((p) => p.blobName).sort(), `${what}\n  one row per backup entry`).to.deep.equal(
      undoOf!.entries.map((e) => e.blobName).sort(),
    )

  // Each target row: a status the circumstances allow, and storage that agrees with it.
  const stored = await readContainer(real.client)
  const attempted = rows.filter((p) => targetNames.has(p.blobName) && !(p.status === 'failed' && /^not attempted/.test(p.reason ?? '')))
  const entries: ModelEntry[] = []
  for (const t of expected.targets) {
    const row = rows.find((p) => p.blobName === t.blobName)!
    real.stats.rows[row.status] = (real.stats.rows[row.status] ?? 0) + 1
    const leased = model.leases.has(t.blobName)
    const isRaced = raceLanded && raced!.blobName === t.blobName
    const allowed = new Set<string>(leased || isRaced ? ['conflict'] : ['updated'])
    // Someone else deleted what ehcp deletes: the blob holds the new state, which ehcp reports as already held.
    if (isRaced && t.written === null && r!.after === null) allowed.add('updated')
    if (o.faults) allowed.add('failed')
    if (aborted) allowed.add('failed')
    if (leased && row.status === 'conflict') real.stats.leasedConflicts++
    const rowWhat = `${what}\n  row ${t.blobName} (${row.status}: ${row.reason})`
    expect([...allowed], `${rowWhat}: status`).to.include(row.status)
    if (row.status === 'failed' && !o.faults)
      expect(row.reason, `${rowWhat}: only writes not attempted fail without faults`).to.match(/^not attempted: cancelled/)
    const now = stored.get(t.blobName)?.metadata ?? null
    const modelNow = model.blobs.get(t.blobName) ?? null
    const mayHaveLanded = row.status === 'failed' && MAY_HAVE_BEEN_APPLIED.test(row.reason ?? '')
    if (mayHaveLanded) real.stats.mayHaveBeenApplied++
    if (row.status === 'updated') {
      expect(show(now), `${rowWhat}: reported updated, so the blob holds what ehcp wrote`).to.equal(show(t.written))
    } else if (mayHaveLanded) {
      expect([show(modelNow), show(t.written)], `${rowWhat}: the write may have landed, or not`).to.include(show(now))
    } else {
      expect(show(now), `${rowWhat}: not written, so the blob is as it was`).to.equal(show(modelNow))
    }
    if (now === null) model.blobs.delete(t.blobName)
    else model.blobs.set(t.blobName, now)
    // A write answered directly (no note: not settled by reading back) tells its ETag, and the backup keeps it.
    const writtenEtag = row.status === 'updated' && row.reason === null && now !== null ? stored.get(t.blobName)!.etag : undefined
    entries.push({
      partitionId: t.partitionId,
      blobName: t.blobName,
      before: t.before,
      beforeEtag: model.etags.get(t.blobName) ?? null,
      written: t.written,
      outcome: recordedOutcome(row),
      ...(writtenEtag ? {writtenEtag} : {}),
    })
  }
  if (aborted) {
    expect(attempted.length, `${what}\n  after abort: at least the writes before it`).to.be.at.least(
      Math.min(o.abortAfter!, expected.targets.length),
    )
    expect(attempted.length, `${what}\n  after abort: no write starts (only those in flight finish)`).to.be.at.most(
      o.abortAfter! + o.concurrency - 1,
    )
  } else if (!o.faults) {
    expect(attempted.length, `${what}\n  every target attempted`).to.equal(expected.targets.length)
  }
  const codes = exitCodeFor(
    rows.filter((p) => targetNames.has(p.blobName)),
    aborted,
    [1, 7],
  )
  const withLeftAlone = exitCodeFor(rows, aborted, [1, 7])
  expect([...codes, ...(isUndo ? withLeftAlone : [])], `${what}\n  exit code`).to.include(outcome.exitCode)

  // The backup: written before the first write when there is something to write.
  if (backupFile && expected.targets.length > 0) {
    expect(result.backupFile, `${what}\n  the backup named in the report`).to.equal(backupFile)
    expect(existsSync(backupFile), `${what}\n  the backup exists`).to.equal(true)
    if (real.checkBackupFormat)
      checkBackupFile(
        readFileSync(backupFile, 'utf8'),
        entries.map((e) => ({...e, beforeEtag: unquote(e.beforeEtag)})),
        what,
      )
    model.changes.push({label, backupFile, entries})
  } else if (backupFile) {
    expect(existsSync(backupFile), `${what}\n  nothing to write, no backup`).to.equal(false)
  }
  return stored
}

export class EhcpChange implements AsyncCommand<Model, Real> {
  constructor(
    readonly spec: Exclude<ChangeSpec, {kind: 'undo'}>,
    readonly options: ChangeOptions,
  ) {}
  check = () => true
  toString = () => `ehcp ${JSON.stringify(this.spec)} ${describeOptions(this.options)}`
  async run(model: Model, real: Real) {
    await step(model, real, this.toString(), () => runEhcpStep(model, real, this.toString(), this.spec, this.options))
  }
}

/** `ehcp reset --from-file <backup of an earlier change> --yes [--force]`: the undo. */
export class EhcpUndo implements AsyncCommand<Model, Real> {
  constructor(
    readonly which: number,
    readonly options: ChangeOptions,
  ) {}
  check = (model: Readonly<Model>) => model.changes.length > 0
  toString = () => `ehcp undo(change #${this.which} from the latest) ${describeOptions(this.options)}`
  async run(model: Model, real: Real) {
    const change = model.changes[Math.max(0, model.changes.length - 1 - (this.which % model.changes.length))]!
    const label = `${this} = undo of [${change.label}]`
    await step(model, real, label, () =>
      runEhcpStep(model, real, label, {kind: 'undo', backupFile: change.backupFile}, this.options, change),
    )
  }
}

export {OTHER}
