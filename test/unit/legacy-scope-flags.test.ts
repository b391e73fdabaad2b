/**
 * The scope flags each legacy layout takes (the contract's table under `show`): every other one given is exit 2
 * naming it; --namespace and --eventhub pass when they name the event hub for an Event Hubs use (--lag, a lookup).
 */
import {expect} from 'chai'

import {EhcpError} from '../../src/errors.js'
import {LEGACY_LAYOUTS} from '../../src/store/layouts.js'
import {LAYOUT_SCOPE_FLAGS, refuseScopeFlags} from '../../src/store/legacy-group.js'

const FLAGS = {namespace: '--namespace', eventHub: '--eventhub', consumerGroup: '--consumer-group', blobPrefix: '--blob-prefix'} as const

const TAKES: Record<string, string[]> = {
  eph: ['--consumer-group', '--blob-prefix'],
  'functions-v4': ['--namespace', '--eventhub', '--consumer-group'],
  dapr: ['--eventhub', '--consumer-group'],
  go: ['--blob-prefix'],
  'python-eph': [],
}

function refusal(run: () => void): EhcpError | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    expect(error).to.be.instanceOf(EhcpError)
    return error as EhcpError
  }
}

describe('legacy scope flags', () => {
  it('each layout takes exactly the flags of the contract; each other flag is refused with exit 2, naming it', () => {
    let checked = 0
    for (const layout of LEGACY_LAYOUTS) {
      expect(LAYOUT_SCOPE_FLAGS[layout].map((k) => FLAGS[k as keyof typeof FLAGS])).to.deep.equal(TAKES[layout])
      for (const [key, flag] of Object.entries(FLAGS)) {
        const error = refusal(() => refuseScopeFlags(layout, {[key]: 'x'}))
        checked++
        if (TAKES[layout]!.includes(flag)) expect(error, `${layout} ${flag}`).to.equal(undefined)
        else {
          expect(error?.exitCode, `${layout} ${flag}`).to.equal(2)
          expect(error?.message).to.include(`${flag} does not apply to the ${layout} layout`)
        }
      }
    }
    expect(checked).to.equal(20)
  })

  it('--namespace and --eventhub pass when they name the hub for Event Hubs; --consumer-group and --blob-prefix never do', () => {
    expect(refusal(() => refuseScopeFlags('python-eph', {namespace: 'n', eventHub: 'h'}, '--lag'))).to.equal(undefined)
    expect(refusal(() => refuseScopeFlags('eph', {namespace: 'n', eventHub: 'h'}, '--lag'))).to.equal(undefined)
    expect(refusal(() => refuseScopeFlags('python-eph', {consumerGroup: 'x'}, '--lag'))?.exitCode).to.equal(2)
    expect(refusal(() => refuseScopeFlags('dapr', {blobPrefix: 'p/'}, '--lag'))?.exitCode).to.equal(2)
  })
})
