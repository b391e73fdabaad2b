/**
 * `status`'s verdict over tracked rounds, and the history file (`watch --record`, `status --history`):
 * NDJSON, one line per group per round, each line the document `watch --json` prints. Pure.
 */
import {ExitCode, usageError} from '../errors.js'
import {type GroupStatus, worse} from './burrow.js'
import {evaluateTrack, type GroupRound, type Tracker} from './tracker.js'

export interface StatusPartition {
  partitionId: string
  status: string
  commitsSeen: number
  /** Lag in events at each round (null where unknown). */
  lags: Array<number | null>
}

export interface StatusGroup {
  namespace: string | null
  eventHub: string | null
  consumerGroup: string | null
  status: GroupStatus
  complete: number
  maxLag: number
  totalLag: number
  rounds: number
  partitions: StatusPartition[]
}

export interface StatusReport {
  /** The worst group's status. */
  status: GroupStatus
  samples: number
  allowedLag: number
  groups: StatusGroup[]
}

/** Every tracked group judged by Burrow's rules at its last round. */
export function statusReport(tracker: Tracker, options: {allowedLag: number}): StatusReport {
  const groups = tracker.groups().map((g): StatusGroup => {
    const e = evaluateTrack(g, {samples: tracker.samples, allowedLag: options.allowedLag})
    return {
      namespace: g.namespace,
      eventHub: g.eventHub,
      consumerGroup: g.consumerGroup,
      status: e.status,
      complete: e.complete,
      maxLag: e.maxLag,
      totalLag: e.totalLag,
      rounds: g.rounds,
      partitions: e.partitions.map((p, i) => ({
        partitionId: p.partitionId,
        status: p.status,
        commitsSeen: p.commitsSeen,
        lags: g.partitions[i]!.lags,
      })),
    }
  })
  return {
    status: groups.map((g) => g.status).reduce<GroupStatus>((a, b) => worse(a, b), groups.length ? 'OK' : 'NOTFOUND'),
    samples: tracker.samples,
    allowedLag: options.allowedLag,
    groups,
  }
}

/** The exit code for a status: 0 OK, 11 WARN, 12 STOP/STALL/REWIND, 3 nothing found, 7 a group unreadable. */
export function statusExitCode(status: GroupStatus): number {
  switch (status) {
    case 'OK':
      return ExitCode.ok
    case 'WARN':
      return ExitCode.statusWarn
    case 'NOTFOUND':
      return ExitCode.notFound
    case 'ERR':
      return ExitCode.unreachable
    default:
      return ExitCode.statusError
  }
}

/** One history line for a group's round. */
export const historyLine = (round: GroupRound): string => `${JSON.stringify(round)}\n`

/** The rounds of a history file; anything that is not a round is a usage error naming the line. */
export function parseHistory(text: string, file: string): GroupRound[] {
  const rounds: GroupRound[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let doc: unknown
    try {
      doc = JSON.parse(line)
    } catch {
      throw usageError(`${file} line ${i + 1} is not JSON.`, 'Give a file written by `ehcp watch --record`.')
    }
    const r = doc as Partial<GroupRound>
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r.round !== 'number' ||
      typeof r.at !== 'string' ||
      Number.isNaN(Date.parse(r.at)) ||
      !Array.isArray(r.partitions)
    )
      throw usageError(`${file} line ${i + 1} is not a round (round, at and partitions).`, 'Give a file written by `ehcp watch --record`.')
    rounds.push(r as GroupRound)
  })
  if (rounds.length === 0) throw usageError(`${file} holds no rounds.`, 'Give a file written by `ehcp watch --record`.')
  return rounds
}
