// The fleet, as real processes against a real redis-server on loopback: `serve --queue` processes
// enqueue, `autodev worker` processes (the built CLI) run the tasks on a tiny Node project in
// bubblewrap against the local OpenAI and GitHub servers, and an OTLP/HTTP collector receives the
// traces. Every wait polls; nothing sleeps. Run `npm run build` first.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoredTask } from '../../src/store/task-store.js';
import { NODE_FILES, NODE_FIX, NODE_TASK, replyFor } from '../real/fixtures.js';
import { processesTouching } from '../e2e/harness.js';
import {
  GITHUB_TOKEN,
  makeRunDir,
  OPENAI_KEY,
  requireBuilt,
  runCli,
  startCli,
  stopStarted,
  taskEnv,
  type RunDir,
  type RunningCli,
} from '../support/cli.js';
import { cleanup, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { startOtlpCollector, type OtlpCollector } from '../support/otlp-collector.js';
import { until } from '../support/poll.js';
import { redisCommand, startRedis, type RedisServer } from '../support/redis-server.js';

const TASKS = '/api/v1/autodev/tasks';
/** A task whose title says HOLD gets its model reply only when the test releases it. */
const HOLD = 'HOLD-THE-MODEL';
const WAIT = 150_000;

let redis: RedisServer;
let llm: OpenAiServer;
let github: GitHubServer;
let collector: OtlpCollector;
let cache: string;
let fix: string;
const held: (() => void)[] = [];
let heldCount = 0;

beforeAll(async () => {
  requireBuilt();
  fix = await replyFor('Fix sum to start at the first value', NODE_FILES, NODE_FIX);
  redis = await startRedis();
  collector = await startOtlpCollector();
  llm = await startOpenAiServer({
    apiKey: OPENAI_KEY,
    onRequest: (body) => {
      if (!JSON.stringify(body.messages).includes(HOLD)) return { content: fix };
      heldCount += 1;
      return new Promise((resolve) => held.push(() => resolve({ content: fix })));
    },
  });
  github = await startGitHubServer({ token: GITHUB_TOKEN });
  cache = await makeTempDir('autodev-fleet-cache-');
});

afterEach(async () => {
  await stopStarted();
  for (const release of held.splice(0)) release();
  heldCount = 0;
  // Each test starts from an empty Redis: no job or record of another test.
  await redisCommand(redis.port, 'FLUSHALL');
});

afterAll(async () => {
  await redis?.stop();
  await llm?.close();
  await github?.close();
  await collector?.close();
  await cleanup();
});

function env(box: RunDir, extra: Record<string, string> = {}): Record<string, string> {
  return taskEnv(box, {
    llm,
    github,
    cache,
    extra: {
      AUTODEV_GIT_GITHUB_REPO: 'acme/summer',
      // BullMQ's Redis driver, where this machine keeps it outside the project's node_modules.
      ...(process.env.NODE_PATH ? { NODE_PATH: process.env.NODE_PATH } : {}),
      ...extra,
    },
  });
}

async function serve(box: RunDir, extra: Record<string, string> = {}): Promise<{ server: RunningCli; url: string }> {
  const server = startCli(['serve', '--port', '0', '--queue', redis.url], { cwd: box.cwd, env: env(box, extra) });
  const match = await server.waitForStderr(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { server, url: match[1] };
}

async function worker(box: RunDir, name: string, extra: Record<string, string> = {}): Promise<{ worker: RunningCli; url: string }> {
  const child = startCli(['worker', '--queue', redis.url, '--name', name], { cwd: box.cwd, env: env(box, extra), detached: true });
  const match = await child.waitForStderr(/metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/);
  return { worker: child, url: match[1] };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${TASKS}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function get(url: string, id: string): Promise<StoredTask & { queued: boolean; running: boolean }> {
  return (await (await fetch(`${url}${TASKS}/${id}`)).json()) as StoredTask & { queued: boolean; running: boolean };
}

async function finished(url: string, ids: string[]): Promise<StoredTask[]> {
  let seen = '';
  return until(
    () => `tasks ${ids.join(', ')} to finish; last seen: ${seen}`,
    async () => {
      const tasks = await Promise.all(ids.map((id) => get(url, id)));
      seen = tasks.map((t) => `${t.id}:${t.status}`).join(' ');
      return tasks.every((t) => t.exitCode !== null) ? tasks : null;
    },
    WAIT,
    250,
  );
}

describe('autodev worker with serve --queue', () => {
  it(
    'runs 20 tasks from 3 workers, each exactly once, one per repository at a time, with one trace per task',
    async () => {
      const repos = await Promise.all([0, 1, 2, 3].map(() => makeRepo(NODE_FILES, { bare: true })));
      const box = await makeRunDir('autodev-fleet-');
      const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '200' };
      const allow = { AUTODEV_ALLOWLIST_REPOS: repos.join(',') };
      const { server, url } = await serve(box, { ...otel, ...allow });
      const workers = await Promise.all(['w1', 'w2', 'w3'].map((name) => worker(box, name, otel)));
      const chatsBefore = llm.chatBodies().length;
      const pullsBefore = github.pulls('acme', 'summer').length;
      const ids: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        const { status, json } = await post(url, {
          repo: repos[i % 4],
          title: `${NODE_TASK.title} (${i})`,
          description: NODE_TASK.description,
        });
        expect({ status, json }).toEqual({ status: 202, json: expect.objectContaining({ status: 'pending' }) });
        ids.push(json.id);
      }
      const tasks = await finished(url, ids);

      expect(tasks.map((t) => `${t.status}:${t.exitCode}`)).toEqual(ids.map(() => 'pr_created:0'));
      // Each ran once: one start per record, one model call and one pull request per task.
      expect(tasks.map((t) => t.queue?.attempts)).toEqual(ids.map(() => 1));
      expect(llm.chatBodies().length - chatsBefore).toBe(20);
      expect(github.pulls('acme', 'summer').length - pullsBefore).toBe(20);
      expect(new Set(tasks.map((t) => t.pr?.number)).size).toBe(20);
      // Spread over the workers, and never two at once on one repository.
      expect(new Set(tasks.map((t) => t.owner.worker)).size).toBeGreaterThan(1);
      for (const repo of repos) {
        const spans = tasks
          .filter((t) => t.request.repo === repo)
          .map((t) => [Date.parse(t.startedAt!), Date.parse(t.finishedAt!)] as const)
          .sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < spans.length; i += 1) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
      }
      // Any client of the queue lists every task: the CLI from "another machine" (no local store).
      const other = await makeRunDir('autodev-fleet-laptop-');
      const listed = await runCli(['tasks', 'list', '--json', '--queue', redis.url], { cwd: other.cwd, env: env(other) });
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.stdout) as { id: string }[]).map((t) => t.id).sort()).toEqual([...ids].sort());

      // The workers' metrics carry their name; the queue's own metrics are there.
      const metrics = await (await fetch(`${workers[0].url}/metrics`)).text();
      expect(metrics).toMatch(/autodev_queue_depth\{state="waiting",worker="w1"\} 0/);
      expect(metrics).toMatch(/autodev_queue_wait_seconds_count\{worker="w1"\} \d+/);
      expect(metrics).toContain('autodev_queue_retries_total{worker="w1"} 0');

      // One trace per task: serve's enqueue span, the worker's task span under it, its step spans under that.
      const byTask = await until(
        'a task span for every task',
        () => {
          const taskSpans = collector.spans().filter((s) => s.name === 'autodev.task');
          return ids.every((id) => taskSpans.some((s) => s.attributes['autodev.task.id'] === id)) ? taskSpans : null;
        },
        30_000,
      );
      const spans = collector.spans();
      for (const id of ids) {
        const taskSpan = byTask.find((s) => s.attributes['autodev.task.id'] === id)!;
        const enqueue = spans.find((s) => s.name === 'autodev.enqueue' && s.attributes['autodev.task.id'] === id);
        expect(enqueue?.traceId).toBe(taskSpan.traceId);
        expect(taskSpan.parentSpanId).toBe(enqueue!.spanId);
        expect(taskSpan.attributes['autodev.toolchain']).toBe('node');
        expect(taskSpan.attributes['autodev.task.exit_code']).toBe(0);
        const steps = spans.filter(
          (s) => s.traceId === taskSpan.traceId && s.parentSpanId === taskSpan.spanId && s.name.startsWith('autodev.step '),
        );
        expect(steps.map((s) => s.attributes['autodev.step.id'])).toEqual(
          expect.arrayContaining(['clone', 'codegen', 'apply', 'test', 'pr']),
        );
        const codegen = steps.find((s) => s.attributes['autodev.step.id'] === 'codegen')!;
        const call = spans.find((s) => s.name === 'autodev.model.call' && s.parentSpanId === codegen.spanId);
        expect(call?.attributes['gen_ai.request.model']).toBe('test-model');
        expect(call?.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      }
      expect(new Set(byTask.map((s) => s.traceId)).size).toBe(20);
      // No secret in any span.
      expect(JSON.stringify(spans)).not.toContain(OPENAI_KEY);
      expect(JSON.stringify(spans)).not.toContain(GITHUB_TOKEN);
      expect(collector.rejected()).toEqual([]);

      // SIGTERM: idle workers stop at once, exit 0.
      for (const w of workers) w.worker.child.kill('SIGTERM');
      for (const w of workers) expect((await w.worker.done).code).toBe(0);
      server.child.kill('SIGINT');
      expect((await server.done).code).toBe(0);
    },
    WAIT * 2,
  );

  it(
    'a task whose worker is killed (SIGKILL) mid-task finishes on another worker, and its record says retried',
    async () => {
      const repo = await makeRepo(NODE_FILES, { bare: true });
      const box = await makeRunDir('autodev-fleet-kill-');
      const fast = { AUTODEV_QUEUE_LOCK_SECS: '3' };
      const { url } = await serve(box, { AUTODEV_ALLOWLIST_REPOS: repo });
      const pullsBefore = github.pulls('acme', 'summer').length;
      const first = await worker(box, 'doomed', fast);
      const { json } = await post(url, { repo, title: `${NODE_TASK.title} ${HOLD}`, description: NODE_TASK.description });
      const id = json.id as string;
      // Mid-task: its model call is waiting for an answer.
      await until('the model call of the first run', () => heldCount === 1, WAIT);
      expect((await get(url, id)).owner.worker).toBe('doomed');
      process.kill(-first.worker.child.pid!, 'SIGKILL');
      await first.worker.done;
      const second = await worker(box, 'survivor', fast);
      // The second run is held too; let it through once it asks.
      await until('the model call of the second run', () => heldCount === 2, WAIT);
      for (const release of held.splice(0)) release();
      const [task] = await finished(url, [id]);
      expect(task.status).toBe('pr_created');
      expect(task.queue).toEqual(expect.objectContaining({ attempts: 2, worker: 'survivor' }));
      expect(task.notes).toEqual(
        expect.arrayContaining([expect.stringMatching(/^retried: run 2 of at most 3; the worker that ran it \(doomed\) stopped/)]),
      );
      // One pull request all the same.
      expect(github.pulls('acme', 'summer').length - pullsBefore).toBe(1);
      const metrics = await (await fetch(`${second.url}/metrics`)).text();
      expect(metrics).toContain('autodev_queue_retries_total{worker="survivor"} 1');
    },
    WAIT * 2,
  );

  it(
    'SIGTERM: a worker takes no new task, hands its running one back after the grace period, and exits 0; another finishes it',
    async () => {
      const repo = await makeRepo(NODE_FILES, { bare: true });
      const box = await makeRunDir('autodev-fleet-term-');
      const { url } = await serve(box, { AUTODEV_ALLOWLIST_REPOS: repo });
      const leaving = await worker(box, 'leaving', { AUTODEV_QUEUE_SHUTDOWN_GRACE_SECS: '1' });
      const { json } = await post(url, { repo, title: `${NODE_TASK.title} ${HOLD}`, description: NODE_TASK.description });
      const id = json.id as string;
      await until('the model call of the first run', () => heldCount === 1, WAIT);
      leaving.worker.child.kill('SIGTERM');
      expect((await leaving.worker.done).code).toBe(0);
      expect(leaving.worker.stderr()).toContain(`task ${id}: handed back to the queue (the worker is stopping)`);
      const back = await get(url, id);
      expect(back.status).toBe('pending');
      expect(back.notes).toContain('handed back: worker leaving stopped while it ran');
      await worker(box, 'staying');
      await until('the model call of the second run', () => heldCount === 2, WAIT);
      for (const release of held.splice(0)) release();
      const [task] = await finished(url, [id]);
      expect(task.status).toBe('pr_created');
      expect(task.queue).toEqual(expect.objectContaining({ attempts: 2, worker: 'staying' }));
    },
    WAIT * 2,
  );

  it(
    'a task cancelled from a second serve process stops on its worker: its processes are gone, its record cancelled',
    async () => {
      // The baseline test of this project runs until it is stopped.
      const slow = await makeRepo(
        {
          ...NODE_FILES,
          'test/slow.test.js': "import { test } from 'node:test';\ntest('waits', () => new Promise((r) => setTimeout(r, 600000)));\n",
        },
        { bare: true },
      );
      const box = await makeRunDir('autodev-fleet-cancel-');
      const a = await serve(box, { AUTODEV_ALLOWLIST_REPOS: slow });
      const b = await serve(box, { AUTODEV_ALLOWLIST_REPOS: slow });
      const w = await worker(box, 'w1');
      const { json } = await post(a.url, { repo: slow, title: NODE_TASK.title, description: NODE_TASK.description });
      const id = json.id as string;
      const workspace = await until('the task to record its workspace', async () => (await get(b.url, id)).workspace, WAIT);
      await until('the baseline test to run in the workspace', async () => (await processesTouching([workspace])).length > 0, WAIT);

      const res = await fetch(`${b.url}${TASKS}/${id}/cancel`, { method: 'POST' });
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 202, body: { id, status: 'cancelling' } });
      let left: string[] = [];
      await until(
        () => `the processes of ${workspace} to end: ${left.join('; ')}`,
        async () => (left = await processesTouching([workspace])).length === 0,
        30_000,
      );
      const [task] = await finished(a.url, [id]);
      expect(task.status).toBe('cancelled');
      expect(task.exitCode).toBe(130);
      expect(w.worker.stderr()).toContain(`task ${id}: cancelling`);
    },
    WAIT * 2,
  );

  it(
    'tasks waiting when their serve is killed are not lost: another serve shows them and the workers run them; probes answer',
    async () => {
      const repos = await Promise.all([0, 1].map(() => makeRepo(NODE_FILES, { bare: true })));
      const box = await makeRunDir('autodev-fleet-restart-');
      const allow = { AUTODEV_ALLOWLIST_REPOS: repos.join(',') };
      const first = await serve(box, allow);
      const ids: string[] = [];
      for (const repo of repos)
        ids.push((await post(first.url, { repo, title: NODE_TASK.title, description: NODE_TASK.description })).json.id);
      first.server.child.kill('SIGKILL');
      await first.server.done;

      const second = await serve(box, allow);
      const listed = (await (await fetch(`${second.url}${TASKS}`)).json()) as { tasks: { id: string; status: string }[] };
      expect(listed.tasks.map((t) => `${t.id}:${t.status}`).sort()).toEqual(ids.map((id) => `${id}:pending`).sort());
      expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${second.url}/readyz`);
      expect({ status: ready.status, body: await ready.json() }).toEqual({
        status: 200,
        body: { status: 'ready', checks: { redis: 'ok', sandbox: 'ok (bwrap)' } },
      });

      const w = await worker(box, 'late');
      const tasks = await finished(second.url, ids);
      expect(tasks.map((t) => t.status)).toEqual(['pr_created', 'pr_created']);
      const workerReady = await fetch(`${w.url}/readyz`);
      expect(workerReady.status).toBe(200);
      expect((await fetch(`${w.url}/healthz`)).status).toBe(200);

      // Redis gone: not ready (503, saying why), though still alive.
      await redis.stop();
      try {
        const down = await fetch(`${w.url}/readyz`);
        expect({ status: down.status, body: await down.json() }).toEqual({
          status: 503,
          body: { status: 'not ready', checks: { redis: 'unreachable', sandbox: 'ok (bwrap)' } },
        });
        expect((await fetch(`${second.url}/readyz`)).status).toBe(503);
        expect((await fetch(`${w.url}/healthz`)).status).toBe(200);
      } finally {
        redis = await startRedis();
      }
    },
    WAIT * 2,
  );
});
