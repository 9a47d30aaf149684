// A base that already has a clippy warning and a failing doc test: neither is blamed on the change.
// A change that adds a warning of its own is blamed: the lint step fails and the repair feedback
// the model receives names the lint; the next round's clean change passes.
import { describe, expect, it } from '@jest/globals';
import { e2eSuite } from '../e2e/harness.js';
import { DEBT_FILES, DEBT_FIX_CLEAN, DEBT_FIX_WITH_WARNING, DEBT_TASK, replyFor } from './fixtures.js';
import { RUN_TIMEOUT, explain, promptsSent, realRun, step } from './helpers.js';

const { cache } = e2eSuite();

const DOC_TEST = 'src/lib.rs - half (line 15)';

describe('lint debt and a failing doc test on the base', () => {
  it(
    'blames neither on a clean change (exit 0)',
    async () => {
      const run = await realRun({
        files: DEBT_FILES,
        task: DEBT_TASK,
        replies: [await replyFor('Fix add', DEBT_FILES, DEBT_FIX_CLEAN)],
        cache,
        forgeRepo: 'acme/debt',
      });
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
      // The baseline saw both the doc test and the unit test failing, and clippy's warning.
      expect([...run.json.baseline.failingTests].sort()).toEqual([DOC_TEST, 'lib::tests::adds'].sort());
      expect(step(run.json, 'lint', { mode: 'baseline' })[0].summary).toMatch(/^base: 1 warning\(s\)/);
      const test = step(run.json, 'test', { mode: 'change' }).at(-1)!;
      expect(test.status).toBe('ok');
      expect(test.summary).toMatch(/fixes 1 test\(s\) failing on the base: lib::tests::adds; 1 still failing as on the base, not blamed/);
      const lint = step(run.json, 'lint', { mode: 'change' }).at(-1)!;
      expect(lint).toMatchObject({ status: 'ok', round: 0 });
      expect(lint.summary).toMatch(/lint clean for the change \(1 already on the base, not blamed\)/);
      expect(run.llm.chatBodies()).toHaveLength(1);
    },
    RUN_TIMEOUT,
  );

  it(
    'blames a warning the change adds, names the lint in the repair feedback, and passes once it is gone',
    async () => {
      const run = await realRun({
        files: DEBT_FILES,
        task: DEBT_TASK,
        replies: [await replyFor('Fix add', DEBT_FILES, DEBT_FIX_WITH_WARNING), await replyFor('Fix add', DEBT_FILES, DEBT_FIX_CLEAN)],
        cache,
        forgeRepo: 'acme/debt',
      });
      const first = step(run.json, 'lint', { mode: 'change', round: 0 });
      expect(first).toHaveLength(1);
      expect(first[0].status).toBe('failed');
      expect(first[0].summary).toMatch(/^lint: the change adds 1 diagnostic\(s\): clippy::needless_return/);
      // Build and tests were fine in the first round: only the lint sent it back.
      expect(step(run.json, 'test', { mode: 'change', round: 0 })[0].status).toBe('ok');
      const prompts = promptsSent(run.llm);
      expect(prompts).toHaveLength(2);
      expect(prompts[0]).not.toMatch(/needless_return/);
      expect(prompts[1]).toMatch(/needless_return/);
      expect(prompts[1]).toMatch(/src\/lib\.rs/);
      // The feedback points at the added `return` (line 5), not at the base's own one in `sub`.
      const feedback = prompts[1].slice(prompts[1].indexOf('needless_return') - 200);
      expect(feedback).toMatch(/src\/lib\.rs:5/);
      expect(feedback).not.toMatch(/src\/lib\.rs:10/);
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
      expect(step(run.json, 'lint', { mode: 'change', round: 1 })[0].status).toBe('ok');
    },
    RUN_TIMEOUT,
  );
});

describe('targetTests', () => {
  it('names the failing base tests the task mentions by their last segment', async () => {
    const { targetTests } = await import('../../src/steps/verify.js');
    const failing = ['lib::tests::adds', 'lib::tests::multiplies', 'src/lib.rs - add (line 3)', 'tests/it.rs::io'];
    expect(targetTests(failing, 'Fix add\nThe test `adds` fails')).toEqual(['lib::tests::adds', 'src/lib.rs - add (line 3)']);
    expect(targetTests(failing, 'Improve docs')).toEqual([]);
    // Too short to tell from ordinary words.
    expect(targetTests(failing, 'io errors are swallowed')).toEqual([]);
  });
});

describe('a base that does not build under --all-targets (a nightly-only bench)', () => {
  // `#![feature(test)]` is refused by stable rustc: `cargo build --all-targets` fails on the base
  // itself. The change must not be blamed for it, but an error of its own still is.
  const BENCH_FILES = {
    'Cargo.toml': '[package]\nname = "nightly_bench"\nversion = "0.1.0"\nedition = "2021"\n',
    '.gitignore': '/target\n',
    'src/lib.rs':
      'pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 2), 4);\n    }\n}\n',
    'benches/speed.rs':
      '#![feature(test)]\nextern crate test;\n\n#[bench]\nfn bench_add(b: &mut test::Bencher) {\n    b.iter(|| nightly_bench::add(1, 2));\n}\n',
  };
  const TASK = { title: 'Fix add', description: 'add subtracts; the test `adds` fails' };
  const FIXED = { 'src/lib.rs': BENCH_FILES['src/lib.rs'].replace('    a - b\n', '    a + b\n') };
  const BROKEN = { 'src/lib.rs': BENCH_FILES['src/lib.rs'].replace('    a - b\n', '    a + b as i64\n') };

  it(
    "does not blame the base's build failure, and still blames an error the change adds",
    async () => {
      const run = await realRun({
        files: BENCH_FILES,
        task: TASK,
        replies: [await replyFor('Fix add', BENCH_FILES, BROKEN), await replyFor('Fix add', BENCH_FILES, FIXED)],
        cache,
        forgeRepo: 'acme/bench',
      });
      expect(step(run.json, 'build', { mode: 'baseline' })[0].summary).toMatch(/^base: failed/);
      const first = step(run.json, 'build', { mode: 'change', round: 0 })[0];
      expect(first.status).toBe('failed');
      expect(first.summary).toMatch(/the change adds \d+ error\(s\)/);
      expect(promptsSent(run.llm)[1]).toMatch(/E0308|mismatched types/);
      const second = step(run.json, 'build', { mode: 'change', round: 1 })[0];
      expect(second).toMatchObject({ status: 'ok' });
      expect(second.summary).toMatch(/build fails on the base too/);
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
    },
    RUN_TIMEOUT,
  );
});
