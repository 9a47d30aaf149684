// A flaky test is reported as flaky: a Node project whose `wobbles` test fails on its second run only
// (a run counter kept in a file beside it, no timing). It passes on the base (run 1), fails with the
// change (run 2) and passes when re-run (run 3): not blamed, not counted passing, tabulated as flaky
// in --json and in the PR body, while the real fix is verified and opened as a PR.
import { describe, expect, it } from '@jest/globals';
import { e2eSuite } from '../e2e/harness.js';
import { NODE_FILES, NODE_FIX, NODE_TASK, replyFor, type Tree } from './fixtures.js';
import { RUN_TIMEOUT, explain, realRun, step } from './helpers.js';

const { cache } = e2eSuite();

const WOBBLY: Tree = {
  ...NODE_FILES,
  '.gitignore': 'node_modules/\ntest/.runs\n',
  'test/wobbly.test.js': `import { test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';

// How many times this file has run in this checkout: the second run fails, every other passes.
const counter = new URL('./.runs', import.meta.url);
let runs = 0;
try {
  runs = Number(readFileSync(counter, 'utf8'));
} catch {
  runs = 0;
}
runs += 1;
writeFileSync(counter, String(runs));

test('wobbles', () => {
  if (runs === 2) throw new Error('failed on run 2');
});
`,
};

interface VerdictJson {
  verdicts: { name: string; verdict: string; base: string | null; head: string | null }[] | null;
  tests: { passed: string[]; failed: string[] } | null;
}

describe('flaky tests', () => {
  it(
    'a test that fails with the change but passes when re-run is flaky: neither blamed nor counted, and the PR says so',
    async () => {
      const run = await realRun({
        files: WOBBLY,
        task: NODE_TASK,
        replies: [await replyFor('Fix sum to start at the first value', WOBBLY, NODE_FIX)],
        cache,
        forgeRepo: 'acme/summer',
      });
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
      const json = run.json as typeof run.json & VerdictJson;
      expect(json.status).toBe('pr_created');
      const test = step(json, 'test', { mode: 'change' }).at(-1)!;
      expect(test.summary).toMatch(/1 flaky \(result flipped on a re-run; not blamed, not counted\): wobbles/);
      expect(test.summary).toMatch(/fixes 1 test\(s\) failing on the base: sums every value/);
      // Set aside, not dropped: it ran with the change, so it is not "gone".
      expect(test.summary).not.toMatch(/gone/);
      expect(json.verdicts).toEqual([
        { name: 'sums every value', verdict: 'fixed', base: 'failed', head: 'passed' },
        { name: 'wobbles', verdict: 'flaky', base: 'passed', head: null },
        { name: 'sums nothing to zero', verdict: 'passed', base: 'passed', head: 'passed' },
      ]);
      // Neither among the change's failures nor its passes.
      expect(json.tests?.failed).toEqual([]);
      expect(json.tests?.passed).not.toContain('wobbles');
      expect(run.outcome.stderr).toMatch(/re-running 1 test\(s\) that passed on the base \(1\/2\): wobbles/);
      const body = run.github.pulls('acme', 'summer')[0].body;
      expect(body).toContain('| `wobbles` | ✅ passed | did not run | flaky (flipped on a re-run: not blamed, not counted) |');
      expect(body).toContain('| `sums every value` | ❌ failed | ✅ passed | fixed |');
    },
    RUN_TIMEOUT,
  );
});
