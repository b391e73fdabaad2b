/**
 * The checkpoint store: listing (one flat listing with metadata per scope, page by page) and
 * conditional writes. It knows nothing of terminals; it returns data and throws typed errors.
 */

import {withDeadline} from '../concurrency.js'
import {classifyError, EhcpError, ExitCode, unreachableError} from '../errors.js'
import {
  type BlobNameParts,
  type CheckpointPosition,
  decodeCheckpoint,
  decodeOwnership,
  encodeCheckpoint,
  encodeOwnership,
  type OwnerState,
  ownerState,
  holdsState,
  parseBlobName,
  type Problem,
} from './codec.js'
import {readStoreSettings, type StoreSettings} from './account.js'
import type {BlobBody, BlobRestClient, ListPage, StoredBlob, WriteCondition} from './blob-rest.js'
import {conflictOf, mayHaveLanded, type Permission, serviceErrorCode, statusCodeOf, storageError} from './errors.js'

export interface CheckpointRecord {
  kind: 'checkpoint'
  parts: BlobNameParts
  blob: StoredBlob
  position: CheckpointPosition
  problems: Problem[]
}

export interface OwnershipRecord {
  kind: 'ownership'
  parts: BlobNameParts
  blob: StoredBlob
  /** null: the key is absent. "": released. */
  ownerId: string | null
  state: OwnerState
  problems: Problem[]
}

export interface ForeignRecord {
  kind: 'foreign'
  blob: StoredBlob
}

export type StoredRecord = CheckpointRecord | OwnershipRecord | ForeignRecord

export interface StoreOptions {
  ownershipExpiryMs: number
  /** Bound on each request to storage, retries included. */
  timeoutMs: number
  /** Listing page size (the service's maximum is 5,000). */
  pageSize?: number
}

/** A blob as read at plan time: what a conditional write needs (views of checkpoints and ownerships are ones). */
export interface BlobTarget {
  blobName: string
  etag: string
  metadata: Record<string, string>
}

/** A write that failed in a way that may hide its landing (its answer lost, and the blob could not be read back). */
export class UncertainWriteError extends EhcpError {}

/** Records as one response chunk delivered them, with the service's clock then. */
interface RecordBatch {
  records: StoredRecord[]
  serverTimeMs: number
}

export type WriteOutcome =
  {status: 'written'; etag: string; lastModified: Date | undefined; note?: string} | {status: 'conflict'; reason: string}

export const MAX_PAGE_SIZE = 5000

export function toRecord(blob: StoredBlob, nowMs: number, ownershipExpiryMs: number): StoredRecord {
  const parts = parseBlobName(blob.name)
  if (!parts || (blob.contentLength ?? 0) > 0) return {kind: 'foreign', blob}
  const withBlob = (ps: Problem[]) => ps.map((p) => ({...p, blobName: blob.name, partitionId: parts.partitionId}))
  if (parts.kind === 'checkpoint') {
    const {problems, ...position} = decodeCheckpoint(blob.metadata)
    return {kind: 'checkpoint', parts, blob, position, problems: withBlob(problems)}
  }
  const {ownerId, problems} = decodeOwnership(blob.metadata)
  return {
    kind: 'ownership',
    parts,
    blob,
    ownerId,
    state: ownerState(ownerId, blob.lastModified.getTime(), nowMs, ownershipExpiryMs),
    problems: withBlob(problems),
  }
}

export class CheckpointStore {
  readonly ownershipExpiryMs: number
  private readonly timeoutMs: number
  private readonly pageSize: number
  /**
   * Early flat listings by prefix (prefetchRecords), each taken at most once; dropped by any write, by another
   * early listing of the prefix, and once the group they were started for has been read (`listGroup`), whether
   * or not they were used: none outlives the read it was started for, to be served stale to a later one. A dropped
   * listing is left to finish (cancelling it would make the requests a command sends depend on timing).
   */
  private readonly prefetched = new Map<string, Promise<RecordBatch[]>>()

  constructor(
    readonly containerName: string,
    private readonly client: BlobRestClient,
    options: StoreOptions,
  ) {
    this.ownershipExpiryMs = options.ownershipExpiryMs
    this.timeoutMs = options.timeoutMs
    this.pageSize = Math.min(options.pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE)
  }

  /** The account settings a checkpoint store should do without, each read or not readable with the reason (doctor). */
  storeSettings(signal?: AbortSignal): Promise<StoreSettings> {
    return readStoreSettings(this.client, signal, this.timeoutMs)
  }

  /**
   * Runs one request (retries included) under the store's deadline and the caller's signal; a failure leaves
   * as storage's error in ehcp's words (storageError). `permission` is what the request needs, named when refused.
   */
  private async bounded<T>(signal: AbortSignal | undefined, permission: Permission, op: (s: AbortSignal) => Promise<T>): Promise<T> {
    const timedOut = () =>
      unreachableError(`Storage did not answer within ${this.timeoutMs / 1000}s.`, 'Check the endpoint and network, or raise --timeout.')
    try {
      return await withDeadline(this.timeoutMs, signal, op, timedOut)
    } catch (error) {
      throw storageError(error, permission)
    }
  }

  /** Pages of a listing, each fetched under its own deadline; with `sink`, blobs stream into it. */
  private async *pages(
    prefix: string,
    delimiter: string | undefined,
    signal?: AbortSignal,
    sink?: (blobs: StoredBlob[], date: Date | undefined) => void,
  ): AsyncGenerator<ListPage> {
    let marker: string | undefined
    const seen = new Set<string>()
    do {
      const page = await this.bounded(signal, 'list', (abortSignal) =>
        this.client.page({prefix, delimiter, marker, maxResults: this.pageSize, abortSignal}, sink),
      )
      yield page
      marker = page.nextMarker
      // Storage never hands out a marker twice: an endpoint that does would be followed for ever.
      if (marker !== undefined && seen.has(marker))
        throw unreachableError(
          'The listing came back to a page it had already given (the same continuation marker twice); it would never end.',
          'Check that the endpoint is Azure Blob Storage, and run the command again.',
        )
      if (marker !== undefined) seen.add(marker)
    } while (marker)
  }

  /**
   * One flat listing with metadata of everything under `prefix` (at most 5,000 blobs a page), handed to
   * `onRecords` a few dozen at a time as the responses stream in, so a caller can aggregate a container
   * of any size without holding it. A listing of `prefix` started early by `prefetchRecords` (and not
   * dropped) is taken instead, once: its batches are handed over as they were listed.
   */
  async listRecords(
    prefix: string,
    onRecords: (records: StoredRecord[], serverTimeMs: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const early = this.prefetched.get(prefix)
    if (early) {
      this.prefetched.delete(prefix)
      for (const batch of await early) onRecords(batch.records, batch.serverTimeMs)
      return
    }
    await this.streamRecords(prefix, onRecords, signal)
  }

  private async streamRecords(
    prefix: string,
    onRecords: (records: StoredRecord[], serverTimeMs: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const sink = (blobs: StoredBlob[], date: Date | undefined) => {
      const serverTimeMs = date?.getTime() ?? Date.now()
      onRecords(
        blobs.map((blob) => toRecord(blob, serverTimeMs, this.ownershipExpiryMs)),
        serverTimeMs,
      )
    }
    for await (const page of this.pages(prefix, undefined, signal, sink)) void page
  }

  /**
   * Starts the flat listing of `prefix` now, held for the next `listRecords` of that prefix: scope resolution
   * issues the listing a group most likely needs while its directory listings are in flight (one round trip
   * instead of one per level). One already held for `prefix` (another resolution's) is replaced, never served
   * stale. Its failure surfaces where it is taken, never as an unhandled rejection.
   */
  prefetchRecords(prefix: string, signal?: AbortSignal): void {
    const batches: RecordBatch[] = []
    const listing = this.streamRecords(prefix, (records, serverTimeMs) => batches.push({records, serverTimeMs}), signal).then(() => batches)
    listing.catch(() => undefined)
    this.prefetched.set(prefix, listing)
  }

  /** Forgets the early listings of these prefixes, or all of them. */
  dropPrefetched(prefixes?: readonly string[]): void {
    if (prefixes === undefined) this.prefetched.clear()
    else for (const prefix of prefixes) this.prefetched.delete(prefix)
  }

  /**
   * A group's (or a scope's) flat listings, one prefix after the other (`listRecords`); whatever happens, no early
   * listing of these prefixes is left behind (one not taken because a listing before it failed) to be served to a later read.
   */
  async listGroup(
    prefixes: readonly string[],
    onRecords: (records: StoredRecord[], serverTimeMs: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      for (const prefix of prefixes) await this.listRecords(prefix, onRecords, signal)
    } finally {
      this.dropPrefetched(prefixes)
    }
  }

  /** The names one level below `prefix` (a "directory" listing with delimiter "/"). */
  async listChildren(prefix: string, signal?: AbortSignal): Promise<string[]> {
    const names: string[] = []
    for await (const page of this.pages(prefix, '/', signal)) {
      for (const p of page.prefixes) names.push(p.slice(prefix.length).replace(/\/$/, ''))
    }
    return names.filter((n) => n.length > 0)
  }

  /**
   * Sets a blob's metadata under a condition: If-Match the ETag read at plan time, or If-None-Match: *
   * to create a zero-length blob. A changed, deleted or concurrently created blob is a conflict, not an error.
   */
  async writeMetadata(
    blobName: string,
    metadata: Record<string, string>,
    condition: WriteCondition,
    signal?: AbortSignal,
  ): Promise<WriteOutcome> {
    this.dropPrefetched()
    try {
      const result = await this.bounded(signal, 'write', (abortSignal) =>
        this.client.writeMetadata(blobName, metadata, condition, abortSignal),
      )
      return {status: 'written', ...result}
    } catch (error) {
      return this.settleUncertain(error, blobName, metadata, signal)
    }
  }

  /**
   * After a refusal or a lost response, what happened. A 412 (or 409, 404) is ehcp's own write only when an
   * earlier try of this very request may have landed — its answer was lost and the pipeline retried — and the
   * blob now holds exactly the intended state; a first-try refusal is another writer's doing, even if that
   * writer happened to write the same value (said so). A lost answer (network error, deadline) or storage
   * failing after a try that may have landed is settled by reading the blob back. A blob that cannot be read
   * back leaves the outcome unknown, and that is said (exit 7); any other failure stands.
   */
  private async settleUncertain(
    error: unknown,
    blobName: string,
    intended: Record<string, string> | null,
    signal?: AbortSignal,
  ): Promise<WriteOutcome> {
    const conflict = conflictOf(error)
    const landed = mayHaveLanded(error)
    // A lost answer, or storage failing after a try that may have landed (its 5xx is 'unreachable', exit 7).
    const lost = !conflict && landed && classifyError(error).exitCode === ExitCode.unreachable
    if (!conflict && !lost) throw error
    if (conflict && !landed && conflict.definite) return {status: 'conflict', reason: conflict.reason}
    let current: Record<string, string> | null | undefined
    try {
      current = await this.bounded(signal, 'list', (abortSignal) => this.client.readMetadata(blobName, abortSignal))
    } catch {
      current = undefined
    }
    const holds = current !== undefined && holdsState(current, intended)
    if (conflict && !landed) {
      // Nothing of this request can have been applied: whatever the blob holds, another writer put it there.
      return {status: 'conflict', reason: holds ? (intended === null ? ANOTHER_DELETER : ANOTHER_WRITER) : conflict.reason}
    }
    if (holds) return {status: 'written', etag: '', lastModified: undefined, note: lost ? RESPONSE_LOST : ALREADY_WRITTEN}
    if (current === undefined) {
      // Unknown either way: a 412 may be a retry meeting ehcp's own landed write, a lost answer may hide one.
      const e = conflict ? unreachableError(`The blob had changed (${conflict.reason}) and could not be read back.`) : classifyError(error)
      const why = conflict ? 'a retried write meets its own change' : 'its answer was lost'
      throw new UncertainWriteError(
        e.code,
        `${e.message} The write may have been applied (${why}); the blob could not be read back.`,
        e.exitCode,
        'Check with `ehcp show`; running the same command again converges.',
      )
    }
    if (conflict) return {status: 'conflict', reason: conflict.reason}
    throw error
  }

  /** Writes a matching (offset, sequence number) pair, keeping every metadata key the tool does not own. */
  async writeCheckpoint(
    target: Omit<BlobTarget, 'etag'> & {etag: string | null},
    position: {sequenceNumber: number; offset: string},
    signal?: AbortSignal,
  ): Promise<WriteOutcome> {
    const condition: WriteCondition = target.etag ? {ifMatch: target.etag} : {ifNoneMatch: '*'}
    return this.writeMetadata(target.blobName, encodeCheckpoint(target.metadata, position), condition, signal)
  }

  /** Writes ownerid = "" under If-Match: the SDKs' own "give up" signal. */
  async releaseOwnership(target: BlobTarget, signal?: AbortSignal): Promise<WriteOutcome> {
    return this.writeMetadata(target.blobName, encodeOwnership(target.metadata, ''), {ifMatch: target.etag}, signal)
  }

  /** A blob's body with its ETag, metadata and lease state (legacy lease blobs); null when it does not exist. */
  async readBody(blobName: string, signal?: AbortSignal): Promise<BlobBody | null> {
    return this.bounded(signal, 'list', (abortSignal) => this.client.readBody(blobName, abortSignal))
  }

  /**
   * Replaces a legacy lease blob's body (Put Blob) with this exact metadata, If-Match the ETag read at plan
   * time. A leased blob refuses (412 LeaseIdMissing: a conflict) unless `leaseId` is the lease held. A lost
   * answer is settled by reading the blob back, as for metadata writes.
   */
  async writeBody(
    blobName: string,
    text: string,
    metadata: Record<string, string>,
    ifMatch: string,
    signal?: AbortSignal,
    leaseId?: string,
  ): Promise<WriteOutcome> {
    this.dropPrefetched()
    try {
      const result = await this.bounded(signal, 'write', (abortSignal) =>
        this.client.writeBody(blobName, text, metadata, {ifMatch}, leaseId, abortSignal),
      )
      return {status: 'written', ...result}
    } catch (error) {
      const conflict = conflictOf(error)
      const landed = mayHaveLanded(error)
      const lost = !conflict && landed && classifyError(error).exitCode === ExitCode.unreachable
      if (!conflict && !lost) throw error
      if (conflict && !landed) return {status: 'conflict', reason: conflict.reason}
      const current = await this.readBody(blobName, signal).catch(() => undefined)
      if (current && current.text === text && holdsState(current.metadata, metadata))
        return {status: 'written', etag: current.etag, lastModified: current.lastModified, note: lost ? RESPONSE_LOST : ALREADY_WRITTEN}
      if (conflict && current !== undefined) return {status: 'conflict', reason: conflict.reason}
      if (current !== undefined) throw error
      const e = classifyError(error)
      throw new UncertainWriteError(
        e.code,
        `${e.message} The write may have been applied; the blob could not be read back.`,
        e.exitCode,
        'Check with `ehcp show --layout`; running the same command again converges.',
      )
    }
  }

  /**
   * Breaks a legacy lease blob's lease at once (break period 0), only while the blob has the ETag read at
   * plan time: its holder loses the partition at its next renewal. A lease no longer held is no failure.
   */
  async breakLease(blobName: string, ifMatch: string, signal?: AbortSignal): Promise<WriteOutcome> {
    this.dropPrefetched()
    try {
      const result = await this.bounded(signal, 'write', (abortSignal) => this.client.breakLease(blobName, abortSignal, ifMatch))
      return {status: 'written', ...result}
    } catch (error) {
      if (statusCodeOf(error) === 409 && serviceErrorCode(error) === 'LeaseNotPresentWithLeaseOperation')
        return {status: 'written', etag: ifMatch, lastModified: undefined, note: 'no lease was held any more'}
      const conflict = conflictOf(error)
      if (conflict) return {status: 'conflict', reason: conflict.reason}
      throw error
    }
  }

  /** Deletes a blob only if it still has the ETag read at plan time. */
  async deleteBlob(blobName: string, etag: string, signal?: AbortSignal): Promise<WriteOutcome> {
    this.dropPrefetched()
    try {
      await this.bounded(signal, 'delete', (abortSignal) => this.client.deleteBlob(blobName, etag, abortSignal))
      return {status: 'written', etag: '', lastModified: undefined}
    } catch (error) {
      return this.settleUncertain(error, blobName, null, signal)
    }
  }
}

const ALREADY_WRITTEN = 'already held the new value (a retried write whose first response was lost)'
const RESPONSE_LOST = 'the response was lost, but the blob holds the new value'
const ANOTHER_WRITER = 'another writer already set this value; not written by ehcp'
const ANOTHER_DELETER = 'another writer already deleted it; not deleted by ehcp'
