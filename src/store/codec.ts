/**
 * The codec for checkpoint-store blobs: names and metadata, exactly as the layout document
 * describes them. Pure functions; no I/O. Names and keys match case-insensitively; offsets are opaque.
 */
import {type GroupId, groupPath} from './group-id.js'

export type RecordKind = 'checkpoint' | 'ownership'

export interface BlobNameParts extends GroupId {
  kind: RecordKind
  partitionId: string
}

export interface Problem {
  code: string
  message: string
  blobName?: string
  partitionId?: string
}

/** Event Hubs partition ids are short identifiers ("0".."1023"); "backup.json" is not one. */
export const PARTITION_ID = /^[A-Za-z0-9_-]{1,64}$/

/**
 * An offset is opaque, but it is written as a metadata value (an HTTP header): printable ASCII without
 * spaces (a header loses surrounding spaces, and a control character cannot be sent at all).
 */
export const OFFSET = /^[\x21-\x7e]{1,1024}$/

/** `{namespace}/{eventHub}/{consumerGroup}/{checkpoint|ownership}/{partitionId}`, or null for any other name. */
export function parseBlobName(name: string): BlobNameParts | null {
  const parts = name.split('/')
  if (parts.length !== 5 || parts.some((p) => p.length === 0)) return null
  const [namespace, eventHub, consumerGroup, kindSegment, partitionId] = parts as [string, string, string, string, string]
  const kind = kindSegment.toLowerCase()
  if ((kind !== 'checkpoint' && kind !== 'ownership') || !PARTITION_ID.test(partitionId)) return null
  return {namespace, eventHub, consumerGroup, kind, partitionId}
}

/** The name new blobs get: ns, hub and group lower-cased, as the JS/.NET/Python/Go SDKs write them. */
export function newBlobName(scope: GroupId, kind: RecordKind, partitionId: string): string {
  return `${groupPrefix(scope, true)}${kind}/${partitionId}`
}

export function groupPrefix(scope: GroupId, lowerCase = false): string {
  const p = `${groupPath(scope)}/`
  return lowerCase ? p.toLowerCase() : p
}

export const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/** Two blobs' metadata are the same: the same values under the same names, compared as Blob Storage does (names case-insensitively). */
export function sameMetadata(a: Record<string, string>, b: Record<string, string>): boolean {
  const canonical = (m: Record<string, string>) =>
    JSON.stringify(
      Object.entries(m)
        .map(([k, v]) => [k.toLowerCase(), v])
        .sort(([x], [y]) => (x! < y! ? -1 : x! > y! ? 1 : 0)),
    )
  return canonical(a) === canonical(b)
}

/** Whether a blob holds a state: `current` is its metadata (null: it does not exist), `state` what is wanted (null: no blob). */
export function holdsState(current: Record<string, string> | null, state: Record<string, string> | null): boolean {
  return state === null ? current === null : current !== null && sameMetadata(current, state)
}

/** Case-insensitive metadata lookup. Returns every stored key that matches, in stored order. */
function matchingKeys(metadata: Record<string, string>, key: string): string[] {
  const lower = key.toLowerCase()
  return Object.keys(metadata).filter((k) => k.toLowerCase() === lower)
}

interface KeyRead {
  value: string | undefined
  problem?: string
}

function readKey(metadata: Record<string, string>, key: string): KeyRead {
  const keys = matchingKeys(metadata, key)
  if (keys.length === 0) return {value: undefined}
  const preferred = keys.includes(key) ? key : keys[0]!
  const values = new Set(keys.map((k) => metadata[k]))
  const problem =
    values.size > 1
      ? `metadata keys ${keys.map((k) => `"${k}"`).join(', ')} differ only in case and disagree`
      : preferred !== key
        ? `metadata key "${preferred}" is not lower-case: the JS and Python checkpoint stores look for "${key}" and do not see it`
        : undefined
  return {value: metadata[preferred], problem}
}

export const OWNED_CHECKPOINT_KEYS = ['sequencenumber', 'offset'] as const
export const OWNED_OWNERSHIP_KEYS = ['ownerid'] as const

export interface CheckpointPosition {
  /** null when absent (.NET writes "" when unknown) or unreadable. */
  sequenceNumber: number | null
  /** Opaque; null when absent, "" or "no offset". */
  offset: string | null
}

const SEQUENCE_PATTERN = /^-?\d{1,20}$/

/** Reads a checkpoint's position tolerantly: problems are returned, never thrown. */
export function decodeCheckpoint(metadata: Record<string, string>): CheckpointPosition & {problems: Problem[]} {
  const problems: Problem[] = []
  const seq = readKey(metadata, 'sequencenumber')
  const off = readKey(metadata, 'offset')
  for (const p of [seq.problem, off.problem]) if (p) problems.push({code: 'metadata-key-case', message: p})

  let sequenceNumber: number | null = null
  const rawSeq = seq.value
  if (rawSeq === undefined || rawSeq.trim() === '') {
    problems.push({
      code: 'missing-sequence-number',
      message:
        rawSeq === undefined
          ? 'no sequencenumber key: lag cannot be computed, and the JS and Python checkpoint stores fail to read this blob'
          : 'sequencenumber is empty (as .NET writes when unknown): lag cannot be computed, and the JS and Python checkpoint stores fail to read this blob',
    })
  } else if (!SEQUENCE_PATTERN.test(rawSeq.trim())) {
    problems.push({
      code: 'invalid-sequence-number',
      message: `sequencenumber ${JSON.stringify(rawSeq)} is not a decimal integer; SDK readers fail on this blob`,
    })
  } else {
    const n = Number(rawSeq.trim())
    if (Number.isSafeInteger(n) && n >= -1) sequenceNumber = n
    else problems.push({code: 'invalid-sequence-number', message: `sequencenumber ${rawSeq} is out of range`})
  }

  const rawOffset = off.value
  const offset = rawOffset === undefined || rawOffset === '' || rawOffset.toLowerCase() === 'no offset' ? null : rawOffset
  if (offset === null) {
    problems.push({
      code: 'missing-offset',
      message:
        rawOffset === undefined
          ? 'no offset key: JS and Python processors cannot resume from this checkpoint (the JS store fails to list it); .NET, Java, Go and Rust resume from the sequence number'
          : `offset is ${JSON.stringify(rawOffset)} (absent): JS and Python processors cannot resume from it; .NET, Java, Go and Rust resume from the sequence number`,
    })
  }
  if (offset === null && sequenceNumber === null) {
    problems.push({code: 'unusable-checkpoint', message: 'neither an offset nor a sequence number: no SDK can resume from this checkpoint'})
  }
  return {sequenceNumber, offset, problems}
}

export interface OwnerRead {
  /** null when the ownerid key is absent (Rust omits it when nobody owns the partition). */
  ownerId: string | null
  problems: Problem[]
}

export function decodeOwnership(metadata: Record<string, string>): OwnerRead {
  const owner = readKey(metadata, 'ownerid')
  const problems: Problem[] = []
  if (owner.problem) problems.push({code: 'metadata-key-case', message: owner.problem})
  if (owner.value === undefined) {
    problems.push({
      code: 'missing-owner-id',
      message:
        'no ownerid key (Rust omits it when nobody owns the partition): the JS checkpoint store fails to list ownership with this blob present',
    })
  }
  return {ownerId: owner.value ?? null, problems}
}

/** Metadata keys the tool does not own, carried over on every rewrite (.NET client id, anything unknown). */
export function foreignKeys(metadata: Record<string, string>, owned: readonly string[]): Record<string, string> {
  const ownedLower = new Set(owned)
  return Object.fromEntries(Object.entries(metadata).filter(([k]) => !ownedLower.has(k.toLowerCase())))
}

/** Metadata for a checkpoint write: foreign keys kept, own keys lower-case, a matching (offset, sequence) pair. */
export function encodeCheckpoint(
  before: Record<string, string>,
  position: {sequenceNumber: number; offset: string},
): Record<string, string> {
  return {...foreignKeys(before, OWNED_CHECKPOINT_KEYS), sequencenumber: String(position.sequenceNumber), offset: position.offset}
}

export function encodeOwnership(before: Record<string, string>, ownerId: string): Record<string, string> {
  return {...foreignKeys(before, OWNED_OWNERSHIP_KEYS), ownerid: ownerId}
}

export type OwnerState = 'active' | 'expired' | 'released' | 'none'

/** active: a non-empty owner whose heartbeat (Last-Modified) is younger than the expiry. */
export function ownerState(ownerId: string | null | undefined, lastModifiedMs: number, nowMs: number, expiryMs: number): OwnerState {
  if (ownerId === undefined) return 'none'
  if (ownerId === null || ownerId === '') return 'released'
  return nowMs - lastModifiedMs < expiryMs ? 'active' : 'expired'
}

/** Which SDK families read a blob of this exact spelling. */
export function readersOf(parts: BlobNameParts): string {
  const lowerGroup = [parts.namespace, parts.eventHub, parts.consumerGroup].every((s) => s === s.toLowerCase())
  if (!lowerGroup) return `Java and Rust processors configured with exactly this casing`
  const lowerPartition = parts.partitionId === parts.partitionId.toLowerCase()
  return lowerPartition ? 'JS, .NET, Python and Go processors' : 'JS, .NET and Go processors'
}

/** Whether partition `id` is one of `ids`, matched case-insensitively as names are; no list (no --partition) takes every partition. */
export function inPartitions(ids: readonly string[] | undefined, id: string): boolean {
  return ids === undefined || ids.some((p) => sameName(p, id))
}

/** Numeric partition ids in numeric order, others after them in code-point order. */
export function comparePartitionIds(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : NaN
  const nb = /^\d+$/.test(b) ? Number(b) : NaN
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb
  if (!Number.isNaN(na)) return -1
  if (!Number.isNaN(nb)) return 1
  return a < b ? -1 : a > b ? 1 : 0
}
