/**
 * Bad input, property-based: whatever bytes arrive — in blob names, metadata, plan files, durations — the
 * parsers either return a value or throw a usage error (exit 2); stored data only ever yields reported
 * problems. Never an unhandled exception.
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {parsePlanFile} from '../../src/change/plan-file.js'
import {parseCsv} from '../../src/csv.js'
import {EhcpError} from '../../src/errors.js'
import {parseListBlobs} from '../../src/store/blob-rest.js'
import {decodeCheckpoint, decodeOwnership, parseBlobName} from '../../src/store/codec.js'
import {toRecord} from '../../src/store/store.js'
import {parseDuration} from '../../src/time.js'

const RUNS = {numRuns: 400}

/** Runs `fn`; a thrown error must be a usage error (exit 2). */
function usageOrValue(fn: () => unknown): void {
  try {
    fn()
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(EhcpError)
    expect((error as EhcpError).exitCode).to.equal(2)
  }
}

const anyText = fc.oneof(
  fc.string(),
  fc.string({unit: 'binary'}),
  fc.string({unit: 'grapheme'}),
  fc.constantFrom('', 'no offset', '-1', '@latest', ' 5', '1e3', '0x10', '9'.repeat(30)),
)
const metadata = fc.dictionary(
  fc.oneof(fc.constantFrom('sequencenumber', 'SequenceNumber', 'offset', 'Offset', 'ownerid', 'OwnerId', 'clientidentifier'), fc.string()),
  anyText,
)

describe('property: stored data never throws, it is reported', () => {
  it('any blob name and metadata become a record', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({unit: 'binary'}),
          fc
            .array(fc.oneof(fc.string(), fc.constantFrom('checkpoint', 'ownership', 'Checkpoint')), {maxLength: 7})
            .map((parts) => parts.join('/')),
        ),
        metadata,
        (name, meta) => {
          const record = toRecord({name, etag: 'x', lastModified: new Date(0), metadata: meta}, Date.now(), 120_000)
          expect(['checkpoint', 'ownership', 'foreign']).to.include(record.kind)
          if (record.kind === 'checkpoint') {
            const {sequenceNumber} = record.position
            expect(sequenceNumber === null || Number.isSafeInteger(sequenceNumber)).to.equal(true)
          }
        },
      ),
      RUNS,
    )
  })

  it('any metadata decodes as a checkpoint and as an ownership, problems listed', () => {
    fc.assert(
      fc.property(metadata, (meta) => {
        const c = decodeCheckpoint(meta)
        expect(c.problems).to.be.an('array')
        if (c.offset === null || c.sequenceNumber === null) expect(c.problems).not.to.be.empty
        decodeOwnership(meta)
        parseBlobName(Object.keys(meta).join('/'))
      }),
      RUNS,
    )
  })

  it('any List Blobs response text parses without throwing, or fails on a missing name only', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary'}), fc.string(), (junk, name) => {
        const xml = `<EnumerationResults><Blobs>${junk}<Blob><Name>${name.replace(/[<&]/g, '')}</Name><Metadata>${junk.replace(/[<&]/g, '')}</Metadata></Blob></Blobs><NextMarker>${junk.replace(/[<&]/g, '')}</NextMarker></EnumerationResults>`
        try {
          parseListBlobs(xml)
        } catch (error) {
          expect(String(error)).to.match(/URI|without a name/)
        }
      }),
      RUNS,
    )
  })
})

describe('property: bad input is a usage error and nothing else', () => {
  it('durations', () => {
    fc.assert(
      fc.property(anyText, (text) =>
        usageOrValue(() => {
          const ms = parseDuration(text, '--by-duration')
          expect(Number.isFinite(ms) && ms >= 0).to.equal(true)
        }),
      ),
      RUNS,
    )
  })

  it('plan files: arbitrary text, truncated and mangled JSON, wrong types, CSV', () => {
    const showJson = fc.record({
      partitions: fc.array(
        fc.record({
          partitionId: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
          checkpoint: fc.oneof(
            fc.constant(null),
            fc.record({
              sequenceNumber: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
              offset: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
            }),
          ),
        }),
        {maxLength: 6},
      ),
    })
    const backup = fc.record({
      schemaVersion: fc.oneof(fc.constant(1), fc.integer()),
      kind: fc.constant('ehcp-backup'),
      namespace: fc.string(),
      eventHub: fc.string(),
      consumerGroup: fc.string(),
      partitions: fc.array(
        fc.record({
          partitionId: fc.string(),
          blobName: fc.string(),
          metadata: fc.oneof(fc.constant(null), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer()))),
        }),
        {maxLength: 4},
      ),
    })
    const text = fc.oneof(
      anyText,
      showJson.map((j) => JSON.stringify(j)),
      backup.map((j) => JSON.stringify(j)),
      fc.tuple(showJson, fc.nat()).map(([j, cut]) => JSON.stringify(j).slice(0, cut)),
      fc
        .array(fc.array(fc.string(), {maxLength: 5}), {maxLength: 5})
        .map((rows) => ['partitionId,sequenceNumber,offset', ...rows.map((r) => r.join(','))].join('\n')),
    )
    fc.assert(
      fc.property(text, (t) =>
        usageOrValue(() => {
          const file = parsePlanFile(t, 'plan.json')
          if (file.kind === 'positions') {
            for (const {position} of file.positions) {
              expect(Number.isSafeInteger(position.sequenceNumber) && position.sequenceNumber >= -1).to.equal(true)
              expect(position.offset).to.be.a('string').that.is.not.empty
            }
          }
        }),
      ),
      RUNS,
    )
  })

  it('CSV never throws', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary'}), (t) => void parseCsv(t)),
      RUNS,
    )
  })
})
