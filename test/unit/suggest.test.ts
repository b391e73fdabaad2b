import {expect} from 'chai'

import {shellLines} from '../../src/help.js'
import {closest, editDistance} from '../../src/suggest.js'

const COMMANDS = ['autocomplete', 'help', 'list', 'release-ownership', 'reset', 'set', 'show']

describe('did-you-mean', () => {
  it('counts insertions, deletions, substitutions and neighbour swaps, case-insensitively', () => {
    expect(editDistance('show', 'show')).to.equal(0)
    expect(editDistance('shwo', 'show')).to.equal(1)
    expect(editDistance('lst', 'list')).to.equal(1)
    expect(editDistance('lisst', 'list')).to.equal(1)
    expect(editDistance('lust', 'list')).to.equal(1)
    expect(editDistance('SHOW', 'show')).to.equal(0)
    expect(editDistance('', 'set')).to.equal(3)
    expect(editDistance('reset', '')).to.equal(5)
    expect(editDistance('kitten', 'sitting')).to.equal(3)
  })

  it('suggests the nearest command for a typo', () => {
    const cases: [string, string][] = [
      ['shwo', 'show'],
      ['lst', 'list'],
      ['rest', 'reset'],
      ['sett', 'set'],
      ['release-ownershp', 'release-ownership'],
      ['release', 'release-ownership'],
      ['autocompleet', 'autocomplete'],
    ]
    for (const [typed, meant] of cases) expect(closest(typed, COMMANDS), typed).to.equal(meant)
  })

  it('suggests nothing when no name is near enough', () => {
    for (const typed of ['xyzzy', 'deploy', '', '   ', 're']) expect(closest(typed, COMMANDS), typed).to.equal(undefined)
    expect(closest('show', [])).to.equal(undefined)
  })

  it('a prefix of several names is not a suggestion', () => {
    expect(closest('res', ['reset', 'restore'])).to.equal(undefined)
  })

  it('suggests the nearest flag, the first of equals winning', () => {
    const flags = ['consumer-group', 'eventhubs-consumer-group', 'eventhub', 'namespace', 'lag', 'fail-on-lag', 'json', 'csv']
    expect(closest('consumer-grup', flags)).to.equal('consumer-group')
    expect(closest('consumergroup', flags)).to.equal('consumer-group')
    expect(closest('event-hub', flags)).to.equal('eventhub')
    expect(closest('lga', flags)).to.equal('lag')
    expect(closest('jsno', flags)).to.equal('json')
    expect(closest('ab', ['ax', 'ay'])).to.equal('ax')
  })
})

describe('help examples as shell lines', () => {
  it('breaks a long command with a trailing backslash and indents the rest', () => {
    const lines = shellLines('$ ehcp reset --eventhub orders --consumer-group billing --by-duration 2h --dry-run', 40)
    expect(lines).to.deep.equal(['$ ehcp reset --eventhub orders \\', '    --consumer-group billing \\', '    --by-duration 2h --dry-run'])
    for (const line of lines) expect(line.length).to.be.at.most(40)
    // The lines, joined as a shell joins them, are the command again.
    expect(lines.join('\n').replaceAll(' \\\n    ', ' ')).to.equal(
      '$ ehcp reset --eventhub orders --consumer-group billing --by-duration 2h --dry-run',
    )
  })

  it('leaves a short command whole, and a word longer than the width on a line of its own', () => {
    expect(shellLines('$ ehcp show -h', 40)).to.deep.equal(['$ ehcp show -h'])
    expect(shellLines('$ ehcp list https://a-very-long-account.blob.core.windows.net', 20)).to.deep.equal([
      '$ ehcp list \\',
      '    https://a-very-long-account.blob.core.windows.net',
    ])
  })
})
