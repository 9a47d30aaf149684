// What the CLI and the server both do with stored tasks: judge staleness, summarize, request a cancel.
import { isAutodevProcess } from './owner.js';
import { ExitCode } from '../util/errors.js';
import { isFinished, type StoredTask, type TaskStore } from './task-store.js';

/** A running status whose owner process is gone will never finish: say so instead of pretending. */
export function isStale(task: StoredTask): boolean {
  if (isFinished(task)) return false;
  // A worker's pid is on another machine; the queue's stalled-job check retries its task instead.
  if (task.owner.kind === 'worker') return false;
  return task.owner.pid === null || !isAutodevProcess(task.owner.pid);
}

/** What `tasks list --json` and `GET /tasks` show of each task. */
export function summary(task: StoredTask): Record<string, unknown> {
  return {
    id: task.id,
    status: task.status,
    stale: isStale(task),
    reason: task.reason,
    repo: task.request.repo,
    title: task.request.title,
    issue: task.request.issue ?? null,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    finishedAt: task.finishedAt,
    currentStep: task.currentStep,
    pr: task.pr,
    usage: task.usage,
    owner: task.owner,
  };
}

/**
 * Asks a task's owner to cancel it: a `run` process gets SIGINT (its Ctrl-C path ends the task
 * cancelled); a `serve` process gets SIGUSR2 and cancels the tasks marked `cancelRequested`. A task
 * whose owner is gone is marked cancelled here, since nobody else ever will.
 */
export async function requestCancel(store: TaskStore, task: StoredTask): Promise<{ signalled: boolean; message: string }> {
  const at = new Date().toISOString();
  await store.update(task.id, (t) => {
    t.cancelRequested ??= at;
  });
  const pid = task.owner.pid;
  if (pid !== null && pid !== process.pid && isAutodevProcess(pid)) {
    process.kill(pid, task.owner.kind === 'serve' ? 'SIGUSR2' : 'SIGINT');
    return { signalled: true, message: `cancelling task ${task.id} (signalled its ${task.owner.kind} process ${pid})` };
  }
  const owner = `${task.owner.kind} process${task.owner.pid !== null ? ` ${task.owner.pid}` : ''}`;
  await markCancelled(store, task.id, `cancelled; its ${owner} was gone`, { at, exitCode: false });
  return { signalled: false, message: `task ${task.id} marked cancelled (its process was no longer running)` };
}

/**
 * Ends a record as cancelled, unless it has already finished (the one place that writes a
 * cancellation by hand: an owner gone, a task cancelled before it started). `exitCode`: 130, as an
 * interrupted run exits, unless the caller records none.
 */
export async function markCancelled(
  store: TaskStore,
  id: string,
  reason: string,
  options: { at?: string; exitCode?: boolean } = {},
): Promise<void> {
  const at = options.at ?? new Date().toISOString();
  await store.update(id, (t) => {
    if (isFinished(t)) return;
    t.status = 'cancelled';
    t.reason = reason;
    if (options.exitCode ?? true) t.exitCode = ExitCode.interrupted;
    t.finishedAt = at;
    t.currentStep = null;
    t.history.push({ status: 'cancelled', at, reason });
  });
}
