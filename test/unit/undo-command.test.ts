/**
 * The connection words of a printed undo: the same way of connecting as the change (a connection from the
 * environment is found there again), never a secret, always the container. They come from the resolved target.
 */
import {expect} from 'chai'

import {resolveStorageTarget} from '../../src/store/connect.js'

const CONNECTION_STRING = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5;EndpointSuffix=core.windows.net'
const undoWords = (input: Parameters<typeof resolveStorageTarget>[0], env: NodeJS.ProcessEnv = {}) =>
  resolveStorageTarget(input, env).undoWords

describe("the undo command's connection words", () => {
  it('a container URL: no user info, no query, and <SAS> only where the URL had a query', () => {
    expect(undoWords({containerUrl: 'https://alice:pw@acct.blob.core.windows.net/checkpoints?sv=1&sig=abc'})).to.deep.equal([
      '--container-url',
      'https://acct.blob.core.windows.net/checkpoints?<SAS>',
    ])
    expect(undoWords({containerUrl: 'https://acct.blob.core.windows.net/checkpoints'})).to.deep.equal([
      '--container-url',
      'https://acct.blob.core.windows.net/checkpoints',
    ])
    // A "?" with nothing after it is no SAS: there is nothing for the user to fill in.
    expect(undoWords({containerUrl: 'https://acct.blob.core.windows.net/checkpoints?'})).to.deep.equal([
      '--container-url',
      'https://acct.blob.core.windows.net/checkpoints',
    ])
  })

  it('a connection string is a placeholder; the container is always named, also when it came from the environment', () => {
    expect(undoWords({connectionString: CONNECTION_STRING, container: 'ckp'})).to.deep.equal([
      '--connection-string',
      '<connection-string>',
      '--container',
      'ckp',
    ])
    expect(undoWords({connectionString: CONNECTION_STRING}, {EHCP_CONTAINER: 'from-env'})).to.deep.equal([
      '--connection-string',
      '<connection-string>',
      '--container',
      'from-env',
    ])
    expect(undoWords({emulator: true, container: 'ckp'})).to.deep.equal(['--emulator', '--container', 'ckp'])
  })

  it('an account URL without its user info (a query is refused before: the container would follow it)', () => {
    expect(() => undoWords({accountUrl: 'https://acct.blob.core.windows.net/?x=1', container: 'ckp'})).to.throw(/takes no query string/)
    expect(undoWords({accountUrl: 'https://u:p@acct.blob.core.windows.net/', container: 'ckp'})).to.deep.equal([
      '--account-url',
      'https://acct.blob.core.windows.net/',
      '--container',
      'ckp',
    ])
  })

  it('a connection from the environment stays there: no flag, only the container', () => {
    expect(undoWords({}, {AZURE_STORAGE_CONNECTION_STRING: CONNECTION_STRING, EHCP_CONTAINER: 'from-env'})).to.deep.equal([
      '--container',
      'from-env',
    ])
    expect(undoWords({container: 'ckp'}, {AZURE_STORAGE_CONNECTION_STRING: CONNECTION_STRING})).to.deep.equal(['--container', 'ckp'])
    expect(undoWords({container: 'ckp'}, {EHCP_ACCOUNT_URL: 'https://acct.blob.core.windows.net'})).to.deep.equal(['--container', 'ckp'])
    // The emulator's endpoint override is environment too: the undo finds it there again.
    expect(
      undoWords({emulator: true, container: 'ckp'}, {EHCP_EMULATOR_BLOB_ENDPOINT: 'http://127.0.0.1:9999/devstoreaccount1'}),
    ).to.deep.equal(['--emulator', '--container', 'ckp'])
  })

  it('a flag over the environment: the undo names the flag, since the environment alone would connect elsewhere', () => {
    const env = {
      AZURE_STORAGE_CONNECTION_STRING: CONNECTION_STRING,
      EHCP_ACCOUNT_URL: 'https://other.blob.core.windows.net',
      EHCP_CONTAINER: 'from-env',
    }
    expect(undoWords({emulator: true}, env)).to.deep.equal(['--emulator', '--container', 'from-env'])
    expect(undoWords({accountUrl: 'https://acct.blob.core.windows.net'}, env)).to.deep.equal([
      '--account-url',
      'https://acct.blob.core.windows.net/',
      '--container',
      'from-env',
    ])
    expect(undoWords({connectionString: CONNECTION_STRING.replace('acct', 'flagacct')}, env)).to.deep.equal([
      '--connection-string',
      '<connection-string>',
      '--container',
      'from-env',
    ])
  })

  it('never carries a secret of the connection', () => {
    const words = [
      ...undoWords({connectionString: CONNECTION_STRING, container: 'ckp'}),
      ...undoWords({containerUrl: 'https://acct.blob.core.windows.net/ckp?sv=2024&sig=c2lnbmF0dXJl'}),
      ...undoWords({}, {AZURE_STORAGE_CONNECTION_STRING: CONNECTION_STRING, EHCP_CONTAINER: 'ckp'}),
    ].join(' ')
    expect(words).to.include('--container ckp')
    expect(words).not.to.match(/c2VjcmV0a2V5|c2lnbmF0dXJl|AccountKey|sig=/)
  })
})
