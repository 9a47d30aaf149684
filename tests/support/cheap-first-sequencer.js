// Runs the cheap tests first, so a broken unit shows within seconds instead of after the
// end-to-end suites (which build real crates and spawn the CLI). Within a class, jest's own
// order (failed last time, then slowest first) is kept, so the two workers stay busy.
import TestSequencer from '@jest/test-sequencer';

const EXPENSIVE = [/[\\/]tests[\\/](e2e|real|deps-check-e2e|resume)[\\/]/, /[\\/]tests[\\/]server[\\/]api\./];

function cost(test) {
  return EXPENSIVE.some((pattern) => pattern.test(test.path)) ? 1 : 0;
}

const Base = TestSequencer.default ?? TestSequencer;

export default class CheapFirstSequencer extends Base {
  sort(tests) {
    const ordered = super.sort(tests);
    return [...ordered].sort((a, b) => cost(a) - cost(b));
  }
}
