// A task's generation options through the queue: `serve --queue` stores the request in Redis and
// enqueues only its id, so the record must carry strategy, candidates and edit format for the worker
// to plan with them. A real redis-server, serve and a worker in this process, real HTTP.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import type { CodegenInputs } from '../../src/plan/types.js';
import { openTaskQueue, type TaskQueue } from '../../src/queue/queue.js';
import { startQueueWorker, type QueueWorker } from '../../src/queue/worker.js';
import { createAutodevServer, type AutodevServer } from '../../src/server/server.js';
import { cleanup, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { until } from '../support/poll.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const SERVE_TOKEN = 'queue-options-token-0123456789abcdef';

let redis: RedisServer;
let llm: OpenAiServer;
let fleet: TaskQueue;
let server: AutodevServer;
let worker: QueueWorker | null = null;
let url: string;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  // Asked nothing: the repository has nothing to build, so each task ends once it is planned.
  llm = await startOpenAiServer({ replies: [] });
  dir = await makeTempDir('autodev-queue-options-');
  const config = autodevSchema.parse({ sandbox: 'none', llm: { api_url: llm.baseUrl, edit_format: 'udiff' } });
  fleet = await openTaskQueue(redis.url, config);
  const env = {
    HOME: dir,
    XDG_STATE_HOME: path.join(dir, 'state'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    OPENAI_API_KEY: 'queue-options-openai-key',
  };
  server = createAutodevServer({
    config,
    env,
    cwd: dir,
    stateDir: env.XDG_STATE_HOME,
    store: fleet.store,
    token: SERVE_TOKEN,
    queue: fleet,
  });
  url = await server.listen(0, '127.0.0.1');
  worker = await startQueueWorker({
    queue: fleet,
    config,
    env,
    stateDir: env.XDG_STATE_HOME,
    concurrency: 1,
    name: 'options',
    tracing: null,
    log: () => {},
  });
});

afterAll(async () => {
  await worker?.stop(1_000);
  await server?.close();
  await fleet?.close();
  await redis?.stop();
  await llm?.close();
  await cleanup();
});

describe('serve --queue and a worker', () => {
  it("plan the task with the body's strategy, candidates and edit format, which the Redis record carries", async () => {
    const repo = await makeRepo({ 'README.md': '# nothing to build\n' }, { bare: true });
    const res = await fetch(`${url}/api/v1/autodev/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVE_TOKEN}` },
      body: JSON.stringify({ repo, title: 'Fix add', strategy: 'candidates', candidates: 3, edit_format: 'whole' }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect((await fleet.store.get(id))?.request).toMatchObject({ strategy: 'candidates', candidates: 3, editFormat: 'whole' });

    const task = await until('the worker to finish the task', async () => {
      const t = await fleet.store.get(id);
      return t && t.exitCode !== null ? t : null;
    });
    expect(task.owner.worker).toBe('options');
    const codegen = task.plan!.steps.find((s) => s.id === 'codegen')!.inputs as CodegenInputs;
    expect(codegen.strategy).toBe('candidates');
    expect(codegen.candidates!.map((c) => c.format)).toEqual(['whole', 'whole', 'whole']);
  });
});
