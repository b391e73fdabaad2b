/**
 * Hostile-user findings on the legacy-layout paths (see each test's bug name): each test failed before its fix.
 */
import {expect} from 'chai'

import {describeRun, runEhcp} from '../support/cli.js'
import {EPH_DOTNET, writeLegacy} from '../support/legacy-corpus.js'
import {freshContainer, type TestContainer} from '../support/services.js'

describe('attack-legacy', function () {
  let eph: TestContainer

  before(async function () {
    eph = await freshContainer()
    await writeLegacy(eph.client, EPH_DOTNET)
  })

  after(async () => {
    await eph?.dispose()
  })

  it('show of an eph group names it by layout, not as "null / null / $Default" (bug 2)', async () => {
    const r = await runEhcp(['show', ...eph.args, '--layout', 'eph', '--consumer-group', '$Default'])
    expect(r.code, describeRun(r)).to.equal(0)
    const heading = r.stdout.split('\n')[0]
    expect(heading).to.not.include('null')
    expect(heading).to.include('eph')
    expect(heading).to.include('$Default')
    expect(heading).to.include('3 partitions')
  })
})
