import {expect} from 'chai'

import {
  decodeLegacyBody,
  detectDialect,
  encodeLegacyPosition,
  functionsEscape,
  legacyNameCandidates,
  legacyPrefix,
  partitionUnder,
} from '../../src/store/layouts.js'

/** Bodies exactly as each writer writes them (legacy-layouts facts; the integration corpus writes the same bytes). */
const BODIES = {
  dotnet: '{"Offset":"8591964920","SequenceNumber":960180,"PartitionId":"0","Owner":"host-a","Token":"b1c2","Epoch":386}',
  dotnetFresh: '{"Offset":null,"SequenceNumber":0,"PartitionId":"0","Owner":"","Token":"","Epoch":0}',
  java: '{"offset":"8591964920","sequenceNumber":960180,"token":"t","epoch":386,"partitionId":"0","owner":"host-a"}',
  javaFresh: '{"sequenceNumber":0,"epoch":-1,"partitionId":"0","owner":""}',
  js: '{"partitionId":"1","owner":"host-b","token":"t","epoch":1528209623048,"sequenceNumber":77,"offset":"4096"}',
  python:
    '{"partition_id": "0", "sequence_number": 42, "owner": "host", "token": "t", "epoch": 3, "event_processor_context": null, "offset": "4096"}',
  go: '{"partitionID":"0","epoch":3,"owner":"name","checkpoint":{"offset":"12345","sequenceNumber":678,"enqueueTime":"2023-05-01T10:00:00.123Z"},"state":"leased","token":"t"}',
  goFresh: '{"partitionID":"0","epoch":0,"owner":"","checkpoint":null,"state":"","token":""}',
}

describe('layouts: Functions v4 name escaping', () => {
  it('keeps a-z 0-9 - _ ., lower-cases capitals and hex-escapes the rest', () => {
    expect(functionsEscape('contoso.servicebus.windows.net')).to.equal('contoso.servicebus.windows.net')
    expect(functionsEscape('Orders_EU-1')).to.equal('orders_eu-1')
    expect(functionsEscape('a b/c$')).to.equal('a:20b:2Fc:24')
    expect(functionsEscape('é')).to.equal(':E9')
    expect(functionsEscape('Ω')).to.equal('::03A9')
    expect(functionsEscape('😀')).to.equal('::D83D::DE00')
  })

  it('names a Functions v4 group with escaped namespace and hub and the consumer group as given', () => {
    expect(
      legacyPrefix('functions-v4', {namespace: 'Contoso.servicebus.windows.net', eventHub: 'Orders', consumerGroup: '$Default'}),
    ).to.equal('contoso.servicebus.windows.net/orders/$Default/')
  })

  it('names every other layout as its writer does, and refuses a missing scope part', () => {
    expect(legacyPrefix('eph', {consumerGroup: '$Default'})).to.equal('$Default/')
    expect(legacyPrefix('eph', {consumerGroup: 'cg', blobPrefix: 'app1/'})).to.equal('app1/cg/')
    expect(legacyPrefix('dapr', {eventHub: 'orders', consumerGroup: 'cg'})).to.equal('dapr-orders-cg-')
    expect(legacyPrefix('go', {})).to.equal('')
    expect(legacyPrefix('go', {blobPrefix: 'filebeat/'})).to.equal('filebeat/')
    expect(legacyPrefix('python-eph', {})).to.equal('')
    expect(() => legacyPrefix('eph', {})).to.throw(/--consumer-group/)
    expect(() => legacyPrefix('functions-v4', {namespace: 'ns', consumerGroup: 'cg'})).to.throw(/--eventhub/)
  })
})

describe('layouts: names in a listing', () => {
  const layouts = (name: string, container = 'leases') => legacyNameCandidates(name, container).map((c) => c.layout)

  it('tells root-level, Dapr, EPH and Functions v4 names apart as far as a name can', () => {
    expect(layouts('0')).to.deep.equal(['python-eph', 'go'])
    expect(layouts('dapr-orders-$Default-3')).to.deep.equal(['dapr'])
    expect(layouts('$Default/3')).to.deep.equal(['eph', 'go'])
    expect(layouts('contoso.servicebus.windows.net/orders/$Default/3', 'azure-webjobs-eventhub')).to.deep.equal([
      'functions-v4',
      'eph',
      'go',
    ])
    expect(layouts('contoso.servicebus.windows.net/orders/$Default/3')).to.deep.equal(['eph', 'go'])
  })

  it('takes only decimal partition ids and no empty segments', () => {
    for (const name of ['readme.txt', 'cg/backup', 'a//0', '/0', 'cg/0/', 'dapr-x-y-z']) {
      expect(legacyNameCandidates(name, 'c'), name).to.deep.equal([])
    }
  })

  it('splits a Dapr scope only when the split is certain', () => {
    const [dapr] = legacyNameCandidates('dapr-orders-$Default-3', 'c')
    expect(dapr).to.include({eventHub: 'orders', consumerGroup: '$Default', partitionId: '3', prefix: 'dapr-orders-$Default-'})
    const [ambiguous] = legacyNameCandidates('dapr-orders-eu-billing-0', 'c')
    expect(ambiguous).to.include({eventHub: null, consumerGroup: null, prefix: 'dapr-orders-eu-billing-'})
  })

  it('finds a partition directly under a prefix, never deeper, and keeps root layouts off Dapr blobs', () => {
    expect(partitionUnder('eph', '$Default/', '$Default/12')).to.equal('12')
    expect(partitionUnder('eph', '$Default/', '$Default/x/12')).to.equal(null)
    expect(partitionUnder('go', '', '7')).to.equal('7')
    expect(partitionUnder('go', '', 'dapr-h-c-7')).to.equal(null)
    expect(partitionUnder('dapr', 'dapr-h-c-', 'dapr-h-c-7')).to.equal('7')
  })
})

describe('layouts: bodies', () => {
  const decode = (text: string) => {
    const r = decodeLegacyBody(text)
    if (!r.ok) throw new Error(r.problem.message)
    return r.record
  }

  it('detects the writer from the keys', () => {
    expect(detectDialect(JSON.parse(BODIES.dotnet))).to.equal('eph-dotnet')
    expect(detectDialect(JSON.parse(BODIES.java))).to.equal('eph-camel')
    expect(detectDialect(JSON.parse(BODIES.js))).to.equal('eph-camel')
    expect(detectDialect(JSON.parse(BODIES.python))).to.equal('python')
    expect(detectDialect(JSON.parse(BODIES.go))).to.equal('go')
    for (const other of [null, [], 'x', 3, {}, {offset: '1'}]) expect(detectDialect(other)).to.equal(null)
  })

  it('reads positions, owners and epochs of every writer', () => {
    expect(decode(BODIES.dotnet)).to.deep.include({
      dialect: 'eph-dotnet',
      partitionId: '0',
      position: {kind: 'position', offset: '8591964920', sequenceNumber: 960180, enqueuedTime: null},
      owner: 'host-a',
      epoch: 386,
      problems: [],
    })
    expect(decode(BODIES.java).position).to.deep.equal({kind: 'position', offset: '8591964920', sequenceNumber: 960180, enqueuedTime: null})
    expect(decode(BODIES.js)).to.deep.include({partitionId: '1', owner: 'host-b', epoch: 1528209623048})
    expect(decode(BODIES.python)).to.deep.include({dialect: 'python', partitionId: '0', owner: 'host', epoch: 3})
    expect(decode(BODIES.python).position).to.deep.include({offset: '4096', sequenceNumber: 42})
    expect(decode(BODIES.go).position).to.deep.equal({
      kind: 'position',
      offset: '12345',
      sequenceNumber: 678,
      enqueuedTime: '2023-05-01T10:00:00.123Z',
    })
  })

  it('reads fresh, never-checkpointed leases as no checkpoint', () => {
    for (const text of [BODIES.dotnetFresh, BODIES.javaFresh, BODIES.goFresh])
      expect(decode(text).position, text).to.deep.equal({kind: 'none'})
  })

  it('shows Go sentinels and time positions as what they are', () => {
    const go = (checkpoint: unknown) => decode(JSON.stringify({partitionID: '0', epoch: 1, owner: '', checkpoint}))
    expect(go({offset: '-1', sequenceNumber: 0, enqueueTime: '0001-01-01T00:00:00Z'}).position).to.include({
      kind: 'sentinel',
      sentinel: 'start-of-stream',
    })
    expect(go({offset: '@latest', sequenceNumber: 0}).position).to.include({kind: 'sentinel', sentinel: 'end-of-stream'})
    expect(go({offset: '', sequenceNumber: 0, enqueueTime: '2024-01-01T00:00:00Z'}).position).to.include({
      kind: 'after-time',
      enqueuedTime: '2024-01-01T00:00:00Z',
    })
    expect(go({offset: '', sequenceNumber: 0, enqueueTime: '0001-01-01T00:00:00Z'}).position).to.deep.equal({kind: 'none'})
  })

  it('reports malformed bodies as problems, never throwing', () => {
    const problems = ['{"Offset":"1","SequenceNum', 'null', '[1]', '{"foo":1}', 'x'.repeat(10 * 1024 * 1024)].map((text) => {
      const r = decodeLegacyBody(text)
      expect(r.ok).to.equal(false)
      return r.ok ? '' : r.problem.code
    })
    expect(problems).to.deep.equal(['invalid-json', 'unknown-body', 'unknown-body', 'unknown-body', 'oversized-body'])
    const wrongTypes = decode('{"Offset":5,"SequenceNumber":"x","PartitionId":"0","Owner":7,"Epoch":"e"}')
    expect(wrongTypes.problems.map((p) => p.code).sort()).to.deep.equal([
      'invalid-field',
      'invalid-field',
      'invalid-field',
      'invalid-sequence-number',
    ])
    expect(wrongTypes.position).to.deep.equal({kind: 'none'})
  })

  it('reports an invalid sequence number once, not also as missing (attack-legacy bug 1)', () => {
    const r = decode('{"PartitionId":"0","Owner":"","Token":"","Epoch":0,"Offset":"-7","SequenceNumber":-3}')
    expect(r.problems.map((p) => p.code)).to.deep.equal(['invalid-sequence-number'])
    const missing = decode('{"PartitionId":"0","Owner":"","Token":"","Epoch":0,"Offset":"7"}')
    expect(missing.problems.map((p) => p.code)).to.deep.equal(['missing-sequence-number'])
  })

  it('refuses a dialect the layout does not write', () => {
    const r = decodeLegacyBody(BODIES.go, ['eph-dotnet', 'eph-camel'])
    expect(r.ok ? '' : r.problem.code).to.equal('unexpected-dialect')
  })
})

describe('layouts: writing a position back', () => {
  it('changes only the position fields, keeping order, other fields and the writer’s spacing', () => {
    expect(encodeLegacyPosition(BODIES.dotnet, {sequenceNumber: 5, offset: '640'})).to.equal(
      '{"Offset":"640","SequenceNumber":5,"PartitionId":"0","Owner":"host-a","Token":"b1c2","Epoch":386}',
    )
    expect(encodeLegacyPosition(BODIES.dotnetFresh, {sequenceNumber: 5, offset: '640'})).to.equal(
      '{"Offset":"640","SequenceNumber":5,"PartitionId":"0","Owner":"","Token":"","Epoch":0}',
    )
    expect(encodeLegacyPosition(BODIES.javaFresh, {sequenceNumber: 5, offset: '640'})).to.equal(
      '{"sequenceNumber":5,"epoch":-1,"partitionId":"0","owner":"","offset":"640"}',
    )
    expect(encodeLegacyPosition(BODIES.python, {sequenceNumber: 5, offset: '640'})).to.equal(
      '{"partition_id": "0", "sequence_number": 5, "owner": "host", "token": "t", "epoch": 3, "event_processor_context": null, "offset": "640"}',
    )
    expect(encodeLegacyPosition(BODIES.go, {sequenceNumber: 5, offset: '640', enqueuedTime: '2024-02-03T04:05:06.000Z'})).to.equal(
      '{"partitionID":"0","epoch":3,"owner":"name","checkpoint":{"offset":"640","sequenceNumber":5,"enqueueTime":"2024-02-03T04:05:06.000Z"},"state":"leased","token":"t"}',
    )
    expect(encodeLegacyPosition(BODIES.goFresh, {sequenceNumber: 5, offset: '640'})).to.equal(
      '{"partitionID":"0","epoch":0,"owner":"","checkpoint":{"offset":"640","sequenceNumber":5,"enqueueTime":"0001-01-01T00:00:00Z"},"state":"","token":""}',
    )
  })

  it('reads back what it wrote, for every writer', () => {
    const written = Object.values(BODIES).map((text) => decodeLegacyBody(encodeLegacyPosition(text, {sequenceNumber: 9, offset: '99'})))
    expect(written).to.have.length(8)
    for (const r of written) expect(r.ok && r.record.position).to.deep.include({kind: 'position', offset: '99', sequenceNumber: 9})
  })
})
