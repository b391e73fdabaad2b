/**
 * `peek` for people: one block per event (position, enqueued time, partition key, properties, body), then the
 * line that says why it stopped. Bodies: JSON pretty-printed, text as is (control characters escaped), binary
 * summarised by its size, or as a hex dump with --raw; a cut body says so with its full size.
 */
import {printable} from '../errors.js'
import type {EventBody} from '../eventhubs/body.js'
import type {PeekedEvent, PeekResult} from '../eventhubs/peek.js'
import type {OutputSettings} from './terminal.js'

/** Printable text, line breaks and tabs kept: an event body must not drive the terminal. */
const printableLines = (text: string) =>
  text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.split('\t').map(printable).join('\t'))
    .join('\n')

/** 16 bytes a line: offset, hex bytes. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = []
  for (let at = 0; at < bytes.length; at += 16) {
    const row = [...bytes.subarray(at, at + 16)].map((b) => b.toString(16).padStart(2, '0'))
    lines.push(`${at.toString(16).padStart(8, '0')}  ${row.join(' ')}`)
  }
  return lines.join('\n')
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`

/** The body's heading ("JSON, 52 bytes", "binary, 1,024 bytes, first 100 shown") and its lines. */
export function renderBody(body: EventBody, options: {raw: boolean}): {heading: string; text: string | null} {
  const label = body.kind === 'json' ? 'JSON' : body.kind
  const cut = body.truncated
    ? `, cut: first ${plural(body.kind === 'binary' ? Buffer.from(String(body.data), 'base64').length : Buffer.byteLength(String(body.data)), 'byte')} shown`
    : ''
  const heading = `${label}, ${plural(body.size, 'byte')}${cut}`
  if (body.kind === 'binary') {
    if (!options.raw) return {heading: `${heading} (--raw shows it in hex)`, text: null}
    return {heading, text: hexDump(Buffer.from(String(body.data), 'base64'))}
  }
  if (body.encoding === 'json') return {heading, text: printableLines(JSON.stringify(body.data, null, 2))}
  return {heading, text: printableLines(String(body.data)) + (body.truncated ? ' [...]' : '')}
}

const indent = (text: string, by = '    ') =>
  text
    .split('\n')
    .map((line) => by + line)
    .join('\n')

function renderEvent(event: PeekedEvent, settings: OutputSettings, options: {raw: boolean}): string {
  const s = settings.style
  const lines = [
    s.bold(`Event ${event.sequenceNumber}`),
    `  offset         ${printable(event.offset)}`,
    `  enqueued       ${event.enqueuedTime}`,
    `  partition key  ${event.partitionKey === null ? '-' : printable(event.partitionKey)}`,
  ]
  const properties = Object.entries(event.properties)
  if (properties.length === 0) lines.push('  properties     -')
  else {
    lines.push('  properties')
    for (const [key, value] of properties) lines.push(`    ${printable(key)}: ${printable(JSON.stringify(value) ?? String(value))}`)
  }
  const body = renderBody(event.body, options)
  lines.push(`  body           ${body.heading}`)
  if (body.text !== null && body.text !== '') lines.push(indent(body.text))
  return lines.join('\n')
}

function startedAt(result: PeekResult): string {
  switch (result.from.kind) {
    case 'checkpoint':
      return `after ${result.consumerGroup}'s checkpoint${result.checkpoint?.sequenceNumber != null ? ` (${result.checkpoint.sequenceNumber})` : ''}`
    case 'beginning':
      return `from the beginning (${result.consumerGroup} has no checkpoint for it)`
    case 'sequence':
      return `from sequence number ${result.from.sequenceNumber}`
    case 'datetime':
      return `from ${result.from.datetime}`
  }
}

function whyNone(result: PeekResult): string {
  const last = result.partition.lastEnqueuedSequenceNumber
  const checkpoint = result.checkpoint?.sequenceNumber ?? null
  if (result.partition.isEmpty) return 'the partition is empty'
  if (result.from.kind === 'checkpoint' && checkpoint !== null && checkpoint > last)
    return `the checkpoint is past the partition's last event, ${last} (was the event hub re-created?)`
  if (result.from.sequenceNumber !== null && result.from.sequenceNumber > last) return `the partition's last event is ${last}`
  return `none arrived within ${result.waitSeconds}s (the partition's last event is ${last})`
}

export function renderPeek(result: PeekResult, settings: OutputSettings, options: {raw: boolean}): string {
  const blocks = result.events.map((e) => renderEvent(e, settings, options))
  const where = `partition ${result.partitionId} ${startedAt(result)}, read through consumer group ${result.readerConsumerGroup}`
  const summary =
    result.stoppedAt === 'count'
      ? `${plural(result.events.length, 'event')} of ${where}.`
      : result.events.length === 0
        ? `No events in ${where}: ${whyNone(result)}.`
        : `${plural(result.events.length, 'event')} of ${where}: no more arrived within ${result.waitSeconds}s (the partition's end).`
  return [...blocks, summary].join('\n\n')
}
