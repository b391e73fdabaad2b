/**
 * The planner (pure): targets become per-partition items that say exactly which blob is written, under
 * which condition, and what it holds afterwards; deletes and releases pick their partitions; keys the tool
 * does not own are carried over.
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {
  leaves,
  newCheckpointName,
  pairProblem,
  planDeletes,
  planPositions,
  planReleases,
  type PlanItem,
  type TargetPosition,
} from '../../src/change/plan.js'
import {EhcpError} from '../../src/errors.js'
import {findPartition} from '../../src/store/group.js'
import {buildGroupView, type GroupView} from '../../src/store/group.js'
import {toRecord} from '../../src/store/store.js'

const NOW = Date.parse('2026-11-26T12:00:00Z')
const EXPIRY_MS = 120_000
const ref = {namespace: 'ns', eventHub: 'hub', consumerGroup: '$default', prefixes: ['ns/hub/$default/']}

interface Blob {
  name: string
  metadata: Record<string, string>
  /** Age of the last write, ms before NOW (an ownership blob's heartbeat). */
  ageMs?: number
  etag?: string
}

/** The group as a listing at NOW would show it. */
function viewOf(blobs: Blob[], scope = ref): GroupView {
  const records = blobs.map((b, i) =>
    toRecord(
      {name: b.name, etag: b.etag ?? `0x${i}`, lastModified: new Date(NOW - (b.ageMs ?? 1000)), metadata: b.metadata},
      NOW,
      EXPIRY_MS,
    ),
  )
  return buildGroupView(scope, records, NOW, EXPIRY_MS)
}

const cp = (id: string, metadata: Record<string, string>, etag?: string): Blob => ({
  name: `ns/hub/$default/checkpoint/${id}`,
  metadata,
  ...(etag ? {etag} : {}),
})
const own = (id: string, ownerId: string, ageMs: number, extra: Record<string, string> = {}): Blob => ({
  name: `ns/hub/$default/ownership/${id}`,
  metadata: {ownerid: ownerId, ...extra},
  ageMs,
})

const metadataOf = (item: PlanItem) => (item.action.kind === 'none' ? undefined : leaves(item.action))

function thrown(fn: () => unknown): EhcpError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(EhcpError)
    return error as EhcpError
  }
  throw new Error('expected an error')
}

describe('planPositions', () => {
  const view = viewOf([
    cp('0', {sequencenumber: '100', offset: '1000', clientidentifier: 'host-a'}, '0xA'),
    cp('1', {SequenceNumber: '200', Offset: '2000', custom: 'kept'}, '0xB'),
    own('1', 'proc-1', 5_000),
    own('2', 'proc-2', 600_000),
  ])

  it('leaves a partition already at the target unchanged: no write, delta 0', () => {
    const [item] = planPositions(view, [{partitionId: '0', position: {sequenceNumber: 100, offset: '1000'}}])
    expect(item!.action).to.deep.equal({kind: 'none'})
    expect(item!.before).to.deep.equal({sequenceNumber: 100, offset: '1000'})
    expect(item!.after).to.deep.equal({sequenceNumber: 100, offset: '1000'})
    expect(item!.delta).to.equal(0)
  })

  it('a different offset at the same sequence number is a change (the pair is written whole)', () => {
    const [item] = planPositions(view, [{partitionId: '0', position: {sequenceNumber: 100, offset: '1001'}}])
    expect(item!.action.kind).to.equal('set-position')
  })

  it('updates an existing checkpoint in place, under If-Match its ETag, keeping the keys it does not own', () => {
    const [item] = planPositions(view, [{partitionId: '0', position: {sequenceNumber: 40, offset: '400'}}])
    expect(item!.target).to.deep.equal({
      blobName: 'ns/hub/$default/checkpoint/0',
      etag: '0xA',
      metadata: {sequencenumber: '100', offset: '1000', clientidentifier: 'host-a'},
    })
    expect(item!.action).to.deep.equal({
      kind: 'set-position',
      position: {sequenceNumber: 40, offset: '400'},
      metadata: {clientidentifier: 'host-a', sequencenumber: '40', offset: '400'},
    })
    // Events to replay: positive when moving back.
    expect(item!.delta).to.equal(60)
    expect(item!.after).to.deep.equal({sequenceNumber: 40, offset: '400'})
  })

  it('leaves exactly the foreign keys plus the lower-case pair, dropping mixed-case spellings of its own keys', () => {
    const [item] = planPositions(view, [{partitionId: '1', position: {sequenceNumber: 250, offset: '2500'}}])
    expect(metadataOf(item!)).to.deep.equal({custom: 'kept', sequencenumber: '250', offset: '2500'})
    // Skipping forward: a negative delta.
    expect(item!.delta).to.equal(-50)
  })

  it('creates a checkpoint where there is none: no ETag (If-None-Match), no metadata before, the pair only', () => {
    const [item] = planPositions(view, [{partitionId: '2', position: {sequenceNumber: 7, offset: '70'}}])
    expect(item!.target).to.deep.equal({blobName: 'ns/hub/$default/checkpoint/2', etag: null, metadata: null})
    expect(metadataOf(item!)).to.deep.equal({sequencenumber: '7', offset: '70'})
    expect(item!.before).to.equal(null)
    expect(item!.delta).to.equal(null)
    // The partition has an ownership blob: no "new partition" warning.
    expect(item!.warnings).to.deep.equal([])
  })

  it('warns when the partition has no blob of any kind yet', () => {
    const [item] = planPositions(view, [{partitionId: '9', position: {sequenceNumber: 1, offset: '10'}}])
    expect(item!.partitionId).to.equal('9')
    expect(item!.target).to.deep.equal({blobName: 'ns/hub/$default/checkpoint/9', etag: null, metadata: null})
    expect(item!.warnings).to.deep.equal(['no checkpoint or ownership blob for this partition yet: a new checkpoint blob will be created'])
    expect([item!.ownerState, item!.ownerId]).to.deep.equal(['none', null])
  })

  it('a null position leaves the partition alone, with the scenario\'s warnings and no "new blob" warning', () => {
    const [known, unknown] = planPositions(view, [
      {partitionId: '0', position: null, warnings: ['no events retained']},
      {partitionId: '9', position: null, warnings: ['not in the source']},
    ])
    expect(known!.action.kind).to.equal('none')
    expect(known!.after).to.deep.equal(known!.before)
    expect(known!.delta).to.equal(null)
    expect(known!.warnings).to.deep.equal(['no events retained'])
    expect(unknown!.action.kind).to.equal('none')
    expect([unknown!.before, unknown!.after]).to.deep.equal([null, null])
    expect(unknown!.warnings).to.deep.equal(['not in the source'])
  })

  it("carries each partition's owner and its state, for the guard", () => {
    const items = planPositions(
      view,
      ['0', '1', '2'].map((partitionId) => ({partitionId, position: {sequenceNumber: 1, offset: '1'}})),
    )
    expect(items.map((i) => [i.partitionId, i.ownerState, i.ownerId])).to.deep.equal([
      ['0', 'none', null],
      ['1', 'active', 'proc-1'],
      ['2', 'expired', 'proc-2'],
    ])
    // The planner warns of nothing about owners itself: refusing is the guard's job.
    expect(items[1]!.warnings).to.deep.equal([])
  })

  it('matches partition ids case-insensitively and reports them as stored', () => {
    const lettered = viewOf([cp('abc', {sequencenumber: '5', offset: '50'}, '0xL')])
    const [item] = planPositions(lettered, [{partitionId: 'ABC', position: {sequenceNumber: 1, offset: '10'}}])
    expect(item!.partitionId).to.equal('abc')
    expect(item!.target.blobName).to.equal('ns/hub/$default/checkpoint/abc')
    expect(item!.target.etag).to.equal('0xL')
    expect(item!.warnings).to.deep.equal([])
  })

  it('does not mutate the view (the metadata read stays as read, for the backup)', () => {
    const before = JSON.stringify(view)
    planPositions(view, [{partitionId: '0', position: {sequenceNumber: 1, offset: '1'}}])
    expect(JSON.stringify(view)).to.equal(before)
  })
})

describe('newCheckpointName', () => {
  it('reuses the stored spelling when all the group\'s blobs share one (Java and Rust read "$Default")', () => {
    const scope = {namespace: 'NS', eventHub: 'Hub', consumerGroup: '$Default', prefixes: ['NS/Hub/$Default/']}
    const view = viewOf(
      [
        {name: 'NS/Hub/$Default/ownership/0', metadata: {ownerid: ''}},
        {name: 'NS/Hub/$Default/checkpoint/1', metadata: {sequencenumber: '1', offset: '1'}},
      ],
      scope,
    )
    expect(newCheckpointName(view, '3')).to.equal('NS/Hub/$Default/checkpoint/3')
    const [item] = planPositions(view, [{partitionId: '3', position: {sequenceNumber: 1, offset: '1'}}])
    expect(item!.target.blobName).to.equal('NS/Hub/$Default/checkpoint/3')
  })

  it('lower-cases when two spellings are stored, or none', () => {
    const scope = {namespace: 'NS', eventHub: 'Hub', consumerGroup: '$Default', prefixes: ['NS/Hub/$Default/', 'ns/hub/$default/']}
    const mixed = viewOf(
      [
        {name: 'NS/Hub/$Default/checkpoint/0', metadata: {sequencenumber: '1', offset: '1'}},
        {name: 'ns/hub/$default/checkpoint/1', metadata: {sequencenumber: '1', offset: '1'}},
      ],
      scope,
    )
    expect(newCheckpointName(mixed, '2')).to.equal('ns/hub/$default/checkpoint/2')
    const empty = viewOf([], {namespace: 'NS', eventHub: 'Hub', consumerGroup: '$Default', prefixes: ['ns/hub/$default/']})
    expect(newCheckpointName(empty, 'P1')).to.equal('ns/hub/$default/checkpoint/P1')
  })
})

describe('planDeletes', () => {
  const view = viewOf([
    cp('0', {sequencenumber: '10', offset: '100', clientidentifier: 'x'}, '0xD0'),
    cp('1', {sequencenumber: '', offset: '5'}, '0xD1'),
    own('2', 'p', 1000),
  ])

  it('deletes every checkpoint under If-Match, and only checkpoints (an ownership-only partition is skipped)', () => {
    const items = planDeletes(view, undefined)
    expect(items.map((i) => [i.partitionId, i.target.blobName, i.target.etag])).to.deep.equal([
      ['0', 'ns/hub/$default/checkpoint/0', '0xD0'],
      ['1', 'ns/hub/$default/checkpoint/1', '0xD1'],
    ])
    for (const item of items) {
      expect(item.action).to.deep.equal({kind: 'delete'})
      expect(leaves(item.action as {kind: 'delete'})).to.equal(null)
      expect(item.after).to.equal(null)
    }
    expect(items[0]!.before).to.deep.equal({sequenceNumber: 10, offset: '100'})
    // A .NET "unknown" sequence number is shown as unknown, not as 0.
    expect(items[1]!.before).to.deep.equal({sequenceNumber: null, offset: '5'})
    expect(items[0]!.target.metadata).to.deep.equal({sequencenumber: '10', offset: '100', clientidentifier: 'x'})
  })

  it('narrows to the named partitions (any case); an unknown one is not found (exit 3)', () => {
    expect(planDeletes(view, ['1']).map((i) => i.partitionId)).to.deep.equal(['1'])
    expect(planDeletes(view, ['2'])).to.deep.equal([])
    const error = thrown(() => planDeletes(view, ['0', '7']))
    expect(error.exitCode).to.equal(3)
    expect(error.message).to.contain('partition 7')
  })
})

describe('planReleases', () => {
  const view = viewOf([
    own('0', 'alpha', 1_000, {clientidentifier: 'c0'}),
    own('1', 'beta', 1_000),
    own('2', 'alpha', 600_000),
    own('3', '', 600_000),
    cp('4', {sequencenumber: '1', offset: '1'}),
  ])
  const ids = (items: PlanItem[]) => items.map((i) => i.partitionId)

  it('with neither an owner nor partitions: every ownership blob, released ones left as they are', () => {
    const items = planReleases(view, undefined, undefined)
    expect(ids(items)).to.deep.equal(['0', '1', '2', '3'])
    expect(items.map((i) => i.action.kind)).to.deep.equal(['release', 'release', 'release', 'none'])
    expect(items[3]!.warnings).to.deep.equal(['already released'])
    expect(items[3]!.after).to.deep.equal({ownerId: ''})
  })

  it('writes ownerid "" under If-Match, keeping the other keys', () => {
    const [item] = planReleases(view, ['0'], undefined)
    expect(item!.target).to.deep.equal({
      blobName: 'ns/hub/$default/ownership/0',
      etag: '0x0',
      metadata: {ownerid: 'alpha', clientidentifier: 'c0'},
    })
    expect(metadataOf(item!)).to.deep.equal({clientidentifier: 'c0', ownerid: ''})
    expect([item!.before, item!.after]).to.deep.equal([{ownerId: 'alpha'}, {ownerId: ''}])
  })

  it('warns that an active owner loses the partition at its next heartbeat; an expired one gets no warning', () => {
    const items = planReleases(view, undefined, 'alpha')
    expect(items.map((i) => [i.partitionId, i.ownerState, i.warnings.length])).to.deep.equal([
      ['0', 'active', 1],
      ['2', 'expired', 0],
    ])
    expect(items[0]!.warnings[0]).to.match(/active: it loses the partition at its next heartbeat/)
  })

  it('by owner, by partition, and both', () => {
    expect(ids(planReleases(view, undefined, 'beta'))).to.deep.equal(['1'])
    expect(ids(planReleases(view, ['2', '1'], undefined))).to.deep.equal(['2', '1'])
    expect(ids(planReleases(view, ['0', '1', '2'], 'alpha'))).to.deep.equal(['0', '2'])
    expect(planReleases(view, ['1'], 'alpha')).to.deep.equal([])
    expect(planReleases(view, undefined, 'nobody')).to.deep.equal([])
  })

  it('a partition with a checkpoint but no ownership has nothing to release; an unknown one is not found', () => {
    expect(planReleases(view, ['4'], undefined)).to.deep.equal([])
    expect(thrown(() => planReleases(view, ['5'], undefined)).exitCode).to.equal(3)
  })
})

describe('pairProblem and findPartition', () => {
  it('a source partition is copied only with both halves of the pair', () => {
    expect(pairProblem({sequenceNumber: 5, offset: '50'})).to.equal(null)
    expect(pairProblem({sequenceNumber: -1, offset: '-1'})).to.equal(null)
    expect(pairProblem({sequenceNumber: null, offset: '50'})).to.equal('has no usable sequence number')
    expect(pairProblem({sequenceNumber: 5, offset: null})).to.equal('has no offset (a matching pair cannot be written)')
    expect(pairProblem({sequenceNumber: null, offset: null})).to.equal('has no usable sequence number')
  })

  it('finds partitions case-insensitively, and nothing else', () => {
    const view = viewOf([cp('Part-A', {sequencenumber: '1', offset: '1'}), cp('10', {sequencenumber: '1', offset: '1'})])
    expect(findPartition(view, 'part-a')?.partitionId).to.equal('Part-A')
    expect(findPartition(view, 'PART-A')?.partitionId).to.equal('Part-A')
    expect(findPartition(view, '10')?.partitionId).to.equal('10')
    expect(findPartition(view, '1')).to.equal(undefined)
    expect(findPartition(view, 'Part')).to.equal(undefined)
  })
})

describe('property: planning positions', () => {
  const offset = fc.oneof(fc.nat({max: 10_000_000}).map(String), fc.constantFrom('-1', '1:200:abc', 'A~z'))
  const position = fc.record({sequenceNumber: fc.integer({min: -1, max: 1_000_000}), offset})
  const foreign = fc.dictionary(fc.constantFrom('clientidentifier', 'custom', 'Host_Name', 'x'), fc.string({maxLength: 8}), {maxKeys: 3})
  const partitionId = fc.oneof(fc.nat({max: 12}).map(String), fc.constantFrom('a', 'A', 'b', 'Part-1', 'part-1'))
  /** A group: distinct partition ids (case-insensitively), each with a checkpoint. */
  const group = fc.uniqueArray(fc.record({id: partitionId, position, foreign}), {maxLength: 8, selector: (p) => p.id.toLowerCase()})
  const viewFrom = (partitions: Array<{id: string; position: {sequenceNumber: number; offset: string}; foreign: Record<string, string>}>) =>
    viewOf(partitions.map((p) => cp(p.id, {...p.foreign, sequencenumber: String(p.position.sequenceNumber), offset: p.position.offset})))

  it('planning the current positions changes nothing', () => {
    let planned = 0
    fc.assert(
      fc.property(group, (partitions) => {
        const view = viewFrom(partitions)
        const items = planPositions(
          view,
          view.partitions.map((p) => ({
            partitionId: p.partitionId,
            position: {sequenceNumber: p.checkpoint!.sequenceNumber!, offset: p.checkpoint!.offset!},
          })),
        )
        planned += items.length
        expect(items).to.have.length(partitions.length)
        for (const item of items) {
          expect(item.action.kind).to.equal('none')
          expect(item.delta).to.equal(0)
          expect(item.after).to.deep.equal(item.before)
        }
      }),
      {seed: 11, numRuns: 100},
    )
    expect(planned, 'the property planned some partitions').to.be.greaterThan(0)
  })

  it('every item is for a partition of the view or a listed target, in the group, and a write leaves the foreign keys and the pair', () => {
    let writes = 0
    fc.assert(
      fc.property(
        group,
        fc.array(fc.record({partitionId, position: fc.option(position, {nil: null})}), {maxLength: 8}),
        (partitions, targets: TargetPosition[]) => {
          const view = viewFrom(partitions)
          const items = planPositions(view, targets)
          expect(items).to.have.length(targets.length)
          items.forEach((item, i) => {
            const target = targets[i]!
            const stored = findPartition(view, target.partitionId)
            expect(item.partitionId).to.equal(stored ? stored.partitionId : target.partitionId)
            expect(item.target.blobName.toLowerCase()).to.equal(`ns/hub/$default/checkpoint/${item.partitionId}`.toLowerCase())
            expect(item.target.etag === null).to.equal(!stored?.checkpoint)
            if (item.action.kind === 'set-position') {
              writes++
              const before = item.target.metadata ?? {}
              const kept = Object.fromEntries(
                Object.entries(before).filter(([k]) => !['sequencenumber', 'offset'].includes(k.toLowerCase())),
              )
              expect(leaves(item.action)).to.deep.equal({
                ...kept,
                sequencenumber: String(target.position!.sequenceNumber),
                offset: target.position!.offset,
              })
            } else {
              expect(item.action.kind).to.equal('none')
            }
          })
        },
      ),
      {seed: 12, numRuns: 100},
    )
    expect(writes, 'the property planned some writes').to.be.greaterThan(0)
  })
})
