import {expect} from 'chai'

import {redact} from '../../src/redact.js'

describe('redaction of bearer tokens', () => {
  it('leaves the word "Bearer" in plain English alone', () => {
    for (const text of [
      'Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.',
      'Bearer tokens are only sent over https.',
      'Use a Bearer token.',
      'Bearer short',
    ]) {
      expect(redact(text), text).to.equal(text)
    }
  })

  it('redacts what looks like a token: a JWT, or a long token68', () => {
    const jwt =
      'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL3N0b3JhZ2UuYXp1cmUuY29tIn0.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu_-x'
    expect(redact(`Authorization: Bearer ${jwt}`)).to.equal('Authorization: Bearer REDACTED')
    expect(redact(`authorization: "Bearer ${jwt}", next`)).to.equal('authorization: "Bearer REDACTED", next')
    expect(redact('Bearer abc.def.ghi')).to.equal('Bearer REDACTED')
    expect(redact('Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ+/abcdef==')).to.equal('Bearer REDACTED')
    expect(redact(`Bearer ${jwt}`)).not.to.include(jwt.split('.')[2]!)
  })
})
