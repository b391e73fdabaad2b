/**
 * The commands of the legacy change model. ehcp runs as users run it (the built binary, `--json`, the undo
 * command exactly as printed); hosts act as EventProcessorHost and Go's LeaserCheckpointer do (acquire a blob
 * lease, write their body under it, renew, release). Each command predicts its exit code and the exact bytes,
 * metadata and lease of every blob afterwards; `checkWorld` then compares all of storage with the model.
 */
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'
import type fc from 'fast-check'

import type {ChangeResult} from '../../../src/change/execute.js'
import {type CliResult, describeRun, runEhcp, runPrinted} from '../cli.js'
import {
  BLOBS,
  bodyOwner,
  cloneBlob,
  expectedContainer,
  type Group,
  GROUP_WORDS,
  isLeased,
  type Model,
  type ModelBlob,
  nextLeaseId,
  positionOf,
  type Real,
  readContainer,
  type RecordedChange,
  render,
  specOf,
  template,
} from './world.js'

/** Go's zero time: what ehcp writes as the enqueue time of a checkpoint it creates in place of null. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z'
/** The enqueue time a Go host records with its checkpoints. */
const HOST_TIME = '2026-12-01T00:00:00.5Z'

type Cmd = fc.AsyncCommand<Model, Real>

// -------------------------------------------------------------------------------------------------------------
// Checking the world

/** Storage holds exactly what the model says; where the model saw no write, the ETag is the one seen before. */
export async function checkWorld(model: Model, real: Real, what: string): Promise<void> {
  const etags = real.etags
  const actual = await readContainer(real.client)
  const expected = expectedContainer(model)
  const comparable = new Map([...actual].map(([n, b]) => [n, {body: b.body, metadata: b.metadata, lease: b.lease}]))
  expect(comparable, `after ${what}\n${real.log.join('\n')}`).to.deep.equal(expected)
  for (const [name, b] of model.blobs) {
    const seen = etags.get(name)
    const etag = actual.get(name)!.etag
    if (seen && seen.version === b.version)
      expect(etag, `${name}: written although the model saw no write, after ${what}`).to.equal(seen.etag)
    if (seen && seen.version !== b.version)
      expect(etag, `${name}: not written although the model says it was, after ${what}`).not.to.equal(seen.etag)
    etags.set(name, {version: b.version, etag})
  }
}

// -------------------------------------------------------------------------------------------------------------
// Running ehcp

async function ehcp(real: Real, args: string[]): Promise<CliResult> {
  real.stats.ehcp++
  return runEhcp([...args, '--emulator', '--container', real.container, '--json'], {
    cwd: real.dir,
    env: {EHCP_EMULATOR_BLOB_ENDPOINT: real.blobEndpoint},
  })
}

function noteExit(real: Real, kind: string, r: CliResult): void {
  real.stats.exitCodes[`${kind} ${r.code}`] = (real.stats.exitCodes[`${kind} ${r.code}`] ?? 0) + 1
}

/** A report's rows, when the run printed one. */
function rowsOf(r: CliResult): ChangeResult['partitions'] {
  try {
    return (JSON.parse(r.stdout) as ChangeResult).partitions ?? []
  } catch {
    return []
  }
}

/** The blob as a position change leaves it: only the position fields, and the lease ended by the Put Blob. */
function rewritten(name: string, b: ModelBlob, to: {sequenceNumber: number; offset: string}): ModelBlob {
  const next = cloneBlob(b)
  if (specOf(name).group === 'go') {
    const t = template(b.template)
    next.checkpoint = b.checkpoint
      ? {...b.checkpoint, offset: to.offset, sequenceNumber: to.sequenceNumber}
      : {offset: to.offset, sequenceNumber: to.sequenceNumber, enqueueTime: GO_ZERO_TIME, colon: t.colon, comma: t.comma}
  } else {
    next.offset = to.offset
    next.sequenceNumber = to.sequenceNumber
  }
  next.lease = {kind: 'free'}
  next.version++
  return next
}

/** Records a change that wrote, with the undo command it printed. */
function record(model: Model, r: CliResult, label: string, forced: boolean, entries: RecordedChange['entries']): void {
  const result = r.json<ChangeResult>()
  expect(result.undoCommand, `${label} printed its undo\n${describeRun(r)}`).to.be.a('string')
  model.changes.push({label, undoCommand: result.undoCommand!, forced, entries})
}

interface Target {
  name: string
  to: {sequenceNumber: number; offset: string}
}

/**
 * `set` or `reset --from-file` of positions: the model's prediction, the run, the comparison of exit codes,
 * and the model moved on.
 */
async function positionChange(
  model: Model,
  real: Real,
  label: string,
  args: string[],
  targets: Target[],
  options: {force: boolean; dryRun: boolean},
): Promise<void> {
  const writes = targets.filter(({name, to}) => {
    const b = model.blobs.get(name)!
    const at = positionOf(name, b)
    if (at && at.sequenceNumber === to.sequenceNumber && at.offset === to.offset) return false
    if (!template(b.template).rewritable) {
      real.stats.refusedRewrites++
      return false
    }
    return true
  })
  const refused = !options.dryRun && !options.force && writes.some(({name}) => isLeased(model.blobs.get(name)!))
  const expectedCode = refused ? 5 : 0
  const r = await ehcp(real, [...args, ...(options.force ? ['--force'] : []), ...(options.dryRun ? ['--dry-run'] : ['--yes'])])
  noteExit(real, label.split(' ')[0]!, r)
  expect(r.code, `${label}\n${describeRun(r)}`).to.equal(expectedCode)
  if (refused || options.dryRun || writes.length === 0) return
  const entries: RecordedChange['entries'] = []
  for (const {name, to} of writes) {
    const before = model.blobs.get(name)!
    // A lease broken here: its host finds out at its next renewal or checkpoint.
    if (isLeased(before)) real.stats.forcedBreaks++
    const after = rewritten(name, before, to)
    model.blobs.set(name, after)
    entries.push({name, before: cloneBlob(before), after: cloneBlob(after)})
  }
  const rows = rowsOf(r)
  expect(
    rows.filter((row) => row.status === 'updated').map((row) => row.blobName),
    label,
  ).to.have.members(writes.map((w) => w.name))
  record(model, r, label, options.force, entries)
}

export class EhcpSet implements Cmd {
  constructor(
    readonly blob: string,
    readonly sequenceNumber: number,
    readonly offset: string,
    readonly force: boolean,
    readonly dryRun: boolean,
  ) {}
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    const {group, pid} = specOf(this.blob)
    const args = [
      'set',
      ...GROUP_WORDS[group],
      '--partition',
      pid,
      `--sequence-number=${this.sequenceNumber}`,
      `--offset=${this.offset}`,
      '--backup-file',
      path.join(real.dir, `backup-${++real.steps}.json`),
    ]
    await positionChange(
      model,
      real,
      this.toString(),
      args,
      [{name: this.blob, to: {sequenceNumber: this.sequenceNumber, offset: this.offset}}],
      this,
    )
  }
  toString = () => `set ${this.blob} ${this.sequenceNumber}/${this.offset}${this.force ? ' --force' : ''}${this.dryRun ? ' --dry-run' : ''}`
}

/** `reset --layout L --from-file positions.json` (the JSON of `show`) for some partitions of a group. */
export class EhcpResetFromFile implements Cmd {
  constructor(
    readonly group: Group,
    readonly positions: Array<{pid: string; sequenceNumber: number; offset: string}>,
    readonly force: boolean,
    readonly dryRun: boolean,
  ) {}
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    const step = ++real.steps
    const file = path.join(real.dir, `positions-${step}.json`)
    writeFileSync(
      file,
      JSON.stringify({
        schemaVersion: 1,
        partitions: this.positions.map((p) => ({partitionId: p.pid, checkpoint: {sequenceNumber: p.sequenceNumber, offset: p.offset}})),
      }),
    )
    const args = ['reset', ...GROUP_WORDS[this.group], '--from-file', file, '--backup-file', path.join(real.dir, `backup-${step}.json`)]
    const targets = this.positions.map((p) => ({
      name: BLOBS.find((b) => b.group === this.group && b.pid === p.pid)!.name,
      to: {sequenceNumber: p.sequenceNumber, offset: p.offset},
    }))
    await positionChange(model, real, this.toString(), args, targets, this)
  }
  toString = () =>
    `reset ${this.group} --from-file ${this.positions.map((p) => `${p.pid}=${p.sequenceNumber}/${p.offset}`).join(',')}${this.force ? ' --force' : ''}${this.dryRun ? ' --dry-run' : ''}`
}

/** `release-ownership --layout L` (optionally --partition, --owner, --force): breaks the leases held. */
export class EhcpRelease implements Cmd {
  constructor(
    readonly group: Group,
    readonly pid: string | undefined,
    readonly owner: string | undefined,
    readonly force: boolean,
    readonly dryRun: boolean,
  ) {}
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    const step = ++real.steps
    const selected = BLOBS.filter((b) => b.group === this.group && (this.pid === undefined || b.pid === this.pid))
    const items = selected.filter(({name}) => {
      const b = model.blobs.get(name)!
      return this.owner === undefined || b.metadata.OWNINGHOST === this.owner || bodyOwner(b) === this.owner
    })
    const leased = items.filter(({name}) => isLeased(model.blobs.get(name)!))
    const blanket = this.pid === undefined && this.owner === undefined
    const expectedCode = this.owner !== undefined && items.length === 0 ? 3 : blanket && !this.force && leased.length > 0 ? 2 : 0
    const r = await ehcp(real, [
      'release-ownership',
      ...GROUP_WORDS[this.group],
      ...(this.pid === undefined ? [] : ['--partition', this.pid]),
      ...(this.owner === undefined ? [] : ['--owner', this.owner]),
      ...(this.force ? ['--force'] : []),
      '--backup-file',
      path.join(real.dir, `backup-${step}.json`),
      ...(this.dryRun ? ['--dry-run'] : ['--yes']),
    ])
    noteExit(real, 'release', r)
    expect(r.code, `${this.toString()}\n${describeRun(r)}`).to.equal(expectedCode)
    if (expectedCode !== 0 || this.dryRun || leased.length === 0) return
    const entries: RecordedChange['entries'] = []
    for (const {name} of leased) {
      const before = model.blobs.get(name)!
      const after = {...cloneBlob(before), lease: {kind: 'broken' as const}}
      model.blobs.set(name, after)
      entries.push({name, before: cloneBlob(before), after: cloneBlob(after)})
    }
    // A release is not guarded: its undo needs no --force.
    record(model, r, this.toString(), false, entries)
  }
  toString = () =>
    `release-ownership ${this.group}${this.pid === undefined ? '' : ` --partition ${this.pid}`}${this.owner === undefined ? '' : ` --owner ${this.owner}`}${this.force ? ' --force' : ''}${this.dryRun ? ' --dry-run' : ''}`
}

const sameMetadata = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort())

/** Runs the undo command a change printed, exactly as printed (plus --json and a backup file of its own). */
export class EhcpUndo implements Cmd {
  constructor(
    readonly which: number,
    readonly dryRun = false,
  ) {}
  check = (m: Readonly<Model>) => m.changes.length > 0
  async run(model: Model, real: Real): Promise<void> {
    const change = model.changes[this.which % model.changes.length]!
    real.stats.undos++
    const step = ++real.steps
    const restores: RecordedChange['entries'] = []
    let conflicts = 0
    for (const e of change.entries) {
      const current = model.blobs.get(e.name)!
      if (render(e.name, current) === render(e.name, e.before) && sameMetadata(current.metadata, e.before.metadata)) continue
      if (render(e.name, current) !== render(e.name, e.after) || current.version !== e.after.version) {
        conflicts++
        continue
      }
      restores.push(e)
    }
    real.stats.undoConflicts += conflicts
    const refused = !change.forced && restores.some((e) => isLeased(model.blobs.get(e.name)!))
    const expectedCode = this.dryRun ? 0 : refused ? 5 : conflicts === 0 ? 0 : restores.length > 0 ? 6 : 5
    const command = `${change.undoCommand} --json --backup-file '${path.join(real.dir, `backup-${step}.json`)}'${this.dryRun ? ' --dry-run' : ''}`
    real.stats.ehcp++
    const r = await runPrinted(command, {cwd: real.dir, env: {EHCP_EMULATOR_BLOB_ENDPOINT: real.blobEndpoint}})
    noteExit(real, 'undo', r)
    expect(r.code, `undo of ${change.label}: ${command}\n${describeRun(r)}`).to.equal(expectedCode)
    if (this.dryRun || refused || restores.length === 0) return
    const entries: RecordedChange['entries'] = []
    for (const e of restores) {
      const current = model.blobs.get(e.name)!
      const after: ModelBlob = {...cloneBlob(e.before), lease: {kind: 'free'}, version: current.version + 1}
      model.blobs.set(e.name, after)
      entries.push({name: e.name, before: cloneBlob(current), after: cloneBlob(after)})
    }
    // Every row the undo reports updated holds the bytes from before the change, exactly.
    const updated = rowsOf(r).filter((row) => row.status === 'updated')
    expect(updated.map((row) => row.blobName)).to.have.members(restores.map((e) => e.name))
    const now = await readContainer(real.client)
    for (const e of restores) expect(now.get(e.name)!.body, `${e.name} restored`).to.equal(render(e.name, e.before))
    record(model, r, `undo of (${change.label})`, change.forced, entries)
  }
  toString = () => `undo #${this.which}${this.dryRun ? ' --dry-run' : ''}`
}

// -------------------------------------------------------------------------------------------------------------
// Hosts

/** The body a host writes: its SDK's own serialisation, position as read, owner, token and epoch its own. */
function hostBody(name: string, b: ModelBlob, host: {owner: string; token: string; epoch: number}): ModelBlob {
  const group = specOf(name).group
  const next = cloneBlob(b)
  next.template = group === 'go' ? 'go-host' : 'eph-host'
  next.fields = {OWNER: JSON.stringify(host.owner), TOKEN: JSON.stringify(host.token), EPOCH: String(host.epoch)}
  if (next.checkpoint) next.checkpoint = {...next.checkpoint, colon: ':', comma: ','}
  next.version++
  return next
}

async function hostUpload(real: Real, name: string, b: ModelBlob, leaseId: string): Promise<void> {
  const body = render(name, b)
  await real.client.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {metadata: b.metadata, conditions: {leaseId}})
}

/** Whether a storage call failed (the way a host finds out it lost its lease). */
async function fails(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call()
    return false
  } catch (error) {
    const status = (error as {statusCode?: number}).statusCode
    if (status !== 409 && status !== 412) throw error
    return true
  }
}

/** A host acquires a partition's lease (held: it fails) and writes its body under it, as EventProcessorHost does. */
export class HostAcquire implements Cmd {
  constructor(
    readonly blob: string,
    readonly host: string,
    /** False: the host stops (or is slow) between acquiring the lease and writing its body. */
    readonly writes = true,
  ) {}
  check = () => true
  async run(model: Model, real: Real): Promise<void> {
    const b = model.blobs.get(this.blob)!
    const id = nextLeaseId(model)
    const lease = real.client.getBlockBlobClient(this.blob).getBlobLeaseClient(id)
    const failed = await fails(() => lease.acquireLease(-1))
    expect(failed, `${this.toString()}: acquire fails exactly when the blob is leased`).to.equal(isLeased(b))
    if (failed) return
    model.beliefs.set(this.blob, {host: this.host, id})
    if (!this.writes) {
      model.blobs.set(this.blob, {...b, lease: {kind: 'leased', id, holder: this.host}})
      return
    }
    const group = specOf(this.blob).group
    const next = hostBody(this.blob, b, {owner: this.host, token: id, epoch: Number(b.fields.EPOCH) + 1})
    next.metadata = group === 'eph' ? {OWNINGHOST: this.host} : {}
    next.lease = {kind: 'leased', id, holder: this.host}
    await hostUpload(real, this.blob, next, id)
    model.blobs.set(this.blob, next)
  }
  toString = () => `host ${this.host} acquires ${this.blob}${this.writes ? '' : ' (and writes nothing yet)'}`
}

/** The holder's lease as the host believes it; whether storage still agrees. */
function held(model: Model, blob: string): {id: string; host: string; valid: boolean} | null {
  const belief = model.beliefs.get(blob)
  if (!belief) return null
  const lease = model.blobs.get(blob)!.lease
  return {...belief, valid: lease.kind === 'leased' && lease.id === belief.id}
}

/** The holder checkpoints (or renews, or releases): it succeeds while its lease is its own, else it finds out it lost it. */
export class HostAct implements Cmd {
  constructor(
    readonly blob: string,
    readonly act: 'checkpoint' | 'renew' | 'release',
    readonly advance: number,
  ) {}
  check = (m: Readonly<Model>) => m.beliefs.has(this.blob)
  async run(model: Model, real: Real): Promise<void> {
    const h = held(model, this.blob)!
    const b = model.blobs.get(this.blob)!
    const client = real.client.getBlockBlobClient(this.blob)
    let next: ModelBlob | null = null
    if (this.act === 'checkpoint') {
      next = hostBody(this.blob, b, {owner: h.host, token: h.id, epoch: Number(b.fields.EPOCH)})
      const sequenceNumber = b.sequenceNumber + this.advance
      if (specOf(this.blob).group === 'go') {
        const seq = (b.checkpoint?.sequenceNumber ?? 0) + this.advance
        next.checkpoint = {offset: `g${seq}`, sequenceNumber: seq, enqueueTime: HOST_TIME, colon: ':', comma: ','}
      } else {
        next.offset = `h${sequenceNumber}`
        next.sequenceNumber = sequenceNumber
      }
    } else if (this.act === 'release') {
      next = hostBody(this.blob, b, {owner: '', token: '', epoch: Number(b.fields.EPOCH)})
      next.metadata = {}
    }
    const failed = await fails(async () => {
      if (next) await hostUpload(real, this.blob, next, h.id)
      if (this.act === 'renew') await client.getBlobLeaseClient(h.id).renewLease()
      if (this.act === 'release') await client.getBlobLeaseClient(h.id).releaseLease()
    })
    expect(failed, `${this.toString()}: fails exactly when the host lost its lease`).to.equal(!h.valid)
    if (failed) {
      real.stats.hostLosses++
      model.beliefs.delete(this.blob)
      return
    }
    if (next) model.blobs.set(this.blob, {...next, lease: this.act === 'release' ? {kind: 'free'} : b.lease})
    if (this.act === 'release') model.beliefs.delete(this.blob)
  }
  toString = () => `host of ${this.blob} ${this.act}s${this.act === 'checkpoint' ? ` +${this.advance}` : ''}`
}
