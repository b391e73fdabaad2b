/**
 * Connections, parsed once where they enter: the one connection-string reader, the storage target in the
 * contract's order (flags over environment), Event Hubs access, and the flag readers that feed them.
 */
import {expect} from 'chai'

import {parseConnectionString} from '../../src/connection-string.js'
import {EhcpError} from '../../src/errors.js'
import {eventHubsMismatch, resolveEventHubsAccess} from '../../src/eventhubs/reader.js'
import {readChangeOptions, readConnection, readEventHubsOptions, readScope} from '../../src/flags.js'
import {redact} from '../../src/redact.js'
import {EMULATOR_ACCOUNT, EMULATOR_KEY, resolveStorageTarget} from '../../src/store/connect.js'

const STORAGE = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5YTJWNQ==;EndpointSuffix=core.windows.net'
const OTHER_STORAGE = 'DefaultEndpointsProtocol=https;AccountName=other;AccountKey=b3RoZXJrZXk=;EndpointSuffix=core.windows.net'
const EVENT_HUBS =
  'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=ZWhrZXlaV2hyWlhrPQ==;EntityPath=Orders'

describe('the connection-string reader', () => {
  it('reads keys in any case, trims keys and values', () => {
    const {fields} = parseConnectionString('  AccountName = acct ;ACCOUNTKEY=k2V5 ; endpointSuffix= core.windows.net')
    expect([...fields]).to.deep.equal([
      ['accountname', 'acct'],
      ['accountkey', 'k2V5'],
      ['endpointsuffix', 'core.windows.net'],
    ])
  })

  it('splits at the first "=": a SAS keeps its own "=" and "&", a key its base64 padding', () => {
    const {fields} = parseConnectionString(
      'BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2024-11-04&ss=b&sig=AbC%2Bd%3D;AccountKey=a2V5==',
    )
    expect(fields.get('sharedaccesssignature')).to.equal('sv=2024-11-04&ss=b&sig=AbC%2Bd%3D')
    expect(fields.get('accountkey')).to.equal('a2V5==')
    expect(fields.get('blobendpoint')).to.equal('https://a.blob.core.windows.net')
  })

  it('skips empty parts, parts without "=" and parts without a key; keeps an empty value as empty', () => {
    const {fields} = parseConnectionString(';;AccountName=acct;;garbage; =nokey;=;EndpointSuffix=;')
    expect([...fields]).to.deep.equal([
      ['accountname', 'acct'],
      ['endpointsuffix', ''],
    ])
    expect(parseConnectionString('').fields.size).to.equal(0)
    expect(parseConnectionString('no fields at all').fields.size).to.equal(0)
  })

  it('a missing field is undefined; a key given twice keeps its last value, as the SDKs read it', () => {
    const {fields} = parseConnectionString('AccountName=first;AccountName=second')
    expect(fields.get('accountname')).to.equal('second')
    expect(fields.get('accountkey')).to.equal(undefined)
  })

  it("names every secret: the whole string, keys and signatures (each occurrence), and a SAS's sig", () => {
    const text =
      'AccountName=acct;AccountKey=first-key;AccountKey=second-key;SharedAccessSignature=?sv=1&sig=c2lnbmF0dXJl;SharedAccessKey=eh-key'
    expect(parseConnectionString(text).secrets).to.deep.equal([
      text,
      'first-key',
      'second-key',
      '?sv=1&sig=c2lnbmF0dXJl',
      'c2lnbmF0dXJl',
      'eh-key',
    ])
    expect(parseConnectionString('AccountName=acct;AccountKey=').secrets).to.deep.equal(['AccountName=acct;AccountKey='])
  })
})

describe('the storage target', () => {
  it("takes the flags in the contract's order: container URL, connection string, account URL, emulator", () => {
    const all = {
      containerUrl: 'https://acct.blob.core.windows.net/cps?sv=1&sig=abc',
      connectionString: STORAGE,
      accountUrl: 'https://acct.blob.core.windows.net',
      emulator: true,
      container: 'ckp',
    }
    expect(resolveStorageTarget(all, {}).kind).to.equal('container-url')
    expect(resolveStorageTarget({...all, containerUrl: undefined}, {}).kind).to.equal('connection-string')
    expect(resolveStorageTarget({...all, containerUrl: undefined, connectionString: undefined}, {}).kind).to.equal('account-url')
    expect(resolveStorageTarget({...all, containerUrl: undefined, connectionString: undefined, accountUrl: undefined}, {}).kind).to.equal(
      'emulator',
    )
  })

  it('takes any flag over the environment, and then the environment in the same order', () => {
    const env = {
      AZURE_STORAGE_CONNECTION_STRING: OTHER_STORAGE,
      EHCP_ACCOUNT_URL: 'https://envacct.blob.core.windows.net',
      EHCP_CONTAINER: 'envcp',
    }
    expect(resolveStorageTarget({emulator: true}, env)).to.include({kind: 'emulator', source: 'flag', container: 'envcp'})
    expect(resolveStorageTarget({accountUrl: 'https://acct.blob.core.windows.net'}, env)).to.include({
      kind: 'account-url',
      source: 'flag',
      containerUrl: 'https://acct.blob.core.windows.net/envcp',
    })
    expect(resolveStorageTarget({connectionString: STORAGE, container: 'flagcp'}, env)).to.include({
      kind: 'connection-string',
      source: 'flag',
      containerUrl: 'https://acct.blob.core.windows.net/flagcp',
    })
    expect(resolveStorageTarget({}, env)).to.include({
      kind: 'connection-string',
      source: 'environment',
      containerUrl: 'https://other.blob.core.windows.net/envcp',
    })
    expect(resolveStorageTarget({}, {...env, AZURE_STORAGE_CONNECTION_STRING: undefined})).to.include({
      kind: 'account-url',
      source: 'environment',
      containerUrl: 'https://envacct.blob.core.windows.net/envcp',
    })
  })

  it('carries everything opening the container needs: its URL, the SAS apart, and how to sign', () => {
    expect(resolveStorageTarget({containerUrl: 'https://acct.blob.core.windows.net/cps?sv=1&sig=abc'}, {})).to.deep.include({
      container: 'cps',
      containerUrl: 'https://acct.blob.core.windows.net/cps',
      sas: 'sv=1&sig=abc',
      auth: {kind: 'none'},
    })
    expect(resolveStorageTarget({containerUrl: 'http://127.0.0.1:10000/devstoreaccount1/cps'}, {})).to.include({
      container: 'cps',
      containerUrl: 'http://127.0.0.1:10000/devstoreaccount1/cps',
      sas: '',
    })
    expect(resolveStorageTarget({connectionString: STORAGE, container: 'ckp'}, {})).to.deep.include({
      containerUrl: 'https://acct.blob.core.windows.net/ckp',
      sas: '',
      auth: {kind: 'shared-key', accountName: 'acct', accountKey: 'a2V5YTJWNQ=='},
      display: 'acct/ckp',
    })
    expect(
      resolveStorageTarget(
        {connectionString: 'BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=abc', container: 'ckp'},
        {},
      ),
    ).to.deep.include({
      containerUrl: 'https://acct.blob.core.windows.net/ckp',
      sas: 'sv=1&sig=abc',
      auth: {kind: 'none'},
      display: 'https://acct.blob.core.windows.net/ckp',
    })
    expect(resolveStorageTarget({connectionString: 'UseDevelopmentStorage=true', container: 'ckp'}, {})).to.deep.include({
      containerUrl: `http://127.0.0.1:10000/${EMULATOR_ACCOUNT}/ckp`,
      auth: {kind: 'shared-key', accountName: EMULATOR_ACCOUNT, accountKey: EMULATOR_KEY},
    })
    expect(resolveStorageTarget({accountUrl: 'https://acct.blob.core.windows.net/', container: 'ckp'}, {})).to.deep.include({
      containerUrl: 'https://acct.blob.core.windows.net/ckp',
      auth: {kind: 'default-credential'},
    })
  })

  it('refuses a bad connection string when it resolves the target, after asking for a missing container', () => {
    expect(() => resolveStorageTarget({connectionString: 'AccountName=acct'}, {})).to.throw(/--container/)
    expect(() => resolveStorageTarget({connectionString: 'AccountName=acct', container: 'ckp'}, {}))
      .to.throw(EhcpError, /connection string is not valid/)
      .with.property('exitCode', 2)
    // One from the environment is read only when it is the way taken.
    expect(resolveStorageTarget({emulator: true, container: 'ckp'}, {AZURE_STORAGE_CONNECTION_STRING: 'garbage'}).kind).to.equal('emulator')
  })

  it('registers the secrets of both connection strings, whichever way is taken', () => {
    resolveStorageTarget(
      {emulator: true, container: 'ckp'},
      {AZURE_STORAGE_CONNECTION_STRING: 'AccountName=acct;AccountKey=unused-env-key-1234'},
    )
    resolveStorageTarget({containerUrl: 'https://acct.blob.core.windows.net/cps?sv=1&sig=container-url-sig-5678'}, {})
    expect(redact('unused-env-key-1234 and container-url-sig-5678')).to.equal('REDACTED and REDACTED')
  })
})

describe('Event Hubs access', () => {
  it('reads the namespace host and the event hub once, from the flag before the environment', () => {
    const access = resolveEventHubsAccess(
      EVENT_HUBS,
      {EVENTHUBS_CONNECTION_STRING: 'Endpoint=sb://other.servicebus.windows.net/;SharedAccessKey=x'},
      'contoso.servicebus.windows.net',
      '--lag',
    )
    expect(access).to.deep.equal({
      kind: 'connection-string',
      connectionString: EVENT_HUBS,
      host: 'contoso.servicebus.windows.net',
      entityPath: 'Orders',
    })
    expect(
      resolveEventHubsAccess(
        undefined,
        {EVENTHUBS_CONNECTION_STRING: ' endpoint = sb://other.servicebus.windows.net/ ; sharedaccesskey = x '},
        'ns',
        '--lag',
      ),
    ).to.deep.include({host: 'other.servicebus.windows.net', entityPath: undefined})
    expect(redact('key ZWhrZXlaV2hyWlhrPQ==')).to.equal('key REDACTED')
  })

  it('falls back to DefaultAzureCredential only for an Event Hubs namespace host', () => {
    expect(resolveEventHubsAccess(undefined, {}, 'contoso.servicebus.windows.net', '--lag')).to.deep.equal({
      kind: 'credential',
      host: 'contoso.servicebus.windows.net',
    })
    expect(() => resolveEventHubsAccess(undefined, {}, '127.0.0.1', '--lag')).to.throw(EhcpError, /--lag needs Event Hubs access/)
  })

  it('EHCP_EVENTHUBS_ENDPOINT: with DefaultAzureCredential, the address connected to; anything but amqps|sb|https://HOST[:PORT] is a usage error', () => {
    const env = (value: string) => ({EHCP_EVENTHUBS_ENDPOINT: value})
    expect(
      resolveEventHubsAccess(undefined, env('amqps://gateway.contoso.com:5671'), 'contoso.servicebus.windows.net', '--lag'),
    ).to.deep.equal({
      kind: 'credential',
      host: 'contoso.servicebus.windows.net',
      endpoint: 'amqps://gateway.contoso.com:5671',
    })
    expect(resolveEventHubsAccess(undefined, env('sb://localhost:40000/'), 'contoso.servicebus.windows.net', '--lag')).to.deep.include({
      endpoint: 'sb://localhost:40000',
    })
    for (const bad of [
      'gateway.contoso.com',
      'http://gateway.contoso.com',
      'amqps://gateway.contoso.com/hub',
      'amqps://gateway.contoso.com?x=1',
      // Port 0 is no address to connect to (it was taken, then refused as "could not be reached", exit 7).
      'sb://127.0.0.1:0',
      'amqps://gateway.contoso.com:0',
    ]) {
      expect(() => resolveEventHubsAccess(undefined, env(bad), 'contoso.servicebus.windows.net', '--lag'), bad)
        .to.throw(EhcpError, /EHCP_EVENTHUBS_ENDPOINT .* is not an endpoint address/)
        .with.property('exitCode', 2)
    }
  })

  it('refuses a connection string without a usable Endpoint', () => {
    for (const [text, message] of [
      ['SharedAccessKeyName=k;SharedAccessKey=v', /has no Endpoint/],
      ['Endpoint=;SharedAccessKey=v', /has no Endpoint/],
      ['Endpoint=not a url;SharedAccessKey=v', /has an invalid Endpoint/],
    ] as const) {
      expect(() => resolveEventHubsAccess(text, {}, 'ns', '--lag'), text)
        .to.throw(EhcpError, message)
        .with.property('exitCode', 2)
    }
  })

  it('EHCP_EVENTHUBS_ENDPOINT changes where the connection goes, never the namespace it is for', () => {
    const env = {EHCP_EVENTHUBS_ENDPOINT: 'sb://127.0.0.1:40123/'}
    expect(resolveEventHubsAccess(EVENT_HUBS, env, 'contoso.servicebus.windows.net', '--lag')).to.deep.include({
      kind: 'connection-string',
      host: 'contoso.servicebus.windows.net',
      endpoint: 'sb://127.0.0.1:40123',
    })
    expect(resolveEventHubsAccess(undefined, env, 'contoso.servicebus.windows.net', '--lag')).to.deep.equal({
      kind: 'credential',
      host: 'contoso.servicebus.windows.net',
      endpoint: 'sb://127.0.0.1:40123',
    })
    expect(resolveEventHubsAccess(EVENT_HUBS, {EHCP_EVENTHUBS_ENDPOINT: ' '}, 'ns', '--lag')).not.to.have.property('endpoint')
    const refused = [
      '127.0.0.1:5672',
      'localhost:5672',
      'sb://[::1]:5672',
      'sb://gw.contoso.com/path',
      'sb://u:p@gw.contoso.com',
      'sb://gw?x=1',
    ]
    for (const text of refused) {
      expect(() => resolveEventHubsAccess(EVENT_HUBS, {EHCP_EVENTHUBS_ENDPOINT: text}, 'ns', '--lag'), text)
        .to.throw(EhcpError, /EHCP_EVENTHUBS_ENDPOINT .* is not an endpoint address/)
        .with.property('exitCode', 2)
    }
  })

  it('tells a connection for another namespace or event hub apart, names compared in any case', () => {
    const access = resolveEventHubsAccess(EVENT_HUBS, {}, 'contoso.servicebus.windows.net', '--lag')
    expect(eventHubsMismatch(access, 'CONTOSO.servicebus.windows.net', 'orders')).to.equal(null)
    expect(eventHubsMismatch(access, 'fabrikam.servicebus.windows.net', 'orders')).to.match(/namespace contoso\.servicebus\.windows\.net/)
    expect(eventHubsMismatch(access, 'contoso.servicebus.windows.net', 'billing')).to.match(/event hub "Orders"/)
  })
})

describe('flag readers', () => {
  it("the connection flags become the target's input and the timeout in milliseconds", () => {
    expect(
      readConnection({
        'container-url': undefined,
        'connection-string': STORAGE,
        container: 'ckp',
        'account-url': undefined,
        emulator: false,
        timeout: 30,
      }),
    ).to.deep.equal({
      containerUrl: undefined,
      connectionString: STORAGE,
      container: 'ckp',
      accountUrl: undefined,
      emulator: false,
      timeoutMs: 30_000,
    })
  })

  it('the scope flags become a filter and the ownership expiry', () => {
    expect(readScope({namespace: 'ns', eventhub: 'orders', 'consumer-group': undefined, 'ownership-expiry': 60_000})).to.deep.equal({
      filter: {namespace: 'ns', eventHub: 'orders', consumerGroup: undefined},
      ownershipExpiryMs: 60_000,
    })
  })

  it('the Event Hubs flags', () => {
    expect(
      readEventHubsOptions({
        'eventhubs-connection-string': undefined,
        'eventhubs-consumer-group': '$Default',
        'ignore-namespace-mismatch': true,
      }),
    ).to.deep.equal({
      connectionString: undefined,
      consumerGroup: '$Default',
      ignoreNamespaceMismatch: true,
    })
  })

  it('the change flags; a command without --force is never forced', () => {
    const base = {'dry-run': false, yes: true, 'backup-file': 'b.json', 'no-backup': false, concurrency: 8}
    expect(readChangeOptions({...base, force: true})).to.deep.equal({
      dryRun: false,
      yes: true,
      force: true,
      backup: true,
      backupFile: 'b.json',
      concurrency: 8,
    })
    expect(readChangeOptions(base)).to.include({force: false})
    expect(readChangeOptions({...base, 'backup-file': undefined, 'no-backup': true})).to.include({backup: false, backupFile: undefined})
  })
})
