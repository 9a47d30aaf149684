// `autodev tasks list|show|cancel` and `run --issue`, through the built CLI (run `npm run build` first).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TaskRequest } from '../../src/config/request.js';
import { createTaskStore, newStoredTask } from '../../src/store/task-store.js';
import { CALC_FILES, CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { cleanup, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, requireBuilt, runCli, startCli, taskEnv, type RunDir } from '../support/cli.js';
import { until } from '../support/poll.js';
import { storedTasks } from '../e2e/harness.js';

const request: TaskRequest = {
  repo: '/srv/calc.git',
  title: 'Fix add',
  description: 'it subtracts',
  risk: 'low',
  noPr: false,
  keepWorkspace: false,
};
let cache: string;

beforeAll(async () => {
  requireBuilt();
  cache = await makeTempDir('autodev-tasks-cache-');
});
afterAll(cleanup);

async function box(): Promise<RunDir> {
  return makeRunDir('autodev-tasks-');
}

/** A process that is certainly dead: one that ran and exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

describe('tasks list and show', () => {
  it('lists stored tasks (table and JSON) and shows one', async () => {
    const b = await box();
    const store = createTaskStore(`${b.state}/autodev`);
    const done = {
      ...newStoredTask('20240101000000-aaaaaa', request, { kind: 'run', pid: await deadPid() }),
      createdAt: '2024-01-01T00:00:00.000Z',
    };
    done.status = 'pr_created';
    done.exitCode = 0;
    done.pr = { url: 'https://github.test/acme/calc/pull/7', number: 7, draft: false, updated: false, state: 'open' };
    done.steps = [
      { id: 'build', tool: 'build', status: 'ok', summary: 'built in 1s', attempt: 1, round: 0, mode: 'change', durationMs: 1000, at: '' },
    ];
    const stale = {
      ...newStoredTask('20240102000000-bbbbbb', { ...request, title: 'Second task' }, { kind: 'run', pid: await deadPid() }),
      createdAt: '2024-01-02T00:00:00.000Z',
    };
    stale.status = 'executing';
    await store.create(done);
    await store.create(stale);
    const env = taskEnv(b);

    const table = await runCli(['tasks', 'list'], { cwd: b.cwd, env });
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+CREATED \(UTC\)\s+REPO\s+TITLE\s+PR$/);
    expect(lines[1]).toMatch(/^20240102000000-bbbbbb\s+executing \(owner gone\)\s+2024-01-02 00:00:00\s+\/srv\/calc\.git\s+Second task$/);
    expect(lines[2]).toContain('pull/7');

    const json = await runCli(['tasks', 'list', '--json'], { cwd: b.cwd, env });
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { id: string; status: string; stale: boolean; pr: { number: number } | null }[];
    expect(listed.map((t) => [t.id, t.status, t.stale])).toEqual([
      ['20240102000000-bbbbbb', 'executing', true],
      ['20240101000000-aaaaaa', 'pr_created', false],
    ]);
    expect(listed[1].pr?.number).toBe(7);

    const shown = await runCli(['tasks', 'show', '20240101000000-aaaaaa'], { cwd: b.cwd, env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('task 20240101000000-aaaaaa: pr_created');
    expect(shown.stdout).toContain('build: ok: built in 1s');
    const shownJson = JSON.parse((await runCli(['tasks', 'show', '20240101000000-aaaaaa', '--json'], { cwd: b.cwd, env })).stdout) as {
      request: TaskRequest;
    };
    expect(shownJson.request).toEqual(request);

    const unknown = await runCli(['tasks', 'show', 'nope'], { cwd: b.cwd, env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no task "nope"');
  });

  it('says so when the store is empty', async () => {
    const b = await box();
    const out = await runCli(['tasks', 'list'], { cwd: b.cwd, env: taskEnv(b) });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^no tasks yet/);
  });
});

describe('tasks cancel', () => {
  it('refuses a finished task (exit 1) and an unknown one (exit 2)', async () => {
    const b = await box();
    const store = createTaskStore(`${b.state}/autodev`);
    const finished = newStoredTask('20240101000000-aaaaaa', request, { kind: 'run', pid: null });
    finished.status = 'failed';
    finished.exitCode = 1;
    await store.create(finished);
    const env = taskEnv(b);
    const again = await runCli(['tasks', 'cancel', finished.id], { cwd: b.cwd, env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already finished (failed)');
    expect((await store.get(finished.id))?.status).toBe('failed');
    const unknown = await runCli(['tasks', 'cancel', '20991231000000-ffffff'], { cwd: b.cwd, env });
    expect(unknown.code).toBe(2);
  });

  it('marks a task cancelled when the process that ran it is gone', async () => {
    const b = await box();
    const store = createTaskStore(`${b.state}/autodev`);
    const orphan = newStoredTask('20240101000000-aaaaaa', request, { kind: 'run', pid: await deadPid() });
    orphan.status = 'executing';
    await store.create(orphan);
    const out = await runCli(['tasks', 'cancel', orphan.id], { cwd: b.cwd, env: taskEnv(b) });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('marked cancelled');
    expect(await store.get(orphan.id)).toMatchObject({ status: 'cancelled', reason: expect.stringContaining('was gone') });
  });

  describe('a live run', () => {
    let llm: OpenAiServer;
    let github: GitHubServer;
    beforeAll(async () => {
      // The model takes "forever", so the run is certainly mid-task when it is cancelled.
      llm = await startOpenAiServer({ apiKey: OPENAI_KEY, onRequest: () => ({ content: FIXED_REPLY, delayMs: 60_000 }) });
      github = await startGitHubServer({ token: GITHUB_TOKEN });
    });
    afterAll(async () => {
      await llm.close();
      await github.close();
    });

    it('signals the run, which ends cancelled (exit 130) through its Ctrl-C path', async () => {
      const b = await box();
      const bare = await makeRepo(CALC_FILES, { bare: true });
      const env = taskEnv(b, { llm, github, cache });
      const running = startCli(['run', '--repo', bare, '--title', CALC_TASK.title, '--description', CALC_TASK.description], {
        cwd: b.cwd,
        env,
      });
      const task = await until(
        'the run to reach codegen',
        async () => (await storedTasks(b)).find((t) => t.currentStep === 'codegen'),
        60_000,
      );
      expect(task.owner).toEqual({ kind: 'run', pid: running.child.pid });
      const cancel = await runCli(['tasks', 'cancel', task.id], { cwd: b.cwd, env });
      expect(cancel.code).toBe(0);
      expect(cancel.stdout).toContain(`signalled its run process ${running.child.pid}`);
      const outcome = await running.done;
      expect(outcome.code).toBe(130);
      expect(outcome.stdout).toMatch(/^cancelled: /);
      const after = (await storedTasks(b)).find((t) => t.id === task.id)!;
      expect(after).toMatchObject({ status: 'cancelled', exitCode: 130 });
      expect(after.cancelRequested).not.toBeNull();
      expect(github.pulls('acme', 'calc')).toEqual([]);
    });
  });
});

describe('run --issue', () => {
  let llm: OpenAiServer;
  let github: GitHubServer;
  beforeAll(async () => {
    llm = await startOpenAiServer({ apiKey: OPENAI_KEY, onRequest: () => ({ content: FIXED_REPLY }) });
    github = await startGitHubServer({ token: GITHUB_TOKEN });
  });
  afterAll(async () => {
    await llm.close();
    await github.close();
  });

  it('takes title and body from the issue, and the PR says Fixes #N', async () => {
    const b = await box();
    const bare = await makeRepo(CALC_FILES, { bare: true });
    github.addIssue('acme', 'calc', { title: 'placeholder', body: 'not this one' });
    const number = github.addIssue('acme', 'calc', { title: CALC_TASK.title, body: CALC_TASK.description });
    const env = taskEnv(b, { llm, github, cache });
    const out = await runCli(['run', '--json', '--issue', `https://github.com/acme/calc/issues/${number}`, '--repo', bare], {
      cwd: b.cwd,
      env,
    });
    expect(out.stderr).not.toContain(GITHUB_TOKEN);
    const result = JSON.parse(out.stdout) as { status: string; task: { title: string; issue?: unknown } };
    expect(out.code).toBe(0);
    expect(result.status).toBe('pr_created');
    expect(result.task.title).toBe(CALC_TASK.title);
    expect(result.task.issue).toEqual({ owner: 'acme', repo: 'calc', number });
    const pulls = github.pulls('acme', 'calc');
    expect(pulls).toHaveLength(1);
    expect(pulls[0].body).toContain(`Fixes #${number}`);
    // The model saw the issue's body as the task description.
    expect(JSON.stringify(llm.chatBodies()[0].messages)).toContain(CALC_TASK.description.slice(0, 40));
    const [stored] = await storedTasks(b);
    expect(stored.request.issue).toEqual({ owner: 'acme', repo: 'calc', number });
    expect(stored.status).toBe('pr_created');
  });

  it('rejects what is not an issue (exit 2) and an issue that does not exist (exit 1)', async () => {
    const b = await box();
    const env = taskEnv(b, { github });
    const bad = await runCli(['run', '--issue', 'acme/calc', '--plan-only'], { cwd: b.cwd, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--issue "acme/calc": not an issue');
    const missing = await runCli(['run', '--issue', 'acme/calc#999', '--plan-only'], { cwd: b.cwd, env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read issue acme/calc#999');
    const neither = await runCli(['run', '--title', 'x'], { cwd: b.cwd, env });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("'--repo <url|path>' not specified");
  });
});
