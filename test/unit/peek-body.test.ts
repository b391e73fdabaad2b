/** peek's body formatting: JSON, text, binary, and cutting at the byte limit (on a character's boundary). */
import {expect} from 'chai'

import {describeBody} from '../../src/eventhubs/body.js'
import {hexDump, renderBody} from '../../src/output/peek.js'

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

  it('exactly at the limit is whole', () => {
    expect(describeBody(utf8('abcd'), 4)).to.deep.include({truncated: false, data: 'abcd'})
  })

  it('hex dumps 16 bytes a line with the offset', () => {
    const bytes = Uint8Array.from({length: 18}, (_, i) => i)
    expect(hexDump(bytes)).to.equal('00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n00000010  10 11')
  })
})
