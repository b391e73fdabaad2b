/**
 * The world of the legacy change model: one EventProcessorHost (.NET) group of three partitions and one Go group
 * of two, as lease blobs in one container. The model holds every blob's body as a template (the bytes no ehcp
 * command may change: escapes, `\/`, odd whitespace, number forms, nested look-alike keys) plus the values of
 * its fields, its metadata, its blob lease, and a write counter (the ETag's stand-in). Rendering a blob gives
 * the exact bytes storage must hold.
 */
import type {ContainerClient} from '@azure/storage-blob'

export type Group = 'eph' | 'go'

export interface BlobSpec {
  name: string
  group: Group
  pid: string
}

export const BLOBS: BlobSpec[] = [
  {name: '$Default/0', group: 'eph', pid: '0'},
  {name: '$Default/1', group: 'eph', pid: '1'},
  {name: '$Default/2', group: 'eph', pid: '2'},
  {name: 'filebeat/0', group: 'go', pid: '0'},
  {name: 'filebeat/1', group: 'go', pid: '1'},
]

/** The words that name each group to ehcp. */
export const GROUP_WORDS: Record<Group, string[]> = {
  eph: ['--layout', 'eph', '--consumer-group', '$Default'],
  go: ['--layout', 'go', '--blob-prefix', 'filebeat/'],
}

/** Hosts of each group: the lease holders, and the owners `release-ownership --owner` names (ASCII: EPH puts them in metadata). */
export const HOSTS: Record<Group, string[]> = {eph: ['host-a', 'host-b'], go: ['go-1']}

/** Go's checkpoint object, with the separators it is written with. */
export interface GoCheckpoint {
  offset: string
  sequenceNumber: number
  enqueueTime: string
  colon: string
  comma: string
}

export interface Template {
  id: string
  group: Group
  /** The body, `§NAME§` where a field's JSON value text goes. */
  text: string
  /** False when a position key is written twice: ehcp must refuse to rewrite it. */
  rewritable: boolean
  /** The separators of the body (Go: what a checkpoint object created in place of null is written with). */
  colon: string
  comma: string
}

/**
 * Bodies as writers (and hand edits) leave them. The first of each group is what its host writes (compact,
 * the SDK's field order); the others carry what a JSON round trip would change.
 */
export const TEMPLATES: Template[] = [
  {
    id: 'eph-host',
    group: 'eph',
    text: '{"Offset":§OFF§,"SequenceNumber":§SEQ§,"PartitionId":"§PID§","Owner":§OWNER§,"Token":§TOKEN§,"Epoch":§EPOCH§}',
    rewritable: true,
    colon: ':',
    comma: ',',
  },
  {
    id: 'eph-odd',
    group: 'eph',
    text:
      '{ "PartitionId" : "§PID§",\n  "Owner":§OWNER§, "Note":"\\"Offset\\":\\"0\\" h\\u00f4te\\/x \\u0026",\r\n "Offset" :§OFF§ ,' +
      ' "Lease":{"Offset":"9","SequenceNumber":9}, "SequenceNumber":\t§SEQ§,"Epoch":§EPOCH§,"Scale":1.0,"Big":9007199254740993,' +
      '"Exp":1e3,"Token":§TOKEN§ }\n',
    rewritable: true,
    colon: ':',
    comma: ',',
  },
  {
    id: 'eph-twice',
    group: 'eph',
    text: '{"Offset":"1","Offset":§OFF§,"SequenceNumber":§SEQ§,"PartitionId":"§PID§","Owner":§OWNER§,"Token":§TOKEN§,"Epoch":§EPOCH§}',
    rewritable: false,
    colon: ':',
    comma: ',',
  },
  {
    id: 'go-host',
    group: 'go',
    text: '{"partitionID":"§PID§","epoch":§EPOCH§,"owner":§OWNER§,"checkpoint":§CP§,"state":"leased","token":§TOKEN§}',
    rewritable: true,
    colon: ':',
    comma: ',',
  },
  {
    id: 'go-spaced',
    group: 'go',
    text:
      '{"partitionID": "§PID§", "epoch": 9007199254740993, "owner": §OWNER§, "checkpoint": §CP§, "state": "",' +
      ' "token": "a\\u0026b\\u003c\\/c", "extra": {"checkpoint": {"offset": "x"}, "note": "déjà vu"}}',
    rewritable: true,
    colon: ': ',
    comma: ', ',
  },
]

export const template = (id: string): Template => TEMPLATES.find((t) => t.id === id)!

export type Lease = {kind: 'free'} | {kind: 'broken'} | {kind: 'leased'; id: string; holder: string}

/** One lease blob as the model knows it. */
export interface ModelBlob {
  template: string
  /** JSON value texts of the template's fields other than the position. */
  fields: {OWNER: string; TOKEN: string; EPOCH: string}
  /** EPH position: the offset (null: none) and sequence number. */
  offset: string | null
  sequenceNumber: number
  /** Go position. */
  checkpoint: GoCheckpoint | null
  metadata: Record<string, string>
  lease: Lease
  /** Counts the writes of the blob's body: a new ETag each. */
  version: number
}

/** What an ehcp change that wrote something left, for its undo. */
export interface RecordedChange {
  label: string
  undoCommand: string
  forced: boolean
  /** Per blob it targeted: the blob before the change, and as the change left it (with its version). */
  entries: Array<{name: string; before: ModelBlob; after: ModelBlob}>
}

export interface Model {
  blobs: Map<string, ModelBlob>
  changes: RecordedChange[]
  leaseCounter: number
  /** The lease id each host believes it holds, per blob (a broken lease is found out on use). */
  beliefs: Map<string, {host: string; id: string}>
}

export interface Stats {
  steps: number
  ehcp: number
  exitCodes: Record<string, number>
  undos: number
  undoConflicts: number
  forcedBreaks: number
  refusedRewrites: number
  hostLosses: number
  ms: Record<string, number>
}

export const newStats = (): Stats => ({
  steps: 0,
  ehcp: 0,
  exitCodes: {},
  undos: 0,
  undoConflicts: 0,
  forcedBreaks: 0,
  refusedRewrites: 0,
  hostLosses: 0,
  ms: {},
})

export interface Real {
  client: ContainerClient
  container: string
  blobEndpoint: string
  dir: string
  stats: Stats
  log: string[]
  steps: number
  /** The ETag seen after the last step, with the model's version of the blob then. */
  etags: Map<string, {version: number; etag: string}>
}

export const specOf = (name: string): BlobSpec => BLOBS.find((b) => b.name === name)!

export function renderCheckpoint(c: GoCheckpoint | null): string {
  if (c === null) return 'null'
  const {colon, comma} = c
  return `{"offset"${colon}${JSON.stringify(c.offset)}${comma}"sequenceNumber"${colon}${c.sequenceNumber}${comma}"enqueueTime"${colon}${JSON.stringify(c.enqueueTime)}}`
}

/** The exact bytes of a blob's body. */
export function render(name: string, b: ModelBlob): string {
  const values: Record<string, string> = {
    ...b.fields,
    PID: specOf(name).pid,
    OFF: b.offset === null ? 'null' : JSON.stringify(b.offset),
    SEQ: String(b.sequenceNumber),
    CP: renderCheckpoint(b.checkpoint),
  }
  return template(b.template).text.replace(/§([A-Z]+)§/g, (_m, key: string) => values[key]!)
}

/** The owner the body records (decoded), as ehcp reads it. */
export const bodyOwner = (b: ModelBlob): string => JSON.parse(b.fields.OWNER) as string

/** The position ehcp reads from a body: null when none. */
export function positionOf(name: string, b: ModelBlob): {sequenceNumber: number; offset: string} | null {
  if (specOf(name).group === 'go') return b.checkpoint && {sequenceNumber: b.checkpoint.sequenceNumber, offset: b.checkpoint.offset}
  return b.offset === null || b.offset === '' ? null : {sequenceNumber: b.sequenceNumber, offset: b.offset}
}

export const isLeased = (b: ModelBlob): boolean => b.lease.kind === 'leased'

/** What storage shows of a lease: held, broken, or free (available or expired). */
export const leaseView = (l: Lease): string => l.kind

export interface RealBlob {
  body: string
  metadata: Record<string, string>
  lease: string
  etag: string
}

/** Every blob of the container: its body, metadata, lease (as the model names it) and ETag. */
export async function readContainer(client: ContainerClient): Promise<Map<string, RealBlob>> {
  const out = new Map<string, RealBlob>()
  for await (const b of client.listBlobsFlat({includeMetadata: true})) {
    const body = (await client.getBlockBlobClient(b.name).downloadToBuffer()).toString('utf8')
    const state = b.properties.leaseState
    const lease = state === 'leased' ? 'leased' : state === 'broken' ? 'broken' : 'free'
    out.set(b.name, {body, metadata: b.metadata ?? {}, lease, etag: b.properties.etag ?? ''})
  }
  return out
}

/** The container as the model says it is (no ETags: the model has versions instead). */
export function expectedContainer(model: Model): Map<string, Omit<RealBlob, 'etag'>> {
  return new Map([...model.blobs].map(([name, b]) => [name, {body: render(name, b), metadata: {...b.metadata}, lease: leaseView(b.lease)}]))
}

export const cloneBlob = (b: ModelBlob): ModelBlob => structuredClone(b)

/** A lease id of the model's own sequence (uuid-shaped, as storage requires). */
export function nextLeaseId(model: Model): string {
  model.leaseCounter++
  return `00000000-0000-4000-8000-${String(model.leaseCounter).padStart(12, '0')}`
}
