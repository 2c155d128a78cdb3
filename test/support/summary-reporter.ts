// Prints one closing line `tests: N passed, M failed, K skipped` after vitest's own summary, so
// CI logs carry a runner-neutral count that other tools can read.
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

/** True when the test's suite or file failed (a beforeAll hook threw), so it never ran. */
function ancestorFailed(test: TestCase): boolean {
  for (let p: TestSuite | TestModule = test.parent; ; p = p.parent) {
    if (p.state() === 'failed') return true;
    if (p.type === 'module') return false;
  }
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        // vitest marks the tests of a suite whose hook failed as skipped: they are failures here,
        // or a broken setup would read as "0 failed".
        else if (state === 'failed' || ancestorFailed(test)) failed++;
        else skipped++;
      }
      // A module that failed to load has no tests but must still count as a failure.
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
