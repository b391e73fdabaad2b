/**
 * What the model expects of backups and undos, in one place, so it can follow the final implementation:
 * - `recordedOutcome`: the outcome a backup entry records for a report row;
 * - `expectedUndo`: what `reset --from-file <backup>` does to one entry, given what the blob holds now;
 * - `checkBackupFile`: the backup file's shape (schemaVersion 2, `written`, `outcome`).
 */
import {expect} from 'chai'

export type Metadata = Record<string, string>
export type Outcome = 'written' | 'not-written' | 'unknown'

/** One blob a change targeted, as the model knows it. */
export interface ModelEntry {
  partitionId: string
  blobName: string
  /** null: the blob did not exist. */
  before: Metadata | null
  beforeEtag: string | null
  /** What the change writes; null: it deletes the blob. */
  written: Metadata | null
  outcome: Outcome
  /** The ETag the change's own write left (unquoted), when its answer said: the blob is as the change left it only while it has it. */
  writtenEtag?: string
}

export const MAY_HAVE_BEEN_APPLIED = /may have been applied/

/** The outcome a backup entry records for a report row. */
export function recordedOutcome(row: {status: string; reason: string | null}): Outcome {
  if (row.status === 'updated') return 'written'
  if (row.status === 'failed' && MAY_HAVE_BEEN_APPLIED.test(row.reason ?? '')) return 'unknown'
  return 'not-written'
}

/** Metadata equal, key names compared case-insensitively (values exactly). */
export function sameMetadataIgnoringKeyCase(a: Metadata | null, b: Metadata | null): boolean {
  if (a === null || b === null) return a === b
  const norm = (m: Metadata) =>
    Object.entries(m)
      .map(([k, v]) => `${k.toLowerCase()}=${v}`)
      .sort()
      .join('\n')
  return norm(a) === norm(b)
}

export interface UndoExpectation {
  /** The undo writes `entry.before` back (or deletes the blob when before is null). */
  restore: boolean
  /** Report statuses allowed for the entry when it is left alone (restore false). */
  leftAlone: string[]
  /** The reason of a left-alone row must match this (when the status is conflict). */
  reason?: RegExp
}

/**
 * The undo restores an entry only if the change wrote it (outcome not "not-written") and the blob still holds
 * exactly what the change wrote (or is still absent for a delete) — with the ETag the change's write left, when
 * that is known, so that the same value written again since is not taken for the change's. Anything else is
 * left alone: `unchanged` when the change never wrote it, `conflict` ("changed since ...") when someone wrote it since.
 */
export function expectedUndo(entry: ModelEntry, current: Metadata | null, currentEtag: string | null): UndoExpectation {
  if (entry.outcome === 'not-written') return {restore: false, leftAlone: ['unchanged']}
  const rewritten = entry.writtenEtag !== undefined && currentEtag !== null && currentEtag !== entry.writtenEtag
  if (sameMetadataIgnoringKeyCase(current, entry.written) && !rewritten) return {restore: true, leftAlone: []}
  // The change's write never landed (outcome unknown), or the blob was put back since: either word will do.
  if (sameMetadataIgnoringKeyCase(current, entry.before))
    return {restore: false, leftAlone: ['unchanged', 'conflict'], reason: /changed|since|wrote|not written|never/i}
  return {restore: false, leftAlone: ['conflict'], reason: /changed since/i}
}

interface BackupJsonEntry {
  partitionId: string
  blobName: string
  metadata: Metadata | null
  etag: string | null
  written?: Metadata | null
  outcome?: Outcome
  writtenEtag?: string
}

/** The backup a change wrote: complete, with what the change wrote and, once the run ended, each outcome. */
export function checkBackupFile(text: string, entries: ModelEntry[], what: string): void {
  const doc = JSON.parse(text) as {kind: string; schemaVersion: number; partitions: BackupJsonEntry[]}
  expect(doc.kind, `${what}: backup kind`).to.equal('ehcp-backup')
  expect(doc.schemaVersion, `${what}: backup schemaVersion`).to.equal(2)
  const byName = new Map(doc.partitions.map((p) => [p.blobName, p]))
  expect([...byName.keys()].sort(), `${what}: backup entries are the blobs the change targeted`).to.deep.equal(
    entries.map((e) => e.blobName).sort(),
  )
  for (const e of entries) {
    const got = byName.get(e.blobName)!
    expect(
      {
        partitionId: got.partitionId,
        metadata: got.metadata,
        etag: got.etag,
        written: got.written,
        outcome: got.outcome,
        writtenEtag: got.writtenEtag?.replace(/^"(.*)"$/, '$1'),
      },
      `${what}: backup entry ${e.blobName}`,
    ).to.deep.equal({
      partitionId: e.partitionId,
      metadata: e.before,
      etag: e.beforeEtag,
      written: e.written,
      outcome: e.outcome,
      writtenEtag: e.writtenEtag,
    })
  }
}
