/**
 * `ehcp doctor --keda`: whether KEDA's `azure-eventhub` scaler finds the checkpoints of one consumer group.
 * KEDA does not list: per partition it downloads one blob whose name its `checkpointStrategy` builds from
 * the names in the trigger, exactly as typed (Blob Storage names are case-sensitive), and reads one key.
 * A blob it does not find makes it count the partition's whole retained history as unprocessed (the
 * deployment scales out to its maximum); a blob it cannot decode fails the trigger (no scaling at all).
 *
 * | strategy (CLI name) | container                | blob per partition                          | reads                                   |
 * |---------------------|--------------------------|---------------------------------------------|-----------------------------------------|
 * | `azureFunction`     | `azure-webjobs-eventhub` | `{ns}/{hub}/{cg}/{pid}` (no escaping)       | JSON `SequenceNumber`                   |
 * | `blobMetadata`      | `blobContainer`          | `{ns}/{hub}/{lower(cg)}/checkpoint/{pid}`   | metadata `sequencenumber`               |
 * | `goSdk`             | `blobContainer`          | `{pid}`                                     | JSON `checkpoint.sequenceNumber`        |
 * | `dapr`              | `blobContainer`          | `dapr-{hub}-{cg}-{pid}`                     | JSON `checkpoint.sequenceNumber`        |
 * | `default` (`""`)    | `blobContainer`          | `{cg}/{pid}`                                | JSON `SequenceNumber` / `sequence_number` |
 *
 * An empty `blobContainer` with the legacy default strategy means `azureFunction`. KEDA decodes bodies with
 * Go's encoding/json, which matches keys case-insensitively (so camelCase EventProcessorHost bodies are read),
 * leaves a missing or null key at 0, and fails on a byte order mark, a wrong type or a body that is not JSON.
 * Pure: the only I/O is the injected body reader, called at most once per strategy.
 */
import {comparePartitionIds} from '../store/codec.js'
import {type Dialect, detectDialect, FUNCTIONS_V4_CONTAINER, functionsEscape, LEGACY_PARTITION_ID, type Layout} from '../store/layouts.js'
import type {Finding, FindingGroup} from './findings.js'
import {KEDA_STRATEGIES, type KedaStrategy} from './keda-strategies.js'
import type {ListedBlob} from './scan.js'

/** The `checkpointStrategy` value each strategy is configured with (the legacy default is no value). */
export const KEDA_CHECKPOINT_STRATEGY: Record<KedaStrategy, string> = {
  azureFunction: 'azureFunction',
  blobMetadata: 'blobMetadata',
  goSdk: 'goSdk',
  dapr: 'dapr',
  default: '',
}

/** The consumer group KEDA uses when the trigger names none. */
export const KEDA_DEFAULT_CONSUMER_GROUP = '$Default'

/** The layout whose writers each strategy was made for. */
const STRATEGY_LAYOUT: Record<KedaStrategy, Layout> = {
  azureFunction: 'functions-v4',
  blobMetadata: 'modern',
  goSdk: 'go',
  dapr: 'dapr',
  default: 'eph',
}

const STRATEGY_READS: Record<KedaStrategy, string> = {
  azureFunction: 'JSON SequenceNumber',
  blobMetadata: 'metadata sequencenumber',
  goSdk: 'JSON checkpoint.sequenceNumber',
  dapr: 'JSON checkpoint.sequenceNumber',
  default: 'JSON SequenceNumber or sequence_number',
}

/** Which strategy is recommended when several read the group: the modern layout first, Go's bare ids last. */
const PREFERENCE: readonly KedaStrategy[] = ['blobMetadata', 'azureFunction', 'dapr', 'default', 'goSdk']

/** The names as the user typed them (the trigger's spelling): any may be missing. */
export interface KedaNames {
  /** Fully qualified: `contoso.servicebus.windows.net`. */
  namespace?: string
  eventHub?: string
  consumerGroup?: string
}

export interface KedaInput {
  /** The container listed. */
  container: string
  /** Every blob of the listing (names exact). */
  blobs: readonly ListedBlob[]
  /** A blob's body, or null when it cannot be read. Called at most once per strategy. */
  readBody: (name: string) => Promise<string | null>
  names: KedaNames
  /** The hub's partition ids when known (Event Hubs); otherwise taken from the blobs. */
  partitionIds?: readonly string[]
  /** The strategy the user's ScaledObject uses, when given. */
  strategy?: KedaStrategy
}

/** What KEDA makes of a checkpoint's content. */
export type KedaContent =
  /** Decoded: the sequence number KEDA computes the lag from. */
  | 'reads'
  /** Decoded, but the key is missing or null: KEDA takes 0 and counts the partition's whole history. */
  | 'reads-zero'
  /** Decoding fails: the trigger reports an error and KEDA does not scale on it. */
  | 'fails'

export interface KedaPartitionRead {
  partitionId: string
  /** The blob name KEDA asks for. */
  blob: string
  /** Whether a blob has exactly that name; null when the strategy reads another container than the one listed. */
  exists: boolean | null
  /** Blobs with the same name in another casing (or Functions v4 escaping): KEDA does not find them. */
  otherCasing: string[]
  /**
   * What KEDA makes of the content of the blob it reads (or, when only another casing exists, of that one):
   * null when not looked at (no blob, or a JSON body not read: one body is read per strategy).
   */
  content: KedaContent | null
}

export type KedaVerdict =
  /** Every partition's blob is found and decoded. */
  | 'reads'
  /** Some partitions have no blob (KEDA counts them whole); the others are read. */
  | 'partial'
  /** Blobs exist only under another casing of the names. */
  | 'other-casing'
  /** Found, but the content is not what this strategy decodes. */
  | 'unreadable-content'
  /** No blob at any partition's name. */
  | 'missing'
  /** The strategy reads another container than the one listed. */
  | 'other-container'
  /** The strategy's names need a name the user did not give. */
  | 'names-missing'

/** The names to put in the trigger for KEDA to find the blobs, and whether any spelling can. */
export interface KedaSpelling {
  namespace: string | null
  eventHub: string | null
  consumerGroup: string
  /** False when no spelling reaches the blobs (blobMetadata lower-cases the consumer group it asks for). */
  possible: boolean
}

export interface KedaStrategyReport {
  strategy: KedaStrategy
  /** The `checkpointStrategy` value ("" for the legacy default). */
  checkpointStrategy: string
  /** The container KEDA reads with this strategy. */
  container: string
  reads: string
  verdict: KedaVerdict
  /** Names the strategy needs that were not given. */
  missingNames: string[]
  partitions: KedaPartitionRead[]
  /** With blobs in another casing: the spelling that makes KEDA find them. */
  spelling: KedaSpelling | null
  /** The one body read for a JSON strategy, and which writer's dialect it is in (null: none of theirs). */
  sample: {blob: string; dialect: Dialect | null} | null
}

export interface KedaTrigger {
  type: 'azure-eventhub'
  metadata: Record<string, string>
}

export interface KedaRecommendation {
  strategy: KedaStrategy
  /** null: leave `checkpointStrategy` out (the legacy default). */
  checkpointStrategy: string | null
  /** null: leave `blobContainer` out (azureFunction always reads `azure-webjobs-eventhub`). */
  blobContainer: string | null
  names: {namespace: string | null; eventHub: string | null; consumerGroup: string}
  trigger: KedaTrigger
  /** The ScaledObject's `triggers:` block, to paste. */
  yaml: string
  notes: string[]
}

export interface KedaReport {
  container: string
  names: {namespace: string | null; eventHub: string | null; consumerGroup: string; consumerGroupAssumed: boolean}
  partitionIds: string[]
  partitionIdsFrom: 'given' | 'blobs' | 'assumed'
  /** The strategy the user named, if any. */
  strategy: KedaStrategy | null
  strategies: KedaStrategyReport[]
  recommendation: KedaRecommendation | null
}

export interface KedaDiagnosis {
  findings: Finding[]
  keda: KedaReport
}

// ---------------------------------------------------------------------------------------------------------
// Names

interface Names {
  namespace: string | null
  eventHub: string | null
  consumerGroup: string
}

const lower = (s: string) => s.toLowerCase()

/** The names each strategy needs, by the trigger key they come from. */
const NEEDS: Record<KedaStrategy, Array<'namespace' | 'eventHub'>> = {
  azureFunction: ['namespace', 'eventHub'],
  blobMetadata: ['namespace', 'eventHub'],
  goSdk: [],
  dapr: ['eventHub'],
  default: [],
}

/** The prefix of the blob names a strategy asks for (the partition id follows), or null when a name is missing. */
function strategyPrefix(strategy: KedaStrategy, n: Names): string | null {
  if (NEEDS[strategy].some((k) => n[k] === null)) return null
  switch (strategy) {
    case 'azureFunction':
      return `${n.namespace}/${n.eventHub}/${n.consumerGroup}/`
    case 'blobMetadata':
      return `${n.namespace}/${n.eventHub}/${lower(n.consumerGroup)}/checkpoint/`
    case 'goSdk':
      return ''
    case 'dapr':
      return `dapr-${n.eventHub}-${n.consumerGroup}-`
    case 'default':
      return `${n.consumerGroup}/`
  }
}

/** The names that make KEDA ask for `found` (a blob of the same name in another casing). */
function spellingOf(strategy: KedaStrategy, n: Names, found: string): KedaSpelling {
  const same = {namespace: n.namespace, eventHub: n.eventHub, consumerGroup: n.consumerGroup, possible: true}
  const parts = found.split('/')
  switch (strategy) {
    case 'azureFunction':
      return {...same, namespace: parts[0]!, eventHub: parts[1]!, consumerGroup: parts[2]!}
    case 'blobMetadata':
      return {...same, namespace: parts[0]!, eventHub: parts[1]!, possible: parts[2] === lower(parts[2]!)}
    case 'dapr': {
      const hub = found.slice('dapr-'.length, 'dapr-'.length + n.eventHub!.length)
      const group = found.slice('dapr-'.length + hub.length + 1, 'dapr-'.length + hub.length + 1 + n.consumerGroup.length)
      return {...same, eventHub: hub, consumerGroup: group}
    }
    case 'default':
      return {...same, consumerGroup: parts[0]!}
    case 'goSdk':
      return same
  }
}

// ---------------------------------------------------------------------------------------------------------
// Content, decoded as KEDA's Go code decodes it

/** The value Go's encoding/json assigns to a field tagged `tag`: keys match case-insensitively, the last one wins. */
function goField(o: Record<string, unknown>, tag: string): unknown {
  let value: unknown
  for (const [k, v] of Object.entries(o)) if (lower(k) === lower(tag)) value = v
  return value
}

type GoInt = 'set' | 'unset' | 'error'

/** An int64 field: a JSON integer sets it, null or absence leaves it 0, anything else is an unmarshal error. */
function goInt(value: unknown): GoInt {
  if (value === undefined || value === null) return 'unset'
  return typeof value === 'number' && Number.isInteger(value) ? 'set' : 'error'
}

/** A string field: a string or null is fine, anything else is an unmarshal error. */
const goStringOk = (value: unknown) => value === undefined || value === null || typeof value === 'string'

/** `json.Unmarshal` of a body into a struct: null when it fails (a byte order mark, not JSON, not an object). */
function goObject(body: string): Record<string, unknown> | 'null' | null {
  // Go does not skip a byte order mark: "invalid character 'ï' looking for beginning of value".
  if (body.startsWith('\uFEFF')) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return null
  }
  if (parsed === null) return 'null'
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return null
  return parsed as Record<string, unknown>
}

/** What the strategy's `extractCheckpoint` makes of a body. */
export function kedaBodyContent(strategy: Exclude<KedaStrategy, 'blobMetadata'>, body: string): KedaContent {
  const o = goObject(body)
  if (o === null) return 'fails'
  if (o === 'null') return 'reads-zero'
  if (strategy === 'goSdk' || strategy === 'dapr') {
    if (!goStringOk(goField(o, 'partitionId'))) return 'fails'
    const checkpoint = goField(o, 'checkpoint')
    if (checkpoint === undefined || checkpoint === null) return 'reads-zero'
    if (typeof checkpoint !== 'object' || Array.isArray(checkpoint)) return 'fails'
    const seq = goInt(goField(checkpoint as Record<string, unknown>, 'sequenceNumber'))
    return seq === 'set' ? 'reads' : seq === 'unset' ? 'reads-zero' : 'fails'
  }
  if (!goStringOk(goField(o, 'PartitionId'))) return 'fails'
  const seq = goInt(goField(o, 'SequenceNumber'))
  if (strategy === 'azureFunction') return seq === 'set' ? 'reads' : seq === 'unset' ? 'reads-zero' : 'fails'
  // The legacy default also decodes the Python 1.x body and merges it in.
  if (!goStringOk(goField(o, 'partition_id'))) return 'fails'
  const python = goInt(goField(o, 'sequence_number'))
  if (seq === 'error' || python === 'error') return 'fails'
  return seq === 'set' || python === 'set' ? 'reads' : 'reads-zero'
}

const INT64 = /^[+-]?\d{1,19}$/

/**
 * blobMetadata: `sequencenumber` (Go canonicalises header names, so any casing of the key is found), parsed
 * as a base-10 int64; a missing key or a value such as "" fails the trigger.
 */
export function kedaMetadataContent(metadata: Record<string, string>): KedaContent {
  const key = Object.keys(metadata).find((k) => lower(k) === 'sequencenumber')
  if (key === undefined) return 'fails'
  const value = metadata[key]!
  if (!INT64.test(value)) return 'fails'
  const n = BigInt(value)
  return n >= -(2n ** 63n) && n < 2n ** 63n ? 'reads' : 'fails'
}

// ---------------------------------------------------------------------------------------------------------
// The diagnosis

interface Listing {
  exact: Map<string, ListedBlob>
  /** Lower-cased name -> the blobs of that name. */
  folded: Map<string, ListedBlob[]>
}

function indexBlobs(blobs: readonly ListedBlob[]): Listing {
  const exact = new Map<string, ListedBlob>()
  const folded = new Map<string, ListedBlob[]>()
  for (const blob of blobs) {
    exact.set(blob.name, blob)
    const list = folded.get(lower(blob.name)) ?? []
    list.push(blob)
    folded.set(lower(blob.name), list)
  }
  return {exact, folded}
}

/** Partition ids the blobs name under any strategy's prefix, matched case-insensitively. */
function partitionsInBlobs(listing: Listing, prefixes: string[]): string[] {
  const ids = new Set<string>()
  for (const name of listing.exact.keys()) {
    for (const prefix of prefixes) {
      if (lower(name).startsWith(lower(prefix))) {
        const rest = name.slice(prefix.length)
        if (LEGACY_PARTITION_ID.test(rest)) ids.add(rest)
      }
    }
  }
  return [...ids].sort(comparePartitionIds)
}

async function reportStrategy(
  strategy: KedaStrategy,
  input: KedaInput,
  n: Names,
  listing: Listing,
  partitionIds: string[],
): Promise<KedaStrategyReport> {
  const container = strategy === 'azureFunction' ? FUNCTIONS_V4_CONTAINER : input.container
  const base = {
    strategy,
    checkpointStrategy: KEDA_CHECKPOINT_STRATEGY[strategy],
    container,
    reads: STRATEGY_READS[strategy],
  }
  const missingNames = NEEDS[strategy].filter((k) => n[k] === null)
  const prefix = strategyPrefix(strategy, n)
  if (prefix === null) return {...base, verdict: 'names-missing', missingNames, partitions: [], spelling: null, sample: null}
  const partitions: KedaPartitionRead[] = partitionIds.map((partitionId) => {
    const blob = `${prefix}${partitionId}`
    const variants = (listing.folded.get(lower(blob)) ?? []).map((b) => b.name).filter((name) => name !== blob)
    // Functions v4 escaped the namespace and hub: names with characters other than letters and digits differ by more than case.
    if (strategy === 'azureFunction' && n.namespace !== null && n.eventHub !== null) {
      const escaped = `${functionsEscape(n.namespace)}/${functionsEscape(n.eventHub)}/${n.consumerGroup}/${partitionId}`
      if (escaped !== blob && listing.exact.has(escaped) && !variants.includes(escaped)) variants.push(escaped)
    }
    return {partitionId, blob, exists: listing.exact.has(blob), otherCasing: variants, content: null}
  })
  if (container !== input.container)
    return {
      ...base,
      verdict: 'other-container',
      missingNames,
      partitions: partitions.map((p) => ({...p, exists: null, otherCasing: []})),
      spelling: null,
      sample: null,
    }

  // Content: metadata is in the listing; one body per strategy, the first blob KEDA reads (else the first variant).
  let sampled: KedaStrategyReport['sample'] = null
  if (strategy === 'blobMetadata') {
    for (const p of partitions) {
      const name = p.exists ? p.blob : p.otherCasing[0]
      if (name !== undefined) p.content = kedaMetadataContent(listing.exact.get(name)!.metadata)
    }
  } else {
    const sample = partitions.find((p) => p.exists) ?? partitions.find((p) => p.otherCasing.length > 0)
    if (sample) {
      const name = sample.exists ? sample.blob : sample.otherCasing[0]!
      const body = await input.readBody(name)
      sample.content = body === null ? null : kedaBodyContent(strategy, body)
      sampled = {blob: name, dialect: body === null ? null : dialectOf(body)}
    }
  }

  const found = partitions.filter((p) => p.exists)
  const variant = partitions.find((p) => !p.exists && p.otherCasing.length > 0)
  const spelling = variant ? spellingOf(strategy, n, variant.otherCasing[0]!) : null
  const bad = partitions.some((p) => p.exists && p.content !== null && p.content !== 'reads')
  let verdict: KedaVerdict
  if (found.length === 0) verdict = variant ? 'other-casing' : 'missing'
  else if (bad) verdict = 'unreadable-content'
  else if (found.length < partitions.length) verdict = variant ? 'other-casing' : 'partial'
  else verdict = 'reads'
  return {...base, verdict, missingNames, partitions, spelling, sample: sampled}
}

function dialectOf(body: string): Dialect | null {
  try {
    return detectDialect(JSON.parse(body.replace(/^\uFEFF/, '')))
  } catch {
    return null
  }
}

/** The content KEDA would decode from the blobs it reads once spelled right: the worst seen. */
function contentOf(report: KedaStrategyReport): KedaContent | null {
  const seen = report.partitions.map((p) => p.content).filter((c): c is KedaContent => c !== null)
  if (seen.includes('fails')) return 'fails'
  if (seen.includes('reads-zero')) return 'reads-zero'
  return seen.length > 0 ? 'reads' : null
}

/** A strategy that reads the group as it is, or once the names are spelled as the blobs spell them. */
function usable(report: KedaStrategyReport): boolean {
  if (report.verdict === 'reads' || report.verdict === 'partial') return true
  if (report.verdict !== 'other-casing' || !report.spelling?.possible) return false
  return contentOf(report) !== 'fails' && contentOf(report) !== 'reads-zero'
}

const found = (r: KedaStrategyReport) => r.partitions.filter((p) => p.exists || p.otherCasing.length > 0).length

function recommend(reports: KedaStrategyReport[], n: Names, container: string): KedaRecommendation | null {
  const candidates = reports
    .filter(usable)
    .sort(
      (a, b) =>
        Number(b.verdict === 'reads') - Number(a.verdict === 'reads') ||
        found(b) - found(a) ||
        PREFERENCE.indexOf(a.strategy) - PREFERENCE.indexOf(b.strategy),
    )
  const best = candidates[0]
  if (!best) return null
  const names = best.spelling && best.verdict === 'other-casing' ? best.spelling : n
  const checkpointStrategy = best.strategy === 'default' ? null : best.checkpointStrategy
  const blobContainer = best.strategy === 'azureFunction' ? null : container
  const metadata: Record<string, string> = {connectionFromEnv: 'EVENTHUB_CONNECTION_STRING'}
  const notes: string[] = [
    'connectionFromEnv and storageConnectionFromEnv name environment variables of the scaled workload: keep your own.',
  ]
  if (best.strategy === 'default')
    notes.push('Keep blobContainer set: with the default checkpointStrategy and no blobContainer, KEDA reads as azureFunction does.')
  if (names.namespace !== null) {
    metadata.eventHubNamespace = names.namespace.split('.')[0]!
    if (NEEDS[best.strategy].includes('namespace'))
      notes.push(
        `KEDA names the blob with the namespace as the connection string's Endpoint spells it (sb://${names.namespace}/), or as eventHubNamespace plus the cloud's suffix without one.`,
      )
  }
  if (names.eventHub !== null) {
    metadata.eventHubName = names.eventHub
    if (NEEDS[best.strategy].includes('eventHub'))
      notes.push(`A connection string's EntityPath takes the place of eventHubName: spell it ${names.eventHub} too.`)
  }
  metadata.consumerGroup = names.consumerGroup
  if (checkpointStrategy !== null) metadata.checkpointStrategy = checkpointStrategy
  if (blobContainer !== null) metadata.blobContainer = blobContainer
  metadata.storageConnectionFromEnv = 'STORAGE_CONNECTION_STRING'
  metadata.unprocessedEventThreshold = '64'
  const trigger: KedaTrigger = {type: 'azure-eventhub', metadata}
  const yaml = [
    'triggers:',
    '  - type: azure-eventhub',
    '    metadata:',
    ...Object.entries(metadata).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
    '',
  ].join('\n')
  return {
    strategy: best.strategy,
    checkpointStrategy,
    blobContainer,
    names: {namespace: names.namespace, eventHub: names.eventHub, consumerGroup: names.consumerGroup},
    trigger,
    yaml,
    notes,
  }
}

const SCALE_OUT = 'KEDA counts every retained event of those partitions as unprocessed and scales out to its maximum'
const NO_SCALE = 'the trigger fails and KEDA does not scale on it'

function contentEffect(content: KedaContent | null): string {
  if (content === 'fails') return `KEDA cannot decode it: ${NO_SCALE}`
  return `KEDA reads sequence number 0 from it: ${SCALE_OUT}`
}

/** How to name the strategy in a message: `checkpointStrategy: blobMetadata`, or the legacy default. */
const named = (s: KedaStrategy) =>
  s === 'default' ? 'the default checkpointStrategy (none, with blobContainer set)' : `checkpointStrategy ${s}`

function groupOf(strategy: KedaStrategy, n: Names): FindingGroup {
  return {layout: STRATEGY_LAYOUT[strategy], namespace: n.namespace, eventHub: n.eventHub, consumerGroup: n.consumerGroup}
}

/** "Use checkpointStrategy blobMetadata with blobContainer checkpoints, and eventHubName orders." */
function recommendationText(rec: KedaRecommendation, n: Names): string {
  const strategy = rec.checkpointStrategy === null ? 'no checkpointStrategy' : `checkpointStrategy ${rec.checkpointStrategy}`
  const container = rec.blobContainer === null ? '' : ` with blobContainer ${rec.blobContainer}`
  const respelled = (['namespace', 'eventHub', 'consumerGroup'] as const)
    .filter((k) => rec.names[k] !== n[k])
    .map((k) => `${TRIGGER_NAME[k]} ${rec.names[k]}`)
  return `Use ${strategy}${container}${respelled.length > 0 ? `, and spell ${respelled.join(', ')}` : ''}.`
}

const TRIGGER_NAME = {namespace: 'the namespace', eventHub: 'eventHubName', consumerGroup: 'consumerGroup'} as const

function spellingText(report: KedaStrategyReport, n: Names): string {
  const s = report.spelling!
  if (!s.possible)
    return 'No spelling makes KEDA find them: blobMetadata lower-cases the consumer group it asks for, and these blobs spell it with capitals.'
  const changes = (['namespace', 'eventHub', 'consumerGroup'] as const)
    .filter((k) => s[k] !== n[k])
    .map((k) => `${TRIGGER_NAME[k]} as ${s[k]}`)
  return changes.length > 0 ? `Configure ${changes.join(', ')}.` : ''
}

function namedVerdict(
  report: KedaStrategyReport,
  reports: KedaStrategyReport[],
  rec: KedaRecommendation | null,
  n: Names,
  container: string,
): Finding {
  const strategy = report.strategy
  const group = groupOf(strategy, n)
  const first = report.partitions[0]
  const evidence: Record<string, unknown> = {
    strategy,
    container: report.container,
    asks: report.partitions.map((p) => p.blob),
  }
  const useInstead = rec && rec.strategy !== strategy ? ` ${recommendationText(rec, n)}` : ''
  switch (report.verdict) {
    case 'reads':
      return {
        code: 'keda-reads-checkpoints',
        severity: 'info',
        message: `With ${named(strategy)} KEDA finds and reads the checkpoint of every partition (${report.partitions.length}) in ${report.container}.`,
        group,
        evidence,
      }
    case 'partial': {
      const missing = report.partitions.filter((p) => !p.exists).map((p) => p.partitionId)
      return {
        code: 'keda-partitions-without-checkpoint',
        severity: 'warning',
        message: `With ${named(strategy)} KEDA finds no checkpoint for partition${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: while they hold events, ${SCALE_OUT}.`,
        group,
        evidence: {...evidence, missingPartitions: missing},
      }
    }
    case 'other-casing': {
      const p = report.partitions.find((x) => !x.exists && x.otherCasing.length > 0)!
      return {
        code: 'keda-checkpoint-name-casing',
        severity: 'error',
        message:
          `With ${named(strategy)} KEDA asks for ${p.blob}, but the blob is named ${p.otherCasing[0]} (Blob Storage names are case-sensitive): ${SCALE_OUT}. ${spellingText(report, n)}${report.spelling?.possible ? '' : useInstead}`.trim(),
        group,
        evidence: {...evidence, exists: report.partitions.flatMap((x) => x.otherCasing), spelling: report.spelling},
      }
    }
    case 'unreadable-content': {
      const content = contentOf(report)
      return {
        code: 'keda-checkpoint-unreadable',
        severity: 'error',
        message: `With ${named(strategy)} KEDA finds ${first?.blob ?? 'the blobs'} but reads ${report.reads}, which ${strategy === 'blobMetadata' ? 'the metadata' : 'the body'} does not hold as KEDA decodes it: ${contentEffect(content)}.${useInstead}`,
        group,
        evidence: {...evidence, content},
      }
    }
    case 'other-container':
      return {
        code: 'keda-strategy-reads-other-container',
        severity: 'error',
        message: `checkpointStrategy azureFunction always reads container ${FUNCTIONS_V4_CONTAINER} (blobContainer is ignored), not ${container}.${useInstead}`,
        group,
        evidence,
      }
    case 'names-missing':
      return {
        code: 'keda-names-missing',
        severity: 'warning',
        message: `${named(strategy)} names its blobs with the ${report.missingNames.join(' and ')}: give ${report.missingNames.map((k) => (k === 'namespace' ? '--namespace' : '--eventhub')).join(' and ')} to check it.`,
        group,
        evidence: {...evidence, missingNames: report.missingNames},
      }
    case 'missing': {
      const others = reports.filter((r) => r !== report && usable(r))
      if (rec && others.length > 0)
        return {
          code: 'keda-checkpoints-other-strategy',
          severity: 'error',
          message: `With ${named(strategy)} KEDA finds no checkpoint (it asks for ${first!.blob}); the checkpoints here are the ones ${named(rec.strategy)} reads: ${SCALE_OUT}.${useInstead}`,
          group,
          evidence: {...evidence, readBy: others.map((r) => r.strategy)},
        }
      return {
        code: 'keda-no-checkpoints',
        severity: 'error',
        message: `With ${named(strategy)} KEDA finds no checkpoint (it asks for ${first!.blob}), and no strategy reads the blobs of ${container}: ${SCALE_OUT}.`,
        group,
        evidence,
      }
    }
  }
}

/**
 * Whether KEDA's Event Hubs scaler finds this group's checkpoints: with the strategy the user names, a
 * verdict; without one, which strategies find blobs here. Always the recommended trigger metadata when a
 * strategy reads the group (as it is, or with the names spelled as the blobs spell them).
 */
export async function diagnoseKeda(input: KedaInput): Promise<KedaDiagnosis> {
  const n: Names = {
    namespace: input.names.namespace || null,
    eventHub: input.names.eventHub || null,
    consumerGroup: input.names.consumerGroup || KEDA_DEFAULT_CONSUMER_GROUP,
  }
  const listing = indexBlobs(input.blobs)
  const prefixes = KEDA_STRATEGIES.filter((s) => s !== 'goSdk' && (s !== 'azureFunction' || input.container === FUNCTIONS_V4_CONTAINER))
    .map((s) => strategyPrefix(s, n))
    .filter((p): p is string => p !== null)
  // Root-level ids count only when nothing more specific names partitions (Go and Python keep them at the root).
  let fromBlobs = partitionsInBlobs(listing, prefixes)
  if (fromBlobs.length === 0) fromBlobs = partitionsInBlobs(listing, [''])
  const partitionIdsFrom = input.partitionIds?.length ? 'given' : fromBlobs.length > 0 ? 'blobs' : 'assumed'
  const partitionIds = input.partitionIds?.length ? [...input.partitionIds] : fromBlobs.length > 0 ? fromBlobs : ['0']

  const reports: KedaStrategyReport[] = []
  for (const strategy of KEDA_STRATEGIES) reports.push(await reportStrategy(strategy, input, n, listing, partitionIds))
  const rec = recommend(reports, n, input.container)
  const findings: Finding[] = []

  if (input.strategy) {
    findings.push(
      namedVerdict(
        reports.find((r) => r.strategy === input.strategy)!,
        reports,
        rec,
        n,
        input.container,
      ),
    )
  } else {
    for (const r of reports) {
      const hits = r.partitions.filter((p) => p.exists).length
      if (r.verdict === 'other-container' || hits === 0) continue
      findings.push({
        code: 'keda-strategy-finds-blobs',
        severity: 'info',
        message: `${named(r.strategy)} finds ${hits} of ${r.partitions.length} partitions' blobs in ${r.container}${r.verdict === 'unreadable-content' ? `, but cannot read ${r.reads} from them` : ''}.`,
        group: groupOf(r.strategy, n),
        evidence: {strategy: r.strategy, found: r.partitions.filter((p) => p.exists).map((p) => p.blob), content: contentOf(r)},
      })
    }
    if (rec)
      findings.push({
        code: 'keda-recommended-strategy',
        severity: 'info',
        message: recommendationText(rec, n),
        group: groupOf(rec.strategy, n),
        evidence: {trigger: rec.trigger},
      })
    else
      findings.push({
        code: 'keda-no-strategy-reads',
        severity: 'warning',
        message: `No KEDA checkpointStrategy reads the checkpoints in ${input.container} for these names: ${SCALE_OUT}.`,
        evidence: {container: input.container},
      })
  }

  // Python 1.x lease blobs sit at the root like Go's: goSdk finds them but not the key it reads.
  const goSdk = reports.find((r) => r.strategy === 'goSdk')!
  if (goSdk.sample?.dialect === 'python')
    findings.push({
      code: 'keda-python-eph-unread',
      severity: 'warning',
      message: `These are Python azure-eventhub 1.x lease blobs at the container root: no KEDA checkpointStrategy reads them (goSdk finds them but reads sequence number 0). Migrate the group to the modern layout and use checkpointStrategy blobMetadata.`,
      group: {layout: 'python-eph', namespace: null, eventHub: null, consumerGroup: null},
      evidence: {container: input.container, blobs: goSdk.partitions.filter((p) => p.exists).map((p) => p.blob)},
    })

  return {
    findings,
    keda: {
      container: input.container,
      names: {
        namespace: n.namespace,
        eventHub: n.eventHub,
        consumerGroup: n.consumerGroup,
        consumerGroupAssumed: !input.names.consumerGroup,
      },
      partitionIds,
      partitionIdsFrom,
      strategy: input.strategy ?? null,
      strategies: reports,
      recommendation: rec,
    },
  }
}
