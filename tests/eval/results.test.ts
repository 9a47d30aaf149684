// results.jsonl: a torn last line (a write cut by a kill) is dropped when read and ended before the next append.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendOutcome, readOutcomes, type EvalOutcome } from '../../src/eval/results.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function outcome(task: string): EvalOutcome {
  return {
    v: 1,
    task,
    model: 'm',
    category: 'resolved',
    status: 'verified',
    claimed: true,
    resolved: true,
    reason: null,
    grade: null,
    rounds: 0,
    applyFailures: 0,
    usage: { promptTokens: 1, completionTokens: 1, calls: 1, costUsd: null },
    wallMs: 1,
    finishedAt: '2026-12-03T00:00:00.000Z',
  };
}

describe('results.jsonl', () => {
  it('drops a torn last line when read, and ends it before appending the next result', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-results-'));
    dirs.push(dir);
    const file = path.join(dir, 'out', 'results.jsonl');
    await appendOutcome(file, outcome('a'));
    await writeFile(file, `${await readFile(file, 'utf8')}{"v":1,"task":"b","mo`);
    expect((await readOutcomes(file)).map((o) => o.task)).toEqual(['a']);
    await appendOutcome(file, outcome('c'));
    expect((await readOutcomes(file)).map((o) => o.task)).toEqual(['a', 'c']);
    expect((await readFile(file, 'utf8')).endsWith('\n')).toBe(true);
  });

  it('reads no results from a file that is not there', async () => {
    expect(await readOutcomes(path.join(os.tmpdir(), 'autodev-no-such-dir', 'results.jsonl'))).toEqual([]);
  });
});
