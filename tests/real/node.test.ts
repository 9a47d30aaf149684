// The second toolchain row: a Node project (package.json, `"test": "node --test"`, no
// dependencies) whose failing node:test test the scripted patch fixes, run for real in bubblewrap.
import { describe, expect, it } from '@jest/globals';
import { e2eSuite } from '../e2e/harness.js';
import { NODE_FILES, NODE_FIX, NODE_TASK, replyFor } from './fixtures.js';
import { RUN_TIMEOUT, explain, planOnly, realRun, step } from './helpers.js';

const { cache } = e2eSuite();

describe('a Node project', () => {
  it(
    '--plan-only --json shows the node toolchain with npm test and no deps step',
    async () => {
      const { outcome, plan } = await planOnly(NODE_FILES, cache);
      expect(outcome.code).toBe(0);
      expect(plan.toolchain).toBe('node');
      const test = plan.steps.find((s) => s.id === 'test');
      expect(test?.command).toEqual(['npm', 'test']);
      expect(test?.network).toBe(false);
      // No dependencies, no build script, no lint script, no tsconfig: nothing else to run.
      expect(plan.steps.map((s) => s.id)).not.toEqual(expect.arrayContaining(['deps']));
      expect(plan.steps.map((s) => s.id)).not.toContain('build');
      expect(plan.steps.map((s) => s.id)).not.toContain('lint');
    },
    RUN_TIMEOUT,
  );

  it(
    'fixes a failing node:test test and opens the PR (exit 0)',
    async () => {
      const run = await realRun({
        files: NODE_FILES,
        task: NODE_TASK,
        replies: [await replyFor('Fix sum to start at the first value', NODE_FILES, NODE_FIX)],
        cache,
        forgeRepo: 'acme/summer',
      });
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
      expect(run.json.status).toBe('pr_created');
      expect(run.json.baseline.failingTests).toEqual(['sums every value']);
      const test = step(run.json, 'test', { mode: 'change' }).at(-1)!;
      expect(test.status).toBe('ok');
      expect(test.summary).toMatch(/2 passed, 0 failed.*fixes 1 test\(s\) failing on the base: sums every value/);
      expect(run.json.change?.files).toEqual(['src/sum.js']);
      expect(run.github.pulls('acme', 'summer')).toHaveLength(1);
    },
    RUN_TIMEOUT,
  );
});
