/**
 * withDeadline: a call that waits on something which will never answer, with nothing else keeping the
 * process alive (a dead AMQP connection), still ends at its deadline with the timeout error. With the
 * timer of `AbortSignal.timeout` (unref'd), Node leaves mid-await instead: exit 13, nothing printed.
 */
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {withDeadline} from '../../src/concurrency.js'

const CONCURRENCY = fileURLToPath(new URL('../../src/concurrency.js', import.meta.url))

describe('withDeadline', () => {
  it('ends a call that never settles, in a process with nothing else pending, with the timeout error', () => {
    const script = `
      const {withDeadline} = await import(${JSON.stringify(CONCURRENCY)})
      try {
        await withDeadline(200, undefined, () => new Promise(() => {}), () => new Error('deadline passed'))
      } catch (error) {
        console.log(error.message)
      }`
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', timeout: 10_000})
    expect([run.status, run.stdout.trim()]).to.deep.equal([0, 'deadline passed'])
  })

  it("passes the caller's own abort through, not as a timeout", async () => {
    const caller = new AbortController()
    const pending = withDeadline(
      10_000,
      caller.signal,
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      () => new Error('deadline passed'),
    )
    caller.abort(new Error('cancelled by the caller'))
    await pending.then(
      () => expect.fail('it should have been aborted'),
      (error: Error) => expect(error.message).to.equal('cancelled by the caller'),
    )
  })

  it('returns the result and leaves no timer behind', async () => {
    expect(
      await withDeadline(
        10_000,
        undefined,
        async () => 42,
        () => new Error('deadline passed'),
      ),
    ).to.equal(42)
  })
})
