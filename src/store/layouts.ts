/**
 * The checkpoint layouts retired SDKs left in Blob Storage, beside the modern one: how each names its
 * blobs, how its JSON lease-blob body records a position and an owner, and how a position change is
 * written back with every other field kept. Pure functions; no I/O.
 *
 * | layout         | writer                                   | blob name                                      |
 * |----------------|------------------------------------------|------------------------------------------------|
 * | `eph`          | .NET / Java / JS EventProcessorHost      | `{prefix}{consumerGroup}/{partitionId}`        |
 * | `functions-v4` | Azure Functions Event Hubs extension 4.x | `{esc(namespace)}/{esc(eventHub)}/{cg}/{pid}`  |
 * | `python-eph`   | Python azure-eventhub 1.x                | `{partitionId}` at the container root          |
 * | `go`           | Go azure-event-hubs-go v3                | `{prefix}{partitionId}`                        |
 * | `dapr`         | Dapr 1.6-1.9 (Go v3 inside)              | `dapr-{eventHub}-{consumerGroup}-{partitionId}`|
 */
import type {Problem} from './codec.js'

export const LAYOUTS = ['modern', 'eph', 'functions-v4', 'python-eph', 'go', 'dapr'] as const
export type Layout = (typeof LAYOUTS)[number]
export type LegacyLayout = Exclude<Layout, 'modern'>
export const LEGACY_LAYOUTS = LAYOUTS.filter((l): l is LegacyLayout => l !== 'modern')

/** The container the Functions extension <= 4.x keeps its leases in. */
export const FUNCTIONS_V4_CONTAINER = 'azure-webjobs-eventhub'

/** How a body spells its fields: which SDK family wrote it. */
export type Dialect = 'eph-dotnet' | 'eph-camel' | 'python' | 'go'

/**
 * Partition ids as Event Hubs assigns them ("0".."1023"): legacy names carry nothing else to tell a lease
 * blob from any other root-level blob, so only decimal ids are taken as partitions.
 */
export const LEGACY_PARTITION_ID = /^\d{1,5}$/

/**
 * The UTF-8 byte order mark some .NET writers put before a body (a StreamWriter with Encoding.UTF8): not part
 * of the JSON, read past, and kept when the body is rewritten.
 */
export const BOM = '\uFEFF'

/** A legacy body larger than this is not a lease blob (they are a few hundred bytes). */
export const MAX_LEGACY_BODY_BYTES = 64 * 1024

// ---------------------------------------------------------------------------------------------------------
// Names

/**
 * The Functions extension's `EscapeBlobPath`: `a-z 0-9 - _ .` kept, `A-Z` lower-cased, anything else
 * `:` + two upper-case hex digits (code < 0x100) or `::` + four.
 */
export function functionsEscape(name: string): string {
  let out = ''
  for (const ch of name) {
    const code = ch.codePointAt(0)!
    if (/[a-z0-9_.-]/.test(ch)) out += ch
    else if (/[A-Z]/.test(ch)) out += ch.toLowerCase()
    else if (code < 0x100) out += `:${code.toString(16).toUpperCase().padStart(2, '0')}`
    else {
      // Characters outside the BMP are two UTF-16 code units in .NET: each is escaped on its own.
      for (const unit of ch.length === 2 ? [ch.charCodeAt(0), ch.charCodeAt(1)] : [code]) {
        out += `::${unit.toString(16).toUpperCase().padStart(4, '0')}`
      }
    }
  }
  return out
}

/** The scope a legacy group is named by; fields a layout does not record are null. */
export interface LegacyScope {
  layout: LegacyLayout
  /** The name prefix every blob of the group shares (with its trailing `/` or `-`), "" for root-level layouts. */
  prefix: string
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
}

/** What one blob name says about its legacy group and partition, or null when no legacy layout names blobs so. */
export interface LegacyNameCandidate extends LegacyScope {
  partitionId: string
}

/**
 * The legacy layouts a blob name could belong to, most specific first (a modern name is read as modern
 * before this is asked, and modern blobs are empty while lease blobs are not). A name alone cannot tell `eph`
 * from `functions-v4` or `go` from `python-eph`: the body (see `detectDialect`) and the container decide.
 */
export function legacyNameCandidates(name: string, container: string): LegacyNameCandidate[] {
  const out: LegacyNameCandidate[] = []
  const dapr = /^dapr-(.+)-(\d{1,5})$/.exec(name)
  if (dapr && !name.includes('/')) {
    const [eventHub, consumerGroup] = splitDaprScope(dapr[1]!)
    return [{layout: 'dapr', prefix: `dapr-${dapr[1]!}-`, namespace: null, eventHub, consumerGroup, partitionId: dapr[2]!}]
  }
  const slash = name.lastIndexOf('/')
  const last = name.slice(slash + 1)
  if (!LEGACY_PARTITION_ID.test(last)) return out
  const dir = name.slice(0, slash + 1)
  const parts = dir === '' ? [] : dir.slice(0, -1).split('/')
  if (parts.some((p) => p === '')) return out
  if (parts.length === 0) {
    out.push({layout: 'python-eph', prefix: '', namespace: null, eventHub: null, consumerGroup: null, partitionId: last})
    out.push({layout: 'go', prefix: '', namespace: null, eventHub: null, consumerGroup: null, partitionId: last})
    return out
  }
  if (parts.length === 3 && container === FUNCTIONS_V4_CONTAINER) {
    const [namespace, eventHub, consumerGroup] = parts as [string, string, string]
    out.push({layout: 'functions-v4', prefix: dir, namespace, eventHub, consumerGroup, partitionId: last})
  }
  const consumerGroup = parts.at(-1)!
  out.push({
    layout: 'eph',
    prefix: parts
      .slice(0, -1)
      .map((p) => `${p}/`)
      .join(''),
    namespace: null,
    eventHub: null,
    consumerGroup,
    partitionId: last,
  })
  out.push({layout: 'go', prefix: dir, namespace: null, eventHub: null, consumerGroup: null, partitionId: last})
  return out
}

/**
 * `dapr-{eventHub}-{consumerGroup}` cannot be split when either name holds a dash: the split is given only
 * when it is the one possible (exactly one dash), or the consumer group is `$Default`.
 */
function splitDaprScope(scope: string): [string | null, string | null] {
  if (scope.endsWith('-$Default') && scope.length > '-$Default'.length) return [scope.slice(0, -'-$Default'.length), '$Default']
  const dashes = scope.split('-')
  if (dashes.length === 2 && dashes[0] && dashes[1]) return [dashes[0], dashes[1]]
  return [null, null]
}

/** The prefix (directory) of a legacy group's blobs, from the scope flags the layout takes. */
export function legacyPrefix(
  layout: LegacyLayout,
  scope: {namespace?: string; eventHub?: string; consumerGroup?: string; blobPrefix?: string},
): string {
  const need = (value: string | undefined, flag: string) => {
    if (value === undefined || value === '') throw new TypeError(`the ${layout} layout needs ${flag}`)
    return value
  }
  switch (layout) {
    case 'eph':
      return `${scope.blobPrefix ?? ''}${need(scope.consumerGroup, '--consumer-group')}/`
    case 'functions-v4':
      return `${functionsEscape(need(scope.namespace, '--namespace'))}/${functionsEscape(need(scope.eventHub, '--eventhub'))}/${need(scope.consumerGroup, '--consumer-group')}/`
    case 'dapr':
      return `dapr-${need(scope.eventHub, '--eventhub')}-${need(scope.consumerGroup, '--consumer-group')}-`
    case 'go':
      return scope.blobPrefix ?? ''
    case 'python-eph':
      return ''
  }
}

/** Whether `name` is a partition blob directly under `prefix` for this layout (no deeper path). */
export function partitionUnder(layout: LegacyLayout, prefix: string, name: string): string | null {
  if (!name.startsWith(prefix)) return null
  const rest = name.slice(prefix.length)
  if (!LEGACY_PARTITION_ID.test(rest)) return null
  // A root-level layout does not claim Dapr's root-level blobs.
  if (prefix === '' && layout !== 'dapr' && rest.startsWith('dapr-')) return null
  return rest
}

// ---------------------------------------------------------------------------------------------------------
// Bodies

export type LegacyPosition =
  | {kind: 'none'}
  | {kind: 'position'; offset: string; sequenceNumber: number | null; enqueuedTime: string | null}
  /** Go: an empty offset means "resume after enqueueTime". */
  | {kind: 'after-time'; enqueuedTime: string; sequenceNumber: number | null}
  /** Go sentinels: `-1` start of stream, `@latest` end of stream. Never positions. */
  | {kind: 'sentinel'; sentinel: 'start-of-stream' | 'end-of-stream'; sequenceNumber: number | null}

export interface LegacyRecord {
  dialect: Dialect
  /** The partition id the body names (may disagree with the blob name: a problem then). */
  partitionId: string | null
  position: LegacyPosition
  owner: string | null
  epoch: number | null
  problems: Problem[]
}

const has = (o: Record<string, unknown>, k: string) => Object.prototype.hasOwnProperty.call(o, k)

/** Which family wrote a JSON body, from its keys; null when no legacy writer writes such a body. */
export function detectDialect(body: unknown): Dialect | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  const o = body as Record<string, unknown>
  if (has(o, 'partitionID') && has(o, 'checkpoint')) return 'go'
  if (has(o, 'partition_id') || has(o, 'sequence_number')) return 'python'
  if (has(o, 'SequenceNumber') || has(o, 'PartitionId') || has(o, 'Epoch')) return 'eph-dotnet'
  if (has(o, 'sequenceNumber') || has(o, 'partitionId')) return 'eph-camel'
  return null
}

/** The dialects each layout's writers use. */
export const LAYOUT_DIALECTS: Record<LegacyLayout, readonly Dialect[]> = {
  eph: ['eph-dotnet', 'eph-camel'],
  'functions-v4': ['eph-dotnet'],
  'python-eph': ['python'],
  go: ['go'],
  dapr: ['go'],
}

interface Fields {
  offset: string
  sequenceNumber: string
  partitionId: string
  owner: string
  epoch: string
}

const FIELDS: Record<Exclude<Dialect, 'go'>, Fields> = {
  'eph-dotnet': {offset: 'Offset', sequenceNumber: 'SequenceNumber', partitionId: 'PartitionId', owner: 'Owner', epoch: 'Epoch'},
  'eph-camel': {offset: 'offset', sequenceNumber: 'sequenceNumber', partitionId: 'partitionId', owner: 'owner', epoch: 'epoch'},
  python: {offset: 'offset', sequenceNumber: 'sequence_number', partitionId: 'partition_id', owner: 'owner', epoch: 'epoch'},
}

function problem(code: string, message: string): Problem {
  return {code, message}
}

/**
 * A number as the body writes it: JSON.parse rounds 99999999999999999999999 to 1e+23 and 9007199254740993 to
 * ...992, so the literal after the first `"key":` is shown instead.
 */
function asWritten(value: unknown, key: string, text: string): string {
  if (typeof value !== 'number') return JSON.stringify(value)
  return new RegExp(`"${key}"\\s*:\\s*(-?\\d[\\d.eE+-]*)`).exec(text)?.[1] ?? String(value)
}

function readSequence(value: unknown, field: string, problems: Problem[], text: string): number | null {
  if (value === undefined || value === null) return null
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= -1) return value
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value) && Number.isSafeInteger(Number(value)) && Number(value) >= -1)
    return Number(value)
  const written = asWritten(value, field.split('.').at(-1)!, text)
  problems.push(problem('invalid-sequence-number', `${field} ${written} is not a sequence number`))
  return null
}

function readString(value: unknown, field: string, problems: Problem[]): string | null {
  if (value === undefined || value === null) return null
  if (typeof value === 'string') return value
  problems.push(problem('invalid-field', `${field} ${JSON.stringify(value)} is not a string`))
  return null
}

function readEpoch(value: unknown, field: string, problems: Problem[]): number | null {
  if (value === undefined || value === null) return null
  if (typeof value === 'number' && Number.isFinite(value)) return value
  problems.push(problem('invalid-field', `${field} ${JSON.stringify(value)} is not a number`))
  return null
}

/** A body that is not a lease blob of any legacy writer: why, as a problem. */
export type DecodeResult = {ok: true; record: LegacyRecord} | {ok: false; problem: Problem}

/**
 * Reads a legacy lease blob's body tolerantly: malformed bodies are a problem, never a throw. `expected`
 * narrows the dialects accepted (a go blob in an eph group is reported, not misread).
 */
export function decodeLegacyBody(text: string, expected?: readonly Dialect[]): DecodeResult {
  if (Buffer.byteLength(text) > MAX_LEGACY_BODY_BYTES) {
    return {
      ok: false,
      problem: problem('oversized-body', `the body is ${Buffer.byteLength(text)} bytes: no legacy lease blob is that large`),
    }
  }
  let body: unknown
  try {
    body = JSON.parse(text.startsWith(BOM) ? text.slice(BOM.length) : text)
  } catch {
    return {ok: false, problem: problem('invalid-json', 'the body is not JSON: no legacy checkpoint store can read it')}
  }
  const dialect = detectDialect(body)
  if (dialect === null) {
    return {ok: false, problem: problem('unknown-body', 'the JSON body has none of the fields a legacy checkpoint store writes')}
  }
  if (expected && !expected.includes(dialect)) {
    return {
      ok: false,
      problem: problem('unexpected-dialect', `the body is written as ${dialect}, which this layout's writers do not write`),
    }
  }
  const o = body as Record<string, unknown>
  const problems: Problem[] = []
  if (dialect === 'go') return {ok: true, record: decodeGo(o, problems, text)}
  const f = FIELDS[dialect]
  const sequenceNumber = readSequence(o[f.sequenceNumber], f.sequenceNumber, problems, text)
  const offset = readString(o[f.offset], f.offset, problems)
  const position: LegacyPosition =
    offset === null || offset === '' ? {kind: 'none'} : {kind: 'position', offset, sequenceNumber, enqueuedTime: null}
  const sequenceAbsent = o[f.sequenceNumber] === undefined || o[f.sequenceNumber] === null
  if (position.kind === 'position' && sequenceNumber === null && sequenceAbsent) {
    problems.push(problem('missing-sequence-number', `${f.sequenceNumber} is missing: lag cannot be computed`))
  }
  return {
    ok: true,
    record: {
      dialect,
      partitionId: readString(o[f.partitionId], f.partitionId, problems),
      position,
      owner: readString(o[f.owner], f.owner, problems),
      epoch: readEpoch(o[f.epoch], f.epoch, problems),
      problems,
    },
  }
}

function decodeGo(o: Record<string, unknown>, problems: Problem[], text: string): LegacyRecord {
  const base = {
    dialect: 'go' as const,
    partitionId: readString(o.partitionID, 'partitionID', problems),
    owner: readString(o.owner, 'owner', problems),
    epoch: readEpoch(o.epoch, 'epoch', problems),
    problems,
  }
  const cp = o.checkpoint
  if (cp === null || cp === undefined) return {...base, position: {kind: 'none'}}
  if (typeof cp !== 'object' || Array.isArray(cp)) {
    problems.push(problem('invalid-field', `checkpoint ${JSON.stringify(cp)} is not an object`))
    return {...base, position: {kind: 'none'}}
  }
  const c = cp as Record<string, unknown>
  const offset = readString(c.offset, 'checkpoint.offset', problems)
  const sequenceNumber = readSequence(c.sequenceNumber, 'checkpoint.sequenceNumber', problems, text)
  const enqueuedTime = readString(c.enqueueTime, 'checkpoint.enqueueTime', problems)
  if (offset === '-1') return {...base, position: {kind: 'sentinel', sentinel: 'start-of-stream', sequenceNumber}}
  if (offset === '@latest') return {...base, position: {kind: 'sentinel', sentinel: 'end-of-stream', sequenceNumber}}
  if (offset === null || offset === '') {
    if (enqueuedTime && !enqueuedTime.startsWith('0001-01-01'))
      return {...base, position: {kind: 'after-time', enqueuedTime, sequenceNumber}}
    return {...base, position: {kind: 'none'}}
  }
  return {...base, position: {kind: 'position', offset, sequenceNumber, enqueuedTime}}
}

/** The sequence number a record resumes after, when it has one (sentinels and time positions do not). */
export function legacySequence(position: LegacyPosition): number | null {
  return position.kind === 'position' ? position.sequenceNumber : null
}

// ---------------------------------------------------------------------------------------------------------
// Writing a position back

/** Go's zero time, as `time.Time{}` marshals: what a Go checkpoint without an enqueue time holds. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

/**
 * A body with only the position fields changed: every other field, the field order and the writer's
 * separators (Python writes `": "` and `", "`) kept. `text` must have decoded (`decodeLegacyBody`).
 */
export function encodeLegacyPosition(
  text: string,
  position: {sequenceNumber: number; offset: string; enqueuedTime?: string | null},
): string {
  const body = JSON.parse(text) as Record<string, unknown>
  const dialect = detectDialect(body)
  if (dialect === null) throw new TypeError('not a legacy lease blob body')
  if (dialect === 'go') {
    const before = body.checkpoint && typeof body.checkpoint === 'object' ? (body.checkpoint as Record<string, unknown>) : {}
    body.checkpoint = {
      ...before,
      offset: position.offset,
      sequenceNumber: position.sequenceNumber,
      enqueueTime: position.enqueuedTime ?? (typeof before.enqueueTime === 'string' ? before.enqueueTime : GO_ZERO_TIME),
    }
  } else {
    const f = FIELDS[dialect]
    body[f.offset] = position.offset
    body[f.sequenceNumber] = position.sequenceNumber
  }
  return stringifyLike(text, body)
}

/** JSON with the separators the original text used (compact, or Python's `": "` / `", "`). */
function stringifyLike(original: string, value: unknown): string {
  const compact = JSON.stringify(value)
  if (!/"\s*:\s+/.test(original)) return compact
  // Indented output has a line break after every separator: each becomes one space, and those just
  // inside brackets none.
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, (_match: string, at: number, whole: string) =>
    whole[at - 1] === '{' || whole[at - 1] === '[' || /^\n\s*[}\]]/.test(whole.slice(at)) ? '' : ' ',
  )
}

/** Human names of what a dialect is: "the .NET EventProcessorHost". */
export const DIALECT_WRITERS: Record<Dialect, string> = {
  'eph-dotnet': '.NET EventProcessorHost (or the Functions extension <= 4.x)',
  'eph-camel': 'Java or JavaScript EventProcessorHost',
  python: 'Python azure-eventhub 1.x',
  go: 'Go azure-event-hubs-go v3 (or Dapr <= 1.9)',
}
