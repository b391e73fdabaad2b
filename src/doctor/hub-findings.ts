/**
 * `doctor`'s findings that need the event hub's partition properties: checkpoints outside
 * `[beginning - 1, last]` (expired by retention, or ahead of a re-created hub), partitions never checkpointed,
 * and blobs for partitions the hub does not have (its partition count changed). Pure.
 */
import {lagFromProperties} from '../eventhubs/lag.js'
import type {PartitionInfo} from '../eventhubs/reader.js'
import {comparePartitionIds} from '../store/codec.js'
import {groupPath} from '../store/group-id.js'
import type {GroupSummary} from '../store/summary.js'
import type {Finding} from './findings.js'
import {EVIDENCE_LIMIT} from './scan.js'
import {modernGroup, plural} from './store-findings.js'

export interface HubFindingInput {
  group: GroupSummary
  /** Lower-cased partition id -> the checkpoint's sequence number (null: unreadable). */
  checkpoints: Map<string, number | null>
  /** Lower-cased partition ids with an ownership blob. */
  ownerships: Set<string>
  /** The hub's partitions, by id as the service names them. */
  infos: Map<string, PartitionInfo>
  groupCommand: (command: string, group: GroupSummary, words: string[]) => string
}

const sorted = (ids: Iterable<string>) => [...ids].sort(comparePartitionIds)

export function hubFindings({group: g, checkpoints, ownerships, infos, groupCommand}: HubFindingInput): Finding[] {
  const group = modernGroup(g)
  const findings: Finding[] = []
  const hubIds = new Map([...infos.keys()].map((id) => [id.toLowerCase(), id]))
  const ahead: Array<Record<string, unknown>> = []
  const behind: Array<Record<string, unknown>> = []
  const never: string[] = []
  for (const [id, info] of infos) {
    const has = checkpoints.has(id.toLowerCase())
    const sequence = checkpoints.get(id.toLowerCase()) ?? null
    if (!has) {
      if (!info.isEmpty) never.push(id)
      continue
    }
    const {state, reason} = lagFromProperties(sequence, info)
    const evidence = {
      partitionId: id,
      checkpoint: sequence,
      beginningSequenceNumber: info.beginningSequenceNumber,
      lastEnqueuedSequenceNumber: info.lastEnqueuedSequenceNumber,
      reason,
    }
    if (state === 'ahead-of-partition') ahead.push(evidence)
    if (state === 'behind-retention') behind.push(evidence)
  }
  const ids = (list: Array<Record<string, unknown>>) => list.map((e) => e.partitionId as string)
  if (ahead.length > 0)
    findings.push({
      code: 'checkpoint-ahead-of-partition',
      severity: 'error',
      message: `${plural(ahead.length, 'checkpoint')} of ${groupPath(g)} ${ahead.length === 1 ? 'is' : 'are'} past the partition's last event (was the event hub re-created?): processors fail with "The supplied sequence number is invalid". Resetting to the earliest event reads the hub as it is now.`,
      group,
      evidence: {partitions: ahead.slice(0, EVIDENCE_LIMIT), count: ahead.length},
      fix: groupCommand('reset', g, ['--partition', ids(ahead).join(','), '--to-earliest']),
    })
  if (behind.length > 0)
    findings.push({
      code: 'checkpoint-behind-retention',
      severity: 'error',
      message: `${plural(behind.length, 'checkpoint')} of ${groupPath(g)} ${behind.length === 1 ? 'is' : 'are'} older than the partition's retention: the events in between expired unprocessed. Processors resume at the first retained event; resetting to it records that.`,
      group,
      evidence: {partitions: behind.slice(0, EVIDENCE_LIMIT), count: behind.length},
      fix: groupCommand('reset', g, ['--partition', ids(behind).join(','), '--to-earliest']),
    })
  if (never.length > 0) {
    const none = checkpoints.size === 0
    findings.push({
      code: 'partition-never-checkpointed',
      severity: none ? 'info' : 'warning',
      message: none
        ? `${groupPath(g)} has no checkpoint yet: its processors start every partition at their SDK's default position (Earliest for .NET and Functions, Latest for JS, Java, Python, Go and Rust).`
        : `${plural(never.length, 'partition')} of ${groupPath(g)} with events ${never.length === 1 ? 'has' : 'have'} never been checkpointed while others have: a processor starts ${never.length === 1 ? 'it' : 'them'} at its SDK's default position (Earliest for .NET and Functions, Latest for the others), so events are replayed or skipped. Setting an explicit start fixes the position (--to-latest to skip the backlog instead).`,
      group,
      evidence: {partitions: sorted(never).slice(0, EVIDENCE_LIMIT), count: never.length, hubPartitions: infos.size},
      fix: groupCommand('reset', g, ['--partition', sorted(never).join(','), '--to-earliest']),
    })
  }
  const unknownCheckpoints = sorted([...checkpoints.keys()].filter((id) => !hubIds.has(id)))
  if (unknownCheckpoints.length > 0)
    findings.push({
      code: 'checkpoint-for-missing-partition',
      severity: 'error',
      message: `${groupPath(g)} has checkpoints for ${plural(unknownCheckpoints.length, 'partition')} the event hub does not have (its partition count changed, or it was re-created smaller): processors that list them fail or load-balance over partitions that do not exist.`,
      group,
      evidence: {partitions: unknownCheckpoints.slice(0, EVIDENCE_LIMIT), hubPartitions: sorted(infos.keys())},
      fix: groupCommand('reset', g, ['--partition', unknownCheckpoints.join(','), '--delete']),
    })
  const unknownOwnerships = sorted([...ownerships].filter((id) => !hubIds.has(id)))
  if (unknownOwnerships.length > 0)
    findings.push({
      code: 'ownership-for-missing-partition',
      severity: 'info',
      message: `${groupPath(g)} has ownership blobs for ${plural(unknownOwnerships.length, 'partition')} the event hub does not have: left from an earlier partition count; processors ignore them.`,
      group,
      evidence: {partitions: unknownOwnerships.slice(0, EVIDENCE_LIMIT), hubPartitions: sorted(infos.keys())},
    })
  return findings
}
