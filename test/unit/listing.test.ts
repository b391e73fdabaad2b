import {expect} from 'chai'

import {decodeXmlText, ListBlobsParser, parseListBlobs} from '../../src/store/blob-rest.js'

const RESPONSE = `<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="c">
  <Prefix>ns/</Prefix><MaxResults>5000</MaxResults><Delimiter>/</Delimiter>
  <Blobs>
    <Blob><Name>ns/hub/$default/checkpoint/0</Name><Properties><Creation-Time>Thu, 26 Nov 2026 10:00:00 GMT</Creation-Time><Last-Modified>Thu, 26 Nov 2026 10:00:01 GMT</Last-Modified><Etag>0x8DCAFE</Etag><Content-Length>0</Content-Length><BlobType>BlockBlob</BlobType></Properties><Metadata><sequencenumber>42</sequencenumber><offset>4200</offset><clientidentifier /><Custom>a &amp; b &lt;c&gt; &#233;&#x1F600;</Custom></Metadata><OrMetadata /></Blob>
    <Blob><Name Encoded="true">ns%2Fweird%EF%BF%BEname</Name><Properties><Last-Modified>Thu, 26 Nov 2026 10:00:02 GMT</Last-Modified><Etag>"0x1"</Etag><Content-Length>17</Content-Length></Properties><Metadata /></Blob>
    <BlobPrefix><Name>ns/hub &amp; co/</Name></BlobPrefix>
  </Blobs>
  <NextMarker>2!88!MDAwMDIz</NextMarker>
</EnumerationResults>`

describe('List Blobs response parser', () => {
  it('reads names, properties and every metadata key as stored', () => {
    const page = parseListBlobs(RESPONSE)
    expect(page.blobs).to.have.length(2)
    expect(page.blobs[0]).to.deep.equal({
      name: 'ns/hub/$default/checkpoint/0',
      etag: '0x8DCAFE',
      lastModified: new Date('2026-11-26T10:00:01Z'),
      contentLength: 0,
      metadata: {sequencenumber: '42', offset: '4200', clientidentifier: '', Custom: 'a & b <c> é😀'},
    })
    expect(page.blobs[1]).to.deep.include({name: 'ns/weird\uFFFEname', etag: '"0x1"', contentLength: 17, metadata: {}})
    expect(page.prefixes).to.deep.equal(['ns/hub & co/'])
    expect(page.nextMarker).to.equal('2!88!MDAwMDIz')
  })

  it('reads an empty, last page', () => {
    const page = parseListBlobs('<EnumerationResults><Blobs /><NextMarker /></EnumerationResults>')
    expect(page).to.deep.equal({blobs: [], prefixes: [], nextMarker: undefined})
  })

  it('gives the same result however the response is split into chunks', () => {
    const whole = parseListBlobs(RESPONSE)
    for (const size of [1, 7, 64, 1000]) {
      const parser = new ListBlobsParser()
      for (let i = 0; i < RESPONSE.length; i += size) parser.push(RESPONSE.slice(i, i + size))
      expect(parser.end(), `chunks of ${size}`).to.deep.equal(whole)
    }
  })

  it('decodes XML entities', () => {
    expect(decodeXmlText('&quot;x&apos; &amp;amp;')).to.equal(`"x' &amp;`)
  })
})
