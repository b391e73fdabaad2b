/** Manners on a terminal, as pure code: tables fitted to a width, the progress line, what --fail-on-lag names. */
import {expect} from 'chai'

import {groupsOverLag, partitionsOverLag, type PartitionViewWithLag} from '../../src/eventhubs/lag.js'
import {progressText, startProgress} from '../../src/output/progress.js'
import {fitColumns, naturalWidth, renderTable, renderTableWithNotes, visibleLength} from '../../src/output/tabular.js'
import {outputSettings, terminalWidth} from '../../src/output/terminal.js'
import {renderContainerSummary, renderGroupView, renderLagCrossings} from '../../src/output/views.js'
import type {StoredBlob} from '../../src/store/blob-rest.js'
import {buildGroupView} from '../../src/store/group.js'
import {toRecord} from '../../src/store/store.js'
import type {ContainerSummary} from '../../src/store/summary.js'

const NOW = Date.parse('2026-11-26T12:00:00Z')
const longest = (text: string) => Math.max(...text.split('\n').map(visibleLength))

describe('tables that fit the terminal', () => {
  it('fitColumns drops the named columns first, in order, and only while the table is too wide', () => {
    const head = ['A', 'B', 'C', 'D']
    const natural = [10, 10, 10, 10] // 46 with the gaps
    expect(fitColumns(head, natural, 46, ['C', 'B'])).to.deep.equal({columns: [0, 1, 2, 3], widths: natural})
    expect(fitColumns(head, natural, 45, ['C', 'B'])).to.deep.equal({columns: [0, 1, 3], widths: [10, 10, 10]})
    expect(fitColumns(head, natural, 30, ['C', 'B'])).to.deep.equal({columns: [0, 3], widths: [10, 10]})
  })

  it('then shortens the widest columns, never below their heading', () => {
    const fitted = fitColumns(['PARTITION', 'OWNER'], [9, 40], 30)
    expect(fitted).to.deep.equal({columns: [0, 1], widths: [9, 19]})
    // Too narrow for even the headings: each column stops at its heading, and the table is as small as it gets.
    expect(fitColumns(['PARTITION', 'OWNER'], [9, 40], 5).widths).to.deep.equal([9, 5])
  })

  it('renderTable keeps every column whole without a width, and fits it with one', () => {
    const head = ['PARTITION', 'OWNER', 'NOTE']
    const rows = [['0', 'a'.repeat(50), 'x'.repeat(30)]]
    const whole = renderTable(head, rows)
    expect(whole).to.include('a'.repeat(50)).and.include('x'.repeat(30))
    expect(renderTable(head, rows, undefined, {width: undefined})).to.equal(whole)
    const fitted = renderTable(head, rows, undefined, {width: 40, dropFirst: ['NOTE']})
    expect(longest(fitted)).to.be.at.most(40)
    expect(fitted).not.to.include('NOTE')
    expect(fitted).to.include('…')
    // Wide enough: the same table as without a width.
    expect(renderTable(head, rows, undefined, {width: 200, dropFirst: ['NOTE']})).to.equal(whole)
  })

  it('free text (warnings, reasons) leaves a narrow table whole, listed under it', () => {
    const head = ['PARTITION', 'CURRENT', 'WARNINGS']
    const warning = 'target 5 is before the retained range: clamped to the start of the partition (99)'
    const rows = [
      ['0', '1 @ 10', warning],
      ['1', '2 @ 20', ''],
    ]
    expect(naturalWidth(head, rows)).to.be.greaterThan(60)
    const narrow = renderTableWithNotes(head, rows, (s) => s, 60)
    expect(narrow.split('\n')[0]).to.equal('PARTITION  CURRENT')
    expect(narrow).to.include(`WARNINGS:\n  0: ${warning}`)
    expect(narrow).not.to.include('  1: ')
    expect(renderTableWithNotes(head, rows, (s) => s, undefined)).to.equal(renderTable(head, rows))
  })

  it('the width: COLUMNS, else the terminal; none when stdout is piped or with --wide', () => {
    expect(terminalWidth({COLUMNS: '72'}, {columns: 120})).to.equal(72)
    expect(terminalWidth({COLUMNS: 'wide'}, {columns: 120})).to.equal(120)
    expect(terminalWidth({}, {})).to.equal(undefined)
    expect(outputSettings(undefined, {}, {isTTY: true, columns: 80}, {isTTY: true}).width).to.equal(80)
    expect(outputSettings(undefined, {COLUMNS: '80'}, {isTTY: false, columns: 80}, {isTTY: true}).width).to.equal(undefined)
    expect(outputSettings(undefined, {}, {isTTY: true, columns: 80}, {isTTY: true}, {wide: true}).width).to.equal(undefined)
  })

  it('show at 80 columns: no line over 80, the low-value columns gone; piped, every column', () => {
    const blob = (name: string, metadata: Record<string, string>): StoredBlob => ({
      name,
      etag: '0x1',
      lastModified: new Date(NOW - 1000),
      metadata,
    })
    const records = []
    for (let p = 0; p < 4; p++) {
      records.push(
        toRecord(
          blob(`ns.servicebus.windows.net/orders/$default/checkpoint/${p}`, {sequencenumber: '123456', offset: '98765432'}),
          NOW,
          120_000,
        ),
      )
      records.push(
        toRecord(
          blob(`ns.servicebus.windows.net/orders/$default/ownership/${p}`, {ownerid: `0f8fad5b-d9cb-469f-a165-70867728950${p}`}),
          NOW,
          120_000,
        ),
      )
    }
    const view = buildGroupView(
      {namespace: 'ns.servicebus.windows.net', eventHub: 'orders', consumerGroup: '$default', prefixes: []},
      records,
      NOW,
      120_000,
    )
    const lagged = {
      ...view,
      partitions: view.partitions.map((p) => ({
        ...p,
        lag: {
          events: 12345,
          state: 'ok' as const,
          beginningSequenceNumber: 0,
          lastEnqueuedSequenceNumber: 135801,
          lastEnqueuedTime: new Date(NOW - 5000).toISOString(),
          nextEventTime: new Date(NOW - 3_600_000).toISOString(),
          timeLagSeconds: 3600,
          retainedEvents: 135802,
        },
      })),
    }
    const tty = renderGroupView(
      lagged,
      outputSettings(undefined, {NO_COLOR: '1'}, {isTTY: true, columns: 80}, {isTTY: true}),
      'table',
      false,
    )
    const table = tty.split('\n').slice(1).join('\n')
    expect(longest(table)).to.be.at.most(80)
    expect(table).to.include('PARTITION').and.include('SEQUENCE').and.include('LAG').and.not.include('HEARTBEAT')
    const piped = renderGroupView(lagged, outputSettings(undefined, {}, {isTTY: false}, {isTTY: false}), 'table', false)
    expect(piped).to.include('HEARTBEAT').and.include('0f8fad5b-d9cb-469f-a165-708677289500')
    expect(longest(piped)).to.be.greaterThan(80)
  })
})

describe('the progress line', () => {
  const screen = () => {
    const writes: string[] = []
    return {writes, stream: {isTTY: true, write: (t: string) => writes.push(t)}}
  }

  it('says how far a read has come, with or without a total', () => {
    expect(progressText('Reading lag:', 120, 2000, 'partitions')).to.equal('Reading lag: 120/2,000 partitions (6%)')
    expect(progressText('Listing:', 12000, undefined, 'blobs')).to.equal('Listing: 12,000 blobs…')
  })

  it('draws nothing before the delay, then redraws in place and erases itself', () => {
    const {writes, stream} = screen()
    let t = 0
    const p = startProgress('Reading lag:', true, stream, {now: () => t, delayMs: 500, intervalMs: 100})
    p.update(1, 10)
    t = 400
    p.update(2, 10)
    expect(writes).to.deep.equal([])
    t = 600
    p.update(3, 10)
    t = 650
    p.update(4, 10) // within the redraw interval: not drawn
    t = 800
    p.update(5, 10)
    p.end()
    p.end()
    expect(writes).to.deep.equal(['\r\x1b[KReading lag: 3/10 (30%)', '\r\x1b[KReading lag: 5/10 (50%)', '\r\x1b[K'])
  })

  it('a quick read leaves no trace; off the terminal, nothing at all', () => {
    const quick = screen()
    const p = startProgress('Reading lag:', true, quick.stream, {delayMs: 10_000})
    p.update(10, 10)
    p.end()
    expect(quick.writes).to.deep.equal([])
    const off = screen()
    const q = startProgress('Writing', false, off.stream, {delayMs: 0})
    q.update(30, 30)
    q.end()
    expect(off.writes).to.deep.equal([])
  })

  it('a write keeps its last line', () => {
    const {writes, stream} = screen()
    const p = startProgress('Writing', true, stream, {delayMs: 0, keep: true, minTotal: 20})
    p.update(30, 30)
    p.end()
    expect(writes.at(-1)).to.equal('\r\x1b[KWriting 30/30 (100%)\n')
    const small = screen()
    const s = startProgress('Writing', true, small.stream, {delayMs: 0, keep: true, minTotal: 20})
    s.update(3, 3)
    s.end()
    expect(small.writes).to.deep.equal([])
  })

  it('progress is on only with stderr on a terminal, and not for --json to a pipe', () => {
    expect(outputSettings(undefined, {}, {isTTY: false}, {isTTY: true}).progress).to.equal(true)
    expect(outputSettings(undefined, {}, {isTTY: false}, {isTTY: true}, {json: true}).progress).to.equal(false)
    expect(outputSettings(undefined, {}, {isTTY: true}, {isTTY: true}, {json: true}).progress).to.equal(true)
    expect(outputSettings(undefined, {}, {isTTY: true}, {isTTY: false}).progress).to.equal(false)
    expect(outputSettings(undefined, {TERM: 'dumb'}, {isTTY: true}, {isTTY: true}).progress).to.equal(false)
  })
})

describe('--fail-on-lag names what crossed', () => {
  const lag = (events: number | null, state: 'ok' | 'ahead-of-partition') => ({
    events,
    state,
    beginningSequenceNumber: 0,
    lastEnqueuedSequenceNumber: 10,
    lastEnqueuedTime: null,
    nextEventTime: null,
    timeLagSeconds: null,
    retainedEvents: 11,
  })
  const partition = (id: string, l: ReturnType<typeof lag> | undefined): PartitionViewWithLag => ({
    partitionId: id,
    checkpoint: null,
    ownership: null,
    problems: [],
    ...(l ? {lag: l} : {}),
  })

  it('partitions over the threshold, and checkpoints ahead of the partition', () => {
    const crossed = partitionsOverLag(
      [
        partition('0', lag(5, 'ok')),
        partition('1', lag(50, 'ok')),
        partition('2', lag(null, 'ahead-of-partition')),
        partition('3', undefined),
      ],
      10,
    )
    expect(crossed).to.deep.equal({
      threshold: 10,
      crossed: [
        {partitionId: '1', events: 50, state: 'ok'},
        {partitionId: '2', events: null, state: 'ahead-of-partition'},
      ],
    })
    const settings = outputSettings(false, {}, {isTTY: false}, {isTTY: false})
    expect(renderLagCrossings(crossed, settings).split('\n')).to.deep.equal([
      '--fail-on-lag 10: 2 partitions over the threshold (exit 10):',
      '  partition 1: 50 events behind',
      '  partition 2: checkpoint ahead of the partition',
    ])
  })

  it('groups over the threshold', () => {
    const group = (consumerGroup: string, max: number, ahead = 0) => ({
      namespace: 'ns',
      eventHub: 'hub',
      consumerGroup,
      lag: {total: max, max, states: ahead ? {'ahead-of-partition': ahead} : {}},
    })
    const crossed = groupsOverLag([group('a', 5), group('b', 500), group('c', 0, 2)], 100)
    expect(crossed.crossed.map((c) => [c.consumerGroup, c.maxLag, c.aheadOfPartition])).to.deep.equal([
      ['b', 500, 0],
      ['c', 0, 2],
    ])
    expect(renderLagCrossings(crossed, outputSettings(false, {}, {isTTY: false}, {isTTY: false})).split('\n')).to.deep.equal([
      '--fail-on-lag 100: 2 consumer groups over the threshold (exit 10):',
      '  ns/hub/b: max lag 500 events',
      '  ns/hub/c: 2 checkpoint(s) ahead of the partition',
    ])
  })

  it('names at most 50 on stderr, and counts the rest', () => {
    const many = partitionsOverLag(
      Array.from({length: 60}, (_, i) => partition(String(i), lag(100, 'ok'))),
      1,
    )
    const lines = renderLagCrossings(many, outputSettings(false, {}, {isTTY: false}, {isTTY: false})).split('\n')
    expect(lines).to.have.length(52)
    expect(lines.at(-1)).to.equal('  … and 10 more (--json lists them all)')
  })
})

describe('list with a filter that matches nothing', () => {
  const empty: ContainerSummary = {
    schemaVersion: 1,
    container: 'cp',
    observedAt: new Date(NOW).toISOString(),
    ownershipExpirySeconds: 120,
    groups: [],
    problems: [],
  }
  const settings = outputSettings(false, {}, {isTTY: false}, {isTTY: false})
  const held = (n: number, namespaces: number) =>
    Array.from({length: n}, (_, i) => ({namespace: `ns${i % namespaces}`, eventHub: 'orders', consumerGroup: `g${i}`}))

  it('names the groups the container holds, or their namespaces when there are many', () => {
    expect(renderContainerSummary(empty, settings, 'table')).to.equal('No checkpoints or ownership blobs in container "cp".')
    expect(renderContainerSummary(empty, settings, 'table', {filter: '--namespace "contoso"', held: held(2, 2)})).to.equal(
      'No consumer group matches --namespace "contoso"; container "cp" holds 2 consumer groups: ns0/orders/g0, ns1/orders/g1.',
    )
    expect(renderContainerSummary(empty, settings, 'table', {filter: '--eventhub "x"', held: held(9, 3)})).to.equal(
      'No consumer group matches --eventhub "x"; container "cp" holds 9 consumer groups in namespaces ns0, ns1, ns2.',
    )
    expect(renderContainerSummary(empty, settings, 'table', {filter: '--eventhub "x"', held: []})).to.equal(
      'No consumer group matches --eventhub "x": container "cp" holds no checkpoints or ownership blobs.',
    )
  })
})
