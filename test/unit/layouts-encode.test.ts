import {expect} from 'chai'
import fc from 'fast-check'

import {decodeLegacyBody, encodeLegacyPosition, type LegacyPositionWrite, rewriteLegacyPosition} from '../../src/store/layouts.js'

const TO: LegacyPositionWrite = {sequenceNumber: 5, offset: '640'}

/** The body rewritten; fails the test when the encoder reports a problem. */
function rewrite(text: string, to: LegacyPositionWrite = TO): string {
  const r = rewriteLegacyPosition(text, to)
  if (!r.ok) expect.fail(`${r.problem.code}: ${r.problem.message}`)
  return r.body
}

/** The problem code the encoder reports (fails when it rewrites instead). */
function refused(text: string): string {
  const r = rewriteLegacyPosition(text, TO)
  if (r.ok) expect.fail(`rewrote ${text} as ${r.body}`)
  return r.problem.code
}

describe('layouts: a position is rewritten in the body text, every other byte kept', () => {
  describe('.NET EventProcessorHost (and Functions v4)', () => {
    it('keeps escapes, \\/ and number forms of the other fields', () => {
      const body =
        '{"Offset":"4096","SequenceNumber":77,"PartitionId":"0","Owner":"h\\u00f4te\\/a","Token":"x\\u0026y","Epoch":1.0,"Extra":1e3,"Big":9007199254740993}'
      expect(rewrite(body)).to.equal(
        '{"Offset":"640","SequenceNumber":5,"PartitionId":"0","Owner":"h\\u00f4te\\/a","Token":"x\\u0026y","Epoch":1.0,"Extra":1e3,"Big":9007199254740993}',
      )
    })

    it('keeps odd whitespace, keys in another order, and replaces a null offset', () => {
      const body = ' {\n  "Epoch" :\t0 ,\r\n  "Offset" : null,\n  "PartitionId": "0",\n  "SequenceNumber" :0\n}\n'
      expect(rewrite(body)).to.equal(' {\n  "Epoch" :\t0 ,\r\n  "Offset" : "640",\n  "PartitionId": "0",\n  "SequenceNumber" :5\n}\n')
    })

    it('touches neither a nested same-named key nor a string holding the key name', () => {
      const body =
        '{"Note":"\\"Offset\\":\\"1\\",\\"SequenceNumber\\":2","Lease":{"Offset":"9","SequenceNumber":9},"List":[{"Offset":"8"}],"Offset":"4096","SequenceNumber":77,"PartitionId":"0","Epoch":3}'
      expect(rewrite(body)).to.equal(body.replace('"Offset":"4096","SequenceNumber":77', '"Offset":"640","SequenceNumber":5'))
    })

    it('matches a key whose name is written with escapes, and keeps its spelling', () => {
      const body = '{"Off\\u0073et":"1","SequenceNumber":1,"PartitionId":"0","Epoch":0}'
      expect(rewrite(body)).to.equal('{"Off\\u0073et":"640","SequenceNumber":5,"PartitionId":"0","Epoch":0}')
    })

    it('refuses a position key written twice, or also in another casing (Newtonsoft reads keys ignoring case)', () => {
      expect(refused('{"Offset":"1","Offset":"2","SequenceNumber":1,"PartitionId":"0","Epoch":0}')).to.equal('duplicate-key')
      expect(refused('{"Offset":"1","SequenceNumber":1,"PartitionId":"0","Epoch":0,"SequenceNumber":2}')).to.equal('duplicate-key')
      expect(refused('{"Offset":"1","offset":"2","SequenceNumber":1,"PartitionId":"0","Epoch":0}')).to.equal('duplicate-key')
      // Only in another casing: Newtonsoft reads it as Offset, ehcp's reader does not; neither is guessed.
      expect(refused('{"offset":"1","SequenceNumber":1,"PartitionId":"0","Epoch":0}')).to.equal('key-casing')
      // A key written twice that is not a position field is not ehcp's business: kept as it is.
      const twice = '{"Offset":"1","SequenceNumber":1,"PartitionId":"0","Owner":"a","Owner":"b","Epoch":0}'
      expect(rewrite(twice)).to.equal(twice.replace('"Offset":"1","SequenceNumber":1', '"Offset":"640","SequenceNumber":5'))
    })

    it('names the duplicated key in the problem', () => {
      const r = rewriteLegacyPosition('{"Offset":"1","Offset":"2","SequenceNumber":1,"PartitionId":"0","Epoch":0}', TO)
      expect(r.ok ? '' : r.problem.message).to.equal(`the body holds "Offset" 2 times: which one its host reads is not ehcp's to guess`)
    })
  })

  describe('Java and JavaScript EventProcessorHost', () => {
    it('adds the offset Gson left out after the last field, with the writer’s separators', () => {
      expect(rewrite('{"sequenceNumber":0,"epoch":-1,"partitionId":"0","owner":""}')).to.equal(
        '{"sequenceNumber":5,"epoch":-1,"partitionId":"0","owner":"","offset":"640"}',
      )
      expect(rewrite('{ "epoch" : -1 , "partitionId" : "0" }')).to.equal(
        '{ "epoch" : -1 , "partitionId" : "0" , "offset" : "640" , "sequenceNumber" : 5 }',
      )
    })

    it('is case-sensitive as Gson and JSON.parse are: another casing is another field', () => {
      const body = '{"partitionId":"1","owner":"h\\/b","Offset":"x","epoch":1528209623048,"sequenceNumber":77,"offset":"4096"}'
      expect(rewrite(body)).to.equal(body.replace('"sequenceNumber":77,"offset":"4096"', '"sequenceNumber":5,"offset":"640"'))
    })
  })

  describe('Python azure-eventhub 1.x', () => {
    it('keeps \\u00f4 escapes (ensure_ascii), its ": " and ", " separators and a nested context with the same keys', () => {
      const body =
        '{"partition_id": "0", "sequence_number": 42, "owner": "h\\u00f4te", "token": "t\\/u", "epoch": 3, "event_processor_context": {"offset": "1", "sequence_number": 2}, "offset": "4096"}'
      expect(rewrite(body)).to.equal(
        body.replace('"sequence_number": 42', '"sequence_number": 5').replace('"offset": "4096"', '"offset": "640"'),
      )
    })

    it('keeps a sequence number past 2^53 in another field and a float epoch', () => {
      const body = '{"partition_id": "0", "sequence_number": 1, "epoch": 3.0, "token": 123456789012345678901234567890, "offset": null}'
      expect(rewrite(body)).to.equal(
        '{"partition_id": "0", "sequence_number": 5, "epoch": 3.0, "token": 123456789012345678901234567890, "offset": "640"}',
      )
    })
  })

  describe('Go azure-event-hubs-go v3 (and Dapr)', () => {
    const go = (checkpoint: string, owner = 'name') =>
      `{"partitionID":"0","epoch":3,"owner":"${owner}","checkpoint":${checkpoint},"state":"leased","token":"a\\u0026b"}`

    it('rewrites only checkpoint.offset and checkpoint.sequenceNumber, keeping \\u0026 (Go escapes & < >) and the enqueue time', () => {
      const body = go('{"offset":"12345","sequenceNumber":678,"enqueueTime":"2023-05-01T10:00:00.123Z"}', 'a\\u003cb\\u003e')
      expect(rewrite(body)).to.equal(go('{"offset":"640","sequenceNumber":5,"enqueueTime":"2023-05-01T10:00:00.123Z"}', 'a\\u003cb\\u003e'))
    })

    it('writes a given enqueue time, and Go’s zero time where the recorded one is not a string', () => {
      expect(rewrite(go('{"offset":"1","sequenceNumber":1,"enqueueTime":"x"}'), {...TO, enqueuedTime: '2024-02-03T04:05:06Z'})).to.equal(
        go('{"offset":"640","sequenceNumber":5,"enqueueTime":"2024-02-03T04:05:06Z"}'),
      )
      expect(rewrite(go('{"offset":"1","sequenceNumber":1,"enqueueTime":null}'))).to.equal(
        go('{"offset":"640","sequenceNumber":5,"enqueueTime":"0001-01-01T00:00:00Z"}'),
      )
      // Absent, it stays absent: Go reads a missing time as its zero time.
      expect(rewrite(go('{"sequenceNumber":1,"offset":"-1"}'))).to.equal(go('{"sequenceNumber":5,"offset":"640"}'))
    })

    it('puts a checkpoint object where the value is null, with the body’s separators', () => {
      expect(rewrite(go('null'))).to.equal(go('{"offset":"640","sequenceNumber":5,"enqueueTime":"0001-01-01T00:00:00Z"}'))
      expect(rewrite('{"partitionID": "0", "checkpoint": null, "owner": ""}')).to.equal(
        '{"partitionID": "0", "checkpoint": {"offset": "640", "sequenceNumber": 5, "enqueueTime": "0001-01-01T00:00:00Z"}, "owner": ""}',
      )
    })

    it('leaves top-level offset/sequenceNumber keys and other objects’ checkpoint keys alone', () => {
      const body =
        '{"offset":"top","sequenceNumber":1,"partitionID":"0","meta":{"checkpoint":{"offset":"9"}},"checkpoint":{"offset":"1","sequenceNumber":1},"state":"checkpoint"}'
      expect(rewrite(body)).to.equal(
        body.replace('"checkpoint":{"offset":"1","sequenceNumber":1}', '"checkpoint":{"offset":"640","sequenceNumber":5}'),
      )
    })

    it('refuses a checkpoint (or its keys) written twice or in two casings, and a checkpoint that is not an object', () => {
      expect(refused('{"partitionID":"0","checkpoint":null,"checkpoint":null}')).to.equal('duplicate-key')
      expect(refused('{"partitionID":"0","checkpoint":null,"Checkpoint":null}')).to.equal('duplicate-key')
      expect(refused(go('{"offset":"1","offset":"2","sequenceNumber":1}'))).to.equal('duplicate-key')
      expect(refused(go('{"offset":"1","SequenceNumber":1,"sequenceNumber":1}'))).to.equal('duplicate-key')
      expect(refused(go('"12345"'))).to.equal('invalid-field')
      expect(refused(go('[1]'))).to.equal('invalid-field')
    })
  })

  it('keeps the byte order mark some .NET writers put before the JSON', () => {
    const body = '\uFEFF{"Offset":"1","SequenceNumber":1,"PartitionId":"0","Epoch":0}'
    expect(rewrite(body)).to.equal('\uFEFF{"Offset":"640","SequenceNumber":5,"PartitionId":"0","Epoch":0}')
  })

  it('refuses what is not a JSON object of a legacy writer', () => {
    for (const text of ['[1]', '"Offset"', 'null', '{"Offset":"1"', '', '{"foo":1}', '{"Offset":"1"} x']) {
      expect(['not-an-object', 'unknown-body'], text).to.include(refused(text))
    }
    expect(() => encodeLegacyPosition('[1]', TO)).to.throw(TypeError, /not a JSON object/)
  })

  it('skips other fields however deeply they nest (no recursion to overflow), brackets inside strings included', () => {
    const deep = `${'['.repeat(20_000)}"]}{"${']'.repeat(20_000)}`
    const body = `{"Extra":${deep},"Offset":"1","SequenceNumber":1,"PartitionId":"0","Epoch":0}`
    expect(rewrite(body)).to.equal(body.replace('"Offset":"1","SequenceNumber":1', '"Offset":"640","SequenceNumber":5'))
  })

  it('reads back what it wrote, and a rewrite to the position already there leaves the bytes as they were', () => {
    const bodies = [
      '{"Offset":"4096","SequenceNumber":77,"PartitionId":"0","Epoch":1.0}',
      '{"sequenceNumber":77,"epoch":-1,"partitionId":"0","offset":"4096"}',
      '{"partition_id": "0", "sequence_number": 77, "owner": "\\u00f4", "offset": "4096"}',
      '{"partitionID":"0","checkpoint":{"offset":"4096","sequenceNumber":77,"enqueueTime":"2023-05-01T10:00:00Z"},"token":"\\u0026"}',
    ]
    for (const body of bodies) {
      const moved = rewrite(body)
      const read = decodeLegacyBody(moved)
      expect(read.ok && read.record.position, moved).to.deep.include({kind: 'position', offset: '640', sequenceNumber: 5})
      expect(rewrite(moved, {sequenceNumber: 77, offset: '4096'}), body).to.equal(body)
    }
  })

  it('property: in any body, only the value tokens of the position keys change', () => {
    const ws = fc.constantFrom('', ' ', '\n  ', '\t', '\r\n')
    const otherKey = fc.string({maxLength: 8}).filter((k) => !/^(offset|sequence_?number|checkpoint|partition_?id|epoch)$/i.test(k))
    // Other members' values as a writer might spell them: escapes, \/, odd number forms, nested position-like keys.
    const otherValue = fc.oneof(
      fc.json({maxDepth: 2}),
      fc.constantFrom(
        '"\\u00f4\\/\\u0026"',
        '1.0',
        '1e3',
        '-0',
        '9007199254740993',
        '{"offset":"x","sequenceNumber":1}',
        '"\\"offset\\": 1"',
      ),
    )
    const member = fc.tuple(otherKey, otherValue, ws, ws)
    const dialect = fc.constantFrom(
      {offset: 'Offset', seq: 'SequenceNumber', id: 'PartitionId'},
      {offset: 'offset', seq: 'sequenceNumber', id: 'partitionId'},
      {offset: 'offset', seq: 'sequence_number', id: 'partition_id'},
    )
    fc.assert(
      fc.property(
        dialect,
        fc.uniqueArray(member, {selector: (m) => m[0], maxLength: 5}),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('"4096"', 'null', '""'),
        fc.constantFrom('77', '0', '"77"', 'null'),
        ws,
        (d, others, at1, at2, offsetValue, seqValue, space) => {
          const members: Array<[key: string, value: string, before: string, after: string]> = others.map(([k, v, b, a]) => [
            JSON.stringify(k),
            v,
            b,
            a,
          ])
          members.splice(at1 % (members.length + 1), 0, [`"${d.offset}"`, '\u0000OFFSET', space, space])
          members.splice(at2 % (members.length + 1), 0, [`"${d.seq}"`, '\u0000SEQ', '', space])
          members.push([`"${d.id}"`, '"0"', space, ''])
          const template = `{${space}${members.map(([k, v, b, a]) => `${b}${k}${a}:${a}${v}`).join(`${space},`)}${space}}`
          const body = template.replace('\u0000OFFSET', offsetValue).replace('\u0000SEQ', seqValue)
          const expected = template.replace('\u0000OFFSET', '"640"').replace('\u0000SEQ', '5')
          expect(rewrite(body)).to.equal(expected)
        },
      ),
      {numRuns: 300},
    )
  })
})
