/**
 * Start-up pays only for what a run uses (docs/performance.md, "Start-up"): `--version` loads neither oclif nor
 * an Azure SDK, a command's `--help` does not import the command, no help or flag parsing loads an Azure SDK, and
 * oclif is loaded by its parts, not by its index.
 * What a run loads is read with a module-load hook (test/support/module-trace.ts) in the built binary.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {Config} from '@oclif/core'
import {expect} from 'chai'

import {BIN, type CliResult, describeRun, runEhcp} from '../support/cli.js'

const ROOT = path.dirname(path.dirname(BIN))
const TRACE_HOOK = pathToFileURL(fileURLToPath(new URL('../support/module-trace.js', import.meta.url))).href

const isSdk = (file: string) => /[\\/]node_modules[\\/]@azure[\\/]/.test(file)
const isOclif = (file: string) => /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]/.test(file)

describe('start-up: what a run loads', function () {
  this.timeout(60_000)
  let dir: string
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ehcp-startup-'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  let runs = 0
  /** Runs ehcp with the module-load hook: its result and every module file it loaded. */
  async function traced(args: string[]): Promise<{r: CliResult; loaded: string[]}> {
    const trace = path.join(dir, `trace-${++runs}.txt`)
    const r = await runEhcp(args, {env: {NODE_OPTIONS: `--import ${TRACE_HOOK}`, EHCP_MODULE_TRACE: trace}})
    const loaded = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
    // The hook saw the run: the binary itself and what it imports first.
    expect(loaded, args.join(' ')).to.include(BIN)
    expect(loaded, args.join(' ')).to.include(path.join(ROOT, 'dist', 'src', 'output', 'streams.js'))
    return {r, loaded}
  }

  it("--version prints oclif's own version line, loading neither oclif nor an Azure SDK", async () => {
    const config = await Config.load(ROOT)
    expect(config.userAgent).to.match(/^ehcp\/\d+\.\d+\.\d+\S* \S+-\S+ node-v\d+/)
    // oclif's rule: --version first answers, whatever follows.
    for (const args of [['--version'], ['--version', 'show', '--json']]) {
      const {r, loaded} = await traced(args)
      expect(r.code, describeRun(r)).to.equal(0)
      expect(r.stdout).to.equal(`${config.userAgent}\n`)
      expect(r.stderr).to.equal('')
      expect(loaded.filter(isOclif), args.join(' ')).to.deep.equal([])
      expect(loaded.filter(isSdk), args.join(' ')).to.deep.equal([])
    }
  })

  it('help and a show refused after flag parsing load no Azure SDK; help does not import the command', async () => {
    const show = path.join(ROOT, 'dist', 'src', 'commands', 'show.js')
    // `help show` runs @oclif/plugin-help's command, which imports oclif's index itself.
    const cases: Array<{args: string[]; code: number; loadsShow: boolean; loadsIndex: boolean}> = [
      {args: ['--help'], code: 0, loadsShow: false, loadsIndex: false},
      {args: ['show', '--help'], code: 0, loadsShow: false, loadsIndex: false},
      {args: ['help', 'show'], code: 0, loadsShow: false, loadsIndex: true},
      {args: ['show', '--container-url', 'http://127.0.0.1:1/devstoreaccount1/c'], code: 2, loadsShow: true, loadsIndex: false},
    ]
    for (const {args, code, loadsShow, loadsIndex} of cases) {
      const {r, loaded} = await traced(args)
      expect(r.code, `${args.join(' ')}: ${describeRun(r)}`).to.equal(code)
      // oclif's own CommonJS modules are seen: the hook sees both kinds of module.
      expect(loaded.some(isOclif), args.join(' ')).to.equal(true)
      expect(loaded.filter(isSdk), args.join(' ')).to.deep.equal([])
      expect(loaded.includes(show), args.join(' ')).to.equal(loadsShow)
      // oclif's parts, not its index (which loads semver, 47 files, to check oclif's own Node engine).
      expect(
        loaded.some((file) => isOclif(file) && file.endsWith(`${path.sep}lib${path.sep}index.js`)),
        args.join(' '),
      ).to.equal(loadsIndex)
    }
    const help = await runEhcp(['show', '--help'])
    expect(help.stdout).to.match(/--ownership-expiry=<value>\s+\[default: 2m\]/)
  })

  it("the manifest holds every default that ehcp's flags compute for help (so help needs no command module)", async () => {
    const config = await Config.load(ROOT)
    const commands = config.commands.filter((c) => c.pluginName === 'ehcp')
    expect(commands.length).to.be.greaterThan(10)
    let computed = 0
    for (const cached of commands) {
      const loaded = await cached.load()
      for (const [name, flag] of Object.entries(loaded.flags ?? {})) {
        const defaultHelp = (flag as {defaultHelp?: unknown}).defaultHelp
        if (typeof defaultHelp !== 'function') continue
        computed++
        const value: unknown = await (defaultHelp as (context: object) => Promise<unknown>)({flags: {}, options: flag})
        expect(cached.flags[name]?.default, `${cached.id} --${name}`).to.equal(value)
      }
    }
    expect(computed).to.be.greaterThan(10)
  })
})
