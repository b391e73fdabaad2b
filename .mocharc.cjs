/* global require, module, process, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- mocha reads its configuration with require() */
// Mocha's configuration for the compiled tests (`npm test` builds first; otherwise run `npm run build`):
//   npm test                                        build, lint, then every test file
//   npm run test:unit                               only test/unit (seconds)
//   EHCP_TESTS=corpus npx mocha                     only the files whose path contains "corpus"
//   npx mocha dist/test/integration/corpus.test.js  only the files (or folders of dist/) named
//   npx mocha --grep 'undo'                         only the tests whose title matches
// secrets.test.js always runs last: its final test checks every output of the whole run for secrets.
// The root hook (test/support/services.ts) stops the shared Azurite after the run; the reporter
// (test/support/summary-reporter.cts) ends with the plain line CI reads, "N passed, N failed".
const {readdirSync} = require('node:fs')
const path = require('node:path')

const TESTS = path.join('dist', 'test')

/** Test files under `dir`, as paths relative to the repository. */
function testFiles(dir) {
  return readdirSync(path.join(__dirname, dir), {withFileTypes: true}).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) return testFiles(file)
    return entry.name.endsWith('.test.js') ? [file] : []
  })
}

/** Every compiled test file, or those whose path contains $EHCP_TESTS: sorted, secrets.test.js last. */
function spec() {
  // Files or folders of dist/ named on the command line run alone (mocha would otherwise run this list as well).
  const dist = path.join(__dirname, 'dist')
  const named = (arg) => !arg.startsWith('-') && (arg.endsWith('.js') || `${path.resolve(arg)}${path.sep}`.startsWith(`${dist}${path.sep}`))
  if (process.argv.slice(2).some(named)) return []
  const filter = process.env.EHCP_TESTS ?? ''
  const isSecrets = (file) => path.basename(file) === 'secrets.test.js'
  const files = testFiles(TESTS)
    .filter((file) => file.includes(filter))
    .sort((a, b) => Number(isSecrets(a)) - Number(isSecrets(b)) || a.localeCompare(b, 'en'))
  // Nothing matches: a pattern naming the filter, so mocha fails with "No test files found" (rather than looking in ./test).
  return (files.length > 0 ? files : [path.join(TESTS, `**/*${filter}*`)]).map((file) => path.join(__dirname, file))
}

module.exports = {
  spec: spec(),
  require: [path.join(__dirname, TESTS, 'support', 'services.js')],
  reporter: path.join(__dirname, TESTS, 'support', 'summary-reporter.cjs'),
  timeout: 60_000,
  forbidOnly: true,
  failZero: true,
  exit: true,
}
