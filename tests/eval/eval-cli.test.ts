// `autodev eval` end to end through the built CLI: real repositories, real cargo in bubblewrap, the
// built-in simulated model over real HTTP. A run that claims "verified" while the hidden tests fail
// counts as verified-but-wrong; a rerun skips what is done; Ctrl-C keeps finished results and the
// next run does the rest only.
import { describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { e2eSuite, makeBareRepo, processesTouching } from '../e2e/harness.js';
import { CALC_FILES } from '../support/calc-crate.js';
import { makeRunDir, runCli, startCli, taskEnv, type RunDir } from '../support/cli.js';
import { until } from '../support/poll.js';

const { cache } = e2eSuite();
const TIMEOUT = 400_000;

const ADD_FIX = `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,5 +3,5 @@
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
 
`;

// A hidden test the right-looking fix does not pass: add must saturate, a + b overflows.
const SATURATING_TEST = `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -22,4 +22,9 @@
     fn multiplies() {
         assert_eq!(mul(3, 4), 12);
     }
+
+    #[test]
+    fn adds_saturating() {
+        assert_eq!(add(i32::MAX, 1), i32::MAX);
+    }
 }
`;

async function taskFile(run: RunDir): Promise<string> {
  const repo = await makeBareRepo(CALC_FILES);
  const common = { repo, base: 'main', pass_to_pass: ['lib::tests::multiplies'], patch: ADD_FIX };
  const tasks = [
    {
      ...common,
      id: 'calc-add',
      title: 'Fix add: it subtracts instead of adding',
      description: 'The function `add` in src/lib.rs returns a - b; the test `adds` fails.',
      fail_to_pass: ['lib::tests::adds'],
    },
    {
      ...common,
      id: 'calc-saturate',
      title: 'Fix add: it must return the sum, saturating at the bounds',
      description: 'add(2, 2) must be 4 (the test `adds` fails), and add must never overflow.',
      fail_to_pass: ['lib::tests::adds', 'lib::tests::adds_saturating'],
      test_patch: SATURATING_TEST,
      test_patch_mode: 'hidden',
    },
  ];
  const file = path.join(run.dir, 'tasks.jsonl');
  await writeFile(file, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');
  return file;
}

interface EvalJson {
  models: { model: string; tasks: number; resolvedPct: number; wrongPct: number; claimPrecisionPct: number | null; meanRounds: number }[];
  tasks: { task: string; outcomes: Record<string, string> }[];
  skipped: number;
  stoppedBy: string | null;
}

async function results(out: string): Promise<{ task: string; model: string; category: string; claimed: boolean; resolved: boolean }[]> {
  const text = await readFile(path.join(out, 'results.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('autodev eval', () => {
  it(
    'grades on its own: a verified claim the hidden tests refute is verified-but-wrong; a rerun redoes nothing',
    async () => {
      const run = await makeRunDir();
      const file = await taskFile(run);
      const out = path.join(run.dir, 'out');
      // The default (reproduce first): a simulated model is not asked for a reproduction, so its
      // figures stay those of its rates.
      const env = taskEnv(run, { cache, extra: { AUTODEV_GENERATE_REPRODUCE: 'auto' } });
      // Two models side by side: the second's first attempt is always wrong (it needs a repair round).
      const args = ['eval', file, '--models', 'sim:perfect,sim:wrong_first=1', '--out', out, '--json'];
      const first = await runCli(args, { cwd: run.cwd, env });
      expect({ code: first.code, stderr: first.code ? first.stderr : '' }).toEqual({ code: 0, stderr: '' });
      const doc = JSON.parse(first.stdout) as EvalJson;
      expect(doc.tasks).toEqual([
        { task: 'calc-add', outcomes: { 'sim:perfect': 'resolved', 'sim:wrong_first=1': 'resolved' } },
        { task: 'calc-saturate', outcomes: { 'sim:perfect': 'wrong', 'sim:wrong_first=1': 'wrong' } },
      ]);
      expect(doc.models[0]).toMatchObject({
        model: 'sim:perfect',
        tasks: 2,
        resolvedPct: 50,
        wrongPct: 50,
        claimPrecisionPct: 50,
        meanRounds: 0,
      });
      expect(doc.models[1]).toMatchObject({ model: 'sim:wrong_first=1', tasks: 2, resolvedPct: 50, wrongPct: 50, meanRounds: 1 });
      const recorded = await results(out);
      expect(recorded.map((r) => [r.task, r.model, r.category, r.claimed, r.resolved])).toEqual([
        ['calc-add', 'sim:perfect', 'resolved', true, true],
        ['calc-add', 'sim:wrong_first=1', 'resolved', true, true],
        ['calc-saturate', 'sim:perfect', 'wrong', true, false],
        ['calc-saturate', 'sim:wrong_first=1', 'wrong', true, false],
      ]);
      const saturate = (await results(out))[2] as unknown as { grade: { failToPass: { name: string; passed: boolean }[] }; reason: string };
      expect(saturate.grade.failToPass).toEqual([
        { name: 'lib::tests::adds', passed: true },
        { name: 'lib::tests::adds_saturating', passed: false },
      ]);
      expect(saturate.reason).toContain('lib::tests::adds_saturating');
      // The figures beside the results: Markdown and the plot.
      const table = await readFile(path.join(out, 'figures.md'), 'utf8');
      expect(table).toContain('| sim:perfect | 2 | 50.0% | 50.0% |');
      expect(table).toContain('| sim:wrong_first=1 | 2 | 50.0% | 50.0% |');
      expect(await readFile(path.join(out, 'plot.svg'), 'utf8')).toMatch(/^<svg [\s\S]*sim:perfect \(50%, wrong 50%\)/);

      // Again: everything is in the results, nothing runs, the same figures come out.
      const again = await runCli(args, { cwd: run.cwd, env });
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('4 of 4 run(s) already in the results');
      expect(await results(out)).toHaveLength(4);
      expect((JSON.parse(again.stdout) as EvalJson).tasks).toEqual(doc.tasks);
    },
    TIMEOUT,
  );

  it(
    'Ctrl-C keeps the finished results and leaves no process; the next run does only the rest',
    async () => {
      const run = await makeRunDir();
      const file = await taskFile(run);
      const out = path.join(run.dir, 'out');
      const env = taskEnv(run, { cache });
      const args = ['eval', file, '--models', 'sim:perfect', '--out', out, '--jobs', '1'];
      const cli = startCli(args, { cwd: run.cwd, env });
      await until(
        () => `a first result in ${out}; stderr so far:\n${cli.stderr()}`,
        async () => ((await results(out)).length >= 1 ? true : null),
        TIMEOUT,
        100,
      );
      cli.child.kill('SIGINT');
      const stopped = await cli.done;
      expect(stopped.code).toBe(130);
      const kept = await results(out);
      expect(kept.map((r) => r.task)).toEqual(['calc-add']);
      expect(await processesTouching([out, run.dir])).toEqual([]);

      const rest = await runCli([...args, '--json'], { cwd: run.cwd, env });
      expect({ code: rest.code, stderr: rest.code ? rest.stderr : '' }).toEqual({ code: 0, stderr: '' });
      expect(rest.stderr).toContain('1 of 2 run(s) already in the results');
      const all = await results(out);
      expect(all.map((r) => r.task)).toEqual(['calc-add', 'calc-saturate']);
      expect(all[0]).toEqual(kept[0]);
    },
    TIMEOUT,
  );

  it('refuses a bad task file with the line and the field, and an unknown simulated preset, with exit 2', async () => {
    const run = await makeRunDir();
    const file = path.join(run.dir, 'tasks.jsonl');
    await writeFile(file, '{"id": "a", "repo": "/x", "base": "main"}\n');
    const env = taskEnv(run, { cache });
    const bad = await runCli(['eval', file], { cwd: run.cwd, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`autodev: ${file}:1: field "title": required (fix that line of the task file)\n`);
    await writeFile(file, '{"id": "a", "repo": "/x", "base": "main", "title": "t"}\n');
    const preset = await runCli(['eval', file, '--models', 'sim:fast'], { cwd: run.cwd, env });
    expect(preset.code).toBe(2);
    expect(preset.stderr).toMatch(/^autodev: --models sim:fast: "fast" is not a preset or a rate/);
    const strategy = await runCli(['eval', file, '--strategies', 'single,swarm'], { cwd: run.cwd, env });
    expect(strategy.code).toBe(2);
    expect(strategy.stderr).toMatch(/^autodev: --strategies: unknown strategy "swarm" \(known: single, candidates, agent/);
  });
});
