// `autodev serve` under pressure and after a crash, as real processes: a bounded queue (429 with
// Retry-After past queue_limit), a clean stop whose log agrees with the store (re-queued, not
// cancelled), and a server killed with SIGKILL mid-task whose successor resumes the task from its
// last good step (the model is not asked twice) and cleans up what it cannot resume.
// Run `npm run build` first.
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoredTask } from '../../src/store/task-store.js';
import { CALC_FILES, CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { cleanup, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import {
  GITHUB_TOKEN,
  makeRunDir,
  OPENAI_KEY,
  requireBuilt,
  startServe,
  stopStarted,
  taskEnv,
  type RunDir,
  type RunningCli,
} from '../support/cli.js';
import { until } from '../support/poll.js';
import { storedTasks } from '../e2e/harness.js';

const TASKS = '/api/v1/autodev/tasks';
const SLOW = 'SLOW-MODEL';

let llm: OpenAiServer;
let github: GitHubServer;
let bare: string;
let cache: string;

beforeAll(async () => {
  requireBuilt();
  // A task whose title says SLOW waits a minute for its model: reliably mid-run when the server stops.
  llm = await startOpenAiServer({
    apiKey: OPENAI_KEY,
    onRequest: (body) =>
      JSON.stringify(body.messages).includes(SLOW) ? { content: FIXED_REPLY, delayMs: 60_000 } : { content: FIXED_REPLY },
  });
  github = await startGitHubServer({ token: GITHUB_TOKEN });
  bare = await makeRepo(CALC_FILES, { bare: true });
  cache = await makeTempDir('autodev-recovery-cache-');
});

// A failed expectation must not leave a server running into the next test.
afterEach(stopStarted);

afterAll(async () => {
  await llm.close();
  await github.close();
  await cleanup();
});

async function newBox(): Promise<RunDir> {
  return makeRunDir('autodev-recovery-');
}

async function serve(box: RunDir, extra: Record<string, string> = {}): Promise<{ server: RunningCli; url: string }> {
  // Without a token, serve takes a local path only when the allowlist names it.
  return startServe({ cwd: box.cwd, env: taskEnv(box, { llm, github, cache, extra: { AUTODEV_ALLOWLIST_REPOS: bare, ...extra } }) });
}

async function post(url: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${url}${TASKS}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

async function get(url: string, id: string): Promise<StoredTask & { queued: boolean; running: boolean }> {
  return (await (await fetch(`${url}${TASKS}/${id}`)).json()) as StoredTask & { queued: boolean; running: boolean };
}

async function workspacesIn(box: RunDir): Promise<string[]> {
  return (await readdir(box.tmp)).filter((name) => /^autodev-\d{12}-/.test(name));
}

it('answers 429 with Retry-After past queue_limit, and its stop log says re-queued, as the store does', async () => {
  const box = await newBox();
  const { server, url } = await serve(box, { AUTODEV_MAX_PARALLEL_TASKS: '1', AUTODEV_QUEUE_LIMIT: '2' });
  const slow = await post(url, { repo: bare, title: `${SLOW} holds the only slot`, description: CALC_TASK.description });
  expect(slow.status).toBe(202);
  await until('the slow task to run', async () => (await get(url, slow.json.id)).running);
  const queued = [
    await post(url, { repo: bare, title: 'First in the queue' }),
    await post(url, { repo: bare, title: 'Second in the queue' }),
  ];
  expect(queued.map((q) => q.status)).toEqual([202, 202]);

  const refused = await post(url, { repo: bare, title: 'One too many' });
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(refused.json.error).toContain('queue_limit = 2');
  expect(((await (await fetch(`${url}${TASKS}`)).json()) as { tasks: unknown[] }).tasks).toHaveLength(3);

  await until('the slow task to reach codegen', async () => (await get(url, slow.json.id)).currentStep === 'codegen');
  server.child.kill('SIGINT');
  const { code, stderr } = await server.done;
  expect(code).toBe(0);
  const id = slow.json.id as string;
  expect(stderr).toContain(`task ${id}: stopped with the server; back in the queue for the next start`);
  expect(stderr).not.toMatch(new RegExp(`task ${id}: cancelled`));
  const stored = (await storedTasks(box)).find((t) => t.id === id)!;
  expect(stored.status).toBe('pending');
  expect(stored.notes).toContain('re-queued: the server stopped while it ran');
}, 180_000);

it('after SIGKILL, the next server resumes a task from its last good step and restarts, cleaned, those it cannot resume', async () => {
  const box = await newBox();
  const first = await serve(box, { AUTODEV_MAX_PARALLEL_TASKS: '3' });
  // Both tasks stop at the pull request (their first GitHub call): everything before it has finished.
  const hold = github.hold({ method: 'GET', path: /^\/repos\/acme\/calc\/pulls$/ });
  const callsBefore = llm.chatBodies().length;
  const resumed = await post(first.url, { repo: bare, title: 'Fix add, resumed after a crash', description: CALC_TASK.description });
  const restarted = await post(first.url, {
    repo: bare,
    title: 'Fix add, started again after a crash',
    description: CALC_TASK.description,
  });
  const unrecorded = await post(first.url, {
    repo: bare,
    title: 'Fix add, its workspace never recorded',
    description: CALC_TASK.description,
  });
  expect([resumed.status, restarted.status, unrecorded.status]).toEqual([202, 202, 202]);
  try {
    await until('the tasks to reach their pull request', async () => hold.waiting() === 3, 240_000);
  } finally {
    first.server.child.kill('SIGKILL');
    await first.server.done;
    hold.release();
  }
  expect(llm.chatBodies().length - callsBefore).toBe(3);
  const ids = [resumed.json.id as string, restarted.json.id as string, unrecorded.json.id as string];
  const [a, b, c] = await Promise.all(ids.map(async (id) => (await storedTasks(box)).find((t) => t.id === id)!));
  for (const task of [a, b, c]) expect(task.workspace && existsSync(task.workspace)).toBe(true);
  // b's resume state is lost (as when its server died before a step finished): it cannot be resumed.
  await rm(path.join(b.workspace!, 'autodev-state.json'));
  // c's workspace was never recorded (its server died before the store heard of it).
  const cFile = path.join(box.state, 'autodev', 'tasks', `${c.id}.json`);
  await writeFile(cFile, JSON.stringify({ ...JSON.parse(await readFile(cFile, 'utf8')), workspace: null }));

  const second = await serve(box, { AUTODEV_MAX_PARALLEL_TASKS: '3' });
  try {
    await second.server.waitForStderr(
      new RegExp(`re-queued 3 task\\(s\\) left by a previous server: .*\\(1 resume where they stopped: ${a.id}\\)`),
    );
    const done = await until(
      'the tasks to finish',
      async () => {
        const tasks = await Promise.all(ids.map((id) => get(second.url, id)));
        // The exit code comes with the recorded result (the PR), after the status.
        return tasks.every((t) => t.exitCode !== null) ? tasks : undefined;
      },
      240_000,
    );
    expect(done.map((t) => t.status)).toEqual(['pr_created', 'pr_created', 'pr_created']);
    // Two more model calls in all: the restarted tasks'. The resumed one went on from its pull request.
    expect(llm.chatBodies().length - callsBefore).toBe(5);
    expect(done[0].notes).toContain('re-queued: its server stopped while it ran; resumes at step pr');
    expect(done[0].steps.filter((s) => s.id === 'codegen')).toHaveLength(1);
    expect(done[1].notes).toContain('re-queued: its server stopped while it ran');
    expect(done[2].notes).toContain('re-queued: its server stopped while it ran');
    expect(second.server.stderr()).toContain(`task ${a.id}: resumed at step pr`);
    // What the dead server left is gone: the unresumable workspace at once, the resumed one at its end.
    expect(existsSync(b.workspace!)).toBe(false);
    expect(existsSync(c.workspace!)).toBe(false);
    expect(existsSync(a.workspace!)).toBe(false);
    expect(await workspacesIn(box)).toEqual([]);
    const pulls = github.pulls('acme', 'calc').filter((p) => done.some((t) => t.pr?.number === p.number));
    expect(pulls).toHaveLength(3);
  } finally {
    second.server.child.kill('SIGINT');
    expect((await second.server.done).code).toBe(0);
  }
}, 600_000);
