/**
 * Secrets never reach output: every command, every output mode, success and failure, --verbose, with key
 * material that is easy to recognise. The last test checks every output of the whole test run.
 */
import {ContainerSASPermissions} from '@azure/storage-blob'
import {expect} from 'chai'

import {EMULATOR_KEY, SECRET_ACCOUNT, SECRET_ACCOUNT_KEY} from '../support/azurite.js'
import {allOutputs, runEhcp, secretsGiven} from '../support/cli.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'

function expectNoSecret(text: string, secrets: Iterable<string>) {
  for (const secret of secrets) expect(text.includes(secret), `output contains secret ${secret.slice(0, 6)}…:\n${text}`).to.equal(false)
}

describe('secrets never reach output', function () {
  this.timeout(120_000)
  let c: TestContainer
  let sasUrl: string
  let sig: string

  before(async () => {
    c = await freshContainer(SECRET_ACCOUNT)
    await putBlob(c.client, 'ns.servicebus.windows.net/orders/$default/checkpoint/0', {sequencenumber: '1', offset: '10'})
    await putBlob(c.client, 'ns.servicebus.windows.net/orders/$default/ownership/0', {ownerid: 'host'})
    sasUrl = await c.client.generateSasUrl({permissions: ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 3_600_000)})
    sig = decodeURIComponent(new URL(sasUrl).searchParams.get('sig')!)
  })
  after(() => c.dispose())

  it('in every command and output mode, by every way of connecting, on success and on failure', async () => {
    const cs = c.azurite.connectionString(SECRET_ACCOUNT)
    const connections: Array<{args: string[]; env?: Record<string, string>}> = [
      {args: ['--connection-string', cs, '--container', c.name]},
      {args: ['--container-url', sasUrl]},
      {args: [], env: {AZURE_STORAGE_CONNECTION_STRING: cs, EHCP_CONTAINER: c.name}},
    ]
    const commands = [['list'], ['show'], ['show', '--partition', '0']]
    const modes = [[], ['--json'], ['--csv'], ['--verbose']]
    const failures = [
      ['show', '--consumer-group', 'missing'],
      ['show', '--partition', '99', '--json'],
      ['list', '--bogus-flag'],
      ['list', `AccountKey=${SECRET_ACCOUNT_KEY}`],
      ['show', '--ownership-expiry', 'never'],
    ]
    let runs = 0
    for (const {args, env} of connections) {
      for (const command of commands) {
        for (const mode of modes) {
          if (command.includes('--partition') && mode.includes('--csv')) continue
          const r = await runEhcp([...command, ...args, ...mode], {env})
          expect(r.code, r.stderr).to.equal(0)
          expectNoSecret(r.stdout + r.stderr, [SECRET_ACCOUNT_KEY, sig, cs])
          runs++
        }
      }
      for (const command of failures) {
        const r = await runEhcp([...command, ...args], {env})
        expect(r.code).to.be.oneOf([2, 3])
        expectNoSecret(r.stdout + r.stderr, [SECRET_ACCOUNT_KEY, sig, cs])
        runs++
      }
    }
    // A wrong key and a forged signature fail without echoing what was given.
    const forged = sasUrl.replace(/sig=[^&]+/, 'sig=FORGEDSIGNATUREMATERIAL0123')
    const r1 = await runEhcp(['list', '--container-url', forged, '--verbose'])
    expect(r1.code).to.equal(4)
    expectNoSecret(r1.stdout + r1.stderr, ['FORGEDSIGNATUREMATERIAL0123'])
    expect(runs).to.be.greaterThan(40)
  })

  it('in any output of this whole test run', () => {
    const secrets = new Set([...secretsGiven, SECRET_ACCOUNT_KEY, EMULATOR_KEY])
    expect(secrets.size).to.be.greaterThan(2)
    expect(allOutputs.length).to.be.greaterThan(50)
    for (const output of allOutputs) expectNoSecret(output, secrets)
  })
})
