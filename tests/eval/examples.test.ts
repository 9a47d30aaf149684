// The example task set (examples/eval): built by its script from repositories of two toolchains,
// every task sound by --check-gold, and an eval with the simulated model giving the same figures
// twice for a seed.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { e2eSuite } from '../e2e/harness.js';
import { makeRunDir, ROOT, runCli, taskEnv } from '../support/cli.js';

const { cache } = e2eSuite();
const TIMEOUT = 600_000;

interface Figures {
  models: Record<string, unknown>[];
  tasks: { task: string; outcomes: Record<string, string> }[];
}

/** The figures without what depends on the machine's speed. */
function timeless(figures: Figures & { out?: string }): Figures {
  return { models: figures.models.map(({ wallMsMedian: _m, wallMsP90: _p, ...rest }) => rest), tasks: figures.tasks };
}

describe('examples/eval', () => {
  it(
    'builds a sound task set, and an eval of it with the simulated model gives the same figures twice for a seed',
    async () => {
      const run = await makeRunDir();
      const dir = path.join(run.dir, 'example');
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'examples', 'eval', 'make-tasks.mjs'), dir]);
      const file = stdout.trim();
      expect(file).toBe(path.join(dir, 'tasks.jsonl'));
      const env = taskEnv(run, { cache });

      const gold = await runCli(['eval', file, '--check-gold', '--json', '--out', path.join(run.dir, 'gold')], { cwd: run.cwd, env });
      expect({ code: gold.code, stderr: gold.code ? gold.stderr : '' }).toEqual({ code: 0, stderr: '' });
      const checks = (JSON.parse(gold.stdout) as { checks: { task: string; sound: boolean; reason: string | null }[] }).checks;
      expect(checks.map((c) => [c.task, c.sound, c.reason])).toEqual([
        ['calc-add', true, null],
        ['calc-saturate', true, null],
        ['summer-first', true, null],
      ]);

      const figures: Figures[] = [];
      for (const out of ['one', 'two']) {
        const result = await runCli(['eval', file, '--models', 'sim:typical', '--seed', '7', '--json', '--out', path.join(run.dir, out)], {
          cwd: run.cwd,
          env,
        });
        expect({ code: result.code, stderr: result.code ? result.stderr : '' }).toEqual({ code: 0, stderr: '' });
        figures.push(timeless(JSON.parse(result.stdout) as Figures));
      }
      expect(figures[0].tasks.map((t) => t.task)).toEqual(['calc-add', 'calc-saturate', 'summer-first']);
      expect(figures[1]).toEqual(figures[0]);
      // The runs themselves went the same way, attempt by attempt.
      const outcomes = async (out: string) =>
        (await readFile(path.join(run.dir, out, 'results.jsonl'), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const o = JSON.parse(l) as { task: string; category: string; rounds: number; applyFailures: number; usage: unknown };
            return [o.task, o.category, o.rounds, o.applyFailures, o.usage];
          });
      expect(await outcomes('two')).toEqual(await outcomes('one'));
    },
    TIMEOUT,
  );
});
