// `autodev tasks watch`: the ink view rendered by ink itself into a fake terminal, reading a real store
// on disk (so a change to a task shows up on the next refresh); and the one-shot table the built CLI
// prints when stdout is not a terminal.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { render } from 'ink';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { TasksView } from '../../src/cli/tasks-watch.js';
import { createTaskStore, newStoredTask, type StoredTask, type TaskStore } from '../../src/store/task-store.js';
import { ROOT, runCli } from '../support/cli.js';
import { cleanup, makeTempDir } from '../support/fixture-repo.js';
import { until } from '../support/poll.js';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

let state: string;
let store: TaskStore;
let owner: ChildProcess;

/** A terminal as ink sees one: every frame (debug mode writes whole frames) lands in `frames`. */
class FakeTerminal extends Writable {
  frames: string[] = [];
  columns = 160;
  rows = 40;
  isTTY = true;
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.frames.push(stripVTControlCharacters(chunk.toString('utf8')));
    done();
  }
  last(): string {
    return this.frames.at(-1) ?? '';
  }
}

/** A keyboard: a TTY-like stdin that accepts raw mode, so useInput is live. */
function fakeKeyboard(): NodeJS.ReadStream {
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream & { isTTY: boolean };
  stdin.isTTY = true;
  stdin.setRawMode = () => stdin;
  stdin.ref = () => stdin;
  stdin.unref = () => stdin;
  return stdin;
}

function task(id: string, title: string, patch: Partial<StoredTask>): StoredTask {
  const base = newStoredTask(
    id,
    { repo: '/src/calc', title, description: '', risk: 'medium', noPr: false, keepWorkspace: false },
    { kind: 'run', pid: process.pid },
  );
  return { ...base, createdAt: '2026-03-01T11:00:00.000Z', ...patch };
}

beforeAll(async () => {
  state = path.join(await makeTempDir('autodev-watch-'), 'state');
  store = createTaskStore(path.join(state, 'autodev'));
  // The running task's owner: a live process whose command line names autodev, as a real run's does.
  owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'autodev-run'], { stdio: 'ignore' });
  await store.create(
    task('202603011100-aaaaaa', 'Fix add: it subtracts', {
      status: 'executing',
      startedAt: '2026-03-01T11:58:30.000Z',
      currentStep: 'build',
      owner: { kind: 'run', pid: owner.pid! },
    }),
  );
  await store.create(
    task('202603011000-bbbbbb', 'Rename mul to multiply', {
      createdAt: '2026-03-01T10:00:00.000Z',
      status: 'pr_created',
      exitCode: 0,
      startedAt: '2026-03-01T10:00:00.000Z',
      finishedAt: '2026-03-01T10:02:05.000Z',
      pr: { url: 'http://127.0.0.1:9/acme/calc/pull/7', number: 7, draft: false, updated: false },
    }),
  );
  await store.create(
    task('202603010900-cccccc', 'Break everything', {
      createdAt: '2026-03-01T09:00:00.000Z',
      status: 'failed',
      exitCode: 1,
      startedAt: '2026-03-01T09:00:00.000Z',
      finishedAt: '2026-03-01T09:00:42.000Z',
    }),
  );
  await store.create(
    task('202603010800-dddddd', 'Killed mid-build', {
      createdAt: '2026-03-01T08:00:00.000Z',
      status: 'executing',
      startedAt: '2026-03-01T08:00:00.000Z',
      currentStep: 'test',
      owner: { kind: 'run', pid: null },
    }),
  );
});

afterAll(async () => {
  owner.kill('SIGKILL');
  await cleanup();
});

function rowOf(frame: string, id: string): string {
  return frame.split('\n').find((line) => line.includes(id)) ?? `(no row for ${id} in:\n${frame})`;
}

describe('tasks watch (ink view)', () => {
  it('shows running tasks first with their step and elapsed time, then recent ones with status and PR; refreshes; quits on q', async () => {
    const stdout = new FakeTerminal();
    const stdin = fakeKeyboard();
    const load = () => store.list();
    const now = () => NOW;
    const instance = render(<TasksView load={load} intervalMs={100} limit={10} color={false} now={now} />, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    });
    try {
      await until('the first frame with tasks', () => stdout.last().includes('202603011100-aaaaaa'), 10_000, 20);
      const frame = stdout.last();
      const lines = frame.split('\n');
      expect(lines[0]).toMatch(/^autodev tasks: \d running, \d recent \(every 100 ms; q to quit\)$/);
      expect(lines[1]).toMatch(/^ {2}STATUS +ID +STEP +ELAPSED +TITLE +PR$/);
      // Order: the unfinished ones first, then finished ones, most recently finished first.
      const order = ['aaaaaa', 'dddddd', 'bbbbbb', 'cccccc'].map((id) => lines.findIndex((line) => line.includes(id)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(order[0]).toBe(2);
      expect(rowOf(frame, 'aaaaaa')).toMatch(/^▶ executing +202603011100-aaaaaa +build +1m30s +Fix add: it subtracts$/);
      expect(lines[0]).toContain('1 running, 3 recent');
      expect(rowOf(frame, 'bbbbbb')).toMatch(
        /^✔ pr_created +202603011000-bbbbbb +2m05s +Rename mul to multiply +http:\/\/127\.0\.0\.1:9\/acme\/calc\/pull\/7$/,
      );
      expect(rowOf(frame, 'cccccc')).toMatch(/^✖ failed +202603010900-cccccc +42\.0s +Break everything$/);
      // Nobody runs this one any more: said so, not shown as running.
      expect(rowOf(frame, 'dddddd')).toMatch(/^\? executing \(owner gone\) +202603010800-dddddd +test +/);

      // A step later, the store says test; the next refresh shows it.
      await store.update('202603011100-aaaaaa', (t) => {
        t.currentStep = 'test';
      });
      await until('the refreshed step', () => / test +/.test(rowOf(stdout.last(), 'aaaaaa')), 10_000, 20);

      stdin.write('q');
      await instance.waitUntilExit();
    } finally {
      instance.unmount();
    }
  });

  it('says so when there are no tasks', async () => {
    const stdout = new FakeTerminal();
    const instance = render(<TasksView load={async () => []} intervalMs={1000} limit={10} color={true} />, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: fakeKeyboard(),
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    });
    try {
      await until('the empty view', () => stdout.last().includes('no tasks yet'), 10_000, 20);
      expect(stdout.last()).toContain('autodev tasks: 0 running, 0 recent');
    } finally {
      instance.unmount();
    }
  });
});

describe('tasks watch (not a terminal)', () => {
  it('prints the table once and exits 0', async () => {
    expect(existsSync(path.join(ROOT, 'dist', 'cli', 'tasks.js'))).toBe(true);
    const { code, stdout, stderr } = await runCli(['tasks', 'watch', '--interval', '200'], {
      cwd: path.dirname(state),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: path.dirname(state), XDG_STATE_HOME: state },
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^ {2}STATUS +ID +STEP +ELAPSED +TITLE +PR$/);
    expect(lines[1]).toMatch(/^▶ executing +202603011100-aaaaaa +test +/);
    expect(lines.slice(2).map((line) => line.split(/ +/)[0])).toEqual(['?', '✔', '✖']);
    expect(stdout).toContain('http://127.0.0.1:9/acme/calc/pull/7');
    expect(stdout).not.toMatch(/\x1b\[/);
  });

  it('refuses a bad --interval with exit 2', async () => {
    const { code, stderr } = await runCli(['tasks', 'watch', '--interval', 'soon'], {
      cwd: path.dirname(state),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', XDG_STATE_HOME: state },
    });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('autodev: --interval soon: a whole number of milliseconds, at least 100');
  });
});
