// Runs every compiled test file under mocha and ends with the plain summary line CI reads:
// "N passed, N failed". Exits non-zero when anything failed or nothing ran.
import {readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import Mocha from 'mocha'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'test')
const filter = process.argv[2]

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) return testFiles(full)
    return name.endsWith('.test.js') && (!filter || full.includes(filter)) ? [full] : []
  })
}

const {mochaHooks} = await import(path.join(root, 'support', 'services.js'))
const mocha = new Mocha({reporter: 'spec', timeout: 60_000, rootHooks: mochaHooks})
// secrets.test.js runs last: its final test checks every output of the whole run for secrets.
const files = testFiles(root).sort((a, b) => Number(a.endsWith('secrets.test.js')) - Number(b.endsWith('secrets.test.js')) || a.localeCompare(b))
for (const file of files) mocha.addFile(file)
await mocha.loadFilesAsync()

let passed = 0
let failed = 0
const runner = mocha.run((failures) => {
  console.log(`\n${passed} passed, ${failed} failed`)
  process.exitCode = failures > 0 || passed === 0 ? 1 : 0
  // Servers and sockets left by a failed test must not keep CI waiting.
  setTimeout(() => process.exit(process.exitCode), 2000).unref()
})
runner.on('pass', () => passed++)
runner.on('fail', () => failed++)
