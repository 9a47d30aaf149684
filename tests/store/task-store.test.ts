import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { EngineEvent } from '../../src/engine/types.js';
import type { TaskRequest } from '../../src/config/request.js';
import type { TaskResult } from '../../src/task/run-task.js';
import { createTaskRecorder } from '../../src/store/recorder.js';
import { createTaskStore, isFinished, newStoredTask, type StoredTask } from '../../src/store/task-store.js';
import { clearSecrets, registerSecret } from '../../src/util/redact.js';
import { cleanup, makeTempDir } from '../support/fixture-repo.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const request: TaskRequest = {
  repo: '/tmp/repo.git',
  title: 'Fix add',
  description: 'it subtracts',
  risk: 'low',
  noPr: false,
  keepWorkspace: false,
};

afterAll(cleanup);

describe('the task store', () => {
  it('creates, reads, updates and lists tasks newest first, each in its own file', async () => {
    const state = await makeTempDir('autodev-store-');
    const store = createTaskStore(state);
    const first = newStoredTask('20240101000000-aaaaaa', request, { kind: 'run', pid: 1 });
    const second = {
      ...newStoredTask('20240101000001-bbbbbb', { ...request, title: 'Second' }, { kind: 'serve', pid: 2 }),
      createdAt: '2099-01-01T00:00:00.000Z',
    };
    await store.create(first);
    await store.create(second);
    await expect(store.create(first)).rejects.toThrow(/already exists/);

    expect((await store.list()).map((t) => t.id)).toEqual([second.id, first.id]);
    const updated = await store.update(first.id, (t) => {
      t.status = 'executing';
    });
    expect(updated?.status).toBe('executing');
    expect((await store.get(first.id))?.status).toBe('executing');
    expect(await store.update('20240101000002-cccccc', () => {})).toBeNull();
    expect(await store.get('../../etc/passwd')).toBeNull();

    const files = await readdir(store.dir);
    expect(files.sort()).toEqual([`${first.id}.json`, `${second.id}.json`]);
    // Owner-only: requests and results may hold code and prompts.
    expect((await stat(path.join(store.dir, files[0]))).mode & 0o077).toBe(0);
  });

  it('skips a file that is not a task document instead of failing the listing', async () => {
    const state = await makeTempDir('autodev-store-');
    const store = createTaskStore(state);
    await store.create(newStoredTask('20240101000000-aaaaaa', request, { kind: 'run', pid: 1 }));
    await writeFile(path.join(store.dir, '20240101000009-ffffff.json'), '{ half a docu');
    await writeFile(path.join(store.dir, 'notes.txt'), 'hello');
    expect((await store.list()).map((t) => t.id)).toEqual(['20240101000000-aaaaaa']);
  });

  it('returns an empty list when nothing was ever stored', async () => {
    const state = await makeTempDir('autodev-store-');
    expect(await createTaskStore(state).list()).toEqual([]);
  });
});

describe('the recorder (a subscriber)', () => {
  it('keeps status, steps, usage, plan and result from engine events, redacted', async () => {
    const state = await makeTempDir('autodev-store-');
    const store = createTaskStore(state);
    const id = '20240101000000-abcdef';
    const secret = 'sk-recorder-secret-123456';
    registerSecret(secret);
    try {
      await store.create(newStoredTask(id, request, { kind: 'run', pid: process.pid }));
      const recorder = createTaskRecorder(store, id);
      const at = '2024-01-01T00:00:01.000Z';
      const events: EngineEvent[] = [
        { type: 'task.status', taskId: id, status: 'planning', at },
        { type: 'task.status', taskId: id, status: 'executing', at },
        { type: 'step.started', taskId: id, stepId: 'build', tool: 'build', title: 'Build', attempt: 1, round: 0, mode: 'change', at },
        { type: 'step.output', taskId: id, stepId: 'build', stream: 'stdout', line: 'compiling' },
        {
          type: 'step.finished',
          taskId: id,
          stepId: 'build',
          tool: 'build',
          status: 'failed',
          summary: `token ${secret} leaked`,
          attempt: 1,
          round: 0,
          mode: 'change',
          durationMs: 1200,
          at,
        },
        { type: 'llm.usage', taskId: id, promptTokens: 100, completionTokens: 20, costUsd: 0.5 },
        { type: 'llm.usage', taskId: id, promptTokens: 50, completionTokens: 5, costUsd: null },
        { type: 'task.status', taskId: 'someone-else', status: 'failed', at },
      ];
      for (const event of events) recorder(event);
      await recorder.close();
      let task = (await store.get(id))!;
      expect(task.status).toBe('executing');
      expect(task.startedAt).toBe(at);
      expect(task.history.map((h) => h.status)).toEqual(['pending', 'planning', 'executing']);
      expect(task.steps).toEqual([
        {
          id: 'build',
          tool: 'build',
          status: 'failed',
          summary: 'token *** leaked',
          attempt: 1,
          round: 0,
          mode: 'change',
          durationMs: 1200,
          at,
        },
      ]);
      expect(task.usage).toEqual({ promptTokens: 150, completionTokens: 25, totalTokens: 175, costUsd: 0.5, calls: 2 });
      expect(isFinished(task)).toBe(false);

      recorder({ type: 'task.status', taskId: id, status: 'pr_created', at: '2024-01-01T00:00:09.000Z' });
      const result = {
        status: 'pr_created',
        reason: null,
        exitCode: 0,
        plan: null,
        pr: { url: 'https://github.test/acme/calc/pull/1', number: 1, draft: false, updated: false },
        change: { branch: 'autodev/x', commit: 'abc', files: ['src/lib.rs'], diff: `+${secret}` },
        pushed: { remote: 'origin', branch: 'autodev/x' },
        policy: null,
        usage: { promptTokens: 150, completionTokens: 25, totalTokens: 175, costUsd: 0.5, calls: 2 },
        verification: { build: 'ok: built' },
        notes: ['a note'],
        workspace: null,
      } as unknown as TaskResult;
      await recorder.finish(result);
      task = (await store.get(id))!;
      expect(task.status).toBe('pr_created');
      expect(task.exitCode).toBe(0);
      expect(task.finishedAt).toBe('2024-01-01T00:00:09.000Z');
      expect(task.pr).toMatchObject({ number: 1, state: 'open' });
      expect(task.change?.diff).toBe('+***');
      expect(isFinished(task)).toBe(true);
      // An unproven task is finished as soon as its status arrives, like a failed one.
      expect(isFinished({ status: 'unproven', exitCode: null })).toBe(true);
      expect(recorder.errors).toEqual([]);
      expect(JSON.stringify(await store.list())).not.toContain(secret);
    } finally {
      clearSecrets();
    }
  });
});

describe('several processes writing at once', () => {
  it('loses no update: own tasks and one shared task, from 4 processes', async () => {
    const built = path.join(ROOT, 'dist', 'store', 'task-store.js');
    if (!existsSync(built)) throw new Error('run `npm run build` first (the writer processes import dist/)');
    const state = await makeTempDir('autodev-store-');
    const store = createTaskStore(state);
    const shared = '20240101000000-shared';
    await store.create(newStoredTask(shared, request, { kind: 'serve', pid: null }));
    const writers = 4;
    const rounds = 25;
    // Each writer: creates its own task and records `rounds` steps in it, while also appending a note
    // to the shared task every round; a lost read-modify-write would drop a step or a note.
    const script = `
      import { createTaskStore, newStoredTask } from ${JSON.stringify(pathToFileURL(built).href)};
      const [state, me, rounds, shared] = process.argv.slice(1);
      const store = createTaskStore(state);
      const id = '20240101000001-w' + me;
      await store.create(newStoredTask(id, { repo: 'r', title: 't', description: '', risk: 'low', noPr: true, keepWorkspace: false }, { kind: 'run', pid: process.pid }));
      for (let i = 0; i < Number(rounds); i += 1) {
        await Promise.all([
          store.update(id, (t) => { t.steps.push({ id: 'step' + i, tool: 'build', status: 'ok', summary: '', attempt: 1, round: 0, mode: 'change', durationMs: 1, at: '' }); }),
          store.update(shared, (t) => { t.notes.push(me + ':' + i); }),
        ]);
      }
    `;
    const results = await Promise.all(
      Array.from(
        { length: writers },
        (_, n) =>
          new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, state, String(n), String(rounds), shared], {
              stdio: ['ignore', 'ignore', 'pipe'],
            });
            let stderr = '';
            child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            child.on('close', (code) => resolve({ code, stderr }));
          }),
      ),
    );
    expect(results).toEqual(Array.from({ length: writers }, () => ({ code: 0, stderr: '' })));
    const tasks = await store.list();
    expect(tasks).toHaveLength(writers + 1);
    const sharedTask = tasks.find((t) => t.id === shared) as StoredTask;
    expect(sharedTask.notes).toHaveLength(writers * rounds);
    for (let n = 0; n < writers; n += 1) {
      const own = tasks.find((t) => t.id === `20240101000001-w${n}`)!;
      expect(own.steps.map((s) => s.id)).toEqual(Array.from({ length: rounds }, (_, i) => `step${i}`));
      // Per writer, the shared notes keep that writer's order.
      expect(sharedTask.notes.filter((note) => note.startsWith(`${n}:`))).toEqual(Array.from({ length: rounds }, (_, i) => `${n}:${i}`));
    }
    // No lock directories or temp files are left behind.
    expect((await readdir(store.dir)).filter((name) => !name.endsWith('.json'))).toEqual([]);
  });
});
