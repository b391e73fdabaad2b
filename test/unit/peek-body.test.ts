/** peek's body formatting: JSON, text, binary, and cutting at the byte limit (on a character's boundary). */
import {expect} from 'chai'

import {describeBody} from '../../src/eventhubs/body.js'
import type {PeekResult} from '../../src/eventhubs/peek.js'
import {hexDump, renderBody, renderPeek} from '../../src/output/peek.js'
import {outputSettings} from '../../src/output/terminal.js'

const utf8 = (text: string) => Buffer.from(text, 'utf8')

describe('peek: event bodies', () => {
  it('JSON is parsed (and pretty-printed for people)', () => {
    const body = describeBody(utf8('{"a":[1,2],"b":"x"}'))
    expect(body).to.deep.equal({kind: 'json', encoding: 'json', size: 19, truncated: false, data: {a: [1, 2], b: 'x'}})
    expect(renderBody(body, {raw: false})).to.deep.equal({
      heading: 'JSON, 19 bytes',
      text: '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "x"\n}',
    })
  })

  it('UTF-8 text that is not JSON stays text; an empty body is empty text', () => {
    expect(describeBody(utf8('héllo\nworld'))).to.deep.equal({
      kind: 'text',
      encoding: 'text',
      size: 12,
      truncated: false,
      data: 'héllo\nworld',
    })
    expect(describeBody(new Uint8Array())).to.deep.equal({kind: 'text', encoding: 'text', size: 0, truncated: false, data: ''})
  })

  it('invalid UTF-8 or control characters are binary: base64, summarised by size unless --raw', () => {
    const invalid = describeBody(Uint8Array.from([0xc3, 0x28]))
    expect(invalid).to.deep.equal({kind: 'binary', encoding: 'base64', size: 2, truncated: false, data: 'wyg='})
    const control = describeBody(utf8('a\u001b[31mred'))
    expect(control.kind).to.equal('binary')
    expect(renderBody(control, {raw: false})).to.deep.equal({heading: 'binary, 9 bytes (--raw shows it in hex)', text: null})
    expect(renderBody(invalid, {raw: true})).to.deep.equal({heading: 'binary, 2 bytes', text: '00000000  c3 28'})
  })

  it('a body over the limit is cut and marked with its full size; text never splits a character', () => {
    expect(describeBody(utf8('abcdef'), 4)).to.deep.equal({kind: 'text', encoding: 'text', size: 6, truncated: true, data: 'abcd'})
    // "é" is two bytes: a cut at 3 bytes keeps one whole "é".
    expect(describeBody(utf8('ééé'), 3)).to.deep.equal({kind: 'text', encoding: 'text', size: 6, truncated: true, data: 'é'})
    // Cut JSON is no longer JSON: given as text, still said to be JSON.
    const json = describeBody(utf8('{"key":"value"}'), 5)
    expect(json).to.deep.equal({kind: 'json', encoding: 'text', size: 15, truncated: true, data: '{"key'})
    expect(renderBody(json, {raw: false})).to.deep.equal({heading: 'JSON, 15 bytes, cut: first 5 bytes shown', text: '{"key [...]'})
    const binary = describeBody(Uint8Array.from([0, 1, 2, 3, 4, 5]), 4)
    expect(binary).to.deep.equal({kind: 'binary', encoding: 'base64', size: 6, truncated: true, data: 'AAECAw=='})
    expect(renderBody(binary, {raw: true}).heading).to.equal('binary, 6 bytes, cut: first 4 bytes shown')
  })

  it('text keeps its lines and tabs for people; CRLF is a line break; other control characters cannot reach the terminal', () => {
    expect(renderBody(describeBody(utf8('a\r\n\tb')), {raw: false}).text).to.equal('a\n\tb')
    // A cut body's last bytes may be a lone CR: shown escaped, never sent as is.
    expect(renderBody({kind: 'text', encoding: 'text', size: 9, truncated: true, data: 'ab\r'}, {raw: false}).text).to.equal(
      'ab\\u000d [...]',
    )
    // A literal backslash sequence in the text stays as written.
    expect(renderBody(describeBody(utf8('x\\u0009y')), {raw: false}).text).to.equal('x\\u0009y')
  })

  it('exactly at the limit is whole', () => {
    expect(describeBody(utf8('abcd'), 4)).to.deep.include({truncated: false, data: 'abcd'})
  })

  it('hex dumps 16 bytes a line with the offset', () => {
    const bytes = Uint8Array.from({length: 18}, (_, i) => i)
    expect(hexDump(bytes)).to.equal('00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n00000010  10 11')
  })

  describe('the last line says why no event was shown', () => {
    const settings = outputSettings(false, {}, {}, {}, {wide: false, json: false})
    const result = (over: Partial<PeekResult>): PeekResult => ({
      schemaVersion: 1,
      namespace: 'ns',
      eventHub: 'orders',
      consumerGroup: 'billing',
      partitionId: '3',
      readerConsumerGroup: 'ehcp',
      checkpoint: {sequenceNumber: 9, offset: '90'},
      from: {kind: 'checkpoint', sequenceNumber: 10, datetime: null},
      partition: {beginningSequenceNumber: 0, lastEnqueuedSequenceNumber: 9, isEmpty: false},
      events: [],
      stoppedAt: 'end',
      waitSeconds: 3,
      maxBytes: 4096,
      ...over,
    })
    const where = "partition 3 after billing's checkpoint (9), read through consumer group ehcp"
    it('caught up, empty, a checkpoint past the end, nothing within the wait', () => {
      expect(renderPeek(result({}), settings, {raw: false})).to.equal(`No events in ${where}: the partition's last event is 9.`)
      expect(
        renderPeek(result({partition: {beginningSequenceNumber: 0, lastEnqueuedSequenceNumber: -1, isEmpty: true}}), settings, {
          raw: false,
        }),
      ).to.equal(`No events in ${where}: the partition is empty.`)
      expect(
        renderPeek(result({partition: {beginningSequenceNumber: 0, lastEnqueuedSequenceNumber: 4, isEmpty: false}}), settings, {
          raw: false,
        }),
      ).to.equal(`No events in ${where}: the checkpoint is past the partition's last event, 4 (was the event hub re-created?).`)
      const at = '2026-12-01T00:00:00.000Z'
      expect(renderPeek(result({from: {kind: 'datetime', sequenceNumber: null, datetime: at}}), settings, {raw: false})).to.equal(
        `No events in partition 3 from ${at}, read through consumer group ehcp: none arrived within 3s (the partition's last event is 9).`,
      )
    })
  })
})
