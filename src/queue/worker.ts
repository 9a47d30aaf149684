// `autodev worker`: takes task ids from the BullMQ queue and runs each through the same task session
// as `run` and `serve` (store record, audit trail, metrics, cancellation), with the task record in
// Redis. What BullMQ gives: one worker at a time holds a job's lock (renewed while the task runs); a
// worker that dies stops renewing it, and another worker's stalled-job check puts the job back, up
// to `queue.max_attempts` runs in all. What this adds around each run:
//
// - the fleet's limits: a place among the repository's running tasks (`queue.per_repo_concurrency`;
//   a task whose repository is busy goes back to the queue, delayed a moment), the day's spend
//   (`queue.daily_cost_usd`; past it a task waits for the next UTC day), and before each model call
//   the shared rate limit and the budget again;
// - cancellation: the record's `cancelRequested` (set by any serve or `tasks cancel --queue`) is
//   watched while a task runs, and aborts its session, which stops its whole process tree;
// - a graceful stop: `stop()` takes no new job, lets running tasks finish within the grace period,
//   then aborts them and hands them back to the queue (delayed by zero, so another worker takes them).
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Job, Worker } from 'bullmq';
import type { Env } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createMetrics, type Metrics } from '../observe/metrics.js';
import type { Tracing } from '../observe/tracing.js';
import { makeSubscriber } from '../observe/types.js';
import type { Llm } from '../ports/types.js';
import { isFinished, type StoredTask } from '../store/task-store.js';
import { openTaskSession } from '../task/session.js';
import { ExitCode, ExternalError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { connectionOf, QUEUE_NAME } from './connection.js';
import { addQueueMetrics } from './metrics.js';
import type { TaskJobData, TaskQueue } from './queue.js';

export interface QueueWorkerOptions {
  queue: TaskQueue;
  config: Config;
  env: Env;
  stateDir: string;
  concurrency: number;
  /** This worker's name: the `worker` label of its metrics, and the owner the records show. */
  name: string;
  tracing: Tracing | null;
  log: (line: string) => void;
}

export interface QueueWorker {
  readonly name: string;
  readonly metrics: Metrics;
  /** Ids of the tasks running now. */
  running(): string[];
  /** Takes no new task, waits up to `graceMs` for the running ones, hands back the rest, closes. */
  stop(graceMs: number): Promise<void>;
}

/** How often a running task's record is read for a cancel request. */
const CANCEL_POLL_MS = 500;
/** How long a task whose repository is busy waits before it is offered again. */
const REPO_BUSY_DELAY_MS = 1_000;

export function defaultWorkerName(): string {
  return `${hostname()}-${process.pid}`;
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const { queue, config, env, name, log } = options;
  const { store, limits, bull } = queue;
  const metrics = createMetrics();
  metrics.registry.setDefaultLabels({ worker: name });
  const queueMetrics = addQueueMetrics(metrics, () => queue.counts());
  const lockMs = config.queue.lock_secs * 1000;
  const budget = config.queue.daily_cost_usd;
  const running = new Map<string, { controller: AbortController; handBack: boolean }>();
  let stopping = false;

  async function update(id: string, mutate: (t: StoredTask) => void): Promise<StoredTask | null> {
    return store.update(id, mutate);
  }

  async function finishAs(id: string, status: 'cancelled' | 'failed', reason: string, exitCode: number): Promise<void> {
    await update(id, (t) => {
      if (isFinished(t)) return;
      const at = new Date().toISOString();
      t.status = status;
      t.reason = reason;
      t.exitCode = exitCode;
      t.finishedAt = at;
      t.currentStep = null;
      t.history.push({ status, at, reason });
    });
  }

  async function backToPending(id: string, note: string): Promise<void> {
    await update(id, (t) => {
      if (t.cancelRequested) return;
      const at = new Date().toISOString();
      Object.assign(t, { status: 'pending', reason: null, exitCode: null, startedAt: null, finishedAt: null, currentStep: null });
      t.steps = [];
      t.notes = [...t.notes, note];
      t.history.push({ status: 'pending', at, reason: note });
    });
  }

  /** The workspace a dead run left on this machine, if it was here (on another machine there is nothing to do). */
  async function removeLeftWorkspace(task: StoredTask): Promise<void> {
    const dir = task.workspace;
    if (!dir || !path.isAbsolute(dir) || !path.basename(dir).startsWith(`autodev-${task.id}-`) || !existsSync(dir)) return;
    await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }

  /** Before each model call: the shared rate limit, then the day's budget. */
  function gate(llm: Llm, signal: AbortSignal): Llm {
    return {
      async chat(request) {
        await limits.takeModelCall(request.signal ?? signal);
        if (budget > 0) {
          const spent = await limits.spentToday();
          if (spent >= budget)
            throw new ExternalError(
              `the fleet's model budget for today is spent ($${spent.toFixed(2)} of queue.daily_cost_usd = $${budget})`,
              'raise queue.daily_cost_usd, or wait for the next UTC day',
            );
        }
        return llm.chat(request);
      },
    };
  }

  async function processJob(job: Job<TaskJobData>, token?: string): Promise<string> {
    const id = job.data.taskId;
    const stored = await store.get(id);
    if (!stored) return 'gone';
    // Exactly once: a run that recorded its result and died before BullMQ heard of it is not run again.
    if (isFinished(stored)) return stored.status;
    if (stored.cancelRequested) {
      await finishAs(id, 'cancelled', 'cancelled before it started', ExitCode.interrupted);
      return 'cancelled';
    }
    if (budget > 0 && (await limits.spentToday()) >= budget) {
      const tomorrow = new Date();
      tomorrow.setUTCHours(24, 0, 0, 0);
      await update(id, (t) => {
        const note = `waiting for ${tomorrow.toISOString()}: the fleet's model budget for today (queue.daily_cost_usd = $${budget}) is spent`;
        if (!t.notes.includes(note)) t.notes.push(note);
      });
      await job.moveToDelayed(tomorrow.getTime(), token);
      throw new bull.DelayedError();
    }
    // Two tasks on one repository never run at once (their branches, their pushes): wait for a place.
    if (!(await limits.acquireRepo(stored.request.repo, id, lockMs))) {
      await job.moveToDelayed(Date.now() + REPO_BUSY_DELAY_MS + Math.floor(Math.random() * 500), token);
      throw new bull.DelayedError();
    }
    const renew = setInterval(() => {
      limits.acquireRepo(stored.request.repo, id, lockMs).catch(() => undefined);
    }, lockMs / 2);
    try {
      return await runOne(job, stored, token);
    } finally {
      clearInterval(renew);
      await limits.releaseRepo(stored.request.repo, id).catch(() => undefined);
    }
  }

  async function runOne(job: Job<TaskJobData>, stored: StoredTask, token: string | undefined): Promise<string> {
    const id = stored.id;
    const attempt = (stored.queue?.attempts ?? 0) + 1;
    if (attempt > 1) {
      // Its last run stopped without a result (its worker was killed, or handed it back): start afresh.
      await removeLeftWorkspace(stored);
      const note = `retried: run ${attempt} of at most ${config.queue.max_attempts}; the worker that ran it (${stored.queue?.worker ?? 'unknown'}) stopped before it finished`;
      await backToPending(id, note);
      queueMetrics.retried();
      log(`task ${id}: ${note}`);
    }
    const waitedMs = attempt === 1 ? Date.now() - job.timestamp : (stored.queue?.waitedMs ?? null);
    if (attempt === 1) queueMetrics.waited((waitedMs ?? 0) / 1000);
    await update(id, (t) => {
      t.owner = { kind: 'worker', pid: process.pid, worker: name };
      t.queue = { attempts: attempt, worker: name, waitedMs };
      t.workspace = null;
    });
    const entry = { controller: new AbortController(), handBack: false };
    running.set(id, entry);
    const trace = options.tracing?.task(id, { 'autodev.worker': name, 'autodev.attempt': attempt }, job.data.trace);
    const spend = makeSubscriber(
      (event) => {
        if (event.type === 'llm.usage' && event.taskId === id && event.costUsd) limits.spend(event.costUsd).catch(() => undefined);
      },
      async () => {},
    );
    const session = openTaskSession({
      store,
      stateDir: options.stateDir,
      taskId: id,
      metrics,
      extra: [spend, ...(trace ? [trace.subscriber] : [])],
    });
    entry.controller.signal.addEventListener('abort', () => session.controller.abort(entry.controller.signal.reason), { once: true });
    log(`task ${id}: started${attempt > 1 ? ` (run ${attempt})` : ''} (${stored.request.title})`);
    try {
      const result = await session.run({
        request: stored.request,
        config,
        env,
        onPlan: (plan) => trace?.plan({ toolchain: plan.toolchain, sandbox: plan.sandbox }),
        wrapLlm: (llm) => gate(trace ? trace.wrapLlm(llm) : llm, session.controller.signal),
      });
      trace?.end(result);
      if (entry.handBack && result.status === 'cancelled') {
        await session.abandon();
        await backToPending(id, `handed back: worker ${name} stopped while it ran`);
        log(`task ${id}: handed back to the queue (the worker is stopping)`);
        await job.moveToDelayed(Date.now(), token);
        throw new bull.DelayedError();
      }
      for (const warning of await session.finish(result)) log(`task ${id}: warning: ${warning}`);
      log(`task ${id}: ${result.status}${result.reason ? ` (${result.reason})` : ''}`);
      return result.status;
    } catch (error) {
      if (error instanceof bull.DelayedError) throw error;
      await session.abandon();
      const message = `internal error: ${redact((error as Error).message ?? String(error)).split('\n')[0]}`;
      trace?.end({ status: 'failed', exitCode: ExitCode.internal, reason: message });
      log(`task ${id}: ${message}`);
      await finishAs(id, 'failed', message, ExitCode.internal);
      return 'failed';
    } finally {
      running.delete(id);
      await options.tracing?.flush().catch(() => undefined);
    }
  }

  const worker: Worker<TaskJobData> = new bull.Worker<TaskJobData>(QUEUE_NAME, (job, token) => processJob(job, token), {
    connection: connectionOf(queue.target),
    concurrency: options.concurrency,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A run whose worker died counts as a stall: max_attempts runs in all.
    maxStalledCount: config.queue.max_attempts - 1,
    autorun: false,
  });
  worker.on('error', (error) => log(`queue error: ${redact(error.message)}`));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const id = job.data.taskId;
    // BullMQ gave up on it: its workers kept dying (stalled past maxStalledCount).
    const reason = /stalled/i.test(error.message)
      ? `its worker stopped mid-task ${config.queue.max_attempts} time(s) (queue.max_attempts)`
      : `the queue failed it: ${redact(error.message)}`;
    finishAs(id, 'failed', reason, ExitCode.failed).catch(() => undefined);
    log(`task ${id}: failed (${reason})`);
  });

  const watch = setInterval(() => {
    for (const [id, entry] of running) {
      store
        .get(id)
        .then((task) => {
          if (task?.cancelRequested && !entry.controller.signal.aborted) {
            log(`task ${id}: cancelling (requested ${task.cancelRequested})`);
            entry.controller.abort(new Error('cancelled through the queue'));
          }
        })
        .catch(() => undefined);
    }
  }, CANCEL_POLL_MS);
  watch.unref();

  void worker.run().catch((error: Error) => log(`queue error: ${redact(error.message)}`));
  await worker.waitUntilReady();

  return {
    name,
    metrics,
    running: () => [...running.keys()],
    async stop(graceMs) {
      if (stopping) return;
      stopping = true;
      // close() stops taking jobs at once and resolves when the running ones have ended.
      const closed = worker.close();
      const timer = setTimeout(() => {
        for (const entry of running.values()) {
          entry.handBack = true;
          entry.controller.abort(new Error('the worker is stopping'));
        }
      }, graceMs);
      await closed;
      clearTimeout(timer);
      clearInterval(watch);
      await options.tracing?.flush().catch(() => undefined);
    },
  };
}
