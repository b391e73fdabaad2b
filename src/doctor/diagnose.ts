/**
 * `ehcp doctor`: one listing of the scope, then (when Event Hubs is reachable) the partition properties of each
 * event hub named by a modern group, then optional checks (KEDA, store hygiene); findings sorted by severity.
 */
import {classifyError, ExitCode, NAMESPACE_NOT_COVERED} from '../errors.js'
import {hubPartitionInfos, type HubRunner} from '../eventhubs/lag.js'
import type {ScopeFilter} from '../store/scope.js'
import type {CheckpointStore, StoredRecord} from '../store/store.js'
import {type ContainerSummary, type GroupSummary, tallyContainer, tallyPrefixes} from '../store/summary.js'
import {countFindings, type Finding, type Severity, sortFindings} from './findings.js'
import {hubFindings} from './hub-findings.js'
import type {KedaReport} from './keda.js'
import {azureAccountName, hygieneFindingsOf} from './hygiene.js'
import {DoctorScan} from './scan.js'
import {storeFindings} from './store-findings.js'

export interface DoctorOptions {
  filter: ScopeFilter
  ownershipExpiryMs: number
  staleAfterMs: number
  /** Event Hubs per hub; undefined when no access is configured (the findings say what was not checked). */
  withHub?: HubRunner
  groupCommand: (command: string, group: GroupSummary, words: string[]) => string
  /**
   * Keep every listed blob (name and metadata) for checks that look for exact names (KEDA), and list the whole
   * container for them (KEDA's legacy strategies read names outside any namespace prefix); the scope still
   * selects the groups reported.
   */
  keepBlobs?: boolean
  /** The container's URL without its query: names the account in the hygiene fix commands. */
  containerUrl: string
  signal?: AbortSignal
  onListed?: (blobs: number) => void
}

export interface Diagnosis {
  summary: ContainerSummary
  scan: DoctorScan
  findings: Finding[]
  /** Event hubs whose partitions were read, and those that could not be, with the reason. */
  eventHubs: {read: string[]; notRead: Array<{eventHub: string; reason: string}>}
  /** Lower-cased partition ids of each hub read ("namespace/hub" lower-cased -> ids as the service names them). */
  hubPartitions: Map<string, string[]>
}

export interface DoctorReport {
  schemaVersion: 1
  container: string
  observedAt: string
  scope: {namespace: string | null; eventHub: string | null; consumerGroup: string | null}
  staleAfterSeconds: number
  eventHubs: Diagnosis['eventHubs']
  counts: Record<Severity, number>
  findings: Finding[]
  /** With --keda: what KEDA's scaler would read. */
  keda?: KedaReport
}

const hubKey = (namespace: string, eventHub: string) => `${namespace}/${eventHub}`.toLowerCase()

export async function diagnose(store: CheckpointStore, options: DoctorOptions): Promise<Diagnosis> {
  const scan = new DoctorScan(options.filter, Boolean(options.keepBlobs))
  // The account's settings are read while the container is listed.
  const settings = store.storeSettings(options.signal)
  // Should the listing fail first, a cancelled settings read is not left as an unhandled rejection.
  settings.catch(() => undefined)
  const observe = (records: StoredRecord[]) => scan.observe(records)
  const tally = options.keepBlobs
    ? await tallyPrefixes(store, [''], options.filter, options.signal, options.onListed, undefined, observe)
    : await tallyContainer(store, options.filter, options.signal, options.onListed, undefined, observe)
  const summary = tally.summarize(store.containerName, store.ownershipExpiryMs)
  const nowMs = Date.parse(summary.observedAt)
  const findings = storeFindings(summary, scan, {
    nowMs,
    ownershipExpiryMs: options.ownershipExpiryMs,
    staleAfterMs: options.staleAfterMs,
    groupCommand: options.groupCommand,
  })
  if (summary.groups.length === 0)
    findings.push({
      code: 'no-groups',
      severity: 'info',
      message: `Container "${summary.container}" holds no checkpoint-store group of any layout: processors pointed at it start from their SDK's default position.`,
      evidence: {otherBlobs: summary.problems.length},
    })
  const eventHubs: Diagnosis['eventHubs'] = {read: [], notRead: []}
  const hubPartitions = new Map<string, string[]>()
  const modern = summary.groups.filter((g): g is GroupSummary => g.layout === 'modern')
  const sequences = tally.checkpointSequences()
  const hubs = new Map<string, number[]>()
  modern.forEach((g, i) => hubs.set(hubKey(g.namespace, g.eventHub), [...(hubs.get(hubKey(g.namespace, g.eventHub)) ?? []), i]))
  for (const [key, members] of hubs) {
    const first = modern[members[0]!]!
    if (!options.withHub) {
      eventHubs.notRead.push({eventHub: `${first.namespace}/${first.eventHub}`, reason: 'no Event Hubs access configured'})
      continue
    }
    try {
      const infos = await options.withHub(first.namespace, first.eventHub, (reader) => hubPartitionInfos(reader, 128))
      eventHubs.read.push(`${first.namespace}/${first.eventHub}`)
      hubPartitions.set(key, [...infos.keys()])
      for (const i of members) {
        const g = modern[i]!
        // Caught up with the hub and owned by live processors: nothing to read is why it has not checkpointed.
        const caughtUp = [...infos].every(
          ([id, info]) => info.isEmpty || sequences[i]!.get(id.toLowerCase()) === info.lastEnqueuedSequenceNumber,
        )
        if (caughtUp && g.ownedPartitions > 0) {
          const stale = findings.findIndex(
            (f) =>
              f.code === 'stale-group' &&
              f.group?.layout === 'modern' &&
              f.group.namespace === g.namespace &&
              f.group.eventHub === g.eventHub &&
              f.group.consumerGroup === g.consumerGroup,
          )
          if (stale >= 0) findings.splice(stale, 1)
        }
        findings.push(
          ...hubFindings({
            group: g,
            checkpoints: sequences[i]!,
            ownerships: scan.of(g).ownershipPartitions,
            infos,
            groupCommand: options.groupCommand,
          }),
        )
      }
    } catch (error) {
      const e = classifyError(error)
      // Refused credentials or a malformed connection given on purpose fail the command, as for `list --lag`;
      // an unreachable hub, or one the connection does not cover, only loses its checks.
      if (e.exitCode === ExitCode.auth || (e.exitCode === ExitCode.usage && e.code !== NAMESPACE_NOT_COVERED)) throw e
      eventHubs.notRead.push({eventHub: `${first.namespace}/${first.eventHub}`, reason: e.message})
    }
  }
  for (const {eventHub, reason} of eventHubs.notRead)
    findings.push({
      code: 'eventhub-not-checked',
      severity: 'info',
      message: `${eventHub}: positions not checked against the event hub (${reason}). Give --eventhubs-connection-string (or env EVENTHUBS_CONNECTION_STRING), or sign in with a role that reads it.`,
      evidence: {eventHub, reason},
    })
  findings.push(...hygieneFindingsOf(await settings, azureAccountName(options.containerUrl)))
  return {summary, scan, findings, eventHubs, hubPartitions}
}

export function doctorReport(
  diagnosis: Diagnosis,
  extra: {filter: ScopeFilter; staleAfterMs: number; findings: Finding[]; keda?: KedaReport},
): DoctorReport {
  const findings = sortFindings([...diagnosis.findings, ...extra.findings])
  return {
    schemaVersion: 1,
    container: diagnosis.summary.container,
    observedAt: diagnosis.summary.observedAt,
    scope: {
      namespace: extra.filter.namespace ?? null,
      eventHub: extra.filter.eventHub ?? null,
      consumerGroup: extra.filter.consumerGroup ?? null,
    },
    staleAfterSeconds: extra.staleAfterMs / 1000,
    eventHubs: diagnosis.eventHubs,
    counts: countFindings(findings),
    findings,
    ...(extra.keda ? {keda: extra.keda} : {}),
  }
}
