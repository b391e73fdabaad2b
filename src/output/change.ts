/** Renderers for plans and change reports: what will be written, then what was. */
import type {ChangeResult, PartitionResult} from '../change/execute.js'
import type {ChangeSide} from '../change/plan.js'
import {renderTableWithNotes} from './tabular.js'
import type {OutputSettings} from './terminal.js'

function side(s: ChangeSide | null): string {
  if (s === null) return '-'
  if ('ownerId' in s) return s.ownerId === null ? '(no ownerid)' : s.ownerId === '' ? '(released)' : s.ownerId
  return `${s.sequenceNumber ?? '?'} @ ${s.offset ?? '?'}`
}

function delta(p: PartitionResult): string {
  if (p.delta === null || p.action === 'none') return ''
  if (p.delta > 0) return `replay ${p.delta}`
  if (p.delta < 0) return `skip ${-p.delta}`
  return '0'
}

function statusStyle(status: PartitionResult['status'], s: OutputSettings['style']): string {
  switch (status) {
    case 'updated':
      return s.green(status)
    case 'conflict':
    case 'failed':
      return s.red(status)
    default:
      return s.dim(status)
  }
}

const scopeLine = (r: ChangeResult) =>
  r.layout
    ? `${r.layout} lease blobs ${r.blobPrefix ? `under "${r.blobPrefix}"` : 'at the container root'}${r.consumerGroup ? ` (consumer group ${r.consumerGroup})` : ''}`
    : `${r.namespace} / ${r.eventHub} / ${r.consumerGroup}`

export function renderPlan(result: ChangeResult, settings: OutputSettings): string {
  const s = settings.style
  const changing = result.partitions.filter((p) => p.status === 'planned').length
  const rows = result.partitions.map((p) => [
    p.partitionId,
    side(p.before),
    p.action === 'none'
      ? p.status === 'conflict'
        ? '(left alone)'
        : '(unchanged)'
      : p.action === 'delete'
        ? '(deleted)'
        : p.action === 'break-lease'
          ? '(lease broken)'
          : side(p.after),
    delta(p),
    p.ownerState,
    [...(p.reason ? [p.reason] : []), ...p.warnings].join('; '),
  ])
  return [
    `${s.bold(`Plan: ${result.operation}${result.scenario ? ` (${result.scenario})` : ''}`)} ${scopeLine(result)}: ${changing} of ${result.partitions.length} partition(s) change`,
    renderTableWithNotes(['PARTITION', 'CURRENT', 'NEW', 'DELTA', 'OWNER-STATE', 'WARNINGS'], rows, s.bold, settings.width),
    ...result.notes.map((n) => s.yellow(`Note: ${n}`)),
  ].join('\n')
}

export function renderReport(result: ChangeResult, settings: OutputSettings): string {
  const s = settings.style
  const count = (status: PartitionResult['status']) => result.partitions.filter((p) => p.status === status).length
  const rows = result.partitions
    .filter((p) => p.status !== 'unchanged')
    .map((p) => [p.partitionId, side(p.before), side(p.after), statusStyle(p.status, s), p.reason ?? ''])
  return [
    renderTableWithNotes(['PARTITION', 'BEFORE', 'AFTER', 'STATUS', 'REASON'], rows, s.bold, settings.width),
    `${scopeLine(result)}: ${count('updated')} updated, ${count('unchanged')} unchanged, ${count('conflict')} conflict(s), ${count('failed')} failed.`,
    ...(result.undoCommand ? [`Undo: ${result.undoCommand}`] : []),
  ].join('\n')
}
