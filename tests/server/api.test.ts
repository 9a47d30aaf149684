// The REST API end to end: the built `autodev serve` on 127.0.0.1, real HTTP, real runs against the
// local OpenAI and GitHub servers (run `npm run build` first).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoredTask } from '../../src/store/task-store.js';
import { CALC_FILES, CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { cleanup, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { startOtlpCollector, type OtlpCollector } from '../support/otlp-collector.js';
import {
  GITHUB_TOKEN,
  makeRunDir,
  OPENAI_KEY,
  requireBuilt,
  runCli,
  startServe,
  taskEnv,
  type RunDir,
  type RunningCli,
} from '../support/cli.js';
import { until } from '../support/poll.js';

const TOKEN = 'serve-test-token-0123456789abcdef';
const TASKS = '/api/v1/autodev/tasks';
const SLOW = 'SLOW-MODEL';

let llm: OpenAiServer;
let github: GitHubServer;
let box: RunDir;
let bare: string;
let cache: string;
let collector: OtlpCollector;

beforeAll(async () => {
  requireBuilt();
  // Tasks whose title says SLOW get a model that takes a minute: they are reliably mid-run when cancelled.
  llm = await startOpenAiServer({
    apiKey: OPENAI_KEY,
    onRequest: (body) =>
      JSON.stringify(body.messages).includes(SLOW) ? { content: FIXED_REPLY, delayMs: 60_000 } : { content: FIXED_REPLY },
  });
  github = await startGitHubServer({ token: GITHUB_TOKEN });
  box = await makeRunDir('autodev-serve-');
  bare = await makeRepo(CALC_FILES, { bare: true });
  cache = await makeTempDir('autodev-serve-cache-');
  collector = await startOtlpCollector();
});

afterAll(async () => {
  await llm.close();
  await github.close();
  await collector.close();
  await cleanup();
});

function serveEnv(parallel: number): Record<string, string> {
  return taskEnv(box, {
    llm,
    github,
    cache,
    extra: {
      AUTODEV_MAX_PARALLEL_TASKS: String(parallel),
      AUTODEVD_TOKEN: TOKEN,
      // Traced without a queue too: tasks run in serve's own process get their spans there.
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
  });
}

async function serve(parallel: number): Promise<{ server: RunningCli; url: string }> {
  return startServe({ cwd: box.cwd, env: serveEnv(parallel) });
}

async function stopServe(server: RunningCli): Promise<number> {
  server.child.kill('SIGINT');
  return (await server.done).code;
}

async function call(
  url: string,
  method: string,
  body?: string,
  token: string | null = TOKEN,
): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

async function waitFor(url: string, id: string, statuses: string[]): Promise<StoredTask> {
  return until(`task ${id} to reach ${statuses.join('/')}`, async () => {
    const { json } = await call(`${url}${TASKS}/${id}`, 'GET');
    // The status event lands before the result (the PR, the exit code): wait for both.
    return statuses.includes(json.status) && json.exitCode !== null ? (json as StoredTask) : undefined;
  });
}

describe('autodev serve', () => {
  let server: RunningCli;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await serve(1));
  });
  afterAll(async () => {
    if (server) expect(await stopServe(server)).toBe(0);
  });

  it('runs a task posted over HTTP, lists it, shows it, and counts it in /metrics', async () => {
    const created = await call(
      `${url}${TASKS}`,
      'POST',
      JSON.stringify({ repo: bare, title: CALC_TASK.title, description: CALC_TASK.description }),
    );
    expect(created.status).toBe(202);
    const id = created.json.id as string;
    expect(created.json.status).toBe('pending');
    expect(created.headers.get('location')).toBe(`${TASKS}/${id}`);

    const task = await waitFor(url, id, ['pr_created', 'failed', 'cancelled', 'denied']);
    expect(task.status).toBe('pr_created');
    expect(task.owner).toEqual({ kind: 'serve', pid: server.child.pid });
    expect(task.pr?.number).toBe(github.pulls('acme', 'calc')[0].number);
    expect(task.steps.map((s) => s.id)).toEqual(expect.arrayContaining(['clone', 'codegen', 'build', 'test', 'pr']));
    expect(task.plan?.steps.length).toBeGreaterThan(3);

    const list = await call(`${url}${TASKS}`, 'GET');
    expect(list.status).toBe(200);
    expect(list.json.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([[id, 'pr_created']]);

    const metrics = await call(`${url}/metrics`, 'GET');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toMatch(/^autodev_tasks_total 1$/m);
    expect(metrics.text).toMatch(/^autodev_tasks_success_total 1$/m);
    expect(metrics.text).toMatch(/^autodev_prs_opened_total 1$/m);
    expect(metrics.text).toMatch(/^autodev_step_duration_seconds_count\{tool="build"\} [1-9]/m);

    // The CLI reads the same store.
    const cli = await runCli(['tasks', 'list', '--json'], { cwd: box.cwd, env: serveEnv(1) });
    expect(JSON.parse(cli.stdout).map((t: { id: string }) => t.id)).toContain(id);

    // Traced as a queue worker's task is: the task's span (a trace of its own), its steps under it, the model call under codegen.
    const taskSpan = await until('the task span of the task serve ran', () =>
      collector.spans().find((s) => s.name === 'autodev.task' && s.attributes['autodev.task.id'] === id),
    );
    expect(taskSpan.parentSpanId).toBe('');
    expect(taskSpan.attributes).toMatchObject({
      'autodev.toolchain': 'rust',
      'autodev.task.exit_code': 0,
      'autodev.task.status': 'pr_created',
    });
    const spans = collector.spans();
    const steps = spans.filter((s) => s.parentSpanId === taskSpan.spanId && s.name.startsWith('autodev.step '));
    expect(steps.map((s) => s.attributes['autodev.step.id'])).toEqual(expect.arrayContaining(['clone', 'codegen', 'build', 'test', 'pr']));
    const codegen = steps.find((s) => s.attributes['autodev.step.id'] === 'codegen')!;
    const modelCall = spans.find((s) => s.name === 'autodev.model.call' && s.parentSpanId === codegen.spanId);
    expect(modelCall?.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(JSON.stringify(spans)).not.toContain(OPENAI_KEY);
    expect(JSON.stringify(spans)).not.toContain(GITHUB_TOKEN);
    expect(collector.rejected()).toEqual([]);
  });

  it('guards every route with the bearer token', async () => {
    for (const [path, method] of [
      [TASKS, 'GET'],
      [`${TASKS}`, 'POST'],
      ['/metrics', 'GET'],
    ] as const) {
      const none = await call(`${url}${path}`, method, method === 'POST' ? '{}' : undefined, null);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      const wrong = await call(`${url}${path}`, method, method === 'POST' ? '{}' : undefined, `${TOKEN}x`);
      expect(wrong.status).toBe(401);
      expect(wrong.text).not.toContain(TOKEN);
    }
  });

  it('answers bad input with 400 naming the field, and unknown tasks with 404', async () => {
    const badJson = await call(`${url}${TASKS}`, 'POST', '{"repo": ');
    expect(badJson.status).toBe(400);
    expect(badJson.json.error).toMatch(/^invalid JSON/);
    const missing = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare }));
    expect(missing.status).toBe(400);
    expect(missing.json.field).toBe('title');
    const emptyTitle = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title: '  ' }));
    expect(emptyTitle.json).toMatchObject({ field: 'title', error: expect.stringContaining('a non-empty title') });
    const badRisk = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title: 'x', risk: 'extreme' }));
    expect(badRisk).toMatchObject({ status: 400, json: { field: 'risk' } });
    const unknownField = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title: 'x', colour: 'blue' }));
    expect(unknownField).toMatchObject({ status: 400, json: { field: 'colour' } });
    const notObject = await call(`${url}${TASKS}`, 'POST', '[1, 2]');
    expect(notObject.status).toBe(400);
    const badIssue = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ issue: 'not an issue' }));
    expect(badIssue).toMatchObject({ status: 400, json: { field: 'issue' } });

    expect((await call(`${url}${TASKS}/20990101000000-abcdef`, 'GET')).status).toBe(404);
    expect((await call(`${url}${TASKS}/20990101000000-abcdef/cancel`, 'POST')).status).toBe(404);
    expect((await call(`${url}${TASKS}/..%2F..%2Fetc`, 'GET')).status).toBe(404);
    expect((await call(`${url}/api/v1/nothing`, 'GET')).status).toBe(404);
    // Nothing was queued by any of these.
    expect((await call(`${url}${TASKS}`, 'GET')).json.tasks).toHaveLength(1);
  });

  it('queues beyond max_parallel_tasks and cancels a queued and a running task', async () => {
    const slow = await call(
      `${url}${TASKS}`,
      'POST',
      JSON.stringify({ repo: bare, title: `${SLOW} fix add`, description: CALC_TASK.description }),
    );
    expect(slow.status).toBe(202);
    await until(
      'the slow task to reach codegen',
      async () => (await call(`${url}${TASKS}/${slow.json.id}`, 'GET')).json.currentStep === 'codegen',
    );
    const queued = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title: 'Waits in the queue' }));
    const waiting = await call(`${url}${TASKS}/${queued.json.id}`, 'GET');
    expect(waiting.json).toMatchObject({ status: 'pending', queued: true, running: false });

    const cancelQueued = await call(`${url}${TASKS}/${queued.json.id}/cancel`, 'POST');
    expect(cancelQueued).toMatchObject({ status: 202, json: { status: 'cancelled' } });
    expect((await call(`${url}${TASKS}/${queued.json.id}`, 'GET')).json).toMatchObject({
      status: 'cancelled',
      queued: false,
      startedAt: null,
    });

    const cancelRunning = await call(`${url}${TASKS}/${slow.json.id}/cancel`, 'POST');
    expect(cancelRunning).toMatchObject({ status: 202, json: { status: 'cancelling' } });
    const ended = await waitFor(url, slow.json.id, ['cancelled', 'failed', 'pr_created']);
    expect(ended).toMatchObject({ status: 'cancelled', exitCode: 130 });
    const again = await call(`${url}${TASKS}/${slow.json.id}/cancel`, 'POST');
    expect(again).toMatchObject({ status: 409, json: { status: 'cancelled' } });
    expect((await call(`${url}/metrics`, 'GET')).text).toMatch(/^autodev_tasks_cancelled_total 1$/m);
  });

  it('takes a task from a GitHub issue', async () => {
    const number = github.addIssue('acme', 'calc', { title: 'add() is wrong', body: CALC_TASK.description });
    const created = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ issue: `acme/calc#${number}`, repo: bare }));
    expect(created.status).toBe(202);
    const task = await waitFor(url, created.json.id, ['pr_created', 'failed', 'cancelled']);
    expect(task.status).toBe('pr_created');
    expect(task.request).toMatchObject({ title: 'add() is wrong', issue: { owner: 'acme', repo: 'calc', number } });
    const pull = github.pulls('acme', 'calc').find((p) => p.number === task.pr?.number);
    expect(pull?.body).toContain(`Fixes #${number}`);
    const missing = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ issue: 'acme/calc#4242', repo: bare }));
    expect(missing).toMatchObject({ status: 502, json: { field: 'issue' } });
  });

  it("accepts the seed's body as it is: snake_case names (base_branch, risk_tier)", async () => {
    // Exactly the seed's example body, with this test's repository.
    const body = `{"title": ${JSON.stringify(CALC_TASK.title)}, "description": ${JSON.stringify(CALC_TASK.description)}, "repo": ${JSON.stringify(bare)}, "base_branch": "main", "risk_tier": "low"}`;
    const created = await call(`${url}${TASKS}`, 'POST', body);
    expect(created.status).toBe(202);
    const task = await waitFor(url, created.json.id, ['pr_created', 'failed', 'cancelled', 'denied']);
    expect(task.status).toBe('pr_created');
    expect(task.request).toMatchObject({ base: 'main', risk: 'low', noPr: false, keepWorkspace: false });
    expect(task.plan?.base).toBe('main');
    const pull = github.pulls('acme', 'calc').find((p) => p.number === task.pr?.number);
    expect(pull?.labels).toContain('risk:low');
  });

  it('takes snake_case for every field, camelCase as an alias, and names the field as it was sent', async () => {
    const created = await call(
      `${url}${TASKS}`,
      'POST',
      JSON.stringify({ repo: bare, title: 'Snake case flags', no_pr: true, keep_workspace: true, risk_tier: 'high' }),
    );
    expect(created.status).toBe(202);
    const shown = await call(`${url}${TASKS}/${created.json.id}`, 'GET');
    expect(shown.json.request).toMatchObject({ noPr: true, keepWorkspace: true, risk: 'high' });
    await call(`${url}${TASKS}/${created.json.id}/cancel`, 'POST');
    await waitFor(url, created.json.id, ['cancelled', 'failed', 'verified', 'pr_created']);

    const badTier = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title: 'x', risk_tier: 'extreme' }));
    expect(badTier).toMatchObject({ status: 400, json: { field: 'risk_tier', error: expect.stringMatching(/^risk_tier: /) } });
    const badAlias = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title: 'x', keepWorkspace: 'yes' }));
    expect(badAlias).toMatchObject({ status: 400, json: { field: 'keepWorkspace' } });
    const both = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title: 'x', risk: 'low', risk_tier: 'high' }));
    expect(both).toMatchObject({
      status: 400,
      json: { field: 'risk_tier', error: 'risk and risk_tier name the same field: give one of them' },
    });
    const badBranch = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title: 'x', base_branch: '-x' }));
    expect(badBranch).toMatchObject({ status: 400, json: { field: 'base_branch' } });
  });

  it('refuses a title with control characters (400 naming title), so none can forge a line in the log', async () => {
    const before = (await call(`${url}${TASKS}`, 'GET')).json.tasks.length;
    for (const title of [
      'Fix add\ntask FAKE: pr_created',
      'Fix add\u001b[1A\u001b[2K\rautodev serve: task FAKE: pr_created',
      'Fix add\u2028task FAKE: merged',
    ]) {
      const refused = await call(`${url}${TASKS}`, 'POST', JSON.stringify({ repo: bare, title }));
      expect(refused).toMatchObject({
        status: 400,
        json: { field: 'title', error: expect.stringContaining('without control characters') },
      });
    }
    expect((await call(`${url}${TASKS}`, 'GET')).json.tasks).toHaveLength(before);
    expect(server.stderr()).not.toContain('FAKE');
  });
});

describe('autodev serve across a restart', () => {
  it('loses nothing: running and queued tasks run again on the next start; tasks cancel reaches the server', async () => {
    const first = await serve(1);
    const slow = await call(
      `${first.url}${TASKS}`,
      'POST',
      JSON.stringify({ repo: bare, title: `${SLOW} restart`, description: CALC_TASK.description }),
    );
    await until(
      'the slow task to run',
      async () => (await call(`${first.url}${TASKS}/${slow.json.id}`, 'GET')).json.currentStep === 'codegen',
    );
    const queued = await call(
      `${first.url}${TASKS}`,
      'POST',
      JSON.stringify({ repo: bare, title: 'Queued across a restart', description: CALC_TASK.description }),
    );
    expect(await stopServe(first.server)).toBe(0);
    const env = serveEnv(2);
    const listed = JSON.parse((await runCli(['tasks', 'list', '--json'], { cwd: box.cwd, env })).stdout) as {
      id: string;
      status: string;
      stale: boolean;
    }[];
    expect(listed.filter((t) => [slow.json.id, queued.json.id].includes(t.id)).map((t) => [t.status, t.stale])).toEqual([
      ['pending', true],
      ['pending', true],
    ]);

    const second = await serve(2);
    try {
      await second.server.waitForStderr(/re-queued 2 task\(s\)/);
      const done = await waitFor(second.url, queued.json.id, ['pr_created', 'failed', 'cancelled']);
      expect(done.status).toBe('pr_created');
      expect(done.owner.pid).toBe(second.server.child.pid);
      await until(
        'the slow task to run again',
        async () => (await call(`${second.url}${TASKS}/${slow.json.id}`, 'GET')).json.currentStep === 'codegen',
      );
      // `tasks cancel` from another process: the server gets SIGUSR2 and cancels it.
      const cancel = await runCli(['tasks', 'cancel', slow.json.id], { cwd: box.cwd, env });
      expect(cancel.stdout).toContain(`signalled its serve process ${second.server.child.pid}`);
      const ended = await waitFor(second.url, slow.json.id, ['cancelled', 'failed', 'pr_created']);
      expect(ended.status).toBe('cancelled');
      expect(ended.notes).toContain('re-queued: the server stopped while it ran');
    } finally {
      expect(await stopServe(second.server)).toBe(0);
    }
  });

  it('refuses to bind beyond loopback without a token', async () => {
    const env = { ...serveEnv(1), AUTODEVD_TOKEN: '' };
    const out = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], { cwd: box.cwd, env });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('refusing to serve on 0.0.0.0 without a token');
  });
});
