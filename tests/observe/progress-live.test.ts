import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { EngineEvent } from '../../src/engine/types.js';
import { createLiveProgress, type LiveProgressOptions } from '../../src/observe/progress-live.js';
import { captureStream, plan, scripter, step } from './helpers.js';

/** A stream that keeps every write apart: the view writes one frame per write. */
function frameStream(columns?: number) {
  const cap = captureStream();
  const writes: string[] = [];
  const write = cap.stream.write.bind(cap.stream);
  cap.stream.write = ((chunk: string, ...rest: never[]) => {
    writes.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof cap.stream.write;
  if (columns !== undefined) Object.assign(cap.stream, { columns });
  return { stream: cap.stream, writes };
}

/** What a frame shows: the last write, without colours and cursor moves, without the line-erase codes. */
function screen(write: string): string {
  return stripVTControlCharacters(write).replace(/\n$/, '');
}

function row(frame: string, label: string): string {
  const line = frame.split('\n').find((l) => new RegExp(`^  . ${label} `).test(l));
  if (line === undefined) throw new Error(`no row ${label} in:\n${frame}`);
  return line;
}

const SPINNER = /^ {2}[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /;

const runPlan = () =>
  plan(
    [
      step('clone', { title: 'Shallow clone of main' }),
      step('deps', { title: 'Fetch dependencies' }),
      step('search', { title: 'Select the code the model sees' }),
      step('codegen', { title: 'Ask the model for a patch' }),
      step('apply', { title: 'Apply the patch' }),
      step('build', { title: 'cargo build', baseline: true, repairable: true }),
      step('test', { title: 'cargo test', baseline: true, repairable: true }),
      step('lint', { title: 'cargo clippy', baseline: true, repairable: true }),
      step('secrets', { title: 'Scan the change for secrets' }),
      step('push', { title: 'Push the branch' }),
    ],
    2,
  );

function view(extra: Partial<LiveProgressOptions> = {}) {
  const out = frameStream(200);
  let clock = 0;
  const live = createLiveProgress({ stream: out.stream, title: 'Add a sub function', tickMs: 0, color: false, now: () => clock, ...extra });
  return {
    live,
    out,
    at(ms: number): void {
      clock = ms;
    },
    /** The frame on screen now (what the last write drew), after a redraw at this clock. */
    frameAt(ms: number): string {
      clock = ms;
      live.repaint();
      const drawn = screen(out.writes.at(-1)!);
      expect(drawn).toBe(live.frame());
      return drawn;
    },
  };
}

describe('createLiveProgress', () => {
  it('draws a run truthfully at 0.2 s, during the baseline, during a repair round and at the end', async () => {
    const s = scripter();
    const v = view();
    const send = (ms: number, ...events: EngineEvent[]): void => {
      v.at(ms);
      for (const e of events) v.live(e);
    };

    // Nothing has happened yet but the process starting: the first frame is there already.
    const early = v.frameAt(200);
    expect(early).toMatchSnapshot('0.2 s');
    expect(row(early, 'setup')).toMatch(SPINNER);
    expect(row(early, 'clone')).toMatch(/^ {2}◌ /);

    send(900, s.status('pending'), s.status('planning'), s.started('clone'));
    const cloning = v.frameAt(1200);
    expect(row(cloning, 'setup')).toMatch(/^ {2}✔ setup +ok in 900ms/);
    expect(row(cloning, 'clone')).toMatch(SPINNER);
    expect(row(cloning, 'clone')).toContain('300ms');

    send(1500, s.output('clone', 'Receiving objects: 100%'), s.finished('clone', 'ok', 600, { summary: 'cloned main at 1a2b3c4d' }));
    expect(row(v.frameAt(1700), 'plan')).toMatch(SPINNER);
    v.at(2100);
    v.live.setPlan(runPlan());
    send(2100, s.status('executing'), s.started('deps'), s.finished('deps', 'ok', 900, { summary: 'fetched 1 crate' }));
    // The baseline runs beside search: two rows spin at once, each with its own time.
    send(3000, s.started('build', { mode: 'baseline' }), s.started('search'));
    send(4200, s.finished('build', 'ok', 1200, { mode: 'baseline', summary: 'compiled' }), s.started('test', { mode: 'baseline' }));
    send(4400, s.finished('search', 'ok', 1400, { summary: '2 files, 900 tokens' }), s.started('codegen'));
    send(4600, s.output('test', 'running 3 tests'));
    const baseline = v.frameAt(5000);
    expect(baseline).toMatchSnapshot('during the baseline');
    expect(row(baseline, 'baseline build')).toMatch(/^ {2}✔ baseline build +ran in 1\.2s +compiled$/);
    expect(row(baseline, 'baseline test')).toMatch(SPINNER);
    expect(row(baseline, 'codegen')).toMatch(SPINNER);
    expect(row(baseline, 'build')).toMatch(/^ {2}◌ /);
    expect(baseline.split('\n').filter((l) => SPINNER.test(l))).toHaveLength(2);

    send(
      5400,
      s.finished('test', 'failed', 1200, { mode: 'baseline', summary: '2 passed, 1 failed: tests::flaky' }),
      s.started('lint', { mode: 'baseline' }),
    );
    send(6000, s.finished('lint', 'ok', 600, { mode: 'baseline', summary: 'no warnings' }));
    send(8000, s.finished('codegen', 'ok', 3600, { summary: 'patch touches 1 file' }), s.started('apply'));
    send(8100, s.finished('apply', 'ok', 100), s.started('build'));
    send(9000, s.finished('build', 'failed', 900, { summary: 'error[E0308]: mismatched types' }));
    send(9000, s.repair(1, 2, 'build', 'The build failed:\nerror[E0308]: mismatched types'), s.started('codegen', { round: 1 }));
    const repairing = v.frameAt(10_500);
    expect(repairing).toMatchSnapshot('during a repair round');
    expect(row(repairing, 'codegen')).toMatch(SPINNER);
    expect(row(repairing, 'codegen')).toContain('round 1');
    // The step being repaired runs again: not a tick from its earlier run, nor a cross yet.
    expect(row(repairing, 'build')).toMatch(/^ {2}◌ build +runs again in round 1 \(failed in round 0\)$/);
    expect(row(repairing, 'apply')).toMatch(/^ {2}◌ apply +runs again in round 1/);

    send(12_000, s.finished('codegen', 'ok', 1500, { round: 1 }), s.started('apply', { round: 1 }));
    send(12_100, s.finished('apply', 'ok', 100, { round: 1 }), s.started('build', { round: 1 }));
    const rebuilding = v.frameAt(12_600);
    expect(row(rebuilding, 'build')).toMatch(SPINNER);
    expect(row(rebuilding, 'build')).toContain('500ms, round 1');
    send(13_000, s.finished('build', 'ok', 900, { round: 1, summary: 'compiled' }), s.started('test', { round: 1 }));
    send(14_000, s.finished('test', 'ok', 1000, { round: 1, summary: '3 passed' }), s.started('lint', { round: 1 }));
    send(14_500, s.finished('lint', 'ok', 500, { round: 1 }), s.started('secrets'));
    send(14_600, s.finished('secrets', 'ok', 100, { summary: 'no findings' }), s.status('verified'), s.started('push'));
    send(15_000, s.finished('push', 'ok', 400, { summary: 'pushed autodev/t1' }));
    v.at(15_100);
    await v.live.close();
    const end = screen(v.out.writes.at(-1)!);
    expect(end).toMatchSnapshot('at the end');
    expect(end.split('\n').filter((l) => SPINNER.test(l))).toHaveLength(0);
    expect(row(end, 'build')).toMatch(/^ {2}✔ build +ok in 900ms \(round 1\) +compiled$/);
    expect(row(end, 'baseline test')).toMatch(/^ {2}! baseline test +failed in 1\.2s +2 passed, 1 failed/);
  });

  it('ends running rows and rows that never ran with what they reached when the task ends early', async () => {
    const s = scripter();
    const v = view();
    v.at(500);
    v.live(s.status('pending'));
    v.live(s.status('planning'));
    v.live(s.started('clone'));
    v.at(2500);
    v.live(s.status('cancelled', 'cancelled'));
    await v.live.close();
    const end = screen(v.out.writes.at(-1)!);
    expect(row(end, 'clone')).toMatch(/^ {2}■ clone +stopped in 2\.0s +cancelled$/);
    expect(row(end, 'plan')).toMatch(/^ {2}◌ plan +not run$/);
    expect(end.split('\n')[0]).toBe('autodev run · Add a sub function · cancelled · 2.5s');
  });

  it('shows a planning failure on the plan row', async () => {
    const s = scripter();
    const v = view();
    v.at(300);
    for (const e of [s.status('pending'), s.status('planning'), s.started('clone'), s.finished('clone', 'ok', 200)]) v.live(e);
    v.at(900);
    v.live(s.status('failed', 'nothing answers at http://127.0.0.1:9 (llm.api_url)'));
    await v.live.close();
    expect(row(v.live.frame(), 'plan')).toBe('  ✖ plan   failed in 600ms  nothing answers at http://127.0.0.1:9 (llm.api_url)');
  });

  it('shows a resumed task: no clone or planning of its own, the steps before the resume point done earlier', async () => {
    const s = scripter();
    const v = view({ resume: true, title: 'resume t1' });
    expect(v.live.frame().split('\n').slice(1)).toEqual(['  ⠋ setup  0ms  loading, checking credentials']);
    v.at(700);
    v.live.setPlan(plan([step('clone'), step('codegen'), step('build', { repairable: true })]), 'build');
    v.live(s.status('executing'));
    v.live(s.started('build', { round: 1 }));
    const frame = v.frameAt(1000);
    expect(row(frame, 'clone')).toBe('  ✔ clone    done before the resume');
    expect(row(frame, 'codegen')).toBe('  ✔ codegen  done before the resume');
    expect(row(frame, 'build')).toMatch(SPINNER);
    expect(row(frame, 'setup')).toMatch(/^ {2}✔ setup +ok in 700ms$/);
  });

  it('gives every run one row: a plan without a repair loop, a resume past the baseline', () => {
    const noLoop = view();
    noLoop.live.setPlan({ ...plan([step('clone'), step('build', { baseline: true }), step('test', { baseline: true })]), repair: null });
    const labels = (frame: string): string[] =>
      frame
        .split('\n')
        .slice(1)
        .map((l) => l.slice(4).split(/ {2,}/)[0]!.trim());
    expect(labels(noLoop.live.frame())).toEqual(['setup', 'clone', 'plan', 'build', 'test']);

    const resumed = view({ resume: true });
    resumed.live.setPlan(runPlan(), 'test');
    const frame = resumed.live.frame();
    expect(labels(frame)).toEqual([
      'setup',
      'clone',
      'deps',
      'search',
      'baseline build',
      'baseline test',
      'baseline lint',
      'codegen',
      'apply',
      'build',
      'test',
      'lint',
      'secrets',
      'push',
    ]);
    expect(row(frame, 'baseline lint')).toMatch(/done before the resume$/);
    expect(row(frame, 'build')).toMatch(/done before the resume$/);
    expect(row(frame, 'test')).toMatch(/^ {2}◌ test +cargo test$/);
  });

  it('keeps a retried step running through its backoff', () => {
    const s = scripter();
    const v = view();
    v.live.setPlan(plan([step('clone'), step('push', { retries: 2 })]));
    v.at(1000);
    v.live(s.started('push'));
    v.live(s.finished('push', 'failed', 300, { summary: 'HTTP 502' }));
    v.live(s.retry('push', 2, 2000, 'HTTP 502'));
    const frame = v.frameAt(1500);
    expect(row(frame, 'push')).toMatch(SPINNER);
    expect(row(frame, 'push')).toContain('500ms, attempt 2  retrying in 2.0s (attempt 2): HTTP 502');
  });

  it('ticks: the elapsed times move every second without any event', async () => {
    jest.useFakeTimers();
    const out = frameStream();
    const t0 = Date.now();
    const live = createLiveProgress({ stream: out.stream, title: 'tick', color: false, now: () => Date.now() - t0 });
    live(scripter().started('clone'));
    const before = out.writes.length;
    jest.advanceTimersByTime(1000);
    expect(out.writes.length).toBeGreaterThanOrEqual(before + 1);
    expect(row(screen(out.writes.at(-1)!), 'clone')).toMatch(/ 1\.0s +clone the repository$/);
    jest.advanceTimersByTime(1000);
    expect(row(screen(out.writes.at(-1)!), 'clone')).toMatch(/ 2\.0s +clone the repository$/);
    await live.close();
    const after = out.writes.length;
    jest.advanceTimersByTime(5000);
    expect(out.writes.length).toBe(after);
  });

  it('redraws in place: each frame moves up over the previous one and clips lines to the terminal', () => {
    const out = frameStream(40);
    const live = createLiveProgress({ stream: out.stream, title: 'a title much longer than forty columns, to be clipped', tickMs: 0 });
    live(scripter().started('clone'));
    const [first, second] = out.writes;
    const firstLines = stripVTControlCharacters(first!).split('\n').length - 1;
    // CSI n F: to the start of the line n lines up, where the previous frame began.
    expect(second!.includes(`\u001b[${firstLines}F`)).toBe(true);
    // Autowrap off while drawing, back on after.
    expect(second!.startsWith('\u001b[?7l')).toBe(true);
    expect(second!.endsWith('\u001b[?7h')).toBe(true);
    for (const line of stripVTControlCharacters(second!).split('\n')) expect([...line].length).toBeLessThan(40);
    live.discard();
    // Discarded (a usage error before the run): erased.
    expect(out.writes.at(-1)).toBe(`\u001b[${firstLines}F\u001b[J`);
  });

  it('keeps notes as lines when discarded, redacts every line, and ignores events once closed', async () => {
    const v = view({ redact: (x) => x.replaceAll('hunter2', '***') });
    v.live.note('autodev: warning: config key foo is deprecated (token hunter2)');
    expect(v.live.frame()).toContain('autodev: warning: config key foo is deprecated (token ***)');
    v.live.discard();
    expect(v.out.writes.at(-1)).toMatch(/^\u001b\[\d+F\u001b\[Jautodev: warning: config key foo is deprecated \(token \*\*\*\)\n$/);
    expect(v.out.writes.join('')).not.toContain('hunter2');
    const count = v.out.writes.length;
    v.live(scripter().started('clone'));
    await v.live.close();
    expect(v.out.writes.length).toBe(count);
    expect(v.live.live).toBe(false);
  });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('the first frame loads almost nothing', () => {
  /** Every module `file` loads at import time (type-only imports load nothing), followed through relative imports. */
  async function staticImports(file: string, seen = new Set<string>()): Promise<Set<string>> {
    const { readFile } = await import('node:fs/promises');
    const pathModule = await import('node:path');
    if (seen.has(file)) return seen;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const match of source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)';/gms)) {
      const spec = match[1]!;
      if (spec.startsWith('.')) await staticImports(pathModule.resolve(pathModule.dirname(file), spec.replace(/\.js$/, '.ts')), seen);
      else seen.add(spec);
    }
    return seen;
  }

  it('the view and the run command that draws it import only node built-ins before the first frame', async () => {
    const { fileURLToPath } = await import('node:url');
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    for (const entry of ['observe/progress-live.ts', 'observe/progress-plain.ts', 'util/redact.ts', 'cli/run.ts']) {
      const loaded = [...(await staticImports(`${root}${entry}`))];
      // The control: the walk does see what the file imports.
      expect(loaded.length).toBeGreaterThan(1);
      expect(loaded.filter((m) => !m.startsWith('/') && !m.startsWith('node:'))).toEqual([]);
    }
    // The control: the walk finds the packages of a module that loads some (the config run.ts loads later).
    expect([...(await staticImports(`${root}config/load.ts`))]).toContain('cosmiconfig');
  });
});

describe('a terminal shorter than the frame', () => {
  it('folds finished rows, then output lines, then rows to come, so the frame still redraws in place', async () => {
    const out = frameStream(100);
    Object.assign(out.stream, { rows: 10 });
    let clock = 0;
    const live = createLiveProgress({ stream: out.stream, title: 'short', tickMs: 0, color: false, now: () => clock });
    const s = scripter();
    live.setPlan(runPlan());
    for (const e of [
      s.status('executing'),
      s.started('clone'),
      s.finished('clone', 'ok', 100),
      s.started('deps'),
      s.finished('deps', 'ok', 100),
    ])
      live(e);
    live(s.started('search'));
    live(s.output('search', 'ranking 12 files'));
    clock = 1000;
    live.repaint();
    const frame = screen(out.writes.at(-1)!);
    expect(frame.split('\n').length).toBeLessThanOrEqual(9);
    expect(frame).toMatchSnapshot('ten rows high');
    expect(frame).toMatch(/^ {2}✔ \d done: setup, clone, deps/m);
    expect(row(frame, 'search')).toMatch(SPINNER);
    expect(frame).toMatch(/^ {2}◌ \d+ more: .*push$/m);
    // The last frame is the record of the run: nothing folded.
    await live.close();
    const end = screen(out.writes.at(-1)!);
    expect(row(end, 'clone')).toMatch(/^ {2}✔ clone +ok in 100ms$/);
    expect(row(end, 'push')).toMatch(/^ {2}◌ push +not run$/);
  });
});
