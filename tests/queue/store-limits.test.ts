// The fleet's Redis parts against a real redis-server: the task store (compare-and-set updates that
// never lose a concurrent change), the per-repository places, the model-call token bucket, the day's
// spend, and a worker that holds a task back once the day's budget is spent.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultConfig } from '../../src/config/schema.js';
import { openTaskQueue, type TaskQueue } from '../../src/queue/queue.js';
import { newStoredTask } from '../../src/store/task-store.js';
import { makeRunDir, requireBuilt, startCli, stopStarted, taskEnv } from '../support/cli.js';
import { cleanup, makeRepo } from '../support/fixture-repo.js';
import { until } from '../support/poll.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
let fleet: TaskQueue;

beforeAll(async () => {
  redis = await startRedis();
  const config = defaultConfig();
  config.queue.model_calls_per_minute = 2;
  fleet = await openTaskQueue(redis.url, config);
});

afterAll(async () => {
  await stopStarted();
  await fleet?.close();
  await redis?.stop();
  await cleanup();
});

const request = (repo: string) => ({ repo, title: 't', description: '', risk: 'low' as const, noPr: false, keepWorkspace: false });

describe('the Redis task store', () => {
  it('creates, lists newest first, refuses a taken id, and loses no concurrent update', async () => {
    const a = newStoredTask('task-a', request('/r/a') as never, { kind: 'worker', pid: null });
    const b = {
      ...newStoredTask('task-b', request('/r/b') as never, { kind: 'worker', pid: null }),
      createdAt: new Date(Date.now() + 1000).toISOString(),
    };
    await fleet.store.create(a);
    await fleet.store.create(b);
    await expect(fleet.store.create(a)).rejects.toThrow('task task-a already exists');
    expect((await fleet.store.list()).map((t) => t.id)).toEqual(['task-b', 'task-a']);
    await Promise.all(Array.from({ length: 25 }, (_, i) => fleet.store.update('task-a', (t) => void t.notes.push(`n${i}`))));
    const after = await fleet.store.get('task-a');
    expect(after?.notes.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `n${i}`).sort());
    expect(await fleet.store.update('no-such-task', () => {})).toBeNull();
    expect(await fleet.store.get('../etc')).toBeNull();
  });
});

describe('fleet limits', () => {
  it('gives one place per repository; a released or expired place goes to the next', async () => {
    const { limits } = fleet;
    expect(await limits.acquireRepo('/r/one', 'x', 60_000)).toBe(true);
    expect(await limits.acquireRepo('/r/one', 'y', 60_000)).toBe(false);
    expect(await limits.acquireRepo('/r/two', 'y', 60_000)).toBe(true);
    // The holder renews its own place.
    expect(await limits.acquireRepo('/r/one', 'x', 60_000)).toBe(true);
    await limits.releaseRepo('/r/one', 'x');
    expect(await limits.acquireRepo('/r/one', 'y', 50)).toBe(true);
    // y's short lease runs out (its worker died): z gets the place without anyone releasing it.
    await until('the lease to expire', () => limits.acquireRepo('/r/one', 'z', 60_000), 10_000, 20);
  });

  it('holds the third model call of a minute when the rate is 2 per minute', async () => {
    await fleet.limits.takeModelCall();
    await fleet.limits.takeModelCall();
    // The bucket is empty: the third call waits for a token (half a minute away) until it is aborted;
    // had it been given one, it would resolve instead.
    const controller = new AbortController();
    const third = fleet.limits.takeModelCall(controller.signal);
    controller.abort(new Error('stop waiting'));
    await expect(third).rejects.toThrow('stop waiting');
  });

  it("adds up the day's spend", async () => {
    await fleet.limits.spend(0.25);
    await fleet.limits.spend(0.5);
    expect(await fleet.limits.spentToday()).toBeCloseTo(0.75, 6);
  });

  it("a worker holds a task back while the fleet's budget for the day is spent", async () => {
    requireBuilt();
    await fleet.limits.spend(5);
    const repo = await makeRepo({ 'README.md': 'x\n' }, { bare: true });
    const box = await makeRunDir('autodev-budget-');
    const env = taskEnv(box, {
      extra: { AUTODEV_QUEUE_DAILY_COST_USD: '1', ...(process.env.NODE_PATH ? { NODE_PATH: process.env.NODE_PATH } : {}) },
    });
    const worker = startCli(['worker', '--queue', redis.url, '--name', 'thrifty'], { cwd: box.cwd, env });
    await worker.waitForStderr(/taking tasks from/);
    await fleet.store.create(newStoredTask('task-budget', request(repo) as never, { kind: 'worker', pid: null }));
    await fleet.enqueue('task-budget', {});
    const task = await until('the budget note', async () => {
      const t = await fleet.store.get('task-budget');
      return t?.notes.some((n) => n.includes('queue.daily_cost_usd')) ? t : null;
    });
    expect(task.status).toBe('pending');
    expect(task.notes.join('\n')).toMatch(
      /^waiting for \d{4}-\d\d-\d\dT00:00:00\.000Z: the fleet's model budget for today \(queue\.daily_cost_usd = \$1\) is spent$/m,
    );
    expect(task.queue).toBeUndefined();
    const job = await fleet.queue.getJob('task-budget');
    expect(await job?.getState()).toBe('delayed');
    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
  });
});
