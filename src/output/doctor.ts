/** `doctor` for people: findings grouped by severity, each with its evidence in brief and its fix command. */
import type {DoctorReport} from '../doctor/diagnose.js'
import type {Finding, Severity} from '../doctor/findings.js'
import {groupPath} from '../store/group-id.js'
import type {OutputSettings} from './terminal.js'

const LABEL: Record<Severity, string> = {error: 'ERROR', warning: 'WARN ', info: 'INFO '}

const where = (f: Finding) => {
  const g = f.group
  if (!g) return ''
  if (g.layout === 'modern' && g.namespace && g.eventHub && g.consumerGroup)
    return groupPath({namespace: g.namespace, eventHub: g.eventHub, consumerGroup: g.consumerGroup})
  return `${g.layout} "${g.blobPrefix ?? ''}"`
}

/** The evidence in brief, for people: which partitions, which blobs (the JSON has all of it). */
function briefEvidence(evidence: Record<string, unknown>): string[] {
  const lines: string[] = []
  const few = (items: string[], total: number) => `${items.slice(0, 8).join(', ')}${total > 8 ? `, … (${total})` : ''}`
  if (Array.isArray(evidence.partitions)) {
    const ids = evidence.partitions.map((p) =>
      typeof p === 'object' && p !== null ? String((p as {partitionId?: unknown}).partitionId) : String(p),
    )
    const total = typeof evidence.count === 'number' ? evidence.count : ids.length
    if (ids.length > 0) lines.push(`partitions: ${few(ids, total)}`)
  }
  if (Array.isArray(evidence.blobs) && evidence.blobs.length > 0)
    lines.push(`blobs: ${few(evidence.blobs.map(String), evidence.blobs.length)}`)
  return lines
}

export function renderDoctor(report: DoctorReport, settings: Pick<OutputSettings, 'style'>): string {
  const {style} = settings
  const color: Record<Severity, (s: string) => string> = {error: style.red, warning: style.yellow, info: style.dim}
  const {error, warning, info} = report.counts
  const lines = [
    `Container "${report.container}": ${error} ${error === 1 ? 'error' : 'errors'}, ${warning} ${warning === 1 ? 'warning' : 'warnings'}, ${info} ${info === 1 ? 'note' : 'notes'}.`,
  ]
  if (report.eventHubs.read.length > 0) lines.push(`Event hubs read: ${report.eventHubs.read.join(', ')}.`)
  for (const f of report.findings) {
    lines.push('', `${color[f.severity](LABEL[f.severity])}  ${f.code}${where(f) ? `  ${where(f)}` : ''}`, `       ${f.message}`)
    for (const line of briefEvidence(f.evidence)) lines.push(`       ${line}`)
    if (f.fix) lines.push(`       fix: ${f.fix}`)
  }
  if (report.findings.length === 0) lines.push('', 'Nothing found.')
  const yaml = report.keda?.recommendation?.yaml
  if (yaml) lines.push('', "KEDA's ScaledObject trigger for these checkpoints:", '', yaml.trimEnd())
  return `${lines.join('\n')}\n`
}
