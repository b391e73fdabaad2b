/**
 * Turning the scope flags into stored blob prefixes. Blob prefixes are case-sensitive but names match
 * case-insensitively, so the container's "directories" are read level by level (one small listing each)
 * and every stored spelling that matches is kept.
 *
 * Round trips: when the levels below a resolved point are all named, the directory listings along the path as
 * most SDKs spell it (lower-cased; below a spelling of Java's, as given) and the flat listing it ends in are
 * started at once (`speculate`), so a scope named in full costs one round trip, not four. The walk still reads every level, and decides exactly as it
 * would level by level: a listing that finds blobs under the lower-cased prefix cannot tell whether a
 * differently-cased twin (Java's `$Default` beside `$default`, Go's old `GoGroup`) exists at any level, so no
 * level is skipped. Only the waiting is: a guess that misses (Java's spelling, a misspelt name) costs the
 * requests it made, never a round trip.
 */
import {notFoundError, quote, usageError} from '../errors.js'
import {sameName} from './codec.js'
import type {GroupId} from './group-id.js'
import type {CheckpointStore} from './store.js'

/** The scope flags: any of the three names, each matched case-insensitively. */
export type ScopeFilter = Partial<GroupId>

/** A resolved group. Names as stored: the first spelling seen when case variants exist. */
export interface GroupRef extends GroupId {
  /** Every stored spelling of `{namespace}/{eventHub}/{consumerGroup}/`. */
  prefixes: string[]
  /** Set when nothing is stored for the group yet (a change may create it): says so, for the plan. */
  newGroup?: string
}

const LEVELS = [
  {key: 'namespace', flag: '--namespace', noun: 'namespace'},
  {key: 'eventHub', flag: '--eventhub', noun: 'event hub'},
  {key: 'consumerGroup', flag: '--consumer-group', noun: 'consumer group'},
] as const

interface Level {
  /** Display name (first spelling seen). */
  name: string
  prefixes: string[]
}

/**
 * A resolution's listings: each directory listed at most once, whether asked for early or when reached; `early`
 * names the flat listings it started ahead (for `settle` to drop those the resolution did not end in).
 */
interface Lister {
  (prefix: string): Promise<string[]>
  early: string[]
}

function lister(store: CheckpointStore, signal?: AbortSignal): Lister {
  const listed = new Map<string, Promise<string[]>>()
  const list = (prefix: string) => {
    let names = listed.get(prefix)
    if (!names) {
      names = store.listChildren(prefix, signal)
      // A listing started early and never reached fails nobody.
      names.catch(() => undefined)
      listed.set(prefix, names)
    }
    return names
  }
  return Object.assign(list, {early: [] as string[]})
}

/** Drops the early flat listings of this resolution that are not among the prefixes it settled on. */
function settle(store: CheckpointStore, list: Lister, prefixes: readonly string[] = []): void {
  store.dropPrefetched(list.early.filter((p) => !prefixes.includes(p)))
}

async function childrenOf(list: Lister, prefixes: string[]): Promise<Level[]> {
  const lists = await Promise.all(prefixes.map((p) => list(p).then((names) => names.map((n) => ({n, p})))))
  const byName = new Map<string, Level>()
  for (const {n, p} of lists.flat()) {
    const key = n.toLowerCase()
    const level = byName.get(key) ?? {name: n, prefixes: []}
    level.prefixes.push(`${p}${n}/`)
    byName.set(key, level)
  }
  return [...byName.values()]
}

/**
 * The listings to start at once below `base` when every level down from it is named: the directory listing of
 * each level along the path as its writer most likely spelt it, and the flat listing it ends in. Below a
 * lower-case prefix (the container's root included), the names lower-cased, as the JS, .NET, Python and Go SDKs
 * write them; below a stored spelling that is not lower-case (Java keeps the configured spelling), the names as
 * given (the configured ones, most likely; `$Default` when the group is not named). None for a name no blob path
 * can hold as one segment.
 */
export function speculativePath(base: string, names: readonly string[]): {directories: string[]; flat: string} | undefined {
  if (names.some((n) => n === '' || n.includes('/'))) return undefined
  const lower = base === base.toLowerCase()
  const directories: string[] = []
  let prefix = base
  for (const name of names) {
    directories.push(prefix)
    prefix += `${lower ? name.toLowerCase() : name}/`
  }
  return {directories, flat: prefix}
}

/**
 * Starts the speculative listings below `base` (a stored prefix) when `names` are all known. The walk then finds
 * them already answered: whatever they hold, it decides exactly as it would listing level by level.
 */
function speculate(store: CheckpointStore, list: Lister, base: string, names: ReadonlyArray<string | undefined>, signal?: AbortSignal) {
  if (names.some((n) => n === undefined)) return
  const path = speculativePath(base, names as string[])
  if (!path) return
  for (const directory of path.directories) void list(directory)
  // Once per resolution; a listing another resolution left behind is started again, never taken stale.
  if (list.early.includes(path.flat)) return
  store.prefetchRecords(path.flat, signal)
  list.early.push(path.flat)
}

const quoteList = (levels: Level[]) => levels.map((l) => `"${l.name}"`).join(', ')

/**
 * Whether a top-level name can be a namespace: the SDKs name it by the fully qualified host
 * (`contoso.servicebus.windows.net`, any case: Java keeps the configured spelling), an address, or `localhost`
 * (the emulator), with a port at most. Legacy lease directories are not: EventProcessorHost's consumer group
 * (`$Default/`) or configured prefix (`app1/`), Go's prefix (`filebeat/`).
 */
const NAMESPACE_SHAPED = /^(?:localhost|\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)+)(?::\d{1,5})?$/i

/**
 * The namespaces to choose from when none is named: the namespace-shaped names, so that legacy directories
 * beside a modern namespace, or several legacy ones, are no choice to make. A lone name of another shape is
 * still taken (a single-label host of a local setup; a legacy directory then holds no group below it).
 */
function namespaceChoices(candidates: Level[]): Level[] {
  const shaped = candidates.filter((c) => NAMESPACE_SHAPED.test(c.name))
  return shaped.length === 0 && candidates.length === 1 ? candidates : shaped
}

/**
 * Resolves exactly one consumer group (its listings as described at the top: started at once where the levels
 * below are named, so a scope named in full costs one round trip). Namespace and event hub may be omitted when the
 * container (or the namespace) holds only one (legacy lease directories beside a namespace are not namespaces: see
 * `namespaceChoices`); the consumer group defaults to $Default. With `allowNew` (a change that
 * can create checkpoints: set, positions from a file or another group), a consumer group named in full that
 * has no blobs yet (in an event hub that has some, or where nothing at all is stored) resolves to its
 * lower-cased prefix, as the SDKs would write it, and says so in `newGroup`. With `newBesideOthers` (migrate: its
 * target is new by nature, in a container that may hold other applications' groups), a new namespace or event
 * hub beside existing ones is expected too.
 */
export async function resolveGroup(
  store: CheckpointStore,
  filter: ScopeFilter,
  signal?: AbortSignal,
  options: {allowNew?: boolean; newBesideOthers?: boolean} = {},
): Promise<GroupRef> {
  const list = lister(store, signal)
  let ref: GroupRef | undefined
  try {
    ref = await walkToGroup(store, list, filter, signal, options)
    return ref
  } finally {
    settle(store, list, ref?.prefixes)
  }
}

async function walkToGroup(
  store: CheckpointStore,
  list: Lister,
  filter: ScopeFilter,
  signal: AbortSignal | undefined,
  options: {allowNew?: boolean; newBesideOthers?: boolean},
): Promise<GroupRef> {
  const wanted = {...filter, consumerGroup: filter.consumerGroup ?? '$Default'}
  const below = (base: string, index: number) =>
    speculate(
      store,
      list,
      base,
      LEVELS.slice(index).map((l) => wanted[l.key]),
      signal,
    )
  below('', 0)
  let current: Level[] = [{name: '', prefixes: ['']}]
  const chosen: string[] = []
  for (const [index, level] of LEVELS.entries()) {
    const candidates = await childrenOf(list, current[0]!.prefixes)
    const name = wanted[level.key]
    const where = chosen.length ? ` under "${chosen.join('/')}"` : ' in this container'
    if (name !== undefined) {
      const match = candidates.filter((c) => sameName(c.name, name))
      // A new consumer group, or the first namespace or event hub where there is none: a misspelt namespace
      // or event hub beside existing ones is far likelier a mistake (or the wrong container) than a new one.
      const named = LEVELS.every((l) => filter[l.key] !== undefined)
      if (
        match.length === 0 &&
        options.allowNew &&
        named &&
        (level.key === 'consumerGroup' || candidates.length === 0 || options.newBesideOthers)
      )
        return newGroupRef(level.key, chosen, wanted, candidates)
      if (match.length === 0) {
        const held = candidates.length ? `It holds: ${quoteList(candidates)}.` : 'It holds no checkpoints or ownership blobs there.'
        throw notFoundError(
          `No ${level.noun} "${name}"${where}.`,
          options.allowNew && !named
            ? `${held} To create a new consumer group, name it in full: --namespace, --eventhub and --consumer-group.`
            : held,
        )
      }
      current = match
    } else {
      const choices = level.key === 'namespace' ? namespaceChoices(candidates) : candidates
      if (choices.length === 0)
        throw notFoundError(
          `No checkpoints or ownership blobs${where}.`,
          candidates.length
            ? `Its top-level folders (${quoteList(candidates)}) are not namespaces (fully qualified hosts): pass --namespace to name one.`
            : undefined,
        )
      if (choices.length > 1) {
        throw usageError(`Several ${level.noun}s${where}: ${quoteList(choices)}.`, `Pass ${level.flag} to choose one.`)
      }
      current = choices
    }
    chosen.push(current[0]!.name)
    const [only, ...others] = current[0]!.prefixes
    if (others.length === 0 && index < LEVELS.length - 1) below(only!, index + 1)
  }
  const [namespace, eventHub, consumerGroup] = chosen as [string, string, string]
  return {namespace, eventHub, consumerGroup, prefixes: current[0]!.prefixes}
}

/** A group with no blobs yet, below the levels that exist (`chosen`, as stored). Lower levels must be named. */
function newGroupRef(
  missing: (typeof LEVELS)[number]['key'],
  chosen: string[],
  wanted: ScopeFilter & {consumerGroup: string},
  siblings: Level[],
): GroupRef {
  const index = LEVELS.findIndex((l) => l.key === missing)
  const names = LEVELS.map((l, i) => (i < index ? chosen[i]! : wanted[l.key]!)) as [string, string, string]
  LEVELS.slice(index).forEach((l, i) => {
    const name = names[index + i]!
    // A name the blob path cannot hold as one segment, or that no SDK would write.
    if (name === '' || name !== name.trim() || /[/\\]/.test(name) || [...name].some((c) => c < ' ' || c === '\x7f'))
      throw usageError(
        `${l.flag} ${quote(name)} cannot name a new ${l.noun}: it must be non-empty, without "/", "\\", control characters, or spaces at either end.`,
      )
  })
  const [namespace, eventHub, consumerGroup] = names
  const level = LEVELS[index]!
  const others = siblings.length ? ` Existing ${level.noun}s there: ${quoteList(siblings)}.` : ''
  const prefix = `${names.join('/')}/`.toLowerCase()
  return {
    namespace,
    eventHub,
    consumerGroup,
    prefixes: [prefix],
    newGroup: `Nothing is stored yet for ${level.noun} "${wanted[missing]}": this change creates its first blobs, under ${prefix} (lower-cased, as the JS, .NET, Python and Go SDKs read them).${others}`,
  }
}

/**
 * The prefixes to list for `list`: walk down only while the levels are named from the top; below the
 * first unnamed level one flat listing covers everything and the rest of the filter applies per blob.
 */
export async function resolveListPrefixes(store: CheckpointStore, filter: ScopeFilter, signal?: AbortSignal): Promise<string[]> {
  const leading: string[] = []
  for (const level of LEVELS) {
    const name = filter[level.key]
    if (name === undefined) break
    leading.push(name)
  }
  if (leading.length === 0) return ['']
  const list = lister(store, signal)
  speculate(store, list, '', leading, signal)
  let prefixes: string[] = []
  try {
    prefixes = ['']
    for (const name of leading) {
      const candidates = await childrenOf(list, prefixes)
      prefixes = candidates.filter((c) => sameName(c.name, name)).flatMap((c) => c.prefixes)
      if (prefixes.length === 0) break
    }
    return prefixes
  } catch (error) {
    prefixes = []
    throw error
  } finally {
    settle(store, list, prefixes)
  }
}

export function matchesFilter(parts: GroupId, filter: ScopeFilter): boolean {
  return LEVELS.every(({key}) => filter[key] === undefined || sameName(parts[key], filter[key]))
}

/**
 * Every consumer group the container holds, found level by level (a small directory listing per namespace and
 * event hub, never a listing of every blob): what `list` says when its filter matches nothing. Names as first
 * seen; case variants are one group.
 */
export async function groupsInContainer(store: CheckpointStore, signal?: AbortSignal): Promise<GroupId[]> {
  const groups: GroupId[] = []
  const list = lister(store, signal)
  for (const namespace of await childrenOf(list, [''])) {
    for (const eventHub of await childrenOf(list, namespace.prefixes)) {
      for (const consumerGroup of await childrenOf(list, eventHub.prefixes))
        groups.push({namespace: namespace.name, eventHub: eventHub.name, consumerGroup: consumerGroup.name})
    }
  }
  return groups
}

/** The scope flags as the user gave them, for messages: `--namespace contoso --eventhub orders`. */
export const filterWords = (filter: ScopeFilter) =>
  (
    [
      ['--namespace', filter.namespace],
      ['--eventhub', filter.eventHub],
      ['--consumer-group', filter.consumerGroup],
    ] as const
  )
    .filter(([, v]) => v !== undefined)
    .map(([flag, v]) => `${flag} ${JSON.stringify(v)}`)
    .join(' ')
