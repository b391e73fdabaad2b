/**
 * Files `reset --from-file` reads: an ehcp backup (restored byte for byte), the JSON of `show`, or the CSV
 * of `show` (positions). Anything malformed is a usage error that names the file and the place; nothing
 * is written.
 */
import {parseCsv} from '../csv.js'
import {printable, quote, usageError} from '../errors.js'
import {OFFSET, PARTITION_ID, parseBlobName, sameName} from '../store/codec.js'
import {type GroupId, groupPath} from '../store/group-id.js'
import {decodeLegacyBody, LAYOUT_DIALECTS, LEGACY_LAYOUTS, type LegacyLayout, partitionUnder} from '../store/layouts.js'
import type {ScopeFilter} from '../store/scope.js'
import type {Position, RestoreEntry, WriteRecord} from './plan.js'

export const BACKUP_KIND = 'ehcp-backup'

/**
 * A backup: the targeted blobs as they were before the change (`metadata`, `etag`), what the change leaves in
 * each (`written`; null: it deletes the blob), and once the run has ended whether it wrote it (`outcome`).
 * Saved whole before the first write; the outcomes are added when the run ends. Schema 1 had neither.
 */
export interface BackupFile {
  schemaVersion: 2
  kind: typeof BACKUP_KIND
  createdAt: string
  container: string
  /** A legacy group's names are null where its layout does not record them. */
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
  /** A legacy group (absent for modern ones): its layout and blob prefix; each entry then has `body` and `writtenBody`. */
  layout?: LegacyLayout
  blobPrefix?: string
  partitions: Array<RestoreEntry & {etag: string | null; written: Record<string, string> | null}>
}

export type PlanFile =
  | {kind: 'backup'; scope: GroupId; container: string | null; entries: RestoreEntry[]}
  | {
      kind: 'legacy-backup'
      layout: LegacyLayout
      blobPrefix: string
      names: {namespace?: string; eventHub?: string; consumerGroup?: string}
      container: string
      entries: RestoreEntry[]
    }
  | {kind: 'positions'; scope: ScopeFilter; positions: Array<{partitionId: string; position: Position}>; skipped: string[]}

type Json = null | boolean | number | string | Json[] | {[key: string]: Json}

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v)

class FileProblem {
  constructor(private readonly file: string) {}
  fail(where: string, what: string): never {
    throw usageError(
      `${this.file}: ${where}: ${what}.`,
      'reset --from-file reads an ehcp backup file, the JSON of `ehcp show --json`, or the CSV of `ehcp show --csv`.',
    )
  }
}

const SEQUENCE = /^-?\d{1,19}$/

function sequenceFrom(value: unknown, at: string, problem: FileProblem): number {
  const text = typeof value === 'number' ? String(value) : value
  if (typeof text !== 'string' || !SEQUENCE.test(text)) problem.fail(at, `sequence number ${quote(value)} is not an integer`)
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < -1) problem.fail(at, `sequence number ${text} is out of range (-1 .. 2^53-1)`)
  return n
}

function offsetFrom(value: unknown, at: string, problem: FileProblem): string {
  if (typeof value !== 'string' || !OFFSET.test(value))
    problem.fail(at, `offset ${quote(value)} is not an offset (printable ASCII without spaces, at most 1024 characters)`)
  return value
}

function partitionIdFrom(value: unknown, at: string, problem: FileProblem): string {
  if (typeof value !== 'string' || !PARTITION_ID.test(value)) problem.fail(at, `partition id ${quote(value)} is not a partition id`)
  return value
}

function noDuplicate(key: string, at: string, problem: FileProblem, seen: Set<string>, what: string): void {
  const lower = key.toLowerCase()
  if (seen.has(lower)) problem.fail(at, `${what} ${quote(key)} appears twice`)
  seen.add(lower)
}

/** What Blob Storage keeps as metadata: names are C# identifiers (case-insensitive), values HTTP header text, 8 KiB in all. */
function checkMetadata(metadata: Record<string, string>, at: string, problem: FileProblem): void {
  const seen = new Set<string>()
  let size = 0
  for (const [key, value] of Object.entries(metadata)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) problem.fail(at, `${quote(key)} is not a metadata name`)
    noDuplicate(key, at, problem, seen, 'metadata name')
    if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) problem.fail(`${at}.${key}`, `${quote(value)} cannot be stored as metadata`)
    size += key.length + value.length
  }
  if (size > 8192) problem.fail(at, `${size} characters, more than Blob Storage keeps (8 KiB)`)
}

function scopeFrom(doc: Record<string, Json>, problem: FileProblem, required: boolean): ScopeFilter {
  const scope: ScopeFilter = {}
  for (const key of ['namespace', 'eventHub', 'consumerGroup'] as const) {
    const value = doc[key]
    // The JSON of `show` for a legacy group has null where its layout records no name.
    if ((value === undefined || value === null) && !required) continue
    if (typeof value !== 'string' || value === '') problem.fail(key, 'missing or not a name')
    scope[key] = value
  }
  return scope
}

const OUTCOMES: readonly WriteRecord[] = ['written', 'not-written', 'unknown']

function metadataFrom(value: unknown, at: string, problem: FileProblem): Record<string, string> | null {
  if (value === null) return null
  if (!(isObject(value) && Object.values(value).every((v) => typeof v === 'string'))) problem.fail(at, 'not an object of strings (or null)')
  checkMetadata(value as Record<string, string>, at, problem)
  return value as Record<string, string>
}

/**
 * The walk every backup's `partitions` takes, modern or legacy: each entry an object with a partition id and a
 * blob name (checked by `checkBlob`) no other entry names; `rest` checks the remainder and builds the entry.
 */
function backupEntries(
  doc: Record<string, Json>,
  problem: FileProblem,
  checkBlob: (entry: Record<string, Json>, at: string, partitionId: string) => void,
  rest: (entry: Record<string, Json>, at: string, partitionId: string, blobName: string) => RestoreEntry,
): RestoreEntry[] {
  if (!Array.isArray(doc.partitions)) problem.fail('partitions', 'not a list')
  const seen = new Set<string>()
  return doc.partitions.map((entry, i): RestoreEntry => {
    const at = `partitions[${i}]`
    if (!isObject(entry)) problem.fail(at, 'not an object')
    const partitionId = partitionIdFrom(entry.partitionId, `${at}.partitionId`, problem)
    checkBlob(entry, at, partitionId)
    const blobName = entry.blobName as string
    noDuplicate(blobName, at, problem, seen, 'blob')
    return rest(entry, at, partitionId, blobName)
  })
}

/**
 * A backup of legacy lease blobs: each entry's blob is a partition blob of the group the file names, and its
 * `body` (what the undo writes back) a body the layout's writers write.
 */
function parseLegacyBackup(doc: Record<string, Json>, problem: FileProblem): PlanFile {
  if (doc.schemaVersion !== 2) problem.fail('schemaVersion', `${quote(doc.schemaVersion)} is not a version of legacy backups (2)`)
  const layout = doc.layout as LegacyLayout
  if (!LEGACY_LAYOUTS.includes(layout)) problem.fail('layout', `${quote(doc.layout)} is not one of ${LEGACY_LAYOUTS.join(', ')}`)
  if (typeof doc.blobPrefix !== 'string') problem.fail('blobPrefix', 'missing or not a string')
  const blobPrefix = doc.blobPrefix
  if (typeof doc.container !== 'string' || doc.container === '') problem.fail('container', 'missing or not a container name')
  const names: {namespace?: string; eventHub?: string; consumerGroup?: string} = {}
  for (const key of ['namespace', 'eventHub', 'consumerGroup'] as const) {
    const value = doc[key]
    if (value === null || value === undefined) continue
    if (typeof value !== 'string' || value === '') problem.fail(key, 'not a name (or null)')
    names[key] = value
  }
  const entries = backupEntries(
    doc,
    problem,
    (entry, at, partitionId) => {
      if (typeof entry.blobName !== 'string' || partitionUnder(layout, blobPrefix, entry.blobName) !== partitionId)
        problem.fail(
          `${at}.blobName`,
          `${quote(entry.blobName)} is not the ${layout} lease blob of partition ${partitionId} under ${quote(blobPrefix)}`,
        )
    },
    (entry, at, partitionId, blobName): RestoreEntry => {
      const metadata = metadataFrom(entry.metadata, `${at}.metadata`, problem)
      const written = metadataFrom(entry.written, `${at}.written`, problem)
      for (const key of ['body', 'writtenBody'] as const) {
        const body = entry[key]
        if (typeof body !== 'string') problem.fail(`${at}.${key}`, 'missing or not a string')
        const read = decodeLegacyBody(body, LAYOUT_DIALECTS[layout])
        if (!read.ok) problem.fail(`${at}.${key}`, read.problem.message)
      }
      checkOutcome(entry, at, problem)
      return {
        partitionId,
        blobName,
        metadata,
        written,
        body: entry.body as string,
        writtenBody: entry.writtenBody as string,
        ...outcomeOf(entry),
      }
    },
  )
  return {kind: 'legacy-backup', layout, blobPrefix, names, container: doc.container, entries}
}

/** A backup entry's record of its write (schema 2): what the undo knows of how the write went. */
function checkOutcome(entry: Record<string, Json>, at: string, problem: FileProblem): void {
  if (entry.outcome !== undefined && !OUTCOMES.includes(entry.outcome as WriteRecord))
    problem.fail(`${at}.outcome`, `${quote(entry.outcome)} is not one of ${OUTCOMES.join(', ')}`)
  if (entry.writtenEtag !== undefined && (typeof entry.writtenEtag !== 'string' || entry.writtenEtag === ''))
    problem.fail(`${at}.writtenEtag`, `${quote(entry.writtenEtag)} is not an ETag`)
}

const outcomeOf = (entry: Record<string, Json>): {outcome?: WriteRecord; writtenEtag?: string} => ({
  ...(entry.outcome === undefined ? {} : {outcome: entry.outcome as WriteRecord}),
  ...(entry.writtenEtag === undefined ? {} : {writtenEtag: entry.writtenEtag as string}),
})

function parseBackup(doc: Record<string, Json>, problem: FileProblem): PlanFile {
  if (doc.layout !== undefined && doc.layout !== 'modern') return parseLegacyBackup(doc, problem)
  const version = doc.schemaVersion
  if (version !== 1 && version !== 2) problem.fail('schemaVersion', `${quote(version)} is not a version this ehcp reads (1 or 2)`)
  const scope = scopeFrom(doc, problem, true) as GroupId
  // Schema 2 names its container always: the undo refuses any other.
  if ((version === 2 || doc.container !== undefined) && (typeof doc.container !== 'string' || doc.container === ''))
    problem.fail('container', 'missing or not a container name')
  const entries = backupEntries(
    doc,
    problem,
    (entry, at) => {
      if (typeof entry.blobName !== 'string' || entry.blobName === '') problem.fail(`${at}.blobName`, 'missing')
    },
    (entry, at, partitionId, blobName): RestoreEntry => {
      const parsed = parseBlobName(blobName)
      if (!parsed || !sameName(parsed.partitionId, partitionId))
        problem.fail(`${at}.blobName`, `${quote(blobName)} is not the checkpoint or ownership blob of partition ${partitionId}`)
      if (!sameName(groupPath(parsed), groupPath(scope))) {
        problem.fail(`${at}.blobName`, `${quote(blobName)} is not in ${groupPath(scope)}`)
      }
      const metadata = metadataFrom(entry.metadata, `${at}.metadata`, problem)
      if (version === 1) return {partitionId, blobName, metadata}
      if (!('written' in entry)) problem.fail(`${at}.written`, 'missing')
      const written = metadataFrom(entry.written, `${at}.written`, problem)
      checkOutcome(entry, at, problem)
      return {partitionId, blobName, metadata, written, ...outcomeOf(entry)}
    },
  )
  return {kind: 'backup', scope, container: (doc.container as string | undefined) ?? null, entries}
}

function parseShowJson(doc: Record<string, Json>, problem: FileProblem): PlanFile {
  if (doc.schemaVersion !== undefined && doc.schemaVersion !== 1)
    problem.fail('schemaVersion', `${quote(doc.schemaVersion)} is not a version this ehcp reads (1)`)
  if (doc.kind !== undefined)
    problem.fail('kind', `${quote(doc.kind)} is not a kind this ehcp reads ("${BACKUP_KIND}", or none for the JSON of show)`)
  if (!Array.isArray(doc.partitions)) problem.fail('partitions', 'not a list')
  const seen = new Set<string>()
  const positions: Array<{partitionId: string; position: Position}> = []
  const skipped: string[] = []
  doc.partitions.forEach((p, i) => {
    const at = `partitions[${i}]`
    if (!isObject(p)) problem.fail(at, 'not an object')
    const partitionId = partitionIdFrom(p.partitionId, `${at}.partitionId`, problem)
    noDuplicate(partitionId, at, problem, seen, 'partition')
    const c = p.checkpoint
    if (c === null || c === undefined) return void skipped.push(partitionId)
    if (!isObject(c)) problem.fail(`${at}.checkpoint`, 'not an object')
    if (c.sequenceNumber === null || c.offset === null) return void skipped.push(partitionId)
    positions.push({
      partitionId,
      position: {
        sequenceNumber: sequenceFrom(c.sequenceNumber, `${at}.checkpoint.sequenceNumber`, problem),
        offset: offsetFrom(c.offset, `${at}.checkpoint.offset`, problem),
      },
    })
  })
  return {kind: 'positions', scope: scopeFrom(doc, problem, false), positions, skipped}
}

function parseShowCsv(text: string, problem: FileProblem): PlanFile {
  const rows = parseCsv(text.replace(/^\uFEFF/, '')).filter((r) => !(r.length === 1 && r[0] === ''))
  const head = rows.shift()
  if (!head) problem.fail('line 1', 'the file is empty')
  const column = (name: string) => {
    const i = head.indexOf(name)
    if (i < 0) problem.fail('header', `no "${name}" column`)
    return i
  }
  const [idCol, seqCol, offCol] = [column('partitionId'), column('sequenceNumber'), column('offset')]
  const seen = new Set<string>()
  const positions: Array<{partitionId: string; position: Position}> = []
  const skipped: string[] = []
  rows.forEach((row, i) => {
    const at = `line ${i + 2}`
    if (row.length !== head.length) problem.fail(at, `${row.length} fields where the header has ${head.length}`)
    const partitionId = partitionIdFrom(row[idCol], `${at} partitionId`, problem)
    noDuplicate(partitionId, at, problem, seen, 'partition')
    if (row[seqCol] === '' || row[offCol] === '') return void skipped.push(partitionId)
    positions.push({
      partitionId,
      position: {
        sequenceNumber: sequenceFrom(row[seqCol], `${at} sequenceNumber`, problem),
        offset: offsetFrom(row[offCol], `${at} offset`, problem),
      },
    })
  })
  return {kind: 'positions', scope: {}, positions, skipped}
}

/** Reads a plan file's text (the caller reads the file). */
export function parsePlanFile(text: string, fileName: string): PlanFile {
  const problem: FileProblem = new FileProblem(fileName)
  const trimmed = text.replace(/^\uFEFF/, '').trimStart()
  if (trimmed === '') problem.fail('line 1', 'the file is empty')
  if (!trimmed.startsWith('{')) return parseShowCsv(text, problem)
  let parsed: unknown
  try {
    parsed = JSON.parse(trimmed)
  } catch (error) {
    problem.fail('JSON', printable((error as Error).message))
  }
  if (!isObject(parsed)) problem.fail('JSON', 'not an object')
  const doc: Record<string, Json> = parsed
  if (doc.kind === BACKUP_KIND) return parseBackup(doc, problem)
  if ('error' in doc) problem.fail('JSON', 'this is an ehcp error document, not a plan')
  return parseShowJson(doc, problem)
}
