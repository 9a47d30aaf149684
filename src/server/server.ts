// `autodev serve`: the REST API over the task store and the runner.
//
//   POST /api/v1/autodev/tasks              create (body: the fields of `run`, or `issue`) → 202
//   GET  /api/v1/autodev/tasks              list (summaries, newest first)
//   GET  /api/v1/autodev/tasks/{id}         one task, in full (404 unknown)
//   POST /api/v1/autodev/tasks/{id}/cancel  cancel a queued or running task (409 when finished)
//   GET  /metrics                           Prometheus text of the tasks this server ran
//   POST /api/v1/autodev/webhooks/github    GitHub webhooks, signed (server/webhooks.ts)
//   GET  /healthz, /readyz                  probes (health.ts), without a token
//
// With a queue (`serve --queue`), POST stores the task in Redis and enqueues its id for the workers
// (src/queue/); listing, showing and cancelling work on every task of the fleet; nothing runs here.
// Without one, as follows.
//
// Tasks run in this process through runTask, at most `max_parallel_tasks` at once; the rest wait in
// a FIFO queue of at most `queue_limit` (past it a POST gets 429 with Retry-After). The queue lives
// in the store too (status pending, owner this server's pid), so a server that stops or dies loses
// nothing: the next one to start queues again every unfinished task whose server is gone. A task its
// server was killed in (SIGKILL, a crash) continues from its last good step, as `run --resume` would,
// so no model call is made twice; one that cannot be resumed has its workspace removed and starts
// again from the beginning.
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Env } from '../config/load.js';
import { BODY_FIELD_NAMES } from '../config/request.js';
import type { Config } from '../config/schema.js';
import type { TaskRequest } from '../config/request.js';
import { createMetrics, type Metrics } from '../observe/metrics.js';
import { createExec } from '../ports/exec.js';
import { prepareResume, type ResumeFrom } from '../task/resume.js';
import { openTaskSession } from '../task/session.js';
import { newTaskId } from '../task/task.js';
import { intakeRequest, RequestFieldError, RequestRefusedError, type Intake } from '../task/intake.js';
import { markCancelled as markTaskCancelled, requestCancel, summary } from '../store/control.js';
import { isAutodevProcess } from '../store/owner.js';
import { isFinished, newStoredTask, type StoredTask, type TaskStore } from '../store/task-store.js';
import { AutodevError, ExitCode, ExternalError, RefusedError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import type { Tracing } from '../observe/tracing.js';
import type { Plan } from '../plan/types.js';
import type { Llm } from '../ports/types.js';
import type { TaskQueue } from '../queue/queue.js';
import { createReadiness, healthRoute } from './health.js';
import { HttpError, hasBearer, readJson, sendError, sendJson } from './http.js';
import { afterFollowup, handleGithubWebhook, WEBHOOK_PATH } from './webhooks.js';

export interface ServerOptions {
  config: Config;
  env: Env;
  /** Local repository paths in requests are resolved against this. */
  cwd: string;
  stateDir: string;
  store: TaskStore;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token: string | null;
  /** One line per notable thing (task queued, started, finished); stderr in the CLI. */
  log?: (line: string) => void;
  /**
   * With a queue (`serve --queue`): tasks go to the workers through it instead of running here, and
   * `store` is its Redis store; nothing is recovered at start (waiting tasks are in the queue).
   */
  queue?: TaskQueue | null;
  /**
   * Tracing, when on: queuing a task opens its trace, which the worker continues; a task run in this
   * process gets its task, step and model-call spans here, as a worker's do.
   */
  tracing?: Tracing | null;
}

export interface AutodevServer {
  /** Listens; resolves with the base URL (`http://host:port`). */
  listen(port: number, host: string): Promise<string>;
  /** Queues again the unfinished tasks of servers that are gone; returns their ids. */
  recover(): Promise<string[]>;
  /** Cancels the tasks someone marked `cancelRequested` in the store (`tasks cancel` sends SIGUSR2). */
  checkCancels(): Promise<void>;
  /** Stops listening, cancels running tasks (they go back to pending for the next server) and waits for them. */
  close(): Promise<void>;
  readonly metrics: Metrics;
}

const PREFIX = '/api/v1/autodev/tasks';
/** What a 429 asks a client to wait: about as long as a short task takes to leave the queue. */
const RETRY_AFTER_SECS = 30;

/**
 * The body with snake_case (and camelCase alias) names turned into the request's keys; unknown names
 * pass through for the schema to refuse. Two names for one field are refused: which one wins would be a guess.
 */
function normalizeBody(body: Record<string, unknown>): { fields: Record<string, unknown>; sent: Map<string, string> } {
  const sent = new Map<string, string>();
  const entries: [string, unknown][] = [];
  for (const [name, value] of Object.entries(body)) {
    const key = Object.hasOwn(BODY_FIELD_NAMES, name) ? BODY_FIELD_NAMES[name] : name;
    const other = sent.get(key);
    if (other !== undefined) throw new HttpError(400, `${other} and ${name} name the same field: give one of them`, name);
    sent.set(key, name);
    entries.push([key, value]);
  }
  // fromEntries defines own properties: a "__proto__" key stays a key for the schema to refuse.
  return { fields: Object.fromEntries(entries), sent };
}

export function createAutodevServer(options: ServerOptions): AutodevServer {
  const { config, env, store } = options;
  const fleet = options.queue ?? null;
  const readiness = createReadiness({ config, env, ...(fleet ? { redis: () => fleet.ping() } : {}) });
  const log = options.log ?? (() => {});
  const metrics = createMetrics();
  const queue: string[] = [];
  const running = new Map<string, { controller: AbortController; done: Promise<void>; requeue: boolean }>();
  const cloneUrls = new Map<string, string>();
  /** Tasks a killed server left mid-run, to continue where they stopped (filled by recover()). */
  const resumes = new Map<string, ResumeFrom>();
  /** POSTs between passing the queue check and joining the queue (they await the store). */
  let admitting = 0;
  let closing = false;
  let server: Server | null = null;
  /** Webhook work answered 202 and still going; close() waits for it. */
  const background = new Set<Promise<void>>();

  function pump(): void {
    while (!closing && running.size < config.max_parallel_tasks && queue.length > 0) {
      const id = queue.shift()!;
      const controller = new AbortController();
      const entry = { controller, done: Promise.resolve(), requeue: false };
      running.set(id, entry);
      entry.done = execute(id, controller).finally(() => {
        running.delete(id);
        pump();
      });
    }
  }

  async function execute(id: string, controller: AbortController): Promise<void> {
    const stored = await store.get(id);
    if (!stored || stored.status !== 'pending') return;
    if (stored.cancelRequested) {
      await dropResume(stored);
      await markCancelled(id, 'cancelled before it started');
      return;
    }
    const resume = resumes.get(id);
    resumes.delete(id);
    log(`task ${id}: ${resume ? `resumed at step ${resume.startAt}` : 'started'} (${stored.request.title})`);
    const trace = options.tracing?.task(id, {
      'autodev.repo.risk': stored.request.risk,
      ...(resume ? { 'autodev.resumed_at': resume.startAt } : {}),
    });
    const session = openTaskSession({ store, stateDir: options.stateDir, taskId: id, metrics, extra: trace ? [trace.subscriber] : [] });
    // The server's cancel and close() abort the session's controller.
    controller.signal.addEventListener('abort', () => session.controller.abort(controller.signal.reason), { once: true });
    try {
      const result = await session.run({
        request: stored.request,
        config,
        env,
        cloneUrl: cloneUrls.get(id),
        ...(resume ? { resume } : {}),
        ...(trace
          ? {
              onPlan: (plan: Plan) => trace.plan({ toolchain: plan.toolchain, sandbox: plan.sandbox }),
              wrapLlm: (llm: Llm) => trace.wrapLlm(llm),
            }
          : {}),
      });
      trace?.end(result);
      for (const warning of await session.finish(result)) log(`task ${id}: warning: ${warning}`);
      // Stopped by close(): the store is about to say pending (re-queued), and so does the log.
      const requeued = running.get(id)?.requeue === true && result.status === 'cancelled';
      // A follow-up answers on its pull request (threads, review requests, a comment) once it has ended for good.
      if (stored.request.followup && !requeued)
        for (const warning of await afterFollowup({ config, env }, stored.request, result)) log(`task ${id}: warning: ${warning}`);
      if (requeued) log(`task ${id}: stopped with the server; back in the queue for the next start`);
      else log(`task ${id}: ${result.status}${result.reason ? ` (${result.reason})` : ''}`);
    } catch (error) {
      await session.abandon();
      const message = `internal error: ${redact((error as Error).message ?? String(error)).split('\n')[0]}`;
      trace?.end({ status: 'failed', exitCode: ExitCode.internal, reason: message });
      log(`task ${id}: ${message}`);
      await store.update(id, (t) => {
        t.status = 'failed';
        t.reason = message;
        t.exitCode = ExitCode.internal;
        t.finishedAt = new Date().toISOString();
        t.currentStep = null;
        t.history.push({ status: 'failed', at: t.finishedAt, reason: message });
      });
    }
    if (running.get(id)?.requeue) await backToPending(id, 're-queued: the server stopped while it ran');
    else cloneUrls.delete(id);
    await options.tracing?.flush().catch(() => undefined);
  }

  async function backToPending(id: string, note: string, options: { keepSteps?: boolean } = {}): Promise<void> {
    await store.update(id, (t) => {
      // Someone asked for this cancel: it stays cancelled.
      if (t.cancelRequested) return;
      const at = new Date().toISOString();
      t.status = 'pending';
      t.reason = null;
      t.exitCode = null;
      t.startedAt = null;
      t.finishedAt = null;
      t.currentStep = null;
      // A resumed task keeps the steps it will not run again.
      if (!options.keepSteps) t.steps = [];
      t.notes = [...t.notes, note];
      t.history.push({ status: 'pending', at, reason: note });
    });
  }

  /**
   * What continuing a task a dead server left needs (its workspace, with the resume state saved after
   * every finished step), or null when it must start again; then its workspace, if any is left, goes.
   */
  async function resumable(task: StoredTask): Promise<ResumeFrom | null> {
    if (!task.workspace) {
      await removeLeftWorkspace(task);
      return null;
    }
    try {
      return (await prepareResume({ store, id: task.id, exec: createExec(), env })).resume;
    } catch (error) {
      if (!(error instanceof AutodevError)) log(`task ${task.id}: cannot resume: ${(error as Error).message}`);
      await removeLeftWorkspace(task);
      return null;
    }
  }

  /** A task waiting to be resumed that will not run after all: its workspace has no one left to remove it. */
  async function dropResume(task: StoredTask): Promise<void> {
    if (!resumes.delete(task.id)) return;
    await removeLeftWorkspace(task);
  }

  /**
   * Removes the workspace of a task, if it is one this tool made for that task: the recorded one, or,
   * when a server died before recording it, the one named after the task in the temp dir.
   */
  async function removeLeftWorkspace(task: StoredTask): Promise<void> {
    const prefix = `autodev-${task.id}-`;
    let dirs: string[];
    if (task.workspace) {
      dirs = path.isAbsolute(task.workspace) && path.basename(task.workspace).startsWith(prefix) ? [task.workspace] : [];
    } else {
      const names = await readdir(os.tmpdir()).catch(() => [] as string[]);
      dirs = names.filter((name) => name.startsWith(prefix)).map((name) => path.join(os.tmpdir(), name));
    }
    for (const dir of dirs) {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch((error: Error) =>
        log(`task ${task.id}: cannot remove ${dir}: ${error.message}`),
      );
    }
    if (task.workspace) {
      await store.update(task.id, (t) => {
        t.workspace = null;
      });
    }
  }

  const markCancelled = (id: string, reason: string): Promise<void> => markTaskCancelled(store, id, reason);

  /** Returns the status the caller should report. */
  async function cancel(id: string): Promise<'cancelled' | 'cancelling'> {
    if (fleet) {
      const outcome = await fleet.cancel(id);
      log(`task ${id}: ${outcome === 'cancelling' ? 'cancelling (its worker stops it)' : outcome}`);
      return outcome === 'cancelling' ? 'cancelling' : 'cancelled';
    }
    const at = new Date().toISOString();
    const queued = queue.indexOf(id);
    if (queued >= 0) {
      queue.splice(queued, 1);
      const task = await store.get(id);
      if (task) await dropResume(task);
      await markCancelled(id, 'cancelled while queued');
      log(`task ${id}: cancelled while queued`);
      return 'cancelled';
    }
    const run = running.get(id);
    if (run) {
      await store.update(id, (t) => {
        t.cancelRequested ??= at;
      });
      run.controller.abort(new Error('cancelled through the API'));
      log(`task ${id}: cancelling`);
      return 'cancelling';
    }
    const task = await store.get(id);
    if (!task) throw new HttpError(404, `no task ${id}`);
    const outcome = await requestCancel(store, task);
    return outcome.signalled ? 'cancelling' : 'cancelled';
  }

  /** Refuses a task past queue_limit waiting ones (429: the client may try again later). */
  function admit(): void {
    if (queue.length + admitting < config.queue_limit) return;
    throw new HttpError(
      429,
      `the queue is full: ${queue.length} task(s) waiting (queue_limit = ${config.queue_limit}); try again later`,
      undefined,
      { 'retry-after': String(RETRY_AFTER_SECS) },
    );
  }

  async function create(body: unknown): Promise<{ id: string }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new HttpError(400, 'the body must be a JSON object', '(body)');
    // Before any work (an issue is fetched from GitHub): a full queue answers at once.
    admit();
    const { fields, sent } = normalizeBody(body as Record<string, unknown>);
    let intake: Intake;
    try {
      intake = await intakeRequest(fields, {
        config,
        env,
        cwd: options.cwd,
        fieldName: (key) => sent.get(key) ?? key,
        localNeedsAllowlist: options.token === null,
      });
    } catch (error) {
      if (error instanceof RequestFieldError) throw new HttpError(400, error.message, error.field);
      if (error instanceof RequestRefusedError) throw new HttpError(403, error.message, error.field);
      if (error instanceof RefusedError) throw new HttpError(403, error.message, 'repo');
      // Intake reaches no service but GitHub, for the issue.
      if (error instanceof ExternalError) throw new HttpError(502, error.message, 'issue');
      throw error;
    }
    return { id: await enqueue(intake.request, intake.cloneUrl) };
  }

  /** Stores a validated request as pending and queues it (POST /tasks, and the webhooks' follow-ups). */
  async function enqueue(request: TaskRequest, cloneUrl?: string): Promise<string> {
    const id = newTaskId();
    if (fleet) {
      // The request goes to Redis and to other machines: credentials given in a URL would go with it.
      if (cloneUrl)
        throw new HttpError(400, 'a repository URL with credentials cannot go through the queue: workers clone with their own', 'repo');
      const counts = await fleet.counts();
      const waiting = (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
      if (waiting >= config.queue_limit)
        throw new HttpError(
          429,
          `the queue is full: ${waiting} task(s) waiting (queue_limit = ${config.queue_limit}); try again later`,
          undefined,
          {
            'retry-after': String(RETRY_AFTER_SECS),
          },
        );
      await store.create(newStoredTask(id, request, { kind: 'worker', pid: null }));
      const trace = options.tracing?.enqueued(id, { 'autodev.repo.risk': request.risk ?? 'medium' }) ?? {};
      await fleet.enqueue(id, trace);
      log(`task ${id}: queued for the workers (${request.title})`);
      return id;
    }
    admit();
    admitting += 1;
    try {
      await store.create(newStoredTask(id, request, { kind: 'serve', pid: process.pid }));
      // The request (stored) has no URL credentials; the clone may use the ones given, held in memory only.
      if (cloneUrl) cloneUrls.set(id, cloneUrl);
      queue.push(id);
    } finally {
      admitting -= 1;
    }
    log(`task ${id}: queued (${request.title})`);
    pump();
    return id;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Probes carry no token: the answers say only whether this process can work.
    if (await healthRoute(req, res, url.pathname, readiness)) return;
    // GitHub signs its deliveries with the webhook secret; it sends no bearer token.
    if (url.pathname === WEBHOOK_PATH) {
      await handleGithubWebhook(req, res, {
        config,
        env,
        cwd: options.cwd,
        stateDir: options.stateDir,
        store,
        log,
        createTask: create,
        enqueue,
        background: (work) => {
          background.add(work);
          void work.finally(() => background.delete(work));
        },
      });
      return;
    }
    if (options.token !== null && !hasBearer(req, options.token)) {
      throw new HttpError(401, 'missing or wrong bearer token');
    }
    const method = req.method ?? 'GET';
    if (url.pathname === '/metrics') {
      if (method !== 'GET') throw new HttpError(405, 'use GET');
      const text = await metrics.text();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (url.pathname === PREFIX || url.pathname === `${PREFIX}/`) {
      if (method === 'POST') {
        const { id } = await create(await readJson(req));
        const task = await store.get(id);
        sendJson(res, 202, { id, status: task?.status ?? 'pending', url: `${PREFIX}/${id}` }, { location: `${PREFIX}/${id}` });
        return;
      }
      if (method === 'GET') {
        sendJson(res, 200, { tasks: (await store.list()).map(summary) });
        return;
      }
      throw new HttpError(405, 'use GET or POST');
    }
    const match = /^\/api\/v1\/autodev\/tasks\/([^/]+)(\/cancel)?\/?$/.exec(url.pathname);
    if (match) {
      const id = decodeURIComponent(match[1]);
      const task = await store.get(id);
      if (!task) throw new HttpError(404, `no task ${id}`);
      if (match[2]) {
        if (method !== 'POST') throw new HttpError(405, 'use POST');
        if (isFinished(task)) {
          sendJson(res, 409, { error: `task ${id} already finished (${task.status})`, id, status: task.status });
          return;
        }
        const status = await cancel(id);
        sendJson(res, 202, { id, status });
        return;
      }
      if (method !== 'GET') throw new HttpError(405, 'use GET');
      const inQueue = fleet ? task.status === 'pending' : queue.includes(id);
      const isRunning = fleet ? !isFinished(task) && task.status !== 'pending' : running.has(id);
      sendJson(res, 200, { ...task, queued: inQueue, running: isRunning });
      return;
    }
    throw new HttpError(404, `no route ${method} ${url.pathname}`);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        if (error.status === 401) res.setHeader('www-authenticate', 'Bearer');
        sendError(res, error);
        return;
      }
      log(`internal error: ${redact((error as Error).message ?? String(error))}`);
      sendError(res, new HttpError(500, 'internal error (see the server log)'));
    });
  }

  return {
    metrics,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const s = createServer(handle);
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          server = s;
          const address = s.address() as AddressInfo;
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${shown}:${address.port}`);
        });
      });
    },
    async recover() {
      // With a queue, waiting tasks wait in Redis: a restarted serve has nothing to take back.
      if (fleet) return [];
      const orphans = (await store.list())
        .filter((t) => t.owner.kind === 'serve' && !isFinished(t))
        .filter((t) => t.owner.pid === null || (t.owner.pid !== process.pid && !isAutodevProcess(t.owner.pid)))
        .reverse(); // oldest first, as they were queued
      const ids: string[] = [];
      const resumed: string[] = [];
      for (const orphan of orphans) {
        if (orphan.cancelRequested) {
          await removeLeftWorkspace(orphan);
          await markCancelled(orphan.id, 'cancelled while its server was down');
          continue;
        }
        // Asked while the dead server still owns it: prepareResume refuses a live owner's task.
        const resume = await resumable(orphan);
        const wasRunning = orphan.status !== 'pending';
        await store.update(orphan.id, (t) => {
          t.owner = { kind: 'serve', pid: process.pid };
        });
        if (resume) {
          resumes.set(orphan.id, resume);
          await backToPending(orphan.id, `re-queued: its server stopped while it ran; resumes at step ${resume.startAt}`, {
            keepSteps: true,
          });
          resumed.push(orphan.id);
        } else if (wasRunning) {
          await backToPending(orphan.id, 're-queued: its server stopped while it ran');
        }
        queue.push(orphan.id);
        ids.push(orphan.id);
      }
      if (ids.length > 0) {
        const how = resumed.length > 0 ? ` (${resumed.length} resume where they stopped: ${resumed.join(', ')})` : '';
        log(`re-queued ${ids.length} task(s) left by a previous server: ${ids.join(', ')}${how}`);
      }
      pump();
      return ids;
    },
    async checkCancels() {
      if (fleet) return;
      for (const id of [...queue, ...running.keys()]) {
        const task = await store.get(id);
        if (task?.cancelRequested && !isFinished(task)) await cancel(id);
      }
    },
    async close() {
      closing = true;
      const s = server;
      server = null;
      if (s) {
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await Promise.all([...background]);
      for (const entry of running.values()) {
        entry.requeue = true;
        entry.controller.abort(new Error('the server is stopping'));
      }
      await Promise.all([...running.values()].map((entry) => entry.done));
    },
  };
}
