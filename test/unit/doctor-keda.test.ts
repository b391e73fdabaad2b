import {expect} from 'chai'

import {diagnoseKeda, type KedaInput} from '../../src/doctor/keda.js'
import {KEDA_STRATEGIES, type KedaStrategy} from '../../src/doctor/keda-strategies.js'
import type {ListedBlob} from '../../src/doctor/scan.js'

// The application's names: a hub created as "Orders", read through the default consumer group.
const NS = 'contoso.servicebus.windows.net'
const PARTITIONS = ['0', '1']

/** Bodies as each writer writes them (legacy-layouts facts), for partition `p`. */
const BODY = {
  pascal: (p: string) => `{"Offset":"8591964920","SequenceNumber":960180,"PartitionId":"${p}","Owner":"host-a","Token":"b1c2","Epoch":386}`,
  camel: (p: string) => `{"offset":"8591964920","sequenceNumber":960180,"token":"t","epoch":386,"partitionId":"${p}","owner":"host-a"}`,
  python: (p: string) =>
    `{"partition_id": "${p}", "sequence_number": 42, "owner": "host", "token": "t", "epoch": 3, "event_processor_context": null, "offset": "4096"}`,
  go: (p: string) =>
    `{"partitionID":"${p}","epoch":3,"owner":"name","checkpoint":{"offset":"12345","sequenceNumber":678,"enqueueTime":"2023-05-01T10:00:00.123Z"},"state":"leased","token":"t"}`,
}

interface Scripted {
  container: string
  blobs: Array<ListedBlob & {body: string}>
}

const modern = (name: (p: string) => string): Scripted['blobs'] =>
  PARTITIONS.map((p) => ({name: name(p), metadata: {sequencenumber: '960180', offset: '8591964920'}, body: ''}))
const legacy = (name: (p: string) => string, body: (p: string) => string): Scripted['blobs'] =>
  PARTITIONS.map((p) => ({name: name(p), metadata: {}, body: body(p)}))

/** Each layout's blobs for partitions 0 and 1, named as its writer names them. */
const LAYOUTS: Record<string, Scripted> = {
  // JS, .NET, Python and Go lower-case the names.
  'modern-lower': {container: 'checkpoints', blobs: modern((p) => `${NS}/orders/$default/checkpoint/${p}`)},
  // Java and Rust write them as configured.
  'modern-configured': {container: 'checkpoints', blobs: modern((p) => `${NS}/Orders/$Default/checkpoint/${p}`)},
  // Functions <= 4.x escapes (lower-cases) the namespace and hub, keeps the consumer group.
  'functions-v4-escaped': {container: 'azure-webjobs-eventhub', blobs: legacy((p) => `${NS}/orders/$Default/${p}`, BODY.pascal)},
  'functions-v4-raw': {container: 'azure-webjobs-eventhub', blobs: legacy((p) => `${NS}/Orders/$Default/${p}`, BODY.pascal)},
  'eph-pascal': {container: 'leases', blobs: legacy((p) => `$Default/${p}`, BODY.pascal)},
  'eph-camel': {container: 'leases', blobs: legacy((p) => `$Default/${p}`, BODY.camel)},
  'python-eph': {container: 'eph-leases', blobs: legacy((p) => p, BODY.python)},
  go: {container: 'go-leases', blobs: legacy((p) => p, BODY.go)},
  dapr: {container: 'dapr-state', blobs: legacy((p) => `dapr-Orders-$Default-${p}`, BODY.go)},
}

/** The names as the user types them into the trigger. */
const NAMES = {
  'as-configured': {namespace: NS, eventHub: 'Orders', consumerGroup: '$Default'},
  'hub-lower': {namespace: NS, eventHub: 'orders', consumerGroup: '$Default'},
  'cg-lower': {namespace: NS, eventHub: 'Orders', consumerGroup: '$default'},
  'ns-capitals': {namespace: 'Contoso.servicebus.windows.net', eventHub: 'Orders', consumerGroup: '$Default'},
}

// Verdicts (finding codes without "keda-") from KEDA's rules: azureFunction reads only azure-webjobs-eventhub at
// ns/hub/cg/pid; blobMetadata ns/hub/lower(cg)/checkpoint/pid; goSdk pid; dapr dapr-hub-cg-pid; default cg/pid.
// Names are case-sensitive; JSON keys are not (Go's encoding/json).
const X = 'strategy-reads-other-container'
const C = 'checkpoint-name-casing'
const O = 'checkpoints-other-strategy'
const N = 'no-checkpoints'
const R = 'reads-checkpoints'
const Z = 'checkpoint-unreadable'

type Row = [
  layout: keyof typeof LAYOUTS,
  names: keyof typeof NAMES,
  verdicts: Record<KedaStrategy, string>,
  recommended: KedaStrategy | null,
]
const v = (azureFunction: string, blobMetadata: string, goSdk: string, dapr: string, def: string) => ({
  azureFunction,
  blobMetadata,
  goSdk,
  dapr,
  default: def,
})

const TABLE: Row[] = [
  ['modern-lower', 'as-configured', v(X, C, O, O, O), 'blobMetadata'],
  ['modern-lower', 'hub-lower', v(X, R, O, O, O), 'blobMetadata'],
  ['modern-lower', 'cg-lower', v(X, C, O, O, O), 'blobMetadata'],
  ['modern-lower', 'ns-capitals', v(X, C, O, O, O), 'blobMetadata'],
  // blobMetadata lower-cases the consumer group it asks for: "$Default" blobs are never found.
  ['modern-configured', 'as-configured', v(X, C, N, N, N), null],
  ['modern-configured', 'hub-lower', v(X, C, N, N, N), null],
  ['modern-configured', 'cg-lower', v(X, C, N, N, N), null],
  ['modern-configured', 'ns-capitals', v(X, C, N, N, N), null],
  ['functions-v4-escaped', 'as-configured', v(C, O, O, O, O), 'azureFunction'],
  ['functions-v4-escaped', 'hub-lower', v(R, O, O, O, O), 'azureFunction'],
  ['functions-v4-escaped', 'cg-lower', v(C, O, O, O, O), 'azureFunction'],
  ['functions-v4-escaped', 'ns-capitals', v(C, O, O, O, O), 'azureFunction'],
  ['functions-v4-raw', 'as-configured', v(R, O, O, O, O), 'azureFunction'],
  ['functions-v4-raw', 'hub-lower', v(C, O, O, O, O), 'azureFunction'],
  ['functions-v4-raw', 'cg-lower', v(C, O, O, O, O), 'azureFunction'],
  ['functions-v4-raw', 'ns-capitals', v(C, O, O, O, O), 'azureFunction'],
  ['eph-pascal', 'as-configured', v(X, O, O, O, R), 'default'],
  ['eph-pascal', 'hub-lower', v(X, O, O, O, R), 'default'],
  ['eph-pascal', 'cg-lower', v(X, O, O, O, C), 'default'],
  ['eph-pascal', 'ns-capitals', v(X, O, O, O, R), 'default'],
  // Go's encoding/json matches "sequenceNumber" to the SequenceNumber field.
  ['eph-camel', 'as-configured', v(X, O, O, O, R), 'default'],
  ['eph-camel', 'hub-lower', v(X, O, O, O, R), 'default'],
  ['eph-camel', 'cg-lower', v(X, O, O, O, C), 'default'],
  ['eph-camel', 'ns-capitals', v(X, O, O, O, R), 'default'],
  // goSdk finds the root-level blobs but no checkpoint.sequenceNumber in them: it reads 0.
  ['python-eph', 'as-configured', v(X, N, Z, N, N), null],
  ['python-eph', 'hub-lower', v(X, N, Z, N, N), null],
  ['python-eph', 'cg-lower', v(X, N, Z, N, N), null],
  ['python-eph', 'ns-capitals', v(X, N, Z, N, N), null],
  ['go', 'as-configured', v(X, O, R, O, O), 'goSdk'],
  ['go', 'hub-lower', v(X, O, R, O, O), 'goSdk'],
  ['go', 'cg-lower', v(X, O, R, O, O), 'goSdk'],
  ['go', 'ns-capitals', v(X, O, R, O, O), 'goSdk'],
  ['dapr', 'as-configured', v(X, O, O, R, O), 'dapr'],
  ['dapr', 'hub-lower', v(X, O, O, C, O), 'dapr'],
  ['dapr', 'cg-lower', v(X, O, O, C, O), 'dapr'],
  ['dapr', 'ns-capitals', v(X, O, O, R, O), 'dapr'],
]

/** The input for a scripted container, with a body reader that records what it was asked. */
function inputFor(scripted: Scripted, names: KedaInput['names'], extra: Partial<KedaInput> = {}) {
  const reads: string[] = []
  const input: KedaInput = {
    container: scripted.container,
    blobs: scripted.blobs.map(({name, metadata}) => ({name, metadata})),
    readBody: async (name) => {
      reads.push(name)
      return scripted.blobs.find((b) => b.name === name)?.body ?? null
    },
    names,
    ...extra,
  }
  return {input, reads}
}

const own = (code: string) => code !== 'keda-python-eph-unread'

describe('doctor: what KEDA reads, every strategy against every layout and spelling', () => {
  let cells = 0
  let rows = 0

  for (const [layout, spelling, verdicts, recommended] of TABLE) {
    it(`${layout} blobs, names ${spelling}: verdicts ${Object.values(verdicts).join(' / ')}`, async () => {
      rows++
      for (const strategy of KEDA_STRATEGIES) {
        const {input, reads} = inputFor(LAYOUTS[layout]!, NAMES[spelling], {strategy})
        const {findings, keda} = await diagnoseKeda(input)
        const verdict = findings.filter((f) => own(f.code))
        expect(verdict, strategy).to.have.length(1)
        expect(verdict[0]!.code, `${strategy}: ${verdict[0]!.message}`).to.equal(`keda-${verdicts[strategy]}`)
        expect(verdict[0]!.severity, strategy).to.equal(verdicts[strategy] === R ? 'info' : 'error')
        expect(
          findings.some((f) => f.code === 'keda-python-eph-unread'),
          strategy,
        ).to.equal(layout === 'python-eph')
        expect(keda.partitionIds).to.deep.equal(PARTITIONS)
        expect(keda.recommendation?.strategy ?? null, strategy).to.equal(recommended)
        // One body at most per JSON strategy, never the same one twice.
        expect(reads.length).to.be.at.most(4)
        expect(new Set(reads).size).to.equal(reads.length)
        cells++
      }
    })
  }

  it('ran every row and every strategy', () => {
    expect(rows).to.equal(36)
    expect(cells).to.equal(36 * 5)
  })
})

describe('doctor: what KEDA reads, without a named strategy', () => {
  it('names the strategies whose blobs exist and recommends one, with the trigger to paste', async () => {
    const {input} = inputFor(LAYOUTS['modern-lower']!, NAMES['hub-lower'])
    const {findings, keda} = await diagnoseKeda(input)
    expect(findings.map((f) => [f.code, f.severity])).to.deep.equal([
      ['keda-strategy-finds-blobs', 'info'],
      ['keda-recommended-strategy', 'info'],
    ])
    expect(findings[0]!.evidence.strategy).to.equal('blobMetadata')
    expect(keda.strategy).to.equal(null)
    expect(keda.recommendation).to.deep.include({
      strategy: 'blobMetadata',
      checkpointStrategy: 'blobMetadata',
      blobContainer: 'checkpoints',
    })
    expect(keda.recommendation!.trigger).to.deep.equal({
      type: 'azure-eventhub',
      metadata: {
        connectionFromEnv: 'EVENTHUB_CONNECTION_STRING',
        eventHubNamespace: 'contoso',
        eventHubName: 'orders',
        consumerGroup: '$Default',
        checkpointStrategy: 'blobMetadata',
        blobContainer: 'checkpoints',
        storageConnectionFromEnv: 'STORAGE_CONNECTION_STRING',
        unprocessedEventThreshold: '64',
      },
    })
    expect(keda.recommendation!.yaml).to.equal(
      [
        'triggers:',
        '  - type: azure-eventhub',
        '    metadata:',
        '      connectionFromEnv: "EVENTHUB_CONNECTION_STRING"',
        '      eventHubNamespace: "contoso"',
        '      eventHubName: "orders"',
        '      consumerGroup: "$Default"',
        '      checkpointStrategy: "blobMetadata"',
        '      blobContainer: "checkpoints"',
        '      storageConnectionFromEnv: "STORAGE_CONNECTION_STRING"',
        '      unprocessedEventThreshold: "64"',
        '',
      ].join('\n'),
    )
  })

  it('recommends the spelling the blobs use when only the casing differs', async () => {
    const {input} = inputFor(LAYOUTS['modern-lower']!, NAMES['ns-capitals'])
    const {keda} = await diagnoseKeda(input)
    expect(keda.recommendation!.names).to.deep.equal({namespace: NS, eventHub: 'orders', consumerGroup: '$Default'})
    const bm = keda.strategies.find((s) => s.strategy === 'blobMetadata')!
    expect(bm.verdict).to.equal('other-casing')
    expect(bm.partitions[0]).to.deep.equal({
      partitionId: '0',
      blob: 'Contoso.servicebus.windows.net/Orders/$default/checkpoint/0',
      exists: false,
      otherCasing: [`${NS}/orders/$default/checkpoint/0`],
      content: 'reads',
    })
  })

  it('leaves out checkpointStrategy for the legacy default and blobContainer for azureFunction', async () => {
    const eph = (await diagnoseKeda(inputFor(LAYOUTS['eph-pascal']!, NAMES['as-configured']).input)).keda.recommendation!
    expect(eph.checkpointStrategy).to.equal(null)
    expect(eph.trigger.metadata).to.not.have.property('checkpointStrategy')
    expect(eph.trigger.metadata.blobContainer).to.equal('leases')
    const fn = (await diagnoseKeda(inputFor(LAYOUTS['functions-v4-raw']!, NAMES['as-configured']).input)).keda.recommendation!
    expect(fn.blobContainer).to.equal(null)
    expect(fn.trigger.metadata).to.not.have.property('blobContainer')
    expect(fn.trigger.metadata.checkpointStrategy).to.equal('azureFunction')
  })

  it('warns when no strategy reads the group, and says no spelling helps blobMetadata with a capitalised group', async () => {
    const {input} = inputFor(LAYOUTS['modern-configured']!, NAMES['as-configured'])
    const {findings, keda} = await diagnoseKeda(input)
    expect(findings.map((f) => [f.code, f.severity])).to.deep.equal([['keda-no-strategy-reads', 'warning']])
    expect(keda.recommendation).to.equal(null)
    expect(keda.strategies.find((s) => s.strategy === 'blobMetadata')!.spelling).to.deep.equal({
      namespace: NS,
      eventHub: 'Orders',
      consumerGroup: '$Default',
      possible: false,
    })
    const named = await diagnoseKeda({...input, strategy: 'blobMetadata'})
    expect(named.findings[0]!.message).to.match(/No spelling makes KEDA find them/)
  })
})

describe('doctor: what KEDA makes of the content', () => {
  const one = (blobs: Scripted['blobs'], container = 'c'): Scripted => ({container, blobs})

  it('fails the trigger on a .NET checkpoint whose sequencenumber is empty or missing', async () => {
    for (const metadata of [{sequencenumber: '', offset: '1'}, {offset: '1'}] as Record<string, string>[]) {
      const {input} = inputFor(one([{name: `${NS}/orders/$default/checkpoint/0`, metadata, body: ''}]), NAMES['hub-lower'], {
        strategy: 'blobMetadata',
      })
      const {findings, keda} = await diagnoseKeda(input)
      expect(findings[0]!.code).to.equal('keda-checkpoint-unreadable')
      expect(findings[0]!.message).to.match(/does not scale/)
      expect(keda.strategies[1]!.partitions[0]!.content).to.equal('fails')
    }
  })

  it('finds the metadata key in any casing (Go canonicalises header names)', async () => {
    const {input} = inputFor(
      one([{name: `${NS}/orders/$default/checkpoint/0`, metadata: {SequenceNumber: '5'}, body: ''}]),
      NAMES['hub-lower'],
      {
        strategy: 'blobMetadata',
      },
    )
    expect((await diagnoseKeda(input)).findings[0]!.code).to.equal('keda-reads-checkpoints')
  })

  it('fails on a body with a byte order mark, and reads 0 from a body without the key', async () => {
    const bom = await diagnoseKeda(
      inputFor(one([{name: '$Default/0', metadata: {}, body: `\uFEFF${BODY.pascal('0')}`}]), NAMES['as-configured'], {strategy: 'default'})
        .input,
    )
    expect(bom.findings[0]!.code).to.equal('keda-checkpoint-unreadable')
    expect(bom.findings[0]!.message).to.match(/cannot decode/)
    const goBody = await diagnoseKeda(
      inputFor(one([{name: '$Default/0', metadata: {}, body: BODY.go('0')}]), NAMES['as-configured'], {strategy: 'default'}).input,
    )
    expect(goBody.findings[0]!.code).to.equal('keda-checkpoint-unreadable')
    expect(goBody.findings[0]!.message).to.match(/sequence number 0/)
  })

  it('reads a zero-length modern blob as a failure for a JSON strategy', async () => {
    const {input} = inputFor(one([{name: '0', metadata: {sequencenumber: '1'}, body: ''}]), NAMES['as-configured'], {strategy: 'goSdk'})
    expect((await diagnoseKeda(input)).keda.strategies[2]!.partitions[0]!.content).to.equal('fails')
  })
})

describe('doctor: what KEDA reads, partitions and names', () => {
  it('warns about partitions Event Hubs has that no checkpoint covers', async () => {
    const {input} = inputFor(LAYOUTS.go!, {}, {strategy: 'goSdk', partitionIds: ['0', '1', '2']})
    const {findings, keda} = await diagnoseKeda(input)
    expect(keda.partitionIdsFrom).to.equal('given')
    expect(findings[0]).to.deep.include({code: 'keda-partitions-without-checkpoint', severity: 'warning'})
    expect(findings[0]!.evidence.missingPartitions).to.deep.equal(['2'])
  })

  it("uses KEDA's default consumer group when none is given, and asks for the names a strategy needs", async () => {
    const {input} = inputFor(LAYOUTS['eph-pascal']!, {}, {strategy: 'blobMetadata'})
    const {findings, keda} = await diagnoseKeda(input)
    expect(keda.names).to.deep.equal({namespace: null, eventHub: null, consumerGroup: '$Default', consumerGroupAssumed: true})
    expect(findings[0]).to.deep.include({code: 'keda-names-missing', severity: 'warning'})
    expect(keda.strategies.find((s) => s.strategy === 'default')!.verdict).to.equal('reads')
  })

  it('names the escaped Functions v4 blob and the hub spelling that reaches it', async () => {
    const {input} = inputFor(LAYOUTS['functions-v4-escaped']!, NAMES['as-configured'], {strategy: 'azureFunction'})
    const {findings} = await diagnoseKeda(input)
    expect(findings[0]!.message).to.include(`asks for ${NS}/Orders/$Default/0, but the blob is named ${NS}/orders/$Default/0`)
    expect(findings[0]!.message).to.include('eventHubName as orders')
  })

  it('assumes partition 0 when nothing names a partition', async () => {
    const {input} = inputFor({container: 'empty', blobs: []}, NAMES['as-configured'], {strategy: 'goSdk'})
    const {findings, keda} = await diagnoseKeda(input)
    expect(keda.partitionIds).to.deep.equal(['0'])
    expect(keda.partitionIdsFrom).to.equal('assumed')
    expect(findings[0]!.code).to.equal('keda-no-checkpoints')
  })
})
