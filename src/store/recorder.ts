// Keeps one task's document in the store up to date from the engine's events (a Subscriber) and,
// at the end, from its TaskResult. Events arrive synchronously; writes are queued one after another
// so they land in order, and `close()` waits for the last one.
import type { EngineEvent, TaskStatus } from '../engine/types.js';
import type { Plan } from '../plan/types.js';
import { makeSubscriber, type Subscriber } from '../observe/types.js';
import { redactDeep } from '../util/redact.js';
import { FINISHED, type StoredTask, type TaskStore } from './task-store.js';

/** What the store keeps of a task's result (the task layer's TaskResult is one). */
export type RecordedResult = Pick<
  StoredTask,
  'status' | 'reason' | 'change' | 'pushed' | 'policy' | 'verification' | 'notes' | 'workspace' | 'usage'
> & {
  exitCode: number;
  plan: Plan | null;
  pr: { url: string; number: number; draft: boolean; updated: boolean } | null;
};

export interface TaskRecorder extends Subscriber {
  plan(plan: Plan): void;
  /** Where the task's workspace is while it runs (`run --resume` finds it there). */
  workspace(dir: string): void;
  /** Records the final result; resolves once every write (this one included) is on disk. */
  finish(result: RecordedResult): Promise<void>;
  /** Errors of failed writes so far (a full disk must not fail the task; the CLI warns). */
  readonly errors: readonly string[];
}

export function createTaskRecorder(store: TaskStore, taskId: string): TaskRecorder {
  let chain: Promise<unknown> = Promise.resolve();
  const errors: string[] = [];

  function enqueue(mutate: (task: StoredTask) => void): Promise<void> {
    const next = chain.then(() =>
      store
        .update(taskId, (task) => mutate(task))
        .catch((error: Error) => {
          errors.push(error.message);
        }),
    );
    chain = next;
    return next.then(() => undefined);
  }

  function onStatus(task: StoredTask, status: TaskStatus, at: string, reason: string | undefined): void {
    // Once a task is finished, only `tasks sync` moves it on (merged); a late event must not undo that.
    if (task.status === 'merged') return;
    task.status = status;
    if (reason !== undefined) task.reason = reason;
    task.history.push({ status, at, ...(reason !== undefined ? { reason } : {}) });
    if (status !== 'pending' && task.startedAt === null) task.startedAt = at;
    if (FINISHED.has(status)) {
      task.finishedAt = at;
      task.currentStep = null;
    }
  }

  function onEvent(event: EngineEvent): void {
    if (event.taskId !== taskId) return;
    const clean = redactDeep(event);
    switch (clean.type) {
      case 'task.status':
        void enqueue((task) => onStatus(task, clean.status, clean.at, clean.reason));
        break;
      case 'step.started':
        void enqueue((task) => {
          task.currentStep = clean.stepId;
        });
        break;
      case 'step.finished':
        void enqueue((task) => {
          task.currentStep = null;
          task.steps.push({
            id: clean.stepId,
            tool: clean.tool,
            status: clean.status,
            summary: clean.summary,
            attempt: clean.attempt,
            round: clean.round,
            mode: clean.mode,
            durationMs: clean.durationMs,
            at: clean.at,
          });
        });
        break;
      case 'llm.usage':
        void enqueue((task) => {
          task.usage.promptTokens += clean.promptTokens;
          task.usage.completionTokens += clean.completionTokens;
          task.usage.totalTokens += clean.promptTokens + clean.completionTokens;
          task.usage.calls += 1;
          if (clean.costUsd !== null) task.usage.costUsd = (task.usage.costUsd ?? 0) + clean.costUsd;
        });
        break;
      default:
        // step.output and logs are the audit trail's business; the store keeps the summary.
        break;
    }
  }

  const subscriber = makeSubscriber(onEvent, async () => {
    await chain;
  });

  const recorder = Object.assign(subscriber, {
    plan(plan: Plan) {
      const clean = redactDeep(plan);
      void enqueue((task) => {
        task.plan = clean;
      });
    },
    workspace(dir: string) {
      void enqueue((task) => {
        task.workspace = dir;
      });
    },
    finish(result: RecordedResult) {
      const clean = redactDeep(result);
      return enqueue((task) => {
        if (task.status !== 'merged') task.status = clean.status;
        task.reason = clean.reason;
        task.exitCode = clean.exitCode;
        task.plan = clean.plan ?? task.plan;
        task.finishedAt ??= new Date().toISOString();
        task.currentStep = null;
        task.usage = clean.usage;
        task.pr = clean.pr ? { ...clean.pr, state: 'open' } : null;
        task.change = clean.change;
        task.pushed = clean.pushed;
        task.policy = clean.policy;
        task.verification = clean.verification;
        // Notes from before this run (a server re-queued it) stay.
        task.notes = [...task.notes.filter((note) => !clean.notes.includes(note)), ...clean.notes];
        task.workspace = clean.workspace;
      });
    },
  });
  return Object.defineProperty(recorder, 'errors', { get: () => [...errors] }) as TaskRecorder;
}
