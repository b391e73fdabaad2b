import {expect} from 'chai'

import {
  comparePartitionIds,
  decodeCheckpoint,
  decodeOwnership,
  encodeCheckpoint,
  encodeOwnership,
  newBlobName,
  ownerState,
  parseBlobName,
  readersOf,
} from '../../src/store/codec.js'

const codes = (ps: {code: string}[]) => ps.map((p) => p.code).sort()

describe('codec: blob names', () => {
  it('parses the modern layout and keeps stored spelling', () => {
    expect(parseBlobName('Contoso.servicebus.windows.net/Orders/$Default/checkpoint/0')).to.deep.equal({
      namespace: 'Contoso.servicebus.windows.net',
      eventHub: 'Orders',
      consumerGroup: '$Default',
      kind: 'checkpoint',
      partitionId: '0',
    })
  })

  it('matches the checkpoint/ownership segment case-insensitively', () => {
    expect(parseBlobName('ns/hub/cg/Ownership/3')?.kind).to.equal('ownership')
  })

  it('rejects every other shape', () => {
    for (const name of [
      'ns/hub/cg/checkpoint/0/extra',
      'ns/hub/cg/checkpoints/0',
      'ns/hub/cg/checkpoint/',
      'ns/hub/cg/checkpoint/backup.json',
      'readme.txt',
      'ns//cg/checkpoint/0',
      'azure-webjobs-eventhub/ns/hub/cg/0',
    ]) {
      expect(parseBlobName(name), name).to.equal(null)
    }
  })

  it('names new blobs lower-cased (ns, hub, group) with the partition as given', () => {
    expect(newBlobName({namespace: 'NS.Example', eventHub: 'Orders', consumerGroup: '$Default'}, 'checkpoint', '7')).to.equal(
      'ns.example/orders/$default/checkpoint/7',
    )
  })

  it('says which SDK families read a spelling', () => {
    expect(readersOf(parseBlobName('ns/hub/$default/checkpoint/0')!)).to.match(/JS, \.NET, Python and Go/)
    expect(readersOf(parseBlobName('ns/hub/$Default/checkpoint/0')!)).to.match(/Java and Rust/)
  })

  it('orders numeric partition ids numerically', () => {
    expect(['10', '2', 'a', '0', '1'].sort(comparePartitionIds)).to.deep.equal(['0', '1', '2', '10', 'a'])
  })
})

describe('codec: checkpoint metadata', () => {
  it('reads a JS/Python/Go checkpoint', () => {
    const c = decodeCheckpoint({sequencenumber: '42', offset: '4096'})
    expect(c).to.deep.equal({sequenceNumber: 42, offset: '4096', problems: []})
  })

  it('keeps offsets opaque (geo-replicated offsets are not numbers)', () => {
    expect(decodeCheckpoint({sequencenumber: '5', offset: '1:200:abc'}).offset).to.equal('1:200:abc')
  })

  it('treats .NET empty sequencenumber as absent and flags it', () => {
    const c = decodeCheckpoint({sequencenumber: '', offset: '4096', clientidentifier: 'host'})
    expect(c.sequenceNumber).to.equal(null)
    expect(c.offset).to.equal('4096')
    expect(codes(c.problems)).to.deep.equal(['missing-sequence-number'])
  })

  it('treats "" and "no offset" (any case) as an absent offset', () => {
    for (const offset of ['', 'no offset', 'No Offset']) {
      const c = decodeCheckpoint({sequencenumber: '9', offset})
      expect(c.offset, offset).to.equal(null)
      expect(c.sequenceNumber).to.equal(9)
      expect(codes(c.problems)).to.deep.equal(['missing-offset'])
    }
  })

  it("reads Java 1.0.x mixed-case keys and flags them (JS and Python don't see them)", () => {
    const c = decodeCheckpoint({SequenceNumber: '11', Offset: '880'})
    expect(c.sequenceNumber).to.equal(11)
    expect(c.offset).to.equal('880')
    expect(codes(c.problems)).to.deep.equal(['metadata-key-case', 'metadata-key-case'])
  })

  it('reports, never throws, on garbage', () => {
    const bad = decodeCheckpoint({sequencenumber: 'abc', offset: ''})
    expect(bad.sequenceNumber).to.equal(null)
    expect(codes(bad.problems)).to.deep.equal(['invalid-sequence-number', 'missing-offset', 'unusable-checkpoint'])
    expect(codes(decodeCheckpoint({}).problems)).to.include('unusable-checkpoint')
    expect(decodeCheckpoint({sequencenumber: '99999999999999999999', offset: '1'}).sequenceNumber).to.equal(null)
  })

  it('accepts -1 (before the first event when the partition begins at 0)', () => {
    expect(decodeCheckpoint({sequencenumber: '-1', offset: '-1'}).sequenceNumber).to.equal(-1)
  })
})

describe('codec: ownership', () => {
  it('distinguishes owner, released and absent key (Rust omits ownerid)', () => {
    expect(decodeOwnership({ownerid: 'a'})).to.deep.equal({ownerId: 'a', problems: []})
    expect(decodeOwnership({ownerid: ''}).ownerId).to.equal('')
    const rust = decodeOwnership({})
    expect(rust.ownerId).to.equal(null)
    expect(codes(rust.problems)).to.deep.equal(['missing-owner-id'])
    expect(decodeOwnership({OwnerId: 'j'}).ownerId).to.equal('j')
  })

  it('derives the owner state from the heartbeat age and the expiry', () => {
    const now = 1_000_000
    expect(ownerState('a', now - 119_000, now, 120_000)).to.equal('active')
    expect(ownerState('a', now - 120_000, now, 120_000)).to.equal('expired')
    expect(ownerState('', now, now, 120_000)).to.equal('released')
    expect(ownerState(null, now, now, 120_000)).to.equal('released')
    expect(ownerState(undefined, now, now, 120_000)).to.equal('none')
  })
})

describe('codec: writes', () => {
  it('keeps keys the tool does not own and writes its own lower-case', () => {
    const before = {clientidentifier: 'host-a', Offset: '1', SequenceNumber: '1', custom: 'x'}
    expect(encodeCheckpoint(before, {sequenceNumber: 7, offset: '700'})).to.deep.equal({
      clientidentifier: 'host-a',
      custom: 'x',
      sequencenumber: '7',
      offset: '700',
    })
  })

  it('releases ownership with ownerid "" and keeps other keys', () => {
    expect(encodeOwnership({OwnerId: 'x', other: 'y'}, '')).to.deep.equal({other: 'y', ownerid: ''})
  })
})
