/**
 * Profiles through the built binary against Azurite: a profile saved for a container reaches it through
 * --profile, EHCP_PROFILE and the default profile; flags win over a profile, a named profile over the environment,
 * the environment over the default profile; the undo of a change made through a profile names the profile and
 * restores its own group whatever the profile's scope says; secrets are saved only when asked, never printed, in
 * a file only its owner can read; a file others can read, a corrupt file or an unknown profile changes nothing.
 */
import {existsSync, mkdtempSync, readdirSync, readFileSync, statSync, chmodSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {SECRET_ACCOUNT, SECRET_ACCOUNT_KEY} from '../../local/azurite.js'
import type {ChangeResult} from '../../src/change/execute.js'
import type {ProfilesReport} from '../../src/profiles.js'
import {type CliResult, describeRun, runEhcp, runPrinted} from '../support/cli.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {metadataSnapshot} from '../support/snapshot.js'

const NS = 'profiles.servicebus.windows.net'

interface ShowJson {
  eventHub: string
  consumerGroup: string
  partitions: Array<{partitionId: string; checkpoint: {sequenceNumber: number} | null}>
}

describe('profiles', function () {
  this.timeout(120_000)
  let c: TestContainer
  let cs: string
  let dir: string
  let cwd: string
  const file = () => path.join(dir, 'config.json')
  const ehcp = (args: string[], env: Record<string, string | undefined> = {}) => runEhcp(args, {cwd, env: {EHCP_CONFIG_DIR: dir, ...env}})
  const ok = (r: CliResult) => {
    expect(r.code, describeRun(r)).to.equal(0)
    return r
  }
  const noSecret = (r: CliResult) => {
    for (const secret of [SECRET_ACCOUNT_KEY, cs]) expect(r.stdout + r.stderr).not.to.contain(secret)
  }

  before(async () => {
    c = await freshContainer(SECRET_ACCOUNT)
    cs = c.azurite.connectionString(SECRET_ACCOUNT)
    for (const hub of ['orders', 'payments']) {
      for (const group of ['$default', 'billing']) {
        for (const p of [0, 1]) {
          const seq = (hub === 'orders' ? 100 : 200) + (group === 'billing' ? 10 : 0) + p
          await putBlob(c.client, `${NS}/${hub}/${group}/checkpoint/${p}`, {sequencenumber: String(seq), offset: String(seq * 10)})
        }
      }
    }
  })
  after(() => c.dispose())

  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(tmpdir(), 'ehcp-profiles-')), 'ehcp')
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-profiles-cwd-'))
  })

  /** Saves profile p: this container (connection string, a secret), event hub orders. */
  async function saveProfile(name = 'p', extra: string[] = []): Promise<CliResult> {
    const r = ok(
      await ehcp([
        'config',
        'set',
        name,
        '--connection-string',
        cs,
        '--container',
        c.name,
        '--eventhub',
        'orders',
        '--save-secret',
        ...extra,
      ]),
    )
    noSecret(r)
    return r
  }

  it('a saved profile reaches the container through --profile, EHCP_PROFILE and the default profile', async () => {
    await saveProfile()
    const expectOrders = (r: CliResult) => {
      const view = ok(r).json<ShowJson>()
      expect(view.eventHub).to.equal('orders')
      expect(view.consumerGroup).to.equal('$default')
      expect(view.partitions.map((p) => p.checkpoint?.sequenceNumber)).to.deep.equal([100, 101])
      noSecret(r)
    }
    expectOrders(await ehcp(['show', '--profile', 'p', '--json']))
    expectOrders(await ehcp(['show', '--json'], {EHCP_PROFILE: 'p'}))
    // Without a default profile there is no connection at all.
    const none = await ehcp(['show', '--json'])
    expect(none.code).to.equal(2)
    expect(none.stdout).to.contain('No storage connection given')
    ok(await ehcp(['config', 'use', 'p']))
    expectOrders(await ehcp(['show', '--json']))
    // config use --none leaves no default again.
    ok(await ehcp(['config', 'use', '--none']))
    expect((await ehcp(['show', '--json'])).code).to.equal(2)
  })

  it('flags win over a profile, a named profile over the environment, the environment over the default profile', async () => {
    await saveProfile()
    // A flag wins over the profile's scope; the profile still gives what the flags do not.
    const payments = ok(await ehcp(['show', '--profile', 'p', '--eventhub', 'payments', '--consumer-group', 'billing', '--json']))
    expect(payments.json<ShowJson>().partitions.map((p) => p.checkpoint?.sequenceNumber)).to.deep.equal([210, 211])
    // A flag wins over the profile's container: this one does not exist (exit 3, not found).
    const other = await ehcp(['show', '--profile', 'p', '--container', 'no-such-container', '--json'])
    expect(other.code, describeRun(other)).to.equal(3)
    // A way to storage given as a flag replaces the profile's whole: --emulator at a closed port cannot be reached.
    const emulator = await ehcp(['show', '--profile', 'p', '--emulator', '--timeout', '2', '--json'], {
      EHCP_EMULATOR_BLOB_ENDPOINT: 'http://127.0.0.1:9/devstoreaccount1',
    })
    expect(emulator.code, describeRun(emulator)).to.equal(7)

    // The environment names a container that does not exist.
    const env = {AZURE_STORAGE_CONNECTION_STRING: cs, EHCP_CONTAINER: 'no-such-container'}
    const named = await ehcp(['show', '--profile', 'p', '--json'], env)
    expect(named.code, describeRun(named)).to.equal(0)
    expect((await ehcp(['show', '--json'], {...env, EHCP_PROFILE: 'p'})).code).to.equal(0)
    ok(await ehcp(['config', 'use', 'p']))
    const byDefault = await ehcp(['show', '--json'], env)
    expect(byDefault.code, describeRun(byDefault)).to.equal(3)
    // The default profile's scope still applies where the environment has none: event hub orders.
    const scoped = ok(await ehcp(['show', '--json'], {AZURE_STORAGE_CONNECTION_STRING: cs, EHCP_CONTAINER: c.name}))
    expect(scoped.json<ShowJson>().eventHub).to.equal('orders')
  })

  it('the undo of a change made through a profile names the profile, and restores its group whatever the profile says later', async () => {
    await saveProfile()
    const before = await metadataSnapshot(c.client)
    const change = ok(await ehcp(['reset', '--profile', 'p', '--from-consumer-group', 'billing', '--yes', '--json']))
    const undo = change.json<ChangeResult>().undoCommand!
    expect(undo).to.match(/--profile p\b/)
    expect(undo).not.to.contain('<connection-string>')
    noSecret(change)
    expect(await metadataSnapshot(c.client)).not.to.deep.equal(before)
    // The profile now points at another group (and is the default): the backup still restores $default of orders.
    ok(await ehcp(['config', 'set', 'p', '--eventhub', 'payments', '--consumer-group', 'billing']))
    ok(await ehcp(['config', 'use', 'p']))
    const undone = await runPrinted(undo, {cwd, env: {EHCP_CONFIG_DIR: dir}})
    expect(undone.code, describeRun(undone)).to.equal(0)
    expect(await metadataSnapshot(c.client)).to.deep.equal(before)
  })

  it('config list and show: the profiles, the default marked, secrets never printed; --json', async () => {
    await saveProfile('p')
    ok(await ehcp(['config', 'set', 'local', '--emulator', '--container', 'checkpoints', '--namespace', NS]))
    ok(await ehcp(['config', 'use', 'local']))
    const list = ok(await ehcp(['config', 'list']))
    noSecret(list)
    expect(list.stdout).to.match(/^DEFAULT\s+NAME\s+STORAGE\s+CONTAINER/)
    expect(list.stdout).to.match(/\n\s+p\s+<secret: connection string for \S*ehcpsecretacct/)
    expect(list.stdout).to.match(/\n\*\s+local\s+emulator\s+checkpoints\s+profiles\.servicebus\.windows\.net/)
    const json = ok(await ehcp(['config', 'list', '--json'])).json<ProfilesReport>()
    expect(json.defaultProfile).to.equal('local')
    expect(json.configFile).to.equal(file())
    expect(json.profiles.map((p) => [p.name, p.default])).to.deep.equal([
      ['p', false],
      ['local', true],
    ])
    expect(json.profiles[0]!.settings.connectionString).to.match(/^<secret: /)
    const show = ok(await ehcp(['config', 'show', 'p']))
    noSecret(show)
    expect(show.stdout).to.contain(`container          ${c.name}`)
    // Without a name: EHCP_PROFILE, else the default.
    expect(ok(await ehcp(['config', 'show', '--json'])).json<ProfilesReport>().profiles[0]!.name).to.equal('local')
    expect(ok(await ehcp(['config', 'show', '--json'], {EHCP_PROFILE: 'p'})).json<ProfilesReport>().profiles[0]!.name).to.equal('p')
    // The file itself holds the secret, as asked.
    expect(readFileSync(file(), 'utf8')).to.contain(SECRET_ACCOUNT_KEY)
    // Deleting the default profile leaves no default.
    const deleted = ok(await ehcp(['config', 'delete', 'local', '--json'])).json<ProfilesReport>()
    expect(deleted.defaultProfile).to.equal(null)
    expect(
      ok(await ehcp(['config', 'list', '--json']))
        .json<ProfilesReport>()
        .profiles.map((p) => p.name),
    ).to.deep.equal(['p'])
  })

  it('a secret is saved only with --save-secret (from the flag, or from the environment); nothing is written without it', async () => {
    const refused = await ehcp(['config', 'set', 'p', '--connection-string', cs, '--container', c.name])
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.contain('--save-secret')
    noSecret(refused)
    expect(existsSync(file())).to.equal(false)
    const sas = await ehcp([
      'config',
      'set',
      'p',
      '--container-url',
      `https://acct.blob.core.windows.net/c1?sv=1&sig=U0lHTkFUVVJFU0lHTkFUVVJF`,
    ])
    expect(sas.code).to.equal(2)
    expect(sas.stdout + sas.stderr).not.to.contain('U0lHTkFUVVJFU0lHTkFUVVJF')
    expect(existsSync(file())).to.equal(false)
    const nothing = await ehcp(['config', 'set', 'p', '--container', c.name, '--save-secret'])
    expect(nothing.code).to.equal(2)
    expect(nothing.stderr).to.contain('no secret was given')
    // From the environment: the connection string never appears on the command line.
    const fromEnv = ok(await ehcp(['config', 'set', 'p', '--container', c.name, '--save-secret'], {AZURE_STORAGE_CONNECTION_STRING: cs}))
    noSecret(fromEnv)
    expect(ok(await ehcp(['show', '--profile', 'p', '--eventhub', 'orders', '--json'])).json<ShowJson>().partitions).to.have.length(2)
  })

  it('the file: 0600 in a 0700 directory, written whole (no temporary file left); the XDG location', async () => {
    await saveProfile()
    expect(statSync(file()).mode & 0o777).to.equal(0o600)
    expect(statSync(dir).mode & 0o777).to.equal(0o700)
    ok(await ehcp(['config', 'set', 'p', '--consumer-group', 'billing']))
    expect(readdirSync(dir)).to.deep.equal(['config.json'])
    expect(JSON.parse(readFileSync(file(), 'utf8')).profiles.p.consumerGroup).to.equal('billing')

    const xdg = mkdtempSync(path.join(tmpdir(), 'ehcp-xdg-'))
    const r = ok(await runEhcp(['config', 'set', 'x', '--emulator'], {env: {EHCP_CONFIG_DIR: undefined, XDG_CONFIG_HOME: xdg}}))
    expect(r.stdout).to.contain(path.join(xdg, 'ehcp', 'config.json'))
    expect(existsSync(path.join(xdg, 'ehcp', 'config.json'))).to.equal(true)
  })

  it('refuses a file holding a secret that others can read, with the chmod that fixes it; nothing is changed', async () => {
    await saveProfile()
    chmodSync(file(), 0o644)
    const text = readFileSync(file(), 'utf8')
    const runs = [
      await ehcp(['show', '--profile', 'p']),
      await ehcp(['show', '--connection-string', cs, '--container', c.name, '--eventhub', 'orders']),
      await ehcp(['config', 'list']),
      await ehcp(['config', 'set', 'p', '--eventhub', 'payments']),
      await ehcp(['config', 'delete', 'p']),
    ]
    for (const r of runs) {
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.contain('holds a secret and others can access it (mode 0644)')
      expect(r.stderr).to.contain(`chmod 600 '${file()}'`)
      noSecret(r)
    }
    expect(readFileSync(file(), 'utf8')).to.equal(text)
    chmodSync(file(), 0o600)
    ok(await ehcp(['show', '--profile', 'p', '--json']))
    // Without a secret, a readable file is fine.
    ok(await ehcp(['config', 'delete', 'p']))
    ok(await ehcp(['config', 'set', 'q', '--emulator']))
    chmodSync(file(), 0o644)
    ok(await ehcp(['config', 'list']))
  })

  it('a corrupt file, an unknown profile, a bad name: exit 2, the file unchanged', async () => {
    mkdirSync(dir, {recursive: true})
    writeFileSync(file(), '{"schemaVersion": 1, "profiles": {', {mode: 0o600})
    for (const args of [
      ['show', '--emulator', '--container', 'ckp1'],
      ['config', 'list'],
      ['config', 'set', 'p', '--container', 'ckp1'],
      ['config', 'use', 'p'],
    ]) {
      const r = await ehcp(args)
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.contain(`The config file ${file()} is not valid JSON`)
    }
    expect(readFileSync(file(), 'utf8')).to.equal('{"schemaVersion": 1, "profiles": {')

    writeFileSync(file(), '{"schemaVersion": 1, "profiles": {"p": {"container": "ckp1"}}}')
    const text = readFileSync(file(), 'utf8')
    const checks: Array<[string[], Record<string, string>, RegExp]> = [
      [['show', '--profile', 'nope'], {}, /--profile "nope": there is no such profile/],
      [['show'], {EHCP_PROFILE: 'nope'}, /EHCP_PROFILE "nope": there is no such profile/],
      [['config', 'delete', 'nope'], {}, /no such profile/],
      [['config', 'use', 'nope'], {}, /no such profile/],
      [['config', 'show', 'nope'], {}, /no such profile/],
      [['config', 'set', '../evil', '--container', 'ckp1'], {}, /not a valid profile name/],
      [['config', 'set', 'p'], {}, /Nothing to save/],
      [['config', 'set', 'p', '--container', 'Bad_Name'], {}, /not a valid container name/],
      [['config', 'set', 'p', '--account-url', 'http://acct.blob.core.windows.net'], {}, /must be an https URL/],
      [['config', 'use', 'p', '--none'], {}, /not both/],
    ]
    for (const [args, env, pattern] of checks) {
      const r = await ehcp(args, env)
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.match(pattern)
    }
    expect(readFileSync(file(), 'utf8')).to.equal(text)
  })
})
