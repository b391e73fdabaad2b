/**
 * Hostile-user findings on the legacy-layout paths (see each test's bug name): each test failed before its fix.
 */
import {expect} from 'chai'

import {describeRun, runEhcp} from '../support/cli.js'
import {EPH_DOTNET, writeLegacy} from '../support/legacy-corpus.js'
import {freshContainer, type TestContainer} from '../support/services.js'

describe('attack-legacy', function () {
  let eph: TestContainer
  let unleased: TestContainer

  before(async function () {
    eph = await freshContainer()
    await writeLegacy(eph.client, EPH_DOTNET)
    unleased = await freshContainer()
    await writeLegacy(
      unleased.client,
      EPH_DOTNET.map(({leaseId: _l, ...b}) => b),
    )
  })

  after(async () => {
    await eph?.dispose()
    await unleased?.dispose()
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
  it('migrate --to-container naming a missing container says so, not "check --container" (bug 3)', async () => {
    const r = await runEhcp([
      'migrate',
      ...unleased.args,
      '--layout',
      'eph',
      '--consumer-group',
      '$Default',
      '--namespace',
      'n.servicebus.windows.net',
      '--eventhub',
      'h',
      '--to-container',
      'no-such-target',
      '--dry-run',
    ])
    expect(r.code, describeRun(r)).to.equal(3)
    expect(r.stderr).to.include('--to-container "no-such-target" does not exist')
    expect(r.stderr).to.not.include('Check --container')
  })
})
