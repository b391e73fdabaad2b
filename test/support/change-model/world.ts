/**
 * The world the change model runs in: one consumer group "main" (and a source group "other") of one event hub,
 * in a fresh Azurite container per run; the model of what the container holds; reading the whole container
 * back and comparing it with the model after every step.
 */
import type {BlobCheckpointStore} from '@azure/eventhubs-checkpointstore-blob'
import type {ContainerClient} from '@azure/storage-blob'
import {expect} from 'chai'

import type {HookedStore, Scope} from './ehcp-adapter.js'
import type {Metadata, ModelEntry} from './undo-spec.js'

export const NS = 'model.servicebus.windows.net'
export const HUB = 'orders'
export const MAIN = 'main'
export const OTHER = 'other'
export const PARTITIONS = ['0', '1', '2', '3']
export const scopeOf = (group: string): Scope => ({namespace: NS, eventHub: HUB, consumerGroup: group})
export const prefixOf = (group: string) => `${NS}/${HUB}/${group}/`
export const checkpointName = (group: string, p: string) => `${prefixOf(group)}checkpoint/${p}`
export const ownershipName = (p: string) => `${prefixOf(MAIN)}ownership/${p}`

export interface ChangeRecord {
  label: string
  backupFile: string
  entries: ModelEntry[]
}

export interface Model {
  /** What the container holds: blob name -> metadata (blobs are empty). */
  blobs: Map<string, Metadata>
  /** ETags as last read back (after the previous step). */
  etags: Map<string, string>
  /** Blobs under a lease only the test holds: blob name -> lease id. */
  leases: Map<string, string>
  /** Changes that wrote a backup, oldest first: what an undo can undo. */
  changes: ChangeRecord[]
  counter: number
}

export interface FaultControl {
  lose: number
  reset: number
  unavailable: number
  random: () => number
  /** Instead of probabilities: the fate of each write request in turn ('pass' once it runs out). */
  schedule?: Array<'pass' | 'lose' | '503'>
  /** The write request forwarded last is to lose its response (schedule). */
  loseNext: boolean
}

export interface Stats {
  steps: number
  changes: number
  undos: number
  rows: Record<string, number>
  races: number
  leasedConflicts: number
  aborts: number
  faultSteps: number
  mayHaveBeenApplied: number
  refused: number
  errors: number
  /** Time spent per kind of step. */
  ms: Record<string, number>
}

export const newStats = (): Stats => ({
  steps: 0,
  changes: 0,
  undos: 0,
  rows: {},
  races: 0,
  leasedConflicts: 0,
  aborts: 0,
  faultSteps: 0,
  mayHaveBeenApplied: 0,
  refused: 0,
  errors: 0,
  ms: {},
})

export interface Real {
  /** Direct access (processors, other writers, the checker): never through the fault proxy. */
  client: ContainerClient
  official: BlobCheckpointStore
  /** ehcp's store, through the fault proxy. */
  store: HookedStore
  faults: FaultControl | null
  dir: string
  stats: Stats
  /** What happened so far in this run, for failure messages. */
  log: string[]
  /** Whether to check the backup file format (schemaVersion 2, written, outcome). */
  checkBackupFormat: boolean
}

export interface Stored {
  metadata: Metadata
  etag: string
}

export const unquote = (etag: string | null | undefined) => (etag == null ? null : etag.replace(/^"(.*)"$/, '$1'))

export async function readContainer(client: ContainerClient): Promise<Map<string, Stored>> {
  const out = new Map<string, Stored>()
  for await (const blob of client.listBlobsFlat({includeMetadata: true}))
    out.set(blob.name, {metadata: {...(blob.metadata ?? {})}, etag: unquote(blob.properties.etag)!})
  return out
}

const sorted = (m: Metadata | undefined | null) =>
  m ? Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : m

/** The whole container must hold exactly what the model says: every blob, its existence and metadata. */
export async function checkWorld(model: Model, real: Real, what: string, snapshot?: Map<string, Stored>): Promise<void> {
  const stored = snapshot ?? (await readContainer(real.client))
  const actual = Object.fromEntries([...stored].map(([name, s]) => [name, sorted(s.metadata)]))
  const expected = Object.fromEntries([...model.blobs].map(([name, m]) => [name, sorted(m)]))
  expect(actual, `after ${what}: the container differs from the model\n  steps so far:\n    ${real.log.join('\n    ')}`).to.deep.equal(
    expected,
  )
  model.etags = new Map([...stored].map(([name, s]) => [name, s.etag]))
}

// --- Reading metadata as ehcp and the SDKs do (keys case-insensitive), independently of ehcp's codec ---

export function key(m: Metadata, name: string): string | undefined {
  const k = Object.keys(m).find((x) => x.toLowerCase() === name)
  return k === undefined ? undefined : m[k]
}

export function positionOf(m: Metadata): {sequenceNumber: number | null; offset: string | null} {
  const rawSeq = key(m, 'sequencenumber')?.trim()
  const n = rawSeq !== undefined && /^-?\d{1,20}$/.test(rawSeq) ? Number(rawSeq) : NaN
  const sequenceNumber = Number.isSafeInteger(n) && n >= -1 ? n : null
  const rawOffset = key(m, 'offset')
  const offset = rawOffset === undefined || rawOffset === '' || rawOffset.toLowerCase() === 'no offset' ? null : rawOffset
  return {sequenceNumber, offset}
}

export const ownerOf = (m: Metadata | undefined): string | null | undefined => (m ? (key(m, 'ownerid') ?? null) : undefined)

export function withoutKeys(m: Metadata, owned: string[]): Metadata {
  return Object.fromEntries(Object.entries(m).filter(([k]) => !owned.includes(k.toLowerCase())))
}

export const groupExists = (model: Model, group: string) => [...model.blobs.keys()].some((n) => n.startsWith(prefixOf(group)))

/** Partitions of a group that have any blob (what ehcp's view lists). */
export function partitionsOf(model: Model, group: string): string[] {
  const ids = new Set<string>()
  for (const name of model.blobs.keys()) if (name.startsWith(prefixOf(group))) ids.add(name.split('/')[4]!)
  return [...ids].sort((a, b) => Number(a) - Number(b))
}

/** An owner whose heartbeat is younger than the expiry (10 minutes: every owner the test writes). */
export function activeOwner(model: Model, p: string): boolean {
  const owner = ownerOf(model.blobs.get(ownershipName(p)))
  return typeof owner === 'string' && owner !== ''
}
