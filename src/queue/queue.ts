// The fleet's shared parts, opened once per process that uses a queue (`serve --queue`, `autodev
// worker`, `autodev tasks --queue`): the BullMQ queue of task ids, the task store in Redis and the
// fleet limits, all over BullMQ's one Redis client.
//
// A job is only a task id (and the trace context of the `serve` that queued it): the request and
// everything recorded about the task live in the task store, so a job carries nothing secret.
import type { Queue } from 'bullmq';
import type { Config } from '../config/schema.js';
import { markCancelled as markTaskCancelled } from '../store/control.js';
import { createRedisTaskStore, type ScriptClient } from '../store/redis-store.js';
import { isFinished, type TaskStore } from '../store/task-store.js';
import { UsageError } from '../util/errors.js';
import {
  connectionOf,
  driverError,
  KEY_PREFIX,
  markConnected,
  loadBull,
  parseRedisUrl,
  QUEUE_NAME,
  type Bull,
  type RedisTarget,
} from './connection.js';
import { createFleetLimits, type FleetLimits } from './limits.js';

/** How long a readiness probe waits for Redis to answer PING. */
const PING_TIMEOUT_MS = 2_000;

export interface TaskJobData {
  taskId: string;
  /** W3C trace context (`traceparent`, `tracestate`) of the serve that queued it; empty without tracing. */
  trace: Record<string, string>;
}

export interface TaskQueue {
  readonly bull: Bull;
  readonly target: RedisTarget;
  readonly queue: Queue<TaskJobData>;
  readonly store: TaskStore;
  readonly limits: FleetLimits;
  /** Queues a stored task for the workers. */
  enqueue(taskId: string, trace: Record<string, string>): Promise<void>;
  /**
   * Cancels a task wherever it is: a waiting one leaves the queue and is marked cancelled here; a
   * running one is marked `cancelRequested`, which its worker watches, and stops there.
   */
  cancel(taskId: string): Promise<'cancelled' | 'cancelling' | 'finished'>;
  /** Jobs by state (waiting, active, delayed, failed, completed). */
  counts(): Promise<Record<string, number>>;
  /** True when Redis answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function openTaskQueue(url: string, config: Config, flag = '--queue'): Promise<TaskQueue> {
  const target = parseRedisUrl(url, flag);
  let bull: Bull;
  let queue: Queue<TaskJobData>;
  try {
    bull = await loadBull();
    queue = new bull.Queue<TaskJobData>(QUEUE_NAME, { connection: connectionOf(target) });
    // Errors surface through the awaited calls; an unhandled 'error' event would crash the process.
    queue.on('error', () => {});
  } catch (error) {
    throw driverError(error);
  }
  // A Redis that never answers makes the driver give up (connection.ts): a usage error, not a hang.
  const reached = await queue.backend.client.then(
    (c) => c as unknown as ScriptClient,
    () => null,
  );
  if (!reached) {
    await queue.close().catch(() => undefined);
    throw new UsageError(`cannot reach the queue's Redis at ${target.shown}`, `start redis-server, or check ${flag}`);
  }
  markConnected();
  const client = reached;
  const store = createRedisTaskStore({ client, prefix: KEY_PREFIX, shown: target.shown });
  const limits = createFleetLimits({
    client,
    prefix: KEY_PREFIX,
    perRepo: config.queue.per_repo_concurrency,
    modelCallsPerMinute: config.queue.model_calls_per_minute,
  });

  const markCancelled = (id: string, reason: string): Promise<void> => markTaskCancelled(store, id, reason);

  return {
    bull,
    target,
    queue,
    store,
    limits,
    async enqueue(taskId, trace) {
      await queue.add(
        'task',
        { taskId, trace },
        {
          jobId: taskId,
          // A task's failure is a result, not an exception: BullMQ retries only a run whose worker
          // died (stalled), up to queue.max_attempts (the worker's maxStalledCount).
          attempts: 1,
          removeOnComplete: { age: 7 * 86_400, count: 10_000 },
          removeOnFail: { age: 30 * 86_400 },
        },
      );
    },
    async cancel(taskId) {
      const at = new Date().toISOString();
      const task = await store.update(taskId, (t) => {
        if (!isFinished(t)) t.cancelRequested ??= at;
      });
      if (!task || isFinished(task)) return 'finished';
      const job = await queue.getJob(taskId);
      const state = job ? await job.getState() : 'unknown';
      if (job && state !== 'active') {
        // remove() refuses a job a worker holds the lock of: then the worker stops it.
        const removed = await job.remove().then(
          () => true,
          () => false,
        );
        if (removed) {
          await markCancelled(taskId, 'cancelled while queued');
          return 'cancelled';
        }
      }
      if (!job || state === 'completed' || state === 'failed' || state === 'unknown') {
        await markCancelled(taskId, 'cancelled; no worker had it');
        return 'cancelled';
      }
      return 'cancelling';
    },
    async counts() {
      return queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    },
    async ping() {
      // The driver queues commands while it reconnects (BullMQ needs it to): a probe must not wait for that.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      });
      const answer = (async () => {
        const c = (await queue.backend.client) as unknown as { ping(): Promise<string> };
        return (await c.ping()) === 'PONG';
      })().catch(() => false);
      try {
        return await Promise.race([answer, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await queue.close();
    },
  };
}
