/**
 * The report of a change (planResult, pure) is the JSON output of set, reset and release-ownership: its keys
 * come in the contract's order whichever planner made the plan, and carry nothing of the plan's own workings.
 */
import {expect} from 'chai'

import {planResult} from '../../src/change/execute.js'
import {type ChangePlan, planDeletes, planPositions, planReleases, planRestore} from '../../src/change/plan.js'
import type {StoredBlob} from '../../src/store/blob-rest.js'
import {buildGroupView} from '../../src/store/group.js'
import {toRecord} from '../../src/store/store.js'

const NOW = Date.parse('2026-11-26T12:00:00Z')
const ref = {namespace: 'ns', eventHub: 'hub', consumerGroup: '$default', prefixes: ['ns/hub/$default/']}
const blobs: StoredBlob[] = [
  {name: 'ns/hub/$default/checkpoint/0', etag: '0x1', lastModified: new Date(NOW - 1000), metadata: {sequencenumber: '5', offset: '50'}},
  {name: 'ns/hub/$default/ownership/0', etag: '0x2', lastModified: new Date(NOW - 1000), metadata: {ownerid: 'p1'}},
]
const view = buildGroupView(
  ref,
  blobs.map((b) => toRecord(b, NOW, 120_000)),
  NOW,
  120_000,
)

const ROW_KEYS = ['partitionId', 'blobName', 'action', 'before', 'after', 'delta', 'ownerState', 'ownerId', 'warnings', 'status', 'reason']
const RESULT_KEYS = [
  'schemaVersion',
  'operation',
  'scenario',
  'container',
  'namespace',
  'eventHub',
  'consumerGroup',
  'dryRun',
  'executed',
  'backupFile',
  'undoCommand',
  'notes',
  'partitions',
]

function planOf(items: ChangePlan['items']): ChangePlan {
  // The plan's own keys in another order than the report's: the report's order must not depend on it.
  return {
    items,
    notes: ['a note'],
    guarded: true,
    prefixes: ref.prefixes,
    consumerGroup: '$default',
    eventHub: 'hub',
    namespace: 'ns',
    container: 'c',
    scenario: 's',
    operation: 'reset',
  }
}

describe('the report of a change (planResult)', () => {
  const planners = {
    positions: planPositions(view, [{partitionId: '0', position: {sequenceNumber: 9, offset: '90'}}]),
    deletes: planDeletes(view, undefined),
    releases: planReleases(view, undefined, undefined),
    restore: planRestore(view, [
      {
        partitionId: '0',
        blobName: blobs[0]!.name,
        metadata: {sequencenumber: '1', offset: '10'},
        written: {sequencenumber: '7', offset: '70'},
        outcome: 'written',
      },
    ]),
  }

  for (const [name, items] of Object.entries(planners)) {
    it(`gives every row of a ${name} plan the report's keys, in the report's order`, () => {
      const result = planResult(planOf(items), false)
      expect(Object.keys(result)).to.deep.equal(RESULT_KEYS)
      expect(result.partitions).to.have.length(1)
      expect(Object.keys(result.partitions[0]!)).to.deep.equal(ROW_KEYS)
      expect(JSON.stringify(result)).not.to.match(/"target"|"heldBack"|"prefixes"|"guarded"|"items"/)
    })
  }

  it('reports a held-back undo entry with its status and reason, and a change as planned', () => {
    const held = planRestore(view, [
      {
        partitionId: '0',
        blobName: blobs[0]!.name,
        metadata: {sequencenumber: '1', offset: '10'},
        written: {sequencenumber: '7', offset: '70'},
        outcome: 'written',
      },
    ])
    const [row] = planResult(planOf(held), true).partitions
    expect(row).to.include({status: 'conflict', action: 'none', blobName: blobs[0]!.name})
    expect(row!.reason).to.match(/changed since/)
    const [set] = planResult(planOf(planners.positions), true).partitions
    expect(set).to.include({status: 'planned', action: 'set-position', reason: null, delta: -4})
  })
})
