// The simulated model: its spoils are deterministic for a seed, each spoil does what it says to a
// real patch (checked with `git apply` on a real repository), and it answers over real HTTP through
// the openai client.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import OpenAI from 'openai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  chooseSpoils,
  driftWhitespace,
  shiftHunks,
  simulatedRates,
  spoiledReply,
  startSimulatedModel,
  withStrayLine,
  withoutAddedLines,
} from '../../src/eval/simulator.js';
import type { EvalTask } from '../../src/eval/tasks.js';
import { applyPatchToFiles } from '../../src/patch/apply.js';
import { UsageError } from '../../src/util/errors.js';

const SOURCE = [
  'fn helper() {}',
  '',
  '/// Adds.',
  'pub fn add(a: i32, b: i32) -> i32 {',
  '    a - b',
  '}',
  '',
  'pub fn mul(a: i32, b: i32) -> i32 {',
  '    a * b',
  '}',
  '',
].join('\n');
const GOLD = [
  '--- a/lib.rs',
  '+++ b/lib.rs',
  '@@ -3,4 +3,5 @@',
  ' /// Adds.',
  ' pub fn add(a: i32, b: i32) -> i32 {',
  '-    a - b',
  '+    // the sum',
  '+    a + b',
  ' }',
  '',
].join('\n');

const task: EvalTask = {
  id: 'calc-1',
  repo: '/nowhere',
  base: 'main',
  title: 'Fix add',
  description: 'add subtracts',
  failToPass: [],
  passToPass: [],
  testPatch: null,
  testPatchMode: 'hidden',
  goldPatch: GOLD,
};

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** `git apply` of `patch` to SOURCE in a fresh repository: the file after, or null when it does not apply. */
async function gitApply(patch: string, ...flags: string[]): Promise<string | null> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-sim-'));
  dirs.push(dir);
  await execa('git', ['init', '-q'], { cwd: dir });
  await writeFile(path.join(dir, 'lib.rs'), SOURCE);
  await writeFile(path.join(dir, 'p.diff'), patch);
  const result = await execa('git', ['apply', ...flags, 'p.diff'], { cwd: dir, reject: false });
  return result.exitCode === 0 ? readFile(path.join(dir, 'lib.rs'), 'utf8') : null;
}

describe('spoils', () => {
  it('the gold patch applies as it is', async () => {
    expect(await gitApply(GOLD)).toContain('a + b');
  });

  it('stale line numbers: the hunks move, git apply finds them only by searching', async () => {
    const stale = shiftHunks(GOLD, 5);
    expect(stale).toContain('@@ -8,4 +8,5 @@');
    expect(await gitApply(stale)).toContain('a + b');
    expect(await gitApply(stale, '--unidiff-zero', '-C99')).toContain('a + b');
  });

  it("drifted whitespace: context lines change so git apply fails; autodev's applier still applies it", async () => {
    const drifted = driftWhitespace(GOLD);
    expect(drifted).not.toBe(GOLD);
    expect(await gitApply(drifted)).toBeNull();
    const applied = applyPatchToFiles(drifted, (file) => (file === 'lib.rs' ? SOURCE : null));
    expect(applied.ok).toBe(true);
    expect(applied.strategy).toBe('whitespace');
    expect(applied.changes[0].content).toContain('a + b');
  });

  it('a wrong first attempt applies and does not do the task', async () => {
    const wrong = withoutAddedLines(GOLD);
    const after = await gitApply(wrong);
    expect(after).not.toBeNull();
    expect(after).not.toContain('a + b');
  });

  it('a patch that breaks the build keeps the fix and adds a stray line', async () => {
    const after = await gitApply(withStrayLine(GOLD));
    expect(after).toContain('a + b');
    expect(after).toContain('this line is not code )]}');
  });

  it('the wrong format leaves out the sections', () => {
    const text = spoiledReply(task, { spoils: ['format'] }, 1);
    expect(text).not.toMatch(/^## Patch/m);
    expect(spoiledReply(task, { spoils: [] }, 1)).toMatch(/^## Rationale\n[\s\S]*^## Commit message\n[\s\S]*^## Patch\n```diff\n/m);
  });
});

describe('chooseSpoils', () => {
  it('is the same for a seed, differs across seeds, and meets the rates roughly', () => {
    const rates = simulatedRates('sim:stale=0.5,format=0.2');
    const pick = (seed: number) => Array.from({ length: 400 }, (_, i) => chooseSpoils(rates, seed, 'sim:x', `t${i}`, 0).spoils.join('+'));
    expect(pick(7)).toEqual(pick(7));
    expect(pick(7)).not.toEqual(pick(8));
    const stale = pick(7).filter((s) => s.includes('stale')).length;
    const format = pick(7).filter((s) => s.includes('format')).length;
    expect(stale).toBeGreaterThan(150);
    expect(stale).toBeLessThan(250);
    expect(format).toBeGreaterThan(40);
    expect(format).toBeLessThan(120);
    // Nothing spoils what a rate of 0 leaves alone, and a wrong first attempt happens only first.
    expect(pick(7).some((s) => s.includes('whitespace') || s.includes('breaks'))).toBe(false);
    const always = simulatedRates('sim:wrong_first=1');
    expect(chooseSpoils(always, 1, 'm', 't', 0).spoils).toEqual(['wrongFirst']);
    expect(chooseSpoils(always, 1, 'm', 't', 1).spoils).toEqual([]);
  });

  it('refuses a name that is neither a preset nor rates, naming the part', () => {
    expect(() => simulatedRates('sim:stale=2')).toThrow(UsageError);
    expect(() => simulatedRates('sim:fast')).toThrow('--models sim:fast: "fast" is not a preset or a rate');
    expect(simulatedRates('sim:perfect')).toEqual({ stale: 0, whitespace: 0, wrongFirst: 0, breaks: 0, format: 0 });
  });
});

describe('startSimulatedModel', () => {
  it('answers the openai client with the task found by its title, attempt after attempt', async () => {
    const server = await startSimulatedModel({
      tasks: [task, { ...task, id: 'other', title: 'Something else', goldPatch: null }],
      seed: 3,
    });
    try {
      const client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'simulated' });
      const ask = async (title: string, model = 'sim:wrong_first=1', more = 'more') =>
        (
          await client.chat.completions.create({
            model,
            messages: [
              { role: 'system', content: 'rules' },
              { role: 'user', content: `# Task\n${title}\n\n${more}` },
            ],
          })
        ).choices[0].message.content ?? '';
      const first = await ask('Fix add');
      // A repair round (the prompt says so) meets no wrong first attempt.
      const second = await ask('Fix add', undefined, '# Your previous patch failed\nWhat failed: adds');
      expect(first).toContain('## Patch');
      expect(first).not.toContain('+    a + b');
      expect(second).toContain('+    a + b');
      expect(await ask('Something else')).toContain('could not find a change');
      expect(await ask('Not a task')).toBe('I do not know this task.');
      expect(server.log().map((l) => [l.task, l.attempt, l.spoils.join('+')])).toEqual([
        ['calc-1', 0, 'wrongFirst'],
        ['calc-1', 1, ''],
        ['other', 0, 'wrongFirst'],
      ]);
    } finally {
      await server.close();
    }
  });
});
