/**
 * Burrow's evaluation rules (linkedin/Burrow, core/internal/evaluator/caching.go), for Event Hubs: a
 * commit is a checkpoint write, its offset the sequence number, the head the last enqueued sequence
 * number. Pure: windows in, statuses out.
 */

export type PartitionStatus = 'OK' | 'WARN' | 'STOP' | 'STALL' | 'REWIND'
/** A group's status: the worst partition's; NOTFOUND when the group has no partitions; ERR when it could not be read. */
export type GroupStatus = PartitionStatus | 'NOTFOUND' | 'ERR'

/** Burrow's numbers for the statuses (the exporter's status gauge). */
export const STATUS_CODE: Readonly<Record<GroupStatus, number>> = {
  NOTFOUND: 0,
  OK: 1,
  WARN: 2,
  ERR: 3,
  STOP: 4,
  STALL: 5,
  REWIND: 6,
}

/** One checkpoint write: the sequence number checkpointed, when (ms since the epoch), and the lag then. */
export interface Commit {
  offset: number
  timestamp: number
  lag: number
}

/** What one partition is judged on: its commits (oldest first) and the heads seen over the same window. */
export interface PartitionWindow {
  commits: Commit[]
  /** Last enqueued sequence numbers seen while the window was sampled (oldest first). */
  heads: number[]
  /** The lag now, in events. */
  lag: number
}

export interface EvaluateOptions {
  /** Now, ms since the epoch. */
  now: number
  /** Lag at or below this is never judged (Burrow's allowed-lag; default 0). */
  allowedLag?: number
}

/** Rule 1: no commit for longer than the window spans. */
export function isStopped(commits: Commit[], now: number): boolean {
  if (commits.length === 0) return false
  const first = commits[0]!.timestamp
  const last = commits.at(-1)!.timestamp
  return now - last > last - first
}

/** The consumer was recently caught up: some head seen is at or below the last committed sequence number. */
export function wasRecentlyCaughtUp(commits: Commit[], heads: number[]): boolean {
  if (commits.length === 0) return false
  const last = commits.at(-1)!.offset
  return heads.some((head) => head <= last)
}

/** Rule 2: some commit went backwards and no later commit in the window reaches the pre-rewind value. */
export function isRewound(commits: Commit[]): boolean {
  for (let i = 1; i < commits.length; i++) {
    const before = commits[i - 1]!.offset
    if (commits[i]!.offset < before && !commits.slice(i + 1).some((c) => c.offset >= before)) return true
  }
  return false
}

/** Rule 3a: every commit in the window checkpointed the same sequence number. */
export function isStalled(commits: Commit[]): boolean {
  return commits.length > 0 && commits.every((c) => c.offset === commits[0]!.offset)
}

/** Rule 3b: the lag never went down from one commit to the next. */
export function isLagNotDecreasing(commits: Commit[]): boolean {
  for (let i = 1; i < commits.length; i++) if (commits[i]!.lag < commits[i - 1]!.lag) return false
  return true
}

/** One partition's status by Burrow's rules, in Burrow's order. */
export function evaluatePartition(window: PartitionWindow, options: EvaluateOptions): PartitionStatus {
  const allowed = options.allowedLag ?? 0
  const {commits, heads, lag} = window
  if (lag <= allowed || commits.length === 0) return 'OK'
  if (isStopped(commits, options.now) && !wasRecentlyCaughtUp(commits, heads)) return 'STOP'
  if (isRewound(commits)) return 'REWIND'
  if (commits.every((c) => c.lag > allowed)) {
    if (isStalled(commits)) return 'STALL'
    if (isLagNotDecreasing(commits)) return 'WARN'
  }
  return 'OK'
}

export interface PartitionVerdict {
  status: PartitionStatus
  /** The lag now, in events (null when it cannot be stated). */
  lag: number | null
  /** The window holds as many commits as it can (Burrow's complete). */
  complete: boolean
}

export interface GroupVerdict {
  status: GroupStatus
  /** Share of partitions with a full window, 0..1 (Burrow's complete). */
  complete: number
  maxLag: number
  totalLag: number
}

/** The worse of two statuses (Burrow's order: higher code is worse). */
export function worse<S extends GroupStatus>(a: S, b: S): S {
  return STATUS_CODE[b] > STATUS_CODE[a] ? b : a
}

/** A group's status: the worst partition's; NOTFOUND without partitions. */
export function evaluateGroup(partitions: PartitionVerdict[]): GroupVerdict {
  if (partitions.length === 0) return {status: 'NOTFOUND', complete: 0, maxLag: 0, totalLag: 0}
  const lags = partitions.map((p) => p.lag ?? 0)
  return {
    status: partitions.map((p) => p.status as GroupStatus).reduce((a, b) => worse(a, b), 'OK'),
    complete: partitions.filter((p) => p.complete).length / partitions.length,
    maxLag: Math.max(...lags),
    totalLag: lags.reduce((a, b) => a + b, 0),
  }
}
