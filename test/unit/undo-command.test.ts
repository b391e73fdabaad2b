/** The connection words of a printed undo: the same way of connecting, never a secret, always the container. */
import {expect} from 'chai'

import {undoConnectionWords} from '../../src/change-command.js'

describe('the undo command\'s connection words', () => {
  it('a container URL: no user info, no query, and <SAS> only where the URL had a query', () => {
    expect(undoConnectionWords({'container-url': 'https://alice:pw@acct.blob.core.windows.net/checkpoints?sv=1&sig=abc'}, 'checkpoints')).to.deep.equal([
      '--container-url',
      'https://acct.blob.core.windows.net/checkpoints?<SAS>',
    ])
    expect(undoConnectionWords({'container-url': 'https://acct.blob.core.windows.net/checkpoints'}, 'checkpoints')).to.deep.equal(['--container-url', 'https://acct.blob.core.windows.net/checkpoints'])
  })

  it('a connection string is a placeholder; the container is always named, also when it came from the environment', () => {
    expect(undoConnectionWords({'connection-string': 'AccountName=a;AccountKey=secret'}, 'cp')).to.deep.equal(['--connection-string', '<connection-string>', '--container', 'cp'])
    expect(undoConnectionWords({}, 'from-env')).to.deep.equal(['--container', 'from-env'])
    expect(undoConnectionWords({emulator: true}, 'cp')).to.deep.equal(['--emulator', '--container', 'cp'])
  })

  it('an account URL without its user info or query', () => {
    expect(undoConnectionWords({'account-url': 'https://u:p@acct.blob.core.windows.net/?x=1'}, 'cp')).to.deep.equal(['--account-url', 'https://acct.blob.core.windows.net/', '--container', 'cp'])
  })
})
