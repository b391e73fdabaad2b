/**
 * The codec at its edges (the common cases are in codec.test.ts): odd blob names, sequence numbers at and
 * past their limits, keys that differ only in case, encode/decode round trips, the owner's expiry to the
 * millisecond, and the order of partition ids.
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {
  comparePartitionIds,
  decodeCheckpoint,
  decodeOwnership,
  encodeCheckpoint,
  encodeOwnership,
  foreignKeys,
  OFFSET,
  OWNED_CHECKPOINT_KEYS,
  ownerState,
  parseBlobName,
} from '../../src/store/codec.js'

const codes = (ps: {code: string}[]) => ps.map((p) => p.code).sort()

describe('codec edges: blob names', () => {
  it('refuses names with a leading, trailing or doubled slash, and empty ones', () => {
    for (const name of [
      '/ns/hub/cg/checkpoint/0',
      'ns/hub/cg/checkpoint/0/',
      'ns/hub/cg//0',
      'ns/hub//checkpoint/0',
      '',
      '////',
      'ns/hub/cg/checkpoint',
    ]) {
      expect(parseBlobName(name), JSON.stringify(name)).to.equal(null)
    }
  })

  it('accepts the kind segment in any case, answering it lower-case, and keeps every other segment as stored', () => {
    expect(parseBlobName('NS/Hub/$Default/CHECKPOINT/0')).to.deep.equal({
      namespace: 'NS',
      eventHub: 'Hub',
      consumerGroup: '$Default',
      kind: 'checkpoint',
      partitionId: '0',
    })
    expect(parseBlobName('ns/hub/cg/OwnerShip/12')?.kind).to.equal('ownership')
    expect(parseBlobName('ns/hub/cg/checkpoint /0')).to.equal(null)
    expect(parseBlobName('ns/hub/cg/ownerships/0')).to.equal(null)
  })

  it('keeps unicode in the namespace, hub and group as stored', () => {
    expect(parseBlobName('ñs.example/ハブ/グループ/checkpoint/3')).to.deep.equal({
      namespace: 'ñs.example',
      eventHub: 'ハブ',
      consumerGroup: 'グループ',
      kind: 'checkpoint',
      partitionId: '3',
    })
  })

  it('a partition id is 1 to 64 ASCII letters, digits, "-" or "_": no other digits, dots or spaces', () => {
    expect(parseBlobName(`ns/hub/cg/checkpoint/${'a'.repeat(64)}`)?.partitionId).to.have.length(64)
    expect(parseBlobName('ns/hub/cg/checkpoint/Part_1-b')?.partitionId).to.equal('Part_1-b')
    for (const id of ['a'.repeat(65), '０', '٣', '1.json', ' 0', '0 ', 'é']) {
      expect(parseBlobName(`ns/hub/cg/checkpoint/${id}`), id).to.equal(null)
    }
  })
})

describe('codec edges: sequence numbers', () => {
  it('a missing or blank sequence number is absent, with the offset still read', () => {
    const missing = decodeCheckpoint({offset: '5'})
    expect([missing.sequenceNumber, missing.offset]).to.deep.equal([null, '5'])
    expect(codes(missing.problems)).to.deep.equal(['missing-sequence-number'])
    expect(missing.problems[0]!.message).to.match(/^no sequencenumber key/)
    const blank = decodeCheckpoint({sequencenumber: '   ', offset: '5'})
    expect(blank.sequenceNumber).to.equal(null)
    expect(codes(blank.problems)).to.deep.equal(['missing-sequence-number'])
    expect(blank.problems[0]!.message).to.match(/^sequencenumber is empty/)
  })

  it('reads decimal integers, leading zeros and surrounding spaces tolerated', () => {
    expect(decodeCheckpoint({sequencenumber: '007', offset: '1'}).sequenceNumber).to.equal(7)
    expect(decodeCheckpoint({sequencenumber: ' 42 ', offset: '1'}).sequenceNumber).to.equal(42)
    expect(decodeCheckpoint({sequencenumber: '0', offset: '1'})).to.deep.equal({sequenceNumber: 0, offset: '1', problems: []})
  })

  it('refuses what is not a decimal integer, as a problem', () => {
    for (const raw of ['1.5', '1e3', '0x10', '+5', '5 5', 'NaN', 'Infinity', '--1', '1_000', '٣']) {
      const c = decodeCheckpoint({sequencenumber: raw, offset: '1'})
      expect(c.sequenceNumber, raw).to.equal(null)
      expect(codes(c.problems), raw).to.deep.equal(['invalid-sequence-number'])
      expect(c.problems[0]!.message, raw).to.contain('is not a decimal integer')
    }
  })

  it('accepts -1 up to 2^53-1; below -1 or past it is out of range', () => {
    expect(decodeCheckpoint({sequencenumber: '-1', offset: '-1'}).problems).to.deep.equal([])
    expect(decodeCheckpoint({sequencenumber: String(Number.MAX_SAFE_INTEGER), offset: '1'}).sequenceNumber).to.equal(
      Number.MAX_SAFE_INTEGER,
    )
    for (const raw of ['-2', '-9223372036854775808', String(Number.MAX_SAFE_INTEGER + 1), '9223372036854775807', '9'.repeat(20)]) {
      const c = decodeCheckpoint({sequencenumber: raw, offset: '1'})
      expect(c.sequenceNumber, raw).to.equal(null)
      expect(
        c.problems.map((p) => [p.code, p.message]),
        raw,
      ).to.deep.equal([['invalid-sequence-number', `sequencenumber ${raw} is out of range`]])
    }
    // More digits than any 64-bit number has: not even read as a number.
    expect(decodeCheckpoint({sequencenumber: '9'.repeat(21), offset: '1'}).problems[0]!.message).to.contain('is not a decimal integer')
  })

  it('with neither half of the pair: unusable', () => {
    expect(codes(decodeCheckpoint({sequencenumber: 'x', offset: 'No Offset'}).problems)).to.deep.equal([
      'invalid-sequence-number',
      'missing-offset',
      'unusable-checkpoint',
    ])
  })
})

describe('codec edges: offsets', () => {
  it('OFFSET: 1 to 1024 printable ASCII characters without spaces', () => {
    for (const ok of ['-1', '0', '~', '!'.repeat(1024), '1:200:abc', '@latest']) expect(OFFSET.test(ok), ok).to.equal(true)
    for (const bad of ['', ' ', 'a b', ' 1', '1 ', '\t1', '!'.repeat(1025), 'é', '\x7f', '1\n'])
      expect(OFFSET.test(bad), JSON.stringify(bad)).to.equal(false)
  })

  it('a stored offset is opaque: read as stored even where OFFSET would refuse it as input', () => {
    for (const stored of ['a b', 'é', '!'.repeat(2000)]) {
      const c = decodeCheckpoint({sequencenumber: '1', offset: stored})
      expect(c.offset).to.equal(stored)
      expect(c.problems).to.deep.equal([])
    }
  })
})

describe('codec edges: keys that differ only in case', () => {
  it('agreeing duplicates beside the lower-case key read quietly', () => {
    expect(decodeCheckpoint({sequencenumber: '5', SequenceNumber: '5', offset: '1'})).to.deep.equal({
      sequenceNumber: 5,
      offset: '1',
      problems: [],
    })
  })

  it('disagreeing duplicates are a problem; the lower-case key wins, or else the first stored', () => {
    const lower = decodeCheckpoint({SequenceNumber: '6', sequencenumber: '5', offset: '1'})
    expect(lower.sequenceNumber).to.equal(5)
    expect(lower.problems.map((p) => p.code)).to.deep.equal(['metadata-key-case'])
    expect(lower.problems[0]!.message).to.equal('metadata keys "SequenceNumber", "sequencenumber" differ only in case and disagree')
    const first = decodeCheckpoint({SequenceNumber: '6', SEQUENCENUMBER: '7', offset: '1'})
    expect(first.sequenceNumber).to.equal(6)
    expect(first.problems[0]!.message).to.contain('differ only in case and disagree')
  })

  it('agreeing duplicates with no lower-case key: the JS and Python stores see neither', () => {
    const c = decodeCheckpoint({sequencenumber: '1', OFFSET: '9', Offset: '9'})
    expect(c.offset).to.equal('9')
    expect(c.problems.map((p) => p.message)).to.deep.equal([
      'metadata key "OFFSET" is not lower-case: the JS and Python checkpoint stores look for "offset" and do not see it',
    ])
  })

  it('the same for the owner id', () => {
    const o = decodeOwnership({OwnerId: 'b', ownerid: 'a'})
    expect(o.ownerId).to.equal('a')
    expect(codes(o.problems)).to.deep.equal(['metadata-key-case'])
  })

  it('a rewrite drops every spelling of the keys it owns and writes them once, lower-case', () => {
    expect(
      encodeCheckpoint(
        {SequenceNumber: '6', SEQUENCENUMBER: '7', sequencenumber: '5', OFFSET: 'x', Extra: 'e'},
        {sequenceNumber: 1, offset: '10'},
      ),
    ).to.deep.equal({Extra: 'e', sequencenumber: '1', offset: '10'})
    expect(encodeOwnership({OwnerId: 'b', OWNERID: 'c', clientidentifier: 'h'}, 'new')).to.deep.equal({
      clientidentifier: 'h',
      ownerid: 'new',
    })
    expect(foreignKeys({a: '1', SequenceNumber: '2', Offset: '3', ownerid: '4'}, OWNED_CHECKPOINT_KEYS)).to.deep.equal({
      a: '1',
      ownerid: '4',
    })
  })
})

describe('property: encode then decode', () => {
  const printable = fc.string({unit: fc.integer({min: 0x21, max: 0x7e}).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 30})
  const offset = fc.oneof(printable, fc.constantFrom('-1', '@latest', '1:200:abc'))
  const position = fc.record({
    sequenceNumber: fc.oneof(fc.integer({min: -1, max: 1000}), fc.constant(Number.MAX_SAFE_INTEGER), fc.maxSafeNat()),
    offset,
  })
  const name = fc.string({unit: fc.constantFrom(...'abcXYZ_019'), minLength: 1, maxLength: 12}).filter((k) => /^[A-Za-z_]/.test(k))
  const foreign = fc.dictionary(
    name.filter((k) => !['sequencenumber', 'offset', 'ownerid'].includes(k.toLowerCase())),
    fc.string({maxLength: 10}),
    {maxKeys: 4},
  )
  /** Earlier spellings of the owned keys, with anything in them. */
  const owned = fc.dictionary(
    fc.constantFrom('sequencenumber', 'SequenceNumber', 'SEQUENCENUMBER', 'offset', 'Offset', 'ownerid', 'OwnerId'),
    fc.string({maxLength: 10}),
    {maxKeys: 4},
  )

  it('a checkpoint reads back as written, with no problems and every foreign key as it was', () => {
    fc.assert(
      fc.property(foreign, owned, position, (keep, old, pos) => {
        const written = encodeCheckpoint({...keep, ...old}, pos)
        expect(decodeCheckpoint(written)).to.deep.equal({...pos, problems: []})
        const ownerKeys = Object.fromEntries(Object.entries(old).filter(([k]) => k.toLowerCase() === 'ownerid'))
        expect(written).to.deep.equal({...keep, ...ownerKeys, sequencenumber: String(pos.sequenceNumber), offset: pos.offset})
      }),
      {seed: 21, numRuns: 200},
    )
  })

  it('an ownership reads back as written, released or owned', () => {
    fc.assert(
      fc.property(foreign, owned, fc.oneof(fc.constant(''), fc.uuid(), fc.string({maxLength: 20})), (keep, old, ownerId) => {
        const written = encodeOwnership({...keep, ...old}, ownerId)
        expect(decodeOwnership(written)).to.deep.equal({ownerId, problems: []})
        expect(Object.keys(written).filter((k) => k.toLowerCase() === 'ownerid')).to.deep.equal(['ownerid'])
      }),
      {seed: 22, numRuns: 200},
    )
  })
})

describe('codec edges: owner state at the expiry', () => {
  const now = 1_700_000_000_000
  const expiry = 120_000

  it('active until the last millisecond before the expiry; expired exactly at it', () => {
    expect(ownerState('p', now - (expiry - 1), now, expiry)).to.equal('active')
    expect(ownerState('p', now - expiry, now, expiry)).to.equal('expired')
    expect(ownerState('p', now - expiry - 1, now, expiry)).to.equal('expired')
  })

  it('a heartbeat ahead of the service clock (skew) is active; a zero expiry makes every owner expired', () => {
    expect(ownerState('p', now + 5_000, now, expiry)).to.equal('active')
    expect(ownerState('p', now, now, 0)).to.equal('expired')
  })

  it('released and absent do not depend on age', () => {
    for (const age of [0, expiry - 1, expiry, 10 * expiry]) {
      expect(ownerState('', now - age, now, expiry)).to.equal('released')
      expect(ownerState(null, now - age, now, expiry)).to.equal('released')
      expect(ownerState(undefined, now - age, now, expiry)).to.equal('none')
    }
  })

  it('property: active exactly when the heartbeat is younger than the expiry', () => {
    fc.assert(
      fc.property(fc.integer({min: -10_000, max: 1_000_000}), fc.integer({min: 0, max: 600_000}), (age, exp) => {
        expect(ownerState('p', now - age, now, exp)).to.equal(age < exp ? 'active' : 'expired')
      }),
      {seed: 23, numRuns: 200},
    )
  })
})

describe('codec edges: partition id order', () => {
  it('numbers by value, before any other id; others in code-point order (upper case first)', () => {
    expect(['b', '100', 'B', '9', '0a', '-1', '10', 'a_1', 'a-1', '1023'].sort(comparePartitionIds)).to.deep.equal([
      '9',
      '10',
      '100',
      '1023',
      '-1',
      '0a',
      'B',
      'a-1',
      'a_1',
      'b',
    ])
  })

  it('ids of the same value compare equal (leading zeros)', () => {
    expect(comparePartitionIds('007', '7')).to.equal(0)
    expect(comparePartitionIds('x', 'x')).to.equal(0)
  })

  it('property: a total order (antisymmetric, transitive), whatever the mix', () => {
    const id = fc.oneof(fc.nat({max: 2000}).map(String), fc.string({unit: fc.constantFrom(...'aAzZ09_-'), minLength: 1, maxLength: 4}))
    const sign = (n: number) => Math.sign(n) || 0
    fc.assert(
      fc.property(id, id, id, (a, b, c) => {
        expect(sign(comparePartitionIds(a, b))).to.equal(-sign(comparePartitionIds(b, a)) || 0)
        if (comparePartitionIds(a, b) <= 0 && comparePartitionIds(b, c) <= 0) expect(comparePartitionIds(a, c)).to.be.at.most(0)
      }),
      {seed: 24, numRuns: 300},
    )
  })
})
