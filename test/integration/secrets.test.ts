/**
 * Secrets never reach output: every command, every output mode, success and failure, --verbose, with key
 * material that is easy to recognise. The last test checks every output of the whole test run.
 */
import {ContainerSASPermissions} from '@azure/storage-blob'
import {expect} from 'chai'

import {mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {EMULATOR_KEY, SECRET_ACCOUNT, SECRET_ACCOUNT_KEY} from '../../local/azurite.js'
import {EventHubsStandin} from '../../local/eventhubs-standin.js'
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

  it('with debug logging on (--verbose, AZURE_LOG_LEVEL, DEBUG=*), including Event Hubs keys and backup files', async () => {
    const hubs = await EventHubsStandin.start()
    const cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-secrets-'))
    try {
      hubs.createHub('orders', 2)
      const events = hubs.append('orders', '0', [{body: 1}, {body: 2}, {body: 3}])
      await putBlob(c.client, '127.0.0.1/orders/$default/checkpoint/0', {sequencenumber: '0', offset: events[0]!.offset})
      const hubKey = 'EHCP-EVENTHUBS-KEY-never-print-me-9876543210'
      const hubsCs = hubs.connectionString().replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${hubKey}`)
      const cs = c.azurite.connectionString(SECRET_ACCOUNT)
      const env = {AZURE_LOG_LEVEL: 'verbose', DEBUG: '*', EVENTHUBS_CONNECTION_STRING: hubsCs}
      const runs = [
        ['show', '--namespace', '127.0.0.1', '--lag', '--verbose'],
        ['list', '--namespace', '127.0.0.1', '--lag', '--verbose', '--json'],
        ['reset', '--namespace', '127.0.0.1', '--to-earliest', '--yes', '--verbose'],
        ['set', '--namespace', '127.0.0.1', '--partition', '0', '--sequence-number', '1', '--yes', '--verbose'],
        ['release-ownership', '--namespace', '127.0.0.1', '--dry-run', '--verbose'],
      ]
      for (const args of runs) {
        for (const connect of [
          ['--connection-string', cs, '--container', c.name],
          ['--container-url', sasUrl.replace('sp=rl', 'sp=rl')],
        ]) {
          const r = await runEhcp([...args, ...connect], {env, cwd})
          expectNoSecret(r.stdout + r.stderr, [SECRET_ACCOUNT_KEY, sig, cs, hubKey, hubsCs])
          if (connect[0] === '--connection-string') expect(r.code, `${args.join(' ')}\n${r.stderr.slice(-2000)}`).to.equal(0)
        }
      }
      const backups = readdirSync(cwd)
      expect(backups.length).to.be.greaterThan(0)
      for (const file of backups)
        expectNoSecret(readFileSync(path.join(cwd, file), 'utf8'), [SECRET_ACCOUNT_KEY, sig, cs, hubKey, hubsCs, 'AccountKey'])
    } finally {
      await hubs.stop()
    }
  })

  it('in any output of this whole test run', () => {
    const secrets = new Set([...secretsGiven, SECRET_ACCOUNT_KEY, EMULATOR_KEY])
    expect(secrets.size).to.be.greaterThan(2)
    expect(allOutputs.length).to.be.greaterThan(50)
    for (const output of allOutputs) expectNoSecret(output, secrets)
  })
})
