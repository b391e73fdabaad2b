/**
 * Planning changes to legacy lease blobs (pure): a position change is the body with only its position
 * fields changed, under the ETag read; a leased blob is an active owner whose lease only --force breaks;
 * an undo restores the whole body only where the blob still holds what the change left; release breaks
 * leases; a backup names its blobs and bodies, and a malformed one is a usage error.
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {legacyChangePlan, legacySide, planLegacyPositions, planLegacyReleases, planLegacyRestore} from '../../src/change/legacy-plan.js'
import {parsePlanFile} from '../../src/change/plan-file.js'
import type {PlanItem, RestoreEntry} from '../../src/change/plan.js'
import {EhcpError} from '../../src/errors.js'
import type {LeaseState} from '../../src/store/blob-rest.js'
import {decodeLegacyBody, encodeLegacyPosition, LAYOUT_DIALECTS, type LegacyLayout} from '../../src/store/layouts.js'
import type {LegacyGroupView, LegacyPartitionView} from '../../src/store/legacy-group.js'

const dotnet = (pid: string, offset: string | null, seq: number, owner = '', epoch = 0) =>
  `{"Offset":${offset === null ? 'null' : `"${offset}"`},"SequenceNumber":${seq},"PartitionId":"${pid}","Owner":"${owner}","Token":"","Epoch":${epoch}}`

interface Part {
  pid: string
  body: string
  lease?: LeaseState
  metadata?: Record<string, string>
  etag?: string
}

/** A partition as readLegacyGroup shows it (the decoding is the store's own). */
function partition(layout: LegacyLayout, prefix: string, p: Part): LegacyPartitionView {
  const read = decodeLegacyBody(p.body, LAYOUT_DIALECTS[layout])
  const record = read.ok ? read.record : null
  const metadata = p.metadata ?? {}
  const owningHost = Object.entries(metadata).find(([k]) => k.toLowerCase() === 'owninghost')?.[1] ?? null
  const position = record?.position ?? {kind: 'none'}
  const etag = p.etag ?? `"0x${p.pid}"`
  const blobName = `${prefix}${p.pid}`
  const owner = owningHost ?? record?.owner ?? null
  return {
    partitionId: p.pid,
    checkpoint:
      position.kind === 'position'
        ? {sequenceNumber: position.sequenceNumber, offset: position.offset, lastModified: '', etag, blobName, metadata}
        : null,
    ownership: {
      ownerId: owner,
      state: p.lease === 'leased' ? 'active' : owner === null ? 'none' : owner === '' ? 'released' : 'expired',
      lastModified: '',
      etag,
      blobName,
      metadata,
    },
    problems: [],
    legacy: {
      dialect: record?.dialect ?? null,
      leaseState: p.lease ?? 'available',
      owningHost,
      epoch: record?.epoch ?? null,
      position:
        position.kind === 'position'
          ? 'checkpoint'
          : position.kind === 'sentinel'
            ? position.sentinel
            : (position.kind as 'none' | 'after-time'),
      enqueuedTime: null,
      body: p.body,
    },
  }
}

function viewOf(layout: LegacyLayout, prefix: string, parts: Part[]): LegacyGroupView {
  return {
    schemaVersion: 1,
    namespace: null,
    eventHub: null,
    consumerGroup: layout === 'eph' ? prefix.slice(0, -1) : null,
    layout,
    blobPrefix: prefix,
    observedAt: '',
    ownershipExpirySeconds: 120,
    partitions: parts.map((p) => partition(layout, prefix, p)),
    problems: [],
  }
}

const EPH = () =>
  viewOf('eph', '$Default/', [
    {pid: '0', body: dotnet('0', '8591964920', 960180, 'host-a', 386), lease: 'leased', metadata: {OWNINGHOST: 'host-a'}},
    {pid: '1', body: dotnet('1', '4096', 77, '', 12)},
    {pid: '2', body: dotnet('2', null, 0)},
  ])

const bodyAction = (item: PlanItem) => {
  expect(item.action.kind).to.equal('write-body')
  return item.action as Extract<PlanItem['action'], {kind: 'write-body'}>
}

describe('legacy change planning', () => {
  describe('positions', () => {
    it('rewrites only the position fields, under the ETag read, with the metadata as read', () => {
      const view = EPH()
      const [item] = planLegacyPositions(view, [{partitionId: '1', position: {sequenceNumber: 99, offset: '5000'}}], {force: false})
      const action = bodyAction(item!)
      expect(action.body).to.equal(dotnet('1', '5000', 99, '', 12))
      expect(action.breakLease).to.equal(false)
      expect(item!.target).to.deep.equal({blobName: '$Default/1', etag: '"0x1"', metadata: {}, body: dotnet('1', '4096', 77, '', 12)})
      expect([item!.before, item!.after, item!.delta, item!.ownerState]).to.deep.equal([
        {sequenceNumber: 77, offset: '4096'},
        {sequenceNumber: 99, offset: '5000'},
        -22,
        'released',
      ])
    })

    it('a leased blob is an active owner: planned without a break unless forced, and then with one (said)', () => {
      const target = [{partitionId: '0', position: {sequenceNumber: 5, offset: '500'}}]
      const [guarded] = planLegacyPositions(EPH(), target, {force: false})
      expect([guarded!.ownerState, guarded!.ownerId, bodyAction(guarded!).breakLease]).to.deep.equal(['active', 'host-a', false])
      expect(guarded!.warnings).to.deep.equal([])
      const [forced] = planLegacyPositions(EPH(), target, {force: true})
      expect(bodyAction(forced!).breakLease).to.equal(true)
      expect(bodyAction(forced!).metadata).to.deep.equal({OWNINGHOST: 'host-a'})
      expect(forced!.warnings.join(' ')).to.match(/held by host-a is broken before writing.*re-reads the blob/)
      const plan = legacyChangePlan(EPH(), 'c', {operation: 'set', scenario: 'position', guarded: true, items: [forced!]})
      expect(plan.notes.join(' ')).to.match(/re-reads the blob/)
      expect([plan.namespace, plan.eventHub, plan.consumerGroup, plan.legacy]).to.deep.equal([
        '',
        '',
        '$Default',
        {layout: 'eph', blobPrefix: '$Default/'},
      ])
    })

    it('leaves alone the same position, a missing lease blob and a body no writer of the layout wrote', () => {
      const view = viewOf('eph', 'g/', [
        {pid: '0', body: dotnet('0', '10', 1)},
        {pid: '1', body: '{"partitionID":"1","checkpoint":null}'},
      ])
      const items = planLegacyPositions(
        view,
        [
          {partitionId: '0', position: {sequenceNumber: 1, offset: '10'}},
          {partitionId: '1', position: {sequenceNumber: 1, offset: '10'}},
          {partitionId: '7', position: {sequenceNumber: 1, offset: '10'}},
          {partitionId: '0', position: null, warnings: ['no checkpoint to shift from']},
        ],
        {force: true},
      )
      expect(items.map((i) => i.action.kind)).to.deep.equal(['none', 'none', 'none', 'none'])
      expect(items[1]!.warnings.join(' ')).to.match(/not one the eph layout's writers write/)
      expect(items[2]!.warnings.join(' ')).to.match(/no lease blob/)
      expect(items[3]!.warnings).to.deep.equal(['no checkpoint to shift from'])
    })

    it("replaces a Go sentinel with a position, and says so; the sentinel's before has no sequence number", () => {
      const go =
        '{"partitionID":"0","epoch":3,"owner":"name","checkpoint":{"offset":"@latest","sequenceNumber":0,"enqueueTime":"0001-01-01T00:00:00Z"},"state":"","token":""}'
      const view = viewOf('go', '', [{pid: '0', body: go}])
      const [item] = planLegacyPositions(view, [{partitionId: '0', position: {sequenceNumber: 3, offset: '30'}}], {force: false})
      expect([item!.before, item!.delta]).to.deep.equal([{sequenceNumber: null, offset: '@latest'}, null])
      expect(item!.warnings.join(' ')).to.match(/end-of-stream sentinel/)
      expect(bodyAction(item!).body).to.equal(go.replace('"offset":"@latest","sequenceNumber":0', '"offset":"30","sequenceNumber":3'))
    })

    it('for any target, the new body differs from the old one only in the position fields (property)', () => {
      fc.assert(
        fc.property(
          fc.integer({min: -1, max: Number.MAX_SAFE_INTEGER}),
          fc.stringMatching(/^[0-9]{1,19}$/),
          fc.constantFrom(...EPH().partitions.map((p) => p.partitionId)),
          fc.boolean(),
          (seq, offset, pid, force) => {
            const view = EPH()
            const [item] = planLegacyPositions(view, [{partitionId: pid, position: {sequenceNumber: seq, offset}}], {force})
            if (item!.action.kind === 'none') return
            const before = JSON.parse(view.partitions.find((p) => p.partitionId === pid)!.legacy.body) as Record<string, unknown>
            const after = JSON.parse(bodyAction(item!).body) as Record<string, unknown>
            expect(Object.keys(after)).to.deep.equal(Object.keys(before))
            expect({...after, Offset: null, SequenceNumber: null}).to.deep.equal({...before, Offset: null, SequenceNumber: null})
            expect(legacySide(bodyAction(item!).body, 'eph')).to.deep.equal({sequenceNumber: seq, offset})
          },
        ),
      )
    })
  })

  describe('release', () => {
    it('breaks the leases held (of the owner named), and leaves free blobs alone', () => {
      const all = planLegacyReleases(EPH(), undefined, undefined)
      expect(all.map((i) => [i.partitionId, i.action.kind, i.before, i.after])).to.deep.equal([
        ['0', 'break-lease', {ownerId: 'host-a'}, {ownerId: ''}],
        ['1', 'none', {ownerId: ''}, {ownerId: ''}],
        ['2', 'none', {ownerId: ''}, {ownerId: ''}],
      ])
      expect(planLegacyReleases(EPH(), undefined, 'host-a').map((i) => i.partitionId)).to.deep.equal(['0'])
      expect(planLegacyReleases(EPH(), undefined, 'host-z')).to.deep.equal([])
      expect(() => planLegacyReleases(EPH(), ['9'], undefined)).to.throw(EhcpError, /No lease blob for partition 9/)
    })
  })

  describe('restore (the undo)', () => {
    const original = dotnet('1', '4096', 77, '', 12)
    const written = encodeLegacyPosition(original, {sequenceNumber: 99, offset: '5000'})
    const entry = (more: Partial<RestoreEntry> = {}): RestoreEntry => ({
      partitionId: '1',
      blobName: '$Default/1',
      metadata: {},
      written: {},
      body: original,
      writtenBody: written,
      outcome: 'written',
      writtenEtag: '"0xW"',
      ...more,
    })
    const viewWith = (body: string, etag = '"0xW"', lease?: LeaseState) => viewOf('eph', '$Default/', [{pid: '1', body, etag, lease}])

    it('restores the whole body where the blob holds what the change left', () => {
      const [item] = planLegacyRestore(viewWith(written), [entry()], {force: false})
      expect(bodyAction(item!).body).to.equal(original)
      expect(item!.target.etag).to.equal('"0xW"')
      expect([item!.before, item!.after, item!.delta]).to.deep.equal([
        {sequenceNumber: 99, offset: '5000'},
        {sequenceNumber: 77, offset: '4096'},
        22,
      ])
    })

    it('leaves alone what was written since (even the same body under a new ETag), what is already restored, and what is gone', () => {
      const cases: Array<[LegacyGroupView, RestoreEntry, string, string | undefined]> = [
        [viewWith(dotnet('1', '4096', 77, '', 13)), entry(), 'none', 'conflict'],
        [viewWith(written, '"0xLATER"'), entry(), 'none', 'conflict'],
        [viewWith(original, '"0xLATER"'), entry(), 'none', undefined],
        [viewWith(original), entry({outcome: 'not-written'}), 'none', undefined],
        [viewWith(written), entry({outcome: 'not-written'}), 'none', 'unchanged'],
        [viewOf('eph', '$Default/', []), entry(), 'none', 'conflict'],
      ]
      for (const [view, e, kind, held] of cases) {
        const [item] = planLegacyRestore(view, [e], {force: true})
        expect([item!.action.kind, item!.heldBack?.status]).to.deep.equal([kind, held])
      }
    })

    it('breaks a lease held again only when forced', () => {
      const [guarded] = planLegacyRestore(viewWith(written, '"0xW"', 'leased'), [entry()], {force: false})
      expect([guarded!.ownerState, bodyAction(guarded!).breakLease]).to.deep.equal(['active', false])
      const [forced] = planLegacyRestore(viewWith(written, '"0xW"', 'leased'), [entry()], {force: true})
      expect(bodyAction(forced!).breakLease).to.equal(true)
    })
  })

  describe('backup files', () => {
    const original = dotnet('1', '4096', 77, '', 12)
    const backup = (more: Record<string, unknown> = {}, entry: Record<string, unknown> = {}) =>
      JSON.stringify({
        schemaVersion: 2,
        kind: 'ehcp-backup',
        createdAt: '2026-11-26T12:00:00Z',
        container: 'leases',
        namespace: null,
        eventHub: null,
        consumerGroup: '$Default',
        layout: 'eph',
        blobPrefix: '$Default/',
        partitions: [
          {
            partitionId: '1',
            blobName: '$Default/1',
            metadata: {OWNINGHOST: 'h'},
            etag: '"0x1"',
            written: {OWNINGHOST: 'h'},
            body: original,
            writtenBody: encodeLegacyPosition(original, {sequenceNumber: 5, offset: '50'}),
            outcome: 'written',
            ...entry,
          },
        ],
        ...more,
      })

    it('reads a legacy backup: its layout, prefix, names and whole bodies', () => {
      const file = parsePlanFile(backup(), 'b.json')
      expect(file.kind).to.equal('legacy-backup')
      if (file.kind !== 'legacy-backup') return
      expect([file.layout, file.blobPrefix, file.names, file.container]).to.deep.equal([
        'eph',
        '$Default/',
        {consumerGroup: '$Default'},
        'leases',
      ])
      expect(file.entries.map((e) => [e.blobName, e.body, e.metadata])).to.deep.equal([['$Default/1', original, {OWNINGHOST: 'h'}]])
    })

    it('refuses a blob outside the group, a body no writer wrote, an unknown layout', () => {
      const bad: Array<[string, RegExp]> = [
        [backup({}, {blobName: 'other/1'}), /not the eph lease blob of partition 1/],
        [backup({}, {body: '{"hello":1}'}), /partitions\[0\]\.body/],
        [backup({}, {writtenBody: 42}), /partitions\[0\]\.writtenBody: missing or not a string/],
        [backup({layout: 'cobol'}), /layout: "cobol" is not one of/],
        [backup({container: null}), /container/],
      ]
      for (const [text, message] of bad) {
        expect(() => parsePlanFile(text, 'b.json'), String(message)).to.throw(EhcpError, message)
      }
    })

    it('walks its partitions as a modern backup does: a list of objects, no blob twice', () => {
      const twice = JSON.parse(backup()) as {partitions: unknown[]}
      twice.partitions.push(twice.partitions[0])
      const bad: Array<[string, RegExp]> = [
        [backup({partitions: 'all'}), /partitions: not a list/],
        [backup({partitions: [7]}), /partitions\[0\]: not an object/],
        [backup({}, {partitionId: 7}), /partitions\[0\]\.partitionId/],
        [JSON.stringify(twice), /partitions\[1\]: blob "\$Default\/1" appears twice/],
      ]
      for (const [text, message] of bad) {
        expect(() => parsePlanFile(text, 'b.json'), String(message)).to.throw(EhcpError, message)
      }
    })
  })
})
