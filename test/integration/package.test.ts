/**
 * ehcp as users install it: the checkout (already built) packed with `npm pack`, the tarball installed
 * globally into a temporary prefix from a directory outside the repository, and every command run from the
 * installed `ehcp` against Azurite. npm works from its cache (`--prefer-offline`): `npm ci` put every runtime
 * dependency there.
 */
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {type CliResult, CONNECTION_ENV, describeRun, runEhcp, runProcess} from '../support/cli.js'
import {freshContainer, putBlob, type TestContainer} from '../support/services.js'
import {snapshot} from '../support/snapshot.js'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const NS = 'contoso.servicebus.windows.net'
const HUB = 'orders'

interface PackageJson {
  version: string
  bin: Record<string, string>
  main?: string
}

interface Manifest {
  version: string
  commands: Record<string, unknown>
}

/** The first Node line the package supports (package.json "engines"): older lines warn EBADENGINE, as they should. */
const SUPPORTED_MAJOR = 22
const nodeMajor = Number(process.versions.node.split('.')[0])

/** The environment without npm's own variables (an outer `npm test` sets npm_config_*) and without any ehcp connection. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && !CONNECTION_ENV.includes(key)) env[key] = value
  // `npm`, and the installed `ehcp` (#!/usr/bin/env node), run on the Node that runs the tests.
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`
  return {...env, NO_COLOR: '1', ...extra}
}

/** The packages named by npm's EBADENGINE warnings in `output`. */
function badEngines(output: string): string[] {
  const names: string[] = []
  for (const m of output.matchAll(/EBADENGINE\s+package: '([^']+)'/g)) names.push(m[1]!)
  return names
}

describe('the packed tarball, installed globally', function () {
  this.timeout(120_000)
  let tmp: string
  let tarball: string
  let packed: string[]
  let install: CliResult
  let prefix: string
  let ehcpBin: string
  let ehcpEnv: NodeJS.ProcessEnv
  let ehcpHome: Record<string, string>
  let outside: string
  let checkout: Manifest
  let version: string
  let pkg: PackageJson
  let c: TestContainer
  /** Runs the installed `ehcp`; no run prints an update nag or an engine warning. */
  const ehcp = async (args: string[]) => {
    const r = await runEhcp(args, {bin: ehcpBin, cwd: outside, baseEnv: ehcpEnv, env: ehcpHome})
    expect(r.stdout + r.stderr, args.join(' ')).not.to.match(/update available|EBADENGINE/i)
    return r
  }

  before(async function () {
    this.timeout(600_000)
    tmp = await mkdtemp(path.join(tmpdir(), 'ehcp-package-'))
    outside = path.join(tmp, 'cwd')
    prefix = path.join(tmp, 'prefix')
    await mkdir(outside)
    await mkdir(path.join(tmp, 'home'))
    checkout = JSON.parse(await readFile(path.join(REPO, 'oclif.manifest.json'), 'utf8')) as Manifest
    pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as PackageJson
    version = pkg.version

    // The checkout is built already (these tests run from dist/): pack it without running `prepare` again.
    const npmEnv = cleanEnv({npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false'})
    const pack = await runProcess('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {cwd: REPO, env: npmEnv})
    expect(pack.code, describeRun(pack)).to.equal(0)
    const [info] = JSON.parse(pack.stdout) as [{filename: string; files: {path: string}[]}]
    tarball = path.join(tmp, info.filename)
    packed = info.files.map((f) => f.path)

    // From a directory outside the repository, as a user would: nothing resolves from the checkout.
    install = await runProcess('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', tarball], {
      cwd: outside,
      env: npmEnv,
      timeoutMs: 540_000,
    })
    expect(install.code, describeRun(install)).to.equal(0)
    ehcpBin = path.join(prefix, 'bin', 'ehcp')
    ehcpEnv = cleanEnv({})
    // Set after the connection variables are dropped (XDG_CONFIG_HOME is one of them): no profile of this machine is read.
    ehcpHome = {HOME: path.join(tmp, 'home'), XDG_CONFIG_HOME: path.join(tmp, 'home', '.config')}

    c = await freshContainer()
    for (const [group, base] of [
      ['$default', 100],
      ['billing', 10],
    ] as const)
      for (const p of [0, 1]) {
        await putBlob(c.client, `${NS}/${HUB}/${group}/checkpoint/${p}`, {sequencenumber: `${base + p}`, offset: `${(base + p) * 10}`})
        await putBlob(c.client, `${NS}/${HUB}/${group}/ownership/${p}`, {ownerid: `${group}-host`})
      }
  })

  after(async () => {
    await c?.dispose()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('the tarball holds the entry point, the built library, the manifest, README, LICENSE and the dashboard, and no tests or sources', () => {
    for (const file of [
      'package.json',
      'bin/run.js',
      'dist/src/output/streams.js',
      'dist/src/signals.js',
      'oclif.manifest.json',
      'README.md',
      'LICENSE',
      'dashboards/ehcp.json',
    ])
      expect(packed, file).to.include(file)
    // Every file package.json names (its bin, a main if it has one) is in the tarball.
    const named = [...Object.values(pkg.bin), ...(pkg.main ? [pkg.main] : [])].map((file) => path.posix.normalize(file))
    expect(named).to.include('bin/run.js')
    for (const file of named) expect(packed, file).to.include(file)
    const commandFiles = Object.values(checkout.commands).map((command) => (command as {relativePath: string[]}).relativePath.join('/'))
    expect(commandFiles).to.have.length.greaterThan(4)
    for (const file of commandFiles) expect(packed, file).to.include(file)
    const stray = packed.filter(
      (file) =>
        !/^(bin|dist\/src|dashboards)\//.test(file) && !['package.json', 'oclif.manifest.json', 'README.md', 'LICENSE'].includes(file),
    )
    expect(stray, 'files outside bin/, dist/src/ and dashboards/').to.deep.equal([])
    expect(
      packed.filter((file) => file.endsWith('.map') || file.endsWith('.ts')),
      'source maps and TypeScript',
    ).to.deep.equal([])
  })

  it('installs as a real directory, with no engine warning on a supported Node and no update nag', async () => {
    const output = install.stdout + install.stderr
    expect(output).to.match(/added \d+ packages?/)
    // On a Node line older than the package supports, npm warns for ehcp itself, and for nothing else.
    expect(badEngines(output), output).to.deep.equal(nodeMajor < SUPPORTED_MAJOR ? [`ehcp@${version}`] : [])
    expect(output).not.to.match(/update available/i)
    const installedDir = path.join(prefix, 'lib', 'node_modules', 'ehcp')
    expect(existsSync(path.join(installedDir, 'dist', 'src', 'output', 'streams.js')), 'dist/src installed').to.equal(true)
    expect(existsSync(path.join(installedDir, 'node_modules', '@oclif', 'core')), 'its dependencies installed beside it').to.equal(true)
    expect(existsSync(path.join(installedDir, 'node_modules', 'typescript')), 'no development dependency').to.equal(false)
  })

  it('installs the manifest the checkout built: the same commands and flags', async () => {
    const installed = JSON.parse(
      await readFile(path.join(prefix, 'lib', 'node_modules', 'ehcp', 'oclif.manifest.json'), 'utf8'),
    ) as Manifest
    expect(installed.version).to.equal(version)
    expect(Object.keys(installed.commands).sort()).to.deep.equal(Object.keys(checkout.commands).sort())
    expect(installed.commands).to.deep.equal(checkout.commands)
  })

  it('--version and --help', async () => {
    const v = await ehcp(['--version'])
    expect(v.code, describeRun(v)).to.equal(0)
    expect(v.stdout).to.match(new RegExp(`^ehcp/${version.replaceAll('.', '\\.')} `))
    const help = await ehcp(['--help'])
    expect(help.code, describeRun(help)).to.equal(0)
    const ids = Object.keys(checkout.commands)
    expect(ids).to.include.members(['list', 'show', 'set', 'reset', 'release-ownership'])
    // Top-level help lists each command, or its topic (`config`) for commands under one.
    for (const top of new Set(ids.map((id) => id.split(':')[0]!))) expect(help.stdout, top).to.match(new RegExp(`^\\s+${top}\\s`, 'm'))
  })

  it("every command's --help loads the command from the installed package", async () => {
    const ids = Object.keys(checkout.commands)
    expect(ids).to.have.length.greaterThan(4)
    for (const id of ids) {
      const r = await ehcp([...id.split(':'), '--help'])
      expect(r.code, `${id}: ${describeRun(r)}`).to.equal(0)
      expect(r.stdout, id).to.include('USAGE')
      expect(r.stdout, id).to.include(`$ ehcp ${id.replaceAll(':', ' ')}`)
    }
  })

  it('list and show read the container', async () => {
    const list = await ehcp(['list', ...c.args, '--json'])
    expect(list.code, describeRun(list)).to.equal(0)
    expect(list.stdout).to.include('billing').and.to.include(NS)
    const show = await ehcp(['show', ...c.args, '--eventhub', HUB, '--consumer-group', 'billing', '--json'])
    expect(show.code, describeRun(show)).to.equal(0)
    const shown = JSON.stringify(JSON.parse(show.stdout))
    expect(shown)
      .to.include('"billing-host"')
      .and.to.match(/\b11\b/)
  })

  it('set, reset and release-ownership plan under --dry-run and write nothing', async () => {
    const before = await snapshot(c.client)
    expect(before.size).to.equal(8)
    const scope = [...c.args, '--namespace', NS, '--eventhub', HUB, '--consumer-group', 'billing', '--dry-run']
    const set = await ehcp(['set', ...scope, '--partition', '0', '--sequence-number', '5', '--offset', '50'])
    expect(set.code, describeRun(set)).to.equal(0)
    expect(set.stdout).to.include('Plan')
    const reset = await ehcp(['reset', ...scope, '--from-consumer-group', '$Default'])
    expect(reset.code, describeRun(reset)).to.equal(0)
    expect(reset.stdout).to.include('Plan')
    const release = await ehcp(['release-ownership', ...scope, '--owner', 'billing-host'])
    expect(release.code, describeRun(release)).to.equal(0)
    expect(release.stdout).to.include('billing-host')
    expect(await snapshot(c.client)).to.deep.equal(before)
  })
})
