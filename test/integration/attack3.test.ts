/**
 * Third attack round, on the way in (issue 12): profiles, did-you-mean, completion and the playground, as a
 * hostile or unlucky user meets them. Each test here failed when it was written; each names the break it pins.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {expect} from 'chai'

import type {ProfilesReport} from '../../src/profiles.js'
import {describeRun, runEhcp} from '../support/cli.js'
import {waitFor} from '../support/wait.js'

const SECRET = 'Zm9vYmFyU0VDUkVUa2V5dmFsdWUwMTIzNDU2Nzg5'

describe('attack round 3: the way in', function () {
  this.timeout(120_000)
  let dir: string
  let cwd: string
  const file = () => path.join(dir, 'config.json')
  const ehcp = (args: string[], env: Record<string, string | undefined> = {}) => runEhcp(args, {cwd, env: {EHCP_CONFIG_DIR: dir, ...env}})

  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(tmpdir(), 'ehcp-attack3-')), 'ehcp')
    cwd = mkdtempSync(path.join(tmpdir(), 'ehcp-attack3-cwd-'))
  })

  describe('profiles', () => {
    it('a config file that is not JSON: the error never quotes the file (it may hold a secret)', async () => {
      // A hand edit with single quotes: V8's message quoted the text around the error, key included.
      mkdirSync(dir, {recursive: true})
      const texts = [`{"schemaVersion": 1, "profiles": {"p": {"connectionString": 'AccountName=a;AccountKey=${SECRET}'}}}`, `'${SECRET}'`]
      for (const text of texts) {
        writeFileSync(file(), text, {mode: 0o600})
        for (const args of [['config', 'list'], ['config', 'list', '--json'], ['list']]) {
          const r = await ehcp(args)
          expect(r.code, describeRun(r)).to.equal(2)
          expect(r.stdout + r.stderr).to.contain('is not valid JSON')
          expect(r.stdout + r.stderr).not.to.contain(SECRET.slice(0, 6))
        }
      }
    })

    it('an account URL with a query string (a SAS) is refused: not saved without --save-secret, not used to build URLs', async () => {
      const url = `https://acct.blob.core.windows.net/?sv=2024-01-01&sig=${SECRET}`
      const saved = await ehcp(['config', 'set', 'p', '--account-url', url, '--container', 'checkpoints'])
      expect(saved.code, describeRun(saved)).to.equal(2)
      expect(existsSync(file())).to.equal(false)
      const used = await ehcp(['list', '--account-url', url, '--container', 'checkpoints', '--timeout', '2'])
      expect(used.code, describeRun(used)).to.equal(2)
      expect(used.stderr).to.contain('--account-url')
      for (const r of [saved, used]) expect(r.stdout + r.stderr).not.to.contain(SECRET)
    })

    it('with HOME empty, the config file is not looked for (or written) in the working directory', async () => {
      const r = await runEhcp(['config', 'set', 'p', '--emulator', '--container', 'checkpoints'], {
        cwd,
        env: {HOME: '', EHCP_CONFIG_DIR: undefined, XDG_CONFIG_HOME: undefined},
      })
      expect(r.code, describeRun(r)).to.be.oneOf([0, 2])
      expect(readdirSync(cwd)).to.deep.equal([])
      if (r.code === 0) expect(r.stdout).to.match(/in \//)
    })

    it('the config commands do not suggest a flag they do not take ("Unknown flag --profile. Did you mean --profile?")', async () => {
      for (const args of [
        ['config', 'list', '--profile', 'x'],
        ['config', 'show', 'p', '--container', 'abc'],
      ]) {
        const r = await ehcp(args)
        expect(r.code, describeRun(r)).to.equal(2)
        expect(r.stderr).to.match(/Unknown flag --(profile|container)/)
        expect(r.stderr).not.to.contain('Did you mean')
      }
    })

    it('a config directory ehcp cannot create or write: exit 2 naming it, not 1 (a bug)', async () => {
      const plain = path.join(cwd, 'plain-file')
      writeFileSync(plain, '')
      for (const args of [
        ['config', 'set', 'p', '--emulator'],
        ['config', 'use', 'p'],
        ['config', 'delete', 'p'],
      ]) {
        const r = await runEhcp(args, {cwd, env: {EHCP_CONFIG_DIR: path.join(plain, 'ehcp')}})
        expect(r.code, describeRun(r)).to.equal(2)
        expect(r.stderr).to.contain(path.join(plain, 'ehcp', 'config.json'))
      }
      // Read-only: nothing to read there (an empty configuration), then the directory cannot be made. (Tests run as
      // root in CI, where a chmod does not stop a write; Linux's /sys refuses even root.)
      if (existsSync('/sys/kernel')) {
        const r = await runEhcp(['config', 'set', 'p', '--emulator'], {cwd, env: {EHCP_CONFIG_DIR: '/sys/ehcp'}})
        expect(r.code, describeRun(r)).to.equal(2)
        expect(r.stderr).to.contain('/sys/ehcp/config.json cannot be written')
      }
    })

    it('concurrent `config set` of different profiles: every profile is saved', async () => {
      const names = Array.from({length: 8}, (_, n) => `p${n}`)
      const runs = await Promise.all(names.map((name) => ehcp(['config', 'set', name, '--container', `ckp-${name}`])))
      for (const r of runs) expect(r.code, describeRun(r)).to.equal(0)
      const list = await ehcp(['config', 'list', '--json'])
      expect(list.code, describeRun(list)).to.equal(0)
      expect(
        list
          .json<ProfilesReport>()
          .profiles.map((p) => p.name)
          .sort(),
      ).to.deep.equal(names)
      expect(readdirSync(dir)).to.deep.equal(['config.json'])
    })
  })

  describe('did-you-mean and completion', () => {
    it('a mistyped word under a topic, or a mistyped topic, gets its suggestion (exit 2)', async () => {
      const cases: Array<[string[], string]> = [
        [['config', 'shwo'], 'Did you mean config show?'],
        [['conifg', 'list'], 'Did you mean config list?'],
        [['conifg'], 'Did you mean config?'],
        [['release'], 'Did you mean release-ownership?'],
      ]
      for (const [args, suggestion] of cases) {
        const r = await ehcp(args)
        expect(r.code, describeRun(r)).to.equal(2)
        expect(r.stderr).to.contain(suggestion)
      }
      // Nothing near: no guess (not "config use" for "config nope").
      const far = await ehcp(['config', 'nope'])
      expect(far.code, describeRun(far)).to.equal(2)
      expect(far.stderr).not.to.contain('Did you mean')
    })

    it('`ehcp autocomplete bash` with a cache directory it cannot create: exit 2 saying what to set, not 1', async () => {
      const plain = path.join(cwd, 'plain-file')
      writeFileSync(plain, '')
      const r = await runEhcp(['autocomplete', 'bash'], {cwd, env: {XDG_CACHE_HOME: path.join(plain, 'cache')}})
      expect(r.code, describeRun(r)).to.equal(2)
      expect(r.stderr).to.contain('XDG_CACHE_HOME')
    })
  })

  describe('the playground', () => {
    const PLAYGROUND = fileURLToPath(new URL('../../local/playground.js', import.meta.url))

    /** servePlayground with a stand-in scene (no services): only the env file's lifetime is under test. */
    function serve(envFile: string, tag: string): {child: ChildProcess; exited: Promise<number | null>} {
      const script = [
        `import {servePlayground} from ${JSON.stringify(pathToFileURL(PLAYGROUND).href)}`,
        `const scene = {env: {EHCP_CONTAINER: ${JSON.stringify(tag)}, EHCP_EVENTHUBS_ENDPOINT: 'sb://127.0.0.1:1'}, azurite: {host: 'x'},`,
        '  tick: async () => {}, heartbeat: async () => {}, stop: async () => {}}',
        `await servePlayground(scene, ${JSON.stringify(envFile)})`,
      ].join('\n')
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'pipe']})
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      return {child, exited}
    }

    it('two at once: stopping the first leaves the env file of the one still running', async () => {
      const envFile = path.join(cwd, 'playground.env')
      const first = serve(envFile, 'first')
      await waitFor('the first env file', () => existsSync(envFile) && readFileSync(envFile, 'utf8').includes('first'))
      const second = serve(envFile, 'second')
      try {
        await waitFor('the second env file', () => readFileSync(envFile, 'utf8').includes('second'))
        first.child.kill('SIGTERM')
        expect(await first.exited).to.equal(0)
        expect(existsSync(envFile), 'the running playground lost its env file').to.equal(true)
        expect(readFileSync(envFile, 'utf8')).to.contain('EHCP_CONTAINER=second')
      } finally {
        second.child.kill('SIGTERM')
        await second.exited
      }
      expect(existsSync(envFile)).to.equal(false)
    })
  })
})
