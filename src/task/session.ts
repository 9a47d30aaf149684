// Session: what surrounds a task's run, written once for `run`, `serve`, `tasks sync` and `tasks revert`: the
// engine's events go to the audit trail, the metrics and the task's store record (and whatever the
// caller adds: a progress view, JSONL on stderr); the plan and the workspace are recorded when they
// exist; cancellation is one AbortController; at the end the result is recorded and the metrics
// written where the config says.
import type { Env } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { EngineEvent } from '../engine/types.js';
import { createAuditTrail } from '../observe/audit.js';
import type { Metrics } from '../observe/metrics.js';
import { combineSubscribers, type Subscriber } from '../observe/types.js';
import type { Plan } from '../plan/types.js';
import type { Llm } from '../ports/types.js';
import { createTaskRecorder, type TaskRecorder } from '../store/recorder.js';
import type { TaskStore } from '../store/task-store.js';
import { redact } from '../util/redact.js';
import type { ResumeFrom } from './resume.js';
import { runTask, type TaskResult } from './run-task.js';
import type { TaskRequest } from '../config/request.js';
import type { TaskInfo } from './task.js';

export interface EventSession {
  /** Feeds every subscriber of the session. */
  readonly emit: Subscriber;
  readonly metrics: Metrics;
  /** Waits for the subscribers' last writes; returns what went wrong as warnings (nothing here fails a task). */
  close(): Promise<string[]>;
}

/** The audit trail and the metrics (and `extra` subscribers), for anything that emits engine events. */
export function openEventSession(options: { stateDir: string; metrics: Metrics; extra?: Subscriber[] }): EventSession {
  const all = combineSubscribers([
    createAuditTrail({ stateDir: options.stateDir, redact }),
    options.metrics.subscriber,
    ...(options.extra ?? []),
  ]);
  return {
    emit: all,
    metrics: options.metrics,
    async close() {
      return all.close().then(
        () => [],
        (error: Error) => [error.message],
      );
    },
  };
}

export interface TaskSession {
  readonly taskId: string;
  readonly recorder: TaskRecorder;
  readonly metrics: Metrics;
  /** Aborting it cancels the task: every child process is stopped, the task ends cancelled. */
  readonly controller: AbortController;
  /**
   * Runs the task with the session's wiring; `onEvent` sees every event after the session's
   * subscribers (the CLI's progress view), `onPlan` the plan once it exists.
   */
  run(input: {
    request: TaskRequest;
    config: Config;
    env: Env;
    cloneUrl?: string;
    resume?: ResumeFrom;
    /** `grade`: the tests only, recorded (see runTask). */
    purpose?: 'task' | 'grade';
    onEvent?: (event: EngineEvent) => void;
    onPlan?: (plan: Plan, task: TaskInfo) => void;
    /** Wraps the model port (see RunTaskInput.wrapLlm). */
    wrapLlm?: (llm: Llm) => Llm;
  }): Promise<TaskResult>;
  /** Records the result once every event is written; returns the store's and the subscribers' warnings. */
  finish(result: TaskResult): Promise<string[]>;
  /** Closes the subscribers without a result (the run threw). */
  abandon(): Promise<void>;
}

export function openTaskSession(options: {
  store: TaskStore;
  stateDir: string;
  taskId: string;
  metrics: Metrics;
  extra?: Subscriber[];
}): TaskSession {
  const { taskId } = options;
  const recorder = createTaskRecorder(options.store, taskId);
  const events = openEventSession({ stateDir: options.stateDir, metrics: options.metrics, extra: [recorder, ...(options.extra ?? [])] });
  const controller = new AbortController();
  let closed: Promise<string[]> | null = null;
  const close = (): Promise<string[]> => (closed ??= events.close());
  return {
    taskId,
    recorder,
    metrics: options.metrics,
    controller,
    run(input) {
      return runTask({
        ...input,
        taskId,
        signal: controller.signal,
        emit: (event) => {
          events.emit(event);
          input.onEvent?.(event);
        },
        onPlan: (plan, task) => {
          recorder.plan(plan);
          input.onPlan?.(plan, task);
        },
        // Recorded so a task whose process dies can be resumed (`run --resume`, a restarted server).
        onWorkspace: (dir) => recorder.workspace(dir),
      });
    },
    async finish(result) {
      const warnings = await close();
      await recorder.finish(result);
      return [...warnings, ...recorder.errors.map((e) => `task store: ${e}`)];
    },
    async abandon() {
      await close();
    },
  };
}

/** Writes the metrics where the config (or --metrics-file) says: a textfile, a Pushgateway. Returns warnings. */
export async function writeMetrics(metrics: Metrics, where: { textfile: string | null; pushgatewayUrl: string | null }): Promise<string[]> {
  const warnings: string[] = [];
  if (!where.textfile && !where.pushgatewayUrl) return warnings;
  // Loaded here: prom-client must not hold up a run's start (see deferredMetrics in cli/run-task.ts).
  const { pushToGateway, writeTextfile } = await import('../observe/metrics.js');
  if (where.textfile) {
    const file = where.textfile;
    await writeTextfile(file, metrics).catch((error: Error) => warnings.push(`cannot write metrics to ${file}: ${error.message}`));
  }
  if (where.pushgatewayUrl) {
    const url = where.pushgatewayUrl;
    await pushToGateway(url, metrics, 'autodev').catch((error: Error) => warnings.push(`cannot push metrics to ${url}: ${error.message}`));
  }
  return warnings;
}
