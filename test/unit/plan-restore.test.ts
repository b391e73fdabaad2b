/**
 * The undo's verdicts (planRestore, pure): a blob is restored only if it still holds what its change wrote;
 * everything else is left alone with a reason, and a schema-1 backup is restored as it stands.
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {planRestore, type RestoreEntry} from '../../src/change/plan.js'
import type {StoredBlob} from '../../src/store/blob-rest.js'
import {buildGroupView, type GroupView} from '../../src/store/group.js'
import {toRecord} from '../../src/store/store.js'

const NOW = Date.parse('2026-11-26T12:00:00Z')
const CP = 'ns/hub/$default/checkpoint/0'
const ref = {namespace: 'ns', eventHub: 'hub', consumerGroup: '$default', prefixes: ['ns/hub/$default/']}

/** The group as stored now: blob 0 with `metadata`, or no blob (null). */
function viewWith(metadata: Record<string, string> | null): GroupView {
  const blobs: StoredBlob[] = metadata ? [{name: CP, etag: '0xNOW', lastModified: new Date(NOW - 1000), metadata}] : []
  return buildGroupView(
    ref,
    blobs.map((b) => toRecord(b, NOW, 120_000)),
    NOW,
    120_000,
  )
}

const OLD = {sequencenumber: '5', offset: '50'}
const NEW = {sequencenumber: '9', offset: '90'}
const OTHER = {sequencenumber: '7', offset: '70'}
const entry = (e: Partial<RestoreEntry>): RestoreEntry => ({partitionId: '0', blobName: CP, metadata: OLD, written: NEW, ...e})

describe('the undo (planRestore)', () => {
  it('restores a blob that holds what the change wrote, under If-Match its ETag now', () => {
    const [item] = planRestore(viewWith(NEW), [entry({outcome: 'written'})])
    expect(item!.action).to.deep.equal({kind: 'set-metadata', metadata: OLD})
    expect(item!.target.etag).to.equal('0xNOW')
    expect(item!.heldBack).to.equal(undefined)
  })

  it('compares metadata names as Blob Storage does (case-insensitively), values exactly', () => {
    expect(planRestore(viewWith({SequenceNumber: '9', Offset: '90'}), [entry({outcome: 'written'})])[0]!.action.kind).to.equal(
      'set-metadata',
    )
    expect(planRestore(viewWith({sequencenumber: '9', offset: '090'}), [entry({outcome: 'written'})])[0]!.heldBack?.status).to.equal(
      'conflict',
    )
  })

  it('leaves alone a blob written since, and one the change did not write', () => {
    const [since] = planRestore(viewWith(OTHER), [entry({outcome: 'written'})])
    expect(since!.action.kind).to.equal('none')
    expect(since!.heldBack).to.deep.equal({status: 'conflict', reason: 'changed since the change wrote it: left alone'})
    const [notWritten] = planRestore(viewWith(OTHER), [entry({outcome: 'not-written'})])
    expect(notWritten!.heldBack?.status).to.equal('unchanged')
    // Even when the blob happens to hold the change's value (another writer set the same): not ehcp's write.
    const [same] = planRestore(viewWith(NEW), [entry({outcome: 'not-written'})])
    expect(same!.action.kind).to.equal('none')
  })

  it('a killed run (no outcome): restores what holds the new value, leaves what holds a third', () => {
    expect(planRestore(viewWith(NEW), [entry({})])[0]!.action.kind).to.equal('set-metadata')
    const [untouched] = planRestore(viewWith(OLD), [entry({})])
    expect([untouched!.action.kind, untouched!.heldBack]).to.deep.equal(['none', undefined])
    expect(planRestore(viewWith(OTHER), [entry({})])[0]!.heldBack?.status).to.equal('conflict')
  })

  it('a created blob is deleted again; a deleted one comes back only if still absent', () => {
    expect(planRestore(viewWith(NEW), [entry({metadata: null, outcome: 'written'})])[0]!.action).to.deep.equal({kind: 'delete'})
    const [back] = planRestore(viewWith(null), [entry({written: null, outcome: 'written'})])
    expect(back!.action).to.deep.equal({kind: 'set-metadata', metadata: OLD})
    expect(back!.target.etag).to.equal(null)
    expect(planRestore(viewWith(OTHER), [entry({written: null, outcome: 'written'})])[0]!.heldBack?.status).to.equal('conflict')
  })

  it('schema 1 (no written): restores whatever the blob holds now', () => {
    expect(planRestore(viewWith(OTHER), [{partitionId: '0', blobName: CP, metadata: OLD}])[0]!.action).to.deep.equal({
      kind: 'set-metadata',
      metadata: OLD,
    })
  })

  it('property: it writes only when the blob holds the written state, and then writes exactly the old state', () => {
    const meta = fc.option(fc.constantFrom(OLD, NEW, OTHER), {nil: null})
    fc.assert(
      fc.property(
        meta,
        meta,
        meta,
        fc.constantFrom<RestoreEntry['outcome']>('written', 'not-written', 'unknown', undefined),
        (before, written, now, outcome) => {
          const [item] = planRestore(viewWith(now), [entry({metadata: before, written, ...(outcome ? {outcome} : {})})])
          const same = (a: Record<string, string> | null, b: Record<string, string> | null) => JSON.stringify(a) === JSON.stringify(b)
          if (item!.action.kind !== 'none') {
            expect(same(now, written), 'writes only over what the change wrote').to.equal(true)
            expect(outcome).not.to.equal('not-written')
            expect(item!.action.kind === 'delete' ? null : (item!.action as {metadata: Record<string, string>}).metadata).to.deep.equal(
              before,
            )
          } else {
            // Left alone: either already as before, or not the change's to undo.
            expect(same(now, before) || item!.heldBack !== undefined).to.equal(true)
          }
        },
      ),
      {seed: 10, numRuns: 300},
    )
  })
})
