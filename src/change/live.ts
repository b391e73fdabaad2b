/**
 * `--live`: a change to a consumer group whose processors keep running. A processor keeps its position in memory
 * and reads the checkpoint only when it starts a partition, so each targeted partition is taken from it first,
 * in small batches:
 *   1. claim the partition's ownership under ehcp's owner id (a conditional write), and heartbeat it;
 *   2. open a receiver in the application's consumer group with a higher owner level than processors use: Event
 *      Hubs detaches theirs, and the processor closes the partition (OwnershipLost);
 *   3. re-read the checkpoint once it stops moving (the processor wrote its last one while it still ran; the Python
 *      SDK checkpoints its prefetched events for a while after its receiver is detached) and write the change under
 *      that ETag, only while the ownership is still ehcp's (a processor that took it during the hold is taken
 *      from again, or the partition is reported);
 *   4. close the receiver and release the ownership: a processor claims the partition at its next load-balancing
 *      cycle and reads the new checkpoint.
 * Then, within `--live-wait`, each partition is verified: who claimed it, and whether the first checkpoint its
 * processor wrote follows from the new position. Whatever happens (Ctrl-C, a fault), what ehcp holds is released
 * and its receivers closed; the owner id carries a run id (`release-ownership --owner` cleans up after a kill) and
 * ownership expiry bounds what a kill leaves.
 */
import {randomBytes} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'

import {mapBounded} from '../concurrency.js'
import {classifyError} from '../errors.js'
import type {PartitionHold} from '../eventhubs/reader.js'
import {decodeCheckpoint, encodeCheckpoint, encodeOwnership} from '../store/codec.js'
import {sameEtag} from '../store/etag.js'
import {findPartition, type GroupView, readGroup} from '../store/group.js'
import {groupIdOf} from '../store/group-id.js'
import type {CheckpointStore} from '../store/store.js'
import type {ExecuteOptions, LiveOutcome, LiveWriter, PartitionResult, WriteRun} from './execute.js'
import {writeTargets} from './execute.js'
import {type Claims, nextBatch} from './live-batches.js'
import type {ChangePlan, PlanItem} from './plan.js'

/** Above what processors use (0 for the current SDKs; EventProcessorHost for JS used the time in ms). */
export const LIVE_OWNER_LEVEL = 2 ** 50

export const LIVE_OWNER_PREFIX = 'ehcp-live-'

/** The owner id of one live run: `release-ownership --owner` frees what a killed run held. */
export const liveOwnerId = () => `${LIVE_OWNER_PREFIX}${randomBytes(4).toString('hex')}`

export interface LiveOptions {
  /** Partitions taken at once (--live-batch). */
  batch: number
  /** How long to wait for processors to resume, after the last batch (--live-wait). */
  waitMs: number
  /** ehcp's ownership heartbeat while it holds partitions. */
  heartbeatMs: number
  /**
   * The least ehcp waits for a processor's checkpoint still in flight to land (after the detach, and after its own
   * write); more when storage is further away (see `settleWindow`).
   */
  settleMs: number
  ownerId: string
}

/** The application's consumer group on the event hub, to hold partitions in. */
export interface PartitionHolder {
  hold(partitionId: string, ownerLevel: number): Promise<PartitionHold>
}

/** One partition ehcp holds: its ownership blob (by ETag, renewed by the heartbeat) and its receiver. */
interface Held {
  item: PlanItem
  ownership: {blobName: string; etag: string; metadata: Record<string, string>}
  /** Someone else wrote the ownership blob since ehcp's last write (a processor took the partition). */
  taken: boolean
  receiver?: PartitionHold
  heldFrom: string | null
  /** ehcp's release could not be written (storage failed): the claim stands until it expires. */
  unreleased?: string
  /** ehcp's last write of the ownership blob in flight (a heartbeat, the release): the next waits for it. */
  writing?: Promise<void>
  released?: boolean
}

/** What verification needs of a partition ehcp wrote and released. */
interface Released {
  item: PlanItem
  row: PartitionResult
  /** The sequence numbers before and after the change (null: none, or a delete). */
  before: number | null
  after: number | null
  /** The ETag ehcp's checkpoint write left: a checkpoint with another one was written after it. */
  writtenEtag: string | undefined
  heldFrom: string | null
  /** A processor claimed the partition between ehcp's write and its release: it may have read the old checkpoint. */
  takenBeforeRelease: boolean
  /**
   * A checkpoint other than ehcp's that landed before any processor claimed the partition back (a write still in
   * flight when the receiver was detached, landing after the settle): the processor that claims it reads that one.
   */
  overwrittenBy?: number | null
  /** When a processor was first seen holding the partition again (the storage service's clock). */
  claimedAt?: number
}

const ownershipName = (checkpointBlob: string) => checkpointBlob.replace(/\/checkpoint\/([^/]+)$/i, '/ownership/$1')

const checkpointEtag = (view: GroupView, held: Held) => findPartition(view, held.item.partitionId)?.checkpoint?.etag

const sequenceOf = (metadata: Record<string, string> | null | undefined) => (metadata ? decodeCheckpoint(metadata).sequenceNumber : null)

/** The plan's note: how the partitions are taken, and whose receivers are detached. */
export function liveNote(targets: PlanItem[], options: Pick<LiveOptions, 'batch' | 'waitMs' | 'ownerId'>): string {
  const owned = targets.filter((t) => t.ownerState === 'active')
  const owners = [...new Set(owned.map((t) => t.ownerId))].join(', ')
  return (
    `--live: ${targets.length} partition(s) are taken ${options.batch} at a time under owner id ${options.ownerId}` +
    (owned.length ? `; the receivers of ${owners} on ${owned.length} of them are detached (their processors see OwnershipLost once)` : '') +
    `, written, and released; then ehcp waits up to ${options.waitMs / 1000}s for processors to resume.`
  )
}

export function liveWriter(store: CheckpointStore, plan: ChangePlan, holder: PartitionHolder, options: LiveOptions): LiveWriter {
  const ref = {...groupIdOf(plan), prefixes: plan.prefixes}
  /** How long the group's last few listings took: how far storage is (see `settleWindow`). */
  const listingMs: number[] = []
  async function read(signal?: AbortSignal): Promise<GroupView> {
    const started = performance.now()
    const view = await readGroup(store, ref, signal)
    listingMs.push(performance.now() - started)
    if (listingMs.length > 5) listingMs.shift()
    return view
  }

  /**
   * Claims (or takes back) a partition's ownership for ehcp; false when another writer won every try. After a
   * conflict it retries on a fresh view of the group: `reread(attempt)` is shared by the batch, so partitions that
   * conflict at the same attempt wait for one listing, not one each.
   */
  async function claim(held: Held, view: GroupView, reread: (attempt: number) => Promise<GroupView>): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = findPartition(view, held.item.partitionId)?.ownership
      const condition = current ? {ifMatch: current.etag} : {ifNoneMatch: '*' as const}
      const metadata = encodeOwnership(current?.metadata ?? {}, options.ownerId)
      const name = current?.blobName ?? held.ownership.blobName
      const outcome = await store.writeMetadata(name, metadata, condition)
      if (outcome.status === 'written') {
        held.ownership = {blobName: name, etag: outcome.etag, metadata}
        held.taken = false
        return true
      }
      view = await reread(attempt)
    }
    return false
  }

  /** One fresh listing per attempt, however many claims ask for it (see `claim`). */
  function sharedRereads(): (attempt: number) => Promise<GroupView> {
    const views: Array<Promise<GroupView>> = []
    return (attempt) => (views[attempt] ??= read())
  }

  /**
   * ehcp's writes of one ownership blob, one at a time: two under the same ETag (the timer's heartbeat and the
   * release, or the check before writing) refuse each other, and the one refused would be taken for a processor's.
   */
  function serially(held: Held, write: () => Promise<void>): Promise<void> {
    const next = (held.writing ?? Promise.resolve()).then(write)
    held.writing = next.catch(() => undefined)
    return next
  }

  function heartbeat(held: Held): Promise<void> {
    return serially(held, async () => {
      if (held.taken || held.released || !held.ownership.etag) return
      const outcome = await store
        .writeMetadata(held.ownership.blobName, held.ownership.metadata, {ifMatch: held.ownership.etag})
        .catch(() => null)
      if (outcome?.status === 'written') held.ownership.etag = outcome.etag
      else if (outcome?.status === 'conflict') held.taken = true
    })
  }

  /** Gives the partition back: ownerid "" under ehcp's ETag (a processor that took it meanwhile keeps it, and is noted). */
  async function release(held: Held): Promise<void> {
    await held.receiver?.close()
    await serially(held, async () => {
      // Never claimed (another writer won, or the claim failed): nothing of ehcp's to give back.
      if (held.taken || !held.ownership.etag) return
      held.released = true
      const outcome = await store
        .writeMetadata(held.ownership.blobName, encodeOwnership(held.ownership.metadata, ''), {ifMatch: held.ownership.etag})
        .catch((error: unknown) => {
          held.unreleased = classifyError(error).message
          return null
        })
      if (outcome?.status === 'conflict') held.taken = true
    })
  }

  /** The checkpoint as the processor left it: the write goes under its ETag, its other keys kept. */
  function refresh(item: PlanItem, view: GroupView): void {
    const checkpoint = findPartition(view, item.partitionId)?.checkpoint
    if (!checkpoint || checkpoint.blobName !== item.target.blobName) return
    item.target = {...item.target, etag: checkpoint.etag, metadata: checkpoint.metadata}
    item.before = {sequenceNumber: checkpoint.sequenceNumber, offset: checkpoint.offset}
    if (item.action.kind === 'set-position') {
      item.action = {...item.action, metadata: encodeCheckpoint(checkpoint.metadata, item.action.position)}
      item.delta = checkpoint.sequenceNumber === null ? null : checkpoint.sequenceNumber - item.action.position.sequenceNumber
    }
  }

  /**
   * How long a checkpoint write still in flight (a processor's, sent before its receiver was detached) may take to
   * land: a few storage round trips (the median of the last listings: the first, on a cold connection, is slow),
   * and never less than `settleMs`.
   */
  const settleWindow = () => Math.max(options.settleMs, 4 * ([...listingMs].sort((a, b) => a - b)[listingMs.length >> 1] ?? 0))

  /**
   * Waits one settle window and lists the group: the view, and the held partitions whose checkpoint is no longer
   * the one `expected` names (by ETag; none expected and none there is no change).
   */
  async function landed(holds: Held[], expected: (held: Held) => string | undefined, signal?: AbortSignal) {
    await sleep(settleWindow())
    const view = await read(signal)
    const moved = holds.filter((h) => !sameEtag(checkpointEtag(view, h) ?? '', expected(h) ?? ''))
    return {view, moved}
  }

  /**
   * The group once the held partitions' checkpoints have not moved for a settle window (at most 20 windows: a
   * processor still checkpointing after that is overwritten by the rounds after ehcp's write).
   */
  async function settled(holds: Held[], signal: AbortSignal): Promise<GroupView> {
    let view = await read(signal)
    for (let round = 0; round < 20 && !signal.aborted; round++) {
      const before = view
      const next = await landed(holds, (h) => checkpointEtag(before, h), signal)
      view = next.view
      if (next.moved.length === 0) break
    }
    return view
  }

  async function verify(released: Released[], signal: AbortSignal): Promise<void> {
    const pending = new Set(released)
    const deadline = Date.now() + options.waitMs
    while (pending.size > 0 && Date.now() < deadline && !signal.aborted) {
      await sleep(200)
      const view = await read().catch(() => null)
      if (!view) continue
      for (const r of [...pending]) {
        const p = findPartition(view, r.item.partitionId)
        const owner = p?.ownership?.ownerId
        const reclaimed = owner && owner !== options.ownerId && p?.ownership?.state === 'active' ? owner : null
        const foreign = p?.checkpoint && !(r.writtenEtag && sameEtag(p.checkpoint.etag, r.writtenEtag)) ? p.checkpoint : undefined
        const next = foreign?.sequenceNumber
        if (reclaimed && r.claimedAt === undefined) r.claimedAt = Date.parse(p!.ownership!.lastModified)
        // Written before the claim (seen before it, or stamped an earlier second): not the claimant's reading.
        if (foreign && next !== r.after && (!reclaimed || Date.parse(foreign.lastModified) < r.claimedAt!)) r.overwrittenBy ??= next ?? null
        // A checkpoint at the new position itself proves nothing read on from it: wait for one past it.
        if (!reclaimed || next === undefined || (next !== null && next === r.after)) {
          r.row.live = {...r.row.live!, reclaimedBy: reclaimed}
          continue
        }
        pending.delete(r)
        r.row.live = judge(r, reclaimed, next)
      }
    }
    for (const r of pending) {
      const by = r.row.live?.reclaimedBy
      r.row.live = {
        heldFrom: r.heldFrom,
        verdict: 'not-yet',
        reclaimedBy: by ?? null,
        nextCheckpoint: null,
        detail: signal.aborted
          ? `not verified: the run was stopped before --live-wait (${(signal.reason as Error | undefined)?.message ?? 'aborted'}); the new checkpoint is read by the processor that claims the partition`
          : by
            ? `claimed by ${by}, which has written no checkpoint yet within --live-wait`
            : 'no processor claimed the partition within --live-wait: the new checkpoint is read when one does',
      }
    }
  }

  /** One batch: taken from its processors, written, and given back (whatever happens, what ehcp holds is released). */
  async function takeBatch(
    batch: PlanItem[],
    view: GroupView,
    rows: Map<string, PartitionResult>,
    run: WriteRun,
    released: Released[],
    execute: Pick<ExecuteOptions, 'concurrency' | 'signal'>,
  ): Promise<void> {
    const rowOf = (item: PlanItem) => rows.get(item.target.blobName)!
    const quiet = {...execute, progress: () => undefined}
    const writeAll = async (items: PlanItem[]) => {
      const wrote = await writeTargets(store, items, rows, quiet)
      for (const [item, etag] of wrote.etags) run.etags.set(item, etag)
      for (const item of wrote.uncertain) run.uncertain.add(item)
      run.firstFailure ??= wrote.firstFailure
    }
    const holds: Held[] = batch.map((item) => {
      const p = findPartition(view, item.partitionId)
      return {
        item,
        ownership: {blobName: ownershipName(item.target.blobName), etag: '', metadata: {}},
        taken: false,
        heldFrom: p?.ownership?.state === 'active' ? (p.ownership.ownerId ?? null) : null,
      }
    })
    const timer = setInterval(() => void Promise.all(holds.map(heartbeat)), options.heartbeatMs)
    try {
      const rereads = sharedRereads()
      const claimed = await mapBounded(holds, holds.length, (held) => claim(held, view, rereads))
      const claimedHolds = holds.filter((_, i) => claimed[i])
      for (const held of holds.filter((_, i) => !claimed[i]))
        Object.assign(rowOf(held.item), {
          status: 'conflict',
          reason: 'a processor kept claiming the partition; ehcp could not take it, nothing written',
        })
      // Every hold settles before going on: one refused must neither leave the others' receivers open past the
      // release (they would keep the partition from its processor until ehcp exits) nor fail them.
      const holding = await Promise.allSettled(
        claimedHolds.map(async (held) => {
          held.receiver = await holder.hold(held.item.partitionId, LIVE_OWNER_LEVEL)
        }),
      )
      for (const [i, outcome] of holding.entries()) {
        if (outcome.status === 'fulfilled') continue
        const error = classifyError(outcome.reason)
        run.firstFailure ??= error
        Object.assign(rowOf(claimedHolds[i]!.item), {status: 'failed', reason: `not written: ${error.message}`})
      }
      const ours = claimedHolds.filter((_, i) => holding[i]!.status === 'fulfilled')
      // The processors have stopped: their last checkpoints are what the change replaces. Some go on checkpointing
      // for a while after their receiver is detached (the Python SDK hands its prefetched events to the
      // application, checkpointing them, until its buffer runs low): wait until the checkpoints stop moving.
      view = await settled(ours, execute.signal)
      for (const held of ours) {
        refresh(held.item, view)
        Object.assign(rowOf(held.item), {before: held.item.before, delta: held.item.delta})
      }
      // A processor that took a partition during the hold read the old checkpoint: take it back before writing.
      await Promise.all(ours.map(heartbeat))
      const now = ours.some((h) => h.taken) ? await read() : view
      const retakes = sharedRereads()
      const kept = await mapBounded(ours, ours.length, async (held) => !held.taken || (await claim(held, now, retakes)))
      const writable = ours.filter((_, i) => kept[i])
      for (const held of ours.filter((_, i) => !kept[i]))
        Object.assign(rowOf(held.item), {
          status: 'conflict',
          reason: 'a processor took the partition during the hold and kept it; nothing written',
        })
      await writeAll(writable.map((h) => h.item))
      // A processor's last checkpoint may still have been in flight when its receiver was detached (the SDKs
      // write checkpoints unconditionally) and land after ehcp's: once such writes have landed, write again.
      for (let round = 0; round < 3; round++) {
        const {view: now, moved: overwritten} = await landed(
          writable.filter((h) => run.etags.has(h.item)),
          (h) => run.etags.get(h.item),
        )
        if (overwritten.length === 0) break
        for (const held of overwritten) {
          refresh(held.item, now)
          Object.assign(rowOf(held.item), {
            before: held.item.before,
            delta: held.item.delta,
            reason: "written again over the processor's last checkpoint, which landed after ehcp's",
          })
          run.etags.delete(held.item)
        }
        await writeAll(overwritten.map((h) => h.item))
      }
      for (const held of writable) {
        const row = rowOf(held.item)
        if (row.status !== 'updated') continue
        const after = held.item.action.kind === 'set-position' ? held.item.action.position.sequenceNumber : null
        row.live = {heldFrom: held.heldFrom, verdict: 'not-yet', reclaimedBy: null, nextCheckpoint: null, detail: ''}
        released.push({
          item: held.item,
          row,
          before: sequenceOf(held.item.target.metadata),
          after,
          writtenEtag: run.etags.get(held.item),
          heldFrom: held.heldFrom,
          takenBeforeRelease: false,
        })
      }
    } catch (error) {
      run.firstFailure ??= classifyError(error)
      for (const held of holds) {
        const row = rowOf(held.item)
        if (row.status === 'planned') Object.assign(row, {status: 'failed', reason: `not written: ${classifyError(error).message}`})
      }
    } finally {
      clearInterval(timer)
      await Promise.all(holds.map(release))
      for (const r of released) if (holds.some((h) => h.item === r.item && h.taken)) r.takenBeforeRelease = true
      // Said on the row: processors cannot claim the partition until ehcp's claim expires, unless it is released.
      for (const held of holds.filter((h) => h.unreleased)) {
        const row = rowOf(held.item)
        const note = `ehcp's claim could not be released (${held.unreleased}): processors take the partition back once it expires, or run \`ehcp release-ownership --owner ${options.ownerId}\``
        row.reason = row.reason ? `${row.reason}; ${note}` : note
      }
    }
  }

  return {
    async write(targets, rows, execute: Pick<ExecuteOptions, 'concurrency' | 'signal' | 'progress'>): Promise<WriteRun> {
      const run: WriteRun = {uncertain: new Set(), etags: new Map(), firstFailure: undefined}
      const released: Released[] = []
      const remaining = [...targets]
      while (remaining.length > 0) {
        if (execute.signal.aborted) {
          // Not attempted: writeTargets marks them so, as it does for any write after a signal.
          const skipped = await writeTargets(store, remaining, rows, {...execute, progress: () => undefined})
          run.firstFailure ??= skipped.firstFailure
          break
        }
        // Each batch is chosen on the group as it is now: processors have re-claimed the last one by their own rules.
        const view = await read(execute.signal).catch((error: unknown) => error as Error)
        const batch =
          view instanceof Error
            ? remaining.slice(0, options.batch)
            : nextBatch(
                remaining.map((item) => ({item, owner: liveOwner(view, item.partitionId)})),
                claimsOf(view),
                options.ownerId,
                options.batch,
              )
        for (const item of batch) remaining.splice(remaining.indexOf(item), 1)
        if (view instanceof Error) {
          run.firstFailure ??= classifyError(view)
          for (const item of batch)
            Object.assign(rows.get(item.target.blobName)!, {status: 'failed', reason: `not written: ${classifyError(view).message}`})
        } else await takeBatch(batch, view, rows, run, released, execute)
        execute.progress(targets.length - remaining.length, targets.length)
      }
      await verify(released, execute.signal)
      return run
    },
  }
}

/** The partition's owner with a live claim (null: unclaimed, released or expired). */
function liveOwner(view: GroupView, partitionId: string): string | null {
  const o = findPartition(view, partitionId)?.ownership
  return o?.state === 'active' && o.ownerId ? o.ownerId : null
}

/** Who holds how many of the group's partitions, as the processors' load balancing counts them. */
function claimsOf(view: GroupView): Claims {
  const owners = new Map<string, number>()
  let unclaimed = 0
  for (const p of view.partitions) {
    const owner = liveOwner(view, p.partitionId)
    if (owner) owners.set(owner, (owners.get(owner) ?? 0) + 1)
    else unclaimed++
  }
  return {owners, unclaimed}
}

/**
 * Whether the processor that claimed the partition read the new checkpoint. ehcp releases a partition only after
 * writing it, so a processor that claims it from ehcp's release reads the new position; one that claimed it while
 * ehcp still held it may have read the old one. The checkpoint it writes next is the evidence: below the new
 * position it resumed from where it was (lost). A rewind it has already passed the old position on is reported as
 * resumed on the claim's evidence, and said so (a fast processor reads the replayed events before ehcp looks).
 */
function judge(r: Released, reclaimedBy: string, next: number | null): LiveOutcome {
  const base = {heldFrom: r.heldFrom, reclaimedBy, nextCheckpoint: next}
  if (r.overwrittenBy !== undefined)
    return {
      ...base,
      verdict: 'lost',
      detail: `a checkpoint the processor still had in flight (${r.overwrittenBy ?? 'none'}) landed over ehcp's after it released the partition, before ${reclaimedBy} claimed it: it resumed from that one`,
    }
  if (r.after === null || next === null)
    return {...base, verdict: 'resumed', detail: `claimed by ${reclaimedBy}, which has checkpointed since`}
  if (next < r.after)
    return {
      ...base,
      verdict: 'lost',
      detail: `${reclaimedBy} checkpointed ${next}, before the new position ${r.after}: it resumed from where it was`,
    }
  const old = r.before
  const rewind = old !== null && r.after < old
  if (r.takenBeforeRelease && rewind && next > old)
    return {
      ...base,
      verdict: 'lost',
      detail: `${reclaimedBy} claimed the partition while ehcp still held it and checkpointed ${next}, past the old position ${old}: it may have resumed from where it was`,
    }
  const passed = rewind && next > old ? `, already past the old position ${old} (it read the replayed events before ehcp looked)` : ''
  return {
    ...base,
    verdict: 'resumed',
    detail: `${reclaimedBy} claimed the partition after ehcp released it and checkpointed ${next} (new position ${r.after})${passed}`,
  }
}
