/**
 * The conventions of oclif CLIs, from the built binary: did-you-mean for unknown commands and flags (exit 2,
 * never a prompt, even on a terminal), -h as help, top-level help with examples and how to connect, output
 * flags in one group, flag messages that name the flag, `$Default` quoted, and shell completion scripts.
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {BIN, type CliResult, describeRun, runEhcp, runPrinted} from '../support/cli.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {snapshot} from '../support/snapshot.js'

interface ErrorDocument {
  error: {code: string; message: string; exitCode: number; hint: string | null}
}

/** A help text's sections by header (`EXAMPLES`, `OUTPUT FLAGS`, …): the indented lines under each. */
function sections(help: string): Map<string, string> {
  const out = new Map<string, string>()
  let header: string | undefined
  for (const line of help.split('\n')) {
    if (/^[A-Z][A-Z ]+$/.test(line)) {
      header = line
      out.set(header, '')
    } else if (header !== undefined) {
      out.set(header, `${out.get(header)}${line}\n`)
    }
  }
  return out
}

/** The command names the top-level help lists. */
async function commandNames(): Promise<string[]> {
  const r = await runEhcp(['--help'])
  const body = sections(r.stdout).get('COMMANDS') ?? ''
  return [...body.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!)
}

/** Runs ehcp on a pseudo-terminal (util-linux `script`), typing nothing; ended after `limitMs`. */
function onTerminal(args: string[], limitMs: number): Promise<{code: number | null; screen: string; ms: number}> {
  const command = [process.execPath, BIN, ...args].map((w) => `'${w}'`).join(' ')
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {env: {...process.env, NO_COLOR: '1'}})
    let screen = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, screen, ms: Date.now() - started})
    })
    // stdin stays open: a prompt would wait for an answer until the limit.
  })
}

function expectUsage(r: CliResult) {
  expect(r.code, describeRun(r)).to.equal(2)
  expect(r.stdout, describeRun(r)).to.equal('')
}

describe('oclif conventions', function () {
  this.timeout(60_000)

  describe('unknown commands', () => {
    it('suggest the nearest command on stderr and exit 2', async () => {
      const cases: [string, string][] = [
        ['shwo', 'show'],
        ['lst', 'list'],
        ['rest', 'reset'],
        ['release', 'release-ownership'],
      ]
      for (const [typed, meant] of cases) {
        const r = await runEhcp([typed, '--emulator', '--container', 'checkpoints'])
        expectUsage(r)
        expect(r.stderr).to.include(`"${typed}" is not an ehcp command. Did you mean ${meant}?`)
        expect(r.stderr).to.include('Run `ehcp --help` for the commands.')
      }
    })

    it('suggest nothing when nothing is near, still exit 2', async () => {
      const r = await runEhcp(['xyzzy'])
      expectUsage(r)
      expect(r.stderr).to.include('"xyzzy" is not an ehcp command.')
      expect(r.stderr).not.to.include('Did you mean')
    })

    it('a stray word after a command, or a flag before any: said as such, exit 2', async () => {
      const stray = await runEhcp(['list', 'extra', '--emulator'])
      expectUsage(stray)
      expect(stray.stderr).to.include('Unexpected argument "extra" after `ehcp list`.')
      expect(stray.stderr).to.include('Run `ehcp list --help` for its flags.')
      const flag = await runEhcp(['--bogus'])
      expectUsage(flag)
      expect(flag.stderr).to.include('Unknown flag "--bogus": flags go after the command.')
    })

    it('under --json: the error document on stdout, nothing on stderr', async () => {
      const r = await runEhcp(['shwo', '--json'])
      expect(r.code).to.equal(2)
      expect(r.json<ErrorDocument>()).to.deep.equal({
        error: {
          code: 'usage',
          message: '"shwo" is not an ehcp command. Did you mean show?',
          exitCode: 2,
          hint: 'Run `ehcp --help` for the commands.',
        },
      })
      expect(r.stderr).to.equal('')
    })

    it('`ehcp help shwo` too', async () => {
      const r = await runEhcp(['help', 'shwo'])
      expectUsage(r)
      expect(r.stderr).to.include('Did you mean show?')
    })

    it('never prompt, even on a terminal: the answer is printed and the command exits by itself', async () => {
      const r = await onTerminal(['rest', '--emulator', '--container', 'checkpoints', '--to-latest', '--yes'], 20_000)
      expect(r.code, r.screen).to.equal(2)
      expect(r.screen).to.include('Did you mean reset?')
      expect(r.screen).not.to.match(/\(Y\/n\)|\? \(y/i)
      // @oclif/plugin-not-found's prompt gives up after 10 s; a run that ends well before that never waited.
      expect(r.ms).to.be.below(8_000)
    })
  })

  describe('unknown flags', () => {
    let c: TestContainer
    before(async () => {
      c = await freshContainer()
      await putBlob(c.client, 'ns.servicebus.windows.net/orders/$default/checkpoint/0', {sequencenumber: '1', offset: '10'})
    })
    after(() => c.dispose())

    it('suggest the nearest flag of that command, exit 2, and change nothing', async () => {
      const before = await snapshot(c.client)
      const r = await runEhcp(['reset', ...c.args, '--to-latest', '--yes', '--no-backup', '--consumer-grup', '$Default'])
      expectUsage(r)
      expect(r.stderr).to.include('Unknown flag --consumer-grup. Did you mean --consumer-group?')
      expect(await snapshot(c.client)).to.deep.equal(before)
    })

    it('several at once, each with its suggestion; under --json as the error document', async () => {
      const r = await runEhcp(['show', ...c.args, '--lga', '--consumer-grup=x', '--zzzzzzzz'])
      expectUsage(r)
      expect(r.stderr).to.include(
        'Unknown flags: --lga (did you mean --lag?), --consumer-grup=x (did you mean --consumer-group?), --zzzzzzzz.',
      )
      const json = await runEhcp(['list', ...c.args, '--jsno', '--json'])
      expect(json.code).to.equal(2)
      expect(json.json<ErrorDocument>().error).to.include({
        code: 'usage',
        exitCode: 2,
        message: 'Unknown flag --jsno. Did you mean --json?',
      })
    })
  })

  describe('help', function () {
    // Each test runs the binary a dozen times or more.
    this.timeout(180_000)
    it('-h is --help, at the top and for every command', async () => {
      const names = await commandNames()
      expect(names).to.include.members(['list', 'show', 'set', 'reset', 'release-ownership', 'autocomplete'])
      for (const args of [[], ...names.filter((n) => n !== 'help').map((n) => [n])]) {
        const long = await runEhcp([...args, '--help'])
        const short = await runEhcp([...args, '-h'])
        expect(long.code, describeRun(long)).to.equal(0)
        expect(short.code, describeRun(short)).to.equal(0)
        expect(short.stdout, args.join(' ')).to.equal(long.stdout)
        expect(short.stdout).to.include('USAGE')
      }
    })

    it('the top-level help has examples and says how to connect, Entra ID first', async () => {
      const bare = await runEhcp([])
      const help = await runEhcp(['--help'])
      expect(bare.code).to.equal(0)
      expect(bare.stdout).to.equal(help.stdout)
      const parts = sections(help.stdout)
      const examples = parts.get('EXAMPLES') ?? ''
      expect(examples).to.include('$ ehcp list --account-url')
      expect(examples).to.include("--consumer-group '$Default' --lag")
      const connecting = (parts.get('CONNECTING') ?? '').replaceAll(/\s+/g, ' ')
      for (const words of [
        'Entra ID',
        'az login',
        'managed identity',
        '--account-url',
        'EHCP_ACCOUNT_URL',
        'AZURE_STORAGE_CONNECTION_STRING',
        '--emulator',
      ])
        expect(connecting).to.include(words)
      expect(connecting.indexOf('Entra ID')).to.be.below(connecting.indexOf('AZURE_STORAGE_CONNECTION_STRING'))
    })

    it('--json is listed with the other output flags, and nothing under GLOBAL FLAGS', async () => {
      let checked = 0
      for (const command of ['list', 'show', 'set', 'reset', 'release-ownership']) {
        const parts = sections((await runEhcp([command, '--help'])).stdout)
        const output = parts.get('OUTPUT FLAGS') ?? ''
        expect(output, command).to.match(/^ {2}--json\b/m)
        if (['list', 'show'].includes(command)) expect(output, command).to.match(/^ {2}--csv\b/m)
        expect(parts.has('GLOBAL FLAGS'), command).to.equal(false)
        checked++
      }
      expect(checked).to.equal(5)
    })

    it("every example quotes '$Default' (unquoted, the shell expands it to nothing)", async () => {
      let examples = 0
      let withDefault = 0
      for (const args of [[], ...(await commandNames()).map((n) => [n])]) {
        const body = sections((await runEhcp([...args, '--help'])).stdout).get('EXAMPLES') ?? ''
        for (const line of body.split('\n').filter((l) => l.includes('$ ehcp'))) {
          examples++
          if (line.includes('$Default')) withDefault++
          expect(line.replaceAll("'$Default'", ''), line).not.to.include('$Default')
        }
      }
      expect(examples).to.be.above(10)
      expect(withDefault).to.be.at.least(2)
    })
  })

  describe('flag messages', () => {
    let cwd: string
    before(() => (cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-conventions-'))))
    after(() => rmSync(cwd, {recursive: true, force: true}))

    it('a missing required flag is named with its dashes, exit 2', async () => {
      const r = await runEhcp(['set', '--emulator', '--container', 'checkpoints', '--sequence-number', '3'])
      expectUsage(r)
      expect(r.stderr).to.include('Missing required flag --partition')
    })

    it('an empty --eventhub or --namespace is a usage error in every command that scopes, not "all of them"', async () => {
      let checked = 0
      for (const command of ['list', 'show', 'status', 'doctor', 'watch', 'reset']) {
        for (const flag of ['--eventhub', '--namespace']) {
          const r = await runEhcp(
            [command, flag, '', '--emulator', '--container', 'checkpoints', '--to-latest'].filter(
              (a) => command === 'reset' || a !== '--to-latest',
            ),
          )
          expectUsage(r)
          expect(r.stderr, `${command} ${flag}`).to.include(`${flag} is empty.`)
          checked++
        }
      }
      expect(checked).to.equal(12)
    })

    it('an unquoted $Default, swallowed by a real shell, is answered with how to quote it', async () => {
      const hint = "use single quotes: --consumer-group '$Default'"
      // `--consumer-group $Default --to-latest`: the flag takes nothing, the next flag follows.
      const followed = await runPrinted('ehcp reset --consumer-group $Default --to-latest --emulator --container checkpoints', {cwd})
      expectUsage(followed)
      expect(followed.stderr).to.include('--consumer-group expects a value.')
      expect(followed.stderr).to.include(hint)
      // Last on the line, or written with `=`: the flag is left empty.
      const last = await runPrinted('ehcp show --emulator --container checkpoints --consumer-group $Default', {cwd})
      expectUsage(last)
      expect(last.stderr).to.include(hint)
      const joined = await runPrinted('ehcp show --emulator --container checkpoints --consumer-group=$Default', {cwd})
      expectUsage(joined)
      expect(joined.stderr).to.include('--consumer-group is empty.')
      expect(joined.stderr).to.include(hint)
      const source = await runPrinted('ehcp reset --emulator --container checkpoints --from-consumer-group= --dry-run', {cwd})
      expectUsage(source)
      expect(source.stderr).to.include("use single quotes: --from-consumer-group '$Default'")
      // Quoted, the name gets through: the run goes on to connect (no container at this endpoint).
      const quoted = await runPrinted(
        "ehcp show --consumer-group '$Default' --container-url http://127.0.0.1:9/devstoreaccount1/checkpoints --timeout 2",
        {cwd},
      )
      expect(quoted.stderr).not.to.include('single quotes')
      expect(quoted.code, describeRun(quoted)).to.equal(7)
    })
  })

  describe('shell completion', () => {
    let home: string
    before(() => (home = mkdtempSync(path.join(tmpdir(), 'ehcp-home-'))))
    after(() => rmSync(home, {recursive: true, force: true}))
    // A temporary home and cache: nothing is written to the real ones.
    const env = () => ({HOME: home, XDG_CACHE_HOME: path.join(home, 'cache')})
    const functions = () => path.join(home, 'cache', 'ehcp', 'autocomplete', 'functions')

    it('`ehcp autocomplete bash|zsh|powershell` writes scripts that name every command and its flags', async () => {
      const files = {bash: 'bash/ehcp.bash', zsh: 'zsh/_ehcp', powershell: 'powershell/ehcp.ps1'}
      for (const [shell, file] of Object.entries(files)) {
        const r = await runEhcp(['autocomplete', shell], {env: env()})
        expect(r.code, describeRun(r)).to.equal(0)
        expect(r.stdout).to.include(`ehcp autocomplete script ${shell}`)
        const script = readFileSync(path.join(functions(), file), 'utf8')
        for (const word of ['list', 'show', 'set', 'reset', 'release-ownership', 'consumer-group', 'to-datetime', 'fail-on-lag'])
          expect(script, `${shell}: ${word}`).to.include(word)
      }
      expect(existsSync(path.join(home, 'cache', 'ehcp', 'autocomplete', 'bash_setup'))).to.equal(true)
    })

    it('`ehcp autocomplete script bash` points at the setup file, and bash then completes commands and flags', async () => {
      const r = await runEhcp(['autocomplete', 'script', 'bash'], {env: env()})
      expect(r.code, describeRun(r)).to.equal(0)
      const setup = path.join(home, 'cache', 'ehcp', 'autocomplete', 'bash_setup')
      expect(r.stdout).to.include(`EHCP_AC_BASH_SETUP_PATH=${setup}`)
      // What bash offers for the words typed so far, with the completion function the plugin wrote.
      const complete = (words: string[]) =>
        spawnSync(
          'bash',
          [
            '-c',
            `source '${path.join(functions(), 'bash', 'ehcp.bash')}'; COMP_WORDS=(${words.join(' ')}); ` +
              `COMP_CWORD=${words.length - 1}; _ehcp_autocomplete; echo "[\${COMPREPLY[*]}]"; complete -p ehcp`,
          ],
          {cwd: home, env: {...process.env, HOME: home}, encoding: 'utf8'},
        )
      const commands = await complete(['ehcp', 'sh'])
      expect(commands.status, commands.stderr).to.equal(0)
      expect(commands.stdout).to.include('[show]')
      expect(commands.stdout).to.include('complete -F _ehcp_autocomplete ehcp')
      const flags = await complete(['ehcp', 'show', '--consumer-g'])
      expect(flags.stdout).to.include('[--consumer-group]')
    })

    it('an unknown shell is a usage error', async () => {
      const r = await runEhcp(['autocomplete', 'fish'], {env: env()})
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.include('zsh, bash, powershell')
    })
  })
})
