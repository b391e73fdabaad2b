import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {parseCsv, renderCsv} from '../../src/csv.js'
import {EhcpError} from '../../src/errors.js'
import {colorWanted} from '../../src/output/terminal.js'
import {displayUrl, redact, registerSecret} from '../../src/redact.js'
import {resolveStorageTarget} from '../../src/store/connect.js'
import {formatAge, parseDuration} from '../../src/time.js'

describe('durations', () => {
  it('reads the forms operators type', () => {
    expect(parseDuration('2m', 'x')).to.equal(120_000)
    expect(parseDuration('90s', 'x')).to.equal(90_000)
    expect(parseDuration('1h30m', 'x')).to.equal(5_400_000)
    expect(parseDuration('1500ms', 'x')).to.equal(1500)
    expect(parseDuration('PT2H', 'x')).to.equal(7_200_000)
    expect(parseDuration('P1DT30M', 'x')).to.equal(86_400_000 + 1_800_000)
  })

  it('rejects anything else as a usage error', () => {
    for (const bad of ['', '2', 'm', '2 minutes', 'PT', 'P', '-5s', '2m garbage']) {
      expect(() => parseDuration(bad, '--ownership-expiry'), bad)
        .to.throw(EhcpError)
        .with.property('exitCode', 2)
    }
  })
})

describe('connection resolution', () => {
  const cs = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net'

  it('takes the container URL first', () => {
    const t = resolveStorageTarget(
      {containerUrl: 'https://acct.blob.core.windows.net/cps?sv=1&sig=abc', connectionString: cs, container: 'x'},
      {},
    )
    expect(t.kind).to.equal('container-url')
    expect(t.display).to.equal('https://acct.blob.core.windows.net/cps')
  })

  it('prefers explicit flags over environment variables', () => {
    expect(resolveStorageTarget({emulator: true, container: 'ckp'}, {AZURE_STORAGE_CONNECTION_STRING: cs}).kind).to.equal('emulator')
    expect(resolveStorageTarget({}, {AZURE_STORAGE_CONNECTION_STRING: cs, EHCP_CONTAINER: 'ckp'}).kind).to.equal('connection-string')
    expect(resolveStorageTarget({container: 'ckp'}, {EHCP_ACCOUNT_URL: 'https://acct.blob.core.windows.net'}).kind).to.equal('account-url')
  })

  it('overrides the emulator endpoint from the environment', () => {
    const t = resolveStorageTarget(
      {emulator: true, container: 'ckp'},
      {EHCP_EMULATOR_BLOB_ENDPOINT: 'http://127.0.0.1:9999/devstoreaccount1/'},
    )
    expect(t).to.include({kind: 'emulator', containerUrl: 'http://127.0.0.1:9999/devstoreaccount1/ckp'})
  })

  it('needs a container name, and lists the four ways when nothing is given', () => {
    expect(() => resolveStorageTarget({connectionString: cs}, {})).to.throw(/--container/)
    try {
      resolveStorageTarget({}, {})
      expect.fail('should throw')
    } catch (error) {
      const e = error as EhcpError
      expect(e.exitCode).to.equal(2)
      for (const way of ['--container-url', '--connection-string', '--account-url', '--emulator']) expect(e.hint).to.include(way)
    }
  })

  it('a malformed container URL is a usage error, not a failure', () => {
    for (const url of ['http://[', 'not a url', 'ftp://acct/c', 'https://acct.blob.core.windows.net/']) {
      expect(() => resolveStorageTarget({containerUrl: url}, {}), url)
        .to.throw(EhcpError)
        .with.property('exitCode', 2)
    }
  })

  it('never shows the key in a display name', () => {
    const t = resolveStorageTarget({connectionString: cs, container: 'ckp'}, {})
    expect(t.display).to.equal('acct/ckp')
    expect(redact(`failed with ${cs}`)).not.to.include('c2VjcmV0')
  })
})

describe('redaction', () => {
  it('removes SAS signatures, account keys and registered secrets', () => {
    registerSecret('hunter2-secret-value')
    const text = redact('url?sv=2021&sig=AbC%2Bd%3D&se=1 AccountKey=abc/def==; SharedAccessKey=xyz; oops hunter2-secret-value')
    expect(text).not.to.match(/AbC|abc\/def|xyz|hunter2/)
    expect(displayUrl('https://a.blob.core.windows.net/c?sig=zzz')).to.equal('https://a.blob.core.windows.net/c')
  })

  it('wraps the process output once, however often it is installed (bin/run.js and every command do)', () => {
    const streams = fileURLToPath(new URL('../../src/output/streams.js', import.meta.url))
    const redaction = fileURLToPath(new URL('../../src/redact.js', import.meta.url))
    const script = `const {redactProcessOutput} = await import(${JSON.stringify(streams)}); const {registerSecret} = await import(${JSON.stringify(redaction)})
      redactProcessOutput(); const first = process.stdout.write; redactProcessOutput()
      registerSecret('hunter2-secret-value')
      console.log(process.stdout.write === first ? 'once' : 'twice', 'hunter2-secret-value')`
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', timeout: 10_000})
    expect(run.stdout)
      .to.match(/^once /)
      .and.not.include('hunter2')
  })
})

describe('output helpers', () => {
  it('decides colour from flag, NO_COLOR, FORCE_COLOR, TERM and the terminal', () => {
    expect(colorWanted(undefined, {}, {isTTY: true})).to.equal(true)
    expect(colorWanted(undefined, {}, {isTTY: false})).to.equal(false)
    expect(colorWanted(undefined, {NO_COLOR: '1'}, {isTTY: true})).to.equal(false)
    expect(colorWanted(undefined, {TERM: 'dumb'}, {isTTY: true})).to.equal(false)
    expect(colorWanted(undefined, {FORCE_COLOR: '1'}, {isTTY: false})).to.equal(true)
    expect(colorWanted(false, {FORCE_COLOR: '1'}, {isTTY: true})).to.equal(false)
  })

  it('formats ages', () => {
    expect(formatAge(0, 12_000)).to.equal('12s ago')
    expect(formatAge(0, 3 * 60_000 + 5000)).to.equal('3m ago')
    expect(formatAge(0, 5 * 3_600_000)).to.equal('5h ago')
    expect(formatAge(10_000, 0)).to.equal('in 10s')
  })

  it('writes CSV that parses back exactly', () => {
    const rows = [['0', '-1', 'a,b', 'say "hi"', 'line\nbreak', '']]
    expect(parseCsv(renderCsv(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'], rows))).to.deep.equal([['h1', 'h2', 'h3', 'h4', 'h5', 'h6'], ...rows])
  })
})

describe('storage addresses without the SDK', () => {
  it('reads connection strings: account key, explicit endpoint, SAS, development storage', async () => {
    const {storageConnection} = await import('../../src/store/connect.js')
    const {parseConnectionString} = await import('../../src/connection-string.js')
    const read = (text: string) => storageConnection(parseConnectionString(text))
    expect(read('DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net')).to.deep.equal({
      endpoint: 'https://acct.blob.core.windows.net',
      account: 'acct',
      sas: '',
      auth: {kind: 'shared-key', accountName: 'acct', accountKey: 'a2V5'},
    })
    expect(read('AccountName=acct;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/acct/;').endpoint).to.equal(
      'http://127.0.0.1:10000/acct',
    )
    expect(read('BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=2024&sig=abc')).to.deep.equal({
      endpoint: 'https://acct.blob.core.windows.net',
      account: 'https://acct.blob.core.windows.net',
      sas: 'sv=2024&sig=abc',
      auth: {kind: 'none'},
    })
    expect(read('UseDevelopmentStorage=true').endpoint).to.equal('http://127.0.0.1:10000/devstoreaccount1')
    for (const bad of ['', 'AccountName=acct', 'garbage', 'DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=b']) {
      expect(() => read(bad), bad).to.throw(/connection string is not valid/)
    }
  })

  it('escapes blob names as the service expects', async () => {
    const {escapeBlobName} = await import('../../src/store/connect.js')
    expect(escapeBlobName('ns.servicebus.windows.net/hub/$Default/checkpoint/0')).to.equal(
      'ns.servicebus.windows.net/hub/%24Default/checkpoint/0',
    )
    expect(escapeBlobName("a b/it's/100%/x+y")).to.equal('a%20b/it%27s/100%25/x%2By')
  })
})
