/**
 * `ehcp doctor`: what a diagnosis reports. Each finding has a stable code, a severity, the evidence it rests on
 * (blob names, values) and, where one exists, the exact ehcp command that fixes it. Pure types and helpers.
 */
import type {Layout} from '../store/layouts.js'

export type Severity = 'error' | 'warning' | 'info'

/** The group a finding is about: fields its layout does not record are null. */
export interface FindingGroup {
  layout: Layout
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
  /** Legacy layouts: the name prefix the group's lease blobs share. */
  blobPrefix?: string
}

export interface Finding {
  /** Stable, kebab-case: scripts match on it (the contract lists every code). */
  code: string
  severity: Severity
  /** One or two sentences for a person: what is wrong and what it does to processors. */
  message: string
  /** The group it concerns, when it concerns one. */
  group?: FindingGroup
  /** What the finding rests on: blob names, values read, partition properties. */
  evidence: Record<string, unknown>
  /** The exact command that fixes it (no secrets), when one exists. */
  fix?: string
}

const ORDER: Record<Severity, number> = {error: 0, warning: 1, info: 2}

/** Errors first, then warnings, then information; stable within a severity. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((f, i) => [f, i] as const)
    .sort(([a, i], [b, j]) => ORDER[a.severity] - ORDER[b.severity] || i - j)
    .map(([f]) => f)
}

export function countFindings(findings: Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = {error: 0, warning: 0, info: 0}
  for (const f of findings) counts[f.severity]++
  return counts
}
