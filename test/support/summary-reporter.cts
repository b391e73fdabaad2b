/**
 * Mocha's spec reporter, ending with the plain summary line CI reads: "N passed, N failed" (a failing hook
 * counts as a failure, as it does in mocha's own count). CommonJS (.cts) because mocha loads reporters with
 * require(); .mocharc.cjs names the compiled file.
 */
import Mocha from 'mocha'

const {EVENT_RUN_END, EVENT_TEST_FAIL, EVENT_TEST_PASS} = Mocha.Runner.constants

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options)
    let passed = 0
    let failed = 0
    runner.on(EVENT_TEST_PASS, () => passed++)
    runner.on(EVENT_TEST_FAIL, () => failed++)
    // Registered after the spec reporter's own epilogue, so this is the last line.
    runner.once(EVENT_RUN_END, () => console.log(`\n${passed} passed, ${failed} failed`))
  }
}

export = SummaryReporter
