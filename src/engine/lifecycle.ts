// The task's lifecycle belongs to the engine: every `task.status` event is made here, by the engine's
// run of a plan and, after it, by the one transition that happens outside a run (a pull request the
// forge reports merged, learnt by `tasks sync`), which may only follow `pr_created`.
import type { EngineEvent, TaskStatus } from './types.js';

type StatusEvent = Extract<EngineEvent, { type: 'task.status' }>;

export function statusEvent(taskId: string, status: TaskStatus, reason?: string, at = new Date().toISOString()): StatusEvent {
  return { type: 'task.status', taskId, status, at, ...(reason ? { reason } : {}) };
}

/**
 * The task's move to `merged` once its pull request was merged; null when the task is not at
 * `pr_created` (nothing else can become merged).
 */
export function mergedEvent(taskId: string, from: TaskStatus, at?: string): StatusEvent | null {
  return from === 'pr_created' ? statusEvent(taskId, 'merged', undefined, at) : null;
}
