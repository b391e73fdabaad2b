import {expect} from 'chai'

import type {StoredBlob} from '../../src/store/blob-rest.js'
import {buildGroupView, selectPartitions} from '../../src/store/group.js'
import {toRecord} from '../../src/store/store.js'
import {ContainerTally, PROBLEM_LIST_LIMIT} from '../../src/store/summary.js'

const NOW = Date.parse('2026-11-26T12:00:00Z')
const EXPIRY = 120_000
const blob = (name: string, metadata: Record<string, string>, ageMs = 1000): StoredBlob => ({
  name,
  etag: `0x${name.length}`,
  lastModified: new Date(NOW - ageMs),
  metadata,
})
const rec = (b: StoredBlob) => toRecord(b, NOW, EXPIRY)
const ref = {namespace: 'ns', eventHub: 'hub', consumerGroup: '$Default', prefixes: ['ns/hub/$Default/']}

describe('group view', () => {
  it('merges case variants of a partition, shows the newest, reports the duplicate', () => {
    const view = buildGroupView(
      ref,
      [
        rec(blob('ns/hub/$Default/checkpoint/0', {sequencenumber: '5', offset: '50'}, 60_000)),
        rec(blob('ns/hub/$default/checkpoint/0', {sequencenumber: '9', offset: '90'}, 1000)),
        rec(blob('ns/hub/$default/ownership/0', {ownerid: 'a'}, 1000)),
      ],
      NOW,
      EXPIRY,
    )
    expect(view.partitions).to.have.length(1)
    const [p] = view.partitions
    expect(p!.checkpoint).to.include({sequenceNumber: 9, offset: '90', blobName: 'ns/hub/$default/checkpoint/0'})
    expect(p!.ownership).to.include({ownerId: 'a', state: 'active'})
    expect(p!.problems.map((q) => q.code)).to.deep.equal(['case-variant-duplicate'])
    expect(p!.problems[0]!.message).to.include('ns/hub/$Default/checkpoint/0').and.include('Java and Rust')
  })

  it('reports foreign blobs at group level and sorts partitions numerically', () => {
    const view = buildGroupView(
      ref,
      [
        rec(blob('ns/hub/$Default/checkpoint/10', {sequencenumber: '1', offset: '1'})),
        rec(blob('ns/hub/$Default/notes.txt', {})),
        rec(blob('ns/hub/$Default/checkpoint/2', {sequencenumber: '1', offset: '1'})),
      ],
      NOW,
      EXPIRY,
    )
    expect(view.partitions.map((p) => p.partitionId)).to.deep.equal(['2', '10'])
    expect(view.problems.map((p) => p.code)).to.deep.equal(['foreign-blob'])
  })

  it('selects partitions case-insensitively and says which are missing', () => {
    const view = buildGroupView(ref, [rec(blob('ns/hub/$Default/checkpoint/0', {sequencenumber: '1', offset: '1'}))], NOW, EXPIRY)
    expect(selectPartitions(view, ['0']).partitions).to.have.length(1)
    expect(() => selectPartitions(view, ['0', '7']))
      .to.throw(/partition 7/)
      .with.property('exitCode', 3)
  })
})

describe('container tally', () => {
  it('counts partitions, checkpoints and active owners per group, case-insensitively', () => {
    const tally = new ContainerTally({})
    tally.add(
      [
        rec(blob('ns/Hub/$Default/checkpoint/0', {sequencenumber: '1', offset: '1'}, 5000)),
        rec(blob('ns/hub/$default/checkpoint/1', {sequencenumber: '1', offset: '1'}, 1000)),
        rec(blob('ns/hub/$default/ownership/0', {ownerid: 'a'})),
        rec(blob('ns/hub/$default/ownership/1', {ownerid: 'b'}, 10 * 60_000)),
        rec(blob('ns/hub/$default/ownership/2', {ownerid: ''})),
        rec(blob('ns/hub/other/checkpoint/0', {sequencenumber: 'x', offset: '1'})),
        rec(blob('stray.txt', {})),
      ],
      NOW,
    )
    const summary = tally.summarize('c', EXPIRY)
    expect(summary.groups).to.have.length(2)
    const [main, other] = summary.groups
    expect(main).to.deep.include({
      namespace: 'ns',
      eventHub: 'Hub',
      consumerGroup: '$Default',
      partitions: 3,
      checkpoints: 2,
      ownedPartitions: 1,
      activeOwners: ['a'],
    })
    expect(main!.lastCheckpointAt).to.equal(new Date(NOW - 1000).toISOString())
    expect(other!.problems.map((p) => p.code)).to.deep.equal(['invalid-sequence-number'])
    expect(summary.problems.map((p) => p.code)).to.deep.equal(['foreign-blob'])
  })

  it('caps listed problems and counts the rest', () => {
    const tally = new ContainerTally({})
    tally.add(
      Array.from({length: PROBLEM_LIST_LIMIT + 5}, (_, i) => rec(blob(`junk-${i}`, {}))),
      NOW,
    )
    const problems = tally.summarize('c', EXPIRY).problems
    expect(problems).to.have.length(PROBLEM_LIST_LIMIT + 1)
    expect(problems.at(-1)!.message).to.match(/^5 more/)
  })
})

describe('rendering for a terminal', () => {
  it('shows ages and colour on a terminal, ISO times and no colour when piped', async () => {
    const {outputSettings} = await import('../../src/output/terminal.js')
    const {renderGroupView} = await import('../../src/output/views.js')
    const view = buildGroupView(
      ref,
      [
        rec(blob('ns/hub/$Default/checkpoint/0', {sequencenumber: '1', offset: '10'}, 180_000)),
        rec(blob('ns/hub/$Default/ownership/0', {ownerid: 'w'}, 5000)),
      ],
      NOW,
      EXPIRY,
    )
    const tty = renderGroupView(view, outputSettings(undefined, {}, {isTTY: true}, {isTTY: true}), 'table', false)
    expect(tty).to.include('3m ago').and.include('5s ago').and.include('\u001b[32mactive')
    const piped = renderGroupView(view, outputSettings(undefined, {}, {isTTY: false}, {isTTY: false}), 'table', false)
    expect(piped)
      .to.include(new Date(NOW - 180_000).toISOString())
      .and.not.include('\u001b[')
    expect(renderGroupView(view, outputSettings(undefined, {NO_COLOR: '1'}, {isTTY: true}, {isTTY: true}), 'table', false)).not.to.include(
      '\u001b[',
    )
  })
})
