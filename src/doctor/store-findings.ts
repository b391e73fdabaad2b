/**
 * `doctor`'s findings from the listing alone: who wrote each group, mixed writers, the problems `list` reports
 * (case-variant duplicates, metadata key casing, unreadable blobs), ownership nobody renews, groups that stopped
 * checkpointing, legacy groups, and other data in the container. Pure.
 */
import type {Problem} from '../store/codec.js'
import {groupPath} from '../store/group-id.js'
import type {LegacyGroupSummary} from '../store/legacy.js'
import {functionsEscape} from '../store/layouts.js'
import type {ContainerSummary, GroupSummary} from '../store/summary.js'
import {formatDuration} from '../time.js'
import type {Finding, FindingGroup, Severity} from './findings.js'
import {EVIDENCE_LIMIT, type DoctorScan} from './scan.js'

export interface StoreFindingOptions {
  /** The listing's server time. */
  nowMs: number
  ownershipExpiryMs: number
  /** --stale-after: ownership expired this long, or no checkpoint written this long. */
  staleAfterMs: number
  /** The words of an ehcp command scoped to one modern group (connection included, no secrets). */
  groupCommand: (command: string, group: GroupSummary, words: string[]) => string
}

/** How much a problem `list` reports matters to processors. */
const PROBLEM_SEVERITY: Record<string, Severity> = {
  'case-variant-duplicate': 'error',
  'missing-sequence-number': 'error',
  'invalid-sequence-number': 'error',
  'unusable-checkpoint': 'error',
  'metadata-key-case': 'warning',
  'missing-offset': 'warning',
  'missing-owner-id': 'warning',
  'foreign-blob': 'warning',
  'more-problems': 'info',
}

export const modernGroup = (g: GroupSummary): FindingGroup => ({
  layout: 'modern',
  namespace: g.namespace,
  eventHub: g.eventHub,
  consumerGroup: g.consumerGroup,
})

const legacyGroup = (g: LegacyGroupSummary): FindingGroup => ({
  layout: g.layout,
  namespace: g.namespace,
  eventHub: g.eventHub,
  consumerGroup: g.consumerGroup,
  blobPrefix: g.blobPrefix,
})

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

const age = (ms: number) => formatDuration(Math.floor(ms / 1000))

/** One finding per (group, problem code): the first problem's words, every blob it concerns as evidence (bounded). */
function problemFindings(problems: Problem[], group: FindingGroup | undefined): Finding[] {
  const byCode = new Map<string, Problem[]>()
  for (const p of problems) byCode.set(p.code, [...(byCode.get(p.code) ?? []), p])
  return [...byCode].map(([code, list]) => {
    const first = list[0]!
    const blobs = list.flatMap((p) => (p.blobName ? [p.blobName] : [])).slice(0, EVIDENCE_LIMIT)
    const partitions = [...new Set(list.flatMap((p) => (p.partitionId ? [p.partitionId] : [])))]
    const more = list.length > 1 ? ` (${plural(list.length, 'blob')} like this)` : ''
    return {
      code: code === 'foreign-blob' ? 'other-data' : code,
      severity: PROBLEM_SEVERITY[code] ?? 'warning',
      message: `${first.message}${more}`,
      ...(group ? {group} : {}),
      evidence: {
        count: list.length,
        ...(partitions.length ? {partitions: partitions.slice(0, EVIDENCE_LIMIT)} : {}),
        ...(blobs.length ? {blobs} : {}),
        ...(list.length > 1 ? {messages: list.slice(0, EVIDENCE_LIMIT).map((p) => p.message)} : {}),
      },
    }
  })
}

function modernFindings(g: GroupSummary, scan: DoctorScan, options: StoreFindingOptions): Finding[] {
  const group = modernGroup(g)
  const s = scan.of(g)
  const findings: Finding[] = []
  const writers = [...s.writers].map(([writer, seen]) => ({writer, blobs: seen.blobs, example: seen.sample}))
  const spellings = [...s.spellings].map(([prefix, blobs]) => ({prefix, blobs}))
  findings.push({
    code: 'writers',
    severity: 'info',
    message:
      writers.length === 0
        ? `${groupPath(g)}: ownership blobs only, no checkpoint written yet.`
        : `${groupPath(g)}: checkpoints written by ${writers.map((w) => w.writer).join('; ')}.`,
    group,
    evidence: {writers, spellings, partitions: g.partitions, checkpoints: g.checkpoints},
  })
  if (spellings.length > 1 || writers.length > 1)
    findings.push({
      code: 'mixed-writers',
      severity: 'warning',
      message:
        spellings.length > 1
          ? `${groupPath(g)} is stored under ${spellings.length} spellings (${spellings.map((x) => `"${x.prefix}"`).join(', ')}): processors of SDKs that spell names differently read different blobs, so they resume from different positions.`
          : `${groupPath(g)}: checkpoints by more than one kind of writer (${writers.map((w) => w.writer).join('; ')}): processors of different SDKs share this group.`,
      group,
      evidence: {writers, spellings},
    })
  findings.push(...problemFindings(g.problems, group))
  const stale = [...s.owners.values()].filter(
    (o) => o.ownerId !== '' && options.nowMs - o.lastModifiedMs > options.ownershipExpiryMs + options.staleAfterMs,
  )
  if (stale.length > 0) {
    const owners = [...new Set(stale.map((o) => o.ownerId))].sort()
    findings.push({
      code: 'stale-ownership',
      severity: 'warning',
      message: `${plural(stale.length, 'partition')} of ${groupPath(g)} still name an owner nobody has renewed for over ${age(options.staleAfterMs)} past the expiry (${owners.slice(0, 5).join(', ')}${owners.length > 5 ? ', …' : ''}): instances that died without releasing.`,
      group,
      evidence: {
        owners,
        partitions: stale.slice(0, EVIDENCE_LIMIT).map((o) => ({
          partitionId: o.partitionId,
          ownerId: o.ownerId,
          lastHeartbeat: new Date(o.lastModifiedMs).toISOString(),
          blobName: o.blobName,
        })),
      },
      fix: options.groupCommand('release-ownership', g, ['--partition', stale.map((o) => o.partitionId).join(',')]),
    })
  }
  const last = g.lastCheckpointAt === null ? null : Date.parse(g.lastCheckpointAt)
  if (last !== null && options.nowMs - last > options.staleAfterMs)
    findings.push({
      code: 'stale-group',
      severity: 'warning',
      message: `${groupPath(g)} has written no checkpoint for ${age(options.nowMs - last)} (--stale-after ${age(options.staleAfterMs)}): its processors are stopped, stuck, or have had nothing to read.`,
      group,
      evidence: {lastCheckpointAt: g.lastCheckpointAt, activeOwners: g.activeOwners, ownedPartitions: g.ownedPartitions},
    })
  return findings
}

function legacyFindings(g: LegacyGroupSummary, modern: GroupSummary[], options: StoreFindingOptions): Finding[] {
  const group = legacyGroup(g)
  const where = `${g.layout} group at "${g.blobPrefix}"`
  const findings: Finding[] = [
    {
      code: 'legacy-layout',
      severity: 'info',
      message: `${where}: lease blobs written by the ${g.writer}; ${plural(g.partitions, 'partition')}, ${g.ownedPartitions} leased by a running host. \`ehcp migrate --layout ${g.layout}\` moves it to the modern layout.`,
      group,
      evidence: {
        writer: g.writer,
        partitions: g.partitions,
        leased: g.ownedPartitions,
        owners: g.activeOwners,
        lastWriteAt: g.lastCheckpointAt,
      },
    },
  ]
  if (g.layout === 'python-eph')
    findings.push({
      code: 'python-eph-shared-root',
      severity: 'info',
      message: `${where}: Python azure-eventhub 1.x names lease blobs by partition alone, at the container root: two consumer groups sharing this container overwrite each other's checkpoints, and no KEDA strategy reads them.`,
      group,
      evidence: {partitions: g.partitions},
    })
  // Functions v4 stored the namespace and hub escaped; the v5 extension's modern group names them plainly.
  const twin =
    g.layout === 'functions-v4' && g.namespace !== null && g.eventHub !== null && g.consumerGroup !== null
      ? modern.find(
          (m) =>
            functionsEscape(m.namespace) === g.namespace &&
            functionsEscape(m.eventHub) === g.eventHub &&
            m.consumerGroup.toLowerCase() === g.consumerGroup!.toLowerCase(),
        )
      : undefined
  if (twin)
    findings.push({
      code: 'legacy-beside-modern',
      severity: g.ownedPartitions > 0 && twin.ownedPartitions > 0 ? 'error' : 'info',
      message:
        g.ownedPartitions > 0 && twin.ownedPartitions > 0
          ? `${where} is leased by running hosts while modern processors own ${groupPath(twin)}: old and new consumers run side by side and both process the same events.`
          : `${where} has a modern twin ${groupPath(twin)} (a migration kept the legacy blobs, as it should); modern processors read only the modern blobs.`,
      group,
      evidence: {modern: groupPath(twin), legacyLeased: g.ownedPartitions, modernOwned: twin.ownedPartitions},
    })
  findings.push(...problemFindings(g.problems, group))
  const last = g.lastCheckpointAt === null ? null : Date.parse(g.lastCheckpointAt)
  if (last !== null && options.nowMs - last > options.staleAfterMs && g.ownedPartitions === 0)
    findings.push({
      code: 'stale-group',
      severity: 'info',
      message: `${where}: no lease held and nothing written for ${age(options.nowMs - last)}: its hosts are gone (migrated, or stopped).`,
      group,
      evidence: {lastWriteAt: g.lastCheckpointAt},
    })
  return findings
}

/** Every finding the listing supports, group by group, then the container's own (other data). */
export function storeFindings(summary: ContainerSummary, scan: DoctorScan, options: StoreFindingOptions): Finding[] {
  const modern = summary.groups.filter((g): g is GroupSummary => g.layout === 'modern')
  return [
    ...summary.groups.flatMap((g) => (g.layout === 'modern' ? modernFindings(g, scan, options) : legacyFindings(g, modern, options))),
    ...problemFindings(summary.problems, undefined),
  ]
}
