/** Renderers for the results of `list` and `show`: tables for people, CSV for scripts. JSON is the result itself. */
import type {FailOnLag, GroupCrossing, GroupViewWithLag, PartitionCrossing, PartitionLag, PartitionViewWithLag} from '../eventhubs/lag.js'
import type {OwnerState, Problem} from '../store/codec.js'
import {type GroupId, groupPath} from '../store/group-id.js'
import type {LegacyPartitionDetail} from '../store/legacy-group.js'
import type {ContainerSummary} from '../store/summary.js'
import {formatDuration} from '../time.js'
import {renderCsv, type RowFormat} from '../csv.js'
import {renderTable, visibleLength} from './tabular.js'
import {formatTime, type OutputSettings} from './terminal.js'

const LIST_CSV_HEAD = [
  'namespace',
  'eventHub',
  'consumerGroup',
  'partitions',
  'checkpoints',
  'ownedPartitions',
  'activeOwners',
  'lastCheckpointAt',
  'problems',
  'layout',
]
export const SHOW_CSV_HEAD = [
  'partitionId',
  'sequenceNumber',
  'offset',
  'checkpointedAt',
  'ownerId',
  'ownerState',
  'heartbeatAt',
  'checkpointBlob',
  'checkpointEtag',
  'problems',
]
/**
 * On a narrow terminal, the columns dropped first (least valuable first); the rest are abbreviated. The
 * problems are listed under the table whatever happens to their column.
 */
const LIST_DROP_FIRST = ['CHECKPOINTS', 'OWNED', 'LAST CHECKPOINT', 'PROBLEMS']
const SHOW_DROP_FIRST = ['HEARTBEAT', 'LAST-ENQUEUED', 'OFFSET', 'CHECKPOINTED', 'PROBLEMS']
const LAG_CSV_HEAD = ['lastEnqueuedSequenceNumber', 'lastEnqueuedTime', 'lagEvents', 'nextEventTime', 'timeLagSeconds', 'lagState']

function lagStateStyle(lag: PartitionLag, s: OutputSettings['style']): string {
  switch (lag.state) {
    case 'ok':
    case 'empty':
      return s.green(lag.state)
    case 'no-checkpoint':
      return s.yellow(lag.state)
    default:
      return s.red(lag.state)
  }
}

function stateStyle(state: OwnerState, s: OutputSettings['style']): string {
  switch (state) {
    case 'active':
      return s.green(state)
    case 'expired':
      return s.yellow(state)
    default:
      return s.dim(state)
  }
}

function problemLines(problems: Array<Problem & {scope?: string}>, settings: OutputSettings): string[] {
  if (problems.length === 0) return []
  const s = settings.style
  return [
    '',
    s.yellow(`${problems.length} problem${problems.length === 1 ? '' : 's'}:`),
    ...problems.map((p) => `  ${p.scope ? `${p.scope}: ` : ''}${p.message}`),
  ]
}

/** A filter of `list` that matched nothing: the flags as given, and the groups the container does hold. */
export interface NoMatch {
  filter: string
  held: GroupId[]
}

/** At most this many groups are named when a filter matches nothing; beyond, their namespaces are. */
const HELD_NAMED = 5

function noMatchLine(container: string, noMatch: NoMatch): string {
  const {filter, held} = noMatch
  const start = `No consumer group matches ${filter}`
  if (held.length === 0) return `${start}: container "${container}" holds no checkpoints or ownership blobs.`
  const plural = held.length === 1 ? '' : 's'
  if (held.length <= HELD_NAMED)
    return `${start}; container "${container}" holds ${held.length} consumer group${plural}: ${held.map((g) => groupPath(g)).join(', ')}.`
  const namespaces = [...new Map(held.map((g) => [g.namespace.toLowerCase(), g.namespace])).values()]
  const named =
    namespaces.slice(0, HELD_NAMED).join(', ') + (namespaces.length > HELD_NAMED ? ` and ${namespaces.length - HELD_NAMED} more` : '')
  return `${start}; container "${container}" holds ${held.length} consumer groups in ${namespaces.length === 1 ? 'namespace' : 'namespaces'} ${named}.`
}

export function renderContainerSummary(summary: ContainerSummary, settings: OutputSettings, format: RowFormat, noMatch?: NoMatch): string {
  if (format === 'csv') {
    return renderCsv(
      LIST_CSV_HEAD,
      summary.groups.map((g) => [
        g.namespace,
        g.eventHub,
        g.consumerGroup,
        g.partitions,
        g.checkpoints,
        g.ownedPartitions,
        g.activeOwners.join(' '),
        g.lastCheckpointAt,
        g.problems.length,
        g.layout,
      ]),
    )
  }
  const s = settings.style
  const now = Date.parse(summary.observedAt)
  if (summary.groups.length === 0 && noMatch) return noMatchLine(summary.container, noMatch)
  if (summary.groups.length === 0 && summary.problems.length === 0)
    return `No checkpoints or ownership blobs in container "${summary.container}".`
  const withLag = summary.groups.some((g) => g.lag)
  const withLayout = summary.groups.some((g) => g.layout !== 'modern')
  const head = [
    ...(withLayout ? ['LAYOUT'] : []),
    'NAMESPACE',
    'EVENT HUB',
    'CONSUMER GROUP',
    'PARTITIONS',
    'CHECKPOINTS',
    'OWNED',
    'ACTIVE OWNERS',
    'LAST CHECKPOINT',
    ...(withLag ? ['LAG', 'MAX LAG'] : []),
    'PROBLEMS',
  ]
  // A legacy layout that does not record a name shows "-" (its blob prefix names the group instead).
  const rows = summary.groups.map((g) => [
    ...(withLayout ? [g.layout === 'modern' ? 'modern' : `${g.layout}${g.blobPrefix ? ` (${g.blobPrefix})` : ''}`] : []),
    g.namespace ?? '-',
    g.eventHub ?? '-',
    g.consumerGroup ?? '-',
    g.partitions,
    g.checkpoints ?? '-',
    g.ownedPartitions,
    g.activeOwners.join(' '),
    formatTime(g.lastCheckpointAt, settings, now),
    ...(withLag ? [g.lag?.total ?? '?', g.lag?.max ?? '?'] : []),
    g.problems.length ? s.yellow(String(g.problems.length)) : '0',
  ])
  const groupProblemCount = summary.groups.reduce((n, g) => n + g.problems.length, 0)
  const lines = [
    renderTable(head, rows, s.bold, {width: settings.width, dropFirst: LIST_DROP_FIRST}),
    ...problemLines(
      summary.problems.map((p) => ({...p, scope: 'container'})),
      settings,
    ),
  ]
  if (groupProblemCount > 0)
    lines.push('', s.yellow(`${groupProblemCount} problem(s) in consumer groups: see \`ehcp show\` for each group with problems.`))
  return lines.join('\n')
}

function partitionRow(p: ShownPartition, settings: OutputSettings, now: number, withLag: boolean): string[] {
  const s = settings.style
  const lag = p.lag
  const lagCells = withLag
    ? [
        formatTime(lag?.lastEnqueuedTime, settings, now) || '-',
        lag?.events?.toString() ?? '?',
        lag?.timeLagSeconds != null ? formatDuration(lag.timeLagSeconds) : '-',
        lag ? lagStateStyle(lag, s) : '',
      ]
    : []
  return [
    p.partitionId,
    p.checkpoint?.sequenceNumber?.toString() ?? (p.checkpoint ? '?' : '-'),
    p.checkpoint?.offset ?? (p.checkpoint ? '?' : (legacyOffset(p) ?? '-')),
    formatTime(p.checkpoint?.lastModified, settings, now) || '-',
    p.ownership?.ownerId || '-',
    stateStyle(p.ownership?.state ?? 'none', s),
    formatTime(p.ownership?.lastModified, settings, now) || '-',
    ...lagCells,
    p.problems.length ? s.yellow(String(p.problems.length)) : '',
  ]
}

function metadataLines(metadata: Record<string, string>): string[] {
  const entries = Object.entries(metadata)
  if (entries.length === 0) return ['  metadata       (none)']
  return entries.map(([k, v], i) => `${i === 0 ? '  metadata       ' : '                 '}${k} = ${JSON.stringify(v)}`)
}

function partitionDetail(view: ShownGroup, p: ShownPartition, settings: OutputSettings, now: number): string {
  const s = settings.style
  const at = (iso: string) => `${iso}${settings.humanTimes ? ` (${formatTime(iso, settings, now)})` : ''}`
  const lines = [s.bold(`Partition ${p.partitionId}`) + `  ${groupLabel(view)}`]
  if (p.legacy) {
    const l = p.legacy
    lines.push(
      s.bold('Lease blob'),
      `  written by     ${l.dialect ?? '(unreadable)'}`,
      `  lease          ${l.leaseState ?? '?'}${l.owningHost ? `  OWNINGHOST ${l.owningHost}` : ''}`,
      `  epoch          ${l.epoch ?? '-'}`,
      `  position       ${l.position}${l.enqueuedTime ? `  (enqueue time ${l.enqueuedTime})` : ''}`,
      `  body           ${l.body}`,
    )
  }
  if (p.checkpoint) {
    const c = p.checkpoint
    lines.push(
      s.bold('Checkpoint'),
      `  blob           ${c.blobName}`,
      `  etag           ${c.etag}`,
      `  last modified  ${at(c.lastModified)}`,
      `  sequence       ${c.sequenceNumber ?? '(absent)'}`,
      `  offset         ${c.offset ?? '(absent)'}`,
      ...metadataLines(c.metadata),
    )
  } else lines.push(s.bold('Checkpoint'), '  (none)')
  if (p.ownership) {
    const o = p.ownership
    lines.push(
      s.bold('Ownership'),
      `  blob           ${o.blobName}`,
      `  etag           ${o.etag}`,
      `  last modified  ${at(o.lastModified)}`,
      `  owner          ${o.ownerId === null ? '(no ownerid key)' : o.ownerId === '' ? '(released)' : o.ownerId}  ${stateStyle(o.state, s)}`,
      ...metadataLines(o.metadata),
    )
  } else lines.push(s.bold('Ownership'), '  (none)')
  if (p.lag) {
    const l = p.lag
    lines.push(
      s.bold('Lag'),
      `  state          ${lagStateStyle(l, s)}${l.reason ? `  (${l.reason})` : ''}`,
      `  events behind  ${l.events ?? '?'}`,
      `  time behind    ${l.timeLagSeconds != null ? formatDuration(l.timeLagSeconds) : '-'}`,
      `  next event     ${l.nextEventTime ? at(l.nextEventTime) : '-'}`,
      `  retained       ${l.beginningSequenceNumber ?? '?'} .. ${l.lastEnqueuedSequenceNumber ?? '?'} (${l.retainedEvents ?? '?'} events)`,
      `  last enqueued  ${l.lastEnqueuedTime ? at(l.lastEnqueuedTime) : '-'}`,
    )
  }
  lines.push(...problemLines(p.problems, settings))
  return lines.join('\n')
}

/** A partition as `show` renders it: a legacy one carries what the modern columns cannot say. */
type ShownPartition = PartitionViewWithLag & {legacy?: LegacyPartitionDetail}

/** A modern group's view, or a legacy one's (names it does not record are null). */
export type ShownGroup = Omit<GroupViewWithLag, 'namespace' | 'eventHub' | 'consumerGroup' | 'partitions'> & {
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
  layout?: string
  blobPrefix?: string
  partitions: ShownPartition[]
}

/** How a message names the group: its path, or a legacy group's layout and blob prefix. */
function groupLabel(view: ShownGroup): string {
  if (view.layout === undefined) return groupPath(view as GroupViewWithLag)
  return `${view.layout} group ${view.blobPrefix ? `"${view.blobPrefix}"` : '(container root)'}`
}

/** What a legacy partition holds when it is no position: never checkpointed, or a Go sentinel. */
const legacyOffset = (p: ShownPartition): string | undefined =>
  p.legacy && p.legacy.position !== 'checkpoint' && p.legacy.position !== 'none' ? p.legacy.position : undefined

export function renderGroupView(view: ShownGroup, settings: OutputSettings, format: RowFormat, detail: boolean): string {
  const now = Date.parse(view.observedAt)
  const withLag = view.partitions.some((p) => p.lag)
  if (format === 'csv') {
    return renderCsv(
      withLag ? [...SHOW_CSV_HEAD, ...LAG_CSV_HEAD] : SHOW_CSV_HEAD,
      view.partitions.map((p) => [
        p.partitionId,
        p.checkpoint?.sequenceNumber,
        p.checkpoint?.offset,
        p.checkpoint?.lastModified,
        p.ownership?.ownerId,
        p.ownership?.state ?? 'none',
        p.ownership?.lastModified,
        p.checkpoint?.blobName,
        p.checkpoint?.etag,
        p.problems.length,
        ...(withLag
          ? [
              p.lag?.lastEnqueuedSequenceNumber,
              p.lag?.lastEnqueuedTime,
              p.lag?.events,
              p.lag?.nextEventTime,
              p.lag?.timeLagSeconds,
              p.lag?.state,
            ]
          : []),
      ]),
    )
  }
  if (detail)
    return [...view.partitions.map((p) => partitionDetail(view, p, settings, now)), ...problemLines(view.problems, settings)].join('\n\n')
  const s = settings.style
  const active = new Set(view.partitions.filter((p) => p.ownership?.state === 'active').map((p) => p.ownership?.ownerId))
  const checkpointed = view.partitions.filter((p) => p.checkpoint).length
  const head = [
    'PARTITION',
    'SEQUENCE',
    'OFFSET',
    'CHECKPOINTED',
    'OWNER',
    'OWNER-STATE',
    'HEARTBEAT',
    ...(withLag ? ['LAST-ENQUEUED', 'LAG', 'LAG-TIME', 'STATE'] : []),
    'PROBLEMS',
  ]
  const problems = [
    ...view.problems.map((p) => ({...p, scope: 'group'})),
    ...view.partitions.flatMap((p) => p.problems.map((q) => ({...q, scope: `partition ${p.partitionId}`}))),
    ...view.partitions
      .filter((p) => p.lag?.reason)
      .map((p) => ({code: `lag-${p.lag!.state}`, message: p.lag!.reason!, scope: `partition ${p.partitionId}`})),
  ]
  // A legacy group that does not record its names is named by layout and blob prefix, never as "null / null".
  const title =
    view.layout === undefined
      ? `${view.namespace} / ${view.eventHub} / ${view.consumerGroup}`
      : `${groupLabel(view)}${view.consumerGroup ? ` (consumer group ${view.consumerGroup})` : ''}`
  const counts = `${view.partitions.length} partitions, ${checkpointed} checkpointed, ${active.size} active owner${active.size === 1 ? '' : 's'}`
  // On a terminal too narrow for the heading on one line, the counts go on a line of their own.
  const oneLine = settings.width === undefined || visibleLength(`${title}: ${counts}`) <= settings.width
  return [
    oneLine ? `${s.bold(title)}: ${counts}` : `${s.bold(title)}\n${counts}`,
    renderTable(
      head,
      view.partitions.map((p) => partitionRow(p, settings, now, withLag)),
      s.bold,
      {width: settings.width, dropFirst: SHOW_DROP_FIRST},
    ),
    ...problemLines(problems, settings),
  ].join('\n')
}

/** At most this many crossings are named on stderr; the rest are counted (the JSON names them all). */
const CROSSINGS_SHOWN = 50

/** `--fail-on-lag`: what crossed the threshold, one stderr line each (partitions of `show`, groups of `list`). */
export function renderLagCrossings(failOnLag: FailOnLag<PartitionCrossing | GroupCrossing>, settings: OutputSettings): string {
  const {threshold, crossed} = failOnLag
  const s = settings.style
  const describe = (c: PartitionCrossing | GroupCrossing) =>
    'partitionId' in c
      ? `partition ${c.partitionId}: ${c.state === 'ahead-of-partition' ? 'checkpoint ahead of the partition' : `${c.events} events behind`}`
      : `${groupPath(c)}: ${[
          ...(c.maxLag !== null && c.maxLag > threshold ? [`max lag ${c.maxLag} events`] : []),
          ...(c.aheadOfPartition > 0 ? [`${c.aheadOfPartition} checkpoint(s) ahead of the partition`] : []),
        ].join(', ')}`
  const noun = crossed.length && 'partitionId' in crossed[0]! ? 'partition' : 'consumer group'
  const more = crossed.length - CROSSINGS_SHOWN
  return [
    s.red(`--fail-on-lag ${threshold}: ${crossed.length} ${noun}${crossed.length === 1 ? '' : 's'} over the threshold (exit 10):`),
    ...crossed.slice(0, CROSSINGS_SHOWN).map((c) => `  ${describe(c)}`),
    ...(more > 0 ? [`  … and ${more} more (--json lists them all)`] : []),
  ].join('\n')
}
