/**
 * Profiles, the pure parts: where the config file is, what a valid file is, which profile applies, which values
 * it fills in (the precedence), how `config set` changes a profile, and that secrets never reach the display.
 */
import {expect} from 'chai'

import path from 'node:path'

import {EhcpError} from '../../src/errors.js'
import {
  checkProfileName,
  checkSettings,
  type Config,
  configDir,
  displayProfile,
  fillFromProfiles,
  parseConfig,
  profileSecrets,
  profileSettings,
  type ProfileSelection,
  type ProfileSettings,
  selectProfiles,
  SETTING_KEYS,
  type SettingKey,
  updateProfile,
} from '../../src/profiles.js'

const KEY = 'c2VjcmV0a2V5c2VjcmV0a2V5'
const STORAGE = `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${KEY};EndpointSuffix=core.windows.net`
const EH_KEY = 'ZWhrZXlaV2hyWlhrPQ=='
const EVENT_HUBS = `Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=${EH_KEY}`
const SAS_URL = 'https://acct.blob.core.windows.net/checkpoints?sv=2022-11-02&sp=rl&sig=c2lnbmF0dXJlc2lnbmF0dXJl'

function usage(fn: () => unknown, pattern: RegExp): EhcpError {
  let thrown: unknown
  try {
    fn()
  } catch (error) {
    thrown = error
  }
  expect(thrown, 'expected a usage error').to.be.instanceOf(EhcpError)
  const error = thrown as EhcpError
  expect(error.exitCode).to.equal(2)
  expect(error.message).to.match(pattern)
  return error
}

const ALL = new Set<SettingKey>(SETTING_KEYS)
const config = (data: unknown): Config => ({file: '/cfg/config.json', data: parseConfig(JSON.stringify(data), '/cfg/config.json')})

describe('profiles: the config file', () => {
  it('lives in EHCP_CONFIG_DIR, else $XDG_CONFIG_HOME/ehcp (absolute only), else ~/.config/ehcp', () => {
    expect(configDir({EHCP_CONFIG_DIR: '/x/y', XDG_CONFIG_HOME: '/xdg'}, '/home/u')).to.equal(path.resolve('/x/y'))
    expect(configDir({XDG_CONFIG_HOME: '/xdg'}, '/home/u')).to.equal(path.join('/xdg', 'ehcp'))
    expect(configDir({XDG_CONFIG_HOME: 'relative/dir'}, '/home/u')).to.equal(path.join('/home/u', '.config', 'ehcp'))
    expect(configDir({XDG_CONFIG_HOME: ''}, '/home/u')).to.equal(path.join('/home/u', '.config', 'ehcp'))
    expect(configDir({}, '/home/u')).to.equal(path.join('/home/u', '.config', 'ehcp'))
  })

  it('profile names: letters, digits, ".", "_", "-", starting with a letter or digit, at most 64', () => {
    for (const good of ['prod', 'Prod-2', 'a', 'eu.west_1', 'x'.repeat(64)]) expect(checkProfileName(good, 'Profile')).to.equal(good)
    const bad = ['', '-prod', '.hidden', 'a b', 'a/b', '../x', 'x'.repeat(65), 'prod\n', 'é']
    for (const name of bad) usage(() => checkProfileName(name, 'Profile'), /is not a valid profile name/)
  })

  it('refuses a corrupt or unexpected file, naming it, with the way out', () => {
    const cases: Array<[string, RegExp]> = [
      ['{not json', /not valid JSON/],
      ['[]', /does not hold a JSON object/],
      ['"text"', /does not hold a JSON object/],
      ['{"profiles": {}}', /schemaVersion undefined/],
      ['{"schemaVersion": 2, "profiles": {}}', /schemaVersion 2/],
      ['{"schemaVersion": 1, "profiles": []}', /"profiles" is not an object/],
      ['{"schemaVersion": 1, "profiles": {"a b": {}}}', /not a valid profile name/],
      ['{"schemaVersion": 1, "profiles": {"p": "x"}}', /profile "p" is not an object/],
      ['{"schemaVersion": 1, "profiles": {"p": {"container": 3}}}', /container is not a string/],
      ['{"schemaVersion": 1, "profiles": {"p": {"emulator": "yes"}}}', /emulator is not true or false/],
      ['{"schemaVersion": 1, "profiles": {"p": {"emulator": true, "accountUrl": "https://a"}}}', /more than one way/],
      ['{"schemaVersion": 1, "profiles": {}, "defaultProfile": "gone"}', /default profile "gone", which it does not hold/],
      ['{"schemaVersion": 1, "profiles": {}, "defaultProfile": 1}', /"defaultProfile" is not a string/],
    ]
    for (const [text, pattern] of cases) {
      const error = usage(() => parseConfig(text, '/cfg/config.json'), pattern)
      expect(error.message).to.contain('/cfg/config.json')
      expect(error.hint).to.match(/Fix \/cfg\/config.json/)
    }
  })

  it('keeps keys it does not know, at the top and in a profile, and applies only those it knows', () => {
    const data = parseConfig(
      JSON.stringify({schemaVersion: 1, future: {x: 1}, profiles: {p: {container: 'c1', colour: 'blue', emulator: false}}}),
      'f',
    )
    expect(data.future).to.deep.equal({x: 1})
    expect(profileSettings(data.profiles.p!)).to.deep.equal({container: 'c1'})
    expect(updateProfile(data.profiles.p, {eventHub: 'orders'})).to.deep.equal({
      container: 'c1',
      colour: 'blue',
      emulator: false,
      eventHub: 'orders',
    })
  })
})

describe('profiles: which one applies', () => {
  const cfg = config({
    schemaVersion: 1,
    defaultProfile: 'dflt',
    profiles: {dflt: {container: 'd'}, named: {container: 'n'}, env: {container: 'e'}},
  })

  it('--profile, else EHCP_PROFILE (named); else the default profile (fallback)', () => {
    expect(selectProfiles(cfg, 'named', {EHCP_PROFILE: 'env'})).to.deep.equal({named: {name: 'named', settings: {container: 'n'}}})
    expect(selectProfiles(cfg, undefined, {EHCP_PROFILE: 'env'})).to.deep.equal({named: {name: 'env', settings: {container: 'e'}}})
    expect(selectProfiles(cfg, undefined, {EHCP_PROFILE: ''})).to.deep.equal({fallback: {name: 'dflt', settings: {container: 'd'}}})
    expect(selectProfiles(cfg, undefined, {})).to.deep.equal({fallback: {name: 'dflt', settings: {container: 'd'}}})
    expect(selectProfiles(config({schemaVersion: 1, profiles: {}}), undefined, {})).to.deep.equal({})
  })

  it('an unknown or invalid name is a usage error listing the profiles there are', () => {
    expect(usage(() => selectProfiles(cfg, 'nope', {}), /--profile "nope": there is no such profile/).hint).to.contain('dflt, named, env')
    usage(() => selectProfiles(cfg, undefined, {EHCP_PROFILE: 'nope'}), /EHCP_PROFILE "nope"/)
    usage(() => selectProfiles(cfg, '../x', {}), /not a valid profile name/)
    // Not inherited from Object.prototype.
    usage(() => selectProfiles(cfg, 'constructor', {}), /no such profile/)
    expect(usage(() => selectProfiles(config({schemaVersion: 1, profiles: {}}), 'p', {}), /no such profile/).hint).to.contain(
      'ehcp config set',
    )
  })
})

describe('profiles: the values a profile fills in (precedence)', () => {
  const prod: ProfileSettings = {
    accountUrl: 'https://prod.blob.core.windows.net',
    container: 'ckp',
    namespace: 'contoso.servicebus.windows.net',
    eventHub: 'orders',
    consumerGroup: 'billing',
    eventHubsConsumerGroup: 'ehcp',
    eventHubsConnectionString: EVENT_HUBS,
  }
  const named: ProfileSelection = {named: {name: 'prod', settings: prod}}
  const fallback: ProfileSelection = {fallback: {name: 'prod', settings: prod}}
  const connectionEnv = {AZURE_STORAGE_CONNECTION_STRING: STORAGE, EHCP_CONTAINER: 'envc', EVENTHUBS_CONNECTION_STRING: 'Endpoint=sb://x/'}

  it('nothing given: the profile gives everything, and is named as the way to storage', () => {
    for (const selection of [named, fallback]) {
      expect(fillFromProfiles({}, ALL, selection, {})).to.deep.equal({values: prod, storageFrom: 'prod'})
    }
    expect(fillFromProfiles({}, ALL, {}, connectionEnv)).to.deep.equal({values: {}})
  })

  it('explicit flags win value by value; a way given by a flag replaces the profile way whole', () => {
    const {values, storageFrom} = fillFromProfiles({emulator: true, eventHub: 'payments'}, ALL, named, {})
    expect(storageFrom).to.equal(undefined)
    expect(values).to.deep.equal({
      container: 'ckp',
      namespace: 'contoso.servicebus.windows.net',
      consumerGroup: 'billing',
      eventHubsConsumerGroup: 'ehcp',
      eventHubsConnectionString: EVENT_HUBS,
    })
    // Every way a flag can give blocks the profile's way, whatever their order in the contract.
    for (const way of ['containerUrl', 'connectionString', 'accountUrl', 'emulator'] as const) {
      const given = {[way]: way === 'emulator' ? true : 'x'} as ProfileSettings
      const filled = fillFromProfiles(given, ALL, {named: {name: 'p', settings: {containerUrl: SAS_URL}}}, {})
      expect(filled, way).to.deep.equal({values: {}})
    }
  })

  it('a named profile beats the connection environment variables', () => {
    const {values, storageFrom} = fillFromProfiles({}, ALL, named, connectionEnv)
    expect(storageFrom).to.equal('prod')
    expect(values).to.deep.equal(prod)
  })

  it('the default profile yields to the environment: the way to storage, the container, the Event Hubs connection string', () => {
    const {values, storageFrom} = fillFromProfiles({}, ALL, fallback, connectionEnv)
    expect(storageFrom).to.equal(undefined)
    expect(values).to.deep.equal({
      namespace: 'contoso.servicebus.windows.net',
      eventHub: 'orders',
      consumerGroup: 'billing',
      eventHubsConsumerGroup: 'ehcp',
    })
    // EHCP_ACCOUNT_URL is a way to storage too; EHCP_CONTAINER alone leaves the way to the profile.
    expect(fillFromProfiles({}, ALL, fallback, {EHCP_ACCOUNT_URL: 'https://a'}).storageFrom).to.equal(undefined)
    const containerOnly = fillFromProfiles({}, ALL, fallback, {EHCP_CONTAINER: 'envc'})
    expect(containerOnly.storageFrom).to.equal('prod')
    expect(containerOnly.values.container).to.equal(undefined)
    expect(containerOnly.values.accountUrl).to.equal(prod.accountUrl)
  })

  it('only where the command takes the value', () => {
    const accepted = new Set<SettingKey>(['accountUrl', 'container', 'namespace', 'eventHub', 'consumerGroup'])
    expect(fillFromProfiles({}, accepted, named, {}).values).to.deep.equal({
      accountUrl: prod.accountUrl,
      container: 'ckp',
      namespace: 'contoso.servicebus.windows.net',
      eventHub: 'orders',
      consumerGroup: 'billing',
    })
    expect(fillFromProfiles({}, new Set(), named, {})).to.deep.equal({values: {}})
  })

  it('an emulator profile fills in --emulator', () => {
    expect(fillFromProfiles({}, ALL, {named: {name: 'local', settings: {emulator: true, container: 'c1'}}}, {})).to.deep.equal({
      values: {emulator: true, container: 'c1'},
      storageFrom: 'local',
    })
  })
})

describe('profiles: config set', () => {
  it('a new way to storage replaces the old one (and its secret); --unset removes values; the rest stays', () => {
    const before = {connectionString: STORAGE, container: 'c1', eventHub: 'orders', extra: 1}
    expect(updateProfile(before, {emulator: true})).to.deep.equal({container: 'c1', eventHub: 'orders', extra: 1, emulator: true})
    expect(updateProfile(before, {container: 'c2'}, ['eventHub'])).to.deep.equal({connectionString: STORAGE, container: 'c2', extra: 1})
    expect(updateProfile(undefined, {namespace: 'ns'})).to.deep.equal({namespace: 'ns'})
  })

  it('saves a secret only when asked', () => {
    for (const settings of [{connectionString: STORAGE}, {containerUrl: SAS_URL}, {eventHubsConnectionString: EVENT_HUBS}]) {
      const error = usage(() => checkSettings(settings, false), /would hold a secret/)
      expect(error.hint).to.contain('--save-secret')
      expect(() => checkSettings(settings, true)).not.to.throw()
    }
    expect(() => checkSettings({containerUrl: 'https://acct.blob.core.windows.net/checkpoints'}, false)).not.to.throw()
  })

  it('checks values as a command would use them', () => {
    usage(() => checkSettings({container: 'Bad_Name'}, false), /not a valid container name/)
    usage(() => checkSettings({accountUrl: 'http://acct.blob.core.windows.net'}, false), /must be an https URL/)
    usage(() => checkSettings({containerUrl: 'https://acct.blob.core.windows.net/c1/blob'}, false), /points below a container/)
    usage(() => checkSettings({connectionString: 'nonsense'}, true), /connection string is not valid/)
    usage(() => checkSettings({eventHubsConnectionString: 'SharedAccessKey=abcd'}, true), /has no Endpoint/)
    usage(() => checkSettings({eventHub: ' '}, false), /empty eventHub/)
    expect(() => checkSettings({emulator: true, container: 'checkpoints', eventHub: 'orders'}, false)).not.to.throw()
  })
})

describe('profiles: secrets', () => {
  it('are found in connection strings and a container URL query', () => {
    expect(profileSecrets({connectionString: STORAGE})).to.include(KEY)
    expect(profileSecrets({eventHubsConnectionString: EVENT_HUBS})).to.include(EH_KEY)
    expect(profileSecrets({containerUrl: SAS_URL})).to.include('c2lnbmF0dXJlc2lnbmF0dXJl')
    expect(profileSecrets({containerUrl: 'https://a.blob.core.windows.net/c', accountUrl: 'x', container: 'c'})).to.deep.equal([])
  })

  it('never reach what list and show print: only what they are, and for storage which account', () => {
    const shown = displayProfile({
      connectionString: STORAGE,
      eventHubsConnectionString: EVENT_HUBS,
      container: 'c1',
      eventHub: 'orders',
    })
    const text = JSON.stringify(shown)
    for (const secret of [KEY, EH_KEY, STORAGE, EVENT_HUBS]) expect(text).not.to.contain(secret)
    expect(shown).to.deep.equal({
      connectionString: '<secret: connection string for acct>',
      container: 'c1',
      eventHub: 'orders',
      eventHubsConnectionString: '<secret: connection string for sb://contoso.servicebus.windows.net>',
    })
    const url = displayProfile({containerUrl: SAS_URL})
    expect(url).to.deep.equal({containerUrl: 'https://acct.blob.core.windows.net/checkpoints?<secret: SAS>'})
  })
})
