import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import type { EngineEvent } from '../../src/engine/types.js';
import { createListrProgress } from '../../src/observe/progress-listr.js';
import { captureStream, plan, scripter, step } from './helpers.js';

interface TestLine {
  event: string;
  data: unknown;
  task: { title: string; path: string[] };
}

/** The test renderer writes one JSON document per listr event. */
function parse(text: string): TestLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TestLine);
}

/** The last STATE each task reached, by the task's first title (its plan step). */
function finalStates(lines: TestLine[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) if (l.event === 'STATE') out[l.task.path[0]!] = l.data as string;
  return out;
}

function lastTitle(lines: TestLine[], stepId: string): string | undefined {
  return lines.filter((l) => l.task.path[0] === stepId).at(-1)?.task.title;
}

const fullPlan = () =>
  plan([
    step('clone'),
    step('codegen'),
    step('build', { repairable: true, baseline: true }),
    step('test', { repairable: true, baseline: true }),
    step('pr', { retries: 2 }),
  ]);

async function drive(events: EngineEvent[], p = fullPlan(), pauseAfter = 2) {
  const cap = captureStream();
  let clock = 0;
  const sub = createListrProgress(p, { stream: cap.stream, renderer: 'test', tickMs: 0, now: () => (clock += 250) });
  for (const [i, e] of events.entries()) {
    sub(e);
    // Let listr2 load and start part-way through, as it does in a real run.
    if (i === pauseAfter) await new Promise((r) => setTimeout(r, 20));
  }
  await sub.close();
  return { lines: parse(cap.text()), text: cap.text() };
}

describe('createListrProgress', () => {
  it('bridges a run with baseline, repair round and retry into one listr task per step', async () => {
    const s = scripter();
    const { lines } = await drive([
      s.status('planning'),
      s.status('executing'),
      s.started('clone'),
      s.output('clone', 'Receiving objects: 100%'),
      s.finished('clone', 'ok', 1200, { summary: 'cloned' }),
      s.started('build', { mode: 'baseline' }),
      s.finished('build', 'failed', 500, { mode: 'baseline', summary: 'already broken' }),
      s.started('test', { mode: 'baseline' }),
      s.finished('test', 'ok', 700, { mode: 'baseline' }),
      s.started('codegen'),
      s.finished('codegen', 'ok', 3000),
      s.started('build'),
      s.output('build', '\u001b[31merror[E0308]\u001b[0m: mismatched types'),
      s.finished('build', 'failed', 2000, { summary: 'error[E0308]: mismatched types' }),
      s.repair(1, 2, 'build', 'The build failed with 1 error:\n\nerror[E0308]: mismatched types\n --> src/lib.rs:5:5'),
      s.started('codegen', { round: 1 }),
      s.finished('codegen', 'ok', 3000, { round: 1 }),
      s.started('build', { round: 1 }),
      s.finished('build', 'ok', 2000, { round: 1, summary: 'compiled' }),
      s.started('test', { round: 1 }),
      s.finished('test', 'ok', 4000, { round: 1, summary: '12 passed' }),
      s.status('verified'),
      s.started('pr'),
      s.finished('pr', 'failed', 300, { summary: 'HTTP 502' }),
      s.retry('pr', 2, 1000, 'HTTP 502'),
      s.started('pr', { attempt: 2 }),
      s.finished('pr', 'ok', 400, { attempt: 2, summary: 'opened #7' }),
      s.status('pr_created'),
    ]);

    expect(finalStates(lines)).toEqual({
      clone: 'COMPLETED',
      codegen: 'COMPLETED',
      build: 'COMPLETED',
      test: 'COMPLETED',
      pr: 'COMPLETED',
    });
    expect(lastTitle(lines, 'clone')).toBe('clone: ok in 1.2s: cloned');
    expect(lastTitle(lines, 'codegen')).toBe('codegen (round 1): ok in 3.0s');
    expect(lastTitle(lines, 'build')).toBe('build (round 1): ok in 2.0s: compiled');
    expect(lastTitle(lines, 'pr')).toBe('pr (attempt 2): ok in 400ms: opened #7');

    const titles = lines.filter((l) => l.event === 'TITLE').map((l) => l.data);
    expect(titles).toContain('build (baseline): failed in 500ms: already broken');
    // A baseline run that completed measured the base; it says so, not "ok".
    expect(titles).toContain('test (baseline): ran in 700ms');
    expect(titles).toContain('build: failed in round 0; repairing (round 1 of 2)');
    expect(titles).toContain('codegen (round 1): running 250ms');
    expect(titles).toContain('pr: failed in 300ms: HTTP 502; retrying (attempt 2) in 1.0s');

    const outputs = lines.filter((l) => l.event === 'OUTPUT').map((l) => l.data);
    expect(outputs).toContain('error[E0308]: mismatched types'); // colours stripped
    expect(outputs).toContain('The build failed with 1 error: error[E0308]: mismatched types');
  });

  it('fails a step whose repair budget is spent and settles the rest when the task ends early', async () => {
    const s = scripter();
    const { lines } = await drive(
      [
        s.status('executing'),
        s.started('clone'),
        s.finished('clone', 'ok', 100),
        s.started('codegen'),
        s.finished('codegen', 'ok', 100),
        s.started('build'),
        s.finished('build', 'failed', 100, { summary: 'error: nope' }),
        s.repair(1, 1, 'build', 'error: nope'),
        s.started('codegen', { round: 1 }),
        s.finished('codegen', 'ok', 100, { round: 1 }),
        s.started('build', { round: 1 }),
        s.finished('build', 'failed', 100, { round: 1, summary: 'error: still' }),
        s.status('failed', 'repair budget spent'),
      ],
      plan([step('clone'), step('codegen'), step('build', { repairable: true }), step('test', { repairable: true }), step('pr')], 1),
    );
    expect(finalStates(lines)).toEqual({ clone: 'COMPLETED', codegen: 'COMPLETED', build: 'FAILED', test: 'SKIPPED', pr: 'SKIPPED' });
    expect(lastTitle(lines, 'build')).toBe('build (round 1): failed in 100ms: error: still');
    expect(lastTitle(lines, 'test')).toBe('test: not run');
  });

  it('finishes when the task is cancelled mid-step and when close() comes without an ending status', async () => {
    const s = scripter();
    const cancelled = await drive([s.status('executing'), s.started('clone'), s.started('codegen'), s.status('cancelled')], fullPlan(), 1);
    expect(finalStates(cancelled.lines)).toMatchObject({ clone: 'FAILED', codegen: 'FAILED', build: 'SKIPPED', pr: 'SKIPPED' });
    expect(lastTitle(cancelled.lines, 'codegen')).toMatch(/^codegen: cancelled after \d+ms$/);

    // The engine threw: no ending status at all, only close().
    const aborted = await drive([s.status('executing'), s.started('clone')], fullPlan(), 0);
    expect(finalStates(aborted.lines)).toEqual({ clone: 'FAILED', codegen: 'SKIPPED', build: 'SKIPPED', test: 'SKIPPED', pr: 'SKIPPED' });
    expect(lastTitle(aborted.lines, 'clone')).toMatch(/^clone: stopped after/);

    // Nothing happened at all (the task failed before the first step).
    const empty = await drive([], fullPlan());
    expect(Object.values(finalStates(empty.lines))).toEqual(['SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
  });

  it('closes twice and ignores events after close', async () => {
    const cap = captureStream();
    const sub = createListrProgress(fullPlan(), { stream: cap.stream, renderer: 'test', tickMs: 0 });
    await sub.close();
    const before = cap.text();
    sub(scripter().started('clone'));
    await sub.close();
    expect(cap.text()).toBe(before);
  });

  it('draws with the default renderer on the given stream, redacted, and leaves a final frame', async () => {
    const cap = captureStream();
    const sub = createListrProgress(plan([step('clone'), step('build')]), {
      stream: cap.stream,
      tickMs: 0,
      redact: (x) => x.replaceAll('hunter2', '***'),
    });
    const s = scripter();
    sub(s.status('executing'));
    sub(s.started('clone'));
    await new Promise((r) => setTimeout(r, 50));
    sub(s.finished('clone', 'ok', 1500, { summary: 'cloned with token hunter2' }));
    sub(s.started('build'));
    sub(s.finished('build', 'denied', 10, { summary: 'not allowed' }));
    sub(s.status('denied', 'tests_must_pass'));
    await sub.close();
    const screen = stripVTControlCharacters(cap.text());
    expect(screen).toContain('clone: ok in 1.5s: cloned with token ***');
    expect(screen).toContain('build: denied in 10ms: not allowed');
    expect(cap.text()).not.toContain('hunter2');
  });
});

describe('loading', () => {
  it('imports listr2 only lazily, so commands without progress do not pay for it', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('../../src/observe/progress-listr.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^import\s+(?!type\b)[^;]*from\s+'listr2'/m);
    expect(source).toContain("await import('listr2')");
  });
});
