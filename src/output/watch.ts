/** What `status` and `watch` print for people: the verdict table, and the frame `watch` redraws. */
import {formatDuration} from '../time.js'
import type {GroupStatus} from '../watch/burrow.js'
import type {StatusReport} from '../watch/report.js'
import {checkpointRate, etaSeconds, evaluateTrack, type GroupTrack, type PartitionTrack, timeLag} from '../watch/tracker.js'
import {renderTable} from './tabular.js'
import type {OutputSettings} from './terminal.js'

const BARS = '▁▂▃▄▅▆▇█'

/** A sparkline of the last `width` values (unknown ones as spaces), scaled from 0 to the largest. */
export function sparkline(values: Array<number | null>, width: number): string {
  const shown = values.slice(-width)
  const max = Math.max(0, ...shown.map((v) => v ?? 0))
  return shown
    .map((v) => (v === null ? ' ' : max === 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))]))
    .join('')
}

const statusStyle = (status: string, s: OutputSettings['style']) =>
  status === 'OK' ? s.green(status) : status === 'WARN' ? s.yellow(status) : s.red(status)

const groupName = (g: {namespace: string | null; eventHub: string | null; consumerGroup: string | null}) =>
  `${g.namespace ?? '?'}/${g.eventHub ?? '?'}/${g.consumerGroup ?? '?'}`

/** `status`'s table: a line per group, then its partitions that are not OK. */
export function renderStatus(report: StatusReport, settings: OutputSettings): string {
  const s = settings.style
  if (report.groups.length === 0) return 'No consumer group found.\n'
  const rows = report.groups.map((g) => [
    groupName(g),
    statusStyle(g.status, s),
    `${Math.round(g.complete * 100)}%`,
    g.maxLag,
    g.totalLag,
    g.rounds,
    g.partitions
      .filter((p) => p.status !== 'OK')
      .map((p) => `${p.partitionId} ${p.status}`)
      .join(', '),
  ])
  const table = renderTable(['GROUP', 'STATUS', 'COMPLETE', 'MAX LAG', 'TOTAL LAG', 'ROUNDS', 'NOT OK'], rows, s.bold, {
    width: settings.width,
  })
  return `${table}\nStatus: ${statusStyle(report.status, s)} (Burrow's rules over ${report.samples} samples, allowed lag ${report.allowedLag}).\n`
}

/** Seconds behind: exact when read, else estimated from the lag and the arrival rate (marked "~"). */
function timeLagText(t: PartitionTrack): string {
  const behind = timeLag(t)
  if (behind === null) return '-'
  return `${behind.estimated ? '~' : ''}${formatDuration(behind.seconds)}`
}

const rate = (r: number | null) => (r === null ? '-' : `${r >= 10 ? Math.round(r) : r.toFixed(1)}/s`)

/** One frame of `watch` for people: per group a heading and a row per partition. Lines only, no escapes. */
export function renderWatchFrame(
  groups: GroupTrack[],
  settings: OutputSettings,
  options: {interval: string; round: number; at: string; samples: number; sparkWidth?: number},
): string[] {
  const s = settings.style
  const lines = [s.bold(`ehcp watch: round ${options.round} at ${options.at}, every ${options.interval} (Ctrl-C ends)`)]
  if (groups.length === 0) lines.push('No consumer group found yet.')
  for (const g of groups) {
    const e = evaluateTrack(g, {samples: options.samples})
    lines.push('', `${groupName(g)}  ${statusStyle(e.status as GroupStatus, s)}  total lag ${e.totalLag}, max ${e.maxLag}`)
    const rows = g.partitions.map((t, i) => [
      t.partitionId,
      // Highlighted, and marked in words for a terminal without colour.
      t.ownerChanged ? s.inverse(`${t.owner ?? '-'} (new)`) : (t.owner ?? '-'),
      t.rewound ? s.inverse(s.red(`${t.checkpoint?.sequenceNumber ?? '-'} (back)`)) : (t.checkpoint?.sequenceNumber ?? '-'),
      t.lag ?? '?',
      timeLagText(t),
      sparkline(t.lags, options.sparkWidth ?? 20),
      rate(checkpointRate(t)),
      (() => {
        const eta = etaSeconds(t)
        return eta === null ? '-' : formatDuration(Math.round(eta))
      })(),
      statusStyle(e.partitions[i]!.status, s),
    ])
    const table = renderTable(['PARTITION', 'OWNER', 'CHECKPOINT', 'LAG', 'TIME LAG', 'TREND', 'RATE', 'ETA', 'STATUS'], rows, s.bold, {
      width: settings.width,
      dropFirst: ['OWNER', 'TREND', 'CHECKPOINT'],
    })
    lines.push(...table.replace(/\n$/, '').split('\n'))
  }
  return lines
}
